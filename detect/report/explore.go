package report

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
)

// Limits of the dashboard's panels.
const (
	maxDeniedRows = 10
	maxHostRows   = 20
	maxPeerRows   = 20
	maxIfaceRows  = 40
	// Bars up to this span are hours, longer windows local days.
	hourBarsUpTo = 48 * time.Hour
)

// ActivitySection is the traffic of the site (or of the filtered host) per bar of the window:
// hours for windows up to 48 hours, local days beyond (UTC days, from the daily buckets, for
// windows older than the hourly retention).
type ActivitySection struct {
	Unit   string        `json:"unit"` // "hour" or "day"
	Host   netip.Addr    `json:"host,omitzero"`
	Bars   []ActivityBar `json:"bars"`
	Totals ActivityBar   `json:"totals"`
	Note   string        `json:"note,omitempty"`
}

// ActivityBar is one hour or day. From and To are the bar's whole hour or day: the window of
// its drill-down.
type ActivityBar struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Label  string    `json:"label"`
	Bytes  uint64    `json:"bytes"`
	Conns  uint64    `json:"conns"`
	Denies uint64    `json:"denies"`
	Events uint64    `json:"events"`
}

func (b *ActivityBar) add(bytes, conns, denies, events uint64) {
	b.Bytes += bytes
	b.Conns += conns
	b.Denies += denies
	b.Events += events
}

// DeniedSection is the denied traffic of the window from external sources: the top sources,
// the destination ports and the ACLs that denied it.
type DeniedSection struct {
	Total        uint64         `json:"total"`
	SourceCount  int            `json:"source_count"`
	Sources      []DeniedSource `json:"sources"`
	Ports        []DeniedPort   `json:"ports"`
	ACLs         []DeniedACL    `json:"acls"`
	Note         string         `json:"note,omitempty"`
	OtherSources int            `json:"other_sources,omitempty"` // sources beyond the shown ones
}

// DeniedSource is one external source's denies in the window.
type DeniedSource struct {
	Src     netip.Addr `json:"src"`
	Count   uint64     `json:"count"`
	Ports   int        `json:"ports"`    // distinct destination ports
	TopPort string     `json:"top_port"` // "23/tcp"; "many ports" when most are beyond the per-source cap
	First   time.Time  `json:"first"`    // start of the first and last bucket with denies
	Last    time.Time  `json:"last"`
}

// DeniedPort is one destination port of the window's denies.
type DeniedPort struct {
	Port    string `json:"port"` // "445/tcp"
	Count   uint64 `json:"count"`
	Sources int    `json:"sources"`
}

// DeniedACL is one ACL's denies in the window (the ACL name is from the log line: untrusted).
// The empty ACL is the denies whose message names none; its Sources is 0.
type DeniedACL struct {
	ACL     string `json:"acl"`
	Count   uint64 `json:"count"`
	Sources int    `json:"sources"`
}

// InterfacesSection is the traffic per device interface in the window.
type InterfacesSection struct {
	Rows []stats.IfaceCount `json:"rows"`
	Note string             `json:"note,omitempty"`
}

// resolution picks hourly buckets while the window is within their retention, else daily.
func resolution(cfg *policies.Config, w Window, now time.Time) stats.Resolution {
	if keep := time.Duration(cfg.Retention.Hourly); keep > 0 && w.From.Before(now.Add(-keep)) {
		return stats.Daily
	}
	return stats.Hourly
}

// barStarts returns the starts of the bars covering w and their end.
func barStarts(w Window, unit string, res stats.Resolution, loc *time.Location) []time.Time {
	var starts []time.Time
	next := func(t time.Time) time.Time { return t.Add(time.Hour) }
	var t time.Time
	switch {
	case unit == "hour":
		t = w.From.Truncate(time.Hour)
	case res == stats.Daily:
		t = w.From.UTC().Truncate(24 * time.Hour)
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	default:
		l := w.From.In(loc)
		t = time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	}
	for ; t.Before(w.To); t = next(t) {
		starts = append(starts, t)
	}
	return append(starts, next(starts[len(starts)-1]))
}

