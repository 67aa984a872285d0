package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/detect/baseline"
	"github.com/firebreak-dev/firebreak/detect/sigterms"
	"github.com/firebreak-dev/firebreak/policies"
)

// Sources is where Build takes a report's figures from. Store and Config are required; the
// three funcs may be nil (their sections are then empty with a note saying why).
type Sources struct {
	Store  *stats.Store
	Config *policies.Config
	// Findings returns the findings seen in w (Build keeps those with LastSeen ≥ w.From and
	// FirstSeen < w.To).
	Findings func(ctx context.Context, w Window) ([]detect.Finding, error)
	// Proposals returns the proposals waiting for a person.
	Proposals func(ctx context.Context) ([]ProposalView, error)
	// Blocks returns the blocks active at at (the generation time), with their hit counts
	// and denies.
	Blocks func(ctx context.Context, at time.Time) ([]BlockView, error)
	// Now stamps GeneratedAt; nil means the window's end.
	Now func() time.Time
	// ArchiveDir is the daemon's raw archive folder, read by the dashboard's drill-down; empty:
	// no raw lines.
	ArchiveDir string
	Log        *slog.Logger // nil: discard
}

// Limits on what one report shows, so a large site still gives a readable page.
const (
	maxServersPerRole = 12
	maxPeersPerServer = 5
	maxPrinterRows    = 60
	baselineWeeks     = 8
)

// serverRoles are the roles of the servers section, in the order shown.
var serverRoles = []struct{ role, title string }{
	{policies.RoleTerminalServers, "Terminal servers"},
	{policies.RoleDMZ, "DMZ"},
	{policies.RoleVMHosts, "VM hosts"},
	{policies.RoleDomainControllers, "Domain controllers"},
	{policies.RolePrintServers, "Print servers"},
	{policies.RoleServers, "Servers"},
	{policies.RoleTestServers, "Test servers"},
	{policies.RoleSAN, "SAN"},
}

var errNoStore = errors.New("report: Sources needs a Store and a Config")

// Build reads the statistics and the other sources for w and returns the report. It fails only
// when the store cannot be read (or ctx ends); a failing Findings, Proposals or Blocks func
// leaves its section empty with the error in its note, so a report is still produced.
func Build(ctx context.Context, src Sources, w Window) (*Data, error) {
	return BuildFiltered(ctx, src, w, Filter{})
}

// BuildFiltered is Build narrowed by f (see Filter). Windows older than the hourly retention
// are read from the daily buckets.
func BuildFiltered(ctx context.Context, src Sources, w Window, f Filter) (*Data, error) {
	if src.Store == nil || src.Config == nil {
		return nil, errNoStore
	}
	if !w.From.Before(w.To) {
		return nil, fmt.Errorf("report: empty window %s to %s", w.From, w.To)
	}
	log := src.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := src.Config
	d := &Data{Site: cfg.Site, Timezone: cfg.Location().String(), Window: w, GeneratedAt: w.To}
	if src.Now != nil {
		d.GeneratedAt = src.Now()
	}
	sw := stats.Window{From: w.From, To: w.To}
	res := resolution(cfg, w, d.GeneratedAt)
	d.Filter = f
	var err error
	began := time.Now() // for the debug log only
	step := func(name string) {
		log.Debug("report section built", "section", name, "took", time.Since(began))
		began = time.Now()
	}
	// One scan of the host counters; peers are then read per host of interest, which is a short
	// key range each, instead of every host's peers.
	var series map[netip.Addr][]stats.HostBucket
	if f.Host.IsValid() {
		hs, err := src.Store.HostSeries(ctx, f.Host, sw, res)
		if err != nil {
			return nil, fmt.Errorf("report hosts: %w", err)
		}
		series = map[netip.Addr][]stats.HostBucket{f.Host: hs}
	} else if series, err = src.Store.AllHostSeries(ctx, sw, res); err != nil {
		return nil, fmt.Errorf("report hosts: %w", err)
	}
	step("hosts")
	if d.Activity, err = buildActivity(ctx, src.Store, cfg, w, f, res); err != nil {
		return nil, err
	}
	if d.Denied, err = buildDenied(ctx, src.Store, w, f, res); err != nil {
		return nil, err
	}
	if d.Interfaces, err = buildInterfaces(ctx, src.Store, w, f, res); err != nil {
		return nil, err
	}
	step("activity")
	if d.Servers, err = buildServers(ctx, src.Store, cfg, sw, res, series); err != nil {
		return nil, err
	}
	step("servers")
	if d.Printers, err = buildPrinters(ctx, src.Store, cfg, sw, res, series); err != nil {
		return nil, err
	}
	step("printers")
	if d.Traffic, err = buildTraffic(ctx, src.Store, cfg, w.To); err != nil {
		return nil, err
	}
	step("traffic")
	if d.Terms, err = buildTerms(ctx, src.Store, cfg, sw, res); err != nil {
		return nil, err
	}
	step("terms")
	d.Findings = f.findings(buildFindings(ctx, src.Findings, w, log))
	step("findings")
	// Proposals and blocks are the current state: their age runs to the generation time.
	d.Proposals = buildProposals(ctx, src.Proposals, d.GeneratedAt, log)
	step("proposals")
	d.Blocks = buildBlocks(ctx, src.Blocks, d.GeneratedAt, log)
	step("blocks")
	return d, nil
}

