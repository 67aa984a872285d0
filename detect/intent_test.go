package detect

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/policies"
)

// handEnvEdit is handEnv with the scenario policy edited (extra top-level keys appended,
// detector settings inserted under detectors:).
func handEnvEdit(t *testing.T, now time.Time, l *logBuilder, top, detectors string) *Env {
	t.Helper()
	pol, err := scenario.DefaultSite().Policy()
	if err != nil {
		t.Fatal(err)
	}
	// A detector the edit sets replaces the generated policy's line for it.
	var kept []string
	for _, line := range strings.Split(string(pol), "\n") {
		name, _, ok := strings.Cut(strings.TrimPrefix(line, "  "), ":")
		if ok && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && strings.Contains(detectors, "  "+name+":") {
			continue
		}
		kept = append(kept, line)
	}
	y := strings.Replace(strings.Join(kept, "\n"), "\ndetectors:\n", "\ndetectors:\n"+detectors, 1) + top
	cfg, err := policies.Parse("site.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, now)
	if err := feed(t.Context(), cfg, st, func() time.Time { return now }, []byte(l.b.String())); err != nil {
		t.Fatal(err)
	}
	return &Env{Stats: st, Policy: cfg}
}

// raw writes one ASA line with an RFC 5424 header.
func (l *logBuilder) raw(t time.Time, host, format string, args ...any) {
	l.hdr(t, host, 166)
	fmt.Fprintf(&l.b, format+"\n", args...)
}

// internal writes an ASA connection between two internal interfaces.
func (l *logBuilder) internal(t time.Time, fromIf string, client netip.Addr, toIf string, server netip.Addr, port int, bytes uint64, reason string) {
	l.id++
	cp := 50000 + l.id%10000
	l.raw(t, "asa1", "%%ASA-6-302013: Built outbound TCP connection %d for %s:%s/%d (%s/%d) to %s:%s/%d (%s/%d)",
		l.id, toIf, server, port, server, port, fromIf, client, cp, client, cp)
	l.raw(t.Add(30*time.Second), "asa1", "%%ASA-6-302014: Teardown TCP connection %d for %s:%s/%d to %s:%s/%d duration 0:00:30 bytes %d %s",
		l.id, toIf, server, port, fromIf, client, cp, bytes, reason)
}

var mgmtHost = netip.MustParseAddr("10.10.0.50")

func keysOf(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Key)
	}
	return out
}

