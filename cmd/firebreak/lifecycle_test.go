package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/firebreak-dev/firebreak/detect"
)

// TestFindingsLifecycleCommands acts on stored findings through the CLI and checks the stored
// state, the audit log, the report's status column, a policy rule and the errors people see.
func TestFindingsLifecycleCommands(t *testing.T) {
	policy, data, at := detectScenario(t)
	base := []string{"--config", policy, "--data-dir", data}
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, "", append(append([]string{}, args...), base...)...)
	}
	if code, _, errOut := cli("detect", "--at", at); code != 0 {
		t.Fatalf("detect: exit %d: %s", code, errOut)
	}
	code, out, _ := cli("findings", "--json")
	var fs []detect.Finding
	if code != 0 || json.Unmarshal([]byte(out), &fs) != nil || len(fs) < 3 {
		t.Fatalf("findings: exit %d, %d findings", code, len(fs))
	}
	a, b, c := fs[0].ID, fs[1].ID, fs[2].ID
	// Shell completion (cobra's hidden __complete) offers the stored IDs.
	code, out, errOut := runCLI(t, "", append(append([]string{"__complete", "findings", "ack"}, base...), "")...)
	if code != 0 || !strings.Contains(out, a+"\t") || !strings.Contains(out, c+"\t") || !strings.Contains(out, ":4") {
		t.Errorf("__complete findings ack: exit %d %s:\n%s", code, errOut, out)
	}

	code, out, errOut = cli("findings", "ack", a, "--comment", "on it", "--json")
	var f detect.Finding
	if code != 0 || json.Unmarshal([]byte(out), &f) != nil || f.Status != detect.StatusAcknowledged || f.Comment != "on it" {
		t.Fatalf("ack --json: exit %d %s: %+v", code, errOut, f)
	}
	if code, _, errOut = cli("findings", "ack", a); code != 1 || !strings.Contains(errOut, "finding is acknowledged") {
		t.Errorf("ack twice: exit %d, %q; want 1 and the status named", code, errOut)
	}
	if code, out, errOut = cli("findings", "resolve", b, "--comment", "patched"); code != 0 || !strings.Contains(out, b+" resolved") {
		t.Errorf("resolve: exit %d %s: %q", code, errOut, out)
	}
	if code, out, errOut = cli("findings", "suppress", c, "--for", "30d", "--reason", "known backup job"); code != 0 ||
		!strings.Contains(out, "suppressed until") || !strings.Contains(out, "known backup job") {
		t.Errorf("suppress: exit %d %s: %q", code, errOut, out)
	}
	if code, _, errOut = cli("findings", "suppress", c, "--for", "30d"); code != exitUsage {
		t.Errorf("suppress without --reason: exit %d %q; want usage", code, errOut)
	}
	if code, _, errOut = cli("findings", "suppress", c, "--for", "soon", "--reason", "x"); code != exitUsage || !strings.Contains(errOut, "--for") {
		t.Errorf("suppress --for soon: exit %d %q; want usage", code, errOut)
	}
	if code, _, errOut = cli("findings", "reopen", "00000000"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("reopen unknown: exit %d %q", code, errOut)
	}
	code, out, _ = cli("findings", "--status", "suppressed", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &fs) != nil || len(fs) != 1 || fs[0].ID != c || fs[0].Suppressed.Reason != "known backup job" {
		t.Errorf("findings --status suppressed: exit %d %+v", code, fs)
	}
	code, out, _ = cli("findings", "show", c)
	if code != 0 || !strings.Contains(out, "status     suppressed until") {
		t.Errorf("show suppressed:\n%s", out)
	}

	// The rerun of the window keeps every status; the report shows them.
	if code, _, errOut = cli("detect", "--at", at); code != 0 {
		t.Fatalf("detect again: exit %d %s", code, errOut)
	}
	code, out, errOut = cli("report", "--at", at, "--format", "text")
	if code != 0 || !strings.Contains(out, "Status") || !strings.Contains(out, "acknowledged") || !strings.Contains(out, "suppressed until") {
		t.Errorf("report text lacks statuses: exit %d %s\n%s", code, errOut, out)
	}
	code, out, _ = cli("report", "--at", at, "--format", "html")
	if code != 0 || !strings.Contains(out, "<th>Status</th>") || !strings.Contains(out, "known backup job") {
		t.Errorf("report html lacks the status column")
	}

	code, out, _ = cli("findings", "audit", "--json")
	var es []detect.AuditEntry
	if code != 0 || json.Unmarshal([]byte(out), &es) != nil || len(es) != 3 {
		t.Fatalf("audit: exit %d, %+v", code, es)
	}
	for i, want := range []struct{ id, action, to string }{{a, detect.ActAck, "acknowledged"}, {b, detect.ActResolve, "resolved"}, {c, detect.ActSuppress, "suppressed"}} {
		if e := es[i]; e.Finding != want.id || e.Action != want.action || e.To != want.to || e.Who == "" {
			t.Errorf("audit[%d] = %+v; want %+v", i, e, want)
		}
	}

	// A policy rule: every finding of the first one's detector and host is suppressed on the
	// next run and named by its policy line.
	code, out, _ = cli("findings", "show", a, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &f) != nil {
		t.Fatal("show a")
	}
	rule := "findings:\n  suppress:\n    - detector: " + f.Detector + "\n      reason: accepted by the clinic\n"
	switch {
	case f.Subject.Host.IsValid():
		rule += "      host: " + f.Subject.Host.String() + "\n"
	case f.Subject.Peer.IsValid():
		rule += "      peer: " + f.Subject.Peer.String() + "\n"
	default:
		t.Skipf("finding %s has no address subject", a)
	}
	pb, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policy, append(append(pb, '\n'), rule...), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut = cli("detect", "--at", at); code != 0 {
		t.Fatalf("detect with rule: exit %d %s", code, errOut)
	}
	code, out, _ = cli("findings", "show", a)
	if code != 0 || !strings.Contains(out, "suppressed by policy rule site.yaml:") || !strings.Contains(out, "accepted by the clinic") {
		t.Errorf("ruled finding:\n%s", out)
	}
	if code, _, errOut = cli("findings", "reopen", a); code != 1 || !strings.Contains(errOut, "change that rule") {
		t.Errorf("reopen ruled: exit %d %q", code, errOut)
	}
}
