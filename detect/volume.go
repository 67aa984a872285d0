package detect

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect/baseline"
	"github.com/firebreak-dev/firebreak/policies"
)

// VolumeDetector compares every hour of the window with its hour-of-week baseline (median and
// MAD over the last weeks, with the hour-of-day and recent-hours fallbacks of package
// baseline) for each internal host and for the site total. An hour is a candidate when it
// passes volume.z, volume.ratio and volume.min_excess_bytes; a finding needs persistence
// (volume.persistence of the last 3 hours, or a 12-hour sum past the same gates), so one
// noisy hour does not page anyone. Hosts with less than volume.min_history_days of history are
// not judged.
type VolumeDetector struct{}

func (VolumeDetector) Name() string { return DetectorVolumeSpike }

const (
	volumeWeeks   = 6
	persistWindow = 12 // hours of the sustained-excess rule
	persistM      = 3
)

// hourSeries is a series of hourly values known from first to at (exclusive); hours without a
// value are 0.
type hourSeries struct {
	first  time.Time
	at     time.Time
	values []float64 // by hour from first
}

func newHourSeries(first, at time.Time) *hourSeries {
	n := max(0, int(at.Sub(first).Hours())+1)
	return &hourSeries{first: first, at: at, values: make([]float64, n)}
}

// set records v for the hour starting at start (an hour boundary from first).
func (h *hourSeries) set(start time.Time, v float64) {
	if i, ok := h.index(start); ok {
		h.values[i] = v
	}
}

func (h *hourSeries) index(start time.Time) (int, bool) {
	d := start.Unix() - h.first.Unix()
	if d < 0 || d%3600 != 0 || d/3600 >= int64(len(h.values)) {
		return 0, false
	}
	return int(d / 3600), true
}

func (h *hourSeries) get(start time.Time) (float64, bool) {
	if start.Before(h.first) || !start.Before(h.at) {
		return 0, false
	}
	i, ok := h.index(start)
	if !ok {
		return 0, true
	}
	return h.values[i], true
}

// spike is the judgement of one series over the window.
type spike struct {
	fired       []baseline.Result // fired hours, oldest first
	best        baseline.Result   // the fired hour with the largest excess
	rule        baseline.Rule
	first, last time.Time
}

// windowExcessFactor scales volume.min_excess_bytes for the 12-hour sum rule: a sustained
// excess must add up to several hours' worth, so one hour just past the gate does not fire
// through the sum.
const windowExcessFactor = 3

func judge(s *hourSeries, w TimeRange, cfg baseline.Config, p baseline.Persistence) (spike, bool) {
	wcfg := cfg
	wcfg.MinExcess *= windowExcessFactor
	from := w.From.Truncate(time.Hour).Add(-(persistWindow - 1) * time.Hour)
	res := baseline.EvaluateRange(s.get, from, w.To, cfg)
	var sp spike
	for i := persistWindow - 1; i < len(res); i++ {
		if res[i].Start.Before(w.From) {
			continue
		}
		dec := p.Decide(res[:i+1], wcfg)
		if !dec.Fire {
			continue
		}
		r := res[i]
		// Persistence carries an alert across hours; an hour after the traffic fell back (a
		// later window's first hours too) is not part of the spike: it must be a candidate
		// itself or carry its share of a sustained excess.
		if !r.Candidate && r.Excess < cfg.MinExcess/persistWindow {
			continue
		}
		if dec.Rule == baseline.RuleWindow && !r.Candidate {
			r = dec.Window
		}
		sp.fired = append(sp.fired, r)
		if len(sp.fired) == 1 || r.Excess > sp.best.Excess {
			sp.best, sp.rule = r, dec.Rule
		}
		if sp.first.IsZero() {
			sp.first = res[i].Start
		}
		sp.last = res[i].Start.Add(time.Hour)
	}
	return sp, len(sp.fired) > 0
}

