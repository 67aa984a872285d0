package detect

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/policies"
)

// logBuilder writes hand-made ASA and IOS syslog lines (RFC 5424 headers, exact UTC times)
// for small statistics: they go through the real parser, aggregator and store.
type logBuilder struct {
	b  strings.Builder
	id int
}

func (l *logBuilder) hdr(t time.Time, host string, pri int) {
	fmt.Fprintf(&l.b, "<%d>1 %s %s - - - - ", pri, t.UTC().Format("2006-01-02T15:04:05Z"), host)
}

// conn is an outbound connection from an inside host to an external peer with its bytes.
func (l *logBuilder) conn(t time.Time, proto string, host netip.Addr, peer netip.Addr, port int, bytes uint64) {
	l.id++
	up, msgB, msgT := "TCP", 302013, 302014
	if proto == "udp" {
		up, msgB, msgT = "UDP", 302015, 302016
	}
	cport := 40000 + l.id%20000
	l.hdr(t, "asa1", 166)
	fmt.Fprintf(&l.b, "%%ASA-6-%d: Built outbound %s connection %d for outside:%s/%d (%s/%d) to inside:%s/%d (203.0.113.1/%d)\n",
		msgB, up, l.id, peer, port, peer, port, host, cport, cport)
	l.hdr(t.Add(time.Second), "asa1", 166)
	fmt.Fprintf(&l.b, "%%ASA-6-%d: Teardown %s connection %d for outside:%s/%d to inside:%s/%d duration 0:00:01 bytes %d\n",
		msgT, up, l.id, peer, port, host, cport, bytes)
}

func (l *logBuilder) deny(t time.Time, src, dst netip.Addr, port int) {
	l.hdr(t, "asa1", 164)
	fmt.Fprintf(&l.b, "%%ASA-4-106023: Deny tcp src outside:%s/51000 dst dmz:%s/%d by access-group \"outside_access_in\" [0x0, 0x0]\n", src, dst, port)
}

func (l *logBuilder) iosACL(t time.Time, action string, src, dst netip.Addr, port int) {
	l.hdr(t, "rtr-b2", 190)
	fmt.Fprintf(&l.b, "%%SEC-6-IPACCESSLOGP: list B2-LAN-IN %s tcp %s(51000) -> %s(%d), 1 packet\n", action, src, dst, port)
}

func (l *logBuilder) vpn(t time.Time, user string, src netip.Addr) {
	l.hdr(t, "asa1", 166)
	fmt.Fprintf(&l.b, "%%ASA-6-722022: Group <GroupPolicy_VPN> User <%s> IP <%s> TCP SVC connection established without compression\n", user, src)
}

// handEnv feeds the lines into a fresh store and returns an environment over it with the
// scenario site's policy.
func handEnv(t *testing.T, now time.Time, l *logBuilder) *Env {
	t.Helper()
	pol, err := scenario.DefaultSite().Policy()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := policies.Parse("site.yaml", pol)
	if err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, now)
	if err := feed(t.Context(), cfg, st, func() time.Time { return now }, []byte(l.b.String())); err != nil {
		t.Fatal(err)
	}
	return &Env{Stats: st, Policy: cfg}
}

func runDetector(t *testing.T, env *Env, d Detector, at time.Time, window time.Duration) []Finding {
	t.Helper()
	fs, err := d.Run(context.Background(), env, TimeRange{From: at.Add(-window), To: at})
	if err != nil {
		t.Fatalf("%s: %v", d.Name(), err)
	}
	return fs
}

var (
	wsB1    = netip.MustParseAddr("10.1.100.50")
	wsB2    = netip.MustParseAddr("10.2.100.17")
	wsB3    = netip.MustParseAddr("10.3.100.21")
	web     = netip.MustParseAddr("10.1.20.11")
	cdn     = netip.MustParseAddr("192.0.2.10")
	drop    = netip.MustParseAddr("198.51.100.77")
	monday  = time.Date(2026, 4, 6, 0, 0, 0, 0, chicago())
	hourDur = time.Hour
)

