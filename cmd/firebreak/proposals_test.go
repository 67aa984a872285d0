package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/remediate"
)

const proposalsASA = `hostname fw1
interface Ethernet0/0
 nameif outside
 security-level 0
 ip address 198.51.100.2 255.255.255.248
!
interface Ethernet0/1
 nameif inside
 security-level 100
 ip address 10.20.0.1 255.255.255.0
!
access-list OUTSIDE_IN remark management from the monitoring provider
access-list OUTSIDE_IN extended permit tcp host 192.0.2.50 host 198.51.100.2 eq ssh
access-list OUTSIDE_IN extended deny ip any any log
access-list INSIDE_IN extended permit ip 10.20.0.0 255.255.255.0 any
access-group OUTSIDE_IN in interface outside
access-group INSIDE_IN in interface inside
route outside 0.0.0.0 0.0.0.0 198.51.100.1 1
logging host inside 10.20.0.30
`

const cliPW, cliEnable = "cli-Login-pw-41", "cli-Enable-77"

// cliRig starts a fake ASA and writes a policy for it; it returns the
// server, the folder and the global flags.
func cliRig(t *testing.T, extra string) (*fakeasa.Server, string, []string) {
	t.Helper()
	return cliRigWith(t, proposalsASA, extra)
}

// cliRigWith is cliRig with the fake's running configuration.
func cliRigWith(t *testing.T, running, extra string) (*fakeasa.Server, string, []string) {
	t.Helper()
	t.Setenv("FIREBREAK_CLI_TEST_PW", cliPW)
	t.Setenv("FIREBREAK_CLI_TEST_ENABLE", cliEnable)
	srv, err := fakeasa.New(fakeasa.Config{RunningConfig: running, User: "firebreak", Password: cliPW, EnableSecret: cliEnable})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	if err := srv.WriteKnownHosts(kh); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	policy := filepath.Join(dir, "site.yaml")
	write(t, policy, fmt.Sprintf(`site: test
internal: [10.0.0.0/8]
devices:
  - name: fw1
    kind: asa
    syslog_sources: [10.20.0.1]
    ssh: {address: 127.0.0.1, port: %s, known_hosts: %s, user: firebreak, password_env: FIREBREAK_CLI_TEST_PW, enable_password_env: FIREBREAK_CLI_TEST_ENABLE, timeout: 5s}
    outside_acl: OUTSIDE_IN
    inside_acl: INSIDE_IN
networks:
  - {name: servers, role: servers, prefixes: [10.20.0.0/24]}
protected: [10.20.0.5]
%s`, port, kh, extra))
	return srv, dir, []string{"--config", policy, "--data-dir", filepath.Join(dir, "data")}
}

