package fakeasa

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// term is a bare SSH terminal on the fake: it types lines and reads until
// an expected suffix, like a person at the console.
type term struct {
	t   *testing.T
	c   *ssh.Client
	in  io.WriteCloser
	out io.Reader
	got bytes.Buffer
}

func startBox(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.RunningConfig == "" {
		cfg.RunningConfig = smallConfig
	}
	cfg.User, cfg.Password, cfg.EnableSecret = "u", "pw", "s3cr3t"
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func dialTerm(t *testing.T, s *Server, cfg *ssh.ClientConfig) *term {
	t.Helper()
	if cfg == nil {
		cfg = &ssh.ClientConfig{}
	}
	cfg.User, cfg.Auth, cfg.HostKeyCallback = "u", []ssh.AuthMethod{ssh.Password("pw")}, ssh.FixedHostKey(s.HostKey())
	c, err := ssh.Dial("tcp", s.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, c: c}
	tm.in, _ = sess.StdinPipe()
	tm.out, _ = sess.StdoutPipe()
	if err := sess.RequestPty("vt100", 24, 511, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close(); _ = c.Close() })
	return tm
}

// until reads until the first occurrence of suffix and returns what came
// before it and the suffix; later bytes stay for the next call.
func (tm *term) until(suffix string) string {
	tm.t.Helper()
	buf := make([]byte, 4096)
	for !strings.Contains(tm.got.String(), suffix) {
		n, err := tm.out.Read(buf)
		tm.got.Write(buf[:n])
		if err != nil {
			tm.t.Fatalf("read: %v waiting for %q after %q", err, suffix, tm.got.String())
		}
	}
	all := tm.got.String()
	i := strings.Index(all, suffix) + len(suffix)
	tm.got.Reset()
	tm.got.WriteString(all[i:])
	return all[:i]
}

func (tm *term) send(s string) { _, _ = io.WriteString(tm.in, s) }

// login reaches privileged EXEC.
func (tm *term) login(host string) string {
	banner := tm.until(host + "> ")
	tm.send("enable\r")
	tm.until("Password: ")
	tm.send("s3cr3t\r")
	tm.until(host + "# ")
	return banner
}

func TestBannerAndPager(t *testing.T) {
	long := smallConfig
	for i := range 40 {
		long += fmt.Sprintf("access-list BIG extended permit ip host 10.1.0.%d any\n", i+1)
	}
	s := startBox(t, Config{RunningConfig: long, Banner: "Authorised access only"})
	tm := dialTerm(t, s, nil)
	if b := tm.login("fw1"); b != "Authorised access only\r\nType help or '?' for a list of available commands.\r\nfw1> " {
		t.Errorf("login banner %q", b)
	}
	tm.send("show pager\r")
	if out := tm.until("fw1# "); !strings.Contains(out, "pager lines 24") {
		t.Errorf("show pager: %q", out)
	}
	tm.send("show running-config access-list BIG\r")
	page := tm.until(moreText)
	if n := strings.Count(page, "access-list BIG") - 1; n != 23 { // less the echo
		t.Errorf("first page has %d rules, want 23:\n%s", n, page)
	}
	tm.send(" ")
	page = tm.until("fw1# ")
	if !strings.HasPrefix(page, eraseMore) || strings.Count(page, "access-list BIG") != 17 || strings.Contains(page, moreText) {
		t.Errorf("second page: %q", page)
	}
	// q drops the rest.
	tm.send("show running-config access-list BIG\r")
	tm.until(moreText)
	tm.send("q")
	if page := tm.until("fw1# "); page != eraseMore+"fw1# " {
		t.Errorf("after q: %q", page)
	}
	tm.send("terminal pager 0\rshow running-config access-list BIG\r")
	tm.until("fw1# ")
	if page := tm.until("fw1# "); strings.Count(page, "access-list BIG") != 41 || strings.Contains(page, moreText) {
		// 40 rules plus the echoed command.
		t.Errorf("pager 0: %q", page)
	}
	tm.send("show pager\r")
	if out := tm.until("fw1# "); !strings.Contains(out, "no pager") {
		t.Errorf("show pager after terminal pager 0: %q", out)
	}
}