func buildActivity(ctx context.Context, st *stats.Store, cfg *policies.Config, w Window, f Filter, res stats.Resolution) (ActivitySection, error) {
	loc := cfg.Location()
	s := ActivitySection{Unit: "hour", Host: f.Host}
	if w.To.Sub(w.From) > hourBarsUpTo {
		s.Unit = "day"
	}
	if res == stats.Daily {
		s.Unit = "day"
		s.Note = "older than the hourly retention: bars are UTC days"
	}
	starts := barStarts(w, s.Unit, res, loc)
	s.Bars = make([]ActivityBar, len(starts)-1)
	for i := range s.Bars {
		b := &s.Bars[i]
		b.From, b.To = starts[i], starts[i+1]
		switch {
		case s.Unit == "hour":
			b.Label = b.From.In(loc).Format("15:04")
		case res == stats.Daily:
			b.Label = b.From.UTC().Format("Mon 2 Jan")
		default:
			b.Label = b.From.In(loc).Format("Mon 2 Jan")
		}
	}
	bar := func(t time.Time) *ActivityBar {
		i, _ := slices.BinarySearchFunc(starts, t, func(a, t time.Time) int { return a.Compare(t) })
		if i < len(starts) && starts[i].Equal(t) {
			i++
		}
		if i == 0 || i > len(s.Bars) {
			return nil
		}
		return &s.Bars[i-1]
	}
	sw := stats.Window{From: w.From, To: w.To}
	if f.Host.IsValid() {
		series, err := st.HostSeries(ctx, f.Host, sw, res)
		if err != nil {
			return s, fmt.Errorf("report activity: %w", err)
		}
		for _, hb := range series {
			if b := bar(hb.Start); b != nil {
				b.add(hb.Bytes(), hb.ConnsInitiated+hb.ConnsAccepted, hb.Denies, hb.Events)
			}
		}
	} else {
		series, err := st.SiteSeries(ctx, sw, res)
		if err != nil {
			return s, fmt.Errorf("report activity: %w", err)
		}
		for _, sb := range series {
			if b := bar(sb.Start); b != nil {
				b.add(sb.Bytes, sb.Conns, sb.Denies, sb.Events)
			}
		}
	}
	for _, b := range s.Bars {
		s.Totals.add(b.Bytes, b.Conns, b.Denies, b.Events)
	}
	s.Totals.From, s.Totals.To = starts[0], starts[len(starts)-1]
	if s.Totals.Events == 0 && s.Note == "" {
		s.Note = "no events recorded in this window"
	}
	return s, nil
}

