package asaconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// report renders a plan for a golden file: changes with their CLI lines,
// notes, advisory, element counts and the config diff.
func report(t *testing.T, c *Config, p Plan, acls ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# changes\n")
	for _, ch := range p.Changes {
		ls, err := ch.Lines()
		if err != nil {
			t.Fatalf("%s: %v", ch, err)
		}
		fmt.Fprintf(&b, "%s\n", ch)
		for _, l := range ls {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	b.WriteString("# rollback\n")
	inv, err := RenderAll(Inverses(p.Changes))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range inv {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	b.WriteString("# notes\n")
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "%s\n", n)
	}
	if p.Advisory != "" {
		b.WriteString("# advisory\n" + p.Advisory)
	}
	after := mustApply(t, c, p.Changes...)
	for _, a := range acls {
		n0, _ := c.ElementCount(a)
		n1, _ := after.ElementCount(a)
		fmt.Fprintf(&b, "# elements %s: %d -> %d\n", a, n0, n1)
	}
	d, err := Diff(c, after)
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("# diff\n" + d)
	return b.String()
}

// checkPlanSafe applies every prefix of the plan and checks the invariants,
// then checks that the rollback of every prefix restores the exact text.
func checkPlanSafe(t *testing.T, c *Config, p Plan, l Limits) {
	t.Helper()
	for k := 0; k <= len(p.Changes); k++ {
		mid, err := c.Apply(p.Changes[:k])
		if err != nil {
			t.Fatalf("prefix %d: %v", k, err)
		}
		checkValid(t, c, mid, l)
		back, err := mid.Apply(Inverses(p.Changes[:k]))
		if err != nil {
			t.Fatalf("rollback of prefix %d: %v", k, err)
		}
		// A member removed and added back moves to the end of its group, on
		// the ASA as here; everything else must be restored exactly.
		if got, want := memberOrderFree(back), memberOrderFree(c); got != want {
			d, _ := Diff(c, back)
			t.Errorf("rollback of prefix %d does not restore the config:\n%s", k, d)
		}
	}
}

func memberOrderFree(c *Config) string {
	var b strings.Builder
	for _, n := range c.nodes {
		ls := n.lines
		if _, ok := n.v.(*groupNode); ok {
			ls = slices.Clone(ls)
			slices.Sort(ls[1:])
		}
		for _, l := range ls {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

var block1 = Block{ProposalID: "p-0001", Target: netip.MustParsePrefix("185.220.101.4/32"), Group: "FIREBREAK-BLOCK", Interface: "outside"}

func TestPlanBlock(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	p, err := c.PlanBlock(block1, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "block-new-group.golden", report(t, c, p, "OUTSIDE_IN"))
	checkPlanSafe(t, c, p, Limits{})
	// Management (lines 1-3) and the VPN partner (line 5) stay first.
	if got := c.BlockInsertLine("OUTSIDE_IN", Limits{}); got != 6 {
		t.Errorf("BlockInsertLine = %d, want 6", got)
	}

	c1 := mustApply(t, c, p.Changes...)
	b2 := block1
	b2.ProposalID, b2.Target = "p-0002", pfx("45.155.205.0/24")
	p2, err := c1.PlanBlock(b2, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "block-second.golden", report(t, c1, p2, "OUTSIDE_IN"))
	checkPlanSafe(t, c1, p2, Limits{})
	c2 := mustApply(t, c1, p2.Changes...)

	// Idempotent: the same address, or one inside a blocked prefix.
	for _, target := range []string{"185.220.101.4/32", "45.155.205.17/32"} {
		b := block1
		b.Target = pfx(target)
		p, err := c2.PlanBlock(b, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Changes) != 0 || !strings.Contains(strings.Join(p.Notes, "\n"), "already blocked") {
			t.Errorf("PlanBlock(%s) again = %+v, want no change and a note", target, p)
		}
	}

	// Unblock: not the last member → one change; the last → everything goes.
	u1, err := c2.PlanUnblock(block1)
	if err != nil {
		t.Fatal(err)
	}
	if len(u1.Changes) != 1 || u1.Changes[0] != (RemoveGroupMember{Group: "FIREBREAK-BLOCK", Member: HostMember(addr("185.220.101.4"))}) {
		t.Errorf("PlanUnblock (not last) = %+v", u1.Changes)
	}
	checkPlanSafe(t, c2, u1, Limits{})
	c3 := mustApply(t, c2, u1.Changes...)
	u2, err := c3.PlanUnblock(b2)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "unblock-last.golden", report(t, c3, u2, "OUTSIDE_IN"))
	checkPlanSafe(t, c3, u2, Limits{})
	c4 := mustApply(t, c3, u2.Changes...)
	if c4.Render() != c.Render() {
		d, _ := Diff(c, c4)
		t.Errorf("block, block, unblock, unblock did not restore the config:\n%s", d)
	}
	if u, err := c4.PlanUnblock(b2); err != nil || len(u.Changes) != 0 {
		t.Errorf("PlanUnblock when not blocked = %+v, %v", u, err)
	}
}

func TestPlanBlockWarnsAboutEarlierPermits(t *testing.T) {
	text := "interface E0\n nameif outside\n ip address 198.51.100.2 255.255.255.0\n" +
		"access-list OUT extended permit tcp any host 198.51.100.10 eq https\n" +
		"access-list OUT remark mgmt access\n" +
		"access-list OUT extended permit tcp host 192.0.2.9 host 198.51.100.2 eq ssh\n" +
		"access-group OUT in interface outside\n"
	c, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.PlanBlock(Block{ProposalID: "p1", Target: pfx("203.0.113.9/32"), Group: "FIREBREAK-BLOCK", Interface: "outside"}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if ins := p.Changes[2].(InsertACE); ins.Line != 4 {
		t.Errorf("insert line = %d, want 4 (after the mgmt remark's entries)", ins.Line)
	}
	if notes := strings.Join(p.Notes, "\n"); !strings.Contains(notes, "line 1 comes before the block") {
		t.Errorf("no warning about line 1: %q", notes)
	}
}

func TestPlanBlockRefused(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	lim := Limits{Protected: []Protected{{Prefix: pfx("8.8.8.8/32"), Reason: "policy: upstream dns"}}}
	tests := []struct {
		name  string
		b     Block
		lim   Limits
		want  error
		byPfx string
	}{
		{"default gateway", Block{Target: pfx("198.51.100.1/32")}, lim, ErrProtected, "198.51.100.1/32"},
		{"own interface", Block{Target: pfx("198.51.100.2/32")}, lim, ErrProtected, "198.51.100.2/32"},
		{"monitoring ssh host", Block{Target: pfx("192.0.2.50/32")}, lim, ErrProtected, "192.0.2.50/32"},
		{"vpn peer", Block{Target: pfx("203.0.113.1/32")}, lim, ErrProtected, "203.0.113.1/32"},
		{"prefix covering vpn peer", Block{Target: pfx("203.0.113.0/24")}, lim, ErrProtected, "203.0.113.1/32"},
		{"outside ntp", Block{Target: pfx("192.0.2.123/32")}, lim, ErrProtected, "192.0.2.123/32"},
		{"management net", Block{Target: pfx("10.99.0.15/32")}, lim, ErrProtected, "10.99.0.0/24"},
		{"caller protected", Block{Target: pfx("8.8.8.8/32")}, lim, ErrProtected, "8.8.8.8/32"},
		{"outside subnet", Block{Target: pfx("198.51.100.0/29")}, Limits{MinPrefixLen: 16}, ErrProtected, "198.51.100.2/32"},
		{"everything", Block{Target: pfx("0.0.0.0/0")}, lim, ErrTooBroad, ""},
		{"too broad", Block{Target: pfx("185.220.0.0/16")}, lim, ErrTooBroad, ""},
		{"broader than configured", Block{Target: pfx("185.220.101.0/28")}, Limits{MinPrefixLen: 29}, ErrTooBroad, ""},
		{"loopback", Block{Target: pfx("127.0.0.1/32")}, lim, ErrBadValue, ""},
		{"invalid", Block{}, lim, ErrBadValue, ""},
		{"group used by a permit", Block{Target: pfx("185.220.101.4/32"), Group: "PARTNER-LAB"}, lim, ErrNotOwned, ""},
		{"group name is an object", Block{Target: pfx("185.220.101.4/32"), Group: "obj-pacs"}, lim, ErrNotOwned, ""},
		{"hostile group", Block{Target: pfx("185.220.101.4/32"), Group: "X\nno access-list OUTSIDE_IN"}, lim, ErrBadName, ""},
		{"hostile id", Block{Target: pfx("185.220.101.4/32"), ProposalID: "p1 block\nwrite erase"}, lim, ErrBadID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			if b.ProposalID == "" {
				b.ProposalID = "p1"
			}
			if b.Group == "" {
				b.Group = "FIREBREAK-BLOCK"
			}
			if b.Interface == "" {
				b.Interface = "outside"
			}
			p, err := c.PlanBlock(b, tt.lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("PlanBlock() = %+v, %v; want %v", p, err, tt.want)
			}
			var pe *ProtectedError
			if tt.byPfx != "" && (!errors.As(err, &pe) || pe.By.Prefix != pfx(tt.byPfx)) {
				t.Errorf("refused by %+v, want %s", pe, tt.byPfx)
			}
		})
	}
}

func TestPlanBlockGroupFull(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	p, err := c.PlanBlock(block1, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c1 := mustApply(t, c, p.Changes...)
	b := block1
	b.Target = pfx("185.220.101.5/32")
	if _, err := c1.PlanBlock(b, Limits{MaxGroupMembers: 1}); !errors.Is(err, ErrGroupFull) {
		t.Errorf("PlanBlock over the cap = %v, want ErrGroupFull", err)
	}
}

var quarantine1 = Quarantine{ProposalID: "p-0003", Host: netip.MustParseAddr("10.20.0.77"), Interface: "inside"}

func TestPlanQuarantine(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	p, err := c.PlanQuarantine(quarantine1, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "quarantine.golden", report(t, c, p, "INSIDE_IN"))
	checkPlanSafe(t, c, p, Limits{})
	c1 := mustApply(t, c, p.Changes...)
	if again, err := c1.PlanQuarantine(quarantine1, Limits{}); err != nil || len(again.Changes) != 0 {
		t.Errorf("PlanQuarantine again = %+v, %v; want no change", again, err)
	}
	r, err := c1.PlanRelease(quarantine1)
	if err != nil {
		t.Fatal(err)
	}
	checkPlanSafe(t, c1, r, Limits{})
	if got := mustApply(t, c1, r.Changes...).Render(); got != c.Render() {
		t.Error("release did not restore the config")
	}
	// A host on a routed network behind inside can be quarantined too.
	q := quarantine1
	q.Host = addr("10.40.3.3")
	if _, err := c.PlanQuarantine(q, Limits{}); err != nil {
		t.Errorf("PlanQuarantine(routed host) = %v", err)
	}

	refused := []struct {
		host string
		want error
	}{
		{"10.20.0.10", ErrProtected},  // dns and ntp server
		{"10.20.0.1", ErrProtected},   // the ASA itself
		{"10.20.0.254", ErrProtected}, // router to the other sites
		{"10.20.0.15", ErrProtected},  // radius
		{"172.16.20.50", ErrWrongInterface},
		{"8.8.8.8", ErrWrongInterface},
	}
	for _, tt := range refused {
		q := quarantine1
		q.Host = addr(tt.host)
		if _, err := c.PlanQuarantine(q, Limits{}); !errors.Is(err, tt.want) {
			t.Errorf("PlanQuarantine(%s) = %v, want %v", tt.host, err, tt.want)
		}
	}
}

func TestPlanSANFix(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	// The SAN 10.60.0.0/24 sits behind the storage router 10.20.0.253 but
	// the ASA sends it to the internet by the default route.
	add := SANFix{ProposalID: "p-0004", SAN: pfx("10.60.0.0/24"), Interface: "inside", Gateway: addr("10.20.0.253")}
	p, err := c.PlanSANFix(add, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "san-add-route.golden", report(t, c, p))
	checkPlanSafe(t, c, p, Limits{})

	// A wrong route for exactly the SAN: delete it, then add the right one.
	wrong := mustApply(t, c, AddRoute{Route: Route{Interface: "inside", Dest: pfx("10.60.0.0/24"), Gateway: addr("10.20.0.254")}})
	p2, err := wrong.PlanSANFix(add, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "san-replace-route.golden", report(t, wrong, p2))
	checkPlanSafe(t, wrong, p2, Limits{})

	// No gateway: never delete a route on its own (the SAN would follow
	// the default route); an advisory only.
	p3, err := wrong.PlanSANFix(SANFix{ProposalID: "p-0005", SAN: pfx("10.60.0.0/24"), Interface: "inside"}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p3.Changes) != 0 || p3.Advisory == "" || !strings.Contains(strings.Join(p3.Notes, "\n"), "no route change") {
		t.Errorf("gateway-less plan = %+v", p3)
	}
	// A SAN that is a connected subnet: no route is involved, no error.
	p5, err := c.PlanSANFix(SANFix{ProposalID: "p1", SAN: pfx("172.16.20.0/24"), Interface: "inside", Gateway: addr("10.20.0.253")}, Limits{})
	if err != nil || len(p5.Changes) != 0 || p5.Advisory == "" {
		t.Errorf("connected SAN plan = %+v, %v", p5, err)
	}

	// Already routed right by a covering route: nothing to do on the ASA.
	p4, err := c.PlanSANFix(SANFix{ProposalID: "p-0006", SAN: pfx("10.40.5.0/24"), Interface: "inside", Gateway: addr("10.20.0.254")}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p4.Changes) != 0 || !strings.Contains(strings.Join(p4.Notes, "\n"), "not on the ASA") || p4.Advisory == "" {
		t.Errorf("covered SAN plan = %+v", p4)
	}

	refused := []struct {
		name string
		s    SANFix
		want error
	}{
		{"default route", SANFix{SAN: pfx("0.0.0.0/0"), Interface: "inside", Gateway: addr("10.20.0.253")}, ErrTooBroad},
		{"gateway off subnet", SANFix{SAN: pfx("10.60.0.0/24"), Interface: "inside", Gateway: addr("10.21.0.253")}, ErrNotConnected},
		{"gateway is the asa", SANFix{SAN: pfx("10.60.0.0/24"), Interface: "inside", Gateway: addr("10.20.0.1")}, ErrNotConnected},
		{"no such interface", SANFix{SAN: pfx("10.60.0.0/24"), Interface: "san", Gateway: addr("10.20.0.253")}, ErrNotFound},
		{"ipv6", SANFix{SAN: pfx("2001:db8::/64"), Interface: "inside", Gateway: addr("10.20.0.253")}, ErrBadValue},
	}
	for _, tt := range refused {
		s := tt.s
		s.ProposalID = "p1"
		if _, err := c.PlanSANFix(s, Limits{}); !errors.Is(err, tt.want) {
			t.Errorf("%s: PlanSANFix = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestPlanBlockShun(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	b := block1
	b.Shun = true
	p, err := c.PlanBlock(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if last := p.Changes[len(p.Changes)-1]; last != (Shun{Addr: addr("185.220.101.4")}) {
		t.Errorf("last change = %v, want the shun", last)
	}
	c1 := mustApply(t, c, p.Changes...)
	u, err := c1.PlanUnblock(b)
	if err != nil {
		t.Fatal(err)
	}
	if u.Changes[0] != (Unshun{Addr: addr("185.220.101.4")}) {
		t.Errorf("first unblock change = %v, want the unshun", u.Changes[0])
	}
	b.Target = pfx("185.220.101.0/24")
	if _, err := c.PlanBlock(b, Limits{}); !errors.Is(err, ErrBadValue) {
		t.Errorf("shun of a prefix = %v, want ErrBadValue", err)
	}
}

// A block remark whose proposal id contains "mgmt" does not make the
// following blocks "protected".
func TestBlockRemarkIsNotManagement(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	b := block1
	b.ProposalID = "mgmt-review-7"
	p, err := c.PlanBlock(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c1 := mustApply(t, c, p.Changes...)
	if got := c1.BlockInsertLine("OUTSIDE_IN", Limits{}); got != 6 {
		t.Errorf("BlockInsertLine after a block = %d, want 6", got)
	}
}

// `ssh 0.0.0.0 0.0.0.0 outside` protects nobody in particular: blocks still
// work, and the default route stays refused.
func TestManagementFromAnywhere(t *testing.T) {
	c := mustParseText(t, "interface E0\n nameif outside\n ip address dhcp\n"+
		"access-list OUT extended deny ip any any\naccess-group OUT in interface outside\nssh 0.0.0.0 0.0.0.0 outside\n")
	if _, err := c.PlanBlock(Block{ProposalID: "p1", Target: pfx("203.0.113.9/32"), Group: "FIREBREAK-BLOCK", Interface: "outside"}, Limits{}); err != nil {
		t.Errorf("PlanBlock = %v", err)
	}
	if _, err := c.PlanBlock(Block{ProposalID: "p1", Target: pfx("0.0.0.0/0"), Group: "FIREBREAK-BLOCK", Interface: "outside"}, Limits{}); !errors.Is(err, ErrTooBroad) {
		t.Errorf("PlanBlock(0/0) = %v, want ErrTooBroad", err)
	}
}

// One managed group denied on two interfaces: the last unblock removes both
// ACEs (each with its remark) before emptying the group.
func TestUnblockGroupOnTwoACLs(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	p1, err := c.PlanBlock(block1, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c1 := mustApply(t, c, p1.Changes...)
	b := block1
	b.ProposalID, b.Interface = "p-0009", "dmz"
	p2, err := c1.PlanBlock(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Changes) != 2 {
		t.Fatalf("second interface plan = %v, want ACE and remark only", p2.Changes)
	}
	c2 := mustApply(t, c1, p2.Changes...)
	u, err := c2.PlanUnblock(block1)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ch := range u.Changes {
		kinds = append(kinds, fmt.Sprintf("%T", ch))
	}
	want := "asaconfig.DeleteACE asaconfig.DeleteRemark asaconfig.DeleteACE asaconfig.DeleteRemark asaconfig.RemoveGroupMember asaconfig.DeleteGroup"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("unblock changes = %s, want %s", got, want)
	}
	checkPlanSafe(t, c2, u, Limits{})
	if got := mustApply(t, c2, u.Changes...).Render(); got != c.Render() {
		t.Error("unblock did not restore the original config")
	}
}

// A public-service permit from any and the catch-all deny of a management
// section do not hold the block back: it would be useless behind them.
func TestBlockInsertLinePublicAndCatchAll(t *testing.T) {
	c, err := Parse([]byte(`interface Ethernet0/0
 nameif outside
 ip address 198.51.100.2 255.255.255.248
access-list A remark management
access-list A extended permit tcp host 192.0.2.50 any eq ssh
access-list A extended permit tcp any host 198.51.100.4 eq https
access-list A extended deny ip any any log
access-list B remark management
access-list B extended deny ip any any
access-group A in interface outside
`))
	if err != nil {
		t.Fatal(err)
	}
	l := Limits{Protected: []Protected{{Prefix: netip.MustParsePrefix("192.0.2.50/32")}}}
	if got := c.BlockInsertLine("A", l); got != 4 {
		t.Errorf("A: BlockInsertLine = %d, want 4 (after the management permits and the public permit's section)", got)
	}
	if got := c.BlockInsertLine("B", l); got != 2 {
		t.Errorf("B: BlockInsertLine = %d, want 2 (before the catch-all deny)", got)
	}
}
