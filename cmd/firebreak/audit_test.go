package main

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/buntdb"

	"github.com/firebreak-dev/firebreak/collector/stats"
)

const auditFindings = `[{"id":"f1","key":"port_scan|203.0.113.7","detector":"port_scan","severity":"medium",
  "title":"scan","subject":{"peer":"203.0.113.7"},
  "evidence":{"summary":"s","window":{"from":"2026-03-01T00:00:00Z","to":"2026-03-01T01:00:00Z"}},
  "first_seen":"2026-03-01T00:00:00Z","last_seen":"2026-03-01T00:30:00Z","count":1,"status":"open"}]`

// Someone who can write the data folder edits, deletes or reorders audit entries in the
// database file: proposals audit --verify names the entry and exits 1; put back, it is 0.
func TestAuditVerifyFindsTampering(t *testing.T) {
	_, dir, base := cliRig(t, "")
	cli := func(wantCode int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, "", append(append([]string{}, base...), args...)...)
		if code != wantCode {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errOut)
		}
		return out
	}
	findings := filepath.Join(dir, "findings.json")
	write(t, findings, auditFindings)
	cli(0, "propose", "--findings", findings)
	cli(0, "proposals", "approve", "p-0001", "--comment", "ok")
	cli(0, "proposals", "push", "p-0001")
	cli(0, "proposals", "revert", "p-0001", "--comment", "done")
	if out := cli(0, "proposals", "audit", "--verify"); !strings.Contains(out, "\naudit: ") && !strings.HasPrefix(out, "audit: ") || !strings.Contains(out, " entries, intact, head ") {
		t.Fatalf("verify before tampering:\n%s", out)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal([]byte(cli(0, "proposals", "audit", "--json")), &entries); err != nil || len(entries) < 4 {
		t.Fatalf("audit --json: %d entries, %v", len(entries), err)
	}

	db := filepath.Join(dir, "data", stats.DBFile)
	key := func(seq int) string { return fmt.Sprintf("log|audit|%020d", seq) }
	var orig2, orig3 string
	edit := func(fn func(tx *buntdb.Tx) error) {
		t.Helper()
		b, err := buntdb.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Update(func(tx *buntdb.Tx) error {
			if orig2 == "" {
				orig2, _ = tx.Get(key(2))
				orig3, _ = tx.Get(key(3))
			}
			return fn(tx)
		}); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	restore := func(tx *buntdb.Tx) error {
		if _, _, err := tx.Set(key(2), orig2, nil); err != nil {
			return err
		}
		_, _, err := tx.Set(key(3), orig3, nil)
		return err
	}
	cases := []struct {
		name   string
		kind   string
		change func(tx *buntdb.Tx) error
		want   []string
	}{
		{"edit", stats.LogEdited, func(tx *buntdb.Tx) error {
			v, _ := tx.Get(key(2))
			if !strings.Contains(v, `"comment":"ok"`) {
				return fmt.Errorf("entry 2 is not the approval: %s", v)
			}
			_, _, err := tx.Set(key(2), strings.Replace(v, `"comment":"ok"`, `"comment":"by the book"`, 1), nil)
			return err
		}, []string{"audit: TAMPERED at entry 2: edited:", "  entry (at 2): 20", "p-0001", "approve"}},
		{"delete", stats.LogDeleted, func(tx *buntdb.Tx) error { _, err := tx.Delete(key(2)); return err },
			[]string{"audit: TAMPERED at entry 2: deleted: entry 2 is missing", "  the entry after it (at 3): 20"}},
		{"reorder", stats.LogReordered, func(tx *buntdb.Tx) error {
			if _, _, err := tx.Set(key(2), orig3, nil); err != nil {
				return err
			}
			_, _, err := tx.Set(key(3), orig2, nil)
			return err
		}, []string{"audit: TAMPERED at entry 2: reordered: entries 2 and 3 were swapped"}},
	}
	for _, tc := range cases {
		edit(tc.change)
		out := cli(1, "proposals", "audit", "--verify")
		t.Logf("%s: proposals audit --verify (exit 1):\n%s", tc.name, out)
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: verify lacks %q:\n%s", tc.name, w, out)
			}
		}
		if !strings.Contains(out, "finding-audit:") {
			t.Errorf("%s: the findings' log is not checked:\n%s", tc.name, out)
		}
		var js struct {
			Intact bool `json:"intact"`
			Logs   []struct {
				NS    string          `json:"ns"`
				Break *stats.LogBreak `json:"break"`
			} `json:"logs"`
		}
		if err := json.Unmarshal([]byte(cli(1, "proposals", "audit", "--verify", "--json")), &js); err != nil {
			t.Fatal(err)
		}
		if js.Intact || js.Logs[0].NS != "audit" || js.Logs[0].Break == nil || js.Logs[0].Break.Seq != 2 || js.Logs[0].Break.Kind != tc.kind {
			t.Errorf("%s: --json = %+v, break %+v", tc.name, js, js.Logs[0].Break)
		}
		edit(restore)
		cli(0, "proposals", "audit", "--verify")
	}
}