func TestProposalsCLI(t *testing.T) {
	pw, enable := cliPW, cliEnable
	srv, dir, base := cliRig(t, "")
	saved := filepath.Join(dir, "fw1.cfg")
	write(t, saved, srv.Running())
	findings := filepath.Join(dir, "findings.json")
	write(t, findings, `[{"id":"f1","key":"port_scan|203.0.113.7","detector":"port_scan","severity":"medium",
	  "title":"scan\nroute outside 0.0.0.0 0.0.0.0 1.2.3.4","subject":{"peer":"203.0.113.7","user":"x\nwrite erase"},
	  "evidence":{"summary":"s","window":{"from":"2026-03-01T00:00:00Z","to":"2026-03-01T01:00:00Z"}},
	  "first_seen":"2026-03-01T00:00:00Z","last_seen":"2026-03-01T00:30:00Z","count":1,"status":"open"},
	 {"id":"f2","key":"port_scan|10.20.0.30","detector":"segment_violation","severity":"critical",
	  "title":"t","subject":{"host":"10.20.0.30"},"evidence":{"summary":"s","window":{"from":"2026-03-01T00:00:00Z","to":"2026-03-01T01:00:00Z"}},
	  "first_seen":"2026-03-01T00:00:00Z","last_seen":"2026-03-01T00:30:00Z","count":1,"status":"open"}]`)
	cli := func(wantCode int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, stdin, append(append([]string{}, base...), args...)...)
		if code != wantCode {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errOut)
		}
		if strings.Contains(out+errOut, pw) || strings.Contains(out+errOut, enable) {
			t.Fatalf("%v printed a secret", args)
		}
		return out
	}

	// Findings from stdin; the protected logging host is refused with --running.
	out := cli(0, "", "propose", "--findings", findings, "--running", saved)
	if !strings.Contains(out, "p-0001") || !strings.Contains(out, "refused") {
		t.Errorf("propose:\n%s", out)
	}
	var list []remediate.Proposal
	if err := json.Unmarshal([]byte(cli(0, "", "proposals", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].State != remediate.StateProposed || list[1].State != remediate.StateRejected {
		t.Fatalf("list: %+v", list)
	}
	id := list[0].ID

	offline := cli(0, "", "proposals", "diff", id, "--running", saved)
	for _, want := range []string{
		"time-range FIREBREAK-" + id + "\nabsolute end ",
		"access-list OUTSIDE_IN line 3 extended deny ip host 203.0.113.7 any time-range FIREBREAK-" + id,
		"expected elements of access-list OUTSIDE_IN: 2 -> 3",
		"+access-list OUTSIDE_IN extended deny ip host 203.0.113.7 any time-range FIREBREAK-" + id,
	} {
		if !strings.Contains(offline, want) {
			t.Errorf("diff lacks %q:\n%s", want, offline)
		}
	}
	// The end is 24h from each dry run: the two may fall either side of a minute.
	wall := regexp.MustCompile(`\d\d?:\d\d \d\d? [A-Z][a-z]+ \d{4}`)
	if online := cli(0, "", "proposals", "diff", id); wall.ReplaceAllString(online, "END") != wall.ReplaceAllString(offline, "END") {
		t.Errorf("device diff differs from the saved-file diff:\n%s", online)
	}
	cli(1, "", "proposals", "push", id) // no approval yet
	cli(0, "", "proposals", "approve", id, "--comment", "confirmed scanner")
	if out := cli(0, "", "proposals", "push", id); !strings.Contains(out, "applied, verified and saved") {
		t.Errorf("push: %s", out)
	}
	if !strings.Contains(srv.Running(), "deny ip host 203.0.113.7 any time-range") {
		t.Error("block not on the device")
	}
	show := cli(0, "", "proposals", "show", id)
	for _, want := range []string{"approve", "push", "confirmed scanner", "state      applied"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	var fbs []remediate.Feedback
	if err := json.Unmarshal([]byte(cli(0, "", "proposals", "feedback", id, "--json")), &fbs); err != nil {
		t.Fatal(err)
	}
	if len(fbs) != 1 || !fbs[0].HitsKnown || fbs[0].Hits != 0 {
		t.Errorf("feedback %+v", fbs)
	}
	cli(1, "", "proposals", "reject", id, "--reason", "late") // applied: not allowed
	cli(0, "", "proposals", "revert", id, "--comment", "test over")
	if srv.Running() != proposalsASA {
		t.Errorf("revert left:\n%s", srv.Running())
	}
	audit := cli(0, "", "proposals", "audit")
	if strings.Count(audit, "\n") < 7 || strings.Contains(audit, "route outside") {
		t.Errorf("audit:\n%s", audit)
	}
	for _, l := range srv.Log() {
		if strings.Contains(l, "1.2.3.4") || strings.Contains(l, "erase") {
			t.Errorf("hostile text reached the device: %q", l)
		}
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestProposeFromStoreAndStdin(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "site.yaml")
	write(t, policy, `site: test
internal: [10.0.0.0/8]
devices:
  - {name: fw1, kind: asa, syslog_sources: [10.20.0.1]}
networks:
  - {name: servers, role: servers, prefixes: [10.20.0.0/24]}
`)
	data := filepath.Join(dir, "data")
	st, err := stats.Open(t.Context(), data, stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := detect.Finding{ID: "f1", Key: "port_scan|203.0.113.7", Detector: detect.DetectorPortScan, Severity: detect.SeverityLow,
		Subject: detect.Subject{Peer: netip.MustParseAddr("203.0.113.7")}, LastSeen: time.Now(), Status: "open"}
	closed := f
	closed.ID, closed.Key, closed.Subject.Peer, closed.Status = "f2", "port_scan|203.0.113.8", netip.MustParseAddr("203.0.113.8"), "resolved"
	for _, x := range []detect.Finding{f, closed} {
		if err := st.PutRecord(t.Context(), detect.NSFinding, x.ID, x, 0); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	base := []string{"--config", policy, "--data-dir", data}
	code, out, errOut := runCLI(t, "", append(base, "propose")...)
	if code != 0 || !strings.Contains(out, "1 findings, 1 proposals") || !strings.Contains(out, "203.0.113.7/32") {
		t.Fatalf("propose from the store: exit %d\n%s%s", code, out, errOut)
	}
	stdin := `{"id":"f3","key":"port_scan|203.0.113.9","detector":"port_scan","severity":"low","subject":{"peer":"203.0.113.9"},"status":"open"}
{"id":"f4","key":"silent_host|10.20.0.9","detector":"silent_host","severity":"low","subject":{"host":"10.20.0.9"},"status":"open"}`
	code, out, errOut = runCLI(t, stdin, append(base, "propose", "--findings", "-")...)
	if code != 0 || !strings.Contains(out, "2 findings, 1 proposals") || !strings.Contains(out, "203.0.113.9/32") {
		t.Fatalf("propose from stdin: exit %d\n%s%s", code, out, errOut)
	}
	// Offline approval with a saved config; push needs ssh settings.
	code, _, errOut = runCLI(t, "", append(base, "proposals", "push", "p-0001")...)
	if code == 0 || !strings.Contains(errOut, "no approval") {
		t.Errorf("push without approval: exit %d %s", code, errOut)
	}
}

func TestApprovePushesWithPushOnApprove(t *testing.T) {
	srv, _, base := cliRig(t, "remediation: {push_on_approve: true}\n")
	stdin := `{"id":"f1","key":"port_scan|203.0.113.7","detector":"port_scan","severity":"low","subject":{"peer":"203.0.113.7"},"status":"open"}`
	if code, out, errOut := runCLI(t, stdin, append(base, "propose", "--findings", "-")...); code != 0 {
		t.Fatalf("propose: %d %s %s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "", append(base, "proposals", "approve", "p-0001")...)
	if code != 0 || !strings.Contains(out, "p-0001 applied, verified and saved") {
		t.Fatalf("approve: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(srv.Running(), "deny ip host 203.0.113.7 any time-range") {
		t.Error("not pushed")
	}
}