// TestDetectorsJudgeByIntent covers the classes one by one on hand-made lines.
func TestDetectorsJudgeByIntent(t *testing.T) {
	at := monday.AddDate(0, 0, 9)
	vmh := netip.MustParseAddr("10.1.11.7")
	san := netip.MustParseAddr("10.1.50.10")
	tests := []struct {
		name           string
		build          func(l *logBuilder)
		top, detectors string
		detector       Detector
		want           []string
		summary        string // the first finding's summary contains this
	}{
		{"router reply from 3389 to management is the allowed flow the other way", func(l *logBuilder) {
			l.hdr(at.Add(-2*hourDur), "rtr-b2", 190)
			fmt.Fprintf(&l.b, "%%SEC-6-IPACCESSLOGP: list B2-LAN-IN permitted tcp %s(3389) -> %s(51234), 40 packets\n", wsB2, mgmtHost)
		}, "", "", SegmentViolationDetector{}, nil, ""},
		{"router packets of a connection the ASA recorded the other way are its replies", func(l *logBuilder) {
			// No ports to tell (both ephemeral-looking): the ASA's connection record decides.
			l.internal(at.Add(-2*hourDur), "inside", wsB3, "inside", wsB2, 5001, 9000, "TCP FINs")
			l.hdr(at.Add(-2*hourDur+time.Second), "rtr-b2", 190)
			fmt.Fprintf(&l.b, "%%SEC-6-IPACCESSLOGP: list B2-LAN-IN permitted tcp %s(5001) -> %s(50001), 4 packets\n", wsB2, wsB3)
		}, "", "", SegmentViolationDetector{}, []string{"segment_violation|10.3.100.21|10.2.100.17"}, "ASA connection records"},
		{"a router-logged violation says how the initiator was read", func(l *logBuilder) {
			l.iosACL(at.Add(-2*hourDur), "permitted", wsB2, wsB3, 445)
		}, "", "", SegmentViolationDetector{}, []string{"segment_violation|10.2.100.17|10.3.100.21"}, "initiator by ports"},
		{"pings between segments are diagnostics by default", func(l *logBuilder) {
			l.hdr(at.Add(-2*hourDur), "rtr-b2", 190)
			fmt.Fprintf(&l.b, "%%SEC-6-IPACCESSLOGDP: list B2-LAN-IN permitted icmp %s -> %s (8/0), 1 packet\n", wsB2, wsB3)
		}, "", "", SegmentViolationDetector{}, nil, ""},
		{"pings are violations with icmp: strict", func(l *logBuilder) {
			l.hdr(at.Add(-2*hourDur), "rtr-b2", 190)
			fmt.Fprintf(&l.b, "%%SEC-6-IPACCESSLOGDP: list B2-LAN-IN permitted icmp %s -> %s (8/0), 1 packet\n", wsB2, wsB3)
		}, "", "  segment_violation: {icmp: strict}\n", SegmentViolationDetector{}, []string{"segment_violation|10.2.100.17|10.3.100.21"}, ""},
		{"management polling the SAN through the ASA is allowed", func(l *logBuilder) {
			l.internal(at.Add(-3*hourDur), "management", mgmtHost, "inside", san, 443, 40_000, "TCP FINs")
		}, "", "", SANCrossingDetector{}, nil, ""},
		{"a DMZ server mounting the SAN is a crossing", func(l *logBuilder) {
			l.internal(at.Add(-3*hourDur), "dmz", web, "inside", san, 3260, 4e8, "TCP FINs")
		}, "", "", SANCrossingDetector{}, []string{"san_crossing|10.1.20.11|10.1.50.10"}, "no flow allows"},
		{"a dead host is not kept alive by others' failed SYNs", func(l *logBuilder) {
			for h := 0; h < 8*24; h++ {
				l.conn(monday.Add(time.Duration(h)*hourDur+time.Minute), "tcp", vmh, cdn, 443, 40_000)
			}
			for h := 8 * 24; h < 9*24; h++ {
				l.internal(monday.Add(time.Duration(h)*hourDur+5*time.Minute), "management", mgmtHost, "inside", vmh, 443, 0, "SYN Timeout")
			}
		}, "", "", SilentHostDetector{}, []string{"silent_host|10.1.11.7"}, ""},
		{"a roaming user's carrier addresses are one known source", func(l *logBuilder) {
			for d := range 8 {
				l.vpn(monday.AddDate(0, 0, d).Add(8*hourDur), "mgarcia", netip.AddrFrom4([4]byte{80, 187, byte(d), 9}))
			}
			l.vpn(at.Add(-3*hourDur), "mgarcia", netip.MustParseAddr("80.187.201.4"))
		}, "vpn:\n  carriers: [{name: mobile, prefixes: [80.187.0.0/16]}]\n", "", NewVPNSourceDetector{}, nil, ""},
		{"a new hire's first login is no known user's new place", func(l *logBuilder) {
			for d := range 8 {
				l.vpn(monday.AddDate(0, 0, d).Add(8*hourDur), "mgarcia", netip.MustParseAddr("198.51.100.201"))
			}
			l.vpn(at.Add(-3*hourDur), "newhire", netip.MustParseAddr("198.51.100.240"))
		}, "", "", NewVPNSourceDetector{}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var l logBuilder
			tc.build(&l)
			env := handEnvEdit(t, at, &l, tc.top, tc.detectors)
			fs := runDetector(t, env, tc.detector, at, 24*time.Hour)
			if fmt.Sprint(keysOf(fs)) != fmt.Sprint(tc.want) {
				t.Fatalf("keys %v; want %v", keysOf(fs), tc.want)
			}
			if tc.summary != "" && !strings.Contains(fs[0].Evidence.Summary, tc.summary) {
				t.Errorf("summary %q; want it to say %q", fs[0].Evidence.Summary, tc.summary)
			}
		})
	}
}

// TestVolumeKnownServiceIsNoExfiltration: the same upload is a spike naming its peer, unless
// the peer is a known service.
func TestVolumeKnownServiceIsNoExfiltration(t *testing.T) {
	const mb = 1_000_000
	for _, svc := range []bool{false, true} {
		var l logBuilder
		for d := range 4 {
			for h := 8; h < 18; h++ {
				l.conn(monday.AddDate(0, 0, d).Add(time.Duration(h)*hourDur+time.Minute), "tcp", wsB1, cdn, 443, 10*mb)
			}
		}
		judged := monday.AddDate(0, 0, 4)
		for h := 9; h < 12; h++ {
			l.conn(judged.Add(time.Duration(h)*hourDur+time.Minute), "tcp", wsB1, drop, 443, 900*mb)
		}
		top := ""
		if svc {
			top = "services:\n  - {name: files-saas, prefixes: [198.51.100.77/32]}\n"
		}
		at := judged.AddDate(0, 0, 1)
		env := handEnvEdit(t, at, &l, top, "")
		var host *Finding
		fs := runDetector(t, env, VolumeDetector{}, at, 24*time.Hour)
		for i := range fs {
			if fs[i].Subject.Host == wsB1 {
				host = &fs[i]
			}
		}
		switch {
		case svc && host != nil:
			t.Errorf("upload to a known service reported: %s", host.Evidence.Summary)
		case !svc && (host == nil || host.Subject.Peer != drop):
			t.Errorf("upload to an unknown peer: %v; want a finding naming %s", host, drop)
		}
	}
}
