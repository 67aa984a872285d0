package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/detect"
)

// navView is what a dashboard page's template needs of its URL: the links of the range bar,
// the filters and the drill-downs, each keeping the current range and filters. Nil on
// reports written to files (they have no links).
type navView struct {
	v    view
	path string // this page: "./", "findings", "window"...
	// AsOf is when the page's data was read; Age how old it is at serving.
	AsOf time.Time
	Age  time.Duration
}

// Ranges are the 24 h, 7 d and 30 d links of this page.
func (n *navView) Ranges() []rangeLink { return n.v.rangeLinks(n.path) }

// Custom says whether the page shows a custom range.
func (n *navView) Custom() bool { return n.v.Range == RangeCustom }

// Span is the window in words: "2026-12-02 16:00 to 2026-12-03 15:47 CST".
func (n *navView) Span() string {
	return n.v.From.In(n.v.loc).Format("2006-01-02 15:04") + " to " + n.v.To.In(n.v.loc).Format("2006-01-02 15:04 MST")
}

// Earlier and Later are the custom windows of the same length before and after this one.
func (n *navView) Earlier() string {
	d := n.v.To.Sub(n.v.From)
	return n.shifted(-d)
}

func (n *navView) Later() string { return n.shifted(n.v.To.Sub(n.v.From)) }

func (n *navView) shifted(d time.Duration) string {
	c := n.v
	c.Range, c.From, c.To = RangeCustom, c.From.Add(d), c.To.Add(d)
	return c.link(n.path)
}

// Link is the link to path with this page's range and filters, changed by key, value pairs.
func (n *navView) Link(path string, kv ...string) string { return n.v.link(path, kv...) }

// Here is this page with changed parameters.
func (n *navView) Here(kv ...string) string { return n.v.link(n.path, kv...) }

// Refresh reloads this page and asks for fresh data.
func (n *navView) Refresh() string { return n.v.link(n.path, "refresh", "1") }

// HostLink narrows this page to one host (or peer, or source).
func (n *navView) HostLink(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return n.v.link(n.path, "host", a.String())
}

// Bar is the drill-down of one bar.
func (n *navView) Bar(b ActivityBar) string { return n.v.windowLink(b.From, b.To) }

// Filters lists the active filters with the link that removes each.
func (n *navView) Filters() []rangeLink {
	f := n.v.Filter
	var out []rangeLink
	add := func(label, key string) { out = append(out, rangeLink{Label: label, Href: n.v.link(n.path, key, "")}) }
	if f.Detector != "" {
		add("detector "+f.Detector, "detector")
	}
	if f.Severity != "" {
		add("severity ≥ "+string(f.Severity), "severity")
	}
	if f.Host.IsValid() {
		add("host "+f.Host.String(), "host")
	}
	if f.Device != "" {
		add("device "+f.Device, "device")
	}
	return out
}

// Stamp is "data as of 15:04:05, 3 s old".
func (n *navView) Stamp() string {
	return fmt.Sprintf("data as of %s, %s old", n.AsOf.In(n.v.loc).Format("15:04:05"), fmtAge(n.Age))
}

func fmtAge(d time.Duration) string {
	if d < time.Minute {
		return strconv.Itoa(int(d/time.Second)) + " s"
	}
	return Age(d).String()
}

// fmtNum renders a figure for people: thousands grouped, at most one decimal, never an
// exponent (12,345; 3.5; 1,234,567.8).
func fmtNum(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	neg := f < 0
	f = math.Abs(f)
	whole := math.Floor(f)
	frac := math.Round((f - whole) * 10)
	if frac == 10 {
		whole, frac = whole+1, 0
	}
	s := fmtCount(uint64(whole))
	if frac != 0 {
		s += "." + strconv.Itoa(int(frac))
	}
	if neg {
		s = "-" + s
	}
	return s
}

// figure renders a value with its unit: bytes (and bytes/hour...) with a byte unit, anything
// else as a grouped number followed by the unit.
func figure(v float64, unit string) string {
	if rest, ok := strings.CutPrefix(unit, "bytes"); ok {
		return fmtBytes(uint64(max(v, 0))) + rest
	}
	if unit == "" {
		return fmtNum(v)
	}
	return fmtNum(v) + " " + unit
}

// rankedValue renders a top-list value (peer, port, host) of a finding: bytes for the
// detectors that rank by bytes, counts for the others.
func rankedValue(f detect.Finding, v float64) string {
	switch {
	case f.Detector == detect.DetectorVolumeSpike, f.Detector == detect.DetectorPrinterEgress,
		f.Evidence.Baseline != nil && strings.HasPrefix(f.Evidence.Baseline.Unit, "bytes"):
		return fmtBytes(uint64(max(v, 0)))
	}
	return fmtNum(v)
}

// activityChart draws one bar per hour or day of the window: bytes (the bar's height), with
// the connections and denies in its tooltip. On the dashboard each bar links to its
// drill-down.
func activityChart(a ActivitySection, n *navView) template.HTML {
	const (
		w, h                     = 1320.0, 240.0
		left, right, top, bottom = 76.0, 12.0, 14.0, 36.0
	)
	doc := newSVG(w, h, "bytes per "+a.Unit+" in the window")
	if len(a.Bars) == 0 {
		return doc.html()
	}
	var maxB uint64
	for _, b := range a.Bars {
		maxB = maxU(maxB, b.Bytes)
	}
	ticks := niceTicks(float64(maxB), 4)
	ys := scale{0, ticks[len(ticks)-1], h - bottom, top}
	for _, v := range ticks {
		y := ys.at(v)
		doc.line(left, y, w-right, y, "grid")
		doc.text(left-6, y+4, "end", "tick", tickBytes(uint64(v)))
	}
	step := (w - left - right) / float64(len(a.Bars))
	gap := math.Min(step*0.2, 4)
	every := int(math.Ceil(float64(len(a.Bars)) / 12)) // at most about 12 labels
	for i, b := range a.Bars {
		x := left + step*float64(i)
		y := ys.at(float64(b.Bytes))
		tip := fmt.Sprintf("%s: %s, %s connections, %s denies, %s events", b.Label, fmtBytes(b.Bytes), fmtCount(b.Conns), fmtCount(b.Denies), fmtCount(b.Events))
		if n != nil {
			doc.b.WriteString(`<a href="` + html.EscapeString(n.Bar(b)) + `">`)
			// A full-height hit area, so that a short bar is easy to click.
			doc.rect(x, top, step, h-bottom-top, "hit", tip)
		}
		doc.rect(x+gap/2, y, step-gap, h-bottom-y, "c0", tip)
		if b.Denies > 0 {
			doc.rect(x+gap/2, h-bottom+2, step-gap, 3, "c4", "")
		}
		if n != nil {
			doc.b.WriteString(`</a>`)
		}
		if i%every == 0 {
			doc.text(x+step/2, h-bottom+19, "middle", "tick", b.Label)
		}
	}
	doc.line(left, h-bottom, w-right, h-bottom, "axis")
	doc.line(left, top, left, h-bottom, "axis")
	return doc.html()
}

// tickBytes is fmtBytes without trailing zeros, for axis ticks: "5 GB", "2.5 GB".
func tickBytes(b uint64) string {
	s := fmtBytes(b)
	n, unit, _ := strings.Cut(s, " ")
	if strings.Contains(n, ".") {
		n = strings.TrimRight(strings.TrimRight(n, "0"), ".")
	}
	return n + " " + unit
}
