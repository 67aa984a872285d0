package remediate

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// Origins of a proposal.
const (
	OriginDetect = ""       // from findings (Propose)
	OriginManual = "manual" // a person asked for it (Block, Unblock)
)

// Errors of manual blocks.
var (
	// ErrRefused: the target is protected or not blockable; the refusal is stored as a
	// rejected proposal with the reason, like a detector's.
	ErrRefused = errors.New("block refused")
	// ErrNoBlock: no applied block of that target to remove.
	ErrNoBlock = errors.New("no applied block")
)

// ManualBlock is a person's request to block an external address or prefix.
type ManualBlock struct {
	Target   netip.Prefix  // masked; a host is a /32 or /128
	Duration time.Duration // 0: the policy's remediation.block_duration
	Reason   string        // required: kept with the proposal and in the audit log
}

// Block stores a manual block proposal of req.Target on the default ASA, proposed by who.
// It goes through what a detector's block goes through: the policy's protections and
// bounds (checkTarget: protected list, management networks, resolvers, device addresses,
// the prefix-length bound), protection by class (protect.go: services, carriers, VPN
// sources, RFC 6890, other forms, the outside subnet), and the effect check at every dry
// run and approval. A manual block has no flows of its own, so it is judged on synthetic
// ones (manualFlows): a connection from the target to a site host, and one from a host of
// each inside network to the target; the block denies the target as source on the outside
// ACL and as destination on the interfaces those hosts enter by, and must drop them all
// without changing an allowed, management or DNS flow. A refused target is stored as a
// rejected proposal and returned with an error wrapping ErrRefused. An open or applied
// block of the same target is returned as is (created false).
func (m *Manager) Block(ctx context.Context, who string, req ManualBlock, running *asaconfig.Config) (p Proposal, created bool, err error) {
	t := req.Target
	if !t.IsValid() || t != t.Masked() || t.Addr().Is4In6() || t.Addr().Zone() != "" {
		return Proposal{}, false, fmt.Errorf("block target %s: give an address or a network with no host bits: %w", t, asaconfig.ErrBadValue)
	}
	if strings.TrimSpace(req.Reason) == "" {
		return Proposal{}, false, errors.New("block: a reason is required")
	}
	if req.Duration < 0 {
		return Proposal{}, false, fmt.Errorf("block: negative duration %s", req.Duration)
	}
	dev, err := m.device("")
	if err != nil {
		return Proposal{}, false, err
	}
	now := m.now()
	g := m.newGuard(ctx, dev.OutsideInterface, running)
	p = Proposal{Kind: KindBlock, Device: dev.Name, Target: t, Interface: dev.OutsideInterface, Group: dev.ObjectGroup,
		Origin: OriginManual, Reason: "manual block: " + oneLine(req.Reason), CreatedAt: now, ProposedBy: who}
	p.Duration = req.Duration
	if p.Duration == 0 {
		p.Duration = m.duration(KindBlock)
	}
	if m.pol.Remediation.UseShun && t.IsSingleIP() && t.Addr().Is4() {
		p.Shun, p.ShunFor = true, min(time.Duration(m.pol.Remediation.ShunDuration), p.Duration)
	}
	p.Flows = m.manualFlows(t, running)
	p.Direction = direction(t, p.Flows)
	to, action, comment := StateProposed, ActionPropose, p.Reason
	refusal := m.checkTarget(t, running)
	if refusal == nil {
		refusal = g.protect(KindBlock, t)
	}
	if refusal == nil {
		refusal = m.internalTarget(t)
	}
	if refusal != nil {
		p.Refusal = refusal.Error()
		to, action, comment = StateRejected, ActionRefuse, "refused: "+refusal.Error()
	}
	err = m.st.Update(ctx, func(tx *stats.RecordTx) error {
		all, err := listTx(tx)
		if err != nil {
			return err
		}
		key := p.targetKey()
		for i := len(all) - 1; i >= 0; i-- {
			q := all[i]
			if q.targetKey() == key && (q.State.Open() || q.State == StateApplied) {
				p, created = q, false
				return nil
			}
		}
		id, seq, err := nextID(tx)
		if err != nil {
			return err
		}
		p.ID, p.Seq = id, seq
		created = true
		if to == StateProposed && running != nil {
			// With the device's config, the effect decides now (the plan needs the id).
			d, err := m.dryRunConfig(ctx, p, running)
			if err != nil {
				return err
			}
			p.Effect = d.Effect
			if eerr := d.Effect.Err(); eerr != nil {
				p.Refusal = eerr.Error()
				to, action, comment = StateRejected, ActionRefuse, "refused: "+eerr.Error()
			}
		}
		_, err = move(tx, &p, to, action, who, comment, now)
		return err
	})
	if err != nil {
		return Proposal{}, false, fmt.Errorf("block: %w", err)
	}
	if created && p.State == StateRejected {
		return p, true, fmt.Errorf("%s: %w: %s", p.ID, ErrRefused, p.Refusal)
	}
	return p, created, nil
}

