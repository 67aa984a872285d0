package ciscolog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ecsOf(t *testing.T, line string) map[string]any {
	t.Helper()
	var ev Event
	newTestParser().ParseString(line, &ev)
	out := AppendECS(nil, &ev)
	if err := checkJSONObject(out); err != nil {
		t.Fatalf("AppendECS(%q) = %s: %v", line, out, err)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkJSONObject verifies out is one valid JSON object without duplicate keys.
func checkJSONObject(out []byte) error {
	if !json.Valid(out) {
		return fmt.Errorf("invalid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not an object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		k := tok.(string)
		if seen[k] {
			return fmt.Errorf("duplicate key %q", k)
		}
		seen[k] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data")
	}
	return nil
}

func TestAppendECS(t *testing.T) {
	tests := []struct {
		name string
		line string
		want map[string]any
	}{
		{
			name: "built outbound with NAT on the inside host",
			line: "<166>Mar  3 08:15:02 fw-clinic %ASA-6-302013: Built outbound TCP connection 4130017 for outside:203.0.113.40/443 (203.0.113.40/443) to inside:10.20.1.15/52114 (198.51.100.7/40112)",
			want: map[string]any{
				"@timestamp": "2026-03-03T08:15:02.000Z", "event.code": "302013", "event.action": "flow-creation",
				"event.outcome": "success", "source.ip": "203.0.113.40", "source.port": 443.0,
				"destination.ip": "10.20.1.15", "destination.port": 52114.0,
				"destination.nat.ip": "198.51.100.7", "destination.nat.port": 40112.0,
				"network.transport": "tcp", "network.iana_number": "6", "network.direction": "outbound",
				"observer.hostname": "fw-clinic", "observer.product": "asa", "observer.vendor": "Cisco",
				"observer.ingress.interface.name": "outside", "observer.egress.interface.name": "inside",
				"cisco.asa.message_id": "302013", "cisco.asa.connection_id": "4130017",
				"cisco.asa.mapped_destination_ip": "198.51.100.7", "log.syslog.severity.code": 6.0,
				"log.syslog.facility.code": 20.0,
			},
		},
		{
			name: "teardown with 64-bit bytes and a long duration",
			line: "<166>Mar  3 08:15:36 fw-clinic %ASA-6-302014: Teardown TCP connection 4129001 for outside:203.0.113.41/443 to inside:10.20.1.17/50001 duration 92:24:20 bytes 4882591338 TCP Reset-O from outside",
			want: map[string]any{
				"event.action": "flow-expiration", "network.bytes": 4882591338.0,
				"event.duration": 332660e9, "event.reason": "TCP Reset-O",
			},
		},
		{
			name: "deny with ACL",
			line: `<164>Mar  3 08:15:05 fw-clinic %ASA-4-106023: Deny tcp src outside:192.0.2.77/40022 dst inside:10.20.1.30/3389 by access-group "outside_access_in" [0x5c2f0e31, 0x0]`,
			want: map[string]any{"event.action": "firewall-rule", "event.outcome": "failure", "rule.name": "outside_access_in"},
		},
		{
			name: "translation writes the mapped side as destination",
			line: "<166>Mar  3 08:15:06 fw-clinic %ASA-6-305011: Built dynamic TCP translation from inside:10.20.1.15/52115 to outside:198.51.100.7/40113",
			want: map[string]any{"source.ip": "10.20.1.15", "destination.ip": "198.51.100.7", "destination.port": 40113.0,
				"cisco.asa.destination_interface": "outside"},
		},
		{
			name: "IOS ACL",
			line: "<190>120332: rtr-clinic: Mar  3 10:00:02.234 CET: %SEC-6-IPACCESSLOGP: list 101 permitted udp 10.20.1.15(5353) (GigabitEthernet0/1 0011.2233.4455) -> 224.0.0.251(5353), 12 packets",
			want: map[string]any{"event.code": "IPACCESSLOGP", "cisco.ios.access_list": "101", "cisco.ios.facility": "SEC",
				"event.sequence": 120332.0, "network.packets": 12.0, "observer.product": "ios", "event.outcome": "success",
				"@timestamp": "2026-03-03T09:00:02.234Z", "observer.ingress.interface.name": "GigabitEthernet0/1"},
		},
		{
			name: "IOS XE zone-based firewall session: bytes each way, no packet count",
			line: "<190>3352436: rtr-edge: Mar  3 2026 10:00:05.412 UTC: %IOSXE-6-PLATFORM: R0/0: cpp_cp: QFP:0.0 Thread:001 TS:00000000000000000009 %FW-6-SESS_AUDIT_TRAIL: (target:class) (ZP_IN_OUT:CM_IN_OUT):Stop tcp session: initiator (10.20.1.15:52003) sent 320 bytes -- responder (192.0.2.72:443) sent 4666 bytes, from GigabitEthernet0/0/2",
			want: map[string]any{"event.action": "flow-expiration", "source.bytes": 320.0, "destination.bytes": 4666.0, "network.bytes": 4986.0,
				"source.port": 52003.0, "rule.name": "ZP_IN_OUT:CM_IN_OUT", "network.packets": nil, "@timestamp": "2026-03-03T10:00:05.412Z"},
		},
		{
			name: "name in an address slot",
			line: "<166>Mar  3 09:00:10 fw-clinic %ASA-6-302013: Built outbound TCP connection 5007 for outside:203.0.113.80/8443 (203.0.113.80/8443) to inside:pacs-server/50010 (pacs-server/50010)",
			want: map[string]any{"destination.address": "pacs-server", "destination.port": 50010.0},
		},
		{
			name: "unparsed keeps the raw line and is tagged",
			line: "Mar  3 11:00:00 ntp-1 ntpd[812]: kernel reports TIME_ERROR",
			want: map[string]any{"message": "Mar  3 11:00:00 ntp-1 ntpd[812]: kernel reports TIME_ERROR",
				"event.original": "Mar  3 11:00:00 ntp-1 ntpd[812]: kernel reports TIME_ERROR",
				"tags":           []any{UnparsedTag}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ecsOf(t, tt.line)
			sub := map[string]any{}
			for k := range tt.want {
				sub[k] = got[k]
			}
			if d := cmp.Diff(tt.want, sub); d != "" {
				t.Errorf("AppendECS mismatch (-want +got):\n%s", d)
			}
		})
	}
	// Keys that must not appear where the mapping equals the real address.
	got := ecsOf(t, tests[0].line)
	for _, k := range []string{"source.nat.ip", "source.nat.port", "user.name", "tags"} {
		if v, ok := got[k]; ok {
			t.Errorf("unexpected %s = %v", k, v)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`plain`, `"plain"`},
		{`a "quoted" \ back`, `"a \"quoted\" \\ back"`},
		{"tab\tnl\ncr\rnul\x00bel\x07", `"tab\tnl\ncr\rnul\u0000bel\u0007"`},
		{"Speciäl Ö01", `"Speciäl Ö01"`},
		{"bad \xff\xfe utf8", `"bad \ufffd\ufffd utf8"`},
		{"line\u2028sep", `"line\u2028sep"`},
	}
	for _, tt := range tests {
		got := string(appendJSONString(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s is not valid JSON: %v", tt.in, got, err)
		}
	}
}

// TestAppendECSAllLines checks every testdata and corpus line gives one valid object without
// duplicate keys.
func TestAppendECSAllLines(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "syslog", "*.log"))
	if _, err := os.Stat(corpusDir); err == nil {
		more, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.log"))
		more2, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*", "*.log"))
		files = append(append(files, more...), more2...)
	}
	p := newTestParser()
	buf := make([]byte, 0, 4096)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			var ev Event
			p.ParseString(line, &ev)
			buf = AppendECS(buf[:0], &ev)
			if err := checkJSONObject(buf); err != nil {
				t.Errorf("%s:%d: %v: %s", filepath.Base(file), n+1, err, buf)
			}
		}
	}
}

