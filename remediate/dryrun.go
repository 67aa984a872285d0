package remediate

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// DryRun is what a push of a proposal would do to a given running
// configuration.
type DryRun struct {
	Proposal string             `json:"proposal"`
	Device   string             `json:"device"`
	Hostname string             `json:"hostname,omitempty"`
	Changes  []asaconfig.Change `json:"-"`
	// Lines are the exact configuration-mode lines sent after "configure
	// terminal", in order, mode headers and exits included; ExecLines are
	// sent in privileged EXEC after a verified push (shun).
	Lines     []string `json:"lines"`
	ExecLines []string `json:"exec_lines,omitempty"`
	Diff      string   `json:"diff"` // unified diff of the configuration
	// Fingerprint is the asaconfig fingerprint of the touched scope of the
	// configuration the dry run was computed against.
	Fingerprint string `json:"fingerprint"`
	// ACL and its expected element count before and after (0, "" when the
	// proposal touches no ACL).
	ACL            string   `json:"acl,omitempty"`
	ElementsBefore int      `json:"elements_before,omitempty"`
	ElementsAfter  int      `json:"elements_after,omitempty"`
	Notes          []string `json:"notes,omitempty"`
	Advisory       string   `json:"advisory,omitempty"`
	// Effect is the verdict of the proposal's flows, and of the flows that
	// must keep working, before and after (nil for advisories, removals).
	Effect *Effect `json:"effect,omitempty"`
	// Digest binds what an approver is shown (PlanDigest): an approval
	// records it and a push refuses a plan with another.
	Digest string `json:"digest"`
	// flows are a manual block's synthetic flows for this config (nil otherwise).
	flows []datapath.Flow
}

// plan computes the typed changes of p against cfg. Targets are checked
// against the policy and cfg's own protections again. Where the denies go
// follows the direction of p's flows (see the package doc).
func (m *Manager) plan(ctx context.Context, p Proposal, cfg *asaconfig.Config) (asaconfig.Plan, string, error) {
	l := m.limits()
	switch p.Kind {
	case KindBlock:
		b := m.blockOf(p, cfg)
		b.End = m.deviceEnd(p, cfg)
		pl, err := cfg.PlanBlock(b, l)
		acl := m.planACL(cfg, pl, b.Interface)
		return pl, acl, err
	case KindQuarantine:
		q := m.quarantineOf(p, cfg)
		q.End = m.deviceEnd(p, cfg)
		pl, err := cfg.PlanQuarantine(q, l)
		acl := m.planACL(cfg, pl, q.Interface)
		return pl, acl, err
	case KindSANFix:
		return m.planSAN(p, cfg, l)
	case KindAdvisory:
		return asaconfig.Plan{Advisory: p.Advisory}, "", nil
	case KindRemoval:
		return m.planRemoval(ctx, p, cfg)
	}
	return asaconfig.Plan{}, "", fmt.Errorf("proposal %s: unknown kind %q", p.ID, p.Kind)
}

// deviceEnd is the `absolute end` of p's denies on the device (its wall
// clock, by the config's clock timezone): p's duration from now, when the
// policy expires entries on the device; zero otherwise.
func (m *Manager) deviceEnd(p Proposal, cfg *asaconfig.Config) time.Time {
	if p.Duration <= 0 || !m.pol.Remediation.ExpireOnDevice {
		return time.Time{}
	}
	off, _ := cfg.ClockOffset()
	return asaconfig.DeviceWall(m.now().Add(p.Duration), off)
}

// planACL is the inbound ACL of iface, or the one the plan creates for it.
func (m *Manager) planACL(cfg *asaconfig.Config, pl asaconfig.Plan, iface string) string {
	if acl, ok := cfg.InboundACL(iface); ok {
		return acl
	}
	for _, c := range pl.Changes {
		if b, ok := c.(asaconfig.BindACL); ok && b.Interface == iface {
			return b.ACL
		}
	}
	return ""
}

// blockOf builds the block of p: the peer denied as source on the outside
// ACL always; when internal hosts opened the flows, the peer denied as
// destination on each interface they entered by, and `clear conn`.
func (m *Manager) blockOf(p Proposal, cfg *asaconfig.Config) asaconfig.Block {
	b := asaconfig.Block{ProposalID: p.ID, Target: p.Target, Group: p.Group, Interface: p.Interface, Shun: p.Shun}
	if cfg == nil {
		return b
	}
	b.Egress = m.ingressOf(cfg, p.Flows, func(f datapath.Flow) bool { return p.Target.Contains(f.Dst) }, p.Interface)
	b.ClearConn = len(b.Egress) > 0 && p.Target.IsSingleIP()
	return b
}

