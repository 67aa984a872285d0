package asaconfig

import (
	"errors"
	"strings"
	"testing"
)

func TestElementCount(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	p, err := c.PlanBlock(block1, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c1 := mustApply(t, c, p.Changes...)
	c2 := mustApply(t, c1,
		AddGroupMember{Group: "FIREBREAK-BLOCK", Member: PrefixMember(pfx("45.155.205.0/24"))},
		CreateGroup{Name: "NESTED", Description: Remark{ProposalID: "p9", Kind: KindManaged}},
		AddGroupMember{Group: "NESTED", Member: Member{Kind: MemberGroup, Name: "PARTNER-LAB"}},
		AddGroupMember{Group: "NESTED", Member: HostMember(addr("192.0.2.99"))},
		InsertACE{ACL: "DMZ_IN", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: GroupAddr("NESTED"), Dst: GroupAddr("FIREBREAK-BLOCK")}},
	)
	tests := []struct {
		c    *Config
		acl  string
		want int
	}{
		// remark 0; 1+1; PARTNER-LAB(2)×1; WEB-PORTS service group (2); 1; 1; 1
		{c, "OUTSIDE_IN", 9},
		{c1, "OUTSIDE_IN", 10},
		{c2, "OUTSIDE_IN", 11},
		{c, "INSIDE_IN", 7},
		{c, "DMZ_IN", 4},
		// NESTED = PARTNER-LAB(2) + 1 = 3, times FIREBREAK-BLOCK(2)
		{c2, "DMZ_IN", 10},
	}
	for _, tt := range tests {
		if got, ok := tt.c.ElementCount(tt.acl); !ok || got != tt.want {
			t.Errorf("ElementCount(%s) = %d, %t; want %d", tt.acl, got, ok, tt.want)
		}
	}
	if _, ok := c.ElementCount("NOPE"); ok {
		t.Error("ElementCount(NOPE) ok")
	}
	// The header of the device's own output agrees for the blocked ACL.
	show, err := ParseShowAccessList(readFixture(t, "show-access-list.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c2.ElementCount("OUTSIDE_IN"); show[0].Elements != n {
		t.Errorf("show access-list elements %d, model %d", show[0].Elements, n)
	}
}

func TestFingerprint(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	p, err := c.PlanBlock(block1, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	scope := ScopeOf(p.Changes)
	if len(scope.ACLs) != 1 || scope.ACLs[0] != "OUTSIDE_IN" || len(scope.Groups) != 1 || scope.Groups[0] != "FIREBREAK-BLOCK" || scope.Routes {
		t.Fatalf("ScopeOf = %+v", scope)
	}
	base := c.Fingerprint(scope)
	if len(base) != 64 {
		t.Fatalf("Fingerprint = %q", base)
	}
	reparsed, _ := Parse([]byte(strings.ReplaceAll(c.Render(), "\n", "\r\n")))
	unchanged := []struct {
		name string
		c    *Config
	}{
		{"same config", mustParse(t, "clinic.cfg")},
		{"line endings", reparsed},
		{"unrelated acl", mustApply(t, c, InsertACE{ACL: "DMZ_IN", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: HostAddr(addr("172.16.20.99")), Dst: AnyAddr()}})},
		{"unrelated group", mustApply(t, c, AddGroupMember{Group: "MGMT-HOSTS", Member: HostMember(addr("10.99.0.12"))})},
		{"route", mustApply(t, c, AddRoute{Route: Route{Interface: "inside", Dest: pfx("10.60.0.0/24"), Gateway: addr("10.20.0.253")}})},
		{"shun", mustApply(t, c, Shun{Addr: addr("185.220.101.4")})},
	}
	for _, tt := range unchanged {
		if got := tt.c.Fingerprint(scope); got != base {
			t.Errorf("%s: fingerprint changed", tt.name)
		}
	}
	changed := []struct {
		name string
		c    *Config
	}{
		{"ace in the acl", mustApply(t, c, DeleteACE{ACL: "OUTSIDE_IN", ACE: ACE{Action: Permit, Protocol: ProtoTCP, Src: AnyAddr(), Dst: Address{Kind: AddrObject, Name: "obj-mail-dmz"}, DstPort: PortMatch{Op: PortEq, Lo: 25}}})},
		{"remark in the acl", mustApply(t, c, AddRemark{ACL: "OUTSIDE_IN", Line: 10, Remark: Remark{ProposalID: "x", Kind: KindBlock}})},
		{"group referenced by the acl", mustApply(t, c, AddGroupMember{Group: "PARTNER-LAB", Member: HostMember(addr("192.0.2.78"))})},
		{"the managed group appears", mustApply(t, c, CreateGroup{Name: "FIREBREAK-BLOCK", Description: Remark{ProposalID: "other", Kind: KindManaged}})},
		{"binding", mustParseText(t, strings.Replace(c.Render(), "access-group DMZ_IN in interface dmz\n", "", 1))},
	}
	for _, tt := range changed {
		if got := tt.c.Fingerprint(scope); got == base {
			t.Errorf("%s: fingerprint unchanged", tt.name)
		}
	}
	rs := Scope{Routes: true}
	if c.Fingerprint(rs) == unchanged[4].c.Fingerprint(rs) {
		t.Error("route scope: fingerprint unchanged by a route")
	}
}

func mustParseText(t *testing.T, s string) *Config {
	t.Helper()
	c, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDiffEqual(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	d, err := Diff(c, mustApply(t, c))
	if err != nil || d != "" {
		t.Errorf("Diff(c, c) = %q, %v", d, err)
	}
}

func TestParseShowAccessList(t *testing.T) {
	got, err := ParseShowAccessList(readFixture(t, "show-access-list.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "OUTSIDE_IN" || got[0].Elements != 11 || got[0].Hash != "0xd54a0c42" || len(got[0].Lines) != 12 {
		t.Fatalf("ParseShowAccessList = %+v", got)
	}
	out := got[0]
	if l := out.Lines[0]; !l.IsRemark || l.Remark != "management from the monitoring provider" || l.Line != 1 {
		t.Errorf("line 1 = %+v", l)
	}
	blk, ok := out.Find(blockACE("FIREBREAK-BLOCK"))
	if !ok || blk.Line != 7 || blk.Hits != 412 || blk.Hash != "0xa4a180e0" || len(blk.Children) != 2 {
		t.Fatalf("Find(block ACE) = %+v, %t", blk, ok)
	}
	if blk.Text != "access-list OUTSIDE_IN extended deny ip object-group FIREBREAK-BLOCK any" {
		t.Errorf("Text = %q", blk.Text)
	}
	hitTests := []struct {
		target string
		hits   uint64
		ok     bool
	}{
		{"185.220.101.4/32", 400, true},
		{"45.155.205.0/24", 12, true},
		{"45.155.0.0/16", 12, true},
		{"45.155.205.9/32", 0, false}, // a member prefix is not inside one host
		{"8.8.8.8/32", 0, false},
	}
	for _, tt := range hitTests {
		if h, ok := blk.HitsFrom(pfx(tt.target)); h != tt.hits || ok != tt.ok {
			t.Errorf("HitsFrom(%s) = %d, %t; want %d, %t", tt.target, h, ok, tt.hits, tt.ok)
		}
	}
	if l := out.Lines[10]; l.Typed || l.Hits != 77 {
		t.Errorf("icmp line = %+v", l)
	}
	if l := out.Lines[11]; !l.Typed || l.ACE.Log.Interval != 300 || l.Hits != 991203 {
		t.Errorf("last line = %+v", l)
	}
	in := got[1]
	q, ok := in.Find(quarantineACE(addr("10.20.0.77")))
	if !ok || q.Line != 2 || q.Hits != 9 {
		t.Errorf("quarantine line = %+v, %t", q, ok)
	}
	if l := in.Lines[2]; !l.Inactive || l.ACE.TimeRange != "WORKHOURS" {
		t.Errorf("time-range line = %+v", l)
	}

	bad := []string{
		"  access-list X line 1 extended deny ip host 1.1.1.1 any (hitcnt=0) 0x1\n",
		"access-list X line 1 extended deny ip any any (hitcnt=0) 0x1\n  access-list X line 2 extended deny ip host 1.1.1.1 any (hitcnt=0) 0x2\n",
		"access-list X line 1 extended deny ip any any (hitcnt=99999999999999999999999) 0x1\n",
	}
	for _, b := range bad {
		if _, err := ParseShowAccessList([]byte(b)); !errors.Is(err, ErrShowACL) {
			t.Errorf("ParseShowAccessList(%q) = %v, want ErrShowACL", b, err)
		}
	}
}

// The sections a device driver reads fingerprint like the whole config.
func TestFingerprintOfSections(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	var b strings.Builder
	keep := false
	for _, l := range strings.SplitAfter(c.Render(), "\n") {
		if !strings.HasPrefix(l, " ") {
			keep = false
			for _, p := range []string{"access-list ", "object-group ", "access-group ", "route "} {
				keep = keep || strings.HasPrefix(l, p)
			}
		}
		if keep {
			b.WriteString(l)
		}
	}
	sections := mustParseText(t, b.String())
	scope := Scope{ACLs: c.ACLNames(), Routes: true}
	for _, g := range c.NetworkGroups() {
		scope.Groups = append(scope.Groups, g.Name)
	}
	if c.Fingerprint(scope) != sections.Fingerprint(scope) {
		t.Errorf("sections fingerprint differently from the whole config; sections:\n%s", b.String())
	}
}

func TestApplyToEmpty(t *testing.T) {
	c := mustParseText(t, "")
	got := mustApply(t, c, CreateGroup{Name: "G", Description: Remark{ProposalID: "p1", Kind: KindManaged}}).Render()
	if want := "object-group network G\n description firebreak p1 managed\n"; got != want {
		t.Errorf("Render() = %q, want %q", got, want)
	}
}
