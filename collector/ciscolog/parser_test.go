package ciscolog

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testNow is the injected clock of the tests: late in 2026, so that yearless March stamps
// land in 2026 and a December stamp read in January lands in the year before.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newTestParser() *Parser {
	return NewParser(Options{Now: func() time.Time { return testNow }})
}

// readLines returns the lines of a file under testdata/syslog (1-based: lines[1] is line 1).
func readLines(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "syslog", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := []string{""}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func fmtEP(ep Endpoint) string {
	s := ""
	if ep.Iface != "" {
		s = ep.Iface + ":"
	}
	switch {
	case ep.Addr.IsValid():
		s += ep.Addr.String()
	case ep.Name != "":
		s += "name=" + ep.Name
	default:
		s += "-"
	}
	if ep.Port != 0 {
		s += "/" + strconv.Itoa(int(ep.Port))
	}
	if ep.MappedAddr.IsValid() || ep.MappedPort != 0 {
		m := "-"
		if ep.MappedAddr.IsValid() {
			m = ep.MappedAddr.String()
		}
		s += " nat=" + m + "/" + strconv.Itoa(int(ep.MappedPort))
	}
	if ep.User != "" {
		s += " user=" + ep.User
	}
	return s
}

// view projects an event onto named strings, so that a test states only the fields it checks.
func view(ev *Event) map[string]string {
	m := map[string]string{
		"kind": ev.Kind.String(), "host": ev.Host, "family": ev.Family.String(),
		"fac": ev.Facility, "class": ev.Class, "mn": ev.Mnemonic,
		"sev": strconv.Itoa(int(ev.Severity)), "pri": strconv.Itoa(int(ev.Priority)),
		"seq": strconv.Itoa(int(ev.Seq)), "id": strconv.Itoa(int(ev.MsgID)),
		"action": ev.Action.String(), "src": fmtEP(ev.Src), "dst": fmtEP(ev.Dst),
		"dir": ev.Direction.String(), "bytes": strconv.FormatUint(ev.Bytes, 10),
		"dur": ev.Duration.String(), "conn": strconv.FormatUint(ev.ConnID, 10),
		"acl": ev.ACL, "user": ev.User, "reason": ev.Reason,
		"count": strconv.Itoa(int(ev.Count)), "text": ev.Text,
		"icmp": strconv.Itoa(int(ev.ICMPType)) + "/" + strconv.Itoa(int(ev.ICMPCode)),
		"time": "", "proto": "", "init": "",
	}
	if !ev.Time.IsZero() {
		m["time"] = ev.Time.Format(time.RFC3339Nano)
	}
	if ev.HasProto {
		m["proto"] = strconv.Itoa(int(ev.Proto))
	}
	switch ev.Initiator {
	case SideSrc:
		m["init"] = "src"
	case SideDst:
		m["init"] = "dst"
	}
	return m
}

type f = map[string]string

// checkLines parses the given lines of a testdata file and compares the listed fields.
func checkLines(t *testing.T, file string, cases map[int]f) {
	t.Helper()
	lines := readLines(t, file)
	p := newTestParser()
	for n, want := range cases {
		t.Run(file+":"+strconv.Itoa(n), func(t *testing.T) {
			if n >= len(lines) {
				t.Fatalf("%s has no line %d", file, n)
			}
			var ev Event
			p.ParseString(lines[n], &ev)
			got := view(&ev)
			sub := map[string]string{}
			for k := range want {
				v, ok := got[k]
				if !ok {
					t.Fatalf("unknown field %q in test table", k)
				}
				sub[k] = v
			}
			if d := cmp.Diff(want, sub); d != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", lines[n], d)
			}
		})
	}
}

