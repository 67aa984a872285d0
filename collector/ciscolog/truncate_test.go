package ciscolog

import (
	"strings"
	"testing"
	"time"
)

// cutLines have a mandatory tail in their format, so every cut of them can be recognised.
// They are written from the formats of Cisco's message guides. (302014/302016 are not: their
// format ends `bytes N [reason]`, so a cut inside N reads as a whole, shorter line.)
var cutLines = []string{
	"<166>Mar  3 08:15:02 fw-a %ASA-6-302013: Built inbound TCP connection 4130017 for outside:203.0.113.40/51320 (203.0.113.40/51320) to dmz:10.30.0.5/443 (198.51.100.8/443)",
	"<166>Mar  3 08:15:02 fw-a %ASA-6-302013: Built outbound TCP connection 4130019 for outside:203.0.113.41/443 (203.0.113.41/443) to inside:10.20.1.15/52114 (198.51.100.7/40112) (LOCAL\\root)",
	`<164>Mar  3 08:15:05 fw-a %ASA-4-106023: Deny tcp src outside:192.0.2.77/40022 dst inside:10.20.1.30/3389 by access-group "outside_access_in" [0x5c2f0e31, 0x0]`,
	"<166>Mar  3 08:15:08 fw-a %ASA-6-106100: access-list inside_access_in permitted tcp inside/10.20.1.15(52116) -> outside/203.0.113.40(443) hit-cnt 12 first hit [0x1a2b3c4d, 0x0]",
	`<166>Mar  3 08:15:09 fw-a %ASA-6-605004: Login denied from 192.0.2.130/51000 to outside:198.51.100.7/ssh for user "root"`,
	"<165>Mar  3 08:15:10 fw-a %ASA-5-111008: User 'netadmin' executed the 'no access-list outside_access_in line 4' command.",
	"<161>Mar  3 08:15:11 fw-a %ASA-2-106001: Inbound TCP connection denied from 192.0.2.91/51515 to 198.51.100.7/445 flags SYN on interface outside",
	"<161>Mar  3 08:15:12 fw-a %ASA-2-106006: Deny inbound UDP from 192.0.2.92/1370 to 10.20.1.255/137 on interface outside",
	"<163>Mar  3 08:15:13 fw-a %ASA-3-313001: Denied ICMP type=8, code=0 from 192.0.2.96 on interface outside",
	"<166>Mar  3 08:15:14 fw-a %ASA-6-113015: AAA user authentication Rejected : reason = Invalid password : local database : user = root : user IP = 192.0.2.120",
	"<164>Mar  3 08:15:15 fw-a %ASA-4-106016: Deny IP spoof from (10.20.1.99) to 198.51.100.7 on interface outside",
	"<166>Mar  3 08:15:16 fw-a %ASA-6-716039: Group <Staff> User <dr.lee> IP <192.0.2.120> Authentication: rejected, Session Type: WebVPN.",
	"<166>Mar  3 08:15:17 fw-a %ASA-6-609002: Teardown local-host inside:10.20.1.15 duration 0:12:01",
	"<189>1234: rtr-a: Mar  3 10:00:01.123 CET: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: root] [Source: 192.0.2.60] [localport: 22] [Reason: Login Authentication Failed] at 10:00:01 CET Tue Mar 3 2026",
	"<189>1235: rtr-a: Mar  3 10:00:02.123 CET: %SYS-5-CONFIG_I: Configured from console by netadmin on vty0 (10.20.0.50)",
	"<190>1236: rtr-a: Mar  3 10:00:03.123 CET: %IPS-4-SIGNATURE: Sig:3050 Subsig:1 Sev:4 TCP SYN/FIN Packet [192.0.2.61:44123 -> 198.51.100.1:80]",
	"<166>Mar  3 08:15:18 fw-a %ASA-6-109006: Authentication failed for user root from 10.20.1.16/52203 to 192.0.2.140/443 on interface inside.",
	"<166>Mar  3 08:15:19 fw-a %ASA-6-109025: Authorization denied (acl=#ACSACL#-IP-web-5a1b) for user 'root' from 10.20.1.18/52205 to 192.0.2.143/22 on interface inside using TCP",
	"<190>1237: rtr-a: Mar  3 10:00:04.123 CET: %IOSXE-6-PLATFORM: R0/0: cpp_cp: QFP:0.0 Thread:001 TS:00000000000000000004 %FW-6-DROP_PKT: Dropping tcp pkt from GigabitEthernet0/0/1 192.0.2.73:40001 => 198.51.100.1:3389(target:class)-(ZP_OUT_IN:class-default) due to Policy drop:classify result with ip ident 777 tcp flag 0x2, seq 1, ack 0",
	"<190>1238: rtr-a: Mar  3 10:00:05.123 CET: %IOSXE-6-PLATFORM: R0/0: cpp_cp: QFP:0.0 Thread:001 TS:00000000000000000005 %FW-6-SESS_AUDIT_TRAIL: (target:class) (ZP_IN_OUT:CM_IN_OUT):Stop tcp session: initiator (10.20.1.15:52004) sent 320 bytes -- responder (192.0.2.74:443) sent 4666 bytes",
	"<190>1239: rtr-a: Mar  3 10:00:06.123 CET: %SYS-6-TTY_EXPIRE_TIMER: (exec timer expired, tty 2 (10.20.0.50)), user root",
	"<189>1240: sw-a: Mar  3 10:00:07.123 CET: %AUTHMGR-5-SECURITY_VIOLATION: Security violation on the interface GigabitEthernet1/0/10, new MAC address (0011.2233.4472) is seen.AuditSessionID 0A14000100000FA5",
}