// ingressOf lists the interfaces the selected flows enter by (the logged
// one when the config has it, else the one the source routes through),
// other than skip.
func (m *Manager) ingressOf(cfg *asaconfig.Config, flows []datapath.Flow, sel func(datapath.Flow) bool, skip string) []string {
	model := datapath.New(cfg, datapath.Options{})
	ifs := model.Interfaces()
	var out []string
	for _, f := range flows {
		if !sel(f) {
			continue
		}
		in := f.Ingress
		if _, ok := ifs[in]; !ok {
			in = model.RouteInterface(f.Src)
		}
		if in != "" && in != skip && !slices.Contains(out, in) {
			out = append(out, in)
		}
	}
	return out
}

// planSAN never deletes a route on its own: SAN flows the policy does not
// allow are denied on their sources' ingress ACL; otherwise a route change
// is planned only with the policy's gateway for the SAN network (else the
// plan is the advisory naming the hosts and the router).
func (m *Manager) planSAN(p Proposal, cfg *asaconfig.Config, l asaconfig.Limits) (asaconfig.Plan, string, error) {
	byIface := map[string][][2]netip.Addr{}
	var order []string
	for _, f := range p.Flows {
		from, ok1 := m.pol.Segment(f.Src)
		to, ok2 := m.pol.Segment(f.Dst)
		if ok1 && ok2 && m.pol.FlowAllowed(from, to, policies.Port{Proto: f.Proto, Num: f.DstPort}) {
			continue
		}
		ins := m.ingressOf(cfg, []datapath.Flow{f}, func(datapath.Flow) bool { return true }, "")
		if len(ins) == 0 {
			continue
		}
		pair := [2]netip.Addr{f.Src, f.Dst}
		if !slices.Contains(byIface[ins[0]], pair) {
			if byIface[ins[0]] == nil {
				order = append(order, ins[0])
			}
			byIface[ins[0]] = append(byIface[ins[0]], pair)
		}
	}
	if len(order) > 0 {
		var pl asaconfig.Plan
		cur := cfg
		acl := ""
		for _, in := range order {
			part, err := cur.PlanFlowDeny(asaconfig.FlowDeny{ProposalID: p.ID, Interface: in, Pairs: byIface[in]}, l)
			if err != nil {
				return asaconfig.Plan{}, "", err
			}
			if acl == "" {
				acl = m.planACL(cur, part, in)
			}
			if cur, err = cur.Apply(part.Changes); err != nil {
				return asaconfig.Plan{}, "", fmt.Errorf("plan does not apply: %w", err)
			}
			pl.Changes = append(pl.Changes, part.Changes...)
			pl.Notes = append(pl.Notes, part.Notes...)
		}
		pl.Notes = append(pl.Notes, "the policy allows none of these SAN flows: denied where they enter the ASA; no route is changed")
		pl.Advisory = m.sanHostAdvice(p)
		return pl, acl, nil
	}
	gw := netip.Addr{}
	if n, ok := m.pol.Classify(p.Target.Addr()); ok && n.Gateway.IsValid() {
		gw = n.Gateway
	}
	pl, err := cfg.PlanSANFix(asaconfig.SANFix{ProposalID: p.ID, SAN: p.Target, Interface: p.Interface, Gateway: gw}, l)
	if err == nil {
		pl.Advisory = strings.TrimSpace(m.sanHostAdvice(p) + "\n" + pl.Advisory)
	}
	return pl, "", err
}

// sanHostAdvice names the hosts whose SAN traffic crosses the ASA and the
// router that should carry it instead.
func (m *Manager) sanHostAdvice(p Proposal) string {
	var hosts []string
	for _, f := range p.Flows {
		if h := f.Src.String(); !slices.Contains(hosts, h) && !p.Target.Contains(f.Src) {
			hosts = append(hosts, h)
		}
	}
	router := "the router in front of the SAN (set networks[].gateway in the policy)"
	if n, ok := m.pol.Classify(p.Target.Addr()); ok && n.Gateway.IsValid() {
		router = "the router " + n.Gateway.String()
	}
	if len(hosts) == 0 {
		return ""
	}
	return fmt.Sprintf("Hosts %s reach the SAN %v through the ASA: route them to it via %s.", strings.Join(hosts, ", "), p.Target, router)
}