func TestParseASASyslog(t *testing.T) {
	checkLines(t, "asa-rfc3164.log", map[int]f{
		1: {"kind": "typed", "time": "2026-03-03T08:15:02Z", "host": "fw-clinic", "pri": "166", "sev": "6",
			"family": "asa", "fac": "ASA", "id": "302013", "action": "built", "proto": "6", "dir": "outbound",
			"init": "dst", "conn": "4130017",
			"src": "outside:203.0.113.40/443 nat=203.0.113.40/443", "dst": "inside:10.20.1.15/52114 nat=198.51.100.7/40112"},
		2: {"kind": "typed", "action": "teardown", "proto": "6", "conn": "4130017", "dur": "4m31s", "bytes": "48213",
			"reason": "TCP FINs", "src": "outside:203.0.113.40/443", "dst": "inside:10.20.1.15/52114", "init": ""},
		3: {"action": "built", "proto": "17", "dir": "inbound", "init": "src",
			"src": "outside:198.51.100.99/53211 nat=198.51.100.99/53211", "dst": "dmz:10.30.0.5/123 nat=198.51.100.8/123"},
		4: {"action": "teardown", "proto": "17", "dur": "2m1s", "bytes": "96", "reason": ""},
		5: {"kind": "typed", "sev": "4", "action": "deny", "proto": "6", "acl": "outside_access_in", "init": "src",
			"src": "outside:192.0.2.77/40022", "dst": "inside:10.20.1.30/3389"},
		6: {"action": "translate", "proto": "6", "src": "inside:10.20.1.15/52115 nat=198.51.100.7/40113", "dst": "outside:-"},
		7: {"action": "translate-end", "proto": "17", "dur": "30s", "src": "inside:10.20.1.16/5353 nat=198.51.100.7/21544"},
		8: {"action": "permit", "acl": "inside_access_in", "count": "1", "src": "inside:10.20.1.15/52116", "dst": "outside:203.0.113.40/443"},
		9: {"action": "deny", "proto": "17", "count": "27", "acl": "outside_access_in"},
		10: {"action": "built", "dir": "inbound", "proto": "1", "icmp": "8/0", "init": "dst",
			"src": "10.30.0.5 nat=198.51.100.8/0", "dst": "192.0.2.50"},
		11: {"action": "teardown", "proto": "1", "icmp": "8/0", "src": "10.30.0.5 nat=198.51.100.8/0", "dst": "192.0.2.50"},
		12: {"action": "deny", "dir": "inbound", "proto": "6", "reason": "SYN", "src": "outside:192.0.2.91/51515", "dst": "198.51.100.7/445"},
		13: {"action": "drop", "dir": "inbound", "proto": "17", "src": "outside:192.0.2.92/137", "dst": "10.20.1.255/137"},
		14: {"action": "drop", "reason": "DNS Response", "dst": "10.30.0.5/53"},
		15: {"action": "drop", "dir": "inbound", "proto": "47", "src": "outside:192.0.2.94", "dst": "inside:10.20.1.1"},
		16: {"action": "deny", "proto": "1", "icmp": "8/0", "dst": "inside:10.20.1.1"},
		17: {"action": "drop", "proto": "6", "reason": "RST ACK", "src": "inside:10.20.1.15/52117", "dst": "203.0.113.40/443"},
		18: {"action": "drop", "reason": "reverse path check", "src": "outside:10.99.0.1", "dst": "10.20.1.15"},
		19: {"action": "deny", "proto": "1", "icmp": "5/1", "src": "outside:192.0.2.96"},
		20: {"action": "drop", "icmp": "0/-1", "src": "inside:10.20.1.15", "dst": "203.0.113.40", "reason": "no matching session"},
		21: {"action": "drop", "icmp": "3/3", "src": "outside:192.0.2.97", "dst": "inside:10.20.1.15"},
		22: {"action": "deny", "proto": "6", "src": "192.0.2.98/50000", "dst": "outside:198.51.100.7/22"},
		23: {"action": "drop", "proto": "17", "src": "10.20.1.15/68", "dst": "inside:10.20.1.1/67"},
		24: {"action": "login", "user": "nurse.kim", "dst": "10.20.0.10"},
		25: {"action": "login-failed", "user": "dr.lee", "reason": "Invalid password", "src": "192.0.2.120", "dst": "10.20.0.10"},
		26: {"action": "session-end", "user": "dr.lee", "src": "192.0.2.120", "dur": "1h2m3s", "bytes": "1050624", "reason": "Idle Timeout"},
		27: {"action": "session-start", "user": "dr.lee", "proto": "6", "src": "192.0.2.120"},
		28: {"action": "session-end", "user": "dr.lee", "proto": "17"},
		29: {"action": "session-start", "user": "dr.lee", "src": "192.0.2.120 nat=10.99.10.21/0"},
		30: {"action": "session-start", "user": "nurse.kim", "src": "192.0.2.121"},
		31: {"action": "session-end", "reason": "User Requested"},
		32: {"action": "threat", "src": "192.0.2.77", "reason": "192.0.2.77"},
		33: {"action": "login-failed", "user": "admin", "src": "192.0.2.130/51000", "dst": "outside:198.51.100.7/22"},
		34: {"action": "login", "user": "netadmin", "dst": "inside:10.20.1.1/443"},
		35: {"action": "config", "user": "netadmin", "reason": "access-list outside_access_in extended deny ip host 192.0.2.77 any"},
		36: {"action": "teardown", "dur": "92h24m20s", "bytes": "4882591338", "reason": "TCP Reset-O"},
		37: {"kind": "typed", "id": "111010", "sev": "5", "action": "config", "user": "netadmin", "src": "10.20.0.50",
			"reason": "write memory", "text": "User 'netadmin', running 'CLI' from IP 10.20.0.50, executed 'write memory'"},
		38: {"kind": "typed", "action": "permit", "proto": "1", "icmp": "8/0", "count": "3", "src": "inside:10.20.1.15", "dst": "outside:203.0.113.40"},
	})
}

