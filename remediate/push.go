package remediate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// PushResult says what a push did.
type PushResult struct {
	Proposal   Proposal
	Report     devices.Report
	ExecOutput []string // replies to exec lines (shun)
	// Warnings are problems after a verified push that leave the change
	// applied (a refused shun, a failed write memory).
	Warnings []string
}

// Running reads the running configuration of a proposal's device.
func (m *Manager) Running(ctx context.Context, device string) (string, error) {
	if m.pusher == nil {
		return "", ErrNoPusher
	}
	dev, err := m.device(device)
	if err != nil {
		return "", err
	}
	return m.pusher.RunningConfig(ctx, dev)
}

// hasApproval checks that the audit log holds the approval the record
// points at.
func hasApproval(tx *stats.RecordTx, p *Proposal) error {
	if p.Approval == nil || p.Approval.AuditSeq == 0 {
		return fmt.Errorf("%s: %w", p.ID, ErrNotApproved)
	}
	found := false
	errStop := errors.New("stop")
	err := tx.ListLog(NSAudit, p.Approval.AuditSeq-1, func(seq uint64, raw []byte) error {
		var e AuditEntry
		if err := json.Unmarshal(raw, &e); err == nil && seq == p.Approval.AuditSeq &&
			e.Proposal == p.ID && e.Action == ActionApprove && e.Who == p.Approval.By {
			found = true
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if !found {
		return fmt.Errorf("%s: approval audit entry %d missing: %w", p.ID, p.Approval.AuditSeq, ErrNotApproved)
	}
	return nil
}

// Push sends the approved changes of proposal id to its device. It holds
// the device lock throughout: it re-reads the configuration and returns
// ErrStale, leaving the state approved, when the scope fingerprint differs
// from the approval's; otherwise it pushes (devices stops at the first
// error and rolls back), verifies the read-back configuration against the
// model, saves, and marks the proposal applied, or failed with the error.
// A removal that is applied moves its original to reverted or expired in the
// same transaction. who is recorded in the audit log.
func (m *Manager) Push(ctx context.Context, id, who string) (PushResult, error) {
	var res PushResult
	p, err := m.Get(ctx, id)
	if err != nil {
		return res, err
	}
	if p.State != StateApproved {
		if a := p.Approval; a != nil && p.State.Open() && !a.Complete() {
			// One of two approvals: refused, and recorded.
			return res, m.refusePush(ctx, p, who, ErrApprovals, fmt.Sprintf("%d of %d approvals (%s); a second, different approver must approve the same plan",
				len(a.Names()), a.Needed, strings.Join(a.Names(), ", ")))
		}
		return res, fmt.Errorf("%s is %s, not approved: %w", p.ID, p.State, ErrNotApproved)
	}
	if err := m.st.View(ctx, func(tx *stats.RecordTx) error { return hasApproval(tx, &p) }); err != nil {
		return res, err
	}
	changes, err := p.ApprovedChanges()
	if err != nil {
		return res, fmt.Errorf("approved changes of %s: %w", p.ID, err)
	}
	if err := m.checkApproval(p, changes); err != nil {
		return res, m.refusePush(ctx, p, who, err, "")
	}
	steps, exec, err := deviceSteps(changes)
	if err != nil {
		return res, err
	}
	if len(steps) == 0 && len(exec) == 0 {
		res.Proposal, err = m.markApplied(ctx, p, who, nil, devices.Report{}, "no device change", nil, pushFacts{})
		return res, err
	}
	if m.pusher == nil {
		return res, ErrNoPusher
	}
	dev, err := m.device(p.Device)
	if err != nil {
		return res, err
	}
	unlock, err := m.lockDevice(ctx, dev.Name)
	if err != nil {
		return res, err
	}
	defer unlock()
	// Another push of the same proposal may have run while we waited.
	if cur, err := m.Get(ctx, id); err != nil {
		return res, err
	} else if cur.State != StateApproved || cur.Approval == nil || cur.Approval.AuditSeq != p.Approval.AuditSeq {
		return res, fmt.Errorf("%s changed to %s while waiting for the device: %w", p.ID, cur.State, ErrTransition)
	}

	running, err := m.pusher.RunningConfig(ctx, dev)
	if err != nil {
		return res, m.fail(ctx, &res, p, who, devices.Report{}, fmt.Errorf("read device config: %w", err))
	}
	cfg, err := asaconfig.Parse([]byte(running))
	if err != nil {
		return res, m.fail(ctx, &res, p, who, devices.Report{}, err)
	}
	// The plan computed now must be the one approved: same lines, same
	// configuration fingerprint (the approval's digest).
	if cur, err := m.dryRunConfig(ctx, p, cfg); err != nil {
		return res, m.refusePush(ctx, p, who, ErrDigest, "the plan no longer computes: "+err.Error())
	} else if cur.Digest != p.Approval.Digest {
		what := firstDiff(p.Approval.Lines, append(append([]string(nil), cur.Lines...), cur.ExecLines...))
		if cur.Fingerprint != p.Approval.Fingerprint || cur.Hostname != p.Approval.Hostname {
			what = fmt.Sprintf("the running configuration changed (fingerprint %.16s, approved %.16s); %s", cur.Fingerprint, p.Approval.Fingerprint, what)
		}
		return res, m.refusePush(ctx, p, who, ErrDigest, fmt.Sprintf("plan digest now %.16s, approved %.16s: %s", cur.Digest, p.Approval.Digest, what))
	}
	scope := asaconfig.ScopeOf(changes)
	if fp := cfg.Fingerprint(scope); fp != p.Approval.Fingerprint || cfg.Hostname() != p.Approval.Hostname {
		return res, m.refuseStale(ctx, p, who, fmt.Sprintf("fingerprint %.12s, approved %.12s", fp, p.Approval.Fingerprint))
	}
	expected, err := cfg.Apply(changes)
	if err != nil {
		return res, m.refuseStale(ctx, p, who, "approved changes no longer apply: "+err.Error())
	}
	var facts pushFacts
	if facts.end = deviceEndOf(cfg, changes); !facts.end.IsZero() && !m.now().Before(facts.end) {
		return res, m.refuseStale(ctx, p, who, "the approved end "+facts.end.UTC().Format(time.RFC3339)+" has passed")
	}
	if !facts.end.IsZero() {
		// The box ends the change by its own clock.
		if skew, err := m.clockSkew(ctx, dev, cfg); err != nil {
			res.Warnings = append(res.Warnings, "the end on the device is unchecked: "+err.Error())
		} else if skewed(skew) {
			res.Warnings = append(res.Warnings, skewNote(dev.Name, skew))
		}
	}
	want := expected.Fingerprint(scope)
	effect := m.effect(p, cfg, expected, changes)
	var traces []Trace
	// A SAN route change is checked on the device's routing table: where
	// the SAN is routed before, and that it is the policy's next hop after.
	var route *RouteCheck
	sanWant, hasRoute := sanRoute(p, changes)
	if hasRoute {
		if route, err = newRouteCheck(sanWant); err != nil {
			return res, m.fail(ctx, &res, p, who, devices.Report{}, err)
		}
		show := func(ctx context.Context, cmd string) (string, error) { return m.pusher.Show(ctx, dev, cmd) }
		_, _, route.Before, _ = route.read(ctx, show)
	}
	plan := devices.Plan{
		Check: func(ctx context.Context, show func(context.Context, string) (string, error)) error {
			traces = traceFlows(ctx, show, effect, false)
			if err := traceErr(traces); err != nil {
				return err
			}
			if route != nil {
				return route.judgeAfter(ctx, show, sanWant)
			}
			return nil
		},
		Steps:        steps,
		Before:       running,
		Save:         true,
		AllowUnsaved: m.pol.Remediation.AllowUnsavedChanges,
		Verify: func(readBack string) error {
			got, err := asaconfig.Parse([]byte(readBack))
			if err != nil {
				return err
			}
			if fp := got.Fingerprint(scope); fp != want {
				d, _ := asaconfig.Diff(expected, got)
				return fmt.Errorf("read-back fingerprint %.12s, expected %.12s\n%s", fp, want, d)
			}
			return nil
		},
	}
	rep, perr := m.pusher.Push(ctx, dev, plan)
	res.Warnings = append(res.Warnings, rep.Warnings...)
	for _, s := range rep.Suspicious {
		res.Warnings = append(res.Warnings, fmt.Sprintf("device answered %q with %q: taken as applied, verification passed", s.Command, strings.TrimSpace(s.Output)))
	}
	// A verified change is never failed because its save was not confirmed.
	if perr != nil && errors.Is(perr, devices.ErrWriteMemory) && (rep.Verified || len(rep.Applied) == len(steps)) && !rep.RolledBack {
		res.Warnings = append(res.Warnings, "write memory failed; the change is live but not saved: "+perr.Error())
		perr = nil
	}
	if perr != nil {
		if errors.Is(perr, devices.ErrConfigChanged) && len(rep.Applied) == 0 {
			return res, m.refuseStale(ctx, p, who, perr.Error())
		}
		m.recordTraces(ctx, p.ID, who, traces, route)
		return res, m.fail(ctx, &res, p, who, rep, perr)
	}
	res.Report = rep
	var transcript strings.Builder
	transcript.WriteString(rep.Transcript)
	for i, c := range exec {
		placing, isShun := execChanges(changes)[i].(asaconfig.Shun)
		if isShun {
			// A shun firebreak did not place is never claimed: its
			// expiry and removal are someone else's.
			present, out, err := m.shunPresent(ctx, dev, placing.Addr)
			fmt.Fprintf(&transcript, "> show shun %s\n%s\n", placing.Addr, strings.TrimRight(out, "\n"))
			switch {
			case err != nil:
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s not sent: show shun failed, ownership unknown: %v", c, err))
				continue
			case present:
				facts.foreign = true
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s not sent: the device already shuns %s (not placed by firebreak; never claimed or removed by it)", c, placing.Addr))
				continue
			}
		}
		out, err := m.pusher.Exec(ctx, dev, c)
		fmt.Fprintf(&transcript, "> %s\n%s\n", c, strings.TrimRight(out, "\n"))
		res.ExecOutput = append(res.ExecOutput, out)
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %v", c, err))
			continue
		}
		if isShun {
			present, out, err := m.shunPresent(ctx, dev, placing.Addr)
			fmt.Fprintf(&transcript, "> show shun %s\n%s\n", placing.Addr, strings.TrimRight(out, "\n"))
			if err != nil || !present {
				res.Warnings = append(res.Warnings, fmt.Sprintf("shun %s not verified: show shun does not list it (%v)", placing.Addr, err))
				continue
			}
			facts.owned = true
		}
	}
	if len(exec) > 0 {
		// Drops the plan leaves to the shun can only be traced after it.
		shunned := traceFlows(ctx, func(ctx context.Context, cmd string) (string, error) { return m.pusher.Show(ctx, dev, cmd) }, effect, true)
		if err := traceErr(shunned); err != nil {
			res.Warnings = append(res.Warnings, err.Error())
		}
		traces = append(traces, shunned...)
	}
	rep.Transcript = transcript.String()
	m.recordTraces(ctx, p.ID, who, traces, route)
	res.Proposal, err = m.markApplied(ctx, p, who, changes, rep, "pushed and verified", res.Warnings, facts)
	return res, err
}

// pushFacts is what a push learnt: owned when firebreak placed its shun and
// show shun listed it after; foreign when the device already shunned the
// address; end, the instant the device stops enforcing the change's
// time-range (zero: none).
type pushFacts struct {
	owned, foreign bool
	end            time.Time
}

// deviceEndOf is the instant of the absolute end of the time-range changes
// create, by cfg's clock timezone (zero: none).
func deviceEndOf(cfg *asaconfig.Config, changes []asaconfig.Change) time.Time {
	off, _ := cfg.ClockOffset()
	for _, c := range changes {
		if t, ok := c.(asaconfig.CreateTimeRange); ok {
			return asaconfig.DeviceInstant(t.End, off)
		}
	}
	return time.Time{}
}

// execChanges are the privileged-EXEC changes, in the order of deviceSteps'
// exec commands (one each).
func execChanges(changes []asaconfig.Change) []asaconfig.Change {
	var out []asaconfig.Change
	for _, c := range changes {
		if c.Mode() == asaconfig.ModeExec {
			out = append(out, c)
		}
	}
	return out
}

// shunPresent asks the device (`show shun ADDR`, read-only) whether it
// shuns a.
func (m *Manager) shunPresent(ctx context.Context, dev *policies.Device, a netip.Addr) (bool, string, error) {
	out, err := m.pusher.Show(ctx, dev, "show shun "+a.String())
	if err != nil {
		return false, out, fmt.Errorf("show shun %s: %w", a, err)
	}
	return ShunListed(out, a), out, nil
}

// ShunListed reports whether `show shun` output lists a shun of source a
// ("shun (IFNAME) SRC DST SPORT DPORT PROTO" per line).
func ShunListed(out string, a netip.Addr) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == "shun" && strings.HasPrefix(f[1], "(") {
			if b, err := netip.ParseAddr(f[2]); err == nil && b == a {
				return true
			}
		}
	}
	return false
}