func hostName(cfg *policies.Config, a netip.Addr, n *policies.Network) string {
	if h, ok := cfg.HostByAddr(a); ok {
		return h.Name
	}
	if n != nil && len(n.Prefixes) == 1 && n.Prefixes[0].IsSingleIP() {
		return n.Name
	}
	return a.String()
}

var serverRole = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range serverRoles {
		m[r.role] = true
	}
	return m
}()

func buildServers(ctx context.Context, st *stats.Store, cfg *policies.Config, w stats.Window, res stats.Resolution, series map[netip.Addr][]stats.HostBucket) (ServersSection, error) {
	groups := map[string][]ServerRow{}
	for host, buckets := range series {
		n, ok := cfg.Classify(host)
		if !ok || !serverRole[n.Role] {
			continue
		}
		peers, err := st.Peers(ctx, host, w, res) // most bytes first
		if err != nil {
			return ServersSection{}, fmt.Errorf("report server peers: %w", err)
		}
		row := ServerRow{Host: host, Network: n.Name, Name: hostName(cfg, host, n)}
		for _, b := range buckets {
			row.Bytes += b.Bytes()
		}
		var external uint64
		for i, p := range peers {
			external += p.Bytes()
			if i < maxPeersPerServer && p.Peer.IsValid() {
				row.Peers = append(row.Peers, PeerBytes{Peer: p.Peer, Bytes: p.Bytes(), Conns: p.ConnsInitiated + p.ConnsAccepted})
			} else {
				row.OtherExternal += p.Bytes()
			}
		}
		if row.Bytes > external {
			row.Internal = row.Bytes - external
		} else {
			row.Bytes = external // peer and host counters come from the same teardowns
		}
		if row.Bytes == 0 {
			continue
		}
		groups[n.Role] = append(groups[n.Role], row)
	}
	var s ServersSection
	for _, r := range serverRoles {
		rows := groups[r.role]
		if len(rows) == 0 {
			continue
		}
		slices.SortFunc(rows, func(a, b ServerRow) int {
			return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), a.Host.Compare(b.Host))
		})
		g := ServerGroup{Role: r.role, Title: r.title, Servers: rows}
		if len(rows) > maxServersPerRole {
			g.Servers, g.Omitted = rows[:maxServersPerRole], len(rows)-maxServersPerRole
		}
		s.Groups = append(s.Groups, g)
	}
	if len(s.Groups) == 0 {
		s.Note = "no server traffic in this window"
	}
	return s, nil
}

func buildPrinters(ctx context.Context, st *stats.Store, cfg *policies.Config, w stats.Window, res stats.Resolution, series map[netip.Addr][]stats.HostBucket) (PrintersSection, error) {
	var pp []stats.PeerPortCount
	for host := range series {
		n, ok := cfg.Classify(host)
		if !ok || (n.Role != policies.RolePrinters && n.Role != policies.RolePrintServers) {
			continue
		}
		hp, err := st.PeerPorts(ctx, host, w, res)
		if err != nil {
			return PrintersSection{}, fmt.Errorf("report printers: %w", err)
		}
		pp = append(pp, hp...)
	}
	var s PrintersSection
	for _, p := range pp {
		n, _ := cfg.Classify(p.Host)
		s.Rows = append(s.Rows, PrinterRow{
			Printer: p.Host, Name: hostName(cfg, p.Host, n), Role: n.Role, Peer: p.Peer,
			Proto: p.Proto, Port: p.Port, Bytes: p.Bytes(), Conns: p.ConnsInitiated + p.ConnsAccepted,
		})
	}
	slices.SortFunc(s.Rows, func(a, b PrinterRow) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), a.Printer.Compare(b.Printer), a.Peer.Compare(b.Peer),
			cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
	})
	if len(s.Rows) > maxPrinterRows {
		s.Note = fmt.Sprintf("%d more printer flows not shown (the smallest)", len(s.Rows)-maxPrinterRows)
		s.Rows = s.Rows[:maxPrinterRows]
	}
	if len(s.Rows) == 0 {
		s.Note = "no printer or print server talked to an external address in this window"
	}
	return s, nil
}