func TestParseASAEnvelopes(t *testing.T) {
	checkLines(t, "asa-envelopes.log", map[int]f{
		1:  {"kind": "typed", "time": "", "host": "", "pri": "-1", "sev": "6", "id": "302013"},
		2:  {"kind": "typed", "time": "2026-03-03T09:00:01Z", "host": "fw-clinic", "id": "302016"},
		3:  {"kind": "typed", "time": "2026-03-03T14:00:02Z", "class": "session", "sev": "5", "id": "106100"},
		4:  {"kind": "typed", "time": "2026-03-03T08:00:03Z", "id": "302015", "init": "dst"},
		5:  {"kind": "typed", "time": "2026-03-03T09:00:04.25Z", "host": "fw-clinic", "pri": "166", "id": "302014", "bytes": "5120"},
		6:  {"kind": "typed", "count": "3", "action": "deny", "dst": "inside:10.20.1.255/5353", "acl": "outside_access_in"},
		7:  {"kind": "typed", "fac": "FTD", "family": "asa", "id": "302013"},
		8:  {"kind": "typed", "fac": "PIX", "id": "305011", "src": "dmz:10.30.0.5/443 nat=198.51.100.8/443"},
		9:  {"kind": "typed", "dst": "NP Identity Ifc:255.255.255.255/68"},
		10: {"kind": "typed", "src": "ctx1:outside:192.0.2.13/1900", "dst": "ctx1:inside:239.255.255.250/1900"},
		11: {"kind": "typed", "dst": "inside:name=pacs-server/50010 nat=-/50010"},
		12: {"kind": "typed", "dst": "mgmt:name=1010.20.0.5/53356"},
		13: {"kind": "typed", "src": "outside:192.0.2.15/40002 nat=192.0.2.15/40002 user=LOCAL\\Dana Smith", "user": "Dana Smith"},
		14: {"kind": "typed", "src": "outside:192.0.2.16/40003 nat=192.0.2.16/40003 user=LOCAL\\alice",
			"dst": "inside:10.20.1.21/53 nat=10.20.1.21/53 user=CLINIC\\bob", "user": "alice"},
		15: {"kind": "typed", "src": "outside:192.0.2.17/40004 user=9999:Staff_SGT", "reason": "TCP FINs"},
		16: {"kind": "typed", "src": "outside:192.0.2.18/40005 user=nurse@clinic.example", "user": "nurse@clinic.example"},
		17: {"kind": "typed", "src": "outside:2001:db8:10::5/50123 nat=2001:db8:10::5/50123", "dst": "dmz:2001:db8:20::80/443 nat=2001:db8:20::80/443"},
		18: {"kind": "typed", "proto": "58", "icmp": "134/0", "src": "fe80::1 nat=fe80::1/0", "dst": "ff02::1"},
		19: {"kind": "header", "id": "606001", "text": "ASDM session number 0 from 10.20.0.50 started"},
		20: {"kind": "typed", "host": "fw-clinic", "bytes": "120", "src": "outside:192.0.2.19/53", "dst": "inside:10.20.1.15/51002"},
		21: {"kind": "typed", "host": "fw-clinic", "count": "2", "bytes": "120", "conn": "5015", "dst": "inside:10.20.1.15/51003",
			"text": "Teardown UDP connection 5015 for outside:192.0.2.20/53 to inside:10.20.1.15/51003 duration 0:00:00 bytes 120"},
		22: {"kind": "typed", "host": "edge", "time": "2026-03-03T09:00:21Z"},
		23: {"kind": "typed", "host": "", "time": "2026-03-03T09:00:22Z"},
		24: {"kind": "typed", "src": "outside:192.0.2.23/40006 user=LOCAL\\Zoë Müller", "user": "Zoë Müller", "reason": "TCP FINs"},
	})
}

