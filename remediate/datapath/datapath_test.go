package datapath

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// testConfig has one of every element the model decides on. Interfaces:
// outside 0 (203.0.113.1/28), inside 100 without an ACL (10.1.1.1/24, routes
// to 10.1.0.0/16 and 10.2.0.0/16), dmz 50 (10.1.20.1/24), lab 50 with an
// outbound ACL, guest 50, mgmt (management-only).
const testConfig = `hostname fw
clock timezone CST -6
interface Ethernet0/0
 nameif outside
 security-level 0
 ip address 203.0.113.1 255.255.255.240
!
interface Ethernet0/1
 nameif inside
 ip address 10.1.1.1 255.255.255.0
!
interface Ethernet0/2
 nameif dmz
 security-level 50
 ip address 10.1.20.1 255.255.255.0
!
interface Ethernet0/3
 nameif lab
 security-level 50
 ip address 10.9.0.1 255.255.255.0
!
interface Ethernet0/4
 nameif guest
 security-level 50
 ip address 10.8.0.1 255.255.255.0
!
interface Ethernet0/5
 nameif old
 security-level 40
 ip address 10.7.0.1 255.255.255.0
 shutdown
!
interface Management0/0
 nameif mgmt
 security-level 100
 ip address 10.10.0.1 255.255.255.0
 management-only
!
object network WEB
 host 10.1.20.11
object network POOL
 range 10.1.20.100 10.1.20.110
object network LABNET
 subnet 10.9.0.0 255.255.255.0
object network CLOUD
 fqdn cloud.example.com
object-group network BLOCKED
 network-object host 198.51.100.7
 group-object BLOCKED_NETS
object-group network BLOCKED_NETS
 network-object 192.0.2.0 255.255.255.0
object-group service WEBPORTS tcp
 port-object eq www
 port-object eq https
object-group service MAILSVC
 service-object tcp destination eq smtp
 service-object udp destination range 5000 5010
 service-object icmp echo
object-group protocol TUNNELS
 protocol-object gre
 protocol-object esp
object-group icmp-type PINGS
 icmp-object echo
 icmp-object echo-reply
object service DNS
 service udp destination eq domain
time-range PAST
 absolute end 00:00 1 January 2020
time-range OFFICE
 periodic weekdays 8:00 to 17:00
time-range NIGHTS
 periodic Friday 22:00 to Monday 6:00
access-list outside_in extended deny ip object-group BLOCKED any
access-list outside_in remark firebreak p-0001 block
access-list outside_in extended permit tcp any object WEB object-group WEBPORTS
access-list outside_in extended permit object-group MAILSVC any host 10.1.20.10
access-list outside_in extended permit object-group TUNNELS any4 host 10.1.20.12
access-list outside_in extended permit icmp any any object-group PINGS
access-list outside_in extended permit tcp any object POOL range 8000 8010
access-list outside_in extended permit tcp any host 10.1.20.13 eq 8443 time-range OFFICE
access-list outside_in extended permit tcp any host 10.1.20.14 eq 8443 time-range PAST
access-list outside_in extended permit tcp any host 10.1.20.15 eq 8443 inactive
access-list outside_in extended permit tcp any host 10.1.20.16 eq 8443 time-range NOSUCH
access-list outside_in extended permit tcp any host 10.1.20.17 eq 8443 time-range NIGHTS
access-list outside_in extended permit tcp any host 10.1.20.18 lt 1024
access-list outside_in extended permit tcp any host 10.1.20.19 gt 60000
access-list outside_in extended permit tcp any host 10.1.20.20 neq 23
access-list outside_in extended permit tcp any eq 53 host 10.1.20.21
access-list outside_in extended permit object DNS any host 10.1.20.22
access-list outside_in extended permit ip any6 any
access-list outside_in extended permit tcp any object CLOUD eq 443
access-list outside_in extended permit tcp any 10.1.20.0 255.255.255.0 eq 9999
access-list dmz_in extended permit ip 10.1.20.0 255.255.255.0 any
access-list lab_out extended permit tcp 10.1.0.0 255.255.0.0 object LABNET eq ssh
access-list global_acl extended deny tcp any any eq 6667
access-list global_acl extended permit tcp any host 10.9.0.9 eq 3389
access-list cp_outside extended deny ip host 198.51.100.99 any
access-list cp_outside extended permit ip any any
access-group outside_in in interface outside
access-group dmz_in in interface dmz
access-group lab_out out interface lab
access-group global_acl global
access-group cp_outside in interface outside control-plane
route outside 0.0.0.0 0.0.0.0 203.0.113.14 1
route inside 10.1.0.0 255.255.0.0 10.1.1.254 1
route inside 10.2.0.0 255.255.0.0 10.1.1.254 1
route dmz 10.2.5.0 255.255.255.0 10.1.20.254 1
route inside 10.3.0.0 255.255.0.0 10.1.1.253 5
route dmz 10.3.0.0 255.255.0.0 10.1.20.253 10
route old 10.77.0.0 255.255.0.0 10.7.0.254 1
ssh 10.10.0.0 255.255.255.0 mgmt
ssh 198.51.100.0 255.255.255.0 outside
http server enable
http 10.10.0.0 255.255.255.0 mgmt
icmp deny any outside
`