func TestShowVersionFollowsConfig(t *testing.T) {
	clock := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	s := startBox(t, Config{RunningConfig: "ASA Version 9.1(7)\n" + smallConfig, Now: func() time.Time { return clock }})
	tm := dialTerm(t, s, nil)
	tm.login("fw1")
	tm.send("show version\r")
	out := tm.until("fw1# ")
	for _, want := range []string{"Software Version 9.1(7)", "\r\nfw1 up ", "Configuration has not been modified since last system restart."} {
		if !strings.Contains(out, want) {
			t.Errorf("show version lacks %q:\n%s", want, out)
		}
	}
	tm.send("configure terminal\rhostname fw9\rend\rshow version\r")
	tm.until("fw9# ")
	out = tm.until("fw9# ")
	for _, want := range []string{"\r\nfw9 up ", "Configuration last modified by enable_15 at 10:00:00.000 UTC Thu Dec 3 2026"} {
		if !strings.Contains(out, want) {
			t.Errorf("show version after a change lacks %q:\n%s", want, out)
		}
	}
}

func TestFailoverRolesAndStandbyWarning(t *testing.T) {
	s := startBox(t, Config{})
	tm := dialTerm(t, s, nil)
	tm.login("fw1")
	tm.send("show failover\r")
	if out := tm.until("fw1# "); !strings.Contains(out, "Failover Off") {
		t.Errorf("failover off: %q", out)
	}
	s.SetFailover("active")
	tm.send("show failover\r")
	if out := tm.until("fw1# "); !strings.Contains(out, "Failover On") || !strings.Contains(out, "This host: Primary - Active") {
		t.Errorf("active: %q", out)
	}
	tm.send("configure terminal\r")
	if out := tm.until("fw1(config)# "); strings.Contains(out, "WARNING") {
		t.Errorf("active unit warned: %q", out)
	}
	tm.send("end\r")
	tm.until("fw1# ")
	s.SetFailover("standby")
	tm.send("show failover\r")
	if out := tm.until("fw1# "); !strings.Contains(out, "This host: Secondary - Standby Ready") {
		t.Errorf("standby: %q", out)
	}
	tm.send("configure terminal\r")
	if out := tm.until("fw1(config)# "); !strings.Contains(out, "Configuration Replication is NOT performed from Standby unit to Active unit.") {
		t.Errorf("standby configure terminal: %q", out)
	}
}

func TestRemovingAbsentEntriesAndLinePastEndFail(t *testing.T) {
	s := startBox(t, Config{})
	tm := dialTerm(t, s, nil)
	tm.login("fw1")
	tm.send("configure terminal\r")
	tm.until("fw1(config)# ")
	for _, c := range []struct{ cmd, want string }{
		{"no access-list OUTSIDE_IN extended deny ip host 203.0.113.9 any", "ERROR: access-list OUTSIDE_IN: specified entry does not exist"},
		{"no access-list OUTSIDE_IN line 1 remark never written", "ERROR: access-list OUTSIDE_IN: specified entry does not exist"},
		{"access-list OUTSIDE_IN line 4 extended deny ip host 203.0.113.9 any", "ERROR: access-list OUTSIDE_IN: line 4 is beyond the end"},
		{"no route outside 10.9.0.0 255.255.0.0 198.51.100.1 1", "ERROR: Route does not exist"},
		{"no access-group OUTSIDE_IN in interface inside", "ERROR:"},
		{"access-list OUTSIDE_IN line 3 extended deny ip host 203.0.113.9 any", ""},
	} {
		tm.send(c.cmd + "\r")
		out := strings.TrimPrefix(tm.until("fw1(config)# "), c.cmd+"\r\n")
		if c.want == "" && out != "fw1(config)# " || c.want != "" && !strings.Contains(out, c.want) {
			t.Errorf("%s: got %q, want %q", c.cmd, out, c.want)
		}
	}
	if !strings.Contains(s.Running(), "access-list OUTSIDE_IN extended deny ip host 203.0.113.9 any\naccess-group") {
		t.Errorf("line 3 (one past the end) should append:\n%s", s.Running())
	}
}

