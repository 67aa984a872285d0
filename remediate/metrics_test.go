package remediate_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/firebreak-dev/firebreak/remediate"
)

func TestMetricsCountProposalsAndAuditFromRecords(t *testing.T) {
	r := newRig(t, rigOpts{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(remediate.NewMetrics(r.m))

	want := func(stage, text string) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(text), "firebreak_proposals", "firebreak_audit_actions_total"); err != nil {
			t.Errorf("%s: %v", stage, err)
		}
	}
	r.propose(scan("f1", "203.0.113.20"), scan("f2", "203.0.113.21"))
	want("two proposed", header+`
firebreak_proposals{state="applied"} 0
firebreak_proposals{state="approved"} 0
firebreak_proposals{state="expired"} 0
firebreak_proposals{state="failed"} 0
firebreak_proposals{state="proposed"} 2
firebreak_proposals{state="rejected"} 0
firebreak_proposals{state="reverted"} 0
firebreak_audit_actions_total{action="propose"} 2
firebreak_audit_actions_total{action="push"} 0
firebreak_audit_actions_total{action="push-failed"} 0
firebreak_audit_actions_total{action="push-refused"} 0
`)
	// A second manager (another process) pushes; the daemon's collector sees it.
	other := remediate.New(r.st, r.pol, remediate.Options{Pusher: remediate.SSH{}, Now: r.clk.Now})
	ps, err := other.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r.approve(ps[0].ID)
	if _, err := other.Push(t.Context(), ps[0].ID, operator); err != nil {
		t.Fatal(err)
	}
	want("one pushed", header+`
firebreak_proposals{state="applied"} 1
firebreak_proposals{state="approved"} 0
firebreak_proposals{state="expired"} 0
firebreak_proposals{state="failed"} 0
firebreak_proposals{state="proposed"} 1
firebreak_proposals{state="rejected"} 0
firebreak_proposals{state="reverted"} 0
firebreak_audit_actions_total{action="approve"} 1
firebreak_audit_actions_total{action="propose"} 2
firebreak_audit_actions_total{action="push"} 1
firebreak_audit_actions_total{action="push-failed"} 0
firebreak_audit_actions_total{action="push-refused"} 0
`)
}

const header = `
# HELP firebreak_audit_actions_total Audit log entries by action: push, push-failed (verify failed or rolled back), push-refused, approve, expire, ...
# TYPE firebreak_audit_actions_total counter
# HELP firebreak_proposals Proposals by state (proposed: waiting for a person).
# TYPE firebreak_proposals gauge`