// internalTarget refuses a target in the site's own address space: a block is for outside
// addresses (an internal host is quarantined, from its finding).
func (m *Manager) internalTarget(t netip.Prefix) error {
	if n, ok := m.pol.Classify(t.Addr()); ok {
		return fmt.Errorf("%s is in the site's network %s (%s): a block is for external addresses", t, n.Name, n.Role)
	}
	if m.pol.IsInternal(t.Addr()) || m.pol.IsInternalPrefix(t) {
		return fmt.Errorf("%s is in the site's internal address space: a block is for external addresses", t)
	}
	return nil
}

// manualFlows are the synthetic flows a manual block is judged on: from a host of each
// site network (one per inside interface when cfg is given, which skips networks routed to
// the target's own interface; the VPN pool is left out) to the target on tcp/443, and from
// the target to the first of those hosts on tcp/443. At most MaxFindingFlows. None when the
// site has no network of the target's family (then only the protections apply).
func (m *Manager) manualFlows(t netip.Prefix, cfg *asaconfig.Config) []datapath.Flow {
	peer := t.Addr()
	var model *datapath.Model
	outside := ""
	if cfg != nil {
		model = datapath.New(cfg, datapath.Options{})
		outside = model.RouteInterface(peer)
	}
	seen := map[string]bool{}
	var hosts []netip.Addr
	for i := range m.pol.Networks {
		n := &m.pol.Networks[i]
		if n.Role == policies.RoleVPNPool || len(hosts) >= MaxFindingFlows-1 {
			continue
		}
		for _, p := range n.Prefixes {
			if p.Addr().Is4() != peer.Is4() {
				continue
			}
			h := sampleHost(p.Masked())
			if model != nil {
				in := model.RouteInterface(h)
				if in == "" || in == outside || seen[in] {
					continue
				}
				seen[in] = true
			}
			hosts = append(hosts, h)
			break
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	out := []datapath.Flow{{Proto: datapath.TCP, Src: peer, SrcPort: 40000, Dst: hosts[0], DstPort: 443}}
	for _, h := range hosts {
		out = append(out, datapath.Flow{Proto: datapath.TCP, Src: h, SrcPort: 40000, Dst: peer, DstPort: 443})
	}
	return out
}

// sampleHost is a host address inside p: the tenth address of a network of 32 or more
// (clear of the gateways at the start), else the last but one, or p's only address.
func sampleHost(p netip.Prefix) netip.Addr {
	a := p.Addr()
	free := a.BitLen() - p.Bits()
	switch {
	case free == 0:
		return a
	case free >= 5:
		for range 10 {
			a = a.Next()
		}
		return a
	}
	last := a
	for n := a; p.Contains(n); n = n.Next() {
		last = n
	}
	if free >= 2 {
		return last.Prev()
	}
	return last
}

// Unblock proposes removing the applied block of target (the same prefix): a removal
// proposal by who, approved and pushed like any other. ErrNoBlock when none is applied; the
// error names applied blocks that contain target, if any.
func (m *Manager) Unblock(ctx context.Context, who string, target netip.Prefix, comment string) (Proposal, error) {
	all, err := m.List(ctx)
	if err != nil {
		return Proposal{}, err
	}
	var id string
	var wider []string
	for _, p := range all {
		if p.Kind != KindBlock || p.State != StateApplied {
			continue
		}
		switch {
		case p.Target == target:
			id = p.ID
		case p.Target.Overlaps(target):
			wider = append(wider, fmt.Sprintf("%s blocks %s", p.ID, p.Target))
		}
	}
	if id == "" {
		if len(wider) > 0 {
			return Proposal{}, fmt.Errorf("%s: %w of exactly it (%s: unblock that prefix)", target, ErrNoBlock, strings.Join(wider, ", "))
		}
		return Proposal{}, fmt.Errorf("%s: %w", target, ErrNoBlock)
	}
	if comment == "" {
		comment = "manual unblock of " + target.String()
	}
	r, err := m.newRemoval(ctx, id, who, ReasonRevert, oneLine(comment))
	if err != nil {
		return Proposal{}, err
	}
	return r, nil
}

// oneLine keeps a person's text on one line (it is shown in lists and the audit log).
func oneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}