// quarantineOf uses the interface whose connected subnet holds the host
// when the config shows one (a DMZ host is quarantined on the DMZ ACL), and
// shuns and clears the host's connections too.
func (m *Manager) quarantineOf(p Proposal, cfg *asaconfig.Config) asaconfig.Quarantine {
	q := asaconfig.Quarantine{ProposalID: p.ID, Host: p.Target.Addr(), Interface: p.Interface, Shun: p.Shun, ClearConn: true}
	if cfg == nil {
		return q
	}
	for _, in := range cfg.Interfaces() {
		if in.Nameif != "" && in.Address.IsValid() && in.Address.Masked().Contains(q.Host) {
			q.Interface = in.Nameif
			return q
		}
	}
	if in := datapath.New(cfg, datapath.Options{}).RouteInterface(q.Host); in != "" {
		q.Interface = in
	}
	return q
}

// planRemoval plans the undo of the proposal p removes, fresh against cfg.
func (m *Manager) planRemoval(ctx context.Context, p Proposal, cfg *asaconfig.Config) (asaconfig.Plan, string, error) {
	orig, err := m.Get(ctx, p.RemovalOf)
	if err != nil {
		return asaconfig.Plan{}, "", err
	}
	applied, err := orig.AppliedChanges()
	if err != nil {
		return asaconfig.Plan{}, "", fmt.Errorf("applied changes of %s: %w", orig.ID, err)
	}
	if len(applied) == 0 {
		return asaconfig.Plan{Notes: []string{orig.ID + " changed nothing on the device: nothing to remove"}}, "", nil
	}
	switch orig.Kind {
	case KindBlock:
		b := m.blockOf(orig, nil)
		b.Shun = orig.ShunOwned && !orig.Unshunned
		pl, err := cfg.PlanUnblock(b)
		acl, _ := cfg.InboundACL(b.Interface)
		return pl, acl, err
	case KindQuarantine:
		q := m.quarantineOf(orig, cfg)
		q.Shun = orig.ShunOwned && !orig.Unshunned
		pl, err := cfg.PlanRelease(q)
		acl, _ := cfg.InboundACL(q.Interface)
		return pl, acl, err
	default:
		// Routes carry no line numbers: the exact inverse is valid (a
		// clear conn has nothing to undo).
		applied = slices.DeleteFunc(applied, func(c asaconfig.Change) bool { _, ok := c.(asaconfig.ClearConn); return ok })
		inv := asaconfig.Inverses(applied)
		if _, err := cfg.Apply(inv); err != nil {
			return asaconfig.Plan{}, "", fmt.Errorf("inverse of %s does not apply: %w", orig.ID, err)
		}
		return asaconfig.Plan{Changes: inv}, "", nil
	}
}

// Diff computes the dry run of proposal id against running, the text of
// `show running-config` (from the device or a saved file).
func (m *Manager) Diff(ctx context.Context, id, running string) (DryRun, error) {
	p, err := m.Get(ctx, id)
	if err != nil {
		return DryRun{}, err
	}
	return m.dryRun(ctx, p, running)
}

func (m *Manager) dryRun(ctx context.Context, p Proposal, running string) (DryRun, error) {
	cfg, err := asaconfig.Parse([]byte(running))
	if err != nil {
		return DryRun{}, fmt.Errorf("running config: %w", err)
	}
	return m.dryRunConfig(ctx, p, cfg)
}

