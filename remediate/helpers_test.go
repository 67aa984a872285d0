package remediate_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

const (
	loginPassword = "L0gin-pw-remediate-5d1"
	enableSecret  = "En4ble-remediate-c07"
	passwordEnv   = "FIREBREAK_TEST_RM_PASSWORD"
	enableEnv     = "FIREBREAK_TEST_RM_ENABLE"
	wrongEnv      = "FIREBREAK_TEST_RM_WRONG"
	operator      = "alice"
)

func TestMain(m *testing.M) {
	os.Setenv(passwordEnv, loginPassword)
	os.Setenv(enableEnv, enableSecret)
	os.Setenv(wrongEnv, "not-the-secret")
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		// Every fake server, SSH session and store must have ended; poll
		// briefly, the client side's read loop ends asynchronously.
		for i := 0; i < 300 && runtime.NumGoroutine() > base; i++ {
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

// clock is an injected, settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type rig struct {
	t       *testing.T
	srv     *fakeasa.Server
	st      *stats.Store
	pol     *policies.Config
	m       *remediate.Manager
	clk     *clock
	start   string // the fake's running config at start
	kh      string
	port    int
	polYAML string
}

type rigOpts struct {
	remediation string // YAML lines under remediation:
	enableEnv   string
	fake        func(*fakeasa.Config)
	policy      func(string) string // edits the policy YAML
}

func initialConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "asa.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// policyYAML is the test site: the fake ASA on 127.0.0.1 as the only device.
func policyYAML(port int, kh, remediation, enable string) string {
	if enable == "" {
		enable = enableEnv
	}
	if remediation == "" {
		// The group form of blocks (no end on the device); the tests of
		// time-ranges use the policy's default.
		remediation = "  block_duration: {block: 24h, quarantine: 4h}\n  expire_on_device: false\n"
	}
	return fmt.Sprintf(`site: test
internal: [10.0.0.0/8, 172.16.0.0/12]
devices:
  - name: fw1
    kind: asa
    syslog_sources: [10.20.0.1]
    ssh:
      address: 127.0.0.1
      port: %d
      known_hosts: %s
      user: firebreak
      password_env: %s
      enable_password_env: %s
      timeout: 5s
    outside_acl: OUTSIDE_IN
    inside_acl: INSIDE_IN
networks:
  - {name: servers, role: servers, prefixes: [10.20.0.0/24]}
  - {name: dmz, role: dmz, prefixes: [172.16.20.0/24]}
  - {name: san, role: san, prefixes: [10.50.0.0/24]}
  - {name: mgmt, role: management, prefixes: [10.99.0.0/24]}
flows:
  - {from: servers, to: internet, ports: [tcp/443]}
protected:
  - 10.20.0.5
  - 203.0.113.10
remediation:
  quarantine_roles: [servers, dmz] # the tests quarantine servers (an opt-in per role)
%s`, port, kh, passwordEnv, enable, remediation)
}

func newRig(t *testing.T, o rigOpts) *rig {
	t.Helper()
	// The box's clock is the rig's (time-ranges end by it).
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	cfg := fakeasa.Config{RunningConfig: initialConfig(t), User: "firebreak", Password: loginPassword, EnableSecret: enableSecret, Now: clk.Now}
	if o.fake != nil {
		o.fake(&cfg)
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
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	if err := srv.WriteKnownHosts(kh); err != nil {
		t.Fatal(err)
	}
	_, portS, _ := net.SplitHostPort(addr)
	var port int
	fmt.Sscan(portS, &port)
	y := policyYAML(port, kh, o.remediation, o.enableEnv)
	if o.policy != nil {
		y = o.policy(y)
	}
	pol, err := policies.Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	st, err := stats.Open(context.Background(), filepath.Join(dir, "data"), stats.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := &rig{t: t, srv: srv, st: st, pol: pol, clk: clk, start: srv.Running(), kh: kh, port: port, polYAML: y}
	r.m = remediate.New(st, pol, remediate.Options{Pusher: remediate.SSH{}, Now: clk.Now})
	return r
}

func scan(id string, peer string) detect.Finding {
	return detect.Finding{ID: id, Key: "port_scan|" + peer, Detector: detect.DetectorPortScan,
		Severity: detect.SeverityMedium, Title: "port scan from " + peer,
		Subject: detect.Subject{Peer: netip.MustParseAddr(peer)}, Status: "open"}
}

func (r *rig) propose(fs ...detect.Finding) []remediate.Proposal {
	r.t.Helper()
	ps, err := r.m.Propose(context.Background(), operator, fs, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return ps
}

// approve approves id against the device's current configuration.
func (r *rig) approve(id string) remediate.DryRun {
	r.t.Helper()
	ctx := context.Background()
	running, err := r.m.Running(ctx, "")
	if err != nil {
		r.t.Fatal(err)
	}
	_, d, err := r.m.Approve(ctx, id, operator, "looks right", running)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

func (r *rig) get(id string) remediate.Proposal {
	r.t.Helper()
	p, err := r.m.Get(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// configLines is the fake's command log without reads and session setup.
func configLines(log []string) []string {
	var out []string
	for _, l := range log {
		mode, cmd, _ := strings.Cut(l, ": ")
		if (mode == "config" || mode == "group") && cmd != "terminal width 511" && cmd != "end" {
			out = append(out, cmd)
		}
	}
	return out
}

func critical(id, host string) detect.Finding {
	return detect.Finding{ID: id, Key: "segment_violation|" + host, Detector: detect.DetectorSegmentViolation,
		Severity: detect.SeverityCritical, Title: "segment violation",
		Subject: detect.Subject{Host: netip.MustParseAddr(host), Peer: netip.MustParseAddr("10.99.0.10")}, Status: "open"}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func itoa(n int) string { return fmt.Sprint(n) }
