package remediate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// MinDigestPrefix is the shortest digest prefix `approve --digest` takes.
const MinDigestPrefix = 16

// PlanDigest is the sha256 (hex) of what an approver of p is shown: the
// device, the configuration's hostname and scope fingerprint, and the CLI
// lines in order (configuration mode, then privileged EXEC). The `absolute
// end` of firebreak's time-range is written as p's duration, since the end
// is fixed only at approval: a diff and an approval minutes apart agree, and
// the approval keeps the exact lines.
func PlanDigest(p Proposal, hostname, fingerprint string, lines, exec []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "firebreak plan v1\nproposal %s\ndevice %s\nhostname %s\nfingerprint %s\n", p.ID, p.Device, hostname, fingerprint)
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "absolute end ") {
			l = "absolute end (approval + " + p.Duration.String() + ")"
		}
		fmt.Fprintf(h, "config %s\n", l)
	}
	for _, l := range exec {
		fmt.Fprintf(h, "exec %s\n", l)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// digestMatches reports whether given (a full digest or a prefix of at least
// MinDigestPrefix hex digits, any case) names want.
func digestMatches(given, want string) bool {
	given = strings.ToLower(strings.TrimSpace(given))
	return len(given) >= MinDigestPrefix && strings.HasPrefix(want, given)
}

// Approve records who's approval of proposal id, computed against running
// (from the device or a saved file): the typed changes, the lines, the scope
// fingerprint and the plan's digest. A proposed, failed or approved proposal
// may be approved (again). The policy's people rules apply (see
// ApproveDigest). With push_on_approve, the caller pushes next.
func (m *Manager) Approve(ctx context.Context, id, who, comment, running string) (Proposal, DryRun, error) {
	return m.approve(ctx, id, who, comment, running, "", false)
}

// ApproveDigest is Approve bound to the plan the approver was shown: when
// digest is not empty, the plan computed now must have that digest (or a
// prefix of it), else nothing is recorded but a refused approval.
//
// The people rules (policies.People): who must be an approver of the kind;
// with proposer_cannot_approve, not its proposer; a kind in two_person
// stays proposed with one approval until a second, different user approves
// the same digest (an approval of a plan that changed starts over; the same
// user twice counts once and is refused). Every refusal is in the audit log.
func (m *Manager) ApproveDigest(ctx context.Context, id, who, comment, running, digest string) (Proposal, DryRun, error) {
	return m.approve(ctx, id, who, comment, running, digest, false)
}

func (m *Manager) approve(ctx context.Context, id, who, comment, running, digest string, byPolicy bool) (Proposal, DryRun, error) {
	p, err := m.Get(ctx, id)
	if err != nil {
		return Proposal{}, DryRun{}, err
	}
	if !CanMove(p.State, StateApproved) {
		return Proposal{}, DryRun{}, fmt.Errorf("%s is %s: %w", p.ID, p.State, ErrTransition)
	}
	if !byPolicy {
		if err := m.mayApprove(ctx, p, who); err != nil {
			return p, DryRun{}, m.refuseApproval(ctx, p, who, err)
		}
	}
	d, err := m.dryRun(ctx, p, running)
	if err != nil {
		return Proposal{}, DryRun{}, err
	}
	if err := d.Effect.Err(); err != nil {
		// Never approved: it would not stop its flows, or would stop
		// traffic the site needs.
		return Proposal{}, d, fmt.Errorf("%s: %w", p.ID, err)
	}
	if digest != "" && !digestMatches(digest, d.Digest) {
		return p, d, m.refuseApproval(ctx, p, who, fmt.Errorf("%w: you approved digest %s, the plan computed now has %s (the configuration or the plan changed since you looked; run proposals diff %s again)",
			ErrDigest, display.Text(digest), d.Digest, p.ID))
	}
	needed := 1
	if !byPolicy {
		needed = m.pol.People.ApprovalsNeeded(string(p.Kind))
	}
	// Approvals of another plan do not add up; the same user counts once.
	var approvers []Approver
	if prev := p.Approval; prev != nil && prev.Digest == d.Digest && needed > 1 {
		approvers = prevApprovers(prev)
		if slices.ContainsFunc(approvers, func(a Approver) bool { return a.By == who }) {
			return p, d, m.refuseApproval(ctx, p, who, fmt.Errorf("%w: %s already approved this plan (%d of %d approvals); a different approver must approve it",
				ErrSameApprover, display.Text(who), len(approvers), needed))
		}
	}
	enc, err := asaconfig.MarshalChanges(d.Changes)
	if err != nil {
		return Proposal{}, DryRun{}, err
	}
	lines := append(append([]string(nil), d.Lines...), d.ExecLines...)
	now := m.now()
	out, err := m.update(ctx, id, func(tx *stats.RecordTx, q *Proposal) error {
		if q.State != p.State || approvalSeq(q.Approval) != approvalSeq(p.Approval) {
			return fmt.Errorf("%s changed meanwhile (now %s): %w", q.ID, q.State, ErrTransition)
		}
		all := append(slices.Clone(approvers), Approver{By: who, At: now, Comment: comment})
		to, action := StateApproved, ActionApprove
		note := ""
		if needed > 1 {
			note = fmt.Sprintf("%d of %d approvals (%s); digest %.16s", len(all), needed, strings.Join(names(all), ", "), d.Digest)
		}
		if len(all) < needed {
			to, action = q.State, ActionApprovePartial
			if to == StateApproved {
				to = StateProposed // the complete approval was of another plan
			}
		}
		q.Approval = &Approval{By: who, At: now, Comment: comment, Fingerprint: d.Fingerprint,
			Hostname: d.Hostname, Changes: enc, Lines: lines, ExecLines: len(d.ExecLines), Digest: d.Digest,
			Needed: needed, ByPolicy: byPolicy}
		q.Notes = d.Notes
		q.Effect = d.Effect
		if q.Origin == OriginManual && q.Kind == KindBlock {
			q.Flows, q.Direction = d.flows, direction(q.Target, d.flows) // what the push traces
		}
		q.LastError = ""
		auditComment := comment
		if note != "" && comment != "" {
			auditComment += "; " + note
		} else if note != "" {
			auditComment = note
		}
		seq, err := move(tx, q, to, action, who, auditComment, now)
		if err != nil {
			return err
		}
		all[len(all)-1].AuditSeq = seq
		q.Approval.Approvers = all
		q.Approval.AuditSeq = seq
		return tx.Put(NSProposals, q.ID, q, 0)
	})
	return out, d, err
}

func approvalSeq(a *Approval) uint64 {
	if a == nil {
		return 0
	}
	return a.AuditSeq
}

// prevApprovers are the approvers of a, also for approvals recorded before
// Approvers existed.
func prevApprovers(a *Approval) []Approver {
	if len(a.Approvers) > 0 {
		return a.Approvers
	}
	return []Approver{{By: a.By, At: a.At, Comment: a.Comment, AuditSeq: a.AuditSeq}}
}

func names(as []Approver) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.By
	}
	return out
}