func (m *Manager) dryRunConfig(ctx context.Context, p Proposal, cfg *asaconfig.Config) (DryRun, error) {
	d := DryRun{Proposal: p.ID, Device: p.Device, Hostname: cfg.Hostname()}
	if p.Origin == OriginManual && p.Kind == KindBlock {
		// Its synthetic flows follow this config's routes (manual.go); the approval keeps them.
		p.Flows = m.manualFlows(p.Target, cfg)
		p.Direction = direction(p.Target, p.Flows)
		d.flows = p.Flows
	}
	if p.Kind == KindAdvisory {
		d.Advisory = p.Advisory
		d.Fingerprint = cfg.Fingerprint(asaconfig.Scope{})
		d.Digest = PlanDigest(p, d.Hostname, d.Fingerprint, nil, nil)
		return d, nil
	}
	pl, acl, err := m.plan(ctx, p, cfg)
	if err != nil {
		return DryRun{}, fmt.Errorf("plan %s: %w", p.ID, err)
	}
	after, err := cfg.Apply(pl.Changes)
	if err != nil {
		return DryRun{}, fmt.Errorf("plan %s does not apply: %w", p.ID, err)
	}
	d.Changes, d.Notes, d.Advisory = pl.Changes, pl.Notes, pl.Advisory
	if r, ok := sanRoute(p, pl.Changes); ok {
		if rc, err := newRouteCheck(r); err == nil {
			d.Notes = append(d.Notes, fmt.Sprintf("the push reads `%s` before and after: it must route %s, else the change is rolled back", rc.Command, rc.Want))
		}
	}
	if p.Advisory != "" && p.Kind != KindSANFix {
		d.Advisory = strings.TrimSpace(p.Advisory + "\n" + d.Advisory)
	}
	d.Effect = m.effect(p, cfg, after, pl.Changes)
	if d.Diff, err = asaconfig.Diff(cfg, after); err != nil {
		return DryRun{}, err
	}
	steps, exec, err := deviceSteps(pl.Changes)
	if err != nil {
		return DryRun{}, err
	}
	d.Lines = sentLines(steps)
	for _, c := range exec {
		d.ExecLines = append(d.ExecLines, c.String())
	}
	d.Fingerprint = cfg.Fingerprint(asaconfig.ScopeOf(pl.Changes))
	d.Digest = PlanDigest(p, d.Hostname, d.Fingerprint, d.Lines, d.ExecLines)
	if acl != "" {
		d.ACL = acl
		d.ElementsBefore, _ = cfg.ElementCount(acl)
		d.ElementsAfter, _ = after.ElementCount(acl)
	}
	return d, nil
}

// deviceSteps renders changes as devices steps (configuration mode) and
// exec lines (privileged EXEC), refusing any line with a control character
// or more than one line (twice: asaconfig.ValidateLine, then
// devices.NewCommand).
func deviceSteps(changes []asaconfig.Change) ([]devices.Step, []devices.Command, error) {
	cs, err := asaconfig.Steps(changes)
	if err != nil {
		return nil, nil, fmt.Errorf("render: %w", err)
	}
	cmd := func(s string) (devices.Command, error) {
		if s == "" {
			return devices.Command{}, nil
		}
		if strings.ContainsAny(s, "\r\n") || asaconfig.ValidateLine(s) != nil {
			return devices.Command{}, fmt.Errorf("%q: %w", s, ErrUnsafeLine)
		}
		c, err := devices.NewCommand(s)
		if err != nil {
			return devices.Command{}, fmt.Errorf("%q: %w: %w", s, ErrUnsafeLine, err)
		}
		return c, nil
	}
	var steps []devices.Step
	var exec []devices.Command
	for _, s := range cs {
		do, err := cmd(s.Do)
		if err != nil {
			return nil, nil, err
		}
		if s.Exec {
			exec = append(exec, do)
			continue
		}
		mode, err := cmd(s.Mode)
		if err != nil {
			return nil, nil, err
		}
		undo, err := cmd(s.Undo)
		if err != nil {
			return nil, nil, err
		}
		steps = append(steps, devices.Step{Mode: mode, Do: do, Undo: undo})
	}
	return steps, exec, nil
}

// sentLines is the configuration-mode line sequence devices.Apply sends for
// steps: a sub-mode header when the mode changes, "exit" when leaving one.
// (It mirrors the devices package's rendering; the tests compare it with
// what the fake ASA received.)
func sentLines(steps []devices.Step) []string {
	var out []string
	var cur devices.Command
	first := true
	for _, s := range steps {
		if s.Do.IsZero() {
			continue
		}
		if first || s.Mode != cur {
			if !s.Mode.IsZero() {
				out = append(out, s.Mode.String())
			} else if !first {
				out = append(out, "exit")
			}
			cur, first = s.Mode, false
		}
		out = append(out, s.Do.String())
		if s.Mode.IsZero() && (strings.HasPrefix(s.Do.String(), "object-group ") || strings.HasPrefix(s.Do.String(), "time-range ")) {
			cur = s.Do
		}
	}
	return out
}

// hostPrefixOf is the single address of a host prefix, or false.
func hostPrefixOf(p netip.Prefix) (netip.Addr, bool) {
	if p.IsValid() && p.Bits() == p.Addr().BitLen() {
		return p.Addr(), true
	}
	return netip.Addr{}, false
}