// buildTraffic compares the 24 hours before end (rounded down to the hour) with the same wall
// hours one and two days before, and marks the hours the baseline package judges candidates
// under the policy's volume thresholds (robust z, ratio to the median and absolute excess,
// against the same hour of the week, else of the day, else the recent hours).
func buildTraffic(ctx context.Context, st *stats.Store, cfg *policies.Config, at time.Time) (TrafficSection, error) {
	loc := cfg.Location()
	end := at.Truncate(time.Hour)
	start := end.Add(-24 * time.Hour)
	site, err := st.SiteSeries(ctx, stats.Window{From: end.AddDate(0, 0, -7*baselineWeeks), To: end}, stats.Hourly)
	if err != nil {
		return TrafficSection{}, fmt.Errorf("report traffic: %w", err)
	}
	bytes := make(map[int64]uint64, len(site))
	var first time.Time
	for _, b := range site {
		if first.IsZero() || b.Start.Before(first) {
			first = b.Start
		}
		bytes[b.Start.Unix()] += b.Bytes
	}
	series := baseline.Series(func(t time.Time) (float64, bool) {
		if first.IsZero() || t.Before(first) || !t.Before(end) {
			return 0, false
		}
		return float64(bytes[t.Unix()]), true
	})
	v := cfg.Detectors.Volume
	bc := baseline.Config{Location: loc, Weeks: 6, Z: v.Z, Ratio: v.Ratio, MinExcess: float64(v.MinExcessBytes), AbsFloor: 1}
	s := TrafficSection{Rule: fmt.Sprintf("an hour is marked when its bytes are at least %g robust z-scores and %g times above the median of its baseline (same hour of the week over %d weeks, else of the day, else the last 72 hours) and exceed it by at least %s",
		bc.Z, bc.Ratio, bc.Weeks, fmtBytes(uint64(bc.MinExcess)))}
	for h := start; h.Before(end); h = h.Add(time.Hour) {
		local := h.In(loc)
		d1 := local.AddDate(0, 0, -1).Truncate(time.Hour)
		d2 := local.AddDate(0, 0, -2).Truncate(time.Hour)
		th := TrafficHour{Start: h, Label: local.Format("15:04"), Bytes: bytes[h.Unix()],
			DayBefore: bytes[d1.Unix()], TwoDaysBefore: bytes[d2.Unix()]}
		if r := baseline.Evaluate(series, h, float64(th.Bytes), bc); r.Method != baseline.MethodNone {
			th.Marked, th.Median, th.Z, th.Method = r.Candidate, r.Median, r.Z, r.Method.String()
		} else {
			th.Method = r.Method.String()
		}
		s.Totals[0] += th.Bytes
		s.Totals[1] += th.DayBefore
		s.Totals[2] += th.TwoDaysBefore
		s.Hours = append(s.Hours, th)
	}
	if s.Totals == [3]uint64{} {
		s.Note = "no traffic recorded in these three days"
	}
	return s, nil
}

var termTitles = map[stats.Field]string{
	stats.FieldDestinationIP:   "Destination addresses",
	stats.FieldDestinationPort: "Destination ports",
	stats.FieldSourceIP:        "Source addresses",
	stats.FieldUserSource:      "VPN user and source",
}

