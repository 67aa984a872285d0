package asaconfig

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	clinic := string(readFixture(t, "clinic.cfg"))
	tests := []struct {
		name string
		text string
	}{
		{"clinic", clinic},
		{"names", string(readFixture(t, "clinic-names.cfg"))},
		{"crlf", strings.ReplaceAll(clinic, "\n", "\r\n")},
		{"no final newline", strings.TrimSuffix(clinic, "\n")},
		{"empty", ""},
		{"only newline", "\n"},
		{"leading sub-line", " orphan\nhostname x\n"},
		{"blank lines", "hostname x\n\n\n!\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.text))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := c.Render(); got != tt.text {
				t.Errorf("Render() differs from input:\n%s", cmp.Diff(tt.text, got))
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := Parse(make([]byte, MaxConfigSize+1))
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse(oversized) error = %v, want ErrTooLarge", err)
	}
}

func TestParseModel(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	if got := c.Hostname(); got != "clinic-asa" {
		t.Errorf("Hostname() = %q", got)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("Warnings() = %v, want none", w)
	}
	if err := c.Manageable(); err != nil {
		t.Errorf("Manageable() = %v", err)
	}
	in, ok := c.InterfaceByName("outside")
	want := Interface{HW: "Ethernet0/0", Nameif: "outside", SecurityLevel: 0, Address: pfx("198.51.100.2/29"), Standby: addr("198.51.100.3")}
	if !ok || in != want {
		t.Errorf("InterfaceByName(outside) = %+v, want %+v", in, want)
	}
	if m, _ := c.InterfaceByName("management"); !m.MgmtOnly {
		t.Errorf("management interface not management-only: %+v", m)
	}
	g, ok := c.Group("PARTNER-LAB")
	wantG := NetworkGroup{Name: "PARTNER-LAB", Members: []Member{
		{Kind: MemberPrefix, Prefix: pfx("203.0.113.0/28")},
		{Kind: MemberHost, Prefix: pfx("192.0.2.77/32")},
	}}
	if d := cmp.Diff(wantG, g, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); !ok || d != "" {
		t.Errorf("Group(PARTNER-LAB) (-want +got):\n%s", d)
	}
	if g, _ := c.Group("DMZ-SERVERS"); g.Description != "public servers in the DMZ" || len(g.Members) != 2 || g.Members[0] != (Member{Kind: MemberObject, Name: "obj-web-dmz"}) {
		t.Errorf("Group(DMZ-SERVERS) = %+v", g)
	}
	if got := c.ACLNames(); !cmp.Equal(got, []string{"OUTSIDE_IN", "INSIDE_IN", "DMZ_IN", "PARTNER_CRYPTO"}) {
		t.Errorf("ACLNames() = %v", got)
	}
	acl, _ := c.ACL("OUTSIDE_IN")
	if len(acl.Entries) != 10 {
		t.Fatalf("OUTSIDE_IN has %d entries, want 10", len(acl.Entries))
	}
	entryTests := []struct {
		line int
		kind EntryKind
		ace  ACE
	}{
		{1, EntryRemark, ACE{}},
		{2, EntryACE, ACE{Action: Permit, Protocol: ProtoTCP, Src: HostAddr(addr("192.0.2.50")), Dst: HostAddr(addr("198.51.100.2")), DstPort: PortMatch{Op: PortEq, Lo: 22}}},
		{3, EntryACE, ACE{Action: Permit, Protocol: ProtoUDP, Src: HostAddr(addr("192.0.2.50")), Dst: HostAddr(addr("198.51.100.2")), DstPort: PortMatch{Op: PortEq, Lo: 161}}},
		{5, EntryACE, ACE{Action: Permit, Protocol: ProtoIP, Src: GroupAddr("PARTNER-LAB"), Dst: Address{Kind: AddrObject, Name: "obj-pacs"}}},
		{7, EntryOther, ACE{}}, // service object-group as destination port
		{9, EntryOther, ACE{}}, // icmp type
		{10, EntryACE, ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr(), Log: LogOpts{Set: true, Level: "informational", Interval: 300}}},
	}
	for _, tt := range entryTests {
		e := acl.Entries[tt.line-1]
		if e.Line != tt.line || e.Kind != tt.kind || e.ACE != tt.ace {
			t.Errorf("OUTSIDE_IN line %d = %+v, want kind %d ace %+v", tt.line, e, tt.kind, tt.ace)
		}
	}
	objs := c.NetworkObjects()
	if len(objs) != 4 || objs[0] != (NetworkObject{Name: "obj-web-dmz", Prefix: pfx("172.16.20.10/32")}) || objs[3].Description != "PACS image archive" {
		t.Errorf("NetworkObjects() = %+v", objs)
	}
	if acl.Entries[0].Remark != "management from the monitoring provider" {
		t.Errorf("remark = %q", acl.Entries[0].Remark)
	}
	in4, _ := c.ACL("INSIDE_IN")
	if got := in4.Entries[3].ACE.DstPort; got != (PortMatch{Op: PortRange, Lo: 1024, Hi: 65535}) {
		t.Errorf("INSIDE_IN line 4 port = %+v", got)
	}
	if got := in4.Entries[2].ACE.DstPort; got != (PortMatch{Op: PortEq, Lo: 80}) {
		t.Errorf("www not normalized: %+v", got)
	}
	wantAG := []AccessGroup{{ACL: "OUTSIDE_IN", Dir: DirIn, Interface: "outside"}, {ACL: "INSIDE_IN", Dir: DirIn, Interface: "inside"}, {ACL: "DMZ_IN", Dir: DirIn, Interface: "dmz"}}
	if got := c.AccessGroups(); !cmp.Equal(got, wantAG) {
		t.Errorf("AccessGroups() = %v", got)
	}
	wantR := []Route{
		{Interface: "outside", Dest: pfx("0.0.0.0/0"), Gateway: addr("198.51.100.1"), Distance: 1},
		{Interface: "inside", Dest: pfx("10.30.0.0/24"), Gateway: addr("10.20.0.254"), Distance: 1},
		{Interface: "inside", Dest: pfx("10.40.0.0/16"), Gateway: addr("10.20.0.254"), Distance: 1},
	}
	if got := c.Routes(); !cmp.Equal(got, wantR, cmp.Comparer(func(a, b Route) bool { return a == b })) {
		t.Errorf("Routes() = %v", got)
	}
}