// With audit.syslog in the policy, each command's audit entries reach the receiver before the
// command exits, with their chain hash.
func TestAuditEntriesGoToSyslog(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	_, dir, base := cliRig(t, fmt.Sprintf("audit:\n  syslog:\n    - {address: %q, transport: udp}\n", udp.LocalAddr().String()))
	findings := filepath.Join(dir, "findings.json")
	write(t, findings, auditFindings)
	for _, args := range [][]string{{"propose", "--findings", findings}, {"proposals", "approve", "p-0001", "--comment", "looks right"}} {
		if code, out, errOut := runCLI(t, "", append(append([]string{}, base...), args...)...); code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	_ = udp.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []string
	for len(got) < 2 {
		buf := make([]byte, 65536)
		n, _, err := udp.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d messages: %v", len(got), err)
		}
		got = append(got, string(buf[:n]))
	}
	if !strings.HasPrefix(got[0], "<109>1 ") || !strings.Contains(got[0], ` firebreak `) || !strings.Contains(got[0], `action="propose"`) {
		t.Errorf("first message %q", got[0])
	}
	if !strings.Contains(got[1], `seq="2"`) || !strings.Contains(got[1], `action="approve"`) || !strings.Contains(got[1], `comment="looks right"`) {
		t.Errorf("second message %q", got[1])
	}
}

// A database from before the chain (the schema-3 fixture, 31 audit entries) is chained once
// by the upgrade: --verify passes and says up to which entry edits cannot be seen; an edit
// after the upgrade is found.
func TestAuditVerifyOnUpgradedDatabase(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	unpackFixture(t, "schema-v3.db", data)
	policy := filepath.Join(dir, "site.yaml")
	write(t, policy, "site: t\ncollector: {data_dir: data}\nnetworks:\n  - {name: lan, role: workstations, prefixes: [10.0.0.0/8]}\n")
	code, out, errOut := runCLI(t, "", "--config", policy, "proposals", "audit", "--verify")
	if code != 0 || !strings.Contains(out, "audit: 31 entries, intact") ||
		!strings.Contains(out, "entries 1 to 31 were written before the chain and chained at the upgrade") {
		t.Fatalf("verify of the upgraded file: exit %d\n%s%s", code, out, errOut)
	}
	b, err := buntdb.Open(filepath.Join(data, stats.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(func(tx *buntdb.Tx) error {
		k := fmt.Sprintf("log|audit|%020d", 5)
		v, err := tx.Get(k)
		if err != nil {
			return err
		}
		_, _, err = tx.Set(k, strings.Replace(v, `"who":"`, `"who":"x`, 1), nil)
		return err
	})
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI(t, "", "--config", policy, "proposals", "audit", "--verify"); code != 1 || !strings.Contains(out, "audit: TAMPERED at entry 5: edited") {
		t.Errorf("verify after an edit: exit %d\n%s", code, out)
	}
}