func chicago() *time.Location {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	return loc
}

func TestVolumeHandMade(t *testing.T) {
	const mb = 1_000_000
	tests := []struct {
		name       string
		days       int      // days of normal history (10 MB each working hour) before the judged day
		spike      []uint64 // bytes in the working hours 09:00.. of the judged day
		wantFire   bool
		wantMethod string
	}{
		{"short history uses the hour-of-day fallback", 4, []uint64{900 * mb, 900 * mb, 900 * mb}, true, "hour-of-day"},
		{"below min_history_days nothing is judged", 2, []uint64{900 * mb, 900 * mb, 900 * mb}, false, ""},
		{"one hour just past the gate does not page", 4, []uint64{300 * mb}, false, ""},
		{"a normal day stays quiet", 4, []uint64{10 * mb, 10 * mb, 10 * mb}, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l logBuilder
			for d := range tc.days {
				for h := 8; h < 18; h++ {
					l.conn(monday.AddDate(0, 0, d).Add(time.Duration(h)*hourDur+time.Minute), "tcp", wsB1, cdn, 443, 10*mb)
				}
			}
			judged := monday.AddDate(0, 0, tc.days)
			for h := 8; h < 18; h++ {
				b := uint64(10 * mb)
				if i := h - 9; i >= 0 && i < len(tc.spike) {
					b = tc.spike[i]
				}
				l.conn(judged.Add(time.Duration(h)*hourDur+time.Minute), "tcp", wsB1, drop, 443, b)
			}
			at := judged.AddDate(0, 0, 1)
			env := handEnv(t, at, &l)
			var host *Finding
			fs := runDetector(t, env, VolumeDetector{}, at, 24*time.Hour)
			for i := range fs {
				if fs[i].Subject.Host == wsB1 {
					host = &fs[i]
				}
			}
			if (host != nil) != tc.wantFire {
				t.Fatalf("host finding %v; want %v (findings %v)", host != nil, tc.wantFire, fs)
			}
			if host == nil {
				return
			}
			if host.Evidence.Baseline.Method != tc.wantMethod {
				t.Errorf("method %s; want %s", host.Evidence.Baseline.Method, tc.wantMethod)
			}
			if len(host.Evidence.TopPeers) == 0 || host.Evidence.TopPeers[0].Key != drop.String() {
				t.Errorf("top peers %v; want %s first", host.Evidence.TopPeers, drop)
			}
			if host.Key != "volume_spike|"+wsB1.String() {
				t.Errorf("key %q", host.Key)
			}
		})
	}
}

func TestPortsHandMade(t *testing.T) {
	at := monday.Add(12 * hourDur)
	scanner := netip.MustParseAddr("203.0.113.250")
	tests := []struct {
		name     string
		build    func(l *logBuilder)
		detector Detector
		want     []string // keys
	}{
		{"25 distinct ports in an hour is a scan", func(l *logBuilder) {
			for p := range 25 {
				l.deny(at.Add(-30*time.Minute), scanner, web, 1000+p)
			}
		}, PortScanDetector{}, []string{"port_scan|203.0.113.250"}},
		{"15 distinct ports is not", func(l *logBuilder) {
			for p := range 15 {
				l.deny(at.Add(-30*time.Minute), scanner, web, 1000+p)
			}
		}, PortScanDetector{}, nil},
		{"12 denies on an unconventional port", func(l *logBuilder) {
			for range 12 {
				l.deny(at.Add(-20*time.Minute), scanner, web, 5555)
			}
		}, UnusualPortsDetector{}, []string{"unusual_ports|denied|203.0.113.250"}},
		{"12 denies on a conventional port", func(l *logBuilder) {
			for range 12 {
				l.deny(at.Add(-20*time.Minute), scanner, web, 443)
			}
		}, UnusualPortsDetector{}, nil},
		{"5 denies on an unconventional port", func(l *logBuilder) {
			for range 5 {
				l.deny(at.Add(-20*time.Minute), scanner, web, 5555)
			}
		}, UnusualPortsDetector{}, nil},
		{"allowed outbound on tcp/4444", func(l *logBuilder) {
			l.conn(at.Add(-time.Hour), "tcp", wsB3, drop, 4444, 5000)
			l.conn(at.Add(-time.Hour), "tcp", wsB3, cdn, 443, 5000)
		}, UnusualPortsDetector{}, []string{"unusual_ports|allowed|10.3.100.21|tcp/4444"}},
		{"NTP from a VM host is allowed by a flow", func(l *logBuilder) {
			l.conn(at.Add(-time.Hour), "udp", netip.MustParseAddr("10.1.11.1"), netip.MustParseAddr("192.0.2.123"), 123, 96)
		}, UnusualPortsDetector{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l logBuilder
			tc.build(&l)
			env := handEnv(t, at, &l)
			fs := runDetector(t, env, tc.detector, at, 24*time.Hour)
			var got []string
			for _, f := range fs {
				got = append(got, f.Key)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("keys %v; want %v", got, tc.want)
			}
		})
	}
}

