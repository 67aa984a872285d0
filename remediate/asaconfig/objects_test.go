package asaconfig

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const objectsConfig = `interface E0
 nameif outside
 security-level 0
 ip address 203.0.113.1 255.255.255.240
object-group service WEB tcp
 description web ports
 port-object eq www
 port-object range 8000 8010
object-group service MIX
 service-object tcp destination eq https
 service-object udp source eq 53 destination range 1024 65535
 service-object icmp echo 0
 group-object WEB
object-group protocol TUN
 protocol-object gre
 protocol-object 50
object-group icmp-type PING
 icmp-object echo
 icmp-object 0
object service NTP
 service udp destination eq ntp
time-range WORK
 absolute start 08:00 1 March 2025 end 18:30 31 March 2025
 periodic weekdays 8:00 to 17:00
 periodic Saturday 9:00 to Sunday 12:00
same-security-traffic permit intra-interface
clock timezone CET 1
access-list CP extended permit ip any any
access-list OUT extended permit tcp any any
access-group OUT in interface outside
access-group CP in interface outside control-plane
`

func TestObjects(t *testing.T) {
	c, err := Parse([]byte(objectsConfig))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) > 0 {
		t.Fatalf("warnings: %v", w)
	}
	if acl, _ := c.InboundACL("outside"); acl != "OUT" {
		t.Errorf("InboundACL = %q: a control-plane binding is not the interface ACL", acl)
	}
	if acl, _ := c.ControlPlaneACL("outside"); acl != "CP" {
		t.Errorf("ControlPlaneACL = %q", acl)
	}
	web, ok, err := c.ServiceGroup("WEB")
	if !ok || err != nil || web.Ports != "tcp" || !cmp.Equal(web.Entries, []ServiceEntry{
		{Proto: AnyProto, Dst: PortMatch{Op: PortEq, Lo: 80}, ICMPType: AnyICMP, ICMPCode: AnyICMP},
		{Proto: AnyProto, Dst: PortMatch{Op: PortRange, Lo: 8000, Hi: 8010}, ICMPType: AnyICMP, ICMPCode: AnyICMP},
	}) {
		t.Errorf("WEB = %+v %v %v", web, ok, err)
	}
	mix, _, err := c.ServiceGroup("MIX")
	if err != nil || len(mix.Entries) != 4 || mix.Entries[1].Src != (PortMatch{Op: PortEq, Lo: 53}) ||
		mix.Entries[2].ICMPType != 8 || mix.Entries[2].ICMPCode != 0 || mix.Entries[3].Group != "WEB" {
		t.Errorf("MIX = %+v %v", mix, err)
	}
	if g, _, err := c.ProtocolGroup("TUN"); err != nil || !cmp.Equal(g.Protocols, []int16{47, 50}) {
		t.Errorf("TUN = %+v %v", g, err)
	}
	if g, _, err := c.ICMPGroup("PING"); err != nil || !cmp.Equal(g.Types, []int16{8, 0}) {
		t.Errorf("PING = %+v %v", g, err)
	}
	if s, _, err := c.ServiceObject("NTP"); err != nil || s.Proto != 17 || s.Dst != (PortMatch{Op: PortEq, Lo: 123}) {
		t.Errorf("NTP = %+v %v", s, err)
	}
	if inter, intra := c.SameSecurityTraffic(); inter || !intra {
		t.Errorf("same-security = %v %v", inter, intra)
	}
	if off, ok := c.ClockOffset(); !ok || off != time.Hour {
		t.Errorf("clock = %v %v", off, ok)
	}
	tr, ok := c.TimeRange("WORK")
	if !ok || len(tr.Periodic) != 2 {
		t.Fatalf("WORK = %+v", tr)
	}
	local := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04 Mon", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2025-03-12 10:00 Wed", true},
		{"2025-03-12 17:00 Wed", false}, // periodic end excluded
		{"2025-03-12 07:59 Wed", false},
		{"2025-03-15 08:59 Sat", false},
		{"2025-03-15 23:00 Sat", true}, // Saturday 9:00 to Sunday 12:00
		{"2025-03-16 11:59 Sun", true},
		{"2025-03-16 12:00 Sun", false},
		{"2025-02-28 10:00 Fri", false}, // before the absolute start
		{"2025-04-01 10:00 Tue", false}, // after the absolute end
	} {
		if got := tr.Active(local(tc.at)); got != tc.want {
			t.Errorf("Active(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
}

func TestRules(t *testing.T) {
	c, err := Parse([]byte(objectsConfig + `access-list R remark firebreak p-0001 block
access-list R extended deny object-group TUN any any
access-list R extended permit object-group MIX any host 10.0.0.1 log
access-list R extended permit tcp any host 10.0.0.2 object-group WEB time-range WORK inactive
access-list R extended permit icmp any any object-group PING
access-list R extended permit icmp any any unreachable 4
access-list R extended permit 50 any any
access-list R extended permit ip user LOCAL\bob any any
access-list R standard permit host 10.0.0.3
`))
	if err != nil {
		t.Fatal(err)
	}
	rs := c.Rules("R")
	if len(rs) != 9 {
		t.Fatalf("%d rules", len(rs))
	}
	for i, want := range []Rule{
		{Kind: RuleRemark},
		{Kind: RuleMatch, Action: Deny, Proto: ProtoSpec{Group: "TUN"}, Remark: "firebreak p-0001 block"},
		{Kind: RuleMatch, Action: Permit, Proto: ProtoSpec{Group: "MIX", Service: true}},
		{Kind: RuleMatch, Action: Permit, Proto: ProtoSpec{Number: 6}, DstPort: PortSpec{Group: "WEB"}, TimeRange: "WORK", Inactive: true},
		{Kind: RuleMatch, Action: Permit, Proto: ProtoSpec{Number: 1}, ICMP: ICMPSpec{Type: AnyICMP, Code: AnyICMP, Group: "PING"}},
		{Kind: RuleMatch, Action: Permit, Proto: ProtoSpec{Number: 1}, ICMP: ICMPSpec{Type: 3, Code: 4}},
		{Kind: RuleMatch, Action: Permit, Proto: ProtoSpec{Number: 50}},
		{Kind: RuleUnsupported},
		{Kind: RuleUnsupported},
	} {
		got := rs[i]
		if want.Kind == RuleUnsupported {
			if got.Kind != want.Kind {
				t.Errorf("rule %d kind %d, want unsupported", i+1, got.Kind)
			}
			continue
		}
		if got.Kind != want.Kind || got.Action != want.Action || got.Proto != want.Proto || got.DstPort != want.DstPort ||
			got.TimeRange != want.TimeRange || got.Inactive != want.Inactive || got.Remark != want.Remark && want.Kind != RuleRemark ||
			want.ICMP.Group != "" && got.ICMP != want.ICMP || want.ICMP.Type == 3 && got.ICMP != want.ICMP {
			t.Errorf("rule %d = %+v, want %+v", i+1, got, want)
		}
	}
	if rs[7].Why == "" || rs[8].Why == "" {
		t.Errorf("unsupported rules without a reason: %q %q", rs[7].Why, rs[8].Why)
	}
}
