package detect

import (
	"context"
	"fmt"

	"github.com/firebreak-dev/firebreak/collector/stats"
)

// DNSUnapprovedDetector reports internal hosts sending DNS (port 53) to a resolver that is not
// in dns.approved_resolvers, one finding per (client, resolver) seen in the window.
type DNSUnapprovedDetector struct{}

func (DNSUnapprovedDetector) Name() string { return DetectorDNSUnapproved }

func (d DNSUnapprovedDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	rs, err := env.Stats.Resolvers(ctx, netipZero)
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	var out []Finding
	for _, r := range rs {
		if cfg.ApprovedResolver(r.Resolver) || !overlaps(r.First, r.Last, w) {
			continue
		}
		first, last := clampRange(r.First, r.Last, w)
		out = append(out, Finding{
			Key:      key(d.Name(), r.Client.String(), r.Resolver.String()),
			Detector: d.Name(),
			Severity: severity(cfg, d.Name()),
			Title:    fmt.Sprintf("%s sends DNS to unapproved resolver %s", r.Client, r.Resolver),
			Subject:  Subject{Host: r.Client, Peer: r.Resolver, Proto: 17, Port: 53, Segment: segment(cfg, r.Client) + "->" + segment(cfg, r.Resolver)},
			Evidence: Evidence{
				Summary: fmt.Sprintf("%d DNS queries from %s to %s since %s (last %s); approved resolvers: %v",
					r.Count, r.Client, r.Resolver, r.First.UTC().Format(tsFmt), r.Last.UTC().Format(tsFmt), cfg.DNS.ApprovedResolvers),
				Window: w,
				Counts: map[string]float64{"queries_total": float64(r.Count)},
				Lines:  exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarDNS, A: r.Client, B: r.Resolver}),
			},
			FirstSeen: first, LastSeen: last,
			Protected: cfg.IsProtected(r.Resolver),
		})
	}
	return out, nil
}
