package detect

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
)

// NewVPNSourceDetector reports a VPN login from a source address first seen for that user
// inside the window; addresses in one mobile carrier's range (vpn.carriers) are one source,
// and a user's first-ever login (no known source yet) is not reported. It stays quiet until the store holds new_vpn_source.learning_days of VPN
// history before the window (everything is new at first), and it judges by first-seen times,
// so re-running an old window gives the same answer.
type NewVPNSourceDetector struct{}

func (NewVPNSourceDetector) Name() string { return DetectorNewVPNSource }

func (d NewVPNSourceDetector) Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error) {
	cfg := env.Policy
	srcs, err := env.Stats.VPNSources(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("vpn sources: %w", err)
	}
	if len(srcs) == 0 {
		return nil, nil
	}
	oldest := srcs[0].First
	byUser := make(map[string][]stats.VPNSource)
	for _, s := range srcs {
		if s.First.Before(oldest) {
			oldest = s.First
		}
		byUser[s.User] = append(byUser[s.User], s)
	}
	learn := time.Duration(cfg.Detectors.NewVPNSource.LearningDays) * 24 * time.Hour
	if w.From.Sub(oldest) < learn {
		env.log().Debug("new_vpn_source: still learning", "history", w.From.Sub(oldest))
		return nil, nil
	}
	var out []Finding
	users := sortedKeys(byUser)
	for _, user := range users {
		list := byUser[user]
		// A source is the address, or for a mobile carrier's CGNAT range the carrier: a
		// roaming user gets a new address nearly every session, one carrier is one source.
		srcKey := func(a netip.Addr) string {
			if c, ok := cfg.Carrier(a); ok {
				return "carrier " + c.Name
			}
			return a.String()
		}
		known := map[string]bool{}
		for _, s := range list {
			if s.First.Before(w.From) {
				known[srcKey(s.Src)] = true
			}
		}
		if len(known) == 0 {
			// A first-ever login (a new hire, a new account) has no known source to differ
			// from: new_vpn_source is about a known user's new place.
			env.log().Debug("new_vpn_source: first login of a user", "user", user)
			continue
		}
		knownList := sortedKeys(known)
		reported := map[string]bool{}
		for _, s := range list {
			if s.First.Before(w.From) || !s.First.Before(w.To) {
				continue
			}
			k := srcKey(s.Src)
			if known[k] || reported[k] {
				continue
			}
			reported[k] = true
			out = append(out, Finding{
				Key:      key(d.Name(), user, k),
				Detector: d.Name(),
				Severity: severity(cfg, d.Name()),
				Title:    fmt.Sprintf("VPN user %q logged in from new source %s", user, s.Src),
				Subject:  Subject{User: user, Peer: s.Src, Segment: segment(cfg, s.Src)},
				Evidence: Evidence{
					Summary: fmt.Sprintf("first login of %q from %s (%s) at %s; known sources before the window: %v", user, s.Src, k, s.First.UTC().Format(tsFmt), knownList),
					Window:  w,
					Counts:  map[string]float64{"logins_from_source": float64(s.Count), "known_sources": float64(len(known))},
					Lines:   exemplars(ctx, env, stats.ExemplarKey{Kind: stats.ExemplarVPN, User: user, A: s.Src}),
				},
				FirstSeen: s.First, LastSeen: s.First,
				Protected: cfg.IsProtected(s.Src),
			})
		}
	}
	return out, nil
}