func mustModel(t testing.TB, text string) *Model {
	t.Helper()
	cfg, err := asaconfig.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg, Options{})
}

var a = netip.MustParseAddr

func tcp(in, src string, dst string, port uint16) Flow {
	return Flow{Ingress: in, Proto: TCP, Src: a(src), SrcPort: 40000, Dst: a(dst), DstPort: port}
}

func TestDecide(t *testing.T) {
	m := mustModel(t, testConfig)
	// A Wednesday 10:00 and a Saturday 03:00 in the box's zone (CST, UTC-6).
	wed := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
	sat := time.Date(2025, 3, 15, 9, 0, 0, 0, time.UTC)
	shunned := &State{Shuns: []Shun{{Src: a("198.51.100.50")}}}
	conn := &State{Conns: []Conn{{Proto: TCP, Src: a("10.1.5.5"), SrcPort: 50000, Dst: a("198.51.100.80"), DstPort: 443}}}
	for _, tc := range []struct {
		name   string
		f      Flow
		at     time.Time
		st     *State
		action Action
		stage  Stage
		reason string // substring of Verdict.Reason
	}{
		{"group member denied first", tcp("outside", "198.51.100.7", "10.1.20.11", 443), wed, nil, Drop, StageACLIn, "outside_in line 1, BLOCKED"},
		{"nested group prefix", tcp("outside", "192.0.2.77", "10.1.20.11", 80), wed, nil, Drop, StageACLIn, "outside_in line 1, BLOCKED"},
		{"object host and port group", tcp("outside", "198.51.100.8", "10.1.20.11", 443), wed, nil, Permit, StageACLIn, "outside_in line 3"},
		{"port group miss: the implicit deny after the global ACL", tcp("outside", "198.51.100.8", "10.1.20.11", 22), wed, nil, Drop, StageACLIn, "implicit deny of global_acl"},
		{"service group as protocol, tcp", tcp("outside", "198.51.100.8", "10.1.20.10", 25), wed, nil, Permit, StageACLIn, "outside_in line 4"},
		{"service group udp range", Flow{Ingress: "outside", Proto: UDP, Src: a("198.51.100.8"), SrcPort: 1, Dst: a("10.1.20.10"), DstPort: 5005}, wed, nil, Permit, StageACLIn, "line 4"},
		{"service group icmp echo", Flow{Ingress: "outside", Proto: ICMP, Src: a("198.51.100.8"), Dst: a("10.1.20.10"), ICMPType: 8}, wed, nil, Permit, StageACLIn, "line 4"},
		{"protocol group gre", Flow{Ingress: "outside", Proto: 47, Src: a("198.51.100.8"), Dst: a("10.1.20.12")}, wed, nil, Permit, StageACLIn, "line 5"},
		{"protocol group: tcp is not in it", tcp("outside", "198.51.100.8", "10.1.20.12", 80), wed, nil, Drop, StageACLIn, "implicit deny"},
		{"icmp-type group echo-reply", Flow{Ingress: "outside", Proto: ICMP, Src: a("198.51.100.8"), Dst: a("10.1.20.30"), ICMPType: 0}, wed, nil, Permit, StageACLIn, "line 6"},
		{"icmp-type group: unreachable not in it", Flow{Ingress: "outside", Proto: ICMP, Src: a("198.51.100.8"), Dst: a("10.1.20.30"), ICMPType: 3}, wed, nil, Drop, StageACLIn, "implicit deny"},
		{"object range inside", tcp("outside", "198.51.100.8", "10.1.20.105", 8005), wed, nil, Permit, StageACLIn, "line 7"},
		{"object range outside", tcp("outside", "198.51.100.8", "10.1.20.111", 8005), wed, nil, Drop, StageACLIn, "implicit deny"},
		{"periodic active on a weekday", tcp("outside", "198.51.100.8", "10.1.20.13", 8443), wed, nil, Permit, StageACLIn, "line 8"},
		{"periodic inactive on Saturday", tcp("outside", "198.51.100.8", "10.1.20.13", 8443), sat, nil, Drop, StageACLIn, "implicit deny"},
		{"absolute end passed", tcp("outside", "198.51.100.8", "10.1.20.14", 8443), wed, nil, Drop, StageACLIn, "implicit deny"},
		{"inactive entry", tcp("outside", "198.51.100.8", "10.1.20.15", 8443), wed, nil, Drop, StageACLIn, "implicit deny"},
		{"undefined time-range never matches", tcp("outside", "198.51.100.8", "10.1.20.16", 8443), wed, nil, Drop, StageACLIn, "implicit deny"},
		{"periodic span over the weekend", tcp("outside", "198.51.100.8", "10.1.20.17", 8443), sat, nil, Permit, StageACLIn, "line 12"},
		{"periodic span, not on Wednesday", tcp("outside", "198.51.100.8", "10.1.20.17", 8443), wed, nil, Drop, StageACLIn, "implicit deny"},
		{"lt", tcp("outside", "198.51.100.8", "10.1.20.18", 1023), wed, nil, Permit, StageACLIn, "line 13"},
		{"lt boundary", tcp("outside", "198.51.100.8", "10.1.20.18", 1024), wed, nil, Drop, StageACLIn, "implicit deny"},
		{"gt", tcp("outside", "198.51.100.8", "10.1.20.19", 60001), wed, nil, Permit, StageACLIn, "line 14"},
		{"gt boundary", tcp("outside", "198.51.100.8", "10.1.20.19", 60000), wed, nil, Drop, StageACLIn, "implicit deny"},
		{"neq", tcp("outside", "198.51.100.8", "10.1.20.20", 80), wed, nil, Permit, StageACLIn, "line 15"},
		{"neq the port", tcp("outside", "198.51.100.8", "10.1.20.20", 23), wed, nil, Drop, StageACLIn, "implicit deny"},
		{"source port eq", Flow{Ingress: "outside", Proto: TCP, Src: a("198.51.100.8"), SrcPort: 53, Dst: a("10.1.20.21"), DstPort: 1234}, wed, nil, Permit, StageACLIn, "line 16"},
		{"source port miss", Flow{Ingress: "outside", Proto: TCP, Src: a("198.51.100.8"), SrcPort: 54, Dst: a("10.1.20.21"), DstPort: 1234}, wed, nil, Drop, StageACLIn, "implicit deny"},
		{"service object", Flow{Ingress: "outside", Proto: UDP, Src: a("198.51.100.8"), SrcPort: 5353, Dst: a("10.1.20.22"), DstPort: 53}, wed, nil, Permit, StageACLIn, "line 17"},
		{"any6 does not match IPv4; fqdn entry undecidable", tcp("outside", "198.51.100.8", "10.1.20.40", 443), wed, nil, Unknown, StageACLIn, "line 19"},
		{"mask prefix", tcp("outside", "198.51.100.8", "10.1.20.40", 9999), wed, nil, Permit, StageACLIn, "line 20"},
		{"global ACL after the interface ACL", tcp("outside", "198.51.100.8", "10.1.20.40", 6667), wed, nil, Drop, StageACLIn, "global_acl line 1"},
		{"global ACL applies without interface ACL", tcp("inside", "10.1.5.5", "198.51.100.80", 6667), wed, nil, Drop, StageACLIn, "global_acl line 1"},
		{"global ACL implicit deny replaces security levels", tcp("inside", "10.1.5.5", "198.51.100.80", 443), wed, nil, Drop, StageACLIn, "implicit deny of global_acl"},
		{"shun before the ACL", tcp("outside", "198.51.100.50", "10.1.20.11", 443), wed, shunned, Drop, StageShun, "shun of 198.51.100.50"},
		{"established connection reply", Flow{Ingress: "outside", Proto: TCP, Src: a("198.51.100.80"), SrcPort: 443, Dst: a("10.1.5.5"), DstPort: 50000}, wed, conn, Permit, StageConn, "existing connection"},
		{"dmz ACL permits, egress lab outbound ACL denies", tcp("dmz", "10.1.20.5", "10.9.0.5", 22), wed, nil, Drop, StageSameSecurity, "same security level 50"},
		{"route via a shut-down interface is not installed", tcp("dmz", "10.1.20.5", "10.77.0.5", 22), wed, nil, Permit, StageACLIn, "dmz_in line 1"},
		{"control-plane ACL only for the box: transit unaffected", tcp("outside", "198.51.100.99", "10.1.20.11", 443), wed, nil, Permit, StageACLIn, "outside_in line 3"},
		{"control-plane ACL drops to-the-box traffic", tcp("outside", "198.51.100.99", "203.0.113.1", 22), wed, nil, Drop, StageControlPlane, "cp_outside line 1"},
		{"ssh to the box allowed", tcp("outside", "198.51.100.98", "203.0.113.1", 22), wed, nil, Permit, StageToBox, "ssh 198.51.100.0/24 outside"},
		{"ssh to the box from elsewhere", tcp("outside", "192.0.2.200", "203.0.113.1", 22), wed, nil, Drop, StageToBox, "no ssh line"},
		{"icmp deny to the box", Flow{Ingress: "outside", Proto: ICMP, Src: a("198.51.100.98"), Dst: a("203.0.113.1"), ICMPType: 8}, wed, nil, Drop, StageToBox, "icmp deny"},
		{"far interface address", tcp("outside", "198.51.100.98", "10.1.1.1", 22), wed, nil, Drop, StageToBox, "inside's address"},
		{"management-only transit", tcp("mgmt", "10.10.0.5", "10.1.5.5", 3389), wed, nil, Drop, StageMgmtOnly, "management-only interface mgmt"},
		{"https to the box on mgmt", tcp("mgmt", "10.10.0.5", "10.10.0.1", 443), wed, nil, Permit, StageToBox, "http"},
		{"shut-down interface", tcp("old", "10.7.0.5", "198.51.100.8", 80), wed, nil, Drop, StageInterface, "shut down"},
		{"ingress from the source route", Flow{Proto: TCP, Src: a("198.51.100.8"), SrcPort: 1, Dst: a("10.1.20.11"), DstPort: 443}, wed, nil, Permit, StageACLIn, "outside_in line 3"},
		{"IPv6 is not modelled", Flow{Ingress: "outside", Proto: TCP, Src: a("2001:db8::1"), Dst: a("2001:db8::2"), DstPort: 80}, wed, nil, Unknown, StageUnsupported, "IPv6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := m.Decide(tc.f, tc.at, tc.st)
			if v.Action != tc.action || v.Stage != tc.stage || !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("Decide(%v) = %s stage %s, want %s stage %s with %q", tc.f, v, v.Stage, tc.action, tc.stage, tc.reason)
			}
		})
	}
}