func TestProtectedHandMade(t *testing.T) {
	at := monday.Add(12 * hourDur)
	var l logBuilder
	// 8.8.8.8 is an approved resolver, so protected: never to be blocked, even when a
	// workstation talks to it on an odd port.
	l.conn(at.Add(-time.Hour), "tcp", wsB1, netip.MustParseAddr("8.8.8.8"), 8443, 5000)
	l.conn(at.Add(-time.Hour), "tcp", wsB1, drop, 8443, 5000)
	env := handEnv(t, at, &l)
	fs := runDetector(t, env, UnusualPortsDetector{}, at, 24*time.Hour)
	if len(fs) != 1 {
		t.Fatalf("%d findings; want 1 (host, port): %v", len(fs), fs)
	}
	peers := map[string]bool{}
	for _, p := range fs[0].Evidence.TopPeers {
		peers[p.Key] = true
	}
	if !peers["8.8.8.8"] || !peers[drop.String()] {
		t.Errorf("top peers %v; want both", fs[0].Evidence.TopPeers)
	}
	want := fs[0].Subject.Peer == netip.MustParseAddr("8.8.8.8")
	if fs[0].Protected != want {
		t.Errorf("subject peer %s protected=%v; want %v", fs[0].Subject.Peer, fs[0].Protected, want)
	}
}