func TestParseIOSACL(t *testing.T) {
	checkLines(t, "ios-acl.log", map[int]f{
		1: {"kind": "typed", "family": "ios", "fac": "SEC", "mn": "IPACCESSLOGP", "seq": "120331", "time": "2026-03-03T09:00:01.123Z",
			"action": "deny", "acl": "INTERNET-IN", "proto": "6", "src": "192.0.2.60/44123", "dst": "198.51.100.1/23", "count": "1", "init": "src"},
		2:  {"host": "rtr-clinic", "action": "permit", "acl": "101", "src": "GigabitEthernet0/1:10.20.1.15/5353", "dst": "224.0.0.251/5353", "count": "12"},
		3:  {"proto": "1", "icmp": "8/0", "src": "GigabitEthernet0/0:192.0.2.61", "dst": "198.51.100.1", "count": "4"},
		4:  {"proto": "2", "src": "192.0.2.62", "dst": "224.0.0.22", "icmp": "-1/-1"},
		5:  {"proto": "50", "src": "192.0.2.63", "dst": "198.51.100.1", "count": "3"},
		6:  {"kind": "typed", "proto": "", "acl": "10", "src": "192.0.2.64", "dst": "-", "count": "1"},
		7:  {"action": "permit", "icmp": "0/0", "count": "2"},
		8:  {"kind": "typed", "action": "rate-limit", "count": "57"},
		9:  {"kind": "typed", "fac": "IPV6_ACL", "mn": "ACCESSLOGP", "src": "2001:db8:99::7/51000", "dst": "2001:db8:1::10/22", "acl": "V6-IN/20"},
		10: {"kind": "typed", "proto": "58", "icmp": "128/0", "count": "5"},
		11: {"kind": "typed", "src": "GigabitEthernet0/0:192.0.2.65/40000", "dst": "198.51.100.1/443"},
		12: {"kind": "typed", "src": "GigabitEthernet0/0:192.0.2.66/1900"},
	})
}

func TestParseIOSEnvelopes(t *testing.T) {
	checkLines(t, "ios-envelopes.log", map[int]f{
		1: {"kind": "typed", "seq": "120400", "host": "rtr-clinic", "fac": "SYS", "mn": "CONFIG_I", "sev": "5", "time": "2026-03-03T09:05:00.1Z",
			"action": "config", "user": "netadmin", "src": "10.20.0.50", "reason": "console"},
		2: {"kind": "typed", "seq": "0", "host": "rtr-clinic", "mn": "UPDOWN", "sev": "3", "action": "state-change",
			"src": "GigabitEthernet0/2:-", "reason": "down"},
		3:  {"host": "", "time": "2026-03-03T10:05:02.3Z", "fac": "LINEPROTO"},
		4:  {"seq": "124", "time": "2026-03-03T10:05:03Z", "mn": "RESTART"},
		5:  {"time": "2026-03-03T08:05:04.4Z"},
		6:  {"time": "2026-03-03T16:05:05.5Z"},
		7:  {"time": "2026-03-03T02:35:06.6Z"},
		8:  {"time": "", "host": "rtr-clinic", "mn": "LOGOUT"},
		9:  {"host": "10.20.0.1", "seq": "120405", "time": "2026-03-03T10:05:07.7Z", "pri": "-1"},
		10: {"kind": "header", "fac": "SNMP", "sev": "4", "mn": "SNMPAUTHFAIL"},
		11: {"fac": "SNMP-SNMP", "mn": "AUTH_FAIL", "sev": "3", "text": "Received snmp request on unknown community from 192.0.2.200"},
		12: {"fac": "SYSMGR-STANDBY", "mn": "SHUTDOWN_START", "host": "rtr-clinic", "seq": "120407"},
	})
}

