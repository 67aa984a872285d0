package remediate_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/firebreak-dev/firebreak/remediate"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// A manual block is judged on synthetic flows that follow the device's routes: one host per
// inside interface to the address (the SAN network routed out the outside interface and the
// VPN pool give none), and the address to the first of them; with the running config the
// effect decides at once.
func TestManualBlockFlowsFollowRoutes(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	cfg, err := asaconfig.Parse([]byte(r.start))
	if err != nil {
		t.Fatal(err)
	}
	target := netip.MustParsePrefix("192.0.2.77/32")
	p, created, err := r.m.Block(ctx, operator, remediate.ManualBlock{Target: target, Reason: "phishing\nwrite erase"}, cfg)
	if err != nil || !created {
		t.Fatalf("block: %v %v", err, created)
	}
	if p.Reason != "manual block: phishing write erase" || p.Origin != remediate.OriginManual || p.State != remediate.StateProposed || p.ProposedBy != operator {
		t.Errorf("proposal %+v", p)
	}
	a := netip.MustParseAddr
	want := []datapath.Flow{
		{Proto: datapath.TCP, Src: target.Addr(), SrcPort: 40000, Dst: a("10.20.0.10"), DstPort: 443},
		{Proto: datapath.TCP, Src: a("10.20.0.10"), SrcPort: 40000, Dst: target.Addr(), DstPort: 443},
		{Proto: datapath.TCP, Src: a("172.16.20.10"), SrcPort: 40000, Dst: target.Addr(), DstPort: 443},
		{Proto: datapath.TCP, Src: a("10.99.0.10"), SrcPort: 40000, Dst: target.Addr(), DstPort: 443},
	}
	if len(p.Flows) != len(want) {
		t.Fatalf("flows %v, want %v", p.Flows, want)
	}
	for i := range want {
		if p.Flows[i] != want[i] {
			t.Errorf("flow %d: %v, want %v", i, p.Flows[i], want[i])
		}
	}
	if p.Effect == nil || p.Effect.Err() != nil || len(p.Effect.FindingFlows()) != len(want) {
		t.Fatalf("effect %+v", p.Effect)
	}
	for _, fe := range p.Effect.FindingFlows() {
		if fe.After.Action != datapath.Drop {
			t.Errorf("%s not dropped after the block", fe)
		}
	}
	d := r.approve(p.ID)
	if d.Effect.Err() != nil {
		t.Fatal(d.Effect.Err())
	}
	if _, err := r.m.Push(ctx, p.ID, operator); err != nil {
		t.Fatal(err)
	}
	for _, tr := range r.get(p.ID).Verification {
		if !tr.OK || tr.Action != "drop" {
			t.Errorf("device trace %s", tr)
		}
	}
	if _, err := r.m.Unblock(ctx, operator, netip.MustParsePrefix("192.0.2.78/32"), ""); !errors.Is(err, remediate.ErrNoBlock) {
		t.Errorf("unblock of an address never blocked: %v", err)
	}
	rm, err := r.m.Unblock(ctx, operator, target, "")
	if err != nil || rm.Kind != remediate.KindRemoval || rm.RemovalOf != p.ID {
		t.Fatalf("unblock: %v %+v", err, rm)
	}
	// The same removal is returned while it is open.
	if again, err := r.m.Unblock(ctx, operator, target, ""); err != nil || again.ID != rm.ID {
		t.Errorf("second unblock: %v %s, want %s", err, again.ID, rm.ID)
	}

	// The policy's protected external address is refused by the same checks.
	_, _, err = r.m.Block(ctx, operator, remediate.ManualBlock{Target: netip.MustParsePrefix("203.0.113.10/32"), Reason: "x"}, nil)
	if !errors.Is(err, remediate.ErrRefused) {
		t.Errorf("block of a protected address: %v", err)
	}
}
