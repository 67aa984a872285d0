package remediate_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/firebreak-dev/firebreak/remediate"
)

func driftGauge(t *testing.T, reg *prometheus.Registry, shun, config int) {
	t.Helper()
	want := `# HELP firebreak_remediation_drift Applied proposals whose device differs from them at the last reconciliation, not repaired (config: entries gone; shun: a lost shun that could not be placed again).
# TYPE firebreak_remediation_drift gauge
firebreak_remediation_drift{kind="config"} ` + itoa(config) + `
firebreak_remediation_drift{kind="shun"} ` + itoa(shun) + "\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "firebreak_remediation_drift"); err != nil {
		t.Error(err)
	}
}

// A shun firebreak placed is gone after a reload and after a failover (the
// box keeps shuns in memory only): reconciliation notices it by `show
// shun`, places it again in privileged EXEC (never configuration mode), and
// records the drift. An entry an administrator deleted is config drift,
// reported and not re-added.
func TestReconcileReshunsAfterReloadAndFailover(t *testing.T) {
	r := newRig(t, rigOpts{remediation: "  block_duration: 2h\n  use_shun: true\n  shun_duration: 1h\n"})
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	reg.MustRegister(remediate.NewMetrics(r.m))
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	if res, err := r.m.Push(ctx, p.ID, operator); err != nil || !res.Proposal.ShunOwned {
		t.Fatalf("push: %v owned=%v", err, res.Proposal.ShunOwned)
	}
	// Nothing to do while all is in place.
	rep, err := r.m.Reconcile(ctx, r.clk.Now())
	if err != nil || rep.Checked != 1 || rep.Drift != 0 || rep.Repaired != 0 {
		t.Fatalf("in place: %+v %v", rep, err)
	}
	if got := r.get(p.ID); got.Drift != nil {
		t.Errorf("drift %+v", got.Drift)
	}

	for _, event := range []struct {
		name string
		do   func() error
	}{
		{"reload", r.srv.Reload},
		{"failover", func() error { r.srv.FailOver(); return nil }},
	} {
		r.clk.Add(10 * time.Minute)
		if err := event.do(); err != nil {
			t.Fatal(err)
		}
		if len(r.srv.Shuns()) != 0 {
			t.Fatalf("%s kept the shun", event.name)
		}
		before := len(r.srv.Log())
		rep, err := r.m.Reconcile(ctx, r.clk.Now())
		if err != nil || rep.Checked != 1 || rep.Repaired != 1 || rep.Drift != 0 {
			t.Fatalf("%s: %+v %v", event.name, rep, err)
		}
		if s := r.srv.Shuns(); len(s) != 1 || s[0] != addr("203.0.113.7") {
			t.Errorf("%s: shuns %v", event.name, s)
		}
		log := r.srv.Log()[before:]
		for _, l := range log {
			if strings.HasPrefix(l, "config: ") || strings.Contains(l, "configure terminal") {
				t.Errorf("%s: reconciliation entered configuration mode: %q", event.name, l)
			}
		}
		if !slices.Contains(log, "priv: shun 203.0.113.7") {
			t.Errorf("%s: no re-shun in %q", event.name, log)
		}
		got := r.get(p.ID)
		if len(got.Drift) != 1 || got.Drift[0].Kind != remediate.DriftShun || !got.Drift[0].Repaired {
			t.Errorf("%s: drift %+v", event.name, got.Drift)
		}
		driftGauge(t, reg, 0, 0)
	}
	audit, _ := r.m.Audit(ctx, p.ID, 0)
	var acts []string
	for _, e := range audit {
		acts = append(acts, e.Action)
	}
	if n := strings.Count(strings.Join(acts, " "), remediate.ActionReshun); n != 2 {
		t.Errorf("audit %q: %d re-shuns, want 2", acts, n)
	}

	// An administrator deletes the deny: reported, not re-added.
	if err := r.srv.ChangeRunning("no access-list OUTSIDE_IN extended deny ip host 203.0.113.7 any time-range FIREBREAK-" + p.ID); err != nil {
		t.Fatal(err)
	}
	before := len(r.srv.Log())
	rep, err = r.m.Reconcile(ctx, r.clk.Now())
	if err != nil || rep.Drift != 1 {
		t.Fatalf("config drift: %+v %v", rep, err)
	}
	got := r.get(p.ID)
	if d := got.OpenDrift(); len(d) != 1 || d[0].Kind != remediate.DriftConfig || !strings.Contains(d[0].Detail, "deny ip host 203.0.113.7 any time-range") {
		t.Errorf("drift %+v", got.Drift)
	}
	if slices.ContainsFunc(r.srv.Log()[before:], func(l string) bool { return strings.HasPrefix(l, "config: ") }) {
		t.Error("config drift was pushed back without an approval")
	}
	driftGauge(t, reg, 0, 1)
	if last, ok, err := r.m.LastReconcile(ctx); err != nil || !ok || !last.At.Equal(r.clk.Now()) || last.Drift != 1 {
		t.Errorf("last reconcile %+v %v %v", last, ok, err)
	}
	// Past the shun's end, a lost shun is not placed again.
	r.clk.Add(time.Hour)
	if err := r.srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if rep, _ := r.m.Reconcile(ctx, r.clk.Now()); rep.Repaired != 0 || len(r.srv.Shuns()) != 0 {
		t.Errorf("ended shun placed again: %+v %v", rep, r.srv.Shuns())
	}
}