// TestSecurityLevels uses a config without any global ACL, so the
// security-level rule and same-security-traffic decide.
func TestSecurityLevels(t *testing.T) {
	base := `interface E0
 nameif outside
 security-level 0
 ip address 203.0.113.1 255.255.255.240
interface E1
 nameif inside
 security-level 100
 ip address 10.1.1.1 255.255.255.0
interface E2
 nameif dmz
 security-level 50
 ip address 10.1.20.1 255.255.255.0
interface E3
 nameif dmz2
 security-level 50
 ip address 10.1.21.1 255.255.255.0
access-list outside_in extended permit tcp any host 10.1.20.11 eq https
access-list lab_out extended deny tcp any any eq 8080
access-list lab_out extended permit ip any any
access-group outside_in in interface outside
access-group lab_out out interface dmz
route outside 0.0.0.0 0.0.0.0 203.0.113.14
route inside 10.2.0.0 255.255.0.0 10.1.1.254
`
	at := time.Date(2025, 3, 12, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		extra  string
		f      Flow
		action Action
		stage  Stage
		reason string
	}{
		{"higher to lower without ACL", "", tcp("inside", "10.2.3.4", "198.51.100.8", 443), Permit, StageSecurity, "inside 100 to outside 0"},
		{"static route longest prefix", "", tcp("inside", "10.2.3.4", "10.1.20.11", 80), Permit, StageSecurity, "inside 100 to dmz 50"},
		{"lower to higher without ACL", "", tcp("dmz", "10.1.20.11", "10.2.3.4", 445), Drop, StageSecurity, "dmz 50 to inside 100"},
		{"same level without same-security", "", tcp("dmz", "10.1.20.11", "10.1.21.4", 445), Drop, StageSameSecurity, "inter-interface"},
		{"same level with inter-interface", "same-security-traffic permit inter-interface\n", tcp("dmz", "10.1.20.11", "10.1.21.4", 445), Permit, StageSecurity, "dmz 50 to dmz2 50"},
		{"hairpin without intra-interface", "", tcp("inside", "10.2.3.4", "10.2.9.9", 445), Drop, StageSameSecurity, "intra-interface"},
		{"hairpin with intra-interface", "same-security-traffic permit intra-interface\n", tcp("inside", "10.2.3.4", "10.2.9.9", 445), Permit, StageSecurity, "inside 100 to inside 100"},
		{"inbound ACL permit, outbound ACL permit", "", tcp("outside", "198.51.100.8", "10.1.20.11", 443), Permit, StageACLIn, "outside_in line 1"},
		{"outbound ACL on the egress", "", tcp("inside", "10.2.3.4", "10.1.20.11", 8080), Drop, StageACLOut, "lab_out line 1"},
		{"default route", "", tcp("dmz", "10.1.20.11", "8.8.8.8", 53), Permit, StageSecurity, "dmz 50 to outside 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustModel(t, base+tc.extra)
			v := m.Decide(tc.f, at, nil)
			if v.Action != tc.action || v.Stage != tc.stage || !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("Decide(%v) = %s stage %s, want %s stage %s with %q", tc.f, v, v.Stage, tc.action, tc.stage, tc.reason)
			}
		})
	}
}

