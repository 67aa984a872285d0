package detect

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// sweep is every day's run from the first incident day to the end of the scenario.
func sweep(t *testing.T) (*scenarioFixture, []runFinding) {
	f := loadScenario(t)
	first := f.truth.End
	for _, in := range f.truth.Incidents {
		if in.Start.Before(first) {
			first = in.Start
		}
	}
	loc := f.cfg.Location()
	first = time.Date(first.In(loc).Year(), first.In(loc).Month(), first.In(loc).Day()+1, 0, 0, 0, 0, loc)
	if min := f.truth.End.AddDate(0, 0, -16); first.Before(min) {
		first = min
	}
	return f, runDays(t, f.env(), first, f.truth.End)
}

func TestScenarioIncidentsFound(t *testing.T) {
	f, found := sweep(t)
	for _, in := range f.truth.Incidents {
		t.Run(in.ID+"/"+in.Detector, func(t *testing.T) {
			for _, rf := range found {
				if rf.Detector == in.Detector && matches(rf.Finding, rf.W, in) {
					return
				}
			}
			t.Errorf("incident %s (%s, %s..%s) not found by %s", in.ID, in.Kind, in.Start, in.End, in.Detector)
		})
	}
}

func TestScenarioPrecisionRecall(t *testing.T) {
	f, found := sweep(t)
	tp, fp := 0, 0
	keyTrue := make(map[string]bool)
	for _, rf := range found {
		ok := false
		for _, in := range f.truth.Incidents {
			if matches(rf.Finding, rf.W, in) {
				ok = true
				break
			}
		}
		keyTrue[rf.Key] = keyTrue[rf.Key] || ok
		if ok {
			tp++
		} else {
			fp++
			t.Logf("false: %s %s [%s]: %s", rf.W.To.Format("01-02"), rf.Key, rf.Severity, rf.Evidence.Summary)
		}
	}
	hit := 0
	for _, in := range f.truth.Incidents {
		for _, rf := range found {
			if rf.Detector == in.Detector && matches(rf.Finding, rf.W, in) {
				hit++
				break
			}
		}
	}
	ktp := 0
	for _, k := range slices.Sorted(maps.Keys(keyTrue)) {
		if keyTrue[k] {
			ktp++
		}
		t.Logf("key %-5v %s", keyTrue[k], k)
	}
	t.Logf("distinct keys: %d, %d true: precision %.3f", len(keyTrue), ktp, float64(ktp)/float64(max(1, len(keyTrue))))
	prec := float64(tp) / float64(max(1, tp+fp))
	rec := float64(hit) / float64(len(f.truth.Incidents))
	t.Logf("%d run findings: %d true, %d false: precision %.3f; incidents found by their detector %d/%d: recall %.3f",
		len(found), tp, fp, prec, hit, len(f.truth.Incidents), rec)
}
