package detect

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// UnusualPortsDetector reports two things:
//   - allowed connections between an internal host and external addresses on a port that is
//     neither conventional for the host's role (ports.<role>, ports.default) nor allowed by a
//     flow rule between the host's segment and the internet: one finding per (host, port);
//   - external sources denied at least unusual_ports.min_denies times in the window on such a
//     port: one finding per source.
type UnusualPortsDetector struct{}

func (UnusualPortsDetector) Name() string { return DetectorUnusualPorts }

// usualPort says whether traffic between host (in role r, segment seg) and the internet on p
// is expected: conventional for the role or allowed by a flow in that direction.
func usualPort(cfg *policies.Config, host netip.Addr, client bool, p policies.Port) bool {
	if cfg.ConventionalPort(role(cfg, host), p) {
		return true
	}
	seg, ok := cfg.Segment(host)
	if !ok {
		return false
	}
	if client {
		return cfg.FlowAllowed(seg, policies.Internet, p)
	}
	return cfg.FlowAllowed(policies.Internet, seg, p)
}

func (d UnusualPortsDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	sev := severity(cfg, d.Name())
	pp, err := env.Stats.PeerPorts(ctx, netipZero, win(w), stats.Hourly)
	if err != nil {
		return nil, fmt.Errorf("peer ports: %w", err)
	}
	type hp struct {
		host  netip.Addr
		proto uint8
		port  uint16
	}
	type agg struct {
		conns, bytes float64
		client       bool
		peers        map[string]float64
	}
	groups := make(map[hp]*agg)
	for _, c := range pp {
		if c.Proto == 0 || !c.Peer.IsValid() {
			continue // overflow buckets have no port to judge
		}
		if _, own := cfg.DeviceAddress(c.Host); own {
			continue // traffic to the firewall itself (VPN headend, management) is not a host's
		}
		p := policies.Port{Proto: c.Proto, Num: c.Port}
		if c.Proto == policies.ProtoICMP {
			p.Num = 0
		}
		// PeerPorts merges both roles per port; judge each role that carried traffic.
		for _, client := range []bool{true, false} {
			conns := c.ConnsAccepted
			bytes := c.BytesAccepted
			if client {
				conns, bytes = c.ConnsInitiated, c.BytesInitiated
			}
			if conns == 0 || usualPort(cfg, c.Host, client, p) {
				continue
			}
			k := hp{c.Host, c.Proto, c.Port}
			g := groups[k]
			if g == nil {
				g = &agg{client: client, peers: make(map[string]float64)}
				groups[k] = g
			}
			g.conns += float64(conns)
			g.bytes += float64(bytes)
			g.peers[c.Peer.String()] += float64(conns)
		}
	}
	keys := make([]hp, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b hp) int {
		if c := a.host.Compare(b.host); c != 0 {
			return c
		}
		return int(a.port) - int(b.port)
	})
	var out []Finding
	for _, k := range keys {
		g := groups[k]
		port := portString(k.proto, k.port)
		top := topN(g.peers, 5)
		peer, _ := netip.ParseAddr(top[0].Key)
		dir := "to"
		if !g.client {
			dir = "from"
		}
		out = append(out, Finding{
			Key:      key(d.Name(), "allowed", k.host.String(), port),
			Detector: d.Name(),
			Severity: sev,
			Title:    fmt.Sprintf("%s (%s) has allowed traffic %s the internet on unusual port %s", k.host, role(cfg, k.host), dir, port),
			Subject:  Subject{Host: k.host, Peer: peer, Proto: k.proto, Port: k.port, Segment: segment(cfg, k.host) + "<->internet"},
			Evidence: Evidence{
				Summary: fmt.Sprintf("%.0f connections, %s %s %d external peer(s) on %s, not conventional for role %q and allowed by no flow",
					g.conns, human(g.bytes), dir, len(g.peers), port, role(cfg, k.host)),
				Window:   w,
				Counts:   map[string]float64{"connections": g.conns, "bytes": g.bytes, "peers": float64(len(g.peers))},
				TopPeers: top,
				Lines:    exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarPeer, A: k.host, B: peer}),
			},
			FirstSeen: w.From, LastSeen: w.To,
			Protected: cfg.IsProtected(peer),
		})
	}

	minDenies := uint64(max(1, cfg.Detectors.UnusualPorts.MinDenies))
	denies, burst, err := deniesByBurst(ctx, env, w, time.Duration(cfg.Detectors.UnusualPorts.Window), minDenies)
	if err != nil {
		return nil, err
	}
	for _, s := range denies {
		ports := make(map[string]float64)
		var n uint64
		var top stats.DeniedPort
		for _, p := range s.Ports {
			// min_denies within one unusual_ports.window: a burst, not the internet's
			// background noise spread over a day.
			if p.Proto == 0 || burst[denyKey{s.Src, p.Proto, p.Port}] < minDenies {
				continue
			}
			pt := policies.Port{Proto: p.Proto, Num: p.Port}
			if p.Proto == policies.ProtoICMP || cfg.ConventionalPort("", pt) {
				continue
			}
			ports[portString(p.Proto, p.Port)] = float64(p.Count)
			n += p.Count
			if p.Count > top.Count {
				top = p
			}
		}
		if len(ports) == 0 {
			continue
		}
		first, last := clampRange(s.First, s.Last, w)
		out = append(out, Finding{
			Key:      key(d.Name(), "denied", s.Src.String()),
			Detector: d.Name(),
			Severity: sev,
			Title:    fmt.Sprintf("%s repeatedly denied on unusual port(s)", s.Src),
			Subject:  Subject{Peer: s.Src, Proto: top.Proto, Port: top.Port, Segment: "internet"},
			Evidence: Evidence{
				Summary: fmt.Sprintf("%d denies of %s on %d unconventional port(s) with at least %d denies each within %s (%d denies in all); denied traffic: the device already stopped it",
					n, s.Src, len(ports), minDenies, burstSpan(cfg), s.Count),
				Window:   w,
				Counts:   map[string]float64{"denies": float64(n), "denies_total": float64(s.Count), "ports": float64(len(ports))},
				TopPorts: topN(ports, 10),
				Lines:    exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarDeny, A: s.Src}),
			},
			FirstSeen: first, LastSeen: last,
			Protected: cfg.IsProtected(s.Src),
		})
	}
	return out, nil
}

