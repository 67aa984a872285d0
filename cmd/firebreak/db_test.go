package main

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
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

// unpackFixture writes testdata/db/<name>.gz as dir/firebreak.db.
func unpackFixture(t *testing.T, name, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "db", name+".gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "firebreak.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// v3Fixture is what the schema-3 firebreak listed from testdata/db/schema-v3.db when it made it.
type v3Fixture struct {
	Findings     map[string]string `json:"findings"`  // id -> status
	Proposals    map[string]string `json:"proposals"` // id -> state
	AuditEntries int               `json:"audit_entries"`
	AuditLast    struct {
		Seq      uint64 `json:"seq"`
		Proposal string `json:"proposal"`
		Action   string `json:"action"`
		Comment  string `json:"comment"`
	} `json:"audit_last"`
}

// checkV3Records says whether the findings, proposals and audit log in data are those the
// schema-3 firebreak wrote, as today's commands list them.
func checkV3Records(t *testing.T, data string, want v3Fixture) {
	t.Helper()
	code, out, errOut := runCLI(t, "", "findings", "list", "--json", "--data-dir", data)
	if code != 0 {
		t.Fatalf("findings list: exit %d: %s", code, errOut)
	}
	var fs []struct{ ID, Status string }
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatalf("findings list --json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, f := range fs {
		got[f.ID] = f.Status
	}
	if !maps.Equal(got, want.Findings) {
		t.Errorf("findings: %d listed %v, want the %d the old version wrote %v", len(got), got, len(want.Findings), want.Findings)
	}
	code, out, errOut = runCLI(t, "", "proposals", "list", "--json", "--data-dir", data)
	if code != 0 {
		t.Fatalf("proposals list: exit %d: %s", code, errOut)
	}
	var ps []struct{ ID, State string }
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatal(err)
	}
	gotP := map[string]string{}
	for _, p := range ps {
		gotP[p.ID] = p.State
	}
	if !maps.Equal(gotP, want.Proposals) {
		t.Errorf("proposals: %v, want %v", gotP, want.Proposals)
	}
	code, out, errOut = runCLI(t, "", "proposals", "audit", "--json", "--data-dir", data)
	if code != 0 {
		t.Fatalf("proposals audit: exit %d: %s", code, errOut)
	}
	var as []struct {
		Seq      uint64
		Proposal string
		Action   string
		Comment  string
	}
	if err := json.Unmarshal([]byte(out), &as); err != nil {
		t.Fatal(err)
	}
	if len(as) != want.AuditEntries || as[len(as)-1].Seq != want.AuditLast.Seq || as[len(as)-1].Proposal != want.AuditLast.Proposal ||
		as[len(as)-1].Action != want.AuditLast.Action || as[len(as)-1].Comment != want.AuditLast.Comment {
		t.Errorf("audit: %d entries, last %+v; want %d, last %+v", len(as), as[len(as)-1], want.AuditEntries, want.AuditLast)
	}
}

// Issue 15 (db lifecycle): a database written by an older firebreak (schema 3, made by that
// version's own binary) opens in this one with its findings, proposals and audit log as they
// were; a backup taken while the daemon runs restores them after later changes.
func TestDBUpgradeBackupRestore(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
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
	t.Setenv("FIREBREAK_CONFIG", policy)
	unpackFixture(t, "schema-v3.db", data)
	var want v3Fixture
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "db", "schema-v3.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want.Findings) == 0 || len(want.Proposals) == 0 || want.AuditEntries == 0 {
		t.Fatalf("fixture expectations empty: %+v", want)
	}

	checkV3Records(t, data, want) // the first command migrates
	if _, err := os.Stat(filepath.Join(data, "firebreak.db.schema-v3.bak")); err != nil {
		t.Errorf("no copy of the schema-3 file kept: %v", err)
	}
	if code, out, errOut := runCLI(t, "", "db", "check", "--data-dir", data); code != 0 {
		t.Errorf("db check after the upgrade: exit %d\n%s%s", code, out, errOut)
	}

	stop := startServe(t, dir, policy)
	bak := filepath.Join(t.TempDir(), "nightly.db")
	code, out, errOut := runCLI(t, "", "db", "backup", bak)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d findings, %d proposals, %d audit entries", len(want.Findings), len(want.Proposals), want.AuditEntries)) {
		t.Fatalf("db backup while the daemon runs: exit %d\n%s%s", code, out, errOut)
	}
	var someID string
	for id := range want.Findings {
		someID = id
		break
	}
	if code, _, errOut := runCLI(t, "", "findings", "resolve", someID, "--comment", "after the backup"); code != 0 {
		t.Fatalf("findings resolve: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "", "db", "restore", bak); code != 1 || !strings.Contains(errOut, "stop the daemon") {
		t.Errorf("db restore while the daemon runs: exit %d, %q; want a refusal saying to stop it", code, errOut)
	}
	stop()
	code, out, errOut = runCLI(t, "", "db", "restore", bak)
	if code != 0 || !strings.Contains(out, "moved aside") {
		t.Fatalf("db restore: exit %d\n%s%s", code, out, errOut)
	}
	checkV3Records(t, data, want) // the resolve after the backup is gone, the rest as written
	matches, _ := filepath.Glob(filepath.Join(data, "firebreak.db.before-restore-*"))
	if len(matches) != 1 {
		t.Errorf("the replaced database was not kept aside: %v", matches)
	}
	if code, _, errOut := runCLI(t, "", "db", "restore", filepath.Join(dir, "site.yaml")); code != 1 || !strings.Contains(errOut, "not a firebreak database") {
		t.Errorf("restore of a non-database: exit %d %q", code, errOut)
	}
}