// refuseStale records a refused push (state unchanged) and returns ErrStale.
func (m *Manager) refuseStale(ctx context.Context, p Proposal, who, detail string) error {
	return m.refusePush(ctx, p, who, ErrStale, detail)
}

// refusePush records a refused push (state unchanged) and returns cause with
// detail.
func (m *Manager) refusePush(ctx context.Context, p Proposal, who string, cause error, detail string) error {
	comment := cause.Error()
	if detail != "" {
		comment += ": " + detail
	}
	_, err := m.update(ctx, p.ID, func(tx *stats.RecordTx, q *Proposal) error {
		_, err := move(tx, q, q.State, ActionPushRefused, who, comment, m.now())
		return err
	})
	next := "review `firebreak proposals diff " + p.ID + "` and approve again"
	if errors.Is(cause, ErrApprovals) {
		next = "another approver must run `firebreak proposals approve " + p.ID + "`"
	}
	if detail == "" {
		return errors.Join(fmt.Errorf("%s: nothing sent: %w; %s", p.ID, cause, next), err)
	}
	return errors.Join(fmt.Errorf("%s: nothing sent: %w (%s); %s", p.ID, cause, detail, next), err)
}

// fail marks the proposal failed with err and the report's transcript.
func (m *Manager) fail(ctx context.Context, res *PushResult, p Proposal, who string, rep devices.Report, perr error) error {
	res.Report = rep
	comment := perr.Error()
	if rep.RolledBack {
		comment += " (rolled back)"
	}
	q, err := m.update(ctx, p.ID, func(tx *stats.RecordTx, q *Proposal) error {
		q.LastError = comment
		if rep.Transcript != "" {
			q.Transcript = rep.Transcript
		}
		_, err := move(tx, q, StateFailed, ActionPushFailed, who, comment, m.now())
		return err
	})
	res.Proposal = q
	return errors.Join(fmt.Errorf("push %s: %w", p.ID, perr), err)
}

