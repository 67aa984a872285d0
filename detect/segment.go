package detect

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// SegmentViolationDetector reports permitted traffic between two internal hosts in segments
// that no flow rule allows on that port, from the 2921 ACL logs and the ASA alike; one finding
// per (client, server) with every offending port in the evidence. Denied-only pairs are left
// out: the device already enforced the policy.
type SegmentViolationDetector struct{}

func (SegmentViolationDetector) Name() string { return DetectorSegmentViolation }

type pairGroup struct {
	client, server netip.Addr
	first, last    time.Time
	permitted      uint64
	denied         uint64
	ports          map[string]float64
	families       map[string]bool
}

// groupPairs collects the pairs active in w for which keep is true, by (client, server).
func groupPairs(pairs []stats.Pair, w TimeRange, keep func(p stats.Pair) bool) []*pairGroup {
	groups := make(map[[2]netip.Addr]*pairGroup)
	for _, p := range pairs {
		if !overlaps(p.First, p.Last, w) || !keep(p) {
			continue
		}
		k := [2]netip.Addr{p.Client, p.Server}
		g := groups[k]
		if g == nil {
			g = &pairGroup{client: p.Client, server: p.Server, first: p.First, last: p.Last,
				ports: make(map[string]float64), families: make(map[string]bool)}
			groups[k] = g
		}
		g.first = minTime(g.first, p.First)
		g.last = maxTime(g.last, p.Last)
		g.permitted += p.Permitted
		g.denied += p.Denied
		g.ports[portString(p.Proto, p.Port)] += float64(p.Permitted + p.Denied)
		g.families[p.Family.String()] = true
	}
	out := make([]*pairGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *pairGroup) int {
		if c := a.client.Compare(b.client); c != 0 {
			return c
		}
		return a.server.Compare(b.server)
	})
	return out
}

func (d SegmentViolationDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	pairs, err := env.Stats.Pairs(ctx, w.From)
	if err != nil {
		return nil, fmt.Errorf("pairs: %w", err)
	}
	// The ASA records connections with their direction: a router-logged pair whose reverse the
	// ASA recorded (and not the pair itself) is that connection's replies.
	asa := map[[2]netip.Addr]bool{}
	for _, p := range pairs {
		if p.Family == ciscolog.FamilyASA && overlaps(p.First, p.Last, w) {
			asa[[2]netip.Addr{p.Client, p.Server}] = true
		}
	}
	groups := groupPairs(pairs, w, func(p stats.Pair) bool {
		if p.Permitted == 0 {
			return false
		}
		if p.Family == ciscolog.FamilyIOS && asa[[2]netip.Addr{p.Server, p.Client}] && !asa[[2]netip.Addr{p.Client, p.Server}] {
			return false
		}
		if p.Proto == policies.ProtoICMP && cfg.ICMPDiagnosticsAllowed() {
			return false // pings and other diagnostics (detectors.segment_violation.icmp)
		}
		from, ok1 := cfg.Segment(p.Client)
		to, ok2 := cfg.Segment(p.Server)
		if !ok1 || !ok2 {
			return true // internal space in no network: nothing allows it
		}
		return !cfg.FlowAllowed(from, to, policies.Port{Proto: p.Proto, Num: p.Port})
	})
	var out []Finding
	for _, g := range groups {
		seg := segment(cfg, g.client) + "->" + segment(cfg, g.server)
		top := topN(g.ports, 10)
		first, last := clampRange(g.first, g.last, w)
		f := Finding{
			Key:      key(d.Name(), g.client.String(), g.server.String()),
			Detector: d.Name(),
			Severity: severity(cfg, d.Name()),
			Title:    fmt.Sprintf("%s talks to %s across segments %s", g.client, g.server, seg),
			Subject:  Subject{Host: g.client, Peer: g.server, Segment: seg},
			Evidence: Evidence{
				Summary: fmt.Sprintf("%d permitted and %d denied connections %s -> %s on %d port(s) not allowed by any flow (seen by %v), %s to %s; initiator: %s",
					g.permitted, g.denied, g.client, g.server, len(g.ports), sortedKeys(g.families), g.first.UTC().Format(tsFmt), g.last.UTC().Format(tsFmt), directionRule(g)),
				Window:   w,
				Counts:   map[string]float64{"permitted": float64(g.permitted), "denied": float64(g.denied), "ports": float64(len(g.ports))},
				TopPorts: top,
				Lines:    exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarPair, A: g.client, B: g.server}),
			},
			FirstSeen: first, LastSeen: last,
			Protected: cfg.IsProtected(g.client),
		}
		if len(top) > 0 {
			if p, err := policies.ParsePort(top[0].Key); err == nil {
				f.Subject.Proto, f.Subject.Port = p.Proto, p.Num
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// SANCrossingDetector reports traffic to or from a SAN network that the ASA logged: storage
// traffic should never cross the firewall. One finding per (client, server).
type SANCrossingDetector struct{}

func (SANCrossingDetector) Name() string { return DetectorSANCrossing }

func (d SANCrossingDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	pairs, err := env.Stats.Pairs(ctx, w.From)
	if err != nil {
		return nil, fmt.Errorf("pairs: %w", err)
	}
	groups := groupPairs(pairs, w, func(p stats.Pair) bool {
		if p.Family != ciscolog.FamilyASA || (role(cfg, p.Server) != policies.RoleSAN && role(cfg, p.Client) != policies.RoleSAN) {
			return false
		}
		// What the policy allows across the ASA (management polling the arrays' management
		// addresses, the VM hosts' storage network) is intended, not a crossing to report.
		from, ok1 := cfg.Segment(p.Client)
		to, ok2 := cfg.Segment(p.Server)
		return !ok1 || !ok2 || !cfg.FlowAllowed(from, to, policies.Port{Proto: p.Proto, Num: p.Port})
	})
	var out []Finding
	for _, g := range groups {
		seg := segment(cfg, g.client) + "->" + segment(cfg, g.server)
		first, last := clampRange(g.first, g.last, w)
		out = append(out, Finding{
			Key:      key(d.Name(), g.client.String(), g.server.String()),
			Detector: d.Name(),
			Severity: severity(cfg, d.Name()),
			Title:    fmt.Sprintf("SAN traffic %s -> %s crosses the ASA", g.client, g.server),
			Subject:  Subject{Host: g.client, Peer: g.server, Segment: seg},
			Evidence: Evidence{
				Summary: fmt.Sprintf("the ASA logged %d permitted and %d denied connections %s -> %s (%s) that no flow allows, %s to %s",
					g.permitted, g.denied, g.client, g.server, seg, g.first.UTC().Format(tsFmt), g.last.UTC().Format(tsFmt)),
				Window:   w,
				Counts:   map[string]float64{"permitted": float64(g.permitted), "denied": float64(g.denied)},
				TopPorts: topN(g.ports, 10),
				Lines:    exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarPair, A: g.client, B: g.server}),
			},
			FirstSeen: first, LastSeen: last,
			Protected: cfg.IsProtected(g.client),
		})
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// directionRule says how the pair's initiator was decided, for evidence: the ASA logs
// connections with their direction; router ACL logs are packets, read by ports.
func directionRule(g *pairGroup) string {
	if g.families[ciscolog.FamilyIOS.String()] {
		return "router packet logs, initiator by ports (a packet from a service port to an ephemeral port is a reply) and by the ASA's connection records of the reverse direction"
	}
	return "ASA connection records"
}
