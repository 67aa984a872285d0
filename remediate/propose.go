package remediate

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// intent is what one finding asks for, before deduplication.
type intent struct {
	kind     Kind
	target   netip.Prefix
	iface    string
	topic    string
	reason   string
	advisory string
	shun     bool
	flows    []datapath.Flow
}

func hostPrefix(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen())
}

// external reports whether a is a usable external address by the policy.
func (m *Manager) external(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !m.pol.IsInternal(a)
}

// internalHost reports whether a is one of the site's hosts.
func (m *Manager) internalHost(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() && m.pol.IsInternal(a)
}

// intents maps a finding to what it asks for (see the package doc). Only
// typed Subject addresses are used.
func (m *Manager) intents(f detect.Finding, dev *policies.Device) []intent {
	s := f.Subject
	critical := f.Severity == detect.SeverityCritical
	flows := findingFlows(f, m.now())
	var out []intent
	block := func(peer netip.Addr, why, advice string) {
		out = append(out, intent{kind: KindBlock, target: hostPrefix(peer), iface: dev.OutsideInterface,
			reason: why, advisory: advice, shun: m.pol.Remediation.UseShun && peer.Unmap().Is4(), flows: flows})
	}
	quarantine := func(why string) {
		if m.internalHost(s.Host) {
			out = append(out, intent{kind: KindQuarantine, target: hostPrefix(s.Host), iface: dev.InsideInterface, reason: why,
				shun: s.Host.Unmap().Is4(), flows: flows, advisory: "The ASA only sees traffic that crosses it: " + s.Host.Unmap().String() +
					" can still reach hosts on its own VLAN and networks a 2921 routes without the ASA; isolate its switch port or VLAN for those."})
		}
	}
	advise := func(a netip.Addr, text string) {
		if a.IsValid() {
			out = append(out, intent{kind: KindAdvisory, target: hostPrefix(a), topic: f.Detector, reason: text, advisory: text})
		}
	}
	switch f.Detector {
	case detect.DetectorPortScan, detect.DetectorUnusualPorts:
		switch {
		case m.external(s.Peer) && m.internalHost(s.Host):
			// Allowed traffic of an internal host with the peer.
			block(s.Peer, "external peer of "+f.Detector, "")
		case m.external(s.Peer):
			block(s.Peer, "external source "+f.Detector, "")
		}
	case detect.DetectorVolumeSpike, detect.DetectorSignificantTerms:
		// Exfiltration-like: an internal host and one external peer.
		switch {
		case m.external(s.Peer) && m.internalHost(s.Host):
			block(s.Peer, "exfiltration-like "+f.Detector+" to one external peer", "")
		case m.external(s.Peer):
			// A significant external term alone is not evidence enough to block.
			advise(s.Peer, "external address unusually frequent: review the hosts talking to it")
		}
	case detect.DetectorSegmentViolation:
		if critical {
			quarantine("critical segment violation")
		} else {
			advise(s.Host, "segment violation: review the flow rules or the host's traffic between segments")
		}
	case detect.DetectorSANCrossing:
		if san, ok := m.sanPrefix(s); ok {
			out = append(out, intent{kind: KindSANFix, target: san, iface: dev.InsideInterface,
				reason: "SAN traffic crosses the firewall", flows: flows})
		}
		if critical {
			quarantine("critical SAN crossing")
		}
	case detect.DetectorDNSUnapproved:
		advise(s.Host, "DNS to an unapproved resolver: point the host's resolver or forwarders at the approved resolvers")
	case detect.DetectorPrinterEgress:
		advise(s.Host, "printer sends to the internet: disable cloud/vendor services on the device or deny its egress on the inside ACL")
	case detect.DetectorNewVPNSource:
		advise(s.Peer, "VPN login from a new source: confirm with the user (see the finding) before trusting it")
	}
	return out
}

// sanPrefix is the prefix of the SAN network holding the subject's peer or host.
func (m *Manager) sanPrefix(s detect.Subject) (netip.Prefix, bool) {
	for _, a := range []netip.Addr{s.Peer, s.Host} {
		if !a.IsValid() {
			continue
		}
		n, ok := m.pol.Classify(a.Unmap())
		if !ok || n.Role != policies.RoleSAN {
			continue
		}
		for _, p := range n.Prefixes {
			if p.Contains(a.Unmap()) && p.Addr().Is4() {
				return p.Masked(), true
			}
		}
	}
	return netip.Prefix{}, false
}

func (m *Manager) duration(k Kind) time.Duration {
	switch k {
	case KindBlock:
		return time.Duration(m.pol.Remediation.BlockDuration.Block)
	case KindQuarantine:
		return time.Duration(m.pol.Remediation.BlockDuration.Quarantine)
	}
	return 0
}