// markApplied records a successful push (and the end of the original of a
// removal) in one transaction.
func (m *Manager) markApplied(ctx context.Context, p Proposal, who string, changes []asaconfig.Change, rep devices.Report, comment string, warnings []string, sh pushFacts) (Proposal, error) {
	enc, err := asaconfig.MarshalChanges(changes)
	if err != nil {
		return Proposal{}, err
	}
	now := m.now()
	if len(warnings) > 0 {
		comment += "; " + strings.Join(warnings, "; ")
	}
	return m.update(ctx, p.ID, func(tx *stats.RecordTx, q *Proposal) error {
		if q.State != StateApproved {
			return fmt.Errorf("%s changed to %s during the push: %w", q.ID, q.State, ErrTransition)
		}
		q.AppliedAt = now
		if len(changes) > 0 {
			q.Applied = enc
		}
		q.Transcript = rep.Transcript
		q.LastError = ""
		q.Notes = append(q.Notes, warnings...)
		if q.Duration > 0 {
			q.ExpiresAt = now.Add(q.Duration)
		}
		if !sh.end.IsZero() {
			q.ExpiresAt = sh.end // the device's own end
		}
		q.ShunOwned, q.ShunForeign = sh.owned, sh.foreign
		if q.ShunOwned && q.ShunFor > 0 {
			q.ShunUntil = now.Add(q.ShunFor)
		}
		if _, err := move(tx, q, StateApplied, ActionPush, who, comment, now); err != nil {
			return err
		}
		if q.Kind != KindRemoval {
			return nil
		}
		orig, err := getTx(tx, q.RemovalOf)
		if err != nil {
			return err
		}
		to, action := StateReverted, ActionRevert
		if q.RemovalReason == ReasonExpiry {
			to, action = StateExpired, ActionExpire
		}
		if q.Shun || orig.Shun {
			orig.Unshunned = true
		}
		_, err = move(tx, &orig, to, action, who, "removed by "+q.ID, now)
		return err
	})
}

