package remediate_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

func TestHappyPath(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	ps := r.propose(scan("f1", "203.0.113.7"))
	if len(ps) != 1 || ps[0].Kind != remediate.KindBlock || ps[0].State != remediate.StateProposed {
		t.Fatalf("Propose = %+v, want one proposed block", ps)
	}
	p := ps[0]
	if p.Target != netip.MustParsePrefix("203.0.113.7/32") || p.Group != "FIREBREAK_BLOCK" || p.Interface != "outside" {
		t.Fatalf("proposal %+v", p)
	}
	if len(p.Findings) != 1 || p.Findings[0].ID != "f1" {
		t.Errorf("findings %+v", p.Findings)
	}

	// Dry run against the device.
	running, err := r.m.Running(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.m.Diff(ctx, p.ID, running)
	if err != nil {
		t.Fatal(err)
	}
	wantLines := []string{
		"object-group network FIREBREAK_BLOCK",
		"description firebreak " + p.ID + " managed",
		"network-object host 203.0.113.7",
		"exit",
		"access-list OUTSIDE_IN line 3 extended deny ip object-group FIREBREAK_BLOCK any",
		"access-list OUTSIDE_IN line 3 remark firebreak " + p.ID + " block",
	}
	if diff := cmp.Diff(wantLines, d.Lines); diff != "" {
		t.Errorf("dry-run lines (-want +got):\n%s", diff)
	}
	if d.ACL != "OUTSIDE_IN" || d.ElementsAfter != d.ElementsBefore+1 {
		t.Errorf("elements %s %d -> %d, want one more", d.ACL, d.ElementsBefore, d.ElementsAfter)
	}
	if !strings.Contains(d.Diff, "+access-list OUTSIDE_IN extended deny ip object-group FIREBREAK_BLOCK any") {
		t.Errorf("diff lacks the ACE:\n%s", d.Diff)
	}

	// Nothing is pushed without an approval record.
	if _, err := r.m.Push(ctx, p.ID, operator); !errors.Is(err, remediate.ErrNotApproved) {
		t.Fatalf("push before approval: %v, want ErrNotApproved", err)
	}
	r.approve(p.ID)
	before := len(r.srv.Log())
	res, err := r.m.Push(ctx, p.ID, operator)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if res.Proposal.State != remediate.StateApplied || !res.Report.Saved {
		t.Errorf("state %s saved %v", res.Proposal.State, res.Report.Saved)
	}
	// The exact lines of the dry run were sent, in one block.
	sent := configLines(r.srv.Log()[before:])
	if i := indexSeq(sent, wantLines); i < 0 {
		t.Errorf("sent lines %q do not contain the dry run %q", sent, wantLines)
	}
	run := r.srv.Running()
	for _, want := range []string{"network-object host 203.0.113.7\n", "access-list OUTSIDE_IN extended deny ip object-group FIREBREAK_BLOCK any\n"} {
		if !strings.Contains(run, want) {
			t.Errorf("device config lacks %q", want)
		}
	}
	if r.srv.Startup() != run {
		t.Error("write memory did not save the running config")
	}
	got := r.get(p.ID)
	if got.Transcript == "" || strings.Contains(got.Transcript, loginPassword) || strings.Contains(got.Transcript, enableSecret) {
		t.Errorf("transcript missing or leaks a secret:\n%s", got.Transcript)
	}
	if !got.ExpiresAt.Equal(r.clk.Now().Add(24 * 60 * 60 * 1e9)) {
		t.Errorf("ExpiresAt %v", got.ExpiresAt)
	}

	// Feedback: the fake data plane drops a packet from the target.
	line, action, ok := r.srv.Match("OUTSIDE_IN", fakeasa.Packet{Src: netip.MustParseAddr("203.0.113.7"), Dst: netip.MustParseAddr("198.51.100.4"), Proto: "tcp", SrcPort: 40000, DstPort: 443})
	if !ok || action != "deny" || line != 4 {
		t.Fatalf("Match = %d %s %v, want the block ACE (line 4) to deny", line, action, ok)
	}
	r.srv.Match("OUTSIDE_IN", fakeasa.Packet{Src: netip.MustParseAddr("203.0.113.7"), Dst: netip.MustParseAddr("198.51.100.4"), Proto: "tcp", SrcPort: 40001, DstPort: 22})
	r.clk.Add(90 * 60 * 1e9)
	fb, err := r.m.Feedback(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !fb.HitsKnown || fb.Hits != 2 || fb.ACL != "OUTSIDE_IN" || fb.Age != 90*60*1e9 {
		t.Errorf("feedback %+v, want 2 hits on OUTSIDE_IN after 1h30m", fb)
	}

	// The audit log holds every transition in order.
	audit, err := r.m.Audit(ctx, p.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range audit {
		acts = append(acts, e.Action+":"+string(e.From)+">"+string(e.To)+":"+e.Who)
	}
	want := []string{"propose:>proposed:alice", "approve:proposed>approved:alice", "push:approved>applied:alice"}
	if diff := cmp.Diff(want, acts); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func indexSeq(hay, needle []string) int {
	for i := 0; i+len(needle) <= len(hay); i++ {
		if slices.Equal(hay[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}

// Every error string the ASA may answer leads to a rollback that leaves the
// device exactly as before, at every position in the batch.
func TestDeviceErrorsRollBack(t *testing.T) {
	outputs := []string{
		"ERROR: % Invalid input detected at '^' marker.",
		"ERROR: % Incomplete command",
		"Command authorization failed",
		"ERROR: specified object group <FIREBREAK_BLOCK> not found",
		"Adding obj (network-object host 203.0.113.7) to grp (FIREBREAK_BLOCK) failed; object already exists",
		"WARNING: <OUTSIDE_IN> found duplicate element",
		"something the allow-list does not know",
	}
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	// Every string at one position (rotating), and the first at every one of
	// the five configuration lines of a new block.
	type fault struct {
		out string
		nth int
	}
	var faults []fault
	for i, out := range outputs {
		faults = append(faults, fault{out, i%5 + 1})
	}
	for nth := 1; nth <= 5; nth++ {
		faults = append(faults, fault{outputs[0], nth})
	}
	for _, f := range faults {
		out, nth := f.out, f.nth
		r.approve(p.ID)
		r.srv.SetFaults(fakeasa.Faults{FailNth: nth, FailOutput: out})
		res, err := r.m.Push(ctx, p.ID, operator)
		if err == nil {
			t.Fatalf("%q at %d: push succeeded", out, nth)
		}
		if res.Proposal.State != remediate.StateFailed || !res.Report.RolledBack {
			t.Errorf("%q at %d: state %s rolled back %v: %v", out, nth, res.Proposal.State, res.Report.RolledBack, err)
		}
		if got := r.srv.Running(); got != r.start {
			t.Fatalf("%q at %d: device not restored:\n%s", out, nth, got)
		}
		if q := r.get(p.ID); q.LastError == "" || q.Transcript == "" {
			t.Errorf("%q at %d: failure not recorded: %+v", out, nth, q)
		}
	}
	r.srv.SetFaults(fakeasa.Faults{})
}

func TestDroppedConnectionRollsBack(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	r.srv.SetFaults(fakeasa.Faults{DropAfter: 3})
	res, err := r.m.Push(ctx, p.ID, operator)
	if !errors.Is(err, devices.ErrConnection) {
		t.Fatalf("push: %v, want ErrConnection", err)
	}
	if res.Proposal.State != remediate.StateFailed || !res.Report.RolledBack {
		t.Errorf("state %s, rolled back %v", res.Proposal.State, res.Report.RolledBack)
	}
	if got := r.srv.Running(); got != r.start {
		t.Fatalf("device not restored:\n%s", got)
	}
	if !strings.Contains(r.get(p.ID).Transcript, "reconnected for rollback") {
		t.Error("transcript lacks the rollback session")
	}
}

func TestWrongEnablePassword(t *testing.T) {
	r := newRig(t, rigOpts{enableEnv: wrongEnv})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	// Approve offline with the saved config (the device refuses us).
	if _, _, err := r.m.Approve(ctx, p.ID, operator, "", r.start); err != nil {
		t.Fatal(err)
	}
	res, err := r.m.Push(ctx, p.ID, operator)
	if !errors.Is(err, devices.ErrEnable) {
		t.Fatalf("push: %v, want ErrEnable", err)
	}
	if res.Proposal.State != remediate.StateFailed {
		t.Errorf("state %s", res.Proposal.State)
	}
	if r.srv.Running() != r.start || len(configLines(r.srv.Log())) != 0 {
		t.Errorf("device touched: %q", configLines(r.srv.Log()))
	}
	if strings.Contains(r.get(p.ID).LastError, "not-the-secret") {
		t.Error("error leaks the secret")
	}
}

func TestHostKeyMismatch(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	// Another server's key pinned for the same address.
	other, err := fakeasa.New(fakeasa.Config{RunningConfig: r.start, User: "x", Password: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	line := other.KnownHostsLine()
	_, key, _ := strings.Cut(line, " ")
	if err := writeFile(r.kh, "[127.0.0.1]:"+itoa(r.port)+" "+key+"\n"); err != nil {
		t.Fatal(err)
	}
	before := len(r.srv.Log())
	res, err := r.m.Push(ctx, p.ID, operator)
	if !errors.Is(err, devices.ErrHostKeyMismatch) {
		t.Fatalf("push: %v, want ErrHostKeyMismatch", err)
	}
	if res.Proposal.State != remediate.StateFailed {
		t.Errorf("state %s", res.Proposal.State)
	}
	if len(r.srv.Log()) != before || r.srv.Running() != r.start {
		t.Error("a command reached the device despite the wrong host key")
	}
}

func TestConfigChangedSinceApproval(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	// Someone edits the outside ACL by hand.
	tgt, err := remediate.Target(&r.pol.Devices[0])
	if err != nil {
		t.Fatal(err)
	}
	a, err := devices.DialASA(ctx, tgt, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Configure(ctx, []devices.Command{devices.MustCommand("access-list OUTSIDE_IN line 1 extended permit tcp host 192.0.2.99 any eq ssh")}); err != nil {
		t.Fatal(err)
	}
	if err := a.WriteMemory(ctx); err != nil { // saved: unsaved work is refused, see TestForeignUnsavedChanges
		t.Fatal(err)
	}
	a.Close()
	edited := r.srv.Running()
	before := len(r.srv.Log())

	_, err = r.m.Push(ctx, p.ID, operator)
	if !errors.Is(err, remediate.ErrStale) || !strings.Contains(err.Error(), "approve again") {
		t.Fatalf("push: %v, want ErrStale asking for a fresh approval", err)
	}
	if got := r.get(p.ID); got.State != remediate.StateApproved {
		t.Errorf("state %s, want approved (unchanged)", got.State)
	}
	if n := configLines(r.srv.Log()[before:]); len(n) != 0 || r.srv.Running() != edited {
		t.Errorf("sent %q after a stale approval", n)
	}
	audit, _ := r.m.Audit(ctx, p.ID, 0)
	if last := audit[len(audit)-1]; last.Action != remediate.ActionPushRefused || last.To != remediate.StateApproved {
		t.Errorf("last audit %+v", last)
	}
	// A fresh approval against the edited config pushes, after the new permit.
	d := r.approve(p.ID)
	if !slices.Contains(d.Lines, "access-list OUTSIDE_IN line 4 extended deny ip object-group FIREBREAK_BLOCK any") {
		t.Errorf("re-planned lines %q", d.Lines)
	}
	if _, err := r.m.Push(ctx, p.ID, operator); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentPushesSerialised(t *testing.T) {
	r := newRig(t, rigOpts{fake: func(c *fakeasa.Config) { c.Faults.ReplyDelay = 2e6 }})
	ctx := context.Background()
	// A block (outside ACL, group) and a SAN flow deny (inside ACL only):
	// disjoint scopes, so neither approval goes stale by the other push.
	san := critical("f2", "10.20.0.77")
	san.Detector, san.Severity, san.Subject.Peer = detect.DetectorSANCrossing, detect.SeverityHigh, netip.MustParseAddr("10.50.0.10")
	ps := r.propose(scan("f1", "203.0.113.7"), san)
	if len(ps) != 2 {
		t.Fatalf("proposals %+v", ps)
	}
	for _, p := range ps {
		r.approve(p.ID)
	}
	before := len(r.srv.Log())
	errs := make(chan error, 2)
	for _, p := range ps {
		go func() {
			_, err := r.m.Push(ctx, p.ID, operator)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Each push's session (reads, configuration, save) is contiguous: the
	// log splits into two runs, one touching only the outside ACL and the
	// group, the other only the inside ACL.
	var owner []string
	for _, l := range configLines(r.srv.Log()[before:]) {
		switch {
		case strings.Contains(l, "OUTSIDE_IN") || strings.Contains(l, "FIREBREAK_BLOCK") || strings.HasPrefix(l, "network-object") || strings.HasPrefix(l, "description"):
			owner = append(owner, "block")
		case strings.Contains(l, "INSIDE_IN"):
			owner = append(owner, "quarantine")
		}
	}
	owner = slices.Compact(owner)
	if len(owner) != 2 {
		t.Errorf("pushes interleaved: %q", owner)
	}
	for _, p := range ps {
		if got := r.get(p.ID); got.State != remediate.StateApplied {
			t.Errorf("%s: %s %s", p.ID, got.State, got.LastError)
		}
	}
}

// extraStep is a Pusher that sends one line more than approved, as a device
// or a layer below might: verification must catch it and roll back.
type extraStep struct{ remediate.SSH }

func (e extraStep) Push(ctx context.Context, dev *policies.Device, plan devices.Plan) (devices.Report, error) {
	grp := devices.MustCommand("object-group network FIREBREAK_BLOCK")
	plan.Steps = append(plan.Steps, devices.Step{Mode: grp,
		Do: devices.MustCommand("network-object host 203.0.113.66"), Undo: devices.MustCommand("no network-object host 203.0.113.66")})
	return e.SSH.Push(ctx, dev, plan)
}

func TestVerifyFailureRollsBack(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	m := remediate.New(r.st, r.pol, remediate.Options{Pusher: extraStep{}, Now: r.clk.Now})
	res, err := m.Push(ctx, p.ID, operator)
	if !errors.Is(err, devices.ErrVerify) {
		t.Fatalf("push: %v, want ErrVerify", err)
	}
	if res.Proposal.State != remediate.StateFailed || !res.Report.RolledBack || r.srv.Running() != r.start {
		t.Errorf("state %s rolled back %v, device restored %v", res.Proposal.State, res.Report.RolledBack, r.srv.Running() == r.start)
	}
}

// Two pushes of one proposal at once: one applies, the other sends nothing.
func TestSamePushTwiceAppliesOnce(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := r.m.Push(ctx, p.ID, operator)
			errs <- err
		}()
	}
	var failed []error
	for range 2 {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) != 1 || !(errors.Is(failed[0], remediate.ErrTransition) || errors.Is(failed[0], remediate.ErrNotApproved)) {
		t.Fatalf("errors %v, want one refused push", failed)
	}
	if n := strings.Count(strings.Join(configLines(r.srv.Log()), "\n"), "network-object host 203.0.113.7"); n != 1 {
		t.Errorf("member sent %d times", n)
	}
	if got := r.get(p.ID); got.State != remediate.StateApplied {
		t.Errorf("state %s", got.State)
	}
}

// TestStandbyUnitRefused: the policy's address reaches the standby unit of
// a failover pair; nothing is sent and the push fails naming it.
func TestStandbyUnitRefused(t *testing.T) {
	r := newRig(t, rigOpts{fake: func(c *fakeasa.Config) { c.Failover = "standby" }})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	if _, _, err := r.m.Approve(ctx, p.ID, operator, "", r.start); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.Push(ctx, p.ID, operator); !errors.Is(err, devices.ErrStandby) {
		t.Fatalf("push to standby: %v, want ErrStandby", err)
	}
	if r.srv.Running() != r.start || len(configLines(r.srv.Log())) != 0 {
		t.Errorf("standby touched: %q", configLines(r.srv.Log()))
	}
}

// TestLostSaveReplyKeepsVerifiedChange: the [OK] of write memory is lost
// (the flash was written): the push reconnects, finds the change still
// verified and the checksums equal, and the proposal is applied, saved.
func TestLostSaveReplyKeepsVerifiedChange(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	r.srv.SetFaults(fakeasa.Faults{DropWriteReply: true})
	res, err := r.m.Push(ctx, p.ID, operator)
	if err != nil {
		t.Fatal(err)
	}
	if res.Proposal.State != remediate.StateApplied || !res.Report.Saved || res.Report.RolledBack {
		t.Fatalf("state %s saved %v rolled back %v", res.Proposal.State, res.Report.Saved, res.Report.RolledBack)
	}
	if r.srv.Running() == r.start || r.srv.Startup() != r.srv.Running() {
		t.Error("the change is not live and saved")
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "write memory reply lost") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

// TestForeignUnsavedChanges: another admin's unsaved edit is not saved
// along with ours: the push is refused before anything is sent, unless the
// policy allows it, then it pushes with a warning.
func TestForeignUnsavedChanges(t *testing.T) {
	for _, allow := range []bool{false, true} {
		rem := ""
		if allow {
			rem = "  block_duration: {block: 24h, quarantine: 4h}\n  allow_unsaved_changes: true\n"
		}
		r := newRig(t, rigOpts{remediation: rem})
		ctx := context.Background()
		if err := r.srv.ChangeRunning("route inside 10.77.0.0 255.255.0.0 10.20.0.254 1"); err != nil {
			t.Fatal(err)
		}
		p := r.propose(scan("f1", "203.0.113.7"))[0]
		r.approve(p.ID)
		before := len(r.srv.Log())
		res, err := r.m.Push(ctx, p.ID, operator)
		if !allow {
			if !errors.Is(err, devices.ErrUnsaved) {
				t.Fatalf("push: %v, want ErrUnsaved", err)
			}
			if n := configLines(r.srv.Log()[before:]); len(n) != 0 {
				t.Errorf("sent %q", n)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(res.Warnings, "\n"), "saved those unsaved changes too") {
			t.Errorf("allowed push without the warning: %q", res.Warnings)
		}
	}
}

// TestPushRefusedWhileAnotherProcessPushes: the device's file lock in the
// data folder is held (as by a second firebreak process: flock conflicts
// between open files even within one process); a push with its own Locker
// is refused with ErrBusy, sends nothing, and succeeds once it is free.
func TestPushRefusedWhileAnotherProcessPushes(t *testing.T) {
	r := newRig(t, rigOpts{})
	dir := t.TempDir()
	m := remediate.New(r.st, r.pol, remediate.Options{Pusher: remediate.SSH{}, Now: r.clk.Now, LockDir: dir, Locker: &devices.Locker{}})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	other, err := devices.LockFile(dir, "fw1")
	if err != nil {
		t.Fatal(err)
	}
	before := len(r.srv.Log())
	_, err = m.Push(ctx, p.ID, operator)
	if !errors.Is(err, devices.ErrBusy) || !strings.Contains(err.Error(), "another firebreak process") {
		t.Fatalf("push while locked: %v, want ErrBusy", err)
	}
	if len(r.srv.Log()) != before {
		t.Errorf("device contacted while locked: %q", r.srv.Log()[before:])
	}
	if got := r.get(p.ID); got.State != remediate.StateApproved {
		t.Errorf("state %s, want approved", got.State)
	}
	other()
	if _, err := m.Push(ctx, p.ID, operator); err != nil {
		t.Fatal(err)
	}
}
