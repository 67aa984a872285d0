package remediate

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
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
}

// plan computes the typed changes of p against cfg. Targets are checked
// against the policy and cfg's own protections again.
func (m *Manager) plan(ctx context.Context, p Proposal, cfg *asaconfig.Config) (asaconfig.Plan, string, error) {
	l := m.limits()
	switch p.Kind {
	case KindBlock:
		b := m.blockOf(p)
		pl, err := cfg.PlanBlock(b, l)
		acl, _ := cfg.InboundACL(b.Interface)
		return pl, acl, err
	case KindQuarantine:
		q := m.quarantineOf(p, cfg)
		pl, err := cfg.PlanQuarantine(q, l)
		acl, _ := cfg.InboundACL(q.Interface)
		return pl, acl, err
	case KindSANFix:
		pl, err := cfg.PlanSANFix(asaconfig.SANFix{ProposalID: p.ID, SAN: p.Target, Interface: p.Interface}, l)
		return pl, "", err
	case KindAdvisory:
		return asaconfig.Plan{Advisory: p.Advisory}, "", nil
	case KindRemoval:
		return m.planRemoval(ctx, p, cfg)
	}
	return asaconfig.Plan{}, "", fmt.Errorf("proposal %s: unknown kind %q", p.ID, p.Kind)
}

func (m *Manager) blockOf(p Proposal) asaconfig.Block {
	return asaconfig.Block{ProposalID: p.ID, Target: p.Target, Group: p.Group, Interface: p.Interface, Shun: p.Shun}
}

// quarantineOf uses the interface whose connected subnet holds the host
// when the config shows one (a DMZ host is quarantined on the DMZ ACL).
func (m *Manager) quarantineOf(p Proposal, cfg *asaconfig.Config) asaconfig.Quarantine {
	q := asaconfig.Quarantine{ProposalID: p.ID, Host: p.Target.Addr(), Interface: p.Interface}
	for _, in := range cfg.Interfaces() {
		if in.Nameif != "" && in.Address.IsValid() && in.Address.Masked().Contains(q.Host) {
			q.Interface = in.Nameif
			break
		}
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
		b := m.blockOf(orig)
		b.Shun = orig.Shun && !orig.Unshunned
		pl, err := cfg.PlanUnblock(b)
		acl, _ := cfg.InboundACL(b.Interface)
		return pl, acl, err
	case KindQuarantine:
		q := m.quarantineOf(orig, cfg)
		pl, err := cfg.PlanRelease(q)
		acl, _ := cfg.InboundACL(q.Interface)
		return pl, acl, err
	default:
		// Routes carry no line numbers: the exact inverse is valid.
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
	d := DryRun{Proposal: p.ID, Device: p.Device, Hostname: cfg.Hostname()}
	if p.Kind == KindAdvisory {
		d.Advisory = p.Advisory
		d.Fingerprint = cfg.Fingerprint(asaconfig.Scope{})
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
	if p.Advisory != "" && p.Kind != KindSANFix {
		d.Advisory = strings.TrimSpace(p.Advisory + "\n" + d.Advisory)
	}
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
		if s.Mode.IsZero() && strings.HasPrefix(s.Do.String(), "object-group ") {
			cur = s.Do
		}
	}
	return out
}

// Approve records a person's approval of proposal id, computed against
// running (from the device or a saved file): the typed changes, the lines and
// the scope fingerprint. A proposed, failed or approved proposal may be
// approved (again). With push_on_approve, the caller pushes next.
func (m *Manager) Approve(ctx context.Context, id, who, comment, running string) (Proposal, DryRun, error) {
	p, err := m.Get(ctx, id)
	if err != nil {
		return Proposal{}, DryRun{}, err
	}
	if !CanMove(p.State, StateApproved) {
		return Proposal{}, DryRun{}, fmt.Errorf("%s is %s: %w", p.ID, p.State, ErrTransition)
	}
	d, err := m.dryRun(ctx, p, running)
	if err != nil {
		return Proposal{}, DryRun{}, err
	}
	enc, err := asaconfig.MarshalChanges(d.Changes)
	if err != nil {
		return Proposal{}, DryRun{}, err
	}
	lines := append(append([]string(nil), d.Lines...), d.ExecLines...)
	now := m.now()
	out, err := m.update(ctx, id, func(tx *stats.RecordTx, q *Proposal) error {
		if q.State != p.State {
			return fmt.Errorf("%s changed state to %s meanwhile: %w", q.ID, q.State, ErrTransition)
		}
		q.Approval = &Approval{By: who, At: now, Comment: comment, Fingerprint: d.Fingerprint,
			Hostname: d.Hostname, Changes: enc, Lines: lines}
		q.Notes = d.Notes
		q.LastError = ""
		seq, err := move(tx, q, StateApproved, ActionApprove, who, comment, now)
		if err != nil {
			return err
		}
		q.Approval.AuditSeq = seq
		return tx.Put(NSProposals, q.ID, q, 0)
	})
	return out, d, err
}

// hostPrefixOf is the single address of a host prefix, or false.
func hostPrefixOf(p netip.Prefix) (netip.Addr, bool) {
	if p.IsValid() && p.Bits() == p.Addr().BitLen() {
		return p.Addr(), true
	}
	return netip.Addr{}, false
}