func TestParseUnparsed(t *testing.T) {
	checkLines(t, "unparsed.log", map[int]f{
		1: {"kind": "unparsed", "host": "ntp-1", "time": "2026-03-03T11:00:00Z", "sev": "-1"},
		2: {"kind": "unparsed", "pri": "13", "sev": "5", "host": "pc-reception"},
		3: {"kind": "unparsed", "host": "rtr-clinic", "seq": "120500"},
		4: {"kind": "unparsed", "host": "", "family": "unknown"},
		5: {"kind": "unparsed", "id": "0"},
		6: {"kind": "unparsed", "time": ""},
		7: {"kind": "unparsed", "pri": "191"},
	})
}

func TestYearInference(t *testing.T) {
	tests := []struct {
		name string
		now  time.Time
		line string
		want string
	}{
		{"same year", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "<166>May 31 23:00:00 fw %ASA-6-302016 x", "2026-05-31T23:00:00Z"},
		{"december read in january", time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), "<166>Dec 31 23:59:59 fw %ASA-6-302016 x", "2026-12-31T23:59:59Z"},
		{"slightly ahead clock stays", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), "<166>Jun 10 00:00:00 fw %ASA-6-302016 x", "2026-06-10T00:00:00Z"},
		{"explicit year wins", time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), "Dec 31 2019 23:59:59 fw : %ASA-6-302016 x", "2019-12-31T23:59:59Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewParser(Options{Now: func() time.Time { return tt.now }})
			var ev Event
			p.ParseString(tt.line, &ev)
			if got := ev.Time.Format(time.RFC3339Nano); got != tt.want {
				t.Errorf("Parse(%q).Time = %s, want %s", tt.line, got, tt.want)
			}
		})
	}
}

func TestDeviceZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	calls := 0
	p := NewParser(Options{
		Now: func() time.Time { return testNow },
		Zone: func(host string) *time.Location {
			calls++
			if host == "fw-berlin" {
				return berlin
			}
			return nil
		},
	})
	var ev Event
	for range 3 {
		p.ParseString("<166>Jul  1 12:00:00 fw-berlin %ASA-6-302016 x", &ev)
	}
	if got, want := ev.Time.Format(time.RFC3339), "2026-07-01T10:00:00Z"; got != want {
		t.Errorf("Berlin summer stamp = %s, want %s", got, want)
	}
	p.ParseString("<166>Jul  1 12:00:00 fw-utc %ASA-6-302016 x", &ev)
	if got, want := ev.Time.Format(time.RFC3339), "2026-07-01T12:00:00Z"; got != want {
		t.Errorf("nil zone stamp = %s, want %s", got, want)
	}
	p.ParseString("<166>Jul  1 12:00:00 fw-berlin : Jul 01 2026 12:00:00 UTC: %ASA-6-302016 x", &ev)
	if got, want := ev.Time.Format(time.RFC3339), "2026-07-01T12:00:00Z"; got != want {
		t.Errorf("stamp with its own zone = %s, want %s", got, want)
	}
	if calls != 2 {
		t.Errorf("Zone called %d times, want 2 (cached per host)", calls)
	}
}

func TestClone(t *testing.T) {
	frame := []byte(readLines(t, "asa-envelopes.log")[13])
	p := newTestParser()
	var ev Event
	p.Parse(frame, &ev)
	kept := ev.Clone()
	want := map[string]string{}
	for k, v := range view(&ev) {
		want[k] = strings.Clone(v) // the view of ev aliases the frame too
	}
	for i := range frame {
		frame[i] = 'x'
	}
	if d := cmp.Diff(want, view(&kept)); d != "" {
		t.Errorf("Clone changed when the frame was overwritten (-want +got):\n%s", d)
	}
	if ev.Src.Iface == "outside" {
		t.Fatalf("test is broken: the parsed event should alias the overwritten frame")
	}
}