// newRemoval creates a removal proposal for applied proposal orig, or returns
// the open one that exists.
func (m *Manager) newRemoval(ctx context.Context, origID, who, reason, comment string) (Proposal, error) {
	var out Proposal
	err := m.st.Update(ctx, func(tx *stats.RecordTx) error {
		orig, err := getTx(tx, origID)
		if err != nil {
			return err
		}
		if orig.State != StateApplied {
			return fmt.Errorf("%s is %s, only applied proposals can be removed: %w", orig.ID, orig.State, ErrTransition)
		}
		if orig.Kind == KindRemoval {
			return fmt.Errorf("%s is a removal; revert is not offered for it: %w", orig.ID, ErrTransition)
		}
		all, err := listTx(tx)
		if err != nil {
			return err
		}
		for _, q := range all {
			if q.Kind == KindRemoval && q.RemovalOf == orig.ID && q.State.Open() {
				out = q
				return nil
			}
		}
		id, seq, err := nextID(tx)
		if err != nil {
			return err
		}
		now := m.now()
		out = Proposal{ID: id, Seq: seq, Kind: KindRemoval, Device: orig.Device, Target: orig.Target,
			Interface: orig.Interface, Group: orig.Group, RemovalOf: orig.ID, RemovalReason: reason,
			Findings: orig.Findings, Reason: fmt.Sprintf("%s of %s (%s %s)", reason, orig.ID, orig.Kind, orig.Target),
			CreatedAt: now, ProposedBy: who}
		if comment == "" {
			comment = out.Reason
		}
		_, err = move(tx, &out, StateProposed, ActionPropose, who, comment, now)
		return err
	})
	return out, err
}

