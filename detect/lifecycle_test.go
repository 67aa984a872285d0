package detect

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
)

// TestLifecycle walks one finding through people's actions and detection runs in a real store
// and checks status, change and the audit log at each step.
func TestLifecycle(t *testing.T) {
	t0 := time.Date(2026, 4, 20, 5, 0, 0, 0, time.UTC)
	st := openTestStore(t, t0)
	s := NewStore(st, 0)
	ctx := t.Context()
	hour := time.Hour
	run := func(at time.Time, sev Severity) Upserted {
		t.Helper()
		f := testFinding("k1", at.Add(-hour), at, "s")
		f.Severity = sev
		f.Suppressed = policySuppression(nil, &f, at)
		ups, err := s.Upsert(ctx, []string{DetectorDNSUnapproved}, TimeRange{From: at.Add(-hour), To: at}, []Finding{f},
			func(string) time.Duration { return 0 }, at)
		if err != nil || len(ups) != 1 {
			t.Fatalf("upsert: %v %v", ups, err)
		}
		return ups[0]
	}
	act := func(id, kind, comment string, at, until time.Time) (Finding, error) {
		return s.Act(ctx, id, Action{Kind: kind, Who: "ops", Comment: comment, At: at, Until: until})
	}
	u := run(t0, SeverityMedium)
	id := u.ID
	if u.Change != ChangeNew || u.Status != StatusOpen {
		t.Fatalf("first run: %s %s", u.Change, u.Status)
	}
	if _, err := act(id, ActReopen, "", t0, time.Time{}); !errors.Is(err, ErrTransition) {
		t.Errorf("reopen of an open finding: %v; want ErrTransition", err)
	}
	if f, err := act(id, ActAck, "looking", t0.Add(time.Minute), time.Time{}); err != nil || f.Status != StatusAcknowledged || f.Comment != "looking" {
		t.Fatalf("ack: %+v %v", f, err)
	}
	// Found again at the same severity: stays acknowledged; at a higher one: open, escalated.
	if u := run(t0.Add(hour), SeverityMedium); u.Status != StatusAcknowledged || u.Change != ChangeUpdated {
		t.Errorf("after ack, same severity: %s %s; want acknowledged updated", u.Status, u.Change)
	}
	if u := run(t0.Add(2*hour), SeverityHigh); u.Status != StatusOpen || u.Change != ChangeEscalated {
		t.Errorf("after ack, higher severity: %s %s; want open escalated", u.Status, u.Change)
	}
	// Resolved, then found again in a later window: reopened.
	if f, err := act(id, ActResolve, "fixed printer", t0.Add(2*hour+time.Minute), time.Time{}); err != nil || f.Status != StatusResolved {
		t.Fatalf("resolve: %+v %v", f, err)
	}
	if u := run(t0.Add(3*hour), SeverityHigh); u.Status != StatusOpen || u.Change != ChangeReopened {
		t.Errorf("resolved then found: %s %s; want open reopened", u.Status, u.Change)
	}
	// Suppressed for 5 hours: silent inside, open and alerting after.
	if _, err := act(id, ActSuppress, "", t0.Add(3*hour), t0.Add(8*hour)); err == nil {
		t.Error("suppress without a reason accepted")
	}
	if _, err := act(id, ActSuppress, "maintenance", t0.Add(3*hour), t0.Add(2*hour)); err == nil {
		t.Error("suppress ending in the past accepted")
	}
	f, err := act(id, ActSuppress, "maintenance", t0.Add(3*hour), t0.Add(8*hour))
	if err != nil || f.Status != StatusSuppressed || f.Suppressed == nil || f.Suppressed.Who != "ops" {
		t.Fatalf("suppress: %+v %v", f, err)
	}
	if u := run(t0.Add(5*hour), SeverityCritical); u.Status != StatusSuppressed || u.Change != ChangeSilent {
		t.Errorf("inside suppression: %s %s; want suppressed silent (even escalated)", u.Status, u.Change)
	}
	if u := run(t0.Add(9*hour), SeverityCritical); u.Status != StatusOpen || u.Change != ChangeReopened || u.Suppressed != nil {
		t.Errorf("after suppression: %s %s %+v; want open reopened", u.Status, u.Change, u.Suppressed)
	}
	es, err := s.Audit(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ who, action, from, to string }
	want := []row{
		{"ops", ActAck, StatusOpen, StatusAcknowledged},
		{"detect", ActEscalated, StatusAcknowledged, StatusOpen},
		{"ops", ActResolve, StatusOpen, StatusResolved},
		{"detect", ActReopened, StatusResolved, StatusOpen},
		{"ops", ActSuppress, StatusOpen, StatusSuppressed},
		{"detect", ActSuppressionEnded, StatusSuppressed, StatusOpen},
	}
	if len(es) != len(want) {
		t.Fatalf("audit has %d entries; want %d: %+v", len(es), len(want), es)
	}
	for i, e := range es {
		if got := (row{e.Who, e.Action, e.From, e.To}); got != want[i] || e.Finding != id || e.Seq == 0 {
			t.Errorf("audit[%d] = %+v; want %+v", i, e, want[i])
		}
	}
	if es[4].Comment != "maintenance" || !es[4].Until.Equal(t0.Add(8*hour)) {
		t.Errorf("suppress entry %+v lacks reason/until", es[4])
	}
	if _, err := act("nope", ActAck, "", t0, time.Time{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("ack of unknown id: %v; want ErrNotFound", err)
	}
}

// TestPolicySuppression: a policy rule suppresses on upsert, people cannot reopen it, and
// removing the rule reopens the finding.
func TestPolicySuppression(t *testing.T) {
	t0 := time.Date(2026, 4, 20, 5, 0, 0, 0, time.UTC)
	st := openTestStore(t, t0)
	s := NewStore(st, 0)
	ctx := t.Context()
	cfg, err := policies.Parse("site.yaml", []byte(`site: s
findings:
  suppress:
    - detector: dns_unapproved
      host: 10.1.10.0/24
      reason: lab resolvers
`))
	if err != nil {
		t.Fatal(err)
	}
	run := func(at time.Time, cfg *policies.Config) Upserted {
		t.Helper()
		f := testFinding("k1", at.Add(-time.Hour), at, "s")
		f.Suppressed = policySuppression(cfg, &f, at)
		ups, err := s.Upsert(ctx, []string{DetectorDNSUnapproved}, TimeRange{From: at.Add(-time.Hour), To: at}, []Finding{f},
			func(string) time.Duration { return 0 }, at)
		if err != nil {
			t.Fatal(err)
		}
		return ups[0]
	}
	u := run(t0, cfg)
	if u.Status != StatusSuppressed || u.Change != ChangeSilent || u.Suppressed == nil || u.Suppressed.Rule != "site.yaml:4" {
		t.Fatalf("ruled new finding: %s %s %+v", u.Status, u.Change, u.Suppressed)
	}
	if got := u.StatusLabel(time.UTC); got != "suppressed by policy rule site.yaml:4: lab resolvers" {
		t.Errorf("StatusLabel = %q", got)
	}
	if _, err := s.Act(ctx, u.ID, Action{Kind: ActReopen, Who: "ops", At: t0}); !errors.Is(err, ErrTransition) {
		t.Errorf("reopen of a ruled finding: %v; want ErrTransition", err)
	}
	if u := run(t0.Add(time.Hour), cfg); u.Status != StatusSuppressed || u.Change != ChangeSilent {
		t.Errorf("ruled again: %s %s", u.Status, u.Change)
	}
	if u := run(t0.Add(2*time.Hour), nil); u.Status != StatusOpen || u.Change != ChangeReopened {
		t.Errorf("rule removed: %s %s; want open reopened", u.Status, u.Change)
	}
	es, _ := s.Audit(ctx, "")
	if len(es) != 2 || es[0].Action != ActSuppressedByRule || es[0].Comment != "site.yaml:4" || es[1].Action != ActSuppressionEnded {
		t.Errorf("audit = %+v; want suppressed-by-rule (once) then suppression-ended", es)
	}
}

// TestPolicyKnowsEveryDetector: suppression rules name detectors the policy package lists.
func TestPolicyKnowsEveryDetector(t *testing.T) {
	for _, d := range All() {
		if !slices.Contains(policies.FindingDetectors, d.Name()) {
			t.Errorf("policies.FindingDetectors lacks %q", d.Name())
		}
	}
}
