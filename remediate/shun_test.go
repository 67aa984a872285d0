package remediate_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/remediate"
)

const shunPolicy = "  block_duration: 2h\n  auto_remove_on_expiry: true\n  use_shun: true\n  shun_duration: 30m\n"

// adminExec runs a privileged-EXEC line over SSH as another administrator.
func (r *rig) adminExec(line string) {
	r.t.Helper()
	c, err := devices.NewCommand(line)
	if err != nil {
		r.t.Fatal(err)
	}
	dev, _ := r.pol.DeviceByName("fw1")
	if _, err := (remediate.SSH{}).Exec(context.Background(), dev, c); err != nil {
		r.t.Fatalf("%s: %v", line, err)
	}
}

func countLog(log []string, entry string) int {
	n := 0
	for _, l := range log {
		if l == entry {
			n++
		}
	}
	return n
}

// A shun the device already has (an administrator's) is not claimed: the
// push does not send its own, the shun's end does not remove it, and
// neither does the block's removal.
func TestShunAlreadyPresentIsNotClaimed(t *testing.T) {
	r := newRig(t, rigOpts{remediation: shunPolicy})
	ctx := context.Background()
	r.adminExec("shun 203.0.113.7")
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	res, err := r.m.Push(ctx, p.ID, operator)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Proposal
	if got.State != remediate.StateApplied || got.ShunOwned || !got.ShunForeign || !got.ShunUntil.IsZero() {
		t.Fatalf("proposal %s owned=%v foreign=%v until=%v", got.State, got.ShunOwned, got.ShunForeign, got.ShunUntil)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "already shuns 203.0.113.7") }) {
		t.Errorf("warnings %q", res.Warnings)
	}
	log := r.srv.Log()
	if n := countLog(log, "priv: shun 203.0.113.7"); n != 1 {
		t.Errorf("shun sent %d times, want once (the administrator's)", n)
	}
	if !slices.Contains(log, "priv: show shun 203.0.113.7") {
		t.Error("no show shun before placing")
	}
	r.clk.Add(31 * time.Minute)
	ex, err := r.m.Expire(ctx, r.clk.Now())
	if err != nil || len(ex.Unshunned) != 0 {
		t.Fatalf("shun end: %+v %v", ex, err)
	}
	r.clk.Add(2 * time.Hour)
	ex, err = r.m.Expire(ctx, r.clk.Now())
	if err != nil || len(ex.Removals) != 1 || ex.Removals[0].State != remediate.StateApplied {
		t.Fatalf("removal: %+v %v", ex, err)
	}
	if slices.ContainsFunc(r.srv.Log(), func(l string) bool { return strings.Contains(l, "no shun") }) {
		t.Error("firebreak removed a shun it did not place")
	}
	if s := r.srv.Shuns(); len(s) != 1 || s[0] != addr("203.0.113.7") {
		t.Errorf("the administrator's shun is gone: %v", s)
	}
	if r.srv.Running() != r.start {
		t.Errorf("block not removed exactly:\n%s", r.srv.Running())
	}
}

// A shun firebreak places is checked before (absent) and after (listed),
// owned, and removed at its end.
func TestShunPlacedIsVerifiedAndOwned(t *testing.T) {
	r := newRig(t, rigOpts{remediation: shunPolicy})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	before := len(r.srv.Log())
	res, err := r.m.Push(ctx, p.ID, operator)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Proposal; !got.ShunOwned || got.ShunForeign || !got.ShunUntil.Equal(r.clk.Now().Add(30*time.Minute)) {
		t.Fatalf("owned=%v foreign=%v until=%v", got.ShunOwned, got.ShunForeign, got.ShunUntil)
	}
	var seq []string
	for _, l := range r.srv.Log()[before:] {
		if strings.Contains(l, "shun") {
			seq = append(seq, l)
		}
	}
	want := []string{"priv: show shun 203.0.113.7", "priv: shun 203.0.113.7", "priv: show shun 203.0.113.7"}
	if !slices.Equal(seq, want) {
		t.Errorf("shun commands %q, want %q", seq, want)
	}
	r.clk.Add(31 * time.Minute)
	if ex, err := r.m.Expire(ctx, r.clk.Now()); err != nil || len(ex.Unshunned) != 1 || len(r.srv.Shuns()) != 0 {
		t.Fatalf("owned shun not ended: %+v %v %v", ex, err, r.srv.Shuns())
	}
}