// Revert undoes applied proposal id: it creates the removal proposal, plans
// it against the device's current configuration, records who approved it
// (the person asking for the revert) and pushes it. The original becomes
// reverted when the removal is applied.
func (m *Manager) Revert(ctx context.Context, id, who, comment string) (PushResult, error) {
	r, err := m.newRemoval(ctx, id, who, ReasonRevert, comment)
	if err != nil {
		return PushResult{}, err
	}
	return m.approveAndPush(ctx, r.ID, who, comment, false)
}

// approveAndPush approves id against the device's configuration and pushes
// it; byPolicy is firebreak acting on the policy's behalf (the people rules do
// not apply).
func (m *Manager) approveAndPush(ctx context.Context, id, who, comment string, byPolicy bool) (PushResult, error) {
	var running string
	p, err := m.Get(ctx, id)
	if err != nil {
		return PushResult{}, err
	}
	if running, err = m.Running(ctx, p.Device); err != nil {
		return PushResult{Proposal: p}, fmt.Errorf("read device config for %s: %w", id, err)
	}
	if _, _, err := m.approve(ctx, id, who, comment, running, "", byPolicy); err != nil {
		return PushResult{Proposal: p}, err
	}
	return m.Push(ctx, id, who)
}

// ExpireResult is what Expire did.
type ExpireResult struct {
	Removals  []Proposal // created (and, with auto_remove_on_expiry, pushed)
	Unshunned []string   // proposals whose shun ended
	Errors    []error
}

