package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-dev/firebreak/remediate"
)

// policy check --json: the verdict and every problem with file, line, column and field, exit 1
// when invalid; valid policies carry the explanation.
func TestPolicyCheckJSON(t *testing.T) {
	type problem struct {
		File   string
		Line   int
		Column int
		Field  string
		Msg    string `json:"message"`
	}
	var v struct {
		Valid     bool
		Site      string
		Problems  []problem
		Explained string
	}
	code, out, errOut := runCLI(t, "", "policy", "check", "--json", filepath.Join("..", "..", "testdata", "policies", "example.yaml"))
	if code != 0 {
		t.Fatalf("valid policy: exit %d %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || !v.Valid || v.Site != "clinic" || len(v.Problems) != 0 || !strings.Contains(v.Explained, "Detectors") {
		t.Fatalf("valid policy: %v %+v", err, v)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("site: x\nnetworks:\n  - {name: a, role: lan, prefixes: [10.0.0.300/8]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "", "policy", "check", "--json", bad)
	v.Problems = nil
	if err := json.Unmarshal([]byte(out), &v); code != 1 || err != nil || v.Valid || len(v.Problems) == 0 {
		t.Fatalf("invalid policy: exit %d, %v, %s", code, err, out)
	}
	p := v.Problems[0]
	if p.File != bad || p.Line != 3 || p.Field != "networks[0].prefixes[0]" || !strings.Contains(p.Msg, "10.0.0.300") {
		t.Errorf("problem %+v", p)
	}
}

// status --json names no daemon when none runs, and the daemon's listeners, flush and counters
// when it does.
func TestStatusJSON(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(policy, []byte(`site: t
collector: {data_dir: data, udp_listen: 127.0.0.1:0, tcp_listen: "off", http_listen: "off"}
devices:
  - {name: asa1, kind: asa, syslog_sources: [127.0.0.1]}
networks:
  - {name: lan, role: workstations, prefixes: [10.0.0.0/8]}
protected: [127.0.0.0/8]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	type status struct {
		DataFolder string `json:"data_folder"`
		Daemon     *struct {
			PID      int
			UDP      string
			HTTP     string
			Counters []struct {
				Name   string
				Labels map[string]string
				Value  float64
			}
		}
	}
	var s status
	code, out, errOut := runCLI(t, "", "status", "--json", "--config", policy)
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil || s.Daemon != nil || !strings.HasSuffix(s.DataFolder, "data") {
		t.Fatalf("status --json, no daemon: exit %d %v %s%s", code, err, out, errOut)
	}
	startServe(t, dir, policy)
	code, out, errOut = runCLI(t, "", "status", "--json", "--config", policy)
	if err := json.Unmarshal([]byte(out), &s); code != 0 || err != nil || s.Daemon == nil {
		t.Fatalf("status --json, daemon: exit %d %v %s%s", code, err, out, errOut)
	}
	if s.Daemon.PID != os.Getpid() || !strings.HasPrefix(s.Daemon.UDP, "127.0.0.1:") || s.Daemon.HTTP != "off" {
		t.Errorf("daemon %+v", s.Daemon)
	}
	found := false
	for _, c := range s.Daemon.Counters {
		if c.Name == "firebreak_build_info" && c.Labels["version"] != "" && c.Value == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("no firebreak_build_info among %d counters", len(s.Daemon.Counters))
	}
}

// Shell completion offers the proposals a subcommand can act on: approve the proposed ones,
// push the approved ones.
func TestProposalIDCompletion(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	unpackFixture(t, "schema-v3.db", data) // p-0025 approved, p-0026 rejected, the rest proposed
	policy := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(policy, []byte("site: t\ncollector: {data_dir: data}\nnetworks:\n  - {name: lan, role: workstations, prefixes: [10.0.0.0/8]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ids := func(sub string) []string {
		code, out, errOut := runCLI(t, "", "__complete", "proposals", sub, "--config", policy, "")
		if code != 0 {
			t.Fatalf("__complete proposals %s: exit %d %s", sub, code, errOut)
		}
		var got []string
		for _, l := range strings.Split(out, "\n") {
			if id, _, ok := strings.Cut(l, "\t"); ok {
				got = append(got, id)
			}
		}
		return got
	}
	if got := ids("push"); strings.Join(got, ",") != "p-0025" {
		t.Errorf("push completes %v, want the approved p-0025", got)
	}
	approve := ids("approve")
	if len(approve) != 27 || strings.Contains(strings.Join(approve, ","), "p-0025") || strings.Contains(strings.Join(approve, ","), "p-0026") {
		t.Errorf("approve completes %d ids %v; want the 27 proposed ones", len(approve), approve)
	}
	if got := ids("show"); len(got) != 29 {
		t.Errorf("show completes %d ids, want all 29", len(got))
	}
}

// TestProposalStateCommandsJSON drives a block through approve, push, reconcile and revert,
// and a second proposal to reject, all with --json against the fake ASA, and decodes each
// answer: the objects say what the device and the store now hold.
func TestProposalStateCommandsJSON(t *testing.T) {
	srv, dir, base := cliRig(t, "")
	findings := filepath.Join(dir, "findings.json")
	finding := func(id, peer string) string {
		return `{"id":"` + id + `","key":"port_scan|` + peer + `","detector":"port_scan","severity":"medium","title":"scan",
		  "subject":{"peer":"` + peer + `"},"evidence":{"summary":"s","window":{"from":"2026-03-01T00:00:00Z","to":"2026-03-01T01:00:00Z"}},
		  "first_seen":"2026-03-01T00:00:00Z","last_seen":"2026-03-01T00:30:00Z","count":1,"status":"open"}`
	}
	write(t, findings, "["+finding("f1", "203.0.113.7")+","+finding("f2", "203.0.113.8")+"]")
	cli := func(wantCode int, v any, args ...string) {
		t.Helper()
		code, out, errOut := runCLI(t, "", append(append([]string{}, base...), args...)...)
		if code != wantCode {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errOut)
		}
		if v == nil {
			return
		}
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("%v --json: %v\n%s", args, err, out)
		}
		if strings.Contains(out, cliPW) || strings.Contains(out, cliEnable) {
			t.Fatalf("%v printed a secret", args)
		}
	}
	cli(0, nil, "propose", "--findings", findings)
	var list []remediate.Proposal
	cli(0, &list, "proposals", "list", "--json", "--state", "proposed")
	if len(list) != 2 {
		t.Fatalf("proposed: %+v", list)
	}
	id, other := list[0].ID, list[1].ID

	var ap approveJSON
	cli(0, &ap, "proposals", "approve", id, "--comment", "scan", "--json")
	if ap.Proposal.State != remediate.StateApproved || !ap.Complete || len(ap.DryRun.Lines) == 0 || ap.Proposal.Approval == nil {
		t.Fatalf("approve --json: state %s complete %v lines %v", ap.Proposal.State, ap.Complete, ap.DryRun.Lines)
	}

	var push pushJSON
	cli(0, &push, "proposals", "push", id, "--json")
	if push.Proposal.State != remediate.StateApplied || !push.Verified || !push.Saved || push.RolledBack || push.Error != "" {
		t.Fatalf("push --json: %+v", push)
	}
	applied := strings.Join(push.Applied, "\n")
	if !strings.Contains(applied, "host 203.0.113.7") || !strings.Contains(srv.Running(), "host 203.0.113.7") {
		t.Fatalf("push --json applied %q; device running config lacks the deny", applied)
	}
	if strings.Contains(applied, "203.0.113.8") {
		t.Fatalf("push of %s applied the other proposal's target: %q", id, applied)
	}

	var rec reconcileJSON
	cli(0, &rec, "proposals", "reconcile", "--json")
	if rec.Checked != 1 || rec.Drift != 0 || len(rec.Drifting) != 0 {
		t.Fatalf("reconcile --json: %+v", rec)
	}

	// Pushing it again is refused; the object still comes, with the error, and exit 1.
	var again pushJSON
	cli(1, &again, "proposals", "push", id, "--json")
	if again.Error == "" || again.Verified {
		t.Fatalf("second push --json: %+v", again)
	}

	var rej remediate.Proposal
	cli(0, &rej, "proposals", "reject", other, "--reason", "known partner", "--json")
	if rej.ID != other || rej.State != remediate.StateRejected {
		t.Fatalf("reject --json: %s %s", rej.ID, rej.State)
	}

	var rv revertJSON
	cli(0, &rv, "proposals", "revert", id, "--comment", "done", "--json")
	if rv.Reverted != id || rv.Removal.RemovalOf != id || rv.Removal.State != remediate.StateApplied {
		t.Fatalf("revert --json: %+v", rv)
	}
	if strings.Contains(srv.Running(), "host 203.0.113.7") {
		t.Fatal("revert --json: the deny is still on the device")
	}

	var ex expireJSON
	cli(0, &ex, "proposals", "expire", "--json")
	if ex.Removals == nil || ex.Unshunned == nil || len(ex.Removals) != 0 {
		t.Fatalf("expire --json: %+v", ex)
	}

	var chk struct {
		OK       bool   `json:"ok"`
		Path     string `json:"path"`
		Commands int    `json:"commands"`
		Accepted bool   `json:"accepted"`
	}
	cli(0, &chk, "db", "check", "--json")
	if !chk.OK || chk.Commands == 0 || !strings.HasSuffix(chk.Path, "firebreak.db") || chk.Accepted {
		t.Fatalf("db check --json: %+v", chk)
	}
}

// TestIngestJSON: ingest --json counts every line of the file once, by how it parsed.
func TestIngestJSON(t *testing.T) {
	_, _, base := cliRig(t, "")
	file := filepath.Join("..", "..", "testdata", "syslog", "unparsed.log")
	code, out, errOut := runCLI(t, "", append(append([]string{}, base...), "ingest", "--json", file)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var js ingestJSON
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := countLines(t, file)
	if js.Lines != int64(want) || js.Files != 1 || js.Typed+js.HeaderOnly+js.Unparsed != int64(want) || js.Unparsed == 0 || js.Error != "" {
		t.Fatalf("ingest --json of %d lines: %+v", want, js)
	}
	// A missing file: exit 1, and the object names it.
	code, out, _ = runCLI(t, "", append(append([]string{}, base...), "ingest", "--json", file+".absent")...)
	if err := json.Unmarshal([]byte(out), &js); code != 1 || err != nil || len(js.FileErrors)+len(js.Error) == 0 {
		t.Fatalf("missing file: exit %d, %v, %+v", code, err, js)
	}
}

func TestVersionJSON(t *testing.T) {
	code, out, _ := runCLI(t, "", "version", "--json")
	var v struct{ Version, Revision, Go string }
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Version != version || !strings.HasPrefix(v.Go, "go") {
		t.Fatalf("version --json: exit %d, %v, %s", code, err, out)
	}
}

// TestDBBackupRestoreJSON: backup and restore --json name the file and what it holds.
func TestDBBackupRestoreJSON(t *testing.T) {
	_, dir, base := cliRig(t, "")
	cli := func(args ...string) (int, string, string) {
		return runCLI(t, "", append(append([]string{}, base...), args...)...)
	}
	if code, _, errOut := cli("ingest", filepath.Join("..", "..", "testdata", "syslog", "unparsed.log")); code != 0 {
		t.Fatalf("ingest: %s", errOut)
	}
	file := filepath.Join(dir, "b.db")
	code, out, errOut := cli("db", "backup", file, "--json")
	var b struct {
		File  string `json:"file"`
		Bytes int64  `json:"bytes"`
		Holds struct {
			Schema int `json:"schema"`
			Keys   int `json:"keys"`
		} `json:"holds"`
	}
	if err := json.Unmarshal([]byte(out), &b); code != 0 || err != nil {
		t.Fatalf("backup --json: exit %d %v: %s %s", code, err, out, errOut)
	}
	fi, err := os.Stat(file)
	if err != nil || b.File != file || b.Bytes != fi.Size() || b.Holds.Keys == 0 || b.Holds.Schema == 0 {
		t.Fatalf("backup --json: %+v (file: %v)", b, err)
	}
	if code, _, _ := cli("db", "backup", "-", "--json"); code != 2 {
		t.Fatalf("backup - --json: exit %d, want 2 (standard output is the database)", code)
	}
	code, out, errOut = cli("db", "restore", file, "--json")
	var r struct {
		Restored string `json:"restored"`
		Holds    struct {
			Keys int `json:"keys"`
		} `json:"holds"`
	}
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r.Restored != file || r.Holds.Keys != b.Holds.Keys {
		t.Fatalf("restore --json: exit %d %v: %+v %s", code, err, r, errOut)
	}
}

func TestGenJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "g")
	code, out, errOut := runCLI(t, "", "gen", "--days", "2", "--lines-per-day", "2000", "--seed", "3", "--out", dir, "--json")
	var g struct {
		Lines    int64  `json:"lines"`
		ASALines int64  `json:"asa_lines"`
		Days     int    `json:"days"`
		ASA      string `json:"asa_log"`
		Truth    string `json:"truth"`
	}
	if err := json.Unmarshal([]byte(out), &g); code != 0 || err != nil {
		t.Fatalf("gen --json: exit %d %v: %s %s", code, err, out, errOut)
	}
	if g.Days != 2 || g.ASA != filepath.Join(dir, "asa1.log") || countLines(t, g.ASA) != int(g.ASALines) || g.ASALines == 0 {
		t.Fatalf("gen --json: %+v", g)
	}
	if code, _, _ := runCLI(t, "", "gen", "--out", dir, "--send", "udp://127.0.0.1:9", "--json"); code != 2 {
		t.Fatalf("gen --send --json: exit %d, want 2", code)
	}
}
