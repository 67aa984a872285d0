package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 13 #12 from the command line: a database cut short is refused by the next command with
// a message naming `firebreak db check`, which explains and exits 1; --accept takes the loss.
func TestDBCheckExplainsATruncatedDatabase(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	policy := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(policy, []byte(`site: t
collector: {data_dir: data, http_listen: "off"}
devices:
  - {name: asa1, kind: asa, syslog_sources: [127.0.0.1]}
networks:
  - {name: lan, role: workstations, prefixes: [10.0.0.0/8]}
protected: [127.0.0.0/8]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FIREBREAK_CONFIG", policy)
	log := filepath.Join("..", "..", "testdata", "syslog", "asa-rfc3164.log")
	if code, _, errOut := runCLI(t, "", "ingest", "--data-dir", data, log); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, "", "db", "check", "--data-dir", data); code != 0 || !strings.Contains(out, "Verdict: OK") {
		t.Fatalf("db check of a whole database: exit %d\n%s%s", code, out, errOut)
	}
	db := filepath.Join(data, "firebreak.db")
	fi, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(db, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "status", "--data-dir", data)
	if code == 0 || !strings.Contains(errOut, "cut short") || !strings.Contains(errOut, "firebreak db check") {
		t.Fatalf("status on a truncated db: exit %d, stderr %q; want a refusal naming db check", code, errOut)
	}
	code, out, _ := runCLI(t, "", "db", "check", "--data-dir", data)
	if code != 1 || !strings.Contains(out, "Verdict: REFUSED") || !strings.Contains(out, "lost the last") {
		t.Fatalf("db check: exit %d\n%s", code, out)
	}
	if code, out, errOut := runCLI(t, "", "db", "check", "--accept", "--data-dir", data); code != 0 || !strings.Contains(out, "accepted") {
		t.Fatalf("db check --accept: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "", "status", "--data-dir", data); code != 0 {
		t.Fatalf("status after --accept: exit %d: %s", code, errOut)
	}
}
