package detect

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect/baseline"
)

// SilentHostDetector reports a watched host (policies.SilentAfter: named hosts and networks
// with expected_silent_hours) that was active on most of the last days and has sent nothing
// for longer than its threshold (others' failed attempts to reach it are not its traffic) (and three times its longest usual gap) at the window's end.
type SilentHostDetector struct{}

func (SilentHostDetector) Name() string { return DetectorSilentHost }

// silentLookback is how much hourly history judges a host's activity: a host silent for
// longer than this minus a week is no longer "expected" and drops out.
const silentLookback = 35 * 24 * time.Hour

func (d SilentHostDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	at := w.To
	cands := make(map[netip.Addr]time.Duration)
	for _, n := range cfg.Networks {
		for _, h := range n.Hosts {
			if after, ok := cfg.SilentAfter(h.Address); ok {
				cands[h.Address] = after
			}
		}
	}
	seen, err := env.Stats.Hosts(ctx)
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	for _, h := range seen {
		if after, ok := cfg.SilentAfter(h.Host); ok {
			cands[h.Host] = after
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	lookW := stats.Window{From: at.Add(-silentLookback), To: at}
	addrs := make([]netip.Addr, 0, len(cands))
	for a := range cands {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	var out []Finding
	for _, a := range addrs {
		buckets, err := env.Stats.HostSeries(ctx, a, lookW, stats.Hourly)
		if err != nil {
			return nil, fmt.Errorf("host series %s: %w", a, err)
		}
		if len(buckets) == 0 {
			continue // never seen in the lookback: nothing to expect
		}
		byHour := make(map[int64]float64, len(buckets))
		for _, b := range buckets {
			if b.Start.Before(at) {
				byHour[b.Start.Unix()] = float64(hostActivity(b.HostCounters))
			}
		}
		first := buckets[0].Start
		s := func(start time.Time) (float64, bool) {
			if start.Before(first) || !start.Before(at) {
				return 0, false
			}
			return byHour[start.Unix()], true
		}
		act := baseline.ActivityOf(s, at, env.loc(), silentLookback, 1)
		res := baseline.Silent(act.LastSeen, at, act.ActiveDays, act.LongestGap, baseline.SilentConfig{Quiet: cands[a]})
		if !res.Silent {
			continue
		}
		name := a.String()
		if h, ok := cfg.HostByAddr(a); ok {
			name = h.Name + " (" + a.String() + ")"
		}
		out = append(out, Finding{
			Key:      key(d.Name(), a.String()),
			Detector: d.Name(),
			Severity: severity(cfg, d.Name()),
			Title:    fmt.Sprintf("%s %s silent for %s", role(cfg, a), name, spanText(res.Quiet)),
			Subject:  Subject{Host: a, Segment: segment(cfg, a)},
			Evidence: Evidence{
				Summary: fmt.Sprintf("no event since %s (%s ago at %s); active %d of the last 7 days, longest earlier gap %s, threshold %s",
					act.LastSeen.UTC().Format(tsFmt), res.Quiet.Round(time.Minute), at.UTC().Format(tsFmt),
					act.ActiveDays, act.LongestGap, res.Threshold),
				Window: TimeRange{From: lookW.From, To: at},
				Counts: map[string]float64{"quiet_hours": res.Quiet.Hours(), "threshold_hours": res.Threshold.Hours(),
					"active_days": float64(act.ActiveDays), "longest_gap_hours": act.LongestGap.Hours()},
			},
			FirstSeen: act.LastSeen, LastSeen: at,
		})
	}
	return out, nil
}

// spanText writes a long duration the way a person says it: "10d 20h", "30h" below two days.
func spanText(d time.Duration) string {
	h := int(d.Round(time.Hour) / time.Hour)
	if h < 48 {
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dd %dh", h/24, h%24)
}

// hostActivity is what shows a host alive in a bucket: connections it opened, or bytes on any
// of its connections. Others' attempts to reach it (a dead host's 0-byte SYN timeouts, router
// packet logs towards it) are not its activity.
func hostActivity(c stats.HostCounters) uint64 {
	return c.ConnsInitiated + c.BytesInitiated + c.BytesAccepted
}
