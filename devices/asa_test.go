package devices_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

const (
	loginPassword = "L0gin-pw-7f3a"
	enableSecret  = "En4ble-secret-91c"
	passwordEnv   = "FIREBREAK_TEST_ASA_PASSWORD"
	enableEnv     = "FIREBREAK_TEST_ASA_ENABLE"
)

func TestMain(m *testing.M) {
	os.Setenv(passwordEnv, loginPassword)
	os.Setenv(enableEnv, enableSecret)
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		// Every server and session goroutine must have ended; poll briefly
		// because the client side's scrapligo read loop ends asynchronously.
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			runtime.Gosched()
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "goroutine leak: %d > %d\n%s\n", n, base, buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}

func initialConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "asa-small.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type rig struct {
	srv    *fakeasa.Server
	target devices.Target
	start  string
}

// newRig starts a fake ASA on 127.0.0.1 with a pinned host key.
func newRig(t *testing.T, mod func(*fakeasa.Config)) *rig {
	t.Helper()
	cfg := fakeasa.Config{
		RunningConfig: initialConfig(t),
		User:          "firebreak",
		Password:      loginPassword,
		EnableSecret:  enableSecret,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := fakeasa.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := srv.WriteKnownHosts(kh); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	return &rig{
		srv:   srv,
		start: srv.Running(),
		target: devices.Target{
			Name: "fw1", Address: host, Port: p, User: "firebreak",
			Auth:           devices.Credentials{PasswordEnv: passwordEnv, EnableSecretEnv: enableEnv},
			KnownHostsFile: kh,
			Timeout:        5 * time.Second,
		},
	}
}

func (r *rig) dial(t *testing.T) *devices.ASA {
	t.Helper()
	a, err := devices.DialASA(context.Background(), r.target, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func cmds(t *testing.T, lines ...string) []devices.Command {
	t.Helper()
	out := make([]devices.Command, len(lines))
	for i, l := range lines {
		c, err := devices.NewCommand(l)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	return out
}

func TestDialEntersEnableAndDisablesPager(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial(t)
	out, err := a.Show(context.Background(), "show running-config hostname")
	if err != nil {
		t.Fatal(err)
	}
	if out != "hostname fw1" {
		t.Errorf("show running-config hostname = %q", out)
	}
	// Read-only: no configuration mode, only the checks of which box this is.
	want := []string{"exec: enable", "priv: show pager", "priv: terminal pager 0", "priv: show mode", "priv: show failover", "priv: show running-config hostname"}
	if diff := cmp.Diff(want, r.srv.Log()); diff != "" {
		t.Errorf("device command log (-want +got):\n%s", diff)
	}
	run, err := a.RunningConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if run != r.start {
		t.Errorf("RunningConfig differs from the device:\n%s", cmp.Diff(r.start, run))
	}
}

func TestWrongEnableSecret(t *testing.T) {
	r := newRig(t, func(c *fakeasa.Config) { c.EnableSecret = "something-else" })
	_, err := devices.DialASA(context.Background(), r.target, nil)
	if !errors.Is(err, devices.ErrEnable) {
		t.Fatalf("DialASA error = %v, want ErrEnable", err)
	}
	if strings.Contains(err.Error(), enableSecret) {
		t.Errorf("error leaks the secret: %v", err)
	}
	// One attempt only: the device saw a single enable.
	if got := r.srv.Log(); len(got) != 1 || got[0] != "exec: enable" {
		t.Errorf("device log = %q, want one enable", got)
	}
}

func TestHostnameCheck(t *testing.T) {
	r := newRig(t, nil)
	r.target.Hostname = "fw2"
	if _, err := devices.DialASA(context.Background(), r.target, nil); !errors.Is(err, devices.ErrWrongDevice) {
		t.Fatalf("DialASA error = %v, want ErrWrongDevice", err)
	}
	r.target.Hostname = "fw1"
	r.dial(t)
}

func TestWrongPassword(t *testing.T) {
	r := newRig(t, func(c *fakeasa.Config) { c.Password = "other" })
	_, err := devices.DialASA(context.Background(), r.target, nil)
	if !errors.Is(err, devices.ErrAuth) {
		t.Fatalf("DialASA error = %v, want ErrAuth", err)
	}
}

func TestHostKeyChecks(t *testing.T) {
	r := newRig(t, nil)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(other)
	line := strings.Replace(r.srv.KnownHostsLine(), strings.Fields(r.srv.KnownHostsLine())[2],
		strings.Fields(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))[1], 1)

	t.Run("mismatch", func(t *testing.T) {
		tg := r.target
		tg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(tg.KnownHostsFile, []byte(line+"\n"), 0o600)
		_, err := devices.DialASA(context.Background(), tg, nil)
		if !errors.Is(err, devices.ErrHostKeyMismatch) {
			t.Fatalf("error = %v, want ErrHostKeyMismatch", err)
		}
		var he *devices.HostKeyError
		if !errors.As(err, &he) {
			t.Fatalf("error %v is not a *HostKeyError", err)
		}
		if he.Fingerprint != ssh.FingerprintSHA256(r.srv.HostKey()) || len(he.Known) != 1 ||
			!strings.Contains(he.Known[0], ssh.FingerprintSHA256(signer.PublicKey())) {
			t.Errorf("fingerprints = %q / %q", he.Fingerprint, he.Known)
		}
		if !strings.Contains(err.Error(), r.target.Address) || !strings.Contains(err.Error(), "changed") {
			t.Errorf("message does not name the host and the change: %v", err)
		}
		if len(r.srv.Log()) != 0 {
			t.Errorf("commands reached the device: %q", r.srv.Log())
		}
	})
	t.Run("unknown", func(t *testing.T) {
		tg := r.target
		tg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		os.WriteFile(tg.KnownHostsFile, nil, 0o600)
		_, err := devices.DialASA(context.Background(), tg, nil)
		if !errors.Is(err, devices.ErrHostKeyUnknown) {
			t.Fatalf("error = %v, want ErrHostKeyUnknown", err)
		}
	})
	t.Run("no file", func(t *testing.T) {
		tg := r.target
		tg.KnownHostsFile = ""
		if _, err := devices.DialASA(context.Background(), tg, nil); !errors.Is(err, devices.ErrHostKeyUnknown) {
			t.Fatalf("error = %v, want ErrHostKeyUnknown", err)
		}
	})
}

func TestLegacyAlgorithms(t *testing.T) {
	r := newRig(t, func(c *fakeasa.Config) { c.LegacyAlgorithmsOnly = true })
	if _, err := devices.DialASA(context.Background(), r.target, nil); !errors.Is(err, devices.ErrNoCommonAlgorithm) {
		t.Fatalf("modern-only client: error = %v, want ErrNoCommonAlgorithm", err)
	}
	r.target.LegacyAlgorithms = true
	a := r.dial(t)
	if _, err := a.Show(context.Background(), "show version"); err != nil {
		t.Fatal(err)
	}
}

func writeKey(t *testing.T) (path string, pub ssh.PublicKey, priv ed25519.PrivateKey) {
	t.Helper()
	_, priv, _ = ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return path, s.PublicKey(), priv
}

func TestPublicKeyAuth(t *testing.T) {
	path, pub, priv := writeKey(t)
	r := newRig(t, func(c *fakeasa.Config) { c.Password = ""; c.AuthorizedKeys = []ssh.PublicKey{pub} })
	t.Run("key file", func(t *testing.T) {
		tg := r.target
		tg.Auth = devices.Credentials{KeyFile: path, EnableSecretEnv: enableEnv}
		a, err := devices.DialASA(context.Background(), tg, nil)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	})
	t.Run("agent", func(t *testing.T) {
		kr := agent.NewKeyring()
		if err := kr.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
			t.Fatal(err)
		}
		sock := filepath.Join(t.TempDir(), "agent.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = agent.ServeAgent(kr, c)
				c.Close()
			}
		}()
		defer wg.Wait()
		defer ln.Close()
		t.Setenv("SSH_AUTH_SOCK", sock)
		tg := r.target
		tg.Auth = devices.Credentials{Agent: true, EnableSecretEnv: enableEnv}
		a, err := devices.DialASA(context.Background(), tg, nil)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	})
}

// blockSteps adds 203.0.113.7 to a new BLOCK group referenced by a deny ACE
// placed after the management permit (line 3).
func blockSteps(t *testing.T) []devices.Step {
	c := func(s string) devices.Command { return cmds(t, s)[0] }
	grp := c("object-group network BLOCK")
	return []devices.Step{
		{Do: grp, Undo: c("no object-group network BLOCK")},
		{Mode: grp, Do: c("description firebreak managed"), Undo: c("no description firebreak managed")},
		{Mode: grp, Do: c("network-object host 203.0.113.7"), Undo: c("no network-object host 203.0.113.7")},
		{Do: c("access-list OUTSIDE_IN line 3 remark firebreak:prop-0001"), Undo: c("no access-list OUTSIDE_IN line 3 remark firebreak:prop-0001")},
		{Do: c("access-list OUTSIDE_IN line 4 extended deny ip object-group BLOCK any"), Undo: c("no access-list OUTSIDE_IN line 4 extended deny ip object-group BLOCK any")},
	}
}

func blockedConfig(start string) string {
	s := strings.Replace(start, " network-object 10.99.1.0 255.255.255.0\n",
		" network-object 10.99.1.0 255.255.255.0\nobject-group network BLOCK\n description firebreak managed\n network-object host 203.0.113.7\n", 1)
	return strings.Replace(s, "access-list OUTSIDE_IN extended permit tcp any host 198.51.100.4 eq https\n",
		"access-list OUTSIDE_IN remark firebreak:prop-0001\naccess-list OUTSIDE_IN extended deny ip object-group BLOCK any\naccess-list OUTSIDE_IN extended permit tcp any host 198.51.100.4 eq https\n", 1)
}

func TestApplyHappyPath(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial(t)
	ctx := context.Background()
	verified := false
	rep, err := devices.Apply(ctx, a, devices.Plan{
		Steps: blockSteps(t),
		Verify: func(run string) error {
			verified = true
			if !strings.Contains(run, "access-list OUTSIDE_IN extended deny ip object-group BLOCK any\n") {
				return errors.New("deny ACE missing")
			}
			return nil
		},
		Save: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := blockedConfig(r.start)
	if diff := cmp.Diff(want, r.srv.Running()); diff != "" {
		t.Errorf("device config (-want +got):\n%s", diff)
	}
	if !verified || len(rep.Applied) != 5 || rep.RolledBack || !rep.Saved || rep.After != want || rep.Before != r.start {
		t.Errorf("report = applied %d rolledBack %v saved %v verified %v", len(rep.Applied), rep.RolledBack, rep.Saved, verified)
	}
	if r.srv.Startup() != want {
		t.Error("write memory did not save the running config")
	}

	// Feedback: hit counts and element counts from show access-list.
	r.srv.Match("OUTSIDE_IN", fakeasa.Packet{Src: mustAddr("203.0.113.7"), Dst: mustAddr("198.51.100.4"), Proto: "tcp", SrcPort: 40000, DstPort: 443})
	r.srv.Match("OUTSIDE_IN", fakeasa.Packet{Src: mustAddr("203.0.113.7"), Dst: mustAddr("198.51.100.2"), Proto: "udp", SrcPort: 40000, DstPort: 53})
	out, err := a.Show(ctx, "show access-list OUTSIDE_IN")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"access-list OUTSIDE_IN; 4 elements; name hash: 0x",
		"access-list OUTSIDE_IN line 3 remark firebreak:prop-0001\n",
		"access-list OUTSIDE_IN line 4 extended deny ip object-group BLOCK any (hitcnt=2) 0x",
		"\n  access-list OUTSIDE_IN line 4 extended deny ip host 203.0.113.7 any (hitcnt=2) 0x",
		"access-list OUTSIDE_IN line 5 extended permit tcp any host 198.51.100.4 eq https (hitcnt=0) 0x",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("show access-list lacks %q:\n%s", w, out)
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestConfigureErrorsRollBack(t *testing.T) {
	c := func(s string) devices.Command { return cmds(t, s)[0] }
	mgmt := c("object-group network MGMT")
	cases := []struct {
		name   string
		bad    devices.Step
		faults fakeasa.Faults
		marker string
	}{
		{name: "invalid input", bad: devices.Step{Do: c("access-list OUTSIDE_IN extended permit foo any any")}, marker: "Invalid input detected at '^' marker"},
		{name: "incomplete", bad: devices.Step{Do: c("access-list OUTSIDE_IN extended permit")}, marker: "Incomplete command"},
		{name: "group not found", bad: devices.Step{Do: c("access-list OUTSIDE_IN extended deny ip object-group NOPE any")}, marker: "specified object group <NOPE> not found"},
		{name: "group in use", bad: devices.Step{Do: c("no object-group network MGMT")}, marker: "Removing object-group (MGMT) not allowed, it is being used."},
		{name: "duplicate member", bad: devices.Step{Mode: mgmt, Do: c("network-object host 10.99.0.10")}, marker: "object already exists"},
		{name: "absent member", bad: devices.Step{Mode: mgmt, Do: c("no network-object host 10.99.0.77")}, marker: "obj does not exist in this group"},
		{name: "duplicate ACE", bad: devices.Step{Do: c("access-list OUTSIDE_IN extended deny ip any any log")}, marker: "Possible duplicate entry"},
		{name: "route exists", bad: devices.Step{Do: c("route inside 10.30.0.0 255.255.255.0 10.20.0.254 1")}, marker: "Route already exists"},
		{name: "authorization", bad: devices.Step{Do: c("route inside 10.31.0.0 255.255.255.0 10.20.0.254 1")}, faults: fakeasa.Faults{DenyPrefixes: []string{"route inside 10.31."}}, marker: "Command authorization failed"},
		{name: "fail nth", bad: devices.Step{Do: c("route inside 10.32.0.0 255.255.255.0 10.20.0.254 1")}, faults: fakeasa.Faults{FailNth: 6, FailOutput: "ERROR: Unable to add route"}, marker: "Unable to add route"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(cfg *fakeasa.Config) { cfg.Faults = tc.faults })
			a := r.dial(t)
			steps := append(blockSteps(t), tc.bad)
			rep, err := devices.Apply(context.Background(), a, devices.Plan{Steps: steps})
			var ce *devices.CommandError
			if !errors.As(err, &ce) || ce.Command != tc.bad.Do.String() || !strings.Contains(ce.Output, tc.marker) {
				t.Fatalf("Apply error = %v, want a CommandError for %q with %q", err, tc.bad.Do, tc.marker)
			}
			if !errors.Is(err, devices.ErrRejected) && !errors.Is(err, devices.ErrUnexpectedOutput) {
				t.Errorf("error %v wraps neither ErrRejected nor ErrUnexpectedOutput", err)
			}
			if len(rep.Applied) != 5 || !rep.RolledBack {
				t.Errorf("applied %d steps, rolled back %v; want 5, true", len(rep.Applied), rep.RolledBack)
			}
			if diff := cmp.Diff(r.start, r.srv.Running()); diff != "" {
				t.Errorf("config after rollback (-before +after):\n%s", diff)
			}
		})
	}
}

func TestVerifyFailureRollsBack(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial(t)
	rep, err := devices.Apply(context.Background(), a, devices.Plan{
		Steps:  blockSteps(t),
		Verify: func(string) error { return errors.New("element count too high") },
		Save:   true,
	})
	if !errors.Is(err, devices.ErrVerify) || !rep.RolledBack || rep.Saved {
		t.Fatalf("err = %v, rolledBack %v saved %v", err, rep.RolledBack, rep.Saved)
	}
	if r.srv.Running() != r.start {
		t.Error("config not restored")
	}
}

func TestDroppedConnectionThenRollback(t *testing.T) {
	// The fake counts configuration lines (not exit/end/terminal): drop
	// when the 4th step arrives.
	r := newRig(t, func(cfg *fakeasa.Config) { cfg.Faults = fakeasa.Faults{DropAfter: 3} })
	a := r.dial(t)
	rep, err := devices.Apply(context.Background(), a, devices.Plan{Steps: blockSteps(t)})
	if !errors.Is(err, devices.ErrConnection) {
		t.Fatalf("Apply error = %v, want ErrConnection", err)
	}
	if len(rep.Applied) != 3 || rep.InFlight == nil || rep.InFlight.Do.String() != "access-list OUTSIDE_IN line 3 remark firebreak:prop-0001" {
		t.Fatalf("applied %d, in flight %v", len(rep.Applied), rep.InFlight)
	}
	if r.srv.Running() == r.start {
		t.Fatal("expected a partly applied change")
	}
	if _, err := a.Show(context.Background(), "show version"); !errors.Is(err, devices.ErrConnection) {
		t.Errorf("broken session still used: %v", err)
	}
	r.srv.SetFaults(fakeasa.Faults{})
	b := r.dial(t)
	if err := devices.Rollback(context.Background(), b, rep.Applied, rep.Before); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r.start, r.srv.Running()); diff != "" {
		t.Errorf("after rollback (-want +got):\n%s", diff)
	}
}

func TestSlowRepliesWithinTimeout(t *testing.T) {
	r := newRig(t, func(cfg *fakeasa.Config) { cfg.Faults = fakeasa.Faults{ReplyDelay: 20 * time.Millisecond} })
	a := r.dial(t)
	if _, err := a.Configure(context.Background(), cmds(t, "route inside 10.50.0.0 255.255.0.0 10.20.0.254")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.srv.Running(), "route inside 10.50.0.0 255.255.0.0 10.20.0.254 1\n") {
		t.Error("route not added")
	}
}

func TestContextCancellationAborts(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial(t)
	r.srv.SetFaults(fakeasa.Faults{ReplyDelay: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := a.Configure(ctx, cmds(t, "route inside 10.50.0.0 255.255.0.0 10.20.0.254"))
		done <- err
	}()
	// Cancel once the device has the command (it then waits a minute).
	for !slicesContains(r.srv.Log(), "priv: configure terminal") {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	cancel()
	err := <-done
	if !errors.Is(err, devices.ErrConnection) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Configure error = %v, want ErrConnection and context.Canceled", err)
	}
	t.Run("deadline", func(t *testing.T) {
		r := newRig(t, func(cfg *fakeasa.Config) { cfg.Faults = fakeasa.Faults{ReplyDelay: time.Minute} })
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if _, err := devices.DialASA(ctx, r.target, nil); !errors.Is(err, devices.ErrConnection) {
			t.Fatalf("DialASA error = %v, want ErrConnection", err)
		}
	})
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestTranscriptHasNoSecrets(t *testing.T) {
	r := newRig(t, nil)
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := devices.DialASA(context.Background(), r.target, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := devices.Apply(context.Background(), a, devices.Plan{Steps: blockSteps(t)}); err != nil {
		t.Fatal(err)
	}
	tr := a.Transcript().String()
	for _, secret := range []string{loginPassword, enableSecret} {
		for where, text := range map[string]string{"transcript": tr, "log": logBuf.String(), "device log": strings.Join(r.srv.Log(), "\n")} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains a secret", where)
			}
		}
	}
	for _, w := range []string{"> enable\nPassword:\n> <redacted>\n", "> terminal pager 0\n", "> network-object host 203.0.113.7\n", "> show running-config\n: Saved\n"} {
		if !strings.Contains(tr, w) {
			t.Errorf("transcript lacks %q:\n%s", w, tr)
		}
	}
}

func TestExecShunAndWriteMemory(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial(t)
	ctx := context.Background()
	out, err := a.Exec(ctx, cmds(t, "shun 203.0.113.9")[0])
	if err != nil || !strings.Contains(out, "Shun 203.0.113.9 successful") {
		t.Fatalf("shun: %q, %v", out, err)
	}
	if out, err := a.Show(ctx, "show shun"); err != nil || out != "shun (outside) 203.0.113.9 0.0.0.0 0 0 0" {
		t.Errorf("show shun = %q, %v", out, err)
	}
	var ce *devices.CommandError
	if _, err := a.Exec(ctx, cmds(t, "shun 203.0.113.9")[0]); !errors.As(err, &ce) {
		t.Errorf("second shun: %v, want CommandError", err)
	}
	if _, err := a.Exec(ctx, cmds(t, "no shun 203.0.113.9")[0]); err != nil {
		t.Fatal(err)
	}
	if len(r.srv.Shuns()) != 0 {
		t.Error("shun not removed")
	}
	if err := a.WriteMemory(ctx); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"configure terminal", "show running-config | redirect disk0:/x", "reload"} {
		if _, err := a.Show(ctx, bad); !errors.Is(err, devices.ErrNotAllowed) {
			t.Errorf("Show(%q) = %v, want ErrNotAllowed", bad, err)
		}
	}
	for _, bad := range []string{"configure terminal", "reload", "write erase", "shun 1.2.3.4 | x"} {
		if _, err := a.Exec(ctx, cmds(t, bad)[0]); !errors.Is(err, devices.ErrNotAllowed) {
			t.Errorf("Exec(%q) = %v, want ErrNotAllowed", bad, err)
		}
	}
	if _, err := a.Show(ctx, "show access-list NOPE"); !errors.Is(err, devices.ErrRejected) {
		t.Errorf("show of a missing ACL = %v, want ErrRejected", err)
	}
}

func TestNewCommandRefuses(t *testing.T) {
	for _, s := range []string{
		"", "access-list X remark a\nroute outside 0.0.0.0 0.0.0.0 192.0.2.1",
		"shun 1.2.3.4\r", "remark \x1b[2J", "a\tb", "del\x7f", "remark caf\xc3\xa9",
		"show ?", " leading", "trailing ", strings.Repeat("a", devices.MaxCommandLen+1),
	} {
		if _, err := devices.NewCommand(s); !errors.Is(err, devices.ErrBadCommand) {
			t.Errorf("NewCommand(%q) error = %v, want ErrBadCommand", s, err)
		}
	}
	if _, err := devices.NewCommand(strings.Repeat("a", devices.MaxCommandLen)); err != nil {
		t.Errorf("511-byte line refused: %v", err)
	}
}

func TestLockerSerialisesPushes(t *testing.T) {
	var l devices.Locker
	done, cancel := context.WithCancel(context.Background())
	cancel()
	unlock, err := l.Lock(context.Background(), "fw1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(done, "fw1"); err == nil {
		t.Fatal("second holder got the lock")
	}
	if u, err := l.Lock(done, "fw2"); err != nil {
		t.Fatal("other device blocked")
	} else {
		u()
	}
	unlock()
	unlock() // idempotent
	u, err := l.Lock(done, "fw1")
	if err != nil {
		t.Fatal("lock not released")
	}
	u()

	// Two concurrent pushes through the locker do not interleave.
	r := newRig(t, nil)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.Lock(context.Background(), "fw1")
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			a, err := devices.DialASA(context.Background(), r.target, nil)
			if err != nil {
				t.Error(err)
				return
			}
			defer a.Close()
			route := fmt.Sprintf("route inside 10.%d.0.0 255.255.0.0 10.20.0.254", 60+i)
			if _, err := a.Configure(context.Background(), cmds(t, route, route+" 2")); err == nil {
				t.Error("duplicate route accepted")
			}
		}()
	}
	wg.Wait()
	var seq []string
	for _, l := range r.srv.Log() {
		if strings.HasPrefix(l, "config: route") {
			seq = append(seq, strings.Fields(l)[3])
		}
	}
	if len(seq) != 4 || seq[0] != seq[1] || seq[2] != seq[3] {
		t.Errorf("pushes interleaved: %q", seq)
	}
}