// Expire handles applied proposals whose time is up at now: a shun past its
// end is removed (it was approved with its duration); a block or quarantine
// past its end gets a removal proposal, which is approved by System and
// pushed when the policy sets auto_remove_on_expiry. The original becomes
// expired when its removal is applied.
func (m *Manager) Expire(ctx context.Context, now time.Time) (ExpireResult, error) {
	var res ExpireResult
	all, err := m.List(ctx)
	if err != nil {
		return res, err
	}
	open := map[string]bool{}
	for _, q := range all {
		if q.Kind == KindRemoval && q.State.Open() {
			open[q.RemovalOf] = true
		}
	}
	for _, p := range all {
		if p.State != StateApplied || p.Kind == KindRemoval {
			continue
		}
		if p.ShunOwned && !p.Unshunned && !p.ShunUntil.IsZero() && !now.Before(p.ShunUntil) {
			if err := m.unshun(ctx, p); err != nil {
				res.Errors = append(res.Errors, err)
			} else {
				res.Unshunned = append(res.Unshunned, p.ID)
			}
		}
		if p.ExpiresAt.IsZero() || now.Before(p.ExpiresAt) || open[p.ID] {
			continue
		}
		r, err := m.newRemoval(ctx, p.ID, System, ReasonExpiry, fmt.Sprintf("%s expired at %s", p.ID, p.ExpiresAt.UTC().Format(time.RFC3339)))
		if err != nil {
			res.Errors = append(res.Errors, err)
			continue
		}
		if m.pol.Remediation.AutoRemoveOnExpiry {
			pr, err := m.approveAndPush(ctx, r.ID, System, "auto_remove_on_expiry", true)
			if err != nil {
				res.Errors = append(res.Errors, err)
			}
			if pr.Proposal.ID != "" {
				r = pr.Proposal
			}
		}
		res.Removals = append(res.Removals, r)
	}
	return res, errors.Join(res.Errors...)
}

func (m *Manager) unshun(ctx context.Context, p Proposal) error {
	if m.pusher == nil {
		return ErrNoPusher
	}
	a, ok := hostPrefixOf(p.Target)
	if !ok {
		return nil
	}
	lines, err := asaconfig.Unshun{Addr: a}.Lines()
	if err != nil {
		return err
	}
	c, err := devices.NewCommand(lines[0])
	if err != nil {
		return err
	}
	dev, err := m.device(p.Device)
	if err != nil {
		return err
	}
	unlock, err := m.lockDevice(ctx, dev.Name)
	if err != nil {
		return err
	}
	_, xerr := m.pusher.Exec(ctx, dev, c)
	unlock()
	comment := "shun ended"
	switch {
	case errors.Is(xerr, devices.ErrRejected):
		// No such shun any more (lost on a reload): nothing left to remove.
		comment += "; device: " + xerr.Error()
	case xerr != nil:
		return fmt.Errorf("unshun %s: %w", p.ID, xerr)
	}
	_, err = m.update(ctx, p.ID, func(tx *stats.RecordTx, q *Proposal) error {
		q.Unshunned = true
		_, err := move(tx, q, q.State, ActionUnshun, System, comment, m.now())
		return err
	})
	return err
}