func (d VolumeDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	vc := cfg.Detectors.Volume
	bcfg := baseline.Config{
		Location: env.loc(), Weeks: volumeWeeks,
		Z: vc.Z, Ratio: vc.Ratio, MinExcess: float64(vc.MinExcessBytes), AbsFloor: 1e6,
	}
	pers := baseline.Persistence{K: max(1, vc.Persistence), M: persistM, Window: persistWindow}
	minHist := time.Duration(vc.MinHistoryDays) * 24 * time.Hour
	at := w.To.Truncate(time.Hour)
	if at.Before(w.To) {
		at = at.Add(time.Hour)
	}
	fetch := stats.Window{From: w.From.Add(-time.Duration(volumeWeeks*7*24+persistWindow) * time.Hour), To: at}
	all, err := env.Stats.AllHostBytes(ctx, fetch)
	if err != nil {
		return nil, fmt.Errorf("host series: %w", err)
	}
	judgeFrom := w.From.Add(-persistWindow * time.Hour)
	var out []Finding
	hosts := make([]netip.Addr, 0, len(all))
	for h := range all {
		hosts = append(hosts, h)
	}
	slices.SortFunc(hosts, netip.Addr.Compare)
	for _, h := range hosts {
		bs := all[h]
		if len(bs) == 0 || w.From.Sub(bs[0].Start()) < minHist {
			continue
		}
		if _, own := cfg.DeviceAddress(h); own {
			continue // the firewall's own address (VPN tunnels end there) is not a host
		}
		// Cheap gate: a host whose recent bytes cannot pass min_excess is not judged.
		var recent float64
		for _, b := range bs {
			if !b.Start().Before(judgeFrom) {
				recent += float64(b.Bytes)
			}
		}
		if recent < bcfg.MinExcess {
			continue
		}
		s := newHourSeries(bs[0].Start(), at)
		for _, b := range bs {
			s.set(b.Start(), float64(b.Bytes))
		}
		sp, ok := judge(s, w, bcfg, pers)
		if !ok {
			continue
		}
		mix, err := d.composition(ctx, env, h, sp)
		if err != nil {
			return nil, err
		}
		if !mix.unexplained(sp, bcfg.MinExcess) {
			continue
		}
		out = append(out, d.finding(ctx, env, w, h, sp, nil, mix))
	}

	site, err := env.Stats.SiteSeries(ctx, fetch, stats.Hourly)
	if err != nil {
		return nil, fmt.Errorf("site series: %w", err)
	}
	if len(site) > 0 && w.From.Sub(site[0].Start) >= minHist {
		s := newHourSeries(site[0].Start, at)
		for _, b := range site {
			s.set(b.Start, float64(b.Bytes))
		}
		if sp, ok := judge(s, w, bcfg, pers); ok && !d.scheduled(cfg, sp) {
			// The hosts behind the spike: bytes in the fired hours.
			contrib := make(map[string]float64)
			for h, bs := range all {
				for _, b := range bs {
					if !b.Start().Before(sp.first) && b.Start().Before(sp.last) {
						contrib[h.String()] += float64(b.Bytes)
					}
				}
			}
			top := topN(contrib, 10)
			// What the top hosts moved with known services is explained (one query per top
			// host; a scan of every host's peers would cost a day's worth per run).
			mix := spikeMix{peers: map[string]float64{}}
			for _, r := range top {
				a, err := netip.ParseAddr(r.Key)
				if err != nil {
					continue
				}
				hm, err := d.composition(ctx, env, a, sp)
				if err != nil {
					return nil, err
				}
				mix.service += hm.service
				mix.external += hm.external
			}
			if mix.unexplained(sp, bcfg.MinExcess) {
				// Many hosts each pulling a little (a patch day) hide from the top hosts:
				// before reporting, count every host's service bytes (rare: a site spike).
				if mix, err = d.composition(ctx, env, netipZero, sp); err != nil {
					return nil, err
				}
			}
			if mix.unexplained(sp, bcfg.MinExcess) {
				out = append(out, d.finding(ctx, env, w, netip.Addr{}, sp, top[:min(5, len(top))], mix))
			}
		}
	}
	return out, nil
}