func TestRollbackDetectsLeftovers(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial(t)
	ctx := context.Background()
	steps := blockSteps(t)
	if _, err := devices.Apply(ctx, a, devices.Plan{Steps: steps}); err != nil {
		t.Fatal(err)
	}
	// Someone added a route meanwhile: undoing our steps cannot restore
	// the old text, and Rollback must say so rather than claim success.
	if _, err := a.Configure(ctx, cmds(t, "route inside 10.80.0.0 255.255.0.0 10.20.0.254")); err != nil {
		t.Fatal(err)
	}
	err := devices.Rollback(ctx, a, steps, r.start)
	if !errors.Is(err, devices.ErrRollback) {
		t.Fatalf("Rollback error = %v, want ErrRollback", err)
	}
	if !strings.Contains(err.Error(), "route inside 10.80.0.0") {
		t.Errorf("error does not point at the difference: %v", err)
	}
	if strings.Contains(r.srv.Running(), "BLOCK") {
		t.Error("our steps were not undone")
	}
}

func TestStableConfig(t *testing.T) {
	a := ": Saved\n: Written by enable_15 at 10:00:01 UTC Nov 27 2026\nhostname fw1\nCryptochecksum:abc\n: end\n"
	b := ": Saved\nhostname fw1\nCryptochecksum:def\n: end\n"
	if devices.StableConfig(a) != devices.StableConfig(b) || devices.StableConfig(a) != "hostname fw1\n" {
		t.Errorf("StableConfig = %q / %q", devices.StableConfig(a), devices.StableConfig(b))
	}
}

