package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command in-process and returns its exit status and outputs.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestParseWritesOneECSObjectPerLineAndKeepsUnparsed(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "syslog", "unparsed.log")
	want := countLines(t, file)
	code, out, errOut := runCLI(t, "", "parse", "--stats", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != want {
		t.Fatalf("got %d JSON objects for %d lines", len(lines), want)
	}
	unparsed := 0
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("invalid JSON %q: %v", l, err)
		}
		if m["event.original"] == nil {
			t.Errorf("object without event.original: %s", l)
		}
		if tags, ok := m["tags"].([]any); ok && len(tags) > 0 && tags[0] == "firebreak_unparsed" {
			unparsed++
		}
	}
	if unparsed == 0 {
		t.Error("unparsed.log produced no firebreak_unparsed object")
	}
	if !strings.Contains(errOut, "unparsed") || !strings.Contains(errOut, "lines ") {
		t.Errorf("--stats printed %q", errOut)
	}
}

func TestParseReportsUnreadableFileAndGoesOn(t *testing.T) {
	good := filepath.Join("..", "..", "testdata", "syslog", "asa-rfc3164.log")
	missing := filepath.Join(t.TempDir(), "missing.log")
	code, out, errOut := runCLI(t, "", "parse", missing, good)
	if code == 0 {
		t.Fatal("exit 0 with an unreadable file")
	}
	if !strings.Contains(errOut, "missing.log") {
		t.Errorf("stderr does not name the file: %q", errOut)
	}
	if got, want := strings.Count(out, "\n"), countLines(t, good); got != want {
		t.Errorf("the readable file gave %d objects, want %d", got, want)
	}
}

func TestParseReadsStdin(t *testing.T) {
	code, out, _ := runCLI(t, "<166>Mar  3 08:15:02 fw %ASA-6-302013: Built outbound TCP connection 1 for outside:203.0.113.4/443 (203.0.113.4/443) to inside:10.0.0.5/5000 (198.51.100.2/5000)\n", "parse")
	if code != 0 || !strings.Contains(out, `"destination.ip":"10.0.0.5"`) {
		t.Fatalf("exit %d, out %s", code, out)
	}
}

func countLines(t *testing.T, name string) int {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	s := bufio.NewScanner(f)
	for s.Scan() {
		if len(s.Bytes()) > 0 {
			n++
		}
	}
	return n
}

func TestExitStatusTellsUsageFromFailure(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		say  string
	}{
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"proposals", "frob"}, exitUsage, `unknown command "frob" for "firebreak proposals"`},
		{[]string{"findings", "list", "--nope"}, exitUsage, "unknown flag: --nope"},
		{[]string{"proposals", "list", "--state", "aplied"}, exitUsage, "is not one of applied, approved"},
		{[]string{"report", "--format", "pdf"}, exitUsage, "text, markdown, html, json"},
		{[]string{"version", "extra"}, exitUsage, "unknown command"},
		{[]string{"parse", filepath.Join(t.TempDir(), "missing.log")}, exitFail, "missing.log"},
	} {
		code, _, errOut := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.say) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d saying %q", tc.args, code, errOut, tc.code, tc.say)
		}
	}
}

func TestVersionFlagMatchesVersionCommand(t *testing.T) {
	c1, flag, _ := runCLI(t, "", "--version")
	c2, cmd, _ := runCLI(t, "", "version")
	if c1 != 0 || c2 != 0 || flag != cmd || !strings.HasPrefix(flag, "firebreak "+version+" commit ") {
		t.Fatalf("--version %d %q, version %d %q", c1, flag, c2, cmd)
	}
}

func TestConfigLookupOrder(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	etc := false
	exists := func(p string) bool { return etc && p == defaultConfigPath }

	if _, err := configPathFor("", getenv, exists); !isUsage(err) || !strings.Contains(err.Error(), "FIREBREAK_CONFIG") {
		t.Fatalf("nothing configured: %v, want a usage error naming the choices", err)
	}
	etc = true
	if p, _ := configPathFor("", getenv, exists); p != defaultConfigPath {
		t.Errorf("with only %s: %q", defaultConfigPath, p)
	}
	env["FIREBREAK_CONFIG"] = "/srv/site.yaml"
	if p, _ := configPathFor("", getenv, exists); p != "/srv/site.yaml" {
		t.Errorf("FIREBREAK_CONFIG ignored: %q", p)
	}
	if p, _ := configPathFor("mine.yaml", getenv, exists); p != "mine.yaml" {
		t.Errorf("--config not first: %q", p)
	}
}

func TestCommandWithoutSiteIsAUsageError(t *testing.T) {
	if _, err := os.Stat(defaultConfigPath); err == nil {
		t.Skipf("%s exists on this machine", defaultConfigPath)
	}
	t.Setenv("FIREBREAK_CONFIG", "")
	dir := t.TempDir()
	t.Chdir(dir)
	code, _, errOut := runCLI(t, "", "findings", "list")
	if code != exitUsage || !strings.Contains(errOut, "no site policy") {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "firebreak-data")); err == nil {
		t.Error("an empty ./firebreak-data was created")
	}
	t.Setenv("FIREBREAK_CONFIG", filepath.Join(dir, "nope.yaml"))
	if code, _, errOut := runCLI(t, "", "findings", "list"); code != exitFail || !strings.Contains(errOut, "nope.yaml") {
		t.Fatalf("FIREBREAK_CONFIG naming a missing file: exit %d, %q", code, errOut)
	}
}