func TestECSCategorisation(t *testing.T) {
	for _, c := range []struct {
		line string
		want map[string]any
	}{
		{`<164>Mar  3 08:15:05 fw-a %ASA-4-106023: Deny tcp src outside:192.0.2.77/40022 dst inside:10.20.1.30/3389 by access-group "outside_access_in" [0x0, 0x0]`,
			map[string]any{"ecs.version": ECSVersion, "event.kind": "event", "event.category": []any{"network"}, "event.type": []any{"connection", "denied"},
				"event.outcome": "failure", "event.action": "firewall-rule", "log.level": "warning", "rule.name": "outside_access_in",
				"related.ip": []any{"192.0.2.77", "10.20.1.30"}, "related.hosts": []any{"fw-a"}, "observer.type": "firewall", "observer.vendor": "Cisco"}},
		{"<166>Mar  3 08:15:14 fw-a %ASA-4-113019: Group = Staff, Username = CLINIC\\dr.lee, IP = 192.0.2.121, Session disconnected. Session Type: SSL, Duration: 1h:02m:03s, Bytes xmt: 1000, Bytes rcv: 24, Reason: Idle Timeout",
			map[string]any{"event.category": []any{"network", "session"}, "event.type": []any{"connection", "end"}, "user.name": "CLINIC\\dr.lee",
				"user.domain": "CLINIC", "related.user": []any{"CLINIC\\dr.lee"}, "source.bytes": 1000.0, "destination.bytes": 24.0, "network.bytes": 1024.0,
				"source.user.group.name": "Staff"}},
		{"<161>Mar  3 08:15:20 fw-a %FTD-1-430001: EventPriority: High, SrcIP: 192.0.2.7, DstIP: 10.20.1.30, SrcPort: 40022, DstPort: 80, Protocol: tcp, GID: 1, SID: 2001219, Revision: 20, Message: ET SCAN Potential SSH Scan, Classification: Attempted Information Leak",
			map[string]any{"event.kind": "alert", "event.category": []any{"intrusion_detection", "network"}, "rule.id": "2001219",
				"event.reason": "ET SCAN Potential SSH Scan", "observer.product": "ftd", "log.level": "alert"}},
		{"<188>12: rtr-a: Mar  3 10:00:01.123 CET: %PORT_SECURITY-2-PSECURE_VIOLATION: Security violation occurred, caused by MAC address 0011.2233.4455 on port GigabitEthernet1/0/7.",
			map[string]any{"source.mac": "0011.2233.4455", "observer.ingress.interface.name": "GigabitEthernet1/0/7", "event.type": []any{"connection", "denied"}}},
		{"<166>Mar  3 08:15:14 fw-a %ASA-6-302013: Built inbound TCP connection 1 for outside:192.0.2.1/5000 (192.0.2.1/5000)(nurse@clinic.example) to inside:10.0.0.1/443 (198.51.100.9/443)",
			map[string]any{"related.ip": []any{"192.0.2.1", "10.0.0.1", "198.51.100.9"}, "related.user": []any{"nurse@clinic.example"}}},
	} {
		got := ecsOf(t, c.line)
		for k, w := range c.want {
			if d := cmp.Diff(w, got[k]); d != "" {
				t.Errorf("%s: %s (-want +got):\n%s\n  line %s", k, k, d, c.line)
			}
		}
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{"", "plain ascii value of some length", "a\"b", `back\slash`, "tab\tnew\nline\r", "\x00\x01\x1f\x7f",
		"héllo wörld, ünïcode", "bad \xff\xfe utf8", "\u2028line\u2029sep", "12345678", "1234567\"", "abcdefgh\\ijklmnop",
		strings.Repeat("x", 63) + "\x19", "CN=Smith, John,OU=Staff"}
	for _, s := range cases {
		got := appendJSONString(nil, s)
		want, _ := json.Marshal(s) // same escapes, but encoding/json also escapes <, > and &
		var a, b string
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%q: invalid JSON %s", s, got)
		}
		_ = json.Unmarshal(want, &b)
		if a != b {
			t.Errorf("%q: decodes to %q, encoding/json's to %q", s, a, b)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("abc\"def\\ghi\x01")
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		var a, b string
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%q: invalid JSON %s", s, got)
		}
		want, _ := json.Marshal(s)
		_ = json.Unmarshal(want, &b)
		if a != b {
			t.Errorf("%q: decodes to %q, want %q", s, a, b)
		}
	})
}

func TestAppendTimestamp(t *testing.T) {
	for _, tm := range []time.Time{time.Date(2026, 3, 3, 8, 15, 2, 123456789, time.UTC), time.Date(1999, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 999999999, time.UTC)} {
		got := string(appendTimestamp(nil, tm))
		if want := tm.UTC().Format("2006-01-02T15:04:05.000Z07:00"); got != want {
			t.Errorf("appendTimestamp(%v) = %s, want %s", tm, got, want)
		}
	}
}
