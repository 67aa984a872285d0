package remediate_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/remediate"
)

// withPeople appends a people section to the rig's policy.
func withPeople(people string) func(string) string {
	return func(y string) string { return y + "people:\n" + people }
}

// approveAs approves id as who against the device's current configuration.
func (r *rig) approveAs(id, who string) (remediate.Proposal, error) {
	r.t.Helper()
	ctx := context.Background()
	running, err := r.m.Running(ctx, "")
	if err != nil {
		r.t.Fatal(err)
	}
	p, _, err := r.m.Approve(ctx, id, who, "", running)
	return p, err
}

// auditActions lists "action:who" of id's audit entries after seq.
func (r *rig) auditActions(id string, after uint64) []string {
	r.t.Helper()
	es, err := r.m.Audit(context.Background(), id, after)
	if err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action+":"+e.Who)
	}
	return out
}

func (r *rig) lastAudit(id string) remediate.AuditEntry {
	r.t.Helper()
	es, err := r.m.Audit(context.Background(), id, 0)
	if err != nil || len(es) == 0 {
		r.t.Fatalf("audit of %s: %v", id, err)
	}
	return es[len(es)-1]
}

// Only the policy's approvers approve, and with proposer_cannot_approve not
// the person who proposed; each refusal is in the audit log and leaves the
// proposal as it was. A detector's proposal (the daemon's) is approved by
// anyone listed.
func TestApproversAndProposerRules(t *testing.T) {
	r := newRig(t, rigOpts{policy: withPeople("  approvers: [alice, bob]\n  proposer_cannot_approve: true\n")})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0] // proposed by alice (operator)
	if p.ProposedBy != operator {
		t.Fatalf("ProposedBy %q", p.ProposedBy)
	}
	_, err := r.approveAs(p.ID, "mallory")
	if !errors.Is(err, remediate.ErrNotApprover) || !strings.Contains(err.Error(), "mallory may not approve block proposals (people.approvers: alice, bob)") {
		t.Fatalf("approval by mallory: %v", err)
	}
	_, err = r.approveAs(p.ID, operator)
	if !errors.Is(err, remediate.ErrSelfApproval) || !strings.Contains(err.Error(), "alice proposed "+p.ID+" (people.proposer_cannot_approve)") {
		t.Fatalf("approval by the proposer: %v", err)
	}
	if got := r.get(p.ID); got.State != remediate.StateProposed || got.Approval != nil {
		t.Fatalf("after refusals: %s %+v", got.State, got.Approval)
	}
	if got := strings.Join(r.auditActions(p.ID, 0), " "); got != "propose:alice approve-refused:mallory approve-refused:alice" {
		t.Errorf("audit %s", got)
	}
	if e := r.lastAudit(p.ID); e.From != remediate.StateProposed || e.To != remediate.StateProposed || !strings.Contains(e.Comment, "proposer_cannot_approve") {
		t.Errorf("refusal entry %+v", e)
	}
	if _, err := r.approveAs(p.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	res, err := r.m.Push(ctx, p.ID, "bob")
	if err != nil || res.Proposal.State != remediate.StateApplied {
		t.Fatalf("push of bob's approval: %v", err)
	}
	if !strings.Contains(r.srv.Running(), "network-object host 203.0.113.7") {
		t.Error("not on the device")
	}

	// The daemon's own proposal: alice may approve it.
	d, err := r.m.Propose(ctx, "firebreak-daemon", []detect.Finding{scan("f2", "203.0.113.8")}, nil)
	if err != nil || len(d) != 1 {
		t.Fatalf("daemon proposal: %v %+v", err, d)
	}
	if _, err := r.approveAs(d[0].ID, operator); err != nil {
		t.Errorf("alice approving the daemon's proposal: %v", err)
	}
}

