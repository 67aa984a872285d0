package detect

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSchedulerRunOnceIsIdempotentPerHour(t *testing.T) {
	at := monday.AddDate(0, 0, 9)
	var l logBuilder
	l.iosACL(at.Add(-2*hourDur), "permitted", wsB2, wsB3, 445)
	env := handEnv(t, at, &l)
	env.Findings = NewStore(env.Stats.(Records), 0)
	now := at.Add(10 * time.Minute)
	var got [][]Finding
	var stored [][]Upserted
	reg := prometheus.NewRegistry()
	s, err := NewScheduler(SchedulerOptions{
		Env: env, Now: func() time.Time { return now },
		OnFindings: func(_ context.Context, fs []Finding) { got = append(got, fs) },
		OnStored:   func(us []Upserted) { stored = append(stored, us) },
		Metrics:    NewRunMetrics(reg),
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		now       time.Time
		wantRan   bool
		wantCalls int
	}{
		{at.Add(10 * time.Minute), true, 1},  // window ends at the last completed hour, at
		{at.Add(50 * time.Minute), false, 1}, // same hour: already done
		{at.Add(70 * time.Minute), true, 1},  // next hour: runs, finding only updated silently
		{at.Add(-time.Hour), false, 1},       // clock went back (DST, restart): nothing
	}
	for i, st := range steps {
		now = st.now
		res, ran, err := s.RunOnce(t.Context())
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if ran != st.wantRan || len(got) != st.wantCalls {
			t.Errorf("step %d: ran %v, OnFindings calls %d; want %v, %d", i, ran, len(got), st.wantRan, st.wantCalls)
		}
		if ran && !res.Window.To.Equal(now.Truncate(time.Hour)) {
			t.Errorf("step %d: window ends %s; want the last completed hour %s", i, res.Window.To, now.Truncate(time.Hour))
		}
	}
	cp, err := env.Findings.Checkpoint(t.Context(), CheckpointJob)
	if err != nil || !cp.Equal(at.Add(time.Hour)) {
		t.Errorf("checkpoint %s, %v; want %s", cp, err, at.Add(time.Hour))
	}
	if len(got) == 1 && (len(got[0]) != 1 || got[0][0].Detector != DetectorSegmentViolation) {
		t.Errorf("OnFindings got %v; want the segment violation", got[0])
	}
	// OnStored sees every run that stored findings, the silent update too, with its change.
	if len(stored) != 2 || len(stored[0]) != 1 || stored[0][0].Change != ChangeNew || stored[1][0].Change != ChangeSilent {
		t.Errorf("OnStored got %+v; want the new finding, then its silent update", stored)
	}
	m := s.o.Metrics
	if ok, skipped := testutil.ToFloat64(m.runs.WithLabelValues("ok")), testutil.ToFloat64(m.runs.WithLabelValues("skipped")); ok != 2 || skipped != 2 {
		t.Errorf("firebreak_detect_runs_total ok=%v skipped=%v; want 2 and 2", ok, skipped)
	}
	if n := testutil.ToFloat64(m.findings.WithLabelValues(string(ChangeNew))); n != 1 {
		t.Errorf("findings new = %v, want 1", n)
	}
	if last := testutil.ToFloat64(m.last); last != float64(at.Add(time.Hour).Unix()) {
		t.Errorf("last run %v, want %d", last, at.Add(time.Hour).Unix())
	}
	if n := testutil.CollectAndCount(reg, "firebreak_detect_run_duration_seconds"); n != 1 {
		t.Errorf("duration histogram series: %d", n)
	}
}

func TestSchedulerFiresOnScheduleAndStops(t *testing.T) {
	at := monday.AddDate(0, 0, 9)
	var l logBuilder
	env := handEnv(t, at, &l)
	env.Findings = NewStore(env.Stats.(Records), 0)
	synctest.Test(t, func(t *testing.T) {
		// Inside the bubble time.Now is the fake clock cron also runs on.
		s, err := NewScheduler(SchedulerOptions{Env: env})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		start := time.Now()
		time.Sleep(3*time.Hour + time.Minute) // "@every 1h": three runs
		synctest.Wait()
		cp, err := env.Findings.Checkpoint(context.Background(), CheckpointJob)
		if err != nil {
			t.Fatal(err)
		}
		if want := start.Add(3 * time.Hour).Truncate(time.Hour); !cp.Equal(want) {
			t.Errorf("checkpoint %s; want %s", cp, want)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