func TestSegmentAndVPNHandMade(t *testing.T) {
	at := monday.AddDate(0, 0, 9)
	user := "mgarcia"
	home, cafe := netip.MustParseAddr("198.51.100.201"), netip.MustParseAddr("198.51.100.253")
	tests := []struct {
		name     string
		build    func(l *logBuilder)
		detector Detector
		want     []string
	}{
		{"permitted ws-b2 -> ws-b3", func(l *logBuilder) {
			l.iosACL(at.Add(-2*hourDur), "permitted", wsB2, wsB3, 445)
		}, SegmentViolationDetector{}, []string{"segment_violation|10.2.100.17|10.3.100.21"}},
		{"denied only: the router enforced it", func(l *logBuilder) {
			l.iosACL(at.Add(-2*hourDur), "denied", wsB2, wsB3, 445)
		}, SegmentViolationDetector{}, nil},
		{"ws-b2 -> servers is an allowed flow", func(l *logBuilder) {
			l.iosACL(at.Add(-2*hourDur), "permitted", wsB2, netip.MustParseAddr("10.1.10.60"), 445)
		}, SegmentViolationDetector{}, nil},
		{"a new source after the learning days", func(l *logBuilder) {
			for d := range 8 {
				l.vpn(monday.AddDate(0, 0, d).Add(8*hourDur), user, home)
			}
			l.vpn(at.Add(-3*hourDur), user, cafe)
		}, NewVPNSourceDetector{}, []string{"new_vpn_source|mgarcia|198.51.100.253"}},
		{"the known source is not new", func(l *logBuilder) {
			for d := range 9 {
				l.vpn(monday.AddDate(0, 0, d).Add(8*hourDur), user, home)
			}
		}, NewVPNSourceDetector{}, nil},
		{"still learning: everything is new at first", func(l *logBuilder) {
			l.vpn(at.Add(-72*hourDur), user, home)
			l.vpn(at.Add(-3*hourDur), user, cafe)
		}, NewVPNSourceDetector{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l logBuilder
			tc.build(&l)
			env := handEnv(t, at, &l)
			var got []string
			for _, f := range runDetector(t, env, tc.detector, at, 24*time.Hour) {
				got = append(got, f.Key)
				if len(f.Evidence.Lines) == 0 {
					t.Errorf("%s: no raw lines in the evidence", f.Key)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("keys %v; want %v", got, tc.want)
			}
		})
	}
}

// panicky is a detector that panics, for Run's recovery.
type panicky struct{}

func (panicky) Name() string { return "panicky" }
func (panicky) Run(context.Context, *Env, TimeRange) ([]Finding, error) {
	var m map[string]int
	m["boom"]++
	return nil, nil
}

func TestRunRecoversPanicsAndIsIdempotent(t *testing.T) {
	at := monday.AddDate(0, 0, 9)
	var l logBuilder
	l.iosACL(at.Add(-2*hourDur), "permitted", wsB2, wsB3, 445)
	env := handEnv(t, at, &l)
	env.Findings = NewStore(env.Stats.(Records), 0)
	env.Detectors = []Detector{panicky{}, SegmentViolationDetector{}}
	for i := range 2 {
		res, err := Run(t.Context(), env, at, 24*time.Hour)
		if err == nil || len(res.Errors) != 1 || res.Errors[0].Detector != "panicky" {
			t.Fatalf("run %d: err %v, errors %v; want the panic reported", i, err, res.Errors)
		}
		if len(res.Findings) != 1 || res.Findings[0].Count != 1 {
			t.Fatalf("run %d: findings %v; want one with count 1", i, res.Findings)
		}
		want := ChangeNew
		if i > 0 {
			want = ChangeSilent
		}
		if res.Findings[0].Change != want {
			t.Errorf("run %d: change %s; want %s", i, res.Findings[0].Change, want)
		}
	}
}

// rendezvous is a detector that finishes only once every other rendezvous of its group has
// started: run one after another, the first would wait forever.
type rendezvous struct {
	name    string
	started chan struct{} // closed by this detector when it starts
	others  []chan struct{}
}

func (r rendezvous) Name() string { return r.name }
func (r rendezvous) Run(ctx context.Context, _ *Env, w TimeRange) ([]Finding, error) {
	close(r.started)
	for _, o := range r.others {
		select {
		case <-o:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return []Finding{{Key: r.name + w.To.String(), Severity: SeverityLow, Title: r.name}}, nil
}

// TestRunDetectorsSideBySide: a run's detectors run concurrently, and the run reports them
// in their order whatever order they end in.
func TestRunDetectorsSideBySide(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one CPU: Run runs one detector at a time")
	}
	at := monday.AddDate(0, 0, 9)
	env := handEnv(t, at, &logBuilder{})
	a, b := make(chan struct{}), make(chan struct{})
	env.Detectors = []Detector{
		rendezvous{name: "first", started: a, others: []chan struct{}{b}},
		rendezvous{name: "second", started: b, others: []chan struct{}{a}},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, env, at, 24*time.Hour)
	if err != nil {
		t.Fatalf("Run = %v (%v); want both detectors to meet", err, res.Errors)
	}
	if !slices.Equal(res.Detectors, []string{"first", "second"}) || len(res.Findings) != 2 {
		t.Errorf("detectors %v, %d findings; want first, second and one finding each", res.Detectors, len(res.Findings))
	}
}
