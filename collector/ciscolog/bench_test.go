package ciscolog

import (
	"fmt"
	"strconv"
	"testing"
)

// benchLines are one realistic line per message id, with RFC 3164 headers as the collector
// receives them.
var benchLines = []struct{ name, line string }{
	{"302013", "<166>Mar  3 08:15:02 fw-clinic %ASA-6-302013: Built outbound TCP connection 4130017 for outside:203.0.113.40/443 (203.0.113.40/443) to inside:10.20.1.15/52114 (198.51.100.7/40112)"},
	{"302014", "<166>Mar  3 08:15:02 fw-clinic %ASA-6-302014: Teardown TCP connection 4130017 for outside:203.0.113.40/443 to inside:10.20.1.15/52114 duration 0:04:31 bytes 48213 TCP FINs"},
	{"302015", "<166>Mar  3 08:15:03 fw-clinic %ASA-6-302015: Built outbound UDP connection 4130018 for outside:198.51.100.53/53 (198.51.100.53/53) to inside:10.20.1.15/53211 (198.51.100.7/53211)"},
	{"302016", "<166>Mar  3 08:15:04 fw-clinic %ASA-6-302016: Teardown UDP connection 4130018 for outside:198.51.100.53/53 to inside:10.20.1.15/53211 duration 0:02:01 bytes 96"},
	{"106023", `<164>Mar  3 08:15:05 fw-clinic %ASA-4-106023: Deny tcp src outside:192.0.2.77/40022 dst inside:10.20.1.30/3389 by access-group "outside_access_in" [0x5c2f0e31, 0x0]`},
	{"305011", "<166>Mar  3 08:15:06 fw-clinic %ASA-6-305011: Built dynamic TCP translation from inside:10.20.1.15/52115 to outside:198.51.100.7/40113"},
	{"305012", "<166>Mar  3 08:15:07 fw-clinic %ASA-6-305012: Teardown dynamic UDP translation from inside:10.20.1.16/5353 to outside:198.51.100.7/21544 duration 0:00:30"},
	{"106100", "<166>Mar  3 08:15:08 fw-clinic %ASA-6-106100: access-list inside_access_in permitted tcp inside/10.20.1.15(52116) -> outside/203.0.113.40(443) hit-cnt 1 first hit [0x1a2b3c4d, 0x0]"},
	{"710003", "<167>Mar  3 08:15:22 fw-clinic %ASA-7-710003: TCP access denied by ACL from 192.0.2.98/50000 to outside:198.51.100.7/22"},
	{"302020", "<166>Mar  3 08:15:10 fw-clinic %ASA-6-302020: Built inbound ICMP connection for faddr 192.0.2.50/1 gaddr 198.51.100.8/0 laddr 10.30.0.5/0 type 8 code 0"},
	{"IPACCESSLOGP", "<190>120332: rtr-clinic: Mar  3 10:00:02.234 CET: %SEC-6-IPACCESSLOGP: list 101 permitted udp 10.20.1.15(5353) (GigabitEthernet0/1 0011.2233.4455) -> 224.0.0.251(5353), 12 packets"},
	{"header-only", "<166>Mar  3 09:00:18 fw-clinic %ASA-6-606001: ASDM session number 0 from 10.20.0.50 started"},
}

// mixedStream is the firewall's everyday traffic: mostly connection build/teardown, NAT and
// ACL denies.
func mixedStream() [][]byte {
	weights := map[string]int{"302013": 20, "302014": 20, "302015": 15, "302016": 15, "106023": 10, "305011": 8, "305012": 6, "106100": 4, "IPACCESSLOGP": 1, "header-only": 1}
	var out [][]byte
	for i := 0; i < 4; i++ { // vary the connection id so lines are not byte-identical
		for _, bl := range benchLines {
			for range weights[bl.name] {
				out = append(out, []byte(bl.line))
			}
		}
	}
	for i := range out {
		out[i] = append([]byte(nil), out[i]...)
		// Vary the last digit of the line (a port, a byte count, a hash), which keeps the line
		// well-formed: the parser rejects a cut or mangled tail.
		for j := len(out[i]) - 1; j > 60; j-- {
			if c := out[i][j]; c >= '0' && c <= '9' {
				out[i][j] = "0123456789"[i%10]
				break
			}
		}
	}
	return out
}

// BenchmarkParse measures each message id of the project's testdata (one sub-benchmark per
// ASA id or IOS mnemonic), then the representative lines above.
func BenchmarkParse(b *testing.B) {
	type bench struct{ name, line string }
	var all []bench
	seen := map[string]bool{}
	p := newTestParser()
	for _, file := range []string{"asa-rfc3164.log", "ios-acl.log"} {
		for _, line := range readLines(b, file)[1:] {
			var ev Event
			p.ParseString(line, &ev)
			name := ev.Mnemonic
			if ev.Family == FamilyASA {
				name = strconv.Itoa(int(ev.MsgID))
			}
			if name == "" || seen[name] {
				continue
			}
			seen[name] = true
			all = append(all, bench{name, line})
		}
	}
	all = append(all, bench{"header-only", benchLines[len(benchLines)-1].line})
	for _, bl := range all {
		b.Run(bl.name, func(b *testing.B) {
			frame := []byte(bl.line)
			var ev Event
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				p.Parse(frame, &ev)
			}
			if ev.Kind == KindUnparsed {
				b.Fatalf("%s did not parse", bl.name)
			}
		})
	}
}

func BenchmarkParseMixed(b *testing.B) { benchStream(b, mixedStream()) }

