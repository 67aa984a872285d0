package report

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/detect"
)

// Filter narrows what a dashboard page shows. The zero Filter shows everything.
type Filter struct {
	Detector string          `json:"detector,omitempty"` // findings of this detector only
	Severity detect.Severity `json:"severity,omitempty"` // findings of this severity or above
	// Host narrows the host statistics (servers, printers, hosts, the activity chart) to one
	// address, the findings to those naming it, the denies to it as source and the raw lines
	// to those naming it.
	Host netip.Addr `json:"host,omitzero"`
	// Device narrows the interface counters, the findings naming the device and the raw lines
	// to one device of the policy. The host and deny statistics are kept site-wide (not per
	// device), so they are not narrowed by it.
	Device string `json:"device,omitempty"`
}

// IsZero says whether f shows everything.
func (f Filter) IsZero() bool { return f == Filter{} }

// Range names of the dashboard.
const (
	Range24h    = "24h"
	Range7d     = "7d"
	Range30d    = "30d"
	RangeCustom = "custom"
)

// view is what one dashboard URL asks for: a time range and a filter. Its links keep both.
type view struct {
	Range    string
	From, To time.Time // the window; for custom ranges as given, else ending now
	Filter   Filter
	Page     int // page of the raw lines, from 0
	loc      *time.Location
}

// errQuery is a query the dashboard does not understand (answered with 400).
var errQuery = errors.New("bad query")

const maxCustomSpan = 400 * 24 * time.Hour

// parseView reads range, from, to, detector, severity, host, device and page from q. Preset
// ranges end at now and start on a whole hour (24h: 24 hourly bars, the last one running) or a
// local midnight (7d, 30d: 7 or 30 day bars, today's running). Custom from and to are
// YYYY-MM-DD or YYYY-MM-DDTHH:MM in loc, or RFC 3339; to defaults to now.
func parseView(q url.Values, now time.Time, loc *time.Location) (view, error) {
	v := view{Range: q.Get("range"), loc: loc}
	if v.Range == "" {
		v.Range = Range24h
		if q.Get("from") != "" {
			v.Range = RangeCustom
		}
	}
	day := func(t time.Time) time.Time {
		l := t.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	}
	last := now.Add(-time.Nanosecond) // the last instant of the window: its hour and day are the last bar
	switch v.Range {
	case Range24h:
		v.From, v.To = last.Truncate(time.Hour).Add(-23*time.Hour), now
	case Range7d:
		v.From, v.To = day(last).AddDate(0, 0, -6), now
	case Range30d:
		v.From, v.To = day(last).AddDate(0, 0, -29), now
	case RangeCustom:
		var err error
		if v.From, err = parseWhen(q.Get("from"), loc); err != nil {
			return v, fmt.Errorf("%w: from: %w", errQuery, err)
		}
		v.To = now
		if s := q.Get("to"); s != "" {
			if v.To, err = parseWhen(s, loc); err != nil {
				return v, fmt.Errorf("%w: to: %w", errQuery, err)
			}
		}
		if !v.From.Before(v.To) {
			return v, fmt.Errorf("%w: from must be before to", errQuery)
		}
		if v.To.Sub(v.From) > maxCustomSpan {
			return v, fmt.Errorf("%w: a custom range spans at most %s", errQuery, Age(maxCustomSpan))
		}
	default:
		return v, fmt.Errorf("%w: range must be one of 24h, 7d, 30d, custom", errQuery)
	}
	v.Filter.Detector = q.Get("detector")
	if s := q.Get("severity"); s != "" {
		sev := detect.Severity(s)
		if _, ok := severityRank[sev]; !ok {
			return v, fmt.Errorf("%w: severity must be one of critical, high, medium, low, info", errQuery)
		}
		v.Filter.Severity = sev
	}
	if s := q.Get("host"); s != "" {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return v, fmt.Errorf("%w: host must be an IP address", errQuery)
		}
		v.Filter.Host = a.Unmap()
	}
	v.Filter.Device = q.Get("device")
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n >= maxLinePages {
			return v, fmt.Errorf("%w: page must be 0 to %d", errQuery, maxLinePages-1)
		}
		v.Page = n
	}
	return v, nil
}

// parseWhen reads YYYY-MM-DD, YYYY-MM-DDTHH:MM (or with a space) in loc, or RFC 3339.
func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not YYYY-MM-DD, YYYY-MM-DDTHH:MM or RFC 3339", s)
}

// Window is the view's window.
func (v view) Window() Window { return Window{From: v.From, To: v.To} }

// values are the query parameters that reproduce v (page excluded).
func (v view) values() url.Values {
	q := url.Values{}
	if v.Range == RangeCustom {
		q.Set("range", RangeCustom)
		q.Set("from", v.From.In(v.loc).Format("2006-01-02T15:04"))
		q.Set("to", v.To.In(v.loc).Format("2006-01-02T15:04"))
	} else if v.Range != Range24h {
		q.Set("range", v.Range)
	}
	f := v.Filter
	for k, s := range map[string]string{"detector": f.Detector, "severity": string(f.Severity), "device": f.Device} {
		if s != "" {
			q.Set(k, s)
		}
	}
	if f.Host.IsValid() {
		q.Set("host", f.Host.String())
	}
	return q
}

// link is path with v's query, changed by kv pairs (an empty value removes the key).
func (v view) link(path string, kv ...string) string {
	q := v.values()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if s := q.Encode(); s != "" {
		return path + "?" + s
	}
	return path
}

// windowLink is the drill-down page of [from, to) with v's filters.
func (v view) windowLink(from, to time.Time) string {
	c := v
	c.Range, c.From, c.To = RangeCustom, from, to
	return c.link("window")
}

// rangeLinks are the links of the time range bar of a page at path.
type rangeLink struct {
	Label, Href string
	On          bool
}

func (v view) rangeLinks(path string) []rangeLink {
	var out []rangeLink
	for _, r := range []struct{ name, label string }{{Range24h, "24 h"}, {Range7d, "7 d"}, {Range30d, "30 d"}} {
		c := v
		c.Range = r.name
		out = append(out, rangeLink{r.label, c.link(path, "range", r.name, "from", "", "to", ""), v.Range == r.name})
	}
	return out
}

// describe says in words what v shows: "last 24 h", "7 d to ...", the filters.
func (v view) describe() string {
	var parts []string
	f := v.Filter
	if f.Detector != "" {
		parts = append(parts, "detector "+f.Detector)
	}
	if f.Severity != "" {
		parts = append(parts, "severity "+string(f.Severity)+" and above")
	}
	if f.Host.IsValid() {
		parts = append(parts, "host "+f.Host.String())
	}
	if f.Device != "" {
		parts = append(parts, "device "+f.Device)
	}
	return strings.Join(parts, ", ")
}
