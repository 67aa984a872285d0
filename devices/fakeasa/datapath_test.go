package fakeasa

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

const pathConfig = `hostname fw1
clock timezone CST -6
interface Ethernet0/0
 nameif outside
 security-level 0
 ip address 203.0.113.1 255.255.255.240
interface Ethernet0/1
 nameif inside
 security-level 100
 ip address 10.1.1.1 255.255.255.0
interface Ethernet0/2
 nameif dmz
 security-level 50
 ip address 10.1.20.1 255.255.255.0
object-group network BLOCK
 network-object host 198.51.100.7
access-list outside_in extended deny ip object-group BLOCK any
access-list outside_in extended permit tcp any host 10.1.20.11 eq https
access-list dmz_in extended permit ip 10.1.20.0 255.255.255.0 any
access-group outside_in in interface outside
access-group dmz_in in interface dmz
route outside 0.0.0.0 0.0.0.0 203.0.113.14 1
route inside 10.1.0.0 255.255.0.0 10.1.1.254 1
ssh 10.1.0.0 255.255.0.0 inside
`

func newPathServer(t *testing.T, now time.Time) (*Server, *cliSession) {
	t.Helper()
	s, err := New(Config{RunningConfig: pathConfig, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s, &cliSession{srv: s, mode: modePriv}
}

func tcpFlow(in, src string, sport uint16, dst string, dport uint16) Flow {
	return Flow{Interface: in, Proto: "tcp", Src: netip.MustParseAddr(src), SrcPort: sport, Dst: netip.MustParseAddr(dst), DstPort: dport}
}

func TestPacketTracerText(t *testing.T) {
	_, sess := newPathServer(t, time.Now())
	out := sess.run("packet-tracer input outside tcp 198.51.100.7 40000 10.1.20.11 443").out
	for _, want := range []string{
		"Phase: 1\nType: ROUTE-LOOKUP\nSubtype: Resolve Egress Interface\nResult: ALLOW\n",
		"found next-hop 10.1.20.11 using egress ifc  dmz",
		"Type: ACCESS-LIST\nSubtype: log\nResult: DROP\nConfig:\naccess-group outside_in in interface outside\naccess-list outside_in extended deny ip object-group BLOCK any\n",
		"Action: drop\nDrop-reason: (acl-drop) Flow is denied by configured rule\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("packet-tracer output lacks %q:\n%s", want, out)
		}
	}
	out = sess.run("packet-tracer input outside tcp 198.51.100.8 40000 10.1.20.11 https detailed").out
	if !strings.Contains(out, "Action: allow\n") || strings.Contains(out, "Drop-reason") {
		t.Errorf("permitted flow:\n%s", out)
	}
	out = sess.run("packet-tracer input outside tcp 198.51.100.8 40000 10.1.20.11 22").out
	if !strings.Contains(out, "Config:\nImplicit Rule\n") || !strings.Contains(out, "Action: drop") {
		t.Errorf("implicit deny:\n%s", out)
	}
	if got := sess.run("packet-tracer input nowhere tcp 1.1.1.1 1 2.2.2.2 2").out; !strings.Contains(got, "Invalid input") {
		t.Errorf("unknown interface: %q", got)
	}
}

func TestPacketTracerXML(t *testing.T) {
	_, sess := newPathServer(t, time.Now())
	out := sess.run("packet-tracer input outside tcp 198.51.100.7 40000 10.1.20.11 443 xml").out
	for _, want := range []string{
		"<Phase>\n<id>1</id>\n<type>ROUTE-LOOKUP</type>",
		"<type>ACCESS-LIST</type>\n<subtype>log</subtype>\n<result>DROP</result>\n<config>\naccess-group outside_in in interface outside\naccess-list outside_in extended deny ip object-group BLOCK any\n</config>",
		"<result>\n<input-interface>outside</input-interface>",
		"<action>drop</action>\n<drop-reason>(acl-drop) Flow is denied by configured rule</drop-reason>\n</result>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("xml lacks %q:\n%s", want, out)
		}
	}
}