func TestParseACEForms(t *testing.T) {
	tests := []struct {
		line string
		kind EntryKind
		ace  ACE
	}{
		{"access-list A extended permit tcp 10.0.0.0 255.255.255.0 gt 1023 any4 lt 1024 log disable", EntryACE,
			ACE{Action: Permit, Protocol: ProtoTCP, Src: Address{Kind: AddrPrefix, Prefix: pfx("10.0.0.0/24")}, SrcPort: PortMatch{Op: PortGt, Lo: 1023}, Dst: Address{Kind: AddrAny4}, DstPort: PortMatch{Op: PortLt, Lo: 1024}, Log: LogOpts{Set: true, Disable: true}}},
		{"access-list A extended deny udp any6 host 2001:db8::1 neq domain time-range WORK inactive", EntryACE,
			ACE{Action: Deny, Protocol: ProtoUDP, Src: Address{Kind: AddrAny6}, Dst: HostAddr(addr("2001:db8::1")), DstPort: PortMatch{Op: PortNeq, Lo: 53}, TimeRange: "WORK", Inactive: true}},
		{"access-list A extended permit ip 2001:db8::/32 interface inside", EntryACE,
			ACE{Action: Permit, Protocol: ProtoIP, Src: Address{Kind: AddrPrefix, Prefix: pfx("2001:db8::/32")}, Dst: Address{Kind: AddrInterface, Name: "inside"}}},
		{"access-list A extended permit esp any any", EntryOther, ACE{}},
		{"access-list A remark  two  spaces ", EntryRemark, ACE{}},
		{"access-list A standard permit host 10.1.1.1", EntryOther, ACE{}},
		{"access-list A webtype permit url http://x", EntryOther, ACE{}},
		{"access-list A extended permit tcp any any eq nosuchport", EntryOther, ACE{}},
		{"access-list A extended permit ip 10.0.0.0 255.0.255.0 any", EntryOther, ACE{}},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.line + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		a, ok := c.ACL("A")
		if !ok || len(a.Entries) != 1 {
			t.Fatalf("Parse(%q): no entry", tt.line)
		}
		if e := a.Entries[0]; e.Kind != tt.kind || e.ACE != tt.ace {
			t.Errorf("Parse(%q) = kind %d %+v, want kind %d %+v", tt.line, e.Kind, e.ACE, tt.kind, tt.ace)
		}
		if e := a.Entries[0]; tt.kind == EntryRemark && e.Remark != " two  spaces" {
			t.Errorf("Parse(%q) remark = %q", tt.line, e.Remark)
		}
		if tt.kind == EntryACE {
			if got, err := RenderACE("A", tt.ace); err != nil || got != tt.line {
				t.Errorf("RenderACE = %q, %v; want %q", got, err, tt.line)
			}
		}
	}
}