// TestCutLinesKeepNoWrongValue cuts each line at every byte after its tag: the result is
// header-only (marked truncated when the mandatory tail is missing) or typed with values that
// equal the whole line's, or are absent; free text at the end (a reason) may be a prefix.
// The one cut no parser can see is one inside the final word of a message whose format ends
// with a free value (`on interface outs`, `user IP = 192.0.2.1`): that is allowed here (the
// collector marks its own length cuts, see TestMaxFrame).
func TestCutLinesKeepNoWrongValue(t *testing.T) {
	p := newTestParser()
	for _, line := range cutLines {
		var full Event
		p.ParseString(line, &full)
		if full.Kind != KindTyped || full.Truncated {
			t.Fatalf("whole line not typed (%v, truncated %v): %q", full.Kind, full.Truncated, line)
		}
		want := view(&full)
		tagEnd := strings.Index(line, ": ") + 2
		if k := strings.Index(line, "%"); k > 0 {
			tagEnd = k + strings.Index(line[k:], ":") + 2
		}
		sawTruncated := false
		for n := tagEnd + 1; n < len(line); n++ {
			cut := line[:n]
			var ev Event
			p.ParseString(cut, &ev)
			if ev.Truncated {
				sawTruncated = true
				if ev.Kind != KindHeader {
					t.Errorf("truncated but %v: %q", ev.Kind, cut)
				}
				continue
			}
			if ev.Kind != KindTyped {
				continue
			}
			got := view(&ev)
			lastWord := !strings.Contains(line[n:], " ")
			for k, g := range got {
				switch k {
				case "text", "time":
					continue
				case "reason":
					if !strings.HasPrefix(want[k], g) {
						t.Errorf("cut %q: reason %q is not a prefix of %q", cut, g, want[k])
					}
					continue
				}
				if g != want[k] && !isZeroView(k, g) && !lastWord {
					t.Errorf("cut %q: %s = %q, whole line has %q", cut, k, g, want[k])
				}
			}
		}
		if !sawTruncated {
			t.Errorf("no cut of %q was marked truncated", line)
		}
	}
}

