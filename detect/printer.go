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

// PrinterEgressDetector reports printers and print servers that exchanged more than
// printer_egress.max_bytes_per_week with external addresses over the week ending with the
// window (any byte when the limit is 0). One finding per host.
type PrinterEgressDetector struct{}

func (PrinterEgressDetector) Name() string { return DetectorPrinterEgress }

func (d PrinterEgressDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	week := TimeRange{From: w.To.Add(-7 * 24 * time.Hour), To: w.To}
	seen, err := env.Stats.Hosts(ctx)
	if err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	type agg struct {
		bytes, conns float64
		peers, ports map[string]float64
		inWindow     bool
	}
	hosts := make(map[netip.Addr]*agg)
	// Per printer rather than one site-wide scan: printers are few, the site's peers many.
	for _, h := range seen {
		r := role(cfg, h.Host)
		if (r != policies.RolePrinters && r != policies.RolePrintServers) || h.Last.Before(week.From) || !h.First.Before(w.To) {
			continue
		}
		pp, err := env.Stats.PeerPorts(ctx, h.Host, win(week), stats.Hourly)
		if err != nil {
			return nil, fmt.Errorf("peer ports %s: %w", h.Host, err)
		}
		if len(pp) == 0 {
			continue
		}
		g := &agg{peers: make(map[string]float64), ports: make(map[string]float64)}
		hosts[h.Host] = g
		for _, c := range pp {
			b := float64(c.Bytes())
			g.bytes += b
			g.conns += float64(c.ConnsInitiated + c.ConnsAccepted)
			peer := "(other peers)"
			if c.Peer.IsValid() {
				peer = c.Peer.String()
			}
			g.peers[peer] += b
			if c.Proto != 0 {
				g.ports[portString(c.Proto, c.Port)] += b
			}
		}
		// Only hosts active in the window itself are reported, so a quiet week stays quiet.
		recent, err := env.Stats.Peers(ctx, h.Host, win(w), stats.Hourly)
		if err != nil {
			return nil, fmt.Errorf("peers %s: %w", h.Host, err)
		}
		g.inWindow = len(recent) > 0
	}
	limit := float64(cfg.Detectors.PrinterEgress.MaxBytesPerWeek)
	addrs := make([]netip.Addr, 0, len(hosts))
	for a, g := range hosts {
		if g.inWindow && (g.bytes > limit || (limit == 0 && g.conns > 0)) {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	var out []Finding
	for _, a := range addrs {
		g := hosts[a]
		top := topN(g.peers, 5)
		peer, _ := netip.ParseAddr(top[0].Key)
		out = append(out, Finding{
			Key:      key(d.Name(), a.String()),
			Detector: d.Name(),
			Severity: severity(cfg, d.Name()),
			Title:    fmt.Sprintf("%s %s sends %s a week to external addresses", role(cfg, a), a, human(g.bytes)),
			Subject:  Subject{Host: a, Peer: peer, Segment: segment(cfg, a) + "->internet"},
			Evidence: Evidence{
				Summary: fmt.Sprintf("%s in %.0f connections with %d external peer(s) over the 7 days to %s (limit %s a week)",
					human(g.bytes), g.conns, len(g.peers), w.To.UTC().Format(tsFmt), human(limit)),
				Window:   week,
				Counts:   map[string]float64{"bytes_week": g.bytes, "connections_week": g.conns, "peers": float64(len(g.peers)), "limit_bytes_week": limit},
				TopPeers: top,
				TopPorts: topN(g.ports, 5),
				Lines:    exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarPeer, A: a, B: peer}),
			},
			FirstSeen: week.From, LastSeen: w.To,
			Protected: cfg.IsProtected(peer),
		})
	}
	return out, nil
}
