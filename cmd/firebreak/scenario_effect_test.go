package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// TestScenarioBlocksDropTheirFlows runs the demo's generated 30-day
// scenario, then pushes every proposed block and quarantine (at least one
// of each: the compromised workstation's lateral movement is a critical
// segment violation), one at a time, to a fresh fake ASA over SSH and
// judges with the fake's own data path: each change has a finding flow the
// fake permits before, every finding flow must turn to dropped and none of
// the policy's allowed flows (management, DNS) may change verdict; the
// changes stored ineffective are never proposed. FIREBREAK_SCENARIO_LINES sets
// the lines per day (default 3000; the demo uses 20000).
func TestScenarioBlocksDropTheirFlows(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests a 30-day scenario")
	}
	lines := 3000
	if v, err := strconv.Atoi(os.Getenv("FIREBREAK_SCENARIO_LINES")); err == nil && v > 0 {
		lines = v
	}
	dir := t.TempDir()
	if code, out, errOut := runCLI(t, "", "demo", "--dir", dir, "--days", "30", "--lines-per-day", strconv.Itoa(lines)); code != 0 {
		t.Fatalf("demo exit %d\n%s\n%s", code, out, errOut)
	}
	running, err := os.ReadFile(filepath.Join(dir, "asa1.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base, err := policies.Load(filepath.Join(dir, "demo-site.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := stats.Open(ctx, base.Collector.DataDir, stats.Options{Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := remediate.New(st, base, remediate.Options{}).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var changes, quarantines, ineffective, flows, permittedBefore, dropped, allowed, changed int
	for _, p := range all {
		if p.Kind != remediate.KindBlock && p.Kind != remediate.KindQuarantine {
			continue
		}
		if p.Effect != nil && p.Effect.Ineffective != "" {
			ineffective++
			if p.State != remediate.StateRejected {
				t.Errorf("%s is %s although ineffective: %s", p.ID, p.State, p.Effect.Ineffective)
			}
		}
		if p.State != remediate.StateProposed {
			continue
		}
		changes++
		if p.Kind == remediate.KindQuarantine {
			quarantines++
		}
		asa, err := fakeasa.New(fakeasa.Config{RunningConfig: string(running), User: "firebreak", Password: "pw-scenario", EnableSecret: "en-scenario"})
		if err != nil {
			t.Fatal(err)
		}
		addr, err := asa.Start()
		if err != nil {
			t.Fatal(err)
		}
		polPath, err := demoPolicy(filepath.Join(dir, "site.yaml"), addr, filepath.Join(t.TempDir(), "known_hosts"), asa)
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("FIREBREAK_ASA_PASSWORD", "pw-scenario")
		t.Setenv("FIREBREAK_ASA_ENABLE", "en-scenario")
		pol, err := policies.Load(polPath)
		if err != nil {
			t.Fatal(err)
		}
		m := remediate.New(st, pol, remediate.Options{Pusher: remediate.SSH{}})
		cfg, err := asaconfig.Parse(running)
		if err != nil {
			t.Fatal(err)
		}
		prot := m.ProtectedFlows(cfg, p.Target)
		before := make([]bool, len(prot))
		for i, f := range prot {
			before[i] = traced(t, asa, f.Flow, cfg)
		}
		opens := 0
		for _, f := range p.Flows {
			f.SrcPort++
			if traced(t, asa, f, cfg) {
				opens++
			}
		}
		if opens == 0 {
			t.Errorf("%s %s %s: none of its flows is permitted by the fake before the change", p.ID, p.Kind, p.Target)
		}
		permittedBefore += opens
		if _, _, err := m.Approve(ctx, p.ID, "test", "scenario", asa.Running()); err != nil {
			t.Fatalf("approve %s: %v", p.ID, err)
		}
		if _, err := m.Push(ctx, p.ID, "test"); err != nil {
			t.Fatalf("push %s: %v", p.ID, err)
		}
		for _, f := range p.Flows {
			flows++
			f.SrcPort++ // a new connection
			if !traced(t, asa, f, cfg) {
				dropped++
			} else {
				t.Errorf("%s %s: %s still allowed by the fake", p.ID, p.Target, f)
			}
		}
		for i, f := range prot {
			allowed++
			if traced(t, asa, f.Flow, cfg) != before[i] {
				changed++
				t.Errorf("%s: %s (%s) changed verdict", p.ID, f.Flow, f.What)
			}
		}
		asa.Close()
	}
	t.Logf("30-day scenario: %d proposed changes pushed (%d blocks, %d quarantines); %d finding flows, %d permitted before, %d dropped after by the fake; %d allowed/management/DNS flow checks, %d changed; %d stored ineffective",
		changes, changes-quarantines, quarantines, flows, permittedBefore, dropped, allowed, changed, ineffective)
	if changes == 0 || flows == 0 || quarantines == 0 || quarantines == changes {
		t.Fatalf("nothing checked: %d changes (%d quarantines), %d flows", changes, quarantines, flows)
	}
}

// traced is the fake's verdict on f (true: allowed), entering where the
// source routes through when the flow names no interface.
func traced(t *testing.T, asa *fakeasa.Server, f datapath.Flow, cfg *asaconfig.Config) bool {
	t.Helper()
	in := f.Ingress
	if in == "" {
		in = datapath.New(cfg, datapath.Options{}).RouteInterface(f.Src)
	}
	v, err := asa.Trace(fakeasa.Flow{Interface: in, Proto: datapath.ProtoName(f.Proto), Src: f.Src, Dst: f.Dst, SrcPort: f.SrcPort, DstPort: f.DstPort, ICMPType: f.ICMPType, ICMPCode: f.ICMPCode})
	if err != nil {
		t.Fatal(err)
	}
	return v.Allowed
}