// isZeroView says whether a field of view() holds its "absent" value, or a value the cut
// removed as a whole (an endpoint's optional user).
func isZeroView(k, v string) bool {
	switch k {
	case "user", "acl", "reason", "proto", "init", "dir", "action":
		return v == ""
	case "src", "dst":
		return v == "-"
	case "bytes", "conn", "seq":
		return v == "0"
	case "count":
		return v == "1"
	case "dur":
		return v == "0s"
	case "icmp":
		return v == "-1/-1"
	}
	return false
}

func TestCutExamples(t *testing.T) {
	p := newTestParser()
	for _, c := range []struct{ line, note string }{
		{"%ASA-6-302013: Built inbound TCP connection 1 for outside:192.0.2.1/320 (192.0.2.1/320) to inside:10.0.0.1/32", "dst port cut (320)"},
		{"%ASA-6-302014: Teardown TCP connection 1 for outside:192.0.2.1/320 to inside:10.0.0.1/22 durat", "duration cut"},
		{"%ASA-6-302014: Teardown TCP connection 1 for outside:192.0.2.1/320 to inside:10.0.0.1/22 duration 0:00:01 bytes 4666 TCP FINs (LOCAL\\ro", "user cut"},
		{`%ASA-6-605005: Login permitted from 192.0.2.1/5000 to inside:10.0.0.1/ssh for user "ro`, `user cut ("root")`},
		{"%ASA-6-302013: Built inbound TCP connection 1 for outside:192.0.2.1/320 (192.0.2.1/320) to T", "destination cut"},
		{`%ASA-4-106023: Deny tcp src outside:192.0.2.1/320 dst inside:10.0.0.1/22 by access-group "outs`, "acl cut"},
		{"%ASA-6-106100: access-list in permitted tcp inside/10.0.0.1(5000) -> outside/192.0.2.1(443) hit-cnt 1", "hit count cut"},
	} {
		var ev Event
		p.ParseString(c.line, &ev)
		if !ev.Truncated || ev.Kind != KindHeader || ev.Src.Addr.IsValid() || ev.Dst.Port != 0 || ev.User != "" {
			t.Errorf("%s: kind %v truncated %v src %v dst port %d user %q", c.note, ev.Kind, ev.Truncated, ev.Src.Addr, ev.Dst.Port, ev.User)
		}
		m := ecsOf(t, c.line)
		if tags, _ := m["tags"].([]any); len(tags) != 1 || tags[0] != TruncatedTag {
			t.Errorf("%s: tags = %v, want [%s]", c.note, m["tags"], TruncatedTag)
		}
	}
}

func TestMaxFrame(t *testing.T) {
	line := "<166>Mar  3 08:15:04 fw-a %ASA-6-302016: Teardown UDP connection 4130018 for outside:198.51.100.53/53 to inside:10.20.1.15/53211 duration 0:02:01 bytes 96"
	p := NewParser(Options{Now: func() time.Time { return testNow }, MaxFrame: len(line)})
	var ev Event
	p.ParseString(line, &ev)
	if !ev.Truncated || ev.Kind != KindHeader || ev.Bytes != 0 || ev.MsgID != 302016 || ev.Host != "fw-a" {
		t.Errorf("frame at MaxFrame: kind %v truncated %v bytes %d id %d host %q", ev.Kind, ev.Truncated, ev.Bytes, ev.MsgID, ev.Host)
	}
	p.ParseString(line[:len(line)-1], &ev) // shorter than the limit: read as it is
	if ev.Truncated || ev.Kind != KindTyped || ev.Bytes != 9 {
		t.Errorf("frame below MaxFrame: kind %v truncated %v bytes %d", ev.Kind, ev.Truncated, ev.Bytes)
	}
}

