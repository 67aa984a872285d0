package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/detect"
)

// detectScenario generates a small 10-day scenario ending yesterday (so the hourly
// retention keeps it) and ingests it; it returns the policy, data dir and the end as --at.
func detectScenario(t *testing.T) (policy, data, at string) {
	t.Helper()
	dir := t.TempDir()
	start := time.Now().AddDate(0, 0, -11).Format(time.DateOnly)
	if code, _, errOut := runCLI(t, "", "gen", "--days", "10", "--seed", "3", "--lines-per-day", "3000", "--start", start, "--out", dir); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, errOut)
	}
	policy, data = filepath.Join(dir, "site.yaml"), filepath.Join(dir, "data")
	if code, _, errOut := runCLI(t, "", "ingest", "--config", policy, "--data-dir", data,
		filepath.Join(dir, "asa1.log"), filepath.Join(dir, "routers.log")); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errOut)
	}
	at = time.Now().AddDate(0, 0, -1).Format(time.DateOnly)
	return policy, data, at
}

func TestDetectFindingsAndTermsCommands(t *testing.T) {
	policy, data, at := detectScenario(t)
	base := []string{"--config", policy, "--data-dir", data}
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, "", append(append([]string{}, args...), base...)...)
	}

	code, out, errOut := cli("detect", "--at", at, "--json")
	if code != 0 {
		t.Fatalf("detect: exit %d: %s", code, errOut)
	}
	var res detect.RunResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("detect --json: %v", err)
	}
	if len(res.Findings) == 0 || len(res.Detectors) != 10 {
		t.Fatalf("detect: %d findings by %d detectors; want some by 10", len(res.Findings), len(res.Detectors))
	}
	for _, f := range res.Findings {
		if f.Change != detect.ChangeNew {
			t.Errorf("first run: %s is %s; want new", f.Key, f.Change)
		}
	}

	// The same window again: nothing new, nothing counted twice.
	code, out, errOut = cli("detect", "--at", at)
	if code != 0 {
		t.Fatalf("detect again: exit %d: %s", code, errOut)
	}
	if want := regexp.MustCompile(`: (\d+) findings \(0 new, 0 updated, 0 reopened, (\d+) already reported\)`); !want.MatchString(out) {
		t.Errorf("rerun printed %q; want every finding already reported", detectFirstLine(out))
	}

	code, out, errOut = cli("findings", "list", "--json")
	if code != 0 {
		t.Fatalf("findings: exit %d: %s", code, errOut)
	}
	var fs []detect.Finding
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("findings --json: %v", err)
	}
	if len(fs) != len(res.Findings) {
		t.Errorf("%d stored findings; want %d (no duplicates)", len(fs), len(res.Findings))
	}
	for _, f := range fs {
		if f.Count != 1 {
			t.Errorf("%s count %d after two runs of one window; want 1", f.Key, f.Count)
		}
	}

	code, out, _ = cli("findings", "--detector", detect.DetectorPrinterEgress, "--severity", "high")
	if code != 0 || !strings.Contains(out, "printer_egress") || strings.Contains(out, "dns_unapproved") {
		t.Errorf("findings --detector printer_egress: exit %d:\n%s", code, out)
	}
	code, out, _ = cli("findings", "show", fs[0].ID)
	if code != 0 || !strings.Contains(out, fs[0].Key) || !strings.Contains(out, "evidence") {
		t.Errorf("findings show %s: exit %d:\n%s", fs[0].ID, code, out)
	}
	if code, _, errOut = cli("findings", "show", "00000000"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("findings show unknown: exit %d, %q", code, errOut)
	}
	if code, _, _ = cli("findings", "--detector", "nosuch"); code == 0 {
		t.Error("findings --detector nosuch: exit 0")
	}

	code, out, errOut = cli("terms", "--field", "destination.port", "--since", "3d", "--at", at, "--size", "5", "--min-doc-count", "1")
	if code != 0 || !strings.Contains(out, "SCORE") || !strings.Contains(out, "destination.port, jlh") {
		t.Errorf("terms: exit %d: %s\n%s", code, errOut, out)
	}
	code, out, _ = cli("terms", "--field", "source.ip", "--since", "24h", "--at", at, "--heuristic", "chi_square", "--json")
	var tr detect.TermsResult
	if code != 0 || json.Unmarshal([]byte(out), &tr) != nil || tr.Heuristic != "chi_square" || tr.Superset < tr.Subset {
		t.Errorf("terms --json: exit %d, %+v", code, tr)
	}
	if code, _, _ = cli("terms", "--field", "nosuch"); code == 0 {
		t.Error("terms --field nosuch: exit 0")
	}
}

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runCLI(t, "", "gen", "--days", "1", "--lines-per-day", "100", "--out", dir); code != 0 {
		t.Fatalf("gen: %s", errOut)
	}
	code, out, errOut := runCLI(t, "", "policy", "check", filepath.Join(dir, "site.yaml"))
	if code != 0 || !strings.Contains(out, "clinic") {
		t.Errorf("policy check site.yaml: exit %d, stderr %q\n%s", code, errOut, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("site: x\nnetworks:\n  - name: a\n    role: servers\n    prefixes: [10.1.10.5/24]\n    colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "", "policy", "check", bad)
	if code == 0 {
		t.Fatal("policy check of a bad file: exit 0")
	}
	for _, want := range []string{"bad.yaml:5:", "bad.yaml:6:", "problem(s)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("policy check stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func detectFirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// detect --from --to runs one detection per day in one process: its last day finds what
// `detect --at` of the next midnight finds; --from without --to is a usage error.
func TestDetectBackfill(t *testing.T) {
	policy, data, at := detectScenario(t)
	base := []string{"--config", policy, "--data-dir", data, "--dry-run", "--json"}
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, "", append(append([]string{}, args...), base...)...)
	}
	end, err := time.Parse(time.DateOnly, at)
	if err != nil {
		t.Fatal(err)
	}
	first, last := end.AddDate(0, 0, -3).Format(time.DateOnly), end.AddDate(0, 0, -1).Format(time.DateOnly)
	code, out, errOut := cli("detect", "--from", first, "--to", last)
	if code != 0 {
		t.Fatalf("detect --from %s --to %s: exit %d: %s", first, last, code, errOut)
	}
	var runs []detect.RunResult
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatalf("detect --from --to --json: %v", err)
	}
	if len(runs) != 3 {
		t.Fatalf("backfill of 3 days: %d runs", len(runs))
	}
	code, out, errOut = cli("detect", "--at", at)
	if code != 0 {
		t.Fatalf("detect --at %s: exit %d: %s", at, code, errOut)
	}
	var one detect.RunResult
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatal(err)
	}
	keys := func(r detect.RunResult) []string {
		var k []string
		for _, f := range r.Findings {
			k = append(k, f.Key)
		}
		return k
	}
	if len(one.Findings) == 0 || !runs[2].Window.To.Equal(one.Window.To) || strings.Join(keys(runs[2]), " ") != strings.Join(keys(one), " ") {
		t.Errorf("last backfilled day %v: %v; detect --at %v: %v", runs[2].Window.To, keys(runs[2]), one.Window.To, keys(one))
	}
	if code, _, _ = cli("detect", "--from", first); code != 2 {
		t.Errorf("detect --from without --to: exit %d, want 2", code)
	}
}