func TestRouteDistance(t *testing.T) {
	m := mustModel(t, testConfig)
	for _, tc := range []struct{ dst, want string }{
		{"10.3.1.1", "inside"}, // distance 5 beats 10
		{"10.2.5.9", "dmz"},    // /24 beats /16
		{"10.2.6.9", "inside"},
		{"10.1.20.77", "dmz"}, // connected
		{"10.77.1.1", "outside"},
		{"8.8.8.8", "outside"},
	} {
		if got := m.RouteInterface(a(tc.dst)); got != tc.want {
			t.Errorf("RouteInterface(%s) = %q, want %q", tc.dst, got, tc.want)
		}
	}
}

func TestNoRouteAndVerdictText(t *testing.T) {
	const cfg = `interface E1
 nameif inside
 security-level 100
 ip address 10.3.1.1 255.255.255.0
interface E0
 nameif outside
 security-level 0
 ip address 203.0.113.1 255.255.255.240
object-group network FIREBREAK_BLOCK
 network-object host 192.0.2.144
access-list inside_access_in remark firebreak p-0007 block
access-list inside_access_in extended deny ip any object-group FIREBREAK_BLOCK
access-list inside_access_in extended permit ip 10.3.0.0 255.255.0.0 any
access-group inside_access_in in interface inside
route inside 10.3.100.0 255.255.252.0 10.3.1.254
`
	m := mustModel(t, cfg+"route outside 0.0.0.0 0.0.0.0 203.0.113.14\n")
	at := time.Date(2025, 3, 12, 12, 0, 0, 0, time.UTC)
	if v := m.Decide(tcp("inside", "10.3.100.15", "192.0.2.144", 4444), at, nil); v.String() != "dropped (inside_access_in line 2, FIREBREAK_BLOCK)" || v.Rule.Remark != "firebreak p-0007 block" {
		t.Errorf("block verdict = %q, remark %q", v, v.Rule.Remark)
	}
	if v := m.Decide(tcp("inside", "10.3.100.15", "203.0.113.5", 443), at, nil); v.String() != "permitted (inside_access_in line 3)" || v.Egress != "outside" {
		t.Errorf("permit verdict = %q via %q", v, v.Egress)
	}
	// No default route: the internet is unreachable whatever the ACL says.
	if v := mustModel(t, cfg).Decide(tcp("inside", "10.3.100.15", "198.51.100.1", 443), at, nil); v.Action != Drop || v.Stage != StageRoute {
		t.Errorf("unrouted verdict = %q stage %s", v, v.Stage)
	}
	if v := mustModel(t, cfg).Decide(Flow{Proto: TCP, Src: a("172.16.0.1"), Dst: a("10.3.100.15"), DstPort: 22}, at, nil); v.Stage != StageInterface {
		t.Errorf("unroutable source: %q stage %s", v, v.Stage)
	}
}
