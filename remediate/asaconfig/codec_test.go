package asaconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChangesCodec(t *testing.T) {
	c := mustParse(t, "clinic.cfg")
	b := block1
	b.Shun = true
	blk, err := c.PlanBlock(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	san, err := c.PlanSANFix(SANFix{ProposalID: "p-0004", SAN: pfx("10.60.0.0/24"), Interface: "inside", Gateway: addr("10.20.0.253")}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	chs := append(append(blk.Changes, Inverses(blk.Changes)...), san.Changes...)
	chs = append(chs, Inverses(san.Changes)...)
	chs = append(chs, InsertACE{ACL: "X", Line: 3, ACE: ACE{Action: Permit, Protocol: ProtoTCP, Src: PrefixAddr(pfx("2001:db8::/32")), SrcPort: PortMatch{Op: PortRange, Lo: 1, Hi: 9}, Dst: Address{Kind: AddrAny4}, DstPort: PortMatch{Op: PortEq, Lo: 443}, Log: LogOpts{Set: true, Level: "7"}, TimeRange: "T", Inactive: true}})
	enc, err := MarshalChanges(chs)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(enc), `"kind":"insert-ace","acl":"OUTSIDE_IN","line":6,"ace":{"action":"deny","protocol":"ip","src":{"kind":"object-group","name":"FIREBREAK-BLOCK"},"dst":{"kind":"any"}}`) {
		t.Errorf("encoding not readable: %s", enc)
	}
	dec, err := UnmarshalChanges(enc)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(chs, dec, cmp.Comparer(func(a, b Change) bool { return a == b })); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}

	bad := []string{
		`[{"kind":"create-group","name":"G\nroute outside 0.0.0.0 0.0.0.0 6.6.6.6","description":{"proposal_id":"p1","kind":"managed"}}]`,
		`[{"kind":"add-remark","acl":"A","line":1,"remark":{"proposal_id":"p1 x","kind":"block"}}]`,
		`[{"kind":"add-remark","acl":"A","line":1,"remark":{"proposal_id":"p1","kind":"hello"}}]`,
		`[{"kind":"insert-ace","acl":"A","line":1,"ace":{"action":"allow","protocol":"ip","src":{"kind":"any"},"dst":{"kind":"any"}}}]`,
		`[{"kind":"insert-ace","acl":"A","line":0,"ace":{"action":"deny","protocol":"ip","src":{"kind":"any"},"dst":{"kind":"any"}}}]`,
		`[{"kind":"insert-ace","acl":"A","line":1}]`,
		`[{"kind":"insert-ace","acl":"A","line":1,"ace":{"action":"deny","protocol":"ip","src":{"kind":"any"},"dst":{"kind":"any"}},"cli":"write erase"}]`,
		`[{"kind":"run","addr":"1.2.3.4"}]`,
		`[{"kind":"shun"}]`,
		`[{"kind":"add-member","group":"G","member":{"kind":"host","prefix":"10.0.0.0/8"}}]`,
		`[] []`,
		`{`,
	}
	for _, s := range bad {
		if got, err := UnmarshalChanges([]byte(s)); !errors.Is(err, ErrCodec) {
			t.Errorf("UnmarshalChanges(%s) = %v, %v; want ErrCodec", s, got, err)
		}
	}
}