func buildDenied(ctx context.Context, st *stats.Store, w Window, f Filter, res stats.Resolution) (DeniedSection, error) {
	sw := stats.Window{From: w.From, To: w.To}
	srcs, err := st.Denies(ctx, f.Host, sw, res) // a zero Host: every source
	if err != nil {
		return DeniedSection{}, fmt.Errorf("report denies: %w", err)
	}
	acls, err := st.DenyACLs(ctx, f.Host, sw, res)
	if err != nil {
		return DeniedSection{}, fmt.Errorf("report deny acls: %w", err)
	}
	s := DeniedSection{SourceCount: len(srcs)}
	type agg struct {
		count   uint64
		sources int
	}
	ports := map[string]*agg{}
	for _, d := range srcs {
		s.Total += d.Count
		row := DeniedSource{Src: d.Src, Count: d.Count, Ports: len(d.Ports), First: d.First, Last: d.Last}
		if len(d.Ports) > 0 {
			row.TopPort = PortLabel(d.Ports[0].Proto, d.Ports[0].Port)
			if d.Ports[0].Proto == 0 && d.Ports[0].Port == 0 { // most in the overflow bucket: a scan
				row.TopPort = "many ports"
			}
		}
		if len(s.Sources) < maxDeniedRows {
			s.Sources = append(s.Sources, row)
		} else {
			s.OtherSources++
		}
		for _, p := range d.Ports {
			k := PortLabel(p.Proto, p.Port)
			a := ports[k]
			if a == nil {
				a = &agg{}
				ports[k] = a
			}
			a.count += p.Count
			a.sources++
		}
	}
	for k, a := range ports {
		s.Ports = append(s.Ports, DeniedPort{Port: k, Count: a.count, Sources: a.sources})
	}
	slices.SortFunc(s.Ports, func(a, b DeniedPort) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Port, b.Port))
	})
	s.Ports = s.Ports[:min(len(s.Ports), maxDeniedRows)]
	byACL := map[string]*agg{}
	var withACL uint64
	for _, a := range acls {
		withACL += a.Count
		x := byACL[a.ACL]
		if x == nil {
			x = &agg{}
			byACL[a.ACL] = x
		}
		x.count += a.Count
		x.sources++
	}
	for k, a := range byACL {
		s.ACLs = append(s.ACLs, DeniedACL{ACL: k, Count: a.count, Sources: a.sources})
	}
	if s.Total > withACL { // denies whose message names no ACL (106015 no connection, ...)
		s.ACLs = append(s.ACLs, DeniedACL{Count: s.Total - withACL})
	}
	slices.SortFunc(s.ACLs, func(a, b DeniedACL) int { return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.ACL, b.ACL)) })
	s.ACLs = s.ACLs[:min(len(s.ACLs), maxDeniedRows)]
	if len(srcs) == 0 {
		s.Note = "no denied traffic from external sources in this window"
		if f.Host.IsValid() {
			s.Note = "no denies with " + f.Host.String() + " as the external source in this window (denies are kept per external source)"
		}
	}
	return s, nil
}

func buildInterfaces(ctx context.Context, st *stats.Store, w Window, f Filter, res stats.Resolution) (InterfacesSection, error) {
	rows, err := st.Interfaces(ctx, stats.Window{From: w.From, To: w.To}, res)
	if err != nil {
		return InterfacesSection{}, fmt.Errorf("report interfaces: %w", err)
	}
	var s InterfacesSection
	for _, r := range rows {
		if f.Device == "" || r.Device == f.Device {
			s.Rows = append(s.Rows, r)
		}
	}
	slices.SortStableFunc(s.Rows, func(a, b stats.IfaceCount) int {
		return cmp.Compare(b.InBytes+b.OutBytes+b.InDenies, a.InBytes+a.OutBytes+a.InDenies)
	})
	if len(s.Rows) > maxIfaceRows {
		s.Note = fmt.Sprintf("%d more interfaces with less traffic not shown", len(s.Rows)-maxIfaceRows)
		s.Rows = s.Rows[:maxIfaceRows]
	}
	if len(s.Rows) == 0 {
		s.Note = "no interface counters in this window"
	}
	return s, nil
}

// keepFinding applies the filter's detector, severity and host to a finding.
func (f Filter) keepFinding(x detect.Finding) bool {
	if f.Detector != "" && x.Detector != f.Detector {
		return false
	}
	if f.Severity != "" && severityRank[x.Severity] < severityRank[f.Severity] {
		return false
	}
	if f.Host.IsValid() && x.Subject.Host != f.Host && x.Subject.Peer != f.Host {
		return false
	}
	return true
}

func (f Filter) findings(s FindingsSection) FindingsSection {
	if f.Detector == "" && f.Severity == "" && !f.Host.IsValid() {
		return s
	}
	keep := func(in []detect.Finding) []detect.Finding {
		var out []detect.Finding
		for _, x := range in {
			if f.keepFinding(x) {
				out = append(out, x)
			}
		}
		return out
	}
	s.New, s.Ongoing = keep(s.New), keep(s.Ongoing)
	if len(s.New)+len(s.Ongoing) == 0 && s.Note == "" {
		s.Note = "no findings in this window match the filter"
	}
	return s
}

// HostRow is one internal host's traffic in a window.
type HostRow struct {
	Host    netip.Addr `json:"host"`
	Name    string     `json:"name"`
	Network string     `json:"network"`
	Role    string     `json:"role"`
	Bytes   uint64     `json:"bytes"`
	Conns   uint64     `json:"conns"`
	Denies  uint64     `json:"denies"`
	Events  uint64     `json:"events"`
}