// A quarantine under two_person needs two distinct approvers of the same
// plan: with one it stays proposed ("1 of 2") and a push is refused and
// audited with nothing sent; the same user again does not count; with a
// second user it pushes and the fake's data path drops the host's flows.
func TestQuarantineNeedsTwoDistinctApprovers(t *testing.T) {
	r := newRig(t, rigOpts{policy: withPeople("  approvers: [alice, bob, carol]\n  two_person: [quarantine]\n")})
	ctx := context.Background()
	host := netip.MustParseAddr("172.16.20.10")
	out := fakeasa.Flow{Interface: "dmz", Proto: "tcp", Src: host, SrcPort: 40700, Dst: netip.MustParseAddr("10.50.0.10"), DstPort: 3260}
	if !r.trace(out).Allowed {
		t.Fatal("flow dropped before")
	}
	f := critical("f1", host.String())
	f.Subject.Peer = netip.MustParseAddr("10.50.0.10")
	ps, err := r.m.Propose(ctx, "firebreak-daemon", []detect.Finding{f}, nil)
	if err != nil || len(ps) != 1 || ps[0].Kind != remediate.KindQuarantine {
		t.Fatalf("proposals %+v %v", ps, err)
	}
	id := ps[0].ID

	p, err := r.approveAs(id, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if p.State != remediate.StateProposed || p.Approval == nil || p.Approval.Complete() || p.Approval.Needed != 2 {
		t.Fatalf("after one approval: %s %+v", p.State, p.Approval)
	}
	e := r.lastAudit(id)
	if e.Action != remediate.ActionApprovePartial || !strings.Contains(e.Comment, "1 of 2 approvals (alice)") {
		t.Errorf("partial approval entry %+v", e)
	}
	before := len(r.srv.Log())
	_, err = r.m.Push(ctx, id, "alice")
	if !errors.Is(err, remediate.ErrApprovals) || !strings.Contains(err.Error(), "1 of 2 approvals (alice)") {
		t.Fatalf("push with one approval: %v", err)
	}
	if sent := r.srv.Log()[before:]; len(sent) != 0 {
		t.Errorf("a refused push reached the device: %q", sent)
	}
	if e := r.lastAudit(id); e.Action != remediate.ActionPushRefused || e.Who != "alice" {
		t.Errorf("refused push entry %+v", e)
	}
	// The same user twice counts once.
	_, err = r.approveAs(id, "alice")
	if !errors.Is(err, remediate.ErrSameApprover) || !strings.Contains(err.Error(), "alice already approved this plan (1 of 2 approvals)") {
		t.Fatalf("alice again: %v", err)
	}
	if got := r.get(id); got.State != remediate.StateProposed || len(got.Approval.Names()) != 1 {
		t.Fatalf("after alice twice: %s %v", got.State, got.Approval.Names())
	}
	if _, err := r.m.Push(ctx, id, "alice"); !errors.Is(err, remediate.ErrApprovals) {
		t.Fatalf("push after alice twice: %v", err)
	}

	p, err = r.approveAs(id, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if p.State != remediate.StateApproved || !p.Approval.Complete() || strings.Join(p.Approval.Names(), ",") != "alice,bob" {
		t.Fatalf("after bob: %s %v", p.State, p.Approval.Names())
	}
	if e := r.lastAudit(id); e.Action != remediate.ActionApprove || !strings.Contains(e.Comment, "2 of 2 approvals (alice, bob)") {
		t.Errorf("completing entry %+v", e)
	}
	res, err := r.m.Push(ctx, id, "bob")
	if err != nil || res.Proposal.State != remediate.StateApplied {
		t.Fatalf("push with two approvals: %v", err)
	}
	// The device's packet-tracer after the push dropped the host's flow.
	if len(res.Proposal.Verification) == 0 {
		t.Error("no packet-tracer verification")
	}
	for _, tr := range res.Proposal.Verification {
		if tr.Action != "drop" || !tr.OK {
			t.Errorf("packet-tracer %+v", tr)
		}
	}
	out.SrcPort++
	if v := r.trace(out); v.Allowed {
		t.Errorf("the quarantined host's flow passes: %+v", v)
	}
}

// The approval binds the plan's digest: a push after an administrator
// changed the running configuration is refused and audited, nothing is sent
// in configuration mode and the proposal stays approved as it was; approving
// with the digest that was shown before the change is refused; the new plan
// approved with its digest pushes. A diff and an approval minutes apart (the
// time-range end moves) have the same digest.
func TestPushRefusesAPlanWhoseDigestChanged(t *testing.T) {
	r := newRig(t, rigOpts{remediation: "  block_duration: {block: 24h, quarantine: 4h}\n"})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	running, err := r.m.Running(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	shown, err := r.m.Diff(ctx, p.ID, running)
	if err != nil {
		t.Fatal(err)
	}
	if len(shown.Digest) != 64 || !strings.Contains(strings.Join(shown.Lines, "\n"), "absolute end ") {
		t.Fatalf("dry run digest %q lines %q", shown.Digest, shown.Lines)
	}
	r.clk.Add(5 * time.Minute)
	ap, d, err := r.m.ApproveDigest(ctx, p.ID, operator, "", running, shown.Digest[:16])
	if err != nil {
		t.Fatalf("approve with the digest shown 5 minutes before: %v", err)
	}
	if d.Digest != shown.Digest || ap.Approval.Digest != shown.Digest || slicesEqual(d.Lines, shown.Lines) {
		t.Fatalf("digest %s approved %s shown %s; the end should have moved: %q", d.Digest, ap.Approval.Digest, shown.Digest, d.Lines)
	}

	// Another administrator adds an entry at the top of the outside ACL and saves.
	if err := r.srv.ChangeRunning("access-list OUTSIDE_IN line 1 extended permit tcp host 192.0.2.77 any eq 443", "write memory"); err != nil {
		t.Fatal(err)
	}
	before := len(r.srv.Log())
	_, err = r.m.Push(ctx, p.ID, operator)
	if !errors.Is(err, remediate.ErrDigest) || !errors.Is(err, remediate.ErrStale) || !strings.Contains(err.Error(), "the running configuration changed") ||
		!strings.Contains(err.Error(), "nothing sent") {
		t.Fatalf("push after the change: %v", err)
	}
	t.Logf("refused: %v", err)
	if sent := configLines(r.srv.Log()[before:]); len(sent) != 0 {
		t.Errorf("configuration lines sent: %q", sent)
	}
	if strings.Contains(r.srv.Running(), "203.0.113.7") {
		t.Error("the block reached the device")
	}
	got := r.get(p.ID)
	if got.State != remediate.StateApproved || got.Approval.Digest != shown.Digest || got.Approval.AuditSeq != ap.Approval.AuditSeq {
		t.Errorf("proposal changed by the refused push: %s %+v", got.State, got.Approval)
	}
	if e := r.lastAudit(p.ID); e.Action != remediate.ActionPushRefused || !strings.Contains(e.Comment, "plan digest now") {
		t.Errorf("refused push entry %+v", e)
	}

	// The digest seen before the change no longer approves.
	running, err = r.m.Running(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.m.ApproveDigest(ctx, p.ID, operator, "", running, shown.Digest)
	if !errors.Is(err, remediate.ErrDigest) || !strings.Contains(err.Error(), "you approved digest "+shown.Digest) {
		t.Fatalf("approve with the old digest: %v", err)
	}
	if e := r.lastAudit(p.ID); e.Action != remediate.ActionApproveRefused {
		t.Errorf("refused approval entry %+v", e)
	}
	fresh, err := r.m.Diff(ctx, p.ID, running)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Digest == shown.Digest {
		t.Fatal("the digest did not change with the configuration")
	}
	if _, _, err := r.m.ApproveDigest(ctx, p.ID, operator, "", running, fresh.Digest); err != nil {
		t.Fatal(err)
	}
	if res, err := r.m.Push(ctx, p.ID, operator); err != nil || res.Proposal.State != remediate.StateApplied {
		t.Fatalf("push of the new plan: %v", err)
	}
	if !strings.Contains(r.srv.Running(), "deny ip host 203.0.113.7 any time-range FIREBREAK-"+p.ID) {
		t.Errorf("block missing:\n%s", r.srv.Running())
	}
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// A change outside the plan's own lines can change the plan: an
// administrator makes the blocked address a syslog host of the box after the
// approval. The scope fingerprint (the ACL, group and time-range) is the
// same; the plan computed at the push refuses the target, so the push is
// refused with nothing sent.
func TestPushRefusesWhenThePlanNoLongerComputes(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	if err := r.srv.ChangeRunning("logging host outside 203.0.113.7", "write memory"); err != nil {
		t.Fatal(err)
	}
	before := len(r.srv.Log())
	_, err := r.m.Push(ctx, p.ID, operator)
	if !errors.Is(err, remediate.ErrDigest) || !strings.Contains(err.Error(), "the plan no longer computes") || !strings.Contains(err.Error(), "nothing sent") {
		t.Fatalf("push after the logging change: %v", err)
	}
	t.Logf("refused: %v", err)
	if sent := configLines(r.srv.Log()[before:]); len(sent) != 0 {
		t.Errorf("configuration lines sent: %q", sent)
	}
	if strings.Contains(r.srv.Running(), "network-object host 203.0.113.7") {
		t.Error("the syslog host was blocked")
	}
	if got := r.get(p.ID); got.State != remediate.StateApproved {
		t.Errorf("state %s", got.State)
	}
}
