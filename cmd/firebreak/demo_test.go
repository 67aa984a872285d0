package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoRunsTheWholeLoop runs the demo small: generate, ingest, detect, propose, dry run,
// approve and push to the fake ASA over SSH, feedback, report.
func TestDemoRunsTheWholeLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests a scenario")
	}
	dir := t.TempDir()
	t.Setenv("FIREBREAK_ASA_PASSWORD", "")
	t.Setenv("FIREBREAK_ASA_ENABLE", "")
	code, out, errOut := runCLI(t, "", "demo", "--dir", dir, "--days", "10", "--lines-per-day", "4000")
	if code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"planted incidents found", "# CLI lines, in configuration mode:", "is applied", "effect (data-path model: verdict before -> after)", "permitted (", "-> dropped (", "device drop by ACCESS-LIST", "hits on the deny that matches", "report.html"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(html), "<svg") {
		t.Errorf("report.html: %v (%d bytes)", err, len(html))
	}
	// No secret reaches the files the demo leaves behind.
	for _, name := range []string{"demo-site.yaml", "site.yaml"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if pw := os.Getenv("FIREBREAK_ASA_PASSWORD"); pw == "" || strings.Contains(string(b), pw) {
			t.Errorf("%s: password variable unset or leaked", name)
		}
	}
}