// PeerRow is one internal host's traffic with one external peer in a window.
type PeerRow struct {
	Host  netip.Addr `json:"host"`
	Name  string     `json:"name"`
	Peer  netip.Addr `json:"peer"` // invalid for the overflow bucket
	Bytes uint64     `json:"bytes"`
	Conns uint64     `json:"conns"`
}

// WindowData is the drill-down of one window (a bar of the activity chart): its hosts, their
// external peers, the denies and the raw archived lines.
type WindowData struct {
	Site        string          `json:"site"`
	Timezone    string          `json:"timezone"`
	Window      Window          `json:"window"`
	Filter      Filter          `json:"filter"`
	GeneratedAt time.Time       `json:"generated_at"`
	Activity    ActivitySection `json:"activity"`
	Hosts       []HostRow       `json:"hosts"`
	HostCount   int             `json:"host_count"`
	Peers       []PeerRow       `json:"peers"`
	PeerCount   int             `json:"peer_count"`
	Denied      DeniedSection   `json:"denied"`
	Lines       LinesSection    `json:"lines"`
}

// BuildWindow reads the drill-down of w. Raw lines come from the archive folder of
// src.ArchiveDir, page by page (page from 0).
func BuildWindow(ctx context.Context, src Sources, w Window, f Filter, page int) (*WindowData, error) {
	if src.Store == nil || src.Config == nil {
		return nil, errNoStore
	}
	cfg, st := src.Config, src.Store
	now := w.To
	if src.Now != nil {
		now = src.Now()
	}
	res := resolution(cfg, w, now)
	d := &WindowData{Site: cfg.Site, Timezone: cfg.Location().String(), Window: w, Filter: f, GeneratedAt: now}
	var err error
	if d.Activity, err = buildActivity(ctx, st, cfg, w, f, res); err != nil {
		return nil, err
	}
	sw := stats.Window{From: w.From, To: w.To}
	var series map[netip.Addr][]stats.HostBucket
	if f.Host.IsValid() {
		hs, err := st.HostSeries(ctx, f.Host, sw, res)
		if err != nil {
			return nil, fmt.Errorf("report window hosts: %w", err)
		}
		series = map[netip.Addr][]stats.HostBucket{f.Host: hs}
	} else if series, err = st.AllHostSeries(ctx, sw, res); err != nil {
		return nil, fmt.Errorf("report window hosts: %w", err)
	}
	for h, bs := range series {
		n, _ := cfg.Classify(h)
		row := HostRow{Host: h, Name: hostName(cfg, h, n)}
		if n != nil {
			row.Network, row.Role = n.Name, n.Role
		}
		for _, b := range bs {
			row.Bytes += b.Bytes()
			row.Conns += b.ConnsInitiated + b.ConnsAccepted
			row.Denies += b.Denies
			row.Events += b.Events
		}
		if row.Events > 0 || row.Bytes > 0 {
			d.Hosts = append(d.Hosts, row)
		}
	}
	slices.SortFunc(d.Hosts, func(a, b HostRow) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(b.Events, a.Events), a.Host.Compare(b.Host))
	})
	d.HostCount = len(d.Hosts)
	d.Hosts = d.Hosts[:min(len(d.Hosts), maxHostRows)]
	peers, err := st.Peers(ctx, f.Host, sw, res)
	if err != nil {
		return nil, fmt.Errorf("report window peers: %w", err)
	}
	d.PeerCount = len(peers)
	for _, p := range peers[:min(len(peers), maxPeerRows)] {
		n, _ := cfg.Classify(p.Host)
		d.Peers = append(d.Peers, PeerRow{Host: p.Host, Name: hostName(cfg, p.Host, n), Peer: p.Peer, Bytes: p.Bytes(), Conns: p.ConnsInitiated + p.ConnsAccepted})
	}
	if d.Denied, err = buildDenied(ctx, st, w, f, res); err != nil {
		return nil, err
	}
	d.Lines = readArchive(ctx, src.ArchiveDir, cfg, w, f, page)
	return d, nil
}