// PortScanDetector reports an external source denied on at least port_scan.distinct_ports
// distinct ports within one hourly bucket (the store's finest resolution, so the policy's
// shorter port_scan.window is met or understated, never missed).
type PortScanDetector struct{}

func (PortScanDetector) Name() string { return DetectorPortScan }

func (d PortScanDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	denies, err := env.Stats.Denies(ctx, netipZero, win(w), stats.Hourly)
	if err != nil {
		return nil, fmt.Errorf("denies: %w", err)
	}
	need := max(2, cfg.Detectors.PortScan.DistinctPorts)
	var out []Finding
	for _, s := range denies {
		if s.MaxPortsInBucket < need {
			continue
		}
		ports := make(map[string]float64, len(s.Ports))
		for _, p := range s.Ports {
			if p.Proto == 0 {
				ports["(more ports)"] += float64(p.Count)
				continue
			}
			ports[portString(p.Proto, p.Port)] = float64(p.Count)
		}
		first, last := clampRange(s.First, s.Last, w)
		out = append(out, Finding{
			Key:      key(d.Name(), s.Src.String()),
			Detector: d.Name(),
			Severity: severity(cfg, d.Name()),
			Title:    fmt.Sprintf("port scan from %s: %d distinct ports denied in one hour", s.Src, s.MaxPortsInBucket),
			Subject:  Subject{Peer: s.Src, Segment: "internet"},
			Evidence: Evidence{
				Summary: fmt.Sprintf("%s was denied %d times on %d distinct ports (at most %d in one hour; threshold %d)",
					s.Src, s.Count, len(s.Ports), s.MaxPortsInBucket, need),
				Window:   w,
				Counts:   map[string]float64{"denies": float64(s.Count), "distinct_ports": float64(len(s.Ports)), "max_ports_in_hour": float64(s.MaxPortsInBucket)},
				TopPorts: topN(ports, 10),
				Lines:    exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarDeny, A: s.Src}),
			},
			FirstSeen: first, LastSeen: last,
			Protected: cfg.IsProtected(s.Src),
		})
	}
	return out, nil
}

type denyKey struct {
	src   netip.Addr
	proto uint8
	port  uint16
}

func burstSpan(cfg *policies.Config) time.Duration {
	return max(time.Hour, time.Duration(cfg.Detectors.UnusualPorts.Window).Truncate(time.Hour))
}

// deniesByBurst returns the window's denies per external source and, per (source, port), the
// most denies in any span of the policy's window (whole hours: the store's resolution).
func deniesByBurst(ctx context.Context, env *Env, w TimeRange, span time.Duration, least uint64) ([]stats.DenySource, map[denyKey]uint64, error) {
	denies, err := env.Stats.Denies(ctx, netipZero, win(w), stats.Hourly)
	if err != nil {
		return nil, nil, fmt.Errorf("denies: %w", err)
	}
	span = max(time.Hour, span.Truncate(time.Hour))
	burst := make(map[denyKey]uint64)
	from := w.From.Truncate(time.Hour)
	for _, s := range denies {
		// Only a source with least denies on one port in the whole window can have a burst:
		// the per-span look is per source (cheap), not per span over every source.
		if len(s.Ports) == 0 || s.Ports[0].Count < least {
			continue
		}
		for t := from; t.Before(w.To); t = t.Add(span) {
			ds, err := env.Stats.Denies(ctx, s.Src, stats.Window{From: t, To: t.Add(span)}, stats.Hourly)
			if err != nil {
				return nil, nil, fmt.Errorf("denies %s: %w", s.Src, err)
			}
			for _, d := range ds {
				for _, p := range d.Ports {
					k := denyKey{d.Src, p.Proto, p.Port}
					burst[k] = max(burst[k], p.Count)
				}
			}
		}
	}
	return denies, burst, nil
}