func (d VolumeDetector) finding(ctx context.Context, env *Env, w TimeRange, host netip.Addr, sp spike, topHosts []Ranked, mix spikeMix) Finding {
	cfg := env.Policy
	var observed, expected float64
	for _, r := range sp.fired {
		if r.Method == baseline.MethodWindowSum {
			continue
		}
		observed += r.X
		expected += r.Median
	}
	b := sp.best
	subject := "site total"
	k := key(d.Name(), "site")
	subj := Subject{Segment: "site"}
	var peers []Ranked
	var lines []string
	if host.IsValid() {
		subject = fmt.Sprintf("%s (%s)", host, role(cfg, host))
		k = key(d.Name(), host.String())
		subj = Subject{Host: host, Segment: segment(cfg, host)}
		peers = topN(mix.peers, 5)
		// The subject's peer (what a block would target) is the top external peer only when it
		// is no known service and carried most of the spike; else the spike is the host's,
		// not one peer's (internal traffic, an update pull), and no peer is named.
		if mix.top.IsValid() && mix.topBytes >= peerShare*mix.total {
			subj.Peer = mix.top
			lines = exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarPeer, A: host, B: mix.top})
		}
	}
	title := fmt.Sprintf("traffic spike: %s moved %s in %d hour(s), %.1f× its baseline", subject, human(observed), len(sp.fired), ratio(observed, expected))
	if expected < 1e3 {
		title = fmt.Sprintf("traffic spike: %s moved %s in %d hour(s) that are normally silent", subject, human(observed), len(sp.fired))
	}
	return Finding{
		Key:      k,
		Detector: d.Name(),
		Severity: severity(cfg, d.Name()),
		Title:    title,
		Subject:  subj,
		Evidence: Evidence{
			Summary: fmt.Sprintf("%s between %s and %s against %s expected (%s baseline); peak hour %s: %s vs median %s, z %.1f (rule %s)",
				human(observed), sp.first.UTC().Format(tsFmt), sp.last.UTC().Format(tsFmt), human(expected), b.Method,
				b.Start.UTC().Format(tsFmt), human(b.X), human(b.Median), b.Z, sp.rule),
			Window: w,
			Counts: map[string]float64{"bytes": observed, "expected_bytes": expected, "hours": float64(len(sp.fired)),
				"peak_bytes": b.X, "peak_median": b.Median, "peak_mad": b.MAD,
				"service_bytes": mix.service, "external_bytes": mix.external, "top_peer_bytes": mix.topBytes},
			Baseline: &Comparison{Observed: b.X, Expected: b.Median, Z: b.Z, Ratio: b.Ratio, Method: b.Method.String(), Unit: "bytes/hour"},
			TopPeers: peers,
			TopHosts: topHosts,
			Lines:    lines,
		},
		FirstSeen: sp.first, LastSeen: sp.last,
		Protected: host.IsValid() && cfg.IsProtected(host),
	}
}

func ratio(a, b float64) float64 {
	if b < 1 {
		b = 1
	}
	return a / b
}

// peerShare is the least share of a host's spike bytes its top external peer must carry to be
// named as the spike's peer.
const peerShare = 0.5

// spikeMix is where a spike's bytes went, over its hours.
type spikeMix struct {
	total, external, service float64
	peers                    map[string]float64 // by peer (services marked)
	top                      netip.Addr         // the top external peer that is no known service
	topBytes                 float64
}

// composition sums host's bytes (every host's for the zero address) by peer over the spike's
// hours, setting apart known services (services:), which are never exfiltration.
func (d VolumeDetector) composition(ctx context.Context, env *Env, host netip.Addr, sp spike) (spikeMix, error) {
	cfg := env.Policy
	pc, err := env.Stats.PeerPorts(ctx, host, stats.Window{From: sp.first, To: sp.last}, stats.Hourly)
	if err != nil {
		return spikeMix{}, fmt.Errorf("volume peers %s: %w", host, err)
	}
	m := spikeMix{peers: map[string]float64{}}
	byPeer := map[netip.Addr]float64{}
	for _, p := range pc {
		b := float64(p.Bytes())
		m.external += b
		name := "(other peers)"
		if p.Peer.IsValid() {
			name = p.Peer.String()
			if svc, ok := cfg.Service(p.Peer); ok {
				m.service += b
				name += " (" + svc.Name + ")"
			} else {
				byPeer[p.Peer] += b
			}
		}
		m.peers[name] += b
	}
	for a, b := range byPeer {
		if b > m.topBytes || (b == m.topBytes && a.Less(m.top)) {
			m.top, m.topBytes = a, b
		}
	}
	for _, r := range sp.fired {
		if r.Method != baseline.MethodWindowSum {
			m.total += r.X
		}
	}
	m.total = max(m.total, m.external)
	return m, nil
}

// unexplained says whether the spike's excess remains past minExcess once the bytes with
// known services are taken out.
func (m spikeMix) unexplained(sp spike, minExcess float64) bool {
	var observed, expected float64
	for _, r := range sp.fired {
		if r.Method == baseline.MethodWindowSum {
			continue
		}
		observed += r.X
		expected += r.Median
	}
	return observed-m.service-expected >= minExcess
}

// scheduled says whether every fired hour of a site spike lies in a scheduled bulk window.
func (d VolumeDetector) scheduled(cfg *policies.Config, sp spike) bool {
	if len(sp.fired) == 0 {
		return false
	}
	for _, r := range sp.fired {
		if _, ok := cfg.BulkAt(r.Start, ""); !ok {
			return false
		}
	}
	return true
}