func TestNamesResolvedButRefused(t *testing.T) {
	c := mustParse(t, "clinic-names.cfg")
	if got := len(c.Names()); got != 3 {
		t.Errorf("Names() has %d entries, want 3", got)
	}
	acl, _ := c.ACL("OUTSIDE_IN")
	if got := acl.Entries[1].ACE.Dst; got != HostAddr(addr("10.20.0.40")) {
		t.Errorf("name PACS not resolved: %+v", got)
	}
	found := false
	for _, p := range c.SelfProtected() {
		if p.Prefix == pfx("10.20.0.30/32") && strings.HasPrefix(p.Reason, "logging host") {
			found = true
		}
	}
	if !found {
		t.Errorf("logging host SYSLOG not resolved into SelfProtected: %v", c.SelfProtected())
	}
	if err := c.Manageable(); !errors.Is(err, ErrNamesInUse) {
		t.Errorf("Manageable() = %v, want ErrNamesInUse", err)
	}
	if _, err := c.Apply(nil); !errors.Is(err, ErrNamesInUse) {
		t.Errorf("Apply() = %v, want ErrNamesInUse", err)
	}
	_, err := c.PlanBlock(Block{ProposalID: "p1", Target: pfx("185.220.101.4/32"), Group: "FIREBREAK-BLOCK", Interface: "outside"}, Limits{})
	if !errors.Is(err, ErrNamesInUse) {
		t.Errorf("PlanBlock() = %v, want ErrNamesInUse", err)
	}
}

func TestSelfProtected(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	got := map[netip.Prefix]Protected{}
	for _, p := range c.SelfProtected() {
		if _, dup := got[p.Prefix]; dup {
			t.Errorf("duplicate prefix %v", p.Prefix)
		}
		got[p.Prefix] = p
	}
	tests := []struct {
		prefix string
		scope  ProtectScope
		reason string
	}{
		{"198.51.100.2/32", ScopeOverlap, "interface address of outside"},
		{"198.51.100.3/32", ScopeOverlap, "standby address of outside"},
		{"198.51.100.0/29", ScopeWhole, "connected subnet of outside"},
		{"198.51.100.1/32", ScopeOverlap, "default gateway via outside"},
		{"10.20.0.254/32", ScopeOverlap, "route gateway via inside"},
		{"10.20.0.10/32", ScopeOverlap, "dns server"},
		{"10.20.0.30/32", ScopeOverlap, "logging host"},
		{"10.99.0.20/32", ScopeOverlap, "logging host"},
		{"192.0.2.123/32", ScopeOverlap, "ntp server"},
		{"10.20.0.15/32", ScopeOverlap, "aaa server"},
		{"203.0.113.1/32", ScopeOverlap, "vpn peer"},
		{"192.0.2.50/32", ScopeOverlap, "ssh management access on outside"},
		{"10.99.0.0/24", ScopeOverlap, "http management access on management"},
		{"10.20.0.0/24", ScopeWhole, "http management access on inside"},
		{"10.255.255.2/32", ScopeOverlap, "failover link"},
	}
	for _, tt := range tests {
		p, ok := got[pfx(tt.prefix)]
		if !ok || p.Scope != tt.scope || !strings.HasPrefix(p.Reason, tt.reason) {
			t.Errorf("SelfProtected()[%s] = %+v (present %t), want scope %d reason %q…", tt.prefix, p, ok, tt.scope, tt.reason)
		}
	}
	// The snmp host is also a logging host: one entry, first reason.
	if p := got[pfx("10.99.0.20/32")]; !strings.HasPrefix(p.Reason, "logging host") {
		t.Errorf("10.99.0.20 reason = %q", p.Reason)
	}
}