// BenchmarkConfigureLine measures one configuration line round trip over
// SSH to the fake (scrapligo echo + prompt matching).
func BenchmarkConfigureLine(b *testing.B) {
	cfg, err := os.ReadFile(filepath.Join("testdata", "asa-small.cfg"))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := fakeasa.New(fakeasa.Config{RunningConfig: string(cfg), User: "u", Password: loginPassword, EnableSecret: enableSecret})
	if err != nil {
		b.Fatal(err)
	}
	addr, _ := srv.Start()
	defer srv.Close()
	kh := filepath.Join(b.TempDir(), "known_hosts")
	srv.WriteKnownHosts(kh)
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	a, err := devices.DialASA(context.Background(), devices.Target{Address: host, Port: p, User: "u",
		Auth: devices.Credentials{PasswordEnv: passwordEnv, EnableSecretEnv: enableEnv}, KnownHostsFile: kh}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	on := devices.MustCommand("route inside 10.70.0.0 255.255.0.0 10.20.0.254")
	off := devices.MustCommand("no route inside 10.70.0.0 255.255.0.0 10.20.0.254")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Configure(context.Background(), []devices.Command{on, off}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPushASAReconnectsToRollBack(t *testing.T) {
	r := newRig(t, func(cfg *fakeasa.Config) { cfg.Faults = fakeasa.Faults{DropAfter: 3} })
	var l devices.Locker
	rep, err := devices.PushASA(context.Background(), &l, r.target, devices.Plan{Steps: blockSteps(t)}, nil)
	if !errors.Is(err, devices.ErrConnection) {
		t.Fatalf("PushASA error = %v, want ErrConnection", err)
	}
	if !rep.RolledBack || len(rep.Applied) != 3 {
		t.Errorf("rolled back %v, applied %d; want true, 3 (err %v)", rep.RolledBack, len(rep.Applied), err)
	}
	if diff := cmp.Diff(r.start, r.srv.Running()); diff != "" {
		t.Errorf("config after reconnect and rollback (-want +got):\n%s", diff)
	}
	if !strings.Contains(rep.Transcript, "--- reconnected for rollback\n") ||
		!strings.Contains(rep.Transcript, "> no network-object host 203.0.113.7\n") {
		t.Errorf("transcript lacks the rollback session:\n%s", rep.Transcript)
	}
	if strings.Contains(rep.Transcript, enableSecret) || strings.Contains(rep.Transcript, loginPassword) {
		t.Error("transcript holds a secret")
	}
}

func TestPushASAHappyPath(t *testing.T) {
	r := newRig(t, nil)
	rep, err := devices.PushASA(context.Background(), nil, r.target, devices.Plan{Steps: blockSteps(t), Save: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Saved || r.srv.Running() != blockedConfig(r.start) || r.srv.Startup() != r.srv.Running() {
		t.Errorf("saved %v; running config as expected %v", rep.Saved, r.srv.Running() == blockedConfig(r.start))
	}
}

func TestApplyRefusesChangedConfig(t *testing.T) {
	r := newRig(t, nil)
	a := r.dial(t)
	ctx := context.Background()
	approved, err := a.RunningConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Someone edits the device between approval and push.
	if _, err := a.Configure(ctx, cmds(t, "route inside 10.90.0.0 255.255.0.0 10.20.0.254")); err != nil {
		t.Fatal(err)
	}
	changed := r.srv.Running()
	rep, err := devices.Apply(ctx, a, devices.Plan{Steps: blockSteps(t), Before: approved})
	if !errors.Is(err, devices.ErrConfigChanged) || !strings.Contains(err.Error(), "10.90.0.0") {
		t.Fatalf("Apply error = %v, want ErrConfigChanged naming the new route", err)
	}
	if len(rep.Applied) != 0 || r.srv.Running() != changed {
		t.Error("a refused plan changed the device")
	}
	// The same approved text is accepted when only volatile lines differ.
	volatile := strings.Replace(changed, "Cryptochecksum:3f2c9e1b7a6d5e4f3c2b1a0998877665", "Cryptochecksum:0000", 1)
	if _, err := devices.Apply(ctx, a, devices.Plan{Steps: blockSteps(t), Before: volatile}); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownWarningIsAppliedAndUndone: a line answered with an unknown
// WARNING is live on the box; it counts as applied, verification decides,
// and a rollback removes it too.
func TestUnknownWarningIsAppliedAndUndone(t *testing.T) {
	warn := fakeasa.Faults{WarnNth: 2, WarnOutput: "WARNING: object-group BLOCK is also used by the threat-detection scanner"}
	steps := blockSteps(t)
	t.Run("verified", func(t *testing.T) {
		r := newRig(t, func(cfg *fakeasa.Config) { cfg.Faults = warn })
		rep, err := devices.Apply(context.Background(), r.dial(t), devices.Plan{Steps: steps, Verify: func(string) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Suspicious) != 1 || rep.Suspicious[0].Command != steps[1].Do || !strings.Contains(rep.Suspicious[0].Output, "threat-detection") {
			t.Fatalf("suspicious = %+v", rep.Suspicious)
		}
		if len(rep.Applied) != len(steps) || r.srv.Running() != blockedConfig(r.start) {
			t.Errorf("applied %d of %d; config:\n%s", len(rep.Applied), len(steps), r.srv.Running())
		}
	})
	t.Run("verification fails", func(t *testing.T) {
		r := newRig(t, func(cfg *fakeasa.Config) { cfg.Faults = warn })
		rep, err := devices.Apply(context.Background(), r.dial(t), devices.Plan{Steps: steps, Verify: func(string) error { return errors.New("not what was planned") }})
		if !errors.Is(err, devices.ErrVerify) || !rep.RolledBack {
			t.Fatalf("err %v, rolled back %v", err, rep.RolledBack)
		}
		if diff := cmp.Diff(r.start, r.srv.Running()); diff != "" {
			t.Errorf("the warned line survived the rollback (-before +after):\n%s", diff)
		}
	})
	t.Run("nothing verifies", func(t *testing.T) {
		r := newRig(t, func(cfg *fakeasa.Config) { cfg.Faults = warn })
		rep, err := devices.Apply(context.Background(), r.dial(t), devices.Plan{Steps: steps})
		var ce *devices.CommandError
		if !errors.As(err, &ce) || !errors.Is(err, devices.ErrUnexpectedOutput) || ce.Command != steps[1].Do.String() || !rep.RolledBack {
			t.Fatalf("err %v, rolled back %v", err, rep.RolledBack)
		}
		if r.srv.Running() != r.start {
			t.Error("config not restored")
		}
	})
}

// TestReadOnlySessionsStayReadOnly: dial, show and running-config never
// enter configuration mode; a box whose pager is already off gets no
// terminal command at all, and width is set only by a configuring session
// when show terminal says it is needed.
func TestReadOnlySessionsStayReadOnly(t *testing.T) {
	r := newRig(t, func(cfg *fakeasa.Config) { cfg.PagerLines = -1 })
	a := r.dial(t)
	if _, err := a.RunningConfig(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Show(context.Background(), "show shun"); err != nil {
		t.Fatal(err)
	}
	for _, l := range r.srv.Log() {
		if strings.HasPrefix(l, "config:") || strings.Contains(l, "configure") || strings.Contains(l, "terminal") {
			t.Errorf("read-only session sent %q", l)
		}
	}
	if _, err := a.Configure(context.Background(), cmds(t, "route inside 10.50.0.0 255.255.0.0 10.20.0.254")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Configure(context.Background(), cmds(t, "no route inside 10.50.0.0 255.255.0.0 10.20.0.254")); err != nil {
		t.Fatal(err)
	}
	log := strings.Join(r.srv.Log(), "\n")
	if strings.Count(log, "config: terminal width 511") != 1 || strings.Count(log, "config: show terminal") != 1 {
		t.Errorf("width set other than once after show terminal:\n%s", log)
	}
}

// TestConfigureTerminalReplyIsRead: a standby unit is refused at dial by
// show failover; if it becomes standby during the session, its warning on
// configure terminal stops the change before a line is sent.
func TestConfigureTerminalReplyIsRead(t *testing.T) {
	r := newRig(t, func(cfg *fakeasa.Config) { cfg.Failover = "standby" })
	if _, err := devices.DialASA(context.Background(), r.target, nil); !errors.Is(err, devices.ErrStandby) {
		t.Fatalf("dial standby: %v, want ErrStandby", err)
	}
	r.srv.SetFailover("active")
	a := r.dial(t)
	r.srv.SetFailover("standby")
	_, err := a.Configure(context.Background(), cmds(t, "route inside 10.50.0.0 255.255.0.0 10.20.0.254"))
	if !errors.Is(err, devices.ErrStandby) {
		t.Fatalf("configure on standby: %v, want ErrStandby", err)
	}
	if r.srv.Running() != r.start {
		t.Error("a line reached the standby")
	}
	if !strings.Contains(a.Transcript().String(), "Configuration Replication is NOT performed") {
		t.Error("the warning is not in the transcript")
	}
}

// TestWhichBox: the policy's hostname against the prompt, its context
// against show mode and changeto.
func TestWhichBox(t *testing.T) {
	r := newRig(t, func(cfg *fakeasa.Config) { cfg.Contexts = []string{"admin", "dmz"} })
	if _, err := devices.DialASA(context.Background(), r.target, nil); !errors.Is(err, devices.ErrWrongDevice) {
		t.Errorf("multiple-context box without a context: %v", err)
	}
	r.target.Context = "dmz"
	r.target.Hostname = "fw1"
	a := r.dial(t)
	if _, err := a.Configure(context.Background(), cmds(t, "route inside 10.50.0.0 255.255.0.0 10.20.0.254")); err != nil {
		t.Fatal(err)
	}
	if !slicesContains(r.srv.Log(), "priv: changeto context dmz") {
		t.Errorf("no changeto in %v", r.srv.Log())
	}
	r.target.Context = "nope"
	if _, err := devices.DialASA(context.Background(), r.target, nil); !errors.Is(err, devices.ErrRejected) {
		t.Errorf("unknown context: %v", err)
	}
	r.target.Context = "dmz"
	r.target.Hostname = "fw2"
	if _, err := devices.DialASA(context.Background(), r.target, nil); !errors.Is(err, devices.ErrWrongDevice) {
		t.Errorf("wrong hostname: %v", err)
	}
	single := newRig(t, nil)
	single.target.Context = "dmz"
	if _, err := devices.DialASA(context.Background(), single.target, nil); !errors.Is(err, devices.ErrWrongDevice) {
		t.Errorf("context on a single-context box: %v", err)
	}
}

// TestHostKeyAlgorithmsFollowKnownHosts: a box offering ed25519 and RSA
// keys, with only its ed25519 key pinned, is reached with that key instead
// of being refused as changed (x/crypto prefers RSA signatures by default).
func TestHostKeyAlgorithmsFollowKnownHosts(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSigner, err := ssh.NewSignerFromKey(rk)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(cfg *fakeasa.Config) { cfg.ExtraHostKeys = []ssh.Signer{rsaSigner} })
	if r.srv.HostKey().Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("pinned key is %s", r.srv.HostKey().Type())
	}
	a := r.dial(t)
	if _, err := a.Show(context.Background(), "show version"); err != nil {
		t.Fatal(err)
	}
}