// mayApprove applies the policy's approvers and proposer rules to who.
func (m *Manager) mayApprove(ctx context.Context, p Proposal, who string) error {
	pp := m.pol.People
	kind := string(p.Kind)
	if !pp.MayApprove(kind, who) {
		key := "people.approvers"
		if _, ok := pp.ApproversByKind[kind]; ok {
			key = "people.approvers_by_kind." + kind
		}
		return fmt.Errorf("%w: %s may not approve %s proposals (%s: %s)", ErrNotApprover, display.Text(who), kind, key, strings.Join(pp.ApproversFor(kind), ", "))
	}
	if pp.ProposerCannotApprove {
		by, err := m.proposer(ctx, p)
		if err != nil {
			return err
		}
		if by == who {
			return fmt.Errorf("%w: %s proposed %s (people.proposer_cannot_approve); another approver must approve it", ErrSelfApproval, display.Text(who), p.ID)
		}
	}
	return nil
}

// proposer is who created p: the record's ProposedBy, or the first audit
// entry for records made before it existed.
func (m *Manager) proposer(ctx context.Context, p Proposal) (string, error) {
	if p.ProposedBy != "" {
		return p.ProposedBy, nil
	}
	es, err := m.Audit(ctx, p.ID, 0)
	if err != nil {
		return "", fmt.Errorf("proposer of %s: %w", p.ID, err)
	}
	if len(es) == 0 {
		return "", fmt.Errorf("proposer of %s: no audit entry", p.ID)
	}
	return es[0].Who, nil
}

// refuseApproval records a refused approval (state unchanged) and returns
// reason.
func (m *Manager) refuseApproval(ctx context.Context, p Proposal, who string, reason error) error {
	_, err := m.update(ctx, p.ID, func(tx *stats.RecordTx, q *Proposal) error {
		_, err := move(tx, q, q.State, ActionApproveRefused, who, reason.Error(), m.now())
		return err
	})
	return errors.Join(fmt.Errorf("%s: approval refused: %w", p.ID, reason), err)
}

// checkApproval is what a push asks of the approval before it reads the
// device: complete by today's policy, and consistent with itself (the lines
// of its changes are the lines shown, and its digest is theirs).
func (m *Manager) checkApproval(p Proposal, changes []asaconfig.Change) error {
	a := p.Approval
	if !a.ByPolicy {
		needed := m.pol.People.ApprovalsNeeded(string(p.Kind))
		var ok []string
		for _, n := range a.Names() {
			if m.pol.People.MayApprove(string(p.Kind), n) && !slices.Contains(ok, n) {
				ok = append(ok, n)
			}
		}
		if len(ok) < needed {
			return fmt.Errorf("%w: %s has %d of %d approvals by people the policy allows (%s); another approver must run `firebreak proposals approve %s`",
				ErrApprovals, p.ID, len(ok), needed, strings.Join(ok, ", "), p.ID)
		}
	}
	if a.Digest == "" {
		return fmt.Errorf("%w: %s was approved without a plan digest (an older firebreak); approve it again", ErrDigest, p.ID)
	}
	steps, exec, err := deviceSteps(changes)
	if err != nil {
		return err
	}
	var execLines []string
	for _, c := range exec {
		execLines = append(execLines, c.String())
	}
	shown := append(sentLines(steps), execLines...)
	if !slices.Equal(shown, a.Lines) || PlanDigest(p, a.Hostname, a.Fingerprint, sentLines(steps), execLines) != a.Digest {
		return fmt.Errorf("%w: the approval record of %s does not match its own lines; approve it again", ErrDigest, p.ID)
	}
	return nil
}

// firstDiff describes the first line where two plans differ (the end of a
// time-range, fixed at approval, aside).
func firstDiff(was, now []string) string {
	for i := 0; i < max(len(was), len(now)); i++ {
		var a, b string
		if i < len(was) {
			a = was[i]
		}
		if i < len(now) {
			b = now[i]
		}
		end := func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "absolute end ") }
		if a != b && !(end(a) && end(b)) {
			return fmt.Sprintf("line %d approved %q, now %q", i+1, a, b)
		}
	}
	return "same lines"
}
