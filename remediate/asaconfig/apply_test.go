package asaconfig

import (
	"errors"
	"testing"
)

func TestApplyErrors(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	managed := Remark{ProposalID: "p1", Kind: KindManaged}
	deny := func(g string) ACE { return ACE{Action: Deny, Protocol: ProtoIP, Src: GroupAddr(g), Dst: AnyAddr()} }
	outsideDeny := ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr(), Log: LogOpts{Set: true, Level: "informational", Interval: 300}}
	tests := []struct {
		name string
		chs  []Change
		want error
	}{
		{"group name taken by object", []Change{CreateGroup{Name: "obj-pacs", Description: managed}}, ErrExists},
		{"group name taken by service group", []Change{CreateGroup{Name: "WEB-PORTS", Description: managed}}, ErrExists},
		{"create twice", []Change{CreateGroup{Name: "B", Description: managed}, CreateGroup{Name: "B", Description: managed}}, ErrExists},
		{"member of missing group", []Change{AddGroupMember{Group: "NOPE", Member: HostMember(addr("192.0.2.1"))}}, ErrNotFound},
		{"duplicate member", []Change{AddGroupMember{Group: "MGMT-HOSTS", Member: HostMember(addr("10.99.0.10"))}}, ErrDuplicate},
		{"duplicate prefix member", []Change{AddGroupMember{Group: "PARTNER-LAB", Member: PrefixMember(pfx("203.0.113.0/28"))}}, ErrDuplicate},
		{"remove absent member", []Change{RemoveGroupMember{Group: "MGMT-HOSTS", Member: HostMember(addr("10.99.0.99"))}}, ErrNotFound},
		{"empty a referenced group", []Change{
			RemoveGroupMember{Group: "PARTNER-LAB", Member: HostMember(addr("192.0.2.77"))},
			RemoveGroupMember{Group: "PARTNER-LAB", Member: PrefixMember(pfx("203.0.113.0/28"))}}, ErrInUse},
		{"delete referenced group", []Change{DeleteGroup{Name: "PARTNER-LAB", Description: managed}}, ErrInUse},
		{"delete non-empty group", []Change{DeleteGroup{Name: "MGMT-HOSTS", Description: managed}}, ErrNotEmpty},
		{"delete group with other description", []Change{
			RemoveGroupMember{Group: "MGMT-HOSTS", Member: HostMember(addr("10.99.0.10"))},
			RemoveGroupMember{Group: "MGMT-HOSTS", Member: HostMember(addr("10.99.0.11"))},
			DeleteGroup{Name: "MGMT-HOSTS", Description: managed}}, ErrDrift},
		{"delete missing group", []Change{DeleteGroup{Name: "NOPE", Description: managed}}, ErrNotFound},
		{"ace with missing group", []Change{InsertACE{ACL: "OUTSIDE_IN", Line: 1, ACE: deny("NOPE")}}, ErrNotFound},
		{"ace with empty group", []Change{CreateGroup{Name: "B", Description: managed}, InsertACE{ACL: "OUTSIDE_IN", Line: 1, ACE: deny("B")}}, ErrEmptyGroup},
		{"ace with missing object", []Change{InsertACE{ACL: "OUTSIDE_IN", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: Address{Kind: AddrObject, Name: "nope"}, Dst: AnyAddr()}}}, ErrNotFound},
		{"duplicate ace (log aside)", []Change{InsertACE{ACL: "OUTSIDE_IN", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr()}}}, ErrDuplicate},
		{"line past end", []Change{InsertACE{ACL: "DMZ_IN", Line: 5, ACE: deny("PARTNER-LAB")}}, ErrBadLine},
		{"new acl not at line 1", []Change{InsertACE{ACL: "NEW_ACL", Line: 2, ACE: deny("PARTNER-LAB")}}, ErrACLMissing},
		{"delete ace from missing acl", []Change{DeleteACE{ACL: "NOPE", ACE: outsideDeny}}, ErrACLMissing},
		{"delete absent ace", []Change{DeleteACE{ACL: "OUTSIDE_IN", ACE: deny("PARTNER-LAB")}}, ErrNotFound},
		{"delete ace at stale line", []Change{DeleteACE{ACL: "OUTSIDE_IN", Line: 9, ACE: outsideDeny}}, ErrDrift},
		{"duplicate remark", []Change{
			AddRemark{ACL: "DMZ_IN", Line: 1, Remark: Remark{ProposalID: "p1", Kind: KindBlock}},
			AddRemark{ACL: "DMZ_IN", Line: 3, Remark: Remark{ProposalID: "p1", Kind: KindBlock}}}, ErrDuplicate},
		{"delete absent remark", []Change{DeleteRemark{ACL: "DMZ_IN", Remark: Remark{ProposalID: "p1", Kind: KindBlock}}}, ErrNotFound},
		{"duplicate route", []Change{AddRoute{Route: Route{Interface: "inside", Dest: pfx("10.30.0.0/24"), Gateway: addr("10.20.0.254")}}}, ErrDuplicate},
		{"route on missing interface", []Change{AddRoute{Route: Route{Interface: "wan2", Dest: pfx("10.31.0.0/24"), Gateway: addr("10.20.0.254")}}}, ErrNotFound},
		{"delete absent route", []Change{DeleteRoute{Route: Route{Interface: "inside", Dest: pfx("10.31.0.0/24"), Gateway: addr("10.20.0.254")}}}, ErrNotFound},
		{"delete route with other distance", []Change{DeleteRoute{Route: Route{Interface: "inside", Dest: pfx("10.30.0.0/24"), Gateway: addr("10.20.0.254"), Distance: 5}}}, ErrDrift},
	}
	before := c.Render()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Apply(tt.chs)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Apply() = %v, want %v", err, tt.want)
			}
			var ae *ApplyError
			if !errors.As(err, &ae) || ae.Index != len(tt.chs)-1 {
				t.Errorf("error %v is not an *ApplyError at index %d", err, len(tt.chs)-1)
			}
		})
	}
	if c.Render() != before {
		t.Error("Apply modified the receiver")
	}
}

