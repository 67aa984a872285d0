package remediate

import (
	"context"
	"fmt"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// Feedback tells whether an applied block or quarantine works.
type Feedback struct {
	Proposal  string        `json:"proposal"`
	Kind      Kind          `json:"kind"`
	Device    string        `json:"device"`
	Target    string        `json:"target"`
	ACL       string        `json:"acl"`
	AppliedAt time.Time     `json:"applied_at"`
	Age       time.Duration `json:"age"`
	ExpiresAt time.Time     `json:"expires_at,omitzero"`
	// DenyLogs counts the deny logs of the target against ACL since the push
	// (from the start of the push's hour: the statistics are hourly), for a
	// single-address block.
	DenyLogs uint64 `json:"deny_logs"`
	// Hits is the hit count of the managed ACE for the target from `show
	// access-list` (the target's expanded element for a block); HitsKnown is
	// false when the device could not be asked (HitsError says why) or the
	// ACE is missing (Missing).
	Hits      uint64 `json:"hits"`
	HitsKnown bool   `json:"hits_known"`
	Missing   bool   `json:"missing,omitempty"`
	HitsError string `json:"hits_error,omitempty"`
	Elements  int    `json:"elements,omitempty"` // of ACL, from the device
}

// Feedback reports deny logs and hit counts of applied proposal id. The
// device is asked only when a Pusher is configured.
func (m *Manager) Feedback(ctx context.Context, id string) (Feedback, error) {
	p, err := m.Get(ctx, id)
	if err != nil {
		return Feedback{}, err
	}
	if p.State != StateApplied || (p.Kind != KindBlock && p.Kind != KindQuarantine) {
		return Feedback{}, fmt.Errorf("%s is %s %s: feedback is for applied blocks and quarantines: %w", p.ID, p.State, p.Kind, ErrTransition)
	}
	dev, err := m.device(p.Device)
	if err != nil {
		return Feedback{}, err
	}
	now := m.now()
	fb := Feedback{Proposal: p.ID, Kind: p.Kind, Device: p.Device, Target: p.Target.String(),
		AppliedAt: p.AppliedAt, Age: now.Sub(p.AppliedAt), ExpiresAt: p.ExpiresAt}
	ace := asaconfig.ACE{Action: asaconfig.Deny, Protocol: asaconfig.ProtoIP, Dst: asaconfig.AnyAddr()}
	if p.Kind == KindBlock {
		fb.ACL = dev.OutsideACL
		ace.Src = asaconfig.GroupAddr(p.Group)
	} else {
		fb.ACL = dev.InsideACL
		ace.Src = asaconfig.HostAddr(p.Target.Addr())
	}
	if m.pusher != nil {
		// The ACL actually bound to the interface wins over the policy's name.
		if running, err := m.pusher.RunningConfig(ctx, dev); err == nil {
			if cfg, err := asaconfig.Parse([]byte(running)); err == nil {
				iface := p.Interface
				if p.Kind == KindQuarantine {
					iface = m.quarantineOf(p, cfg).Interface
				}
				if acl, ok := cfg.InboundACL(iface); ok {
					fb.ACL = acl
				}
			}
		}
	}
	if a, ok := hostPrefixOf(p.Target); ok && p.Kind == KindBlock {
		counts, err := m.st.DenyACLs(ctx, a, stats.Window{From: p.AppliedAt.Truncate(time.Hour)}, stats.Hourly)
		if err != nil {
			return fb, fmt.Errorf("deny logs of %s: %w", a, err)
		}
		for _, c := range counts {
			if c.ACL == fb.ACL {
				fb.DenyLogs += c.Count
			}
		}
	}
	if m.pusher == nil {
		fb.HitsError = ErrNoPusher.Error()
		return fb, nil
	}
	out, err := m.pusher.Show(ctx, dev, "show access-list "+fb.ACL)
	if err != nil {
		fb.HitsError = err.Error()
		return fb, nil
	}
	acls, err := asaconfig.ParseShowAccessList([]byte(out))
	if err != nil {
		fb.HitsError = err.Error()
		return fb, nil
	}
	for _, a := range acls {
		if a.Name != fb.ACL {
			continue
		}
		fb.Elements = a.Elements
		line, ok := a.Find(ace)
		if !ok {
			fb.Missing = true
			return fb, nil
		}
		if p.Kind == KindBlock {
			fb.Hits, fb.HitsKnown = line.HitsFrom(p.Target)
			fb.Missing = !fb.HitsKnown
		} else {
			fb.Hits, fb.HitsKnown = line.Hits, true
		}
	}
	return fb, nil
}

// Active lists applied blocks and quarantines, oldest first.
func (m *Manager) Active(ctx context.Context) ([]Proposal, error) {
	all, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Proposal
	for _, p := range all {
		if p.State == StateApplied && (p.Kind == KindBlock || p.Kind == KindQuarantine) {
			out = append(out, p)
		}
	}
	return out, nil
}