func TestKeyValueValuesWithSeparators(t *testing.T) {
	p := newTestParser()
	var ev Event
	p.ParseString("<166>Mar  3 08:15:14 fw-a %ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.20.0.10 : user = CN=Smith, John,OU=Staff : user IP = 192.0.2.120", &ev)
	if ev.Kind != KindTyped || ev.User != "CN=Smith, John,OU=Staff" || ev.Reason != "AAA failure" ||
		ev.Src.Addr.String() != "192.0.2.120" || ev.Dst.Addr.String() != "10.20.0.10" {
		t.Errorf("113005: kind %v user %q reason %q src %v dst %v", ev.Kind, ev.User, ev.Reason, ev.Src.Addr, ev.Dst.Addr)
	}
	p.ParseString("<166>Mar  3 08:15:14 fw-a %ASA-4-113019: Group = Staff, Username = CN=Lee, Dana,OU=Staff, IP = 192.0.2.121, Session disconnected. Session Type: SSL, Duration: 1h:02m:03s, Bytes xmt: 1000, Bytes rcv: 24, Reason: Idle Timeout", &ev)
	if ev.Kind != KindTyped || ev.User != "CN=Lee, Dana,OU=Staff" || ev.Group != "Staff" || ev.Src.Addr.String() != "192.0.2.121" ||
		ev.SrcBytes != 1000 || ev.DstBytes != 24 || ev.Bytes != 1024 {
		t.Errorf("113019: kind %v user %q group %q src %v bytes %d/%d/%d", ev.Kind, ev.User, ev.Group, ev.Src.Addr, ev.SrcBytes, ev.DstBytes, ev.Bytes)
	}
	p.ParseString("<166>Mar  3 08:15:20 fw-a %FTD-1-430002: EventPriority: Low, DeviceUUID: 0f1e, SrcIP: 192.0.2.7, DstIP: 10.20.1.30, SrcPort: 40022, DstPort: 443, Protocol: tcp, IngressInterface: outside, EgressInterface: inside, ACPolicy: Site, AccessControlRuleName: Web, in, out, AccessControlRuleAction: Allow, User: CN=Smith, John, URL: https://a.example/x?a=1,2, InitiatorBytes: 500, ResponderBytes: 1500", &ev)
	if ev.Kind != KindTyped || ev.ACL != "Web, in, out" || ev.User != "CN=Smith, John" || ev.Reason != "https://a.example/x?a=1,2" ||
		ev.Dst.Port != 443 || ev.Bytes != 2000 || ev.Action != ActionBuilt || ev.Family != FamilyASA {
		t.Errorf("430002: kind %v acl %q user %q reason %q dport %d bytes %d action %v", ev.Kind, ev.ACL, ev.User, ev.Reason, ev.Dst.Port, ev.Bytes, ev.Action)
	}
}

func TestRepeatedAnnotation(t *testing.T) {
	p := newTestParser()
	var ev Event
	p.ParseString("<161>Mar  3 08:15:12 fw-a %ASA-2-106006: Deny inbound UDP from 192.0.2.92/137 to 10.20.1.255/137 on interface outside (Message repeated 2 times)", &ev)
	if ev.Kind != KindTyped || ev.Src.Iface != "outside" || ev.Count != 2 {
		t.Errorf("kind %v iface %q count %d", ev.Kind, ev.Src.Iface, ev.Count)
	}
	p.ParseString("<161>Mar  3 08:15:12 fw-a %ASA-2-106006: Deny inbound UDP from 192.0.2.92/137 to 10.20.1.255/137 on interface outside (repeated 1 time)", &ev)
	if ev.Kind != KindTyped || ev.Src.Iface != "outside" || ev.Count != 1 {
		t.Errorf("kind %v iface %q count %d", ev.Kind, ev.Src.Iface, ev.Count)
	}
}