// Propose turns findings into proposals on the default ASA and stores them.
// running, when not nil, is the device's configuration: its self-protected
// prefixes are refused too (they are checked again at every dry run). A
// refused target is stored as a rejected proposal with the reason; an open or
// applied proposal for the same kind and target absorbs the findings; a
// rejected one already holding every finding is left alone. who is recorded
// in the audit log. New proposals stay within the policy's budget per kind
// (remediation.max_open_proposals, max_new_proposals_per_day), the most severe
// findings first; what is left out is counted in a proposal_budget finding. Writes
// go in short transactions, so the collector's flushes are never held up for long.
// It returns the proposals created or changed.
func (m *Manager) Propose(ctx context.Context, who string, findings []detect.Finding, running *asaconfig.Config) ([]Proposal, error) {
	dev, err := m.device("")
	if err != nil {
		return nil, err
	}
	now := m.now()
	g := m.newGuard(ctx, dev.OutsideInterface, running)
	type want struct {
		in    intent
		refs  []FindingRef
		flows []datapath.Flow
	}
	var wants []*want
	byKey := map[string]*want{}
	for _, f := range findings {
		ref := FindingRef{ID: f.ID, Key: f.Key, Detector: f.Detector, Severity: string(f.Severity)}
		for _, in := range g.check(f, m.intents(f, dev)) { // weak evidence: advisory (protect.go)
			k := fmt.Sprint(in.kind, "|", in.target, "|", in.topic)
			w := byKey[k]
			if w == nil {
				w = &want{in: in}
				byKey[k] = w
				wants = append(wants, w)
			}
			if !slices.ContainsFunc(w.refs, func(r FindingRef) bool { return r.Key == ref.Key }) {
				w.refs = append(w.refs, ref)
			}
			w.flows = mergeFlows(w.flows, in.flows)
		}
	}
	// The budget picks which wants are made, most severe first; the rest are counted in a
	// proposal_budget finding. The writes go in short transactions of proposeChunk wants.
	cands := make([]candidate, len(wants))
	for i, w := range wants {
		p := Proposal{Kind: w.in.kind, Device: dev.Name, Target: w.in.target, Topic: w.in.topic}
		cands[i] = candidate{key: p.targetKey(), kind: p.Kind, refs: w.refs}
	}
	keep, use, err := m.withinBudget(ctx, cands, now)
	if err != nil {
		return nil, err
	}
	kept := make([]*want, len(keep))
	for i, k := range keep {
		kept[i] = wants[k]
	}
	var out []Proposal
	var chunk []*want
	base := 0
	write := func(tx *stats.RecordTx) error {
		out = out[:base]
		all, err := listTx(tx)
		if err != nil {
			return err
		}
		for _, w := range chunk {
			p := Proposal{Kind: w.in.kind, Device: dev.Name, Target: w.in.target, Topic: w.in.topic}
			key := p.targetKey()
			var prior *Proposal
			covered := false
			for i := len(all) - 1; i >= 0; i-- {
				q := &all[i]
				if q.targetKey() != key {
					continue
				}
				if q.State.Open() || q.State == StateApplied {
					prior = q
					break
				}
				if q.State == StateRejected && allIn(w.refs, q.Findings) {
					covered = true
					break
				}
			}
			switch {
			case prior != nil:
				added := mergeRefs(prior, w.refs)
				if added == 0 {
					continue
				}
				prior.Flows = mergeFlows(prior.Flows, w.flows)
				prior.Direction = direction(prior.Target, prior.Flows)
				if _, err := move(tx, prior, prior.State, ActionUpdate, who, fmt.Sprintf("%d more finding(s)", added), now); err != nil {
					return err
				}
				out = append(out, *prior)
			case covered:
				continue
			default:
				id, seq, err := nextID(tx)
				if err != nil {
					return err
				}
				p.ID, p.Seq = id, seq
				p.Interface = w.in.iface
				p.Reason, p.Advisory = w.in.reason, w.in.advisory
				p.Findings = w.refs
				p.Flows = w.flows
				p.Direction = direction(p.Target, p.Flows)
				p.CreatedAt, p.ProposedBy = now, who
				if p.Kind == KindBlock {
					p.Group = dev.ObjectGroup
					p.Shun = w.in.shun
					if p.Shun {
						p.ShunFor = time.Duration(m.pol.Remediation.ShunDuration)
					}
				}
				p.Duration = m.duration(p.Kind)
				if p.Kind == KindQuarantine && w.in.shun {
					p.Shun, p.ShunFor = true, p.Duration
				}
				to, action, comment := StateProposed, ActionPropose, p.Reason
				if p.Kind == KindBlock || p.Kind == KindQuarantine {
					cerr := m.checkTarget(p.Target, running)
					if cerr == nil {
						cerr = g.protect(p.Kind, p.Target) // protection by class (protect.go)
					}
					if cerr != nil {
						p.Refusal = cerr.Error()
						to, action, comment = StateRejected, ActionRefuse, "refused: "+cerr.Error()
					}
				}
				if to == StateProposed && running != nil {
					// With the device's config, the effect decides now: a
					// change that does not drop its flows, or drops an
					// allowed one, is never offered.
					if d, derr := m.dryRunConfig(ctx, p, running); derr == nil && d.Effect != nil {
						p.Effect = d.Effect
						if eerr := d.Effect.Err(); eerr != nil {
							p.Refusal = eerr.Error()
							to, action, comment = StateRejected, ActionRefuse, "refused: "+eerr.Error()
							if errors.Is(eerr, ErrIneffective) {
								action, comment = ActionIneffective, "ineffective: "+d.Effect.Ineffective
							}
						}
					}
				}
				if _, err := move(tx, &p, to, action, who, comment, now); err != nil {
					return err
				}
				all = append(all, p)
				out = append(out, p)
			}
		}
		return nil
	}
	for c := range slices.Chunk(kept, proposeChunk) {
		chunk, base = c, len(out)
		if err := m.st.Update(ctx, write); err != nil {
			return nil, fmt.Errorf("propose: %w", err)
		}
	}
	if err := m.reportBudget(ctx, use, now); err != nil {
		return out, fmt.Errorf("propose: %w", err)
	}
	return out, nil
}

func allIn(refs, have []FindingRef) bool {
	for _, r := range refs {
		if !slices.ContainsFunc(have, func(h FindingRef) bool { return h.Key == r.Key }) {
			return false
		}
	}
	return true
}

func mergeRefs(p *Proposal, refs []FindingRef) int {
	n := 0
	for _, r := range refs {
		if !slices.ContainsFunc(p.Findings, func(h FindingRef) bool { return h.Key == r.Key }) {
			p.Findings = append(p.Findings, r)
			n++
		}
	}
	return n
}