func TestIPv6GroupMembers(t *testing.T) {
	s := startBox(t, Config{})
	tm := dialTerm(t, s, nil)
	tm.login("fw1")
	tm.send("configure terminal\robject-group network V6\rnetwork-object host 2001:db8::7\rnetwork-object 2001:db8:1::/48\rnetwork-object 2001:db8:2::9/48\rnetwork-object 2001:db8::7/128\rend\r")
	out := tm.until("fw1# ")
	want := "object-group network V6\n network-object host 2001:db8::7\n network-object 2001:db8:1::/48\n network-object 2001:db8:2::/48\n"
	if !strings.Contains(s.Running(), want) {
		t.Errorf("running config lacks\n%s\ngot:\n%s", want, s.Running())
	}
	if !strings.Contains(out, "object already exists") {
		t.Errorf("duplicate v6 host (as /128) not refused: %q", out)
	}
	g := s.m.groups["V6"]
	_, prefixes := s.m.members(g)
	if len(prefixes) != 3 || prefixes[0].Bits() != 128 || prefixes[1].String() != "2001:db8:1::/48" {
		t.Errorf("members %v", prefixes)
	}
}

func TestLegacyModeSignsWithRSASHA1(t *testing.T) {
	s := startBox(t, Config{LegacyAlgorithmsOnly: true})
	if s.HostKey().Type() != ssh.KeyAlgoRSA {
		t.Fatalf("legacy host key is %s, want ssh-rsa", s.HostKey().Type())
	}
	legacy := func(hostKeyAlgs ...string) *ssh.ClientConfig {
		c := &ssh.ClientConfig{HostKeyAlgorithms: hostKeyAlgs}
		c.KeyExchanges, c.Ciphers = []string{ssh.InsecureKeyExchangeDH1SHA1}, []string{ssh.InsecureCipherAES128CBC}
		return c
	}
	cfg := legacy(ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512)
	cfg.User, cfg.Auth, cfg.HostKeyCallback = "u", []ssh.AuthMethod{ssh.Password("pw")}, ssh.FixedHostKey(s.HostKey())
	if c, err := ssh.Dial("tcp", s.Addr(), cfg); err == nil {
		c.Close()
		t.Fatal("legacy box negotiated an rsa-sha2 signature")
	}
	tm := dialTerm(t, s, legacy(ssh.KeyAlgoRSA))
	tm.login("fw1")
}

func TestWriteMemoryTakesItsTime(t *testing.T) {
	var mu sync.Mutex
	var waited []time.Duration
	s := startBox(t, Config{WriteDelay: 4 * time.Second, Sleep: func(d time.Duration, _ <-chan struct{}) bool {
		mu.Lock()
		defer mu.Unlock()
		waited = append(waited, d)
		return true
	}})
	tm := dialTerm(t, s, nil)
	tm.login("fw1")
	tm.send("write memory\r")
	if out := tm.until("fw1# "); !strings.Contains(out, "[OK]") {
		t.Errorf("write memory: %q", out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(waited) != 1 || waited[0] != 4*time.Second {
		t.Errorf("waited %v, want one 4s write", waited)
	}
}

func TestFaultAppliedWithWarningAndLostSaveReply(t *testing.T) {
	s := startBox(t, Config{Faults: Faults{WarnNth: 1, WarnOutput: "WARNING: something the box did on its own", DropWriteReply: true}})
	tm := dialTerm(t, s, nil)
	tm.login("fw1")
	tm.send("configure terminal\rroute outside 10.9.0.0 255.255.0.0 198.51.100.1 1\r")
	tm.until("fw1(config)# ")
	if out := tm.until("fw1(config)# "); !strings.Contains(out, "WARNING: something the box did on its own") {
		t.Errorf("warning fault: %q", out)
	}
	if !strings.Contains(s.Running(), "route outside 10.9.0.0 255.255.0.0 198.51.100.1 1") {
		t.Error("the warned line was not applied")
	}
	tm.send("end\rwrite memory\r")
	tm.until("fw1# ")
	buf := make([]byte, 4096)
	var rest bytes.Buffer
	for {
		n, err := tm.out.Read(buf)
		rest.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if strings.Contains(rest.String(), "[OK]") {
		t.Errorf("[OK] arrived: %q", rest.String())
	}
	if s.Startup() != s.Running() {
		t.Error("the save did not happen before the drop")
	}
}