// benchStream parses lines round-robin and reports bytes, allocations and lines per second.
func benchStream(b *testing.B, lines [][]byte) {
	total := 0
	for _, l := range lines {
		total += len(l)
	}
	p := newTestParser()
	var ev Event
	b.SetBytes(int64(total / len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Parse(lines[i], &ev)
		i++
		if i == len(lines) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseMixedOwnSecond is the mixed stream with a different stamp on every line, a
// sparse replay's: the envelope cache helps only within a minute (it masks the seconds).
func BenchmarkParseMixedOwnSecond(b *testing.B) {
	benchStream(b, restamped(func(i int) string { return fmt.Sprintf("%02d:%02d:%02d", 8+i/3600, i/60%60, i%60) }))
}

// BenchmarkParseMixedOwnMinute gives every ASA line its own minute, so that the envelope cache
// never helps: the cost of a frame read from scratch.
func BenchmarkParseMixedOwnMinute(b *testing.B) {
	benchStream(b, restamped(func(i int) string { return fmt.Sprintf("%02d:%02d:%02d", i/60%24, i%60, i/1440%60) }))
}

// restamped is the mixed stream with the clock of its `<166>Mar  3 08:15:02 fw-clinic %ASA-…`
// lines rewritten from the line's index.
func restamped(clock func(i int) string) [][]byte {
	lines := mixedStream()
	for i, l := range lines {
		if string(l[4:12]) == ">Mar  3 " && l[14] == ':' {
			copy(l[12:20], clock(i))
		}
	}
	return lines
}

func BenchmarkAppendECS(b *testing.B) {
	p := newTestParser()
	var ev Event
	p.ParseString(benchLines[0].line, &ev)
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendECS(buf[:0], &ev)
	}
	b.SetBytes(int64(len(buf)))
}

// TestParseNoAllocs makes the zero-allocation goal of the common path a test.
func TestParseNoAllocs(t *testing.T) {
	lines := mixedStream()
	p := newTestParser()
	var ev Event
	for _, bl := range benchLines {
		frame := []byte(bl.line)
		if n := testing.AllocsPerRun(100, func() { p.Parse(frame, &ev) }); n != 0 {
			t.Errorf("Parse(%s) allocates %v times per line, want 0", bl.name, n)
		}
	}
	// Every typed line of the testdata parses without allocating too.
	for _, file := range []string{"asa-rfc3164.log", "ios-acl.log", "ios-envelopes.log"} {
		for n, line := range readLines(t, file)[1:] {
			frame := []byte(line)
			if a := testing.AllocsPerRun(20, func() { p.Parse(frame, &ev) }); a != 0 {
				t.Errorf("Parse(%s:%d) allocates %v times, want 0", file, n+1, a)
			}
		}
	}
	// A message we do not type is not re-read, doubled spaces or not.
	spaced := []byte("<166>Mar  3 09:00:18 fw-clinic %ASA-6-713172: Group = 192.0.2.9, IP = 192.0.2.9, Automatic NAT Detection Status:    Remote end is NOT behind a NAT device")
	if n := testing.AllocsPerRun(100, func() { p.Parse(spaced, &ev) }); n != 0 {
		t.Errorf("Parse(header-only with doubled spaces) allocates %v times, want 0", n)
	}
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		p.Parse(lines[i%len(lines)], &ev)
		i++
	}); n != 0 {
		t.Errorf("Parse(mixed stream) allocates %v times per line, want 0", n)
	}
	buf := make([]byte, 0, 4096)
	p.ParseString(benchLines[0].line, &ev)
	if n := testing.AllocsPerRun(100, func() { buf = AppendECS(buf[:0], &ev) }); n != 0 {
		t.Errorf("AppendECS allocates %v times with a large enough buffer, want 0", n)
	}
}

// iosStream is a router's and a switch's logging as they send it: every line has its own
// sequence number and a millisecond stamp (`service timestamps log datetime msec`), about a
// hundred lines per second, in the two stamp forms IOS writes (`*Mar  3 10:00:02.234:` and
// `Mar  3 2026 10:00:02.234 UTC:`).
func iosStream() [][]byte {
	bodies := []string{
		"%SEC-6-IPACCESSLOGP: list 101 denied tcp 192.0.2.77(40022) -> 10.20.1.30(3389), 1 packet",
		"%SEC-6-IPACCESSLOGP: list 101 permitted udp 10.20.1.15(5353) (GigabitEthernet0/1 0011.2233.4455) -> 224.0.0.251(5353), 12 packets",
		"%SEC-6-IPACCESSLOGDP: list 102 denied icmp 192.0.2.78 -> 10.20.1.1 (8/0), 3 packets",
		"%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 192.0.2.60] [localport: 22] [Reason: Login Authentication Failed] at 10:00:02 UTC Tue Mar 3 2026",
		"%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up",
	}
	var out [][]byte
	for i := 0; i < 2000; i++ {
		sec, ms := i/100, (i%100)*10+i%7
		stamp := fmt.Sprintf("*Mar  3 10:%02d:%02d.%03d", sec/60, sec%60, ms)
		host := "rtr-clinic"
		if i%2 == 1 {
			stamp = fmt.Sprintf("Mar  3 2026 10:%02d:%02d.%03d UTC", sec/60, sec%60, ms)
			host = "sw-clinic"
		}
		line := fmt.Sprintf("<190>%06d: %s: %s: %s", 120000+i, host, stamp, bodies[i%len(bodies)])
		out = append(out, []byte(line))
	}
	return out
}

// BenchmarkParseIOS is the IOS stream: sequence numbers and milliseconds change on every line,
// the rest of the envelope once a second.
func BenchmarkParseIOS(b *testing.B) { benchStream(b, iosStream()) }
