package remediate_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

type polClassifier struct{ p *policies.Config }

func (c polClassifier) Internal(a netip.Addr) bool { return c.p.IsInternal(a) }
func (c polClassifier) Segment(a netip.Addr) string {
	s, _ := c.p.Segment(a)
	return s
}

func denyEvent(at time.Time, src, acl string, n uint32) ciscolog.Event {
	return ciscolog.Event{Kind: ciscolog.KindTyped, Time: at, Host: "fw1", Family: ciscolog.FamilyASA, MsgID: 106023,
		Action: ciscolog.ActionDeny, Proto: ciscolog.ProtoTCP, HasProto: true,
		Src: ciscolog.Endpoint{Addr: netip.MustParseAddr(src), Port: 40000, Iface: "outside"},
		Dst: ciscolog.Endpoint{Addr: netip.MustParseAddr("198.51.100.4"), Port: 22, Iface: "inside"},
		ACL: acl, Count: n, Raw: "deny"}
}

// Feedback counts the deny logs of the blocked address against the managed
// ACL since the push's hour, not before it and not on other ACLs.
func TestFeedbackCountsDenyLogs(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	if _, err := r.m.Push(ctx, p.ID, operator); err != nil {
		t.Fatal(err)
	}
	pushed := r.clk.Now()
	agg := stats.NewAggregator(polClassifier{r.pol}, stats.AggOptions{})
	for _, ev := range []ciscolog.Event{
		denyEvent(pushed.Add(-3*time.Hour), "203.0.113.7", "OUTSIDE_IN", 7), // before the block
		denyEvent(pushed.Add(10*time.Minute), "203.0.113.7", "OUTSIDE_IN", 5),
		denyEvent(pushed.Add(70*time.Minute), "203.0.113.7", "OUTSIDE_IN", 4),
		denyEvent(pushed.Add(20*time.Minute), "203.0.113.7", "OTHER_ACL", 2),
		denyEvent(pushed.Add(20*time.Minute), "203.0.113.99", "OUTSIDE_IN", 9),
	} {
		agg.Add(&ev)
	}
	r.clk.Add(2 * time.Hour)
	if _, err := agg.Flush(ctx, r.st); err != nil {
		t.Fatal(err)
	}
	fb, err := r.m.Feedback(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fb.DenyLogs != 9 {
		t.Errorf("DenyLogs = %d, want 9 (5+4 since the push on OUTSIDE_IN)", fb.DenyLogs)
	}
	if !fb.HitsKnown || fb.Hits != 0 || fb.Age != 2*time.Hour {
		t.Errorf("feedback %+v", fb)
	}
}
