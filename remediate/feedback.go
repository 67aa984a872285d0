package remediate

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
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
	// DenyLogs counts the deny logs against ACL since the push (from the
	// start of the push's hour: the statistics are hourly) of the sources
	// of the finding flows that ACL drops (the target itself for a block of
	// traffic it opens), for single-address targets.
	DenyLogs uint64 `json:"deny_logs"`
	// Hits is the hit count of the ACE that actually matches the finding's
	// flows (the egress deny on the inside ACL for an exfiltration block,
	// the outside deny for a scan) from `show access-list`, for the target's
	// expanded element; HitsKnown is false when the device could not be
	// asked (HitsError says why) or the ACE is missing (Missing).
	Hits      uint64 `json:"hits"`
	HitsKnown bool   `json:"hits_known"`
	Missing   bool   `json:"missing,omitempty"`
	HitsError string `json:"hits_error,omitempty"`
	Elements  int    `json:"elements,omitempty"` // of ACL, from the device
	// Conns counts the lines of `show conn address TARGET`: connections
	// left after the push's clear (0 is what a working block shows).
	Conns      int  `json:"conns"`
	ConnsKnown bool `json:"conns_known"`
}

// matchingACE is the ACL and ACE the finding flows of p meet after the
// change: by its stored effect when a finding flow is dropped by an ACL,
// else the outside deny (block) or the source deny (quarantine).
func matchingACE(p Proposal, dev *policies.Device) (acl string, ace asaconfig.ACE, toTarget bool) {
	ace = asaconfig.ACE{Action: asaconfig.Deny, Protocol: asaconfig.ProtoIP, Src: asaconfig.AnyAddr(), Dst: asaconfig.AnyAddr(), TimeRange: tempRange(p)}
	for _, fe := range p.Effect.FindingFlows() {
		if fe.After.Action != datapath.Drop || fe.After.Rule == nil || fe.After.Rule.Line == 0 {
			continue
		}
		acl = fe.After.Rule.ACL
		toTarget = p.Target.Contains(fe.Flow.Dst)
		break
	}
	switch {
	case p.Kind == KindBlock && ace.TimeRange == "":
		if acl == "" {
			acl = dev.OutsideACL
		}
		if toTarget {
			ace.Dst = asaconfig.GroupAddr(p.Group)
		} else {
			ace.Src = asaconfig.GroupAddr(p.Group)
		}
	default:
		if acl == "" {
			acl = dev.InsideACL
			if p.Kind == KindBlock {
				acl = dev.OutsideACL
			}
		}
		if toTarget {
			ace.Dst = asaconfig.PrefixAddr(p.Target)
		} else {
			ace.Src = asaconfig.PrefixAddr(p.Target)
		}
	}
	return acl, ace, toTarget
}

// tempRange is the time-range of p's applied denies ("" when they have no
// end on the device).
func tempRange(p Proposal) string {
	applied, _ := p.AppliedChanges()
	for _, c := range applied {
		if t, ok := c.(asaconfig.CreateTimeRange); ok {
			return t.Name
		}
	}
	return ""
}

// Feedback reports deny logs, hit counts and remaining connections of
// applied proposal id. The device is asked only when a Pusher is
// configured.
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
	acl, ace, toTarget := matchingACE(p, dev)
	fb.ACL = acl
	if p.Effect == nil && m.pusher != nil {
		// No stored effect (an old proposal): the ACL bound to the
		// interface wins over the policy's name.
		if running, err := m.pusher.RunningConfig(ctx, dev); err == nil {
			if cfg, err := asaconfig.Parse([]byte(running)); err == nil {
				iface := p.Interface
				if p.Kind == KindQuarantine {
					iface = m.quarantineOf(p, cfg).Interface
				}
				if a, ok := cfg.InboundACL(iface); ok {
					fb.ACL = a
				}
			}
		}
	}
	if a, ok := hostPrefixOf(p.Target); ok {
		srcs := []netip.Addr{a}
		if toTarget {
			srcs = nil
			for _, f := range p.Flows {
				if p.Target.Contains(f.Dst) && !slices.Contains(srcs, f.Src) {
					srcs = append(srcs, f.Src)
				}
			}
		}
		for _, src := range srcs {
			counts, err := m.st.DenyACLs(ctx, src, stats.Window{From: p.AppliedAt.Truncate(time.Hour)}, stats.Hourly)
			if err != nil {
				return fb, fmt.Errorf("deny logs of %s: %w", src, err)
			}
			for _, c := range counts {
				if c.ACL == fb.ACL {
					fb.DenyLogs += c.Count
				}
			}
		}
	}
	if m.pusher == nil {
		fb.HitsError = ErrNoPusher.Error()
		return fb, nil
	}
	if a, ok := hostPrefixOf(p.Target); ok && a.Is4() {
		if out, err := m.pusher.Show(ctx, dev, "show conn address "+a.String()); err == nil {
			fb.Conns, fb.ConnsKnown = countConns(out), true
		}
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
		switch {
		case p.Kind == KindBlock && ace.TimeRange == "" && toTarget:
			fb.Hits, fb.HitsKnown = line.HitsTo(p.Target)
		case p.Kind == KindBlock && ace.TimeRange == "":
			fb.Hits, fb.HitsKnown = line.HitsFrom(p.Target)
		default:
			fb.Hits, fb.HitsKnown = line.Hits, true
		}
		fb.Missing = !fb.HitsKnown
	}
	return fb, nil
}

// countConns counts the connection lines of `show conn` output (the
// "N in use, M most used" header aside).
func countConns(out string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && (strings.EqualFold(f[0], "TCP") || strings.EqualFold(f[0], "UDP") || strings.EqualFold(f[0], "ICMP") ||
			strings.EqualFold(f[0], "SCTP") || strings.EqualFold(f[0], "GRE") || strings.EqualFold(f[0], "ESP")) {
			n++
		}
	}
	return n
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
