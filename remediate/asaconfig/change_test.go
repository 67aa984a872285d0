package asaconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateLine(t *testing.T) {
	tests := []struct {
		name string
		line string
		ok   bool
	}{
		{"plain", "access-list A line 1 remark firebreak p1 block", true},
		{"max length", strings.Repeat("a", MaxLineLen), true},
		{"too long", strings.Repeat("a", MaxLineLen+1), false},
		{"empty", "", false},
		{"newline", "shun 1.2.3.4\nwrite erase", false},
		{"carriage return", "shun 1.2.3.4\rwrite erase", false},
		{"nul", "shun 1.2.3.4\x00", false},
		{"tab", "shun\t1.2.3.4", false},
		{"escape", "shun \x1b[2J", false},
		{"del", "shun \x7f", false},
		{"unicode line separator", "shun 1.2.3.4\u2028write erase", false},
		{"latin1", "remark caf\xe9", false},
		{"help", "access-list A remark why?", false},
	}
	for _, tt := range tests {
		err := ValidateLine(tt.line)
		if (err == nil) != tt.ok {
			t.Errorf("%s: ValidateLine = %v, want ok=%t", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnsafeLine) {
			t.Errorf("%s: error %v does not wrap ErrUnsafeLine", tt.name, err)
		}
	}
}

func TestChangeLines(t *testing.T) {
	ace := ACE{Action: Deny, Protocol: ProtoIP, Src: GroupAddr("FIREBREAK-BLOCK"), Dst: AnyAddr()}
	web := ACE{Action: Permit, Protocol: ProtoTCP, Src: PrefixAddr(pfx("192.0.2.0/24")), Dst: HostAddr(addr("172.16.20.10")), DstPort: PortMatch{Op: PortRange, Lo: 443, Hi: 8443}, Log: LogOpts{Set: true, Level: "warnings", Interval: 60}}
	rem := Remark{ProposalID: "p-20261127-1", Kind: KindBlock}
	route := Route{Interface: "inside", Dest: pfx("10.60.0.0/24"), Gateway: addr("10.20.0.253")}
	tests := []struct {
		ch   Change
		mode Mode
		want []string
	}{
		{CreateGroup{Name: "FIREBREAK-BLOCK", Description: Remark{ProposalID: "p1", Kind: KindManaged}}, ModeConfig,
			[]string{"object-group network FIREBREAK-BLOCK", "description firebreak p1 managed", "exit"}},
		{DeleteGroup{Name: "FIREBREAK-BLOCK", Description: Remark{ProposalID: "p1", Kind: KindManaged}}, ModeConfig,
			[]string{"no object-group network FIREBREAK-BLOCK"}},
		{AddGroupMember{Group: "G", Member: HostMember(addr("185.220.101.4"))}, ModeConfig,
			[]string{"object-group network G", "network-object host 185.220.101.4", "exit"}},
		{AddGroupMember{Group: "G", Member: PrefixMember(pfx("185.220.101.0/24"))}, ModeConfig,
			[]string{"object-group network G", "network-object 185.220.101.0 255.255.255.0", "exit"}},
		{RemoveGroupMember{Group: "G", Member: PrefixMember(pfx("2001:db8::/48"))}, ModeConfig,
			[]string{"object-group network G", "no network-object 2001:db8::/48", "exit"}},
		{AddGroupMember{Group: "G", Member: Member{Kind: MemberGroup, Name: "H"}}, ModeConfig,
			[]string{"object-group network G", "group-object H", "exit"}},
		{InsertACE{ACL: "OUTSIDE_IN", Line: 6, ACE: ace}, ModeConfig,
			[]string{"access-list OUTSIDE_IN line 6 extended deny ip object-group FIREBREAK-BLOCK any"}},
		{DeleteACE{ACL: "OUTSIDE_IN", Line: 6, ACE: ace}, ModeConfig,
			[]string{"no access-list OUTSIDE_IN extended deny ip object-group FIREBREAK-BLOCK any"}},
		{InsertACE{ACL: "X", Line: 1, ACE: web}, ModeConfig,
			[]string{"access-list X line 1 extended permit tcp 192.0.2.0 255.255.255.0 host 172.16.20.10 range https 8443 log warnings interval 60"}},
		{AddRemark{ACL: "OUTSIDE_IN", Line: 6, Remark: rem}, ModeConfig,
			[]string{"access-list OUTSIDE_IN line 6 remark firebreak p-20261127-1 block"}},
		{DeleteRemark{ACL: "OUTSIDE_IN", Line: 6, Remark: rem}, ModeConfig,
			[]string{"no access-list OUTSIDE_IN remark firebreak p-20261127-1 block"}},
		{AddRoute{Route: route}, ModeConfig, []string{"route inside 10.60.0.0 255.255.255.0 10.20.0.253 1"}},
		{DeleteRoute{Route: Route{Interface: "inside", Dest: pfx("10.60.0.0/24"), Gateway: addr("10.20.0.253"), Distance: 5, Track: 3}}, ModeConfig,
			[]string{"no route inside 10.60.0.0 255.255.255.0 10.20.0.253 5 track 3"}},
		{Shun{Addr: addr("185.220.101.4")}, ModeExec, []string{"shun 185.220.101.4"}},
		{Unshun{Addr: addr("185.220.101.4")}, ModeExec, []string{"no shun 185.220.101.4"}},
	}
	for _, tt := range tests {
		got, err := tt.ch.Lines()
		if err != nil {
			t.Errorf("%s: Lines() error %v", tt.ch, err)
			continue
		}
		if !cmp.Equal(got, tt.want) {
			t.Errorf("%s: Lines() = %q, want %q", tt.ch, got, tt.want)
		}
		if tt.ch.Mode() != tt.mode {
			t.Errorf("%s: Mode() = %d, want %d", tt.ch, tt.ch.Mode(), tt.mode)
		}
		if inv := tt.ch.Inverse().Inverse(); inv != tt.ch {
			t.Errorf("%s: Inverse().Inverse() = %#v", tt.ch, inv)
		}
	}
}

// Hostile values, as they could arrive from a syslog field, never render.
func TestHostileInputsRefused(t *testing.T) {
	hostile := []string{
		"G\nroute outside 0.0.0.0 0.0.0.0 6.6.6.6",
		"G\rwrite erase",
		"G;write erase",
		"G write erase",
		"G\x00",
		"",
		strings.Repeat("A", 65),
		"G|include",
		"ÄG",
	}
	valid := Remark{ProposalID: "p1", Kind: KindBlock}
	ace := ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr()}
	for _, h := range hostile {
		chs := []Change{
			CreateGroup{Name: h, Description: Remark{ProposalID: "p1", Kind: KindManaged}},
			DeleteGroup{Name: h, Description: Remark{ProposalID: "p1", Kind: KindManaged}},
			AddGroupMember{Group: h, Member: HostMember(addr("192.0.2.1"))},
			AddGroupMember{Group: "G", Member: Member{Kind: MemberObject, Name: h}},
			InsertACE{ACL: h, Line: 1, ACE: ace},
			InsertACE{ACL: "A", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: GroupAddr(h), Dst: AnyAddr()}},
			InsertACE{ACL: "A", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr(), TimeRange: h}},
			DeleteACE{ACL: h, ACE: ace},
			AddRemark{ACL: h, Line: 1, Remark: valid},
			AddRemark{ACL: "A", Line: 1, Remark: Remark{ProposalID: h, Kind: KindBlock}},
			DeleteRemark{ACL: "A", Remark: Remark{ProposalID: h, Kind: KindBlock}},
			AddRoute{Route: Route{Interface: h, Dest: pfx("10.0.0.0/24"), Gateway: addr("10.1.1.1")}},
			CreateGroup{Name: "G", Description: Remark{ProposalID: h, Kind: KindManaged}},
		}
		for i, ch := range chs {
			if h == "" && i == 6 {
				continue // no time-range is valid
			}
			if ls, err := ch.Lines(); err == nil {
				t.Errorf("%T with %q rendered %q, want error", ch, h, ls)
			}
		}
		if _, err := NewRemark(h, KindBlock); err == nil {
			t.Errorf("NewRemark(%q) succeeded", h)
		}
	}
	bad := []Change{
		InsertACE{ACL: "A", Line: 0, ACE: ace},
		InsertACE{ACL: "A", Line: -3, ACE: ace},
		InsertACE{ACL: "A", Line: 1, ACE: ACE{Action: 9, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr()}},
		InsertACE{ACL: "A", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr(), DstPort: PortMatch{Op: PortEq, Lo: 80}}},
		InsertACE{ACL: "A", Line: 1, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr(), Log: LogOpts{Set: true, Level: "loud\nwrite"}}},
		AddRemark{ACL: "A", Line: 1, Remark: Remark{ProposalID: "P-UPPER", Kind: KindBlock}},
		AddRemark{ACL: "A", Line: 1, Remark: Remark{ProposalID: "p1"}},
		AddRemark{ACL: "A", Line: 1, Remark: Remark{ProposalID: strings.Repeat("a", 41), Kind: KindBlock}},
		AddGroupMember{Group: "G", Member: Member{Kind: MemberHost}},
		AddRoute{Route: Route{Interface: "inside", Dest: pfx("2001:db8::/64"), Gateway: addr("2001:db8::1")}},
		Shun{Addr: addr("2001:db8::1")},
		Shun{},
	}
	for _, ch := range bad {
		if ls, err := ch.Lines(); err == nil {
			t.Errorf("%#v rendered %q, want error", ch, ls)
		}
	}
	// Apply validates too: nothing invalid reaches the model.
	c := mustParse(t, "clinic.cfg")
	if _, err := c.Apply([]Change{CreateGroup{Name: "G\nX", Description: valid}}); !errors.Is(err, ErrBadName) {
		t.Errorf("Apply(hostile) = %v, want ErrBadName", err)
	}
}

