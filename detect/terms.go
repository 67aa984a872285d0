package detect

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect/sigterms"
	"github.com/firebreak-dev/firebreak/policies"
)

// TermsQuery is an ad-hoc significant-terms question: the foreground window against every
// retained day up to its end.
type TermsQuery struct {
	Field       stats.Field
	Window      TimeRange
	Heuristic   string // "" means jlh
	Size        int    // 0: sigterms default; < 0: all
	MinDocCount int    // 0: sigterms default
}

// TermsResult is the ranking of one field, with the totals it was computed against.
type TermsResult struct {
	Field      string            `json:"field"`
	Heuristic  string            `json:"heuristic"`
	Window     TimeRange         `json:"window"`
	Subset     int64             `json:"subset_size"`
	Superset   int64             `json:"superset_size"`
	Terms      []sigterms.Scored `json:"terms"`
	termByName map[string]stats.Term
}

// Term returns the typed term behind a ranked key.
func (r *TermsResult) Term(k string) stats.Term { return r.termByName[k] }

// SignificantTerms ranks the terms of q.Field in the foreground window against the background
// of every retained daily bucket up to the window's end (so it contains the foreground, as
// Elasticsearch's superset formulas assume, and an old window is judged as it was then).
func SignificantTerms(ctx context.Context, st Stats, q TermsQuery) (TermsResult, error) {
	h, err := sigterms.ByName(q.Heuristic)
	if err != nil {
		return TermsResult{}, err
	}
	res := TermsResult{Field: q.Field.String(), Heuristic: h.Name(), Window: q.Window}
	fg, err := st.Terms(ctx, q.Field, win(q.Window), stats.Hourly)
	if err != nil {
		return res, fmt.Errorf("foreground terms: %w", err)
	}
	bg, err := st.Terms(ctx, q.Field, stats.Window{To: q.Window.To}, stats.Daily)
	if err != nil {
		return res, fmt.Errorf("background terms: %w", err)
	}
	// Daily buckets round the window's end up to a day, so they hold the foreground; the
	// per-hour term caps can still leave a daily count below the hourly sum: clamp so the
	// superset contract holds.
	ss, bs := int64(fg.Docs), max(int64(bg.Docs), int64(fg.Docs))
	fgm, bgm := fg.Map(), bg.Map()
	terms := make([]sigterms.Term, 0, len(fgm))
	res.termByName = make(map[string]stats.Term, len(fgm))
	for t, n := range fgm {
		k := t.String()
		sf := int64(n)
		bf := max(int64(bgm[t]), sf)
		terms = append(terms, sigterms.Term{Key: k, FG: sf, BG: bf})
		res.termByName[k] = t
	}
	for i := range terms {
		if terms[i].FG > ss {
			ss = terms[i].FG
		}
	}
	bs = max(bs, ss)
	for i := range terms {
		// bf − sf ≤ bs − ss
		if d := terms[i].BG - terms[i].FG; d > bs-ss {
			terms[i].BG = terms[i].FG + (bs - ss)
		}
	}
	res.Subset, res.Superset = ss, bs
	ranked, err := sigterms.Rank(terms, ss, bs, h, sigterms.Options{MinDocCount: int64(q.MinDocCount), Size: q.Size})
	if err != nil {
		return res, fmt.Errorf("rank %s: %w", q.Field, err)
	}
	res.Terms = ranked
	return res, nil
}

// SignificantTermsDetector ranks each field (destination.ip, destination.port, source.ip,
// user.source) of the foreground window (significant_terms.window, default 24h, ending with
// the run's window) against the retained background with the policy's heuristic and
// min_doc_count, and reports the top significant_terms.size terms that are sharply more
// frequent than usual: at least termsMinLift times their background share. One finding per
// (field, term).
type SignificantTermsDetector struct{}

func (SignificantTermsDetector) Name() string { return DetectorSignificantTerms }

// termsMinLift is the least p_fg/p_bg a ranked term needs to become a finding: JLH ranks by
// lift times absolute change, but a term merely twice as common as usual is not worth a
// person's time.
const termsMinLift = 10

// termsTopLift is the lift the top-ranked term of a field needs.
const termsTopLift = 3

// termsMinRate is the least ratio of a term's count per day in the window to its average per
// day in the background.
const termsMinRate = 2

