package detect

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// PrinterEgressDetector reports printers and print servers whose traffic with external
// addresses that the policy does not allow (no flow from their segment to the internet on
// that port) exceeds their role's weekly limit (printer_egress.max_bytes_per_week_by_role,
// else max_bytes_per_week; any byte when the limit is 0) over the week ending with the
// window. Allowed call-home stays quiet; a print server's slow vendor trickle is judged by
// its own, smaller limit. One finding per role: the situation is "this role's devices talk
// to the internet", with every host in the evidence.
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
	}
	type group struct {
		hosts map[netip.Addr]*agg
		limit float64
	}
	groups := map[string]*group{}
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
		seg, _ := cfg.Segment(h.Host)
		g := &agg{peers: make(map[string]float64), ports: make(map[string]float64)}
		for _, c := range pp {
			p := policies.Port{Proto: c.Proto, Num: c.Port}
			if c.Proto != 0 && seg != "" && cfg.FlowAllowed(seg, policies.Internet, p) {
				continue // call-home the policy allows
			}
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
		limit := float64(cfg.PrinterLimit(r))
		if !(g.bytes > limit || (limit == 0 && g.conns > 0)) {
			continue
		}
		// Only hosts active in the window itself are reported, so a quiet week stays quiet.
		recent, err := env.Stats.Peers(ctx, h.Host, win(w), stats.Hourly)
		if err != nil {
			return nil, fmt.Errorf("peers %s: %w", h.Host, err)
		}
		if len(recent) == 0 {
			continue
		}
		gr := groups[r]
		if gr == nil {
			gr = &group{hosts: map[netip.Addr]*agg{}, limit: limit}
			groups[r] = gr
		}
		gr.hosts[h.Host] = g
	}
	var out []Finding
	for _, r := range sortedKeys(groups) {
		gr := groups[r]
		var bytes, conns float64
		peers, ports, hostBytes := map[string]float64{}, map[string]float64{}, map[string]float64{}
		for a, g := range gr.hosts {
			bytes += g.bytes
			conns += g.conns
			hostBytes[a.String()] = g.bytes
			for k, v := range g.peers {
				peers[k] += v
			}
			for k, v := range g.ports {
				ports[k] += v
			}
		}
		topHosts := topN(hostBytes, 10)
		top := topN(peers, 5)
		host, _ := netip.ParseAddr(topHosts[0].Key)
		peer, _ := netip.ParseAddr(top[0].Key)
		who := fmt.Sprintf("%s %s", r, host)
		if n := len(gr.hosts); n > 1 {
			who = fmt.Sprintf("%d %s (top %s)", n, r, host)
		}
		out = append(out, Finding{
			Key:      key(d.Name(), r),
			Detector: d.Name(),
			Severity: severity(cfg, d.Name()),
			Title:    fmt.Sprintf("%s send %s a week to external addresses no flow allows", who, human(bytes)),
			Subject:  Subject{Host: host, Peer: peer, Segment: segment(cfg, host) + "->internet"},
			Evidence: Evidence{
				Summary: fmt.Sprintf("%s in %.0f connections from %d host(s) of role %s to %d external peer(s) over the 7 days to %s, on ports no flow allows (limit %s a week per host)",
					human(bytes), conns, len(gr.hosts), r, len(peers), w.To.UTC().Format(tsFmt), human(gr.limit)),
				Window:   week,
				Counts:   map[string]float64{"bytes_week": bytes, "connections_week": conns, "hosts": float64(len(gr.hosts)), "peers": float64(len(peers)), "limit_bytes_week": gr.limit},
				TopPeers: top,
				TopPorts: topN(ports, 5),
				TopHosts: topHosts,
				Lines:    exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarPeer, A: host, B: peer}),
			},
			FirstSeen: week.From, LastSeen: w.To,
			Protected: cfg.IsProtected(peer),
		})
	}
	return out, nil
}