func TestRFC5424AppNameTag(t *testing.T) {
	p := newTestParser()
	var ev Event
	p.ParseString("<166>1 2026-03-03T09:00:04Z fw-a %ASA-6-302016 - - - Teardown UDP connection 7 for outside:192.0.2.5/53 to inside:10.20.1.15/5353 duration 0:00:01 bytes 90", &ev)
	if ev.Kind != KindTyped || ev.MsgID != 302016 || ev.Host != "fw-a" || ev.Bytes != 90 || ev.Time.Format(time.RFC3339) != "2026-03-03T09:00:04Z" ||
		!strings.HasPrefix(ev.Text, "Teardown UDP") {
		t.Errorf("ASA: kind %v id %d host %q bytes %d time %v text %q", ev.Kind, ev.MsgID, ev.Host, ev.Bytes, ev.Time, ev.Text)
	}
	p.ParseString(`<190>1 2026-03-03T09:00:05.120+01:00 rtr-a %SEC-6-IPACCESSLOGP 4242 - [meta sequenceId="12"] list 101 denied tcp 192.0.2.60(44123) -> 198.51.100.1(23), 1 packet`, &ev)
	if ev.Kind != KindTyped || ev.Mnemonic != "IPACCESSLOGP" || ev.Host != "rtr-a" || ev.Dst.Port != 23 || ev.ACL != "101" {
		t.Errorf("IOS: kind %v mn %q host %q dport %d acl %q text %q", ev.Kind, ev.Mnemonic, ev.Host, ev.Dst.Port, ev.ACL, ev.Text)
	}
}

func TestZoneFallback(t *testing.T) {
	dublin, err := time.LoadLocation("Europe/Dublin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	sydney, _ := time.LoadLocation("Australia/Sydney")
	zones := map[string]*time.Location{"fw-ie": dublin, "rtr-au": sydney}
	p := NewParser(Options{Now: func() time.Time { return testNow }, Zone: func(h string) *time.Location { return zones[h] }})
	var ev Event
	// Irish Standard Time is the summer time of Dublin: 10:00 IST in July is 09:00 UTC.
	p.ParseString("<166>Jul 14 2026 10:00:00 IST fw-ie : %ASA-6-302016: Teardown UDP connection 1 for a:192.0.2.1/53 to b:10.0.0.1/53 duration 0:00:01 bytes 1", &ev)
	if got := ev.Time.Format(time.RFC3339); got != "2026-07-14T09:00:00Z" {
		t.Errorf("IST on a Dublin device: %s", got)
	}
	// Without a device zone IST keeps its usual meaning, India (+05:30).
	p.ParseString("<166>Jul 14 2026 10:00:00 IST fw-x : %ASA-6-302016: Teardown UDP connection 1 for a:192.0.2.1/53 to b:10.0.0.1/53 duration 0:00:01 bytes 1", &ev)
	if got := ev.Time.Format(time.RFC3339); got != "2026-07-14T04:30:00Z" {
		t.Errorf("IST without a device zone: %s", got)
	}
	// A device's own summer-time name is read in its zone (AEDT, +11, in January).
	p.ParseString("<189>12: rtr-au: Jan 10 2026 10:00:00 AUSEDT: %SYS-5-CONFIG_I: Configured from console by netadmin on vty0 (10.0.0.5)", &ev)
	if got := ev.Time.Format(time.RFC3339); got != "2026-01-09T23:00:00Z" {
		t.Errorf("AUSEDT on a Sydney device: %s", got)
	}
	if n := p.ZoneFallbacks(); n != 3 {
		t.Errorf("ZoneFallbacks = %d, want 3", n)
	}
	// The same envelope again comes from the envelope cache and is counted again.
	p.ParseString("<166>Jul 14 2026 10:00:00 IST fw-ie : %ASA-6-302016: Teardown UDP connection 2 for a:192.0.2.1/53 to b:10.0.0.1/53 duration 0:00:01 bytes 1", &ev)
	if n := p.ZoneFallbacks(); n != 4 || ev.Time.Format(time.RFC3339) != "2026-07-14T09:00:00Z" {
		t.Errorf("cached envelope: ZoneFallbacks = %d, time %v", n, ev.Time)
	}
	p.ParseString("<166>Jul 14 2026 10:00:00 CEST fw-ie : %ASA-6-302016: Teardown UDP connection 3 for a:192.0.2.1/53 to b:10.0.0.1/53 duration 0:00:01 bytes 1", &ev)
	if n := p.ZoneFallbacks(); n != 4 {
		t.Errorf("an unambiguous zone counted: %d", n)
	}
}