func TestApplyInverseRestoresText(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	chs := []Change{
		CreateGroup{Name: "FIREBREAK-BLOCK", Description: Remark{ProposalID: "p1", Kind: KindManaged}},
		AddGroupMember{Group: "FIREBREAK-BLOCK", Member: HostMember(addr("185.220.101.4"))},
		AddGroupMember{Group: "MGMT-HOSTS", Member: HostMember(addr("10.99.0.12"))},
		RemoveGroupMember{Group: "MGMT-HOSTS", Member: HostMember(addr("10.99.0.11"))},
		InsertACE{ACL: "DMZ_IN", Line: 3, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: GroupAddr("FIREBREAK-BLOCK"), Dst: AnyAddr()}},
		AddRemark{ACL: "DMZ_IN", Line: 3, Remark: Remark{ProposalID: "p1", Kind: KindBlock}},
		DeleteACE{ACL: "INSIDE_IN", Line: 5, ACE: ACE{Action: Permit, Protocol: ProtoUDP, Src: HostAddr(addr("10.20.0.10")), Dst: AnyAddr(), DstPort: PortMatch{Op: PortEq, Lo: 123}}},
		InsertACE{ACL: "NEW_ACL", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr()}},
		AddRoute{Route: Route{Interface: "inside", Dest: pfx("10.60.0.0/24"), Gateway: addr("10.20.0.253")}},
		Shun{Addr: addr("185.220.101.4")},
	}
	after := mustApply(t, c, chs...)
	if after.Render() == c.Render() {
		t.Fatal("changes had no effect")
	}
	back := mustApply(t, after, Inverses(chs)...)
	if back.Render() != c.Render() {
		d, _ := Diff(c, back)
		t.Errorf("inverse did not restore the config:\n%s", d)
	}
	// A member is added at the end, as the ASA shows it; removing a member
	// that is not last and adding it back restores the set, not the order.
	g, _ := after.Group("MGMT-HOSTS")
	if len(g.Members) != 2 || g.Members[1] != HostMember(addr("10.99.0.12")) {
		t.Errorf("MGMT-HOSTS = %+v", g)
	}
	rm := RemoveGroupMember{Group: "MGMT-HOSTS", Member: HostMember(addr("10.99.0.10"))}
	moved := mustApply(t, c, rm, rm.Inverse())
	g, _ = moved.Group("MGMT-HOSTS")
	if len(g.Members) != 2 || g.Members[0] != HostMember(addr("10.99.0.11")) {
		t.Errorf("MGMT-HOSTS after remove and re-add = %+v", g)
	}
	scope := Scope{Groups: []string{"MGMT-HOSTS"}}
	if c.Fingerprint(scope) != moved.Fingerprint(scope) {
		t.Error("fingerprint depends on member order")
	}
}

func TestApplyCRLF(t *testing.T) {
	c, err := Parse([]byte("hostname x\r\ninterface E0\r\n nameif inside\r\n ip address 10.0.0.1 255.255.255.0\r\naccess-list A extended deny ip any any\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	nc := mustApply(t, c,
		CreateGroup{Name: "G", Description: Remark{ProposalID: "p1", Kind: KindManaged}},
		AddGroupMember{Group: "G", Member: HostMember(addr("192.0.2.1"))},
		InsertACE{ACL: "A", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: GroupAddr("G"), Dst: AnyAddr()}})
	want := "hostname x\r\ninterface E0\r\n nameif inside\r\n ip address 10.0.0.1 255.255.255.0\r\n" +
		"object-group network G\r\n description firebreak p1 managed\r\n network-object host 192.0.2.1\r\n" +
		"access-list A extended deny ip object-group G any\r\naccess-list A extended deny ip any any\r\n"
	if got := nc.Render(); got != want {
		t.Errorf("Render() = %q, want %q", got, want)
	}
}