func (d SignificantTermsDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	sc := cfg.Detectors.SignificantTerms
	fgw := w
	if sc.Window > 0 {
		fgw = TimeRange{From: w.To.Add(-time.Duration(sc.Window)), To: w.To}
	}
	// External sources whose documents in the window are all denies: the device already
	// stopped them; port_scan and unusual_ports judge denied traffic as denied.
	denied := map[netip.Addr]uint64{}
	ds, err := env.Stats.Denies(ctx, netipZero, win(fgw), stats.Hourly)
	if err != nil {
		return nil, fmt.Errorf("denies: %w", err)
	}
	for _, s := range ds {
		denied[s.Src] += s.Count
	}
	// VPN login sources are new_vpn_source's to judge (a roaming user is new every day).
	vpnSrc := map[netip.Addr]bool{}
	vs, err := env.Stats.VPNSources(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("vpn sources: %w", err)
	}
	for _, v := range vs {
		vpnSrc[v.Src] = true
	}
	// Days of background, for a term's absolute rate: a share can rise only because the
	// day's total fell (a weekend), while the term's own count stayed what it always is.
	site, err := env.Stats.SiteSeries(ctx, stats.Window{To: fgw.To}, stats.Daily)
	if err != nil {
		return nil, fmt.Errorf("site series: %w", err)
	}
	bgDays := 0.0
	for _, b := range site {
		if b.Docs > 0 {
			bgDays++
		}
	}
	fgDays := max(1.0/24, fgw.To.Sub(fgw.From).Hours()/24)
	var out []Finding
	for _, field := range stats.Fields {
		res, err := SignificantTerms(ctx, env.Stats, TermsQuery{
			Field: field, Window: fgw, Heuristic: sc.Heuristic, Size: sc.Size, MinDocCount: sc.MinDocCount,
		})
		if err != nil {
			return out, err
		}
		for rank, s := range res.Terms {
			pf := float64(s.FG) / float64(max(1, s.SubsetSize))
			pb := float64(s.BG) / float64(max(1, s.SupersetSize))
			lift := pf / max(pb, 1e-12)
			// The lift gate keeps a merely-twice-as-common term out, never the term the
			// heuristic ranked first.
			if lift < termsMinLift && !(rank == 0 && lift >= termsTopLift) {
				continue
			}
			rate := (float64(s.FG) / fgDays) / max(float64(s.BG)/max(bgDays, 1), 1e-12)
			if rate < termsMinRate {
				continue
			}
			t := res.Term(s.Key)
			if !d.worthATerm(ctx, env, field, t, s.FG, fgw, denied, vpnSrc) {
				continue
			}
			subj := Subject{User: t.User, Proto: t.Proto, Port: t.Port}
			switch field {
			case stats.FieldDestinationIP, stats.FieldSourceIP, stats.FieldUserSource:
				if cfg.IsInternal(t.Addr) {
					subj.Host = t.Addr
				} else {
					subj.Peer = t.Addr
				}
			}
			act := subj.Peer
			if !act.IsValid() {
				act = subj.Host
			}
			out = append(out, Finding{
				Key:      key(d.Name(), field.String(), s.Key),
				Detector: d.Name(),
				Severity: severity(cfg, d.Name()),
				Title:    fmt.Sprintf("significant %s %s (%s %.3g)", field, s.Key, res.Heuristic, s.Score),
				Subject:  subj,
				Evidence: Evidence{
					Summary: fmt.Sprintf("%s %s in %d of %d documents of the window against %d of %d in the background (%.0f× its usual share); %s score %.4g",
						field, s.Key, s.FG, s.SubsetSize, s.BG, s.SupersetSize, lift, res.Heuristic, s.Score),
					Window: fgw,
					Counts: map[string]float64{"score": s.Score, "fg_count": float64(s.FG), "fg_total": float64(s.SubsetSize),
						"bg_count": float64(s.BG), "bg_total": float64(s.SupersetSize), "lift": lift, "rate_ratio": rate},
				},
				FirstSeen: fgw.From, LastSeen: fgw.To,
				Protected: act.IsValid() && cfg.IsProtected(act),
			})
		}
	}
	return out, nil
}

// worthATerm says whether a ranked term is a situation of its own: not denied-only traffic
// (the device stopped it), not a VPN login source or pool address (new_vpn_source's), not a
// known service, and not an internal host whose traffic in the window went mostly to known
// services (a backup, an update pull).
func (d SignificantTermsDetector) worthATerm(ctx context.Context, env *Env, field stats.Field, t stats.Term, fg int64,
	w TimeRange, denied map[netip.Addr]uint64, vpnSrc map[netip.Addr]bool) bool {
	cfg := env.Policy
	a := t.Addr
	if !a.IsValid() {
		return true
	}
	if _, ok := cfg.Service(a); ok || vpnSrc[a] || role(cfg, a) == policies.RoleVPNPool {
		return false
	}
	if _, own := cfg.DeviceAddress(a); own {
		return false
	}
	if field == stats.FieldSourceIP && !cfg.IsInternal(a) && denied[a] >= uint64(fg) {
		return false
	}
	if cfg.IsInternal(a) {
		pp, err := env.Stats.PeerPorts(ctx, a, win(w), stats.Hourly)
		if err != nil {
			env.log().Debug("terms peers", "host", a, "err", err)
			return true
		}
		var all, svc uint64
		for _, p := range pp {
			n := p.ConnsInitiated + p.ConnsAccepted
			all += n
			if _, ok := cfg.Service(p.Peer); ok {
				svc += n
			}
		}
		if all > 0 && 2*svc >= all {
			return false
		}
	}
	return true
}