func TestProtectedRefuses(t *testing.T) {
	tests := []struct {
		p      Protected
		target string
		want   bool
	}{
		{Protected{Prefix: pfx("10.0.0.5/32")}, "10.0.0.5/32", true},
		{Protected{Prefix: pfx("10.0.0.5/32")}, "10.0.0.0/24", true},
		{Protected{Prefix: pfx("10.0.0.0/24")}, "10.0.0.9/32", true},
		{Protected{Prefix: pfx("10.0.0.0/24")}, "10.0.1.9/32", false},
		{Protected{Prefix: pfx("10.0.0.0/24"), Scope: ScopeWhole}, "10.0.0.9/32", false},
		{Protected{Prefix: pfx("10.0.0.0/24"), Scope: ScopeWhole}, "10.0.0.0/24", true},
		{Protected{Prefix: pfx("10.0.0.0/24"), Scope: ScopeWhole}, "10.0.0.0/16", true},
		{Protected{Prefix: pfx("10.0.0.0/24")}, "2001:db8::/64", false},
	}
	for _, tt := range tests {
		if got := tt.p.Refuses(pfx(tt.target)); got != tt.want {
			t.Errorf("%+v.Refuses(%s) = %t, want %t", tt.p, tt.target, got, tt.want)
		}
	}
}

func TestParseInterfaceForms(t *testing.T) {
	c := mustParseText(t, "interface Ethernet0/0\n nameif outside\n security-level 0\n ip address dhcp setroute\n"+
		"interface Ethernet0/1.10\n vlan 10\n nameif inside\n security-level 900\n ip address 10.1.1.1 255.255.255.0\n shutdown\n")
	got := c.Interfaces()
	want := []Interface{
		{HW: "Ethernet0/0", Nameif: "outside", SecurityLevel: 0},
		{HW: "Ethernet0/1.10", Nameif: "inside", SecurityLevel: -1, Address: pfx("10.1.1.1/24"), Shutdown: true},
	}
	if !cmp.Equal(got, want, cmp.Comparer(func(a, b Interface) bool { return a == b })) {
		t.Errorf("Interfaces() = %+v", got)
	}
	if w := c.Warnings(); len(w) != 1 || w[0].Line != 5 {
		t.Errorf("Warnings() = %v, want the security-level at line 5", w)
	}
}

func TestParseWarnings(t *testing.T) {
	text := "route inside 10.0.0.0 255.0.255.0 10.1.1.1\naccess-list A extended permit ip host 999.1.1.1 any\naccess-group A sideways\n"
	c, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	w := c.Warnings()
	if len(w) != 3 || w[0].Line != 1 || w[1].Line != 2 || w[2].Line != 3 {
		t.Fatalf("Warnings() = %v, want lines 1, 2, 3", w)
	}
	for _, x := range w {
		if !errors.Is(x.Err, ErrBadValue) {
			t.Errorf("warning %v does not wrap ErrBadValue", x)
		}
	}
	// The malformed access-list line still takes line 1 of A.
	if a, _ := c.ACL("A"); len(a.Entries) != 1 || a.Entries[0].Kind != EntryOther {
		t.Errorf("ACL(A) = %+v", a)
	}
	if c.Render() != text {
		t.Errorf("Render() changed the text")
	}
}