func buildTerms(ctx context.Context, st *stats.Store, cfg *policies.Config, w stats.Window, res stats.Resolution) (TermsSection, error) {
	stc := cfg.Detectors.SignificantTerms
	h, err := sigterms.ByName(stc.Heuristic)
	if err != nil {
		return TermsSection{Note: err.Error()}, nil
	}
	s := TermsSection{Heuristic: h.Name()}
	opts := sigterms.Options{MinDocCount: int64(stc.MinDocCount), Size: stc.Size}
	for _, f := range stats.Fields {
		fg, err := st.Terms(ctx, f, w, res)
		if err != nil {
			return TermsSection{}, fmt.Errorf("report terms %s: %w", f, err)
		}
		bg, err := st.BackgroundTerms(ctx, f)
		if err != nil {
			return TermsSection{}, fmt.Errorf("report background terms %s: %w", f, err)
		}
		tf := TermField{Field: f.String(), Title: termTitles[f], FGDocs: int64(fg.Docs), BGDocs: int64(bg.Docs)}
		bgm := bg.Map()
		terms := make([]sigterms.Term, 0, len(fg.Terms))
		for _, t := range fg.Terms {
			terms = append(terms, sigterms.Term{Key: t.Term.String(), FG: int64(t.Count), BG: int64(bgm[t.Term])})
		}
		ranked, err := sigterms.Rank(terms, tf.FGDocs, tf.BGDocs, h, opts)
		if err != nil {
			tf.Note = "not scored: " + err.Error() // a background not covering the window
		}
		for _, r := range ranked {
			tf.Terms = append(tf.Terms, TermRow{Term: r.Key, Score: r.Score, FG: r.FG, BG: r.BG})
		}
		if len(tf.Terms) == 0 && tf.Note == "" {
			tf.Note = "nothing significant"
		}
		s.Fields = append(s.Fields, tf)
	}
	return s, nil
}

var severityRank = map[detect.Severity]int{
	detect.SeverityCritical: 5, detect.SeverityHigh: 4, detect.SeverityMedium: 3,
	detect.SeverityLow: 2, detect.SeverityInfo: 1,
}

func buildFindings(ctx context.Context, fn func(context.Context, Window) ([]detect.Finding, error), w Window, log *slog.Logger) FindingsSection {
	if fn == nil {
		return FindingsSection{Note: "findings are not available to this report"}
	}
	all, err := fn(ctx, w)
	if err != nil {
		log.Warn("report: findings", "err", err)
		return FindingsSection{Note: "findings could not be read: " + err.Error()}
	}
	var s FindingsSection
	for _, f := range all {
		if f.LastSeen.Before(w.From) || !f.FirstSeen.Before(w.To) {
			continue
		}
		if f.FirstSeen.Before(w.From) {
			s.Ongoing = append(s.Ongoing, f)
		} else {
			s.New = append(s.New, f)
		}
	}
	order := detect.Priority // severity, days active, most recent: the digest's ranking
	slices.SortFunc(s.New, order)
	slices.SortFunc(s.Ongoing, order)
	if len(s.New)+len(s.Ongoing) == 0 {
		s.Note = "no findings in this window"
	}
	return s
}

func buildProposals(ctx context.Context, fn func(context.Context) ([]ProposalView, error), at time.Time, log *slog.Logger) ProposalsSection {
	if fn == nil {
		return ProposalsSection{Note: "proposals are not available to this report"}
	}
	ps, err := fn(ctx)
	if err != nil {
		log.Warn("report: proposals", "err", err)
		return ProposalsSection{Note: "proposals could not be read: " + err.Error()}
	}
	for i := range ps {
		if ps[i].Age == 0 && !ps[i].Created.IsZero() {
			ps[i].Age = Age(max(at.Sub(ps[i].Created), 0))
		}
	}
	slices.SortStableFunc(ps, func(a, b ProposalView) int { return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID)) })
	var s ProposalsSection
	for _, p := range ps {
		if p.Ineffective != "" {
			s.Ineffective = append(s.Ineffective, p)
		} else {
			s.Pending = append(s.Pending, p)
		}
	}
	if len(s.Pending) == 0 {
		s.Note = "no proposals waiting"
	}
	return s
}

func buildBlocks(ctx context.Context, fn func(context.Context, time.Time) ([]BlockView, error), at time.Time, log *slog.Logger) BlocksSection {
	if fn == nil {
		return BlocksSection{Note: "blocks are not available to this report"}
	}
	bs, err := fn(ctx, at)
	if err != nil {
		log.Warn("report: blocks", "err", err)
		return BlocksSection{Note: "blocks could not be read: " + err.Error()}
	}
	for i := range bs {
		if bs[i].Age == 0 && !bs[i].AppliedAt.IsZero() {
			bs[i].Age = Age(max(at.Sub(bs[i].AppliedAt), 0))
		}
	}
	slices.SortStableFunc(bs, func(a, b BlockView) int { return cmp.Or(a.AppliedAt.Compare(b.AppliedAt), cmp.Compare(a.ID, b.ID)) })
	s := BlocksSection{Active: bs}
	if len(bs) == 0 {
		s.Note = "no active blocks"
	}
	return s
}