func TestRemarkTemplate(t *testing.T) {
	for k := KindBlock; k <= KindManaged; k++ {
		r := Remark{ProposalID: "abc-123", Kind: k}
		s, err := r.Text()
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := ParseRemark(s); !ok || got != r {
			t.Errorf("ParseRemark(%q) = %+v, %t", s, got, ok)
		}
	}
	for _, s := range []string{"firebreak abc block extra", "firebreak ABC block", "firebreak abc unknown", "management"} {
		if _, ok := ParseRemark(s); ok {
			t.Errorf("ParseRemark(%q) accepted", s)
		}
	}
}

func TestSteps(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	b := block1
	b.Shun = true
	p, err := c.PlanBlock(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Steps(p.Changes)
	if err != nil {
		t.Fatal(err)
	}
	const g = "object-group network FIREBREAK-BLOCK"
	want := []CLIStep{
		{Do: g, Undo: "no " + g},
		{Mode: g, Do: "description firebreak p-0001 managed", Undo: "no description firebreak p-0001 managed"},
		{Mode: g, Do: "network-object host 185.220.101.4", Undo: "no network-object host 185.220.101.4"},
		{Do: "access-list OUTSIDE_IN line 6 extended deny ip object-group FIREBREAK-BLOCK any", Undo: "no access-list OUTSIDE_IN extended deny ip object-group FIREBREAK-BLOCK any"},
		{Do: "access-list OUTSIDE_IN line 6 remark firebreak p-0001 block", Undo: "no access-list OUTSIDE_IN remark firebreak p-0001 block"},
		{Exec: true, Do: "shun 185.220.101.4", Undo: "no shun 185.220.101.4"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Steps (-want +got):\n%s", d)
	}
	c1 := mustApply(t, c, p.Changes...)
	u, err := c1.PlanUnblock(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err = Steps(u.Changes)
	if err != nil {
		t.Fatal(err)
	}
	want = []CLIStep{
		{Exec: true, Do: "no shun 185.220.101.4", Undo: "shun 185.220.101.4"},
		{Do: "no access-list OUTSIDE_IN extended deny ip object-group FIREBREAK-BLOCK any", Undo: "access-list OUTSIDE_IN line 7 extended deny ip object-group FIREBREAK-BLOCK any"},
		{Do: "no access-list OUTSIDE_IN remark firebreak p-0001 block", Undo: "access-list OUTSIDE_IN line 6 remark firebreak p-0001 block"},
		{Mode: g, Do: "no network-object host 185.220.101.4", Undo: "network-object host 185.220.101.4"},
		{Mode: g, Do: "no description firebreak p-0001 managed", Undo: "description firebreak p-0001 managed"},
		{Do: "no " + g, Undo: g},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Steps of unblock (-want +got):\n%s", d)
	}
	if _, err := Steps([]Change{DeleteACE{ACL: "A", ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr()}}}); !errors.Is(err, ErrBadLine) {
		t.Errorf("Steps(DeleteACE without line) = %v, want ErrBadLine", err)
	}
}
