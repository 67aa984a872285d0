package main

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

// The daemon's first remediation pass runs at start: a block that ended
// while the daemon was down is removed from the device, and a shun lost
// while it was down (the box reloaded) is placed again and reported.
func TestDaemonStartExpiresAndReconciles(t *testing.T) {
	srv, dir, _ := cliRig(t, `collector: {udp_listen: 127.0.0.1:0, tcp_listen: "off", http_listen: "off", data_dir: data}
remediation: {block_duration: 2h, auto_remove_on_expiry: true, use_shun: true, shun_duration: 1h}
`)
	policy := filepath.Join(dir, "site.yaml")
	pol, err := policies.Load(policy)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := stats.Open(ctx, filepath.Join(dir, "data"), stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	push := func(at time.Time, peer string) string {
		t.Helper()
		m := remediate.New(st, pol, remediate.Options{Pusher: remediate.SSH{}, Now: func() time.Time { return at }})
		ps, err := m.Propose(ctx, "alice", []detect.Finding{{ID: "f-" + peer, Key: "port_scan|" + peer, Detector: detect.DetectorPortScan,
			Severity: detect.SeverityMedium, Subject: detect.Subject{Peer: netip.MustParseAddr(peer)}, Status: "open"}}, nil)
		if err != nil || len(ps) != 1 {
			t.Fatalf("propose %s: %v %+v", peer, err, ps)
		}
		running, err := m.Running(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := m.Approve(ctx, ps[0].ID, "alice", "ok", running); err != nil {
			t.Fatal(err)
		}
		if res, err := m.Push(ctx, ps[0].ID, "alice"); err != nil || !res.Proposal.ShunOwned {
			t.Fatalf("push %s: %v", peer, err)
		}
		return ps[0].ID
	}
	// firebreak pushed one block three hours ago (by the box's clock too) and one now,
	// then stopped; the box reloaded meanwhile.
	past := time.Now().Add(-3 * time.Hour)
	srv.SetNow(func() time.Time { return past })
	old := push(past, "203.0.113.7")
	srv.SetNow(nil)
	cur := push(time.Now(), "203.0.113.8")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if len(srv.Shuns()) != 0 {
		t.Fatal("reload kept shuns")
	}

	passes := make(chan struct{}, 8)
	testHookRemediationPass = func() { passes <- struct{}{} }
	t.Cleanup(func() { testHookRemediationPass = nil })
	stop := startServe(t, dir, policy)
	select {
	case <-passes:
	case <-time.After(60 * time.Second):
		t.Fatal("no remediation pass at daemon start")
	}
	run := srv.Running()
	if strings.Contains(run, "FIREBREAK-"+old) || strings.Contains(run, "203.0.113.7") {
		t.Errorf("the ended block is still on the device:\n%s", run)
	}
	if !strings.Contains(run, "deny ip host 203.0.113.8 any time-range FIREBREAK-"+cur) {
		t.Errorf("the current block is gone:\n%s", run)
	}
	if s := srv.Shuns(); !slices.Equal(s, []netip.Addr{netip.MustParseAddr("203.0.113.8")}) {
		t.Errorf("shuns after start %v, want the current block's placed again", s)
	}
	code, out, errOut := runCLI(t, "", "status", "--config", policy)
	if code != 0 || !strings.Contains(out, "1 applied checked, 0 with drift, 1 repaired") {
		t.Errorf("status exit %d:\n%s%s", code, out, errOut)
	}
	stop()

	st, err = stats.Open(ctx, filepath.Join(dir, "data"), stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := remediate.New(st, pol, remediate.Options{})
	if p, _ := m.Get(ctx, old); p.State != remediate.StateExpired {
		t.Errorf("%s is %s, want expired", old, p.State)
	}
	if p, _ := m.Get(ctx, cur); len(p.Drift) != 1 || p.Drift[0].Kind != remediate.DriftShun || !p.Drift[0].Repaired {
		t.Errorf("%s drift %+v", cur, p.Drift)
	}
	// An administrator deletes the current block's deny: the next reconciliation reports
	// it in status and in the report's active blocks.
	if err := srv.ChangeRunning("no access-list OUTSIDE_IN extended deny ip host 203.0.113.8 any time-range FIREBREAK-" + cur); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "", "proposals", "reconcile", "--config", policy)
	if code != 0 || !strings.Contains(out, "1 applied checked, 1 with drift, 0 repaired") || !strings.Contains(out, cur+" config: running config:") {
		t.Fatalf("proposals reconcile exit %d:\n%s%s", code, out, errOut)
	}
	if code, out, _ = runCLI(t, "", "proposals", "show", cur, "--config", policy); !strings.Contains(out, "drift      ") || !strings.Contains(out, "(placed by firebreak until ") {
		t.Errorf("proposals show:\n%s", out)
	}
	code, out, errOut = runCLI(t, "", "status", "--config", policy)
	if code != 0 || !strings.Contains(out, "1 with drift") || !strings.Contains(out, "DRIFT       "+cur+" config: running config: \"access-list OUTSIDE_IN extended deny ip host 203.0.113.8 any time-range FIREBREAK-"+cur+"\" is gone") {
		t.Errorf("status exit %d:\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "report", "--config", policy, "--format", "text")
	if code != 0 || !strings.Contains(out, "DRIFT config: running config:") {
		t.Errorf("report exit %d:\n%s%s", code, out, errOut)
	}
}

// After the pass at start the daemon passes again on its interval (hourly;
// shortened here): a shun lost while it runs (the box reloaded) is placed
// again by a later pass, without anyone asking.
func TestDaemonReconcilesOnItsInterval(t *testing.T) {
	srv, dir, _ := cliRig(t, `collector: {udp_listen: 127.0.0.1:0, tcp_listen: "off", http_listen: "off", data_dir: data}
remediation: {block_duration: 2h, use_shun: true, shun_duration: 1h}
`)
	policy := filepath.Join(dir, "site.yaml")
	pol, err := policies.Load(policy)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := stats.Open(ctx, filepath.Join(dir, "data"), stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := remediate.New(st, pol, remediate.Options{Pusher: remediate.SSH{}})
	ps, err := m.Propose(ctx, "alice", []detect.Finding{{ID: "f1", Key: "port_scan|203.0.113.9", Detector: detect.DetectorPortScan,
		Severity: detect.SeverityMedium, Subject: detect.Subject{Peer: netip.MustParseAddr("203.0.113.9")}, Status: "open"}}, nil)
	if err != nil || len(ps) != 1 {
		t.Fatalf("propose: %v %+v", err, ps)
	}
	running, err := m.Running(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Approve(ctx, ps[0].ID, "alice", "", running); err != nil {
		t.Fatal(err)
	}
	if res, err := m.Push(ctx, ps[0].ID, "alice"); err != nil || !res.Proposal.ShunOwned {
		t.Fatalf("push: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	passes := make(chan struct{}, 8)
	testHookRemediationPass = func() {
		select { // never blocks the daemon: the test reads only a few
		case passes <- struct{}{}:
		default:
		}
	}
	every := remediationEvery
	remediationEvery = 100 * time.Millisecond
	t.Cleanup(func() { testHookRemediationPass, remediationEvery = nil, every })
	wait := func(what string) {
		t.Helper()
		select {
		case <-passes:
		case <-time.After(60 * time.Second):
			t.Fatalf("no remediation pass %s", what)
		}
	}
	stop := startServe(t, dir, policy)
	wait("at start")
	want := []netip.Addr{netip.MustParseAddr("203.0.113.9")}
	if s := srv.Shuns(); !slices.Equal(s, want) {
		t.Fatalf("shuns after start %v", s)
	}
	if err := srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if len(srv.Shuns()) != 0 {
		t.Fatal("reload kept shuns")
	}
	// Passes that ended before the reload do not count; one that began
	// before it may end after it; the second one began after.
	for len(passes) > 0 {
		<-passes
	}
	wait("after the reload")
	wait("after the reload (second)")
	if s := srv.Shuns(); !slices.Equal(s, want) {
		t.Errorf("shuns after later passes %v, want the lost one placed again", s)
	}
	stop()
}