// TestConnectionsAndShun: replies use the connection table; a shun of the
// source alone leaves its current connections; with the 5-tuple it drops
// that one; clear conn drops them.
func TestConnectionsAndShun(t *testing.T) {
	s, sess := newPathServer(t, time.Now())
	out := tcpFlow("inside", "10.1.5.5", 50000, "198.51.100.9", 443)
	if err := s.Open(out); err != nil {
		t.Fatal(err)
	}
	reply := tcpFlow("outside", "198.51.100.9", 443, "10.1.5.5", 50000)
	if v, _ := s.Trace(reply); !v.Allowed || !v.Existing {
		t.Fatalf("reply: %+v", v)
	}
	// Without the connection, the same packet is a new inbound flow.
	if got := sess.run("show conn address 10.1.5.5").out; !strings.Contains(got, "1 in use") ||
		!strings.Contains(got, "TCP outside 198.51.100.9:443 inside 10.1.5.5:50000") {
		t.Errorf("show conn: %q", got)
	}
	inbound := tcpFlow("outside", "198.51.100.9", 443, "10.1.20.11", 443)
	if err := s.Open(inbound); err != nil {
		t.Fatal(err)
	}
	if got := sess.run("shun 198.51.100.9").out; !strings.Contains(got, "Shun 198.51.100.9 successful") {
		t.Fatalf("shun: %q", got)
	}
	if len(s.Conns()) != 2 {
		t.Errorf("shun of a source alone dropped connections: %+v", s.Conns())
	}
	if v, _ := s.Trace(tcpFlow("outside", "198.51.100.9", 443, "10.1.20.11", 443)); !v.Allowed {
		t.Errorf("current connection no longer passes after the shun: %+v", v)
	}
	if v, _ := s.Trace(tcpFlow("outside", "198.51.100.9", 444, "10.1.20.11", 443)); v.Allowed || v.DropReason != "(shunned) Packet dropped due to a shun" {
		t.Errorf("new connection from the shunned source: %+v", v)
	}
	sess.run("no shun 198.51.100.9")
	if got := sess.run("shun 198.51.100.9 10.1.20.11 443 443 tcp").out; !strings.Contains(got, "successful") {
		t.Fatalf("5-tuple shun: %q", got)
	}
	if c := s.Conns(); len(c) != 1 || c[0].Dst != netip.MustParseAddr("198.51.100.9") {
		t.Errorf("5-tuple shun should drop exactly its connection: %+v", c)
	}
	if got := sess.run("show shun 198.51.100.9").out; got != "shun (outside) 198.51.100.9 0.0.0.0 0 0 0\n" {
		t.Errorf("show shun: %q", got)
	}
	if got := sess.run("clear conn address 198.51.100.9").out; got != "1 connection(s) deleted.\n" {
		t.Errorf("clear conn: %q", got)
	}
	if got := sess.run("show conn address 10.1.5.5").out; !strings.HasPrefix(got, "0 in use") {
		t.Errorf("after clear: %q", got)
	}
	if v, _ := s.Trace(reply); v.Allowed {
		t.Errorf("reply without a connection passed: %+v", v)
	}
}

// TestTimeRangeEnforcedByClock: an ACE with a time-range stops matching at
// the absolute end by the fake's clock, configured over the CLI the way a
// temporary block is pushed.
func TestTimeRangeEnforcedByClock(t *testing.T) {
	now := time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC) // 09:00 CST
	s, sess := newPathServer(t, now)
	sess.mode = modeConfig
	for _, l := range []string{
		"time-range FB-p-0001",
		"absolute end 10:00 12 March 2025",
		"exit",
		"access-list outside_in line 1 extended deny ip host 198.51.100.8 any time-range FB-p-0001",
	} {
		if r := sess.run(l); r.out != "" {
			t.Fatalf("%q: %q", l, r.out)
		}
	}
	if !strings.Contains(s.Running(), "time-range FB-p-0001\n absolute end 10:00 12 March 2025\n") {
		t.Errorf("running config:\n%s", s.Running())
	}
	f := tcpFlow("outside", "198.51.100.8", 40000, "10.1.20.11", 443)
	if v, _ := s.Trace(f); v.Allowed || v.ACL != "outside_in" || v.Line != 1 {
		t.Errorf("before the end: %+v", v)
	}
	s.SetNow(func() time.Time { return now.Add(time.Hour + 59*time.Second) }) // 10:00:59 CST: the end minute is inclusive
	if v, _ := s.Trace(f); v.Allowed || v.Line != 1 {
		t.Errorf("in the end minute: %+v", v)
	}
	s.SetNow(func() time.Time { return now.Add(time.Hour + time.Minute) }) // 10:01 CST: past the end
	if v, _ := s.Trace(f); !v.Allowed || v.Line != 3 {
		t.Errorf("after the end the block must no longer be enforced: %+v", v)
	}
	if got := sess.run("show time-range").out; !strings.Contains(got, "time-range entry: FB-p-0001 (inactive)") {
		t.Errorf("show time-range: %q", got)
	}
	if got := sess.run("no time-range FB-p-0001").out; !strings.Contains(got, "in use") {
		t.Errorf("removing a used time-range: %q", got)
	}
	if got := sess.run("access-list X extended permit ip any any time-range NOPE").out; !strings.Contains(got, "does not exist") {
		t.Errorf("ACE with an unknown time-range: %q", got)
	}
	if got := sess.run("show route 10.1.50.10").out; !strings.Contains(got, "Routing entry for 10.1.0.0 255.255.0.0") || !strings.Contains(got, "* 10.1.1.254, via inside") {
		t.Errorf("show route: %q", got)
	}
}
