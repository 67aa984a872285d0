package detect

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/firebreak-dev/firebreak/collector/stats"
)

// SeriesCache answers a backfill's sliding windows with what the store answers for each.
func TestSeriesCacheMatchesTheStore(t *testing.T) {
	f := loadScenario(t)
	ctx := context.Background()
	c := NewSeriesCache(f.st)
	end := f.truth.End.Truncate(time.Hour)
	for _, w := range []stats.Window{
		{From: end.Add(-20 * 24 * time.Hour), To: end.Add(-10 * 24 * time.Hour)},
		{From: end.Add(-19 * 24 * time.Hour), To: end.Add(-9 * 24 * time.Hour)},           // slides by a day
		{From: end.Add(-19 * 24 * time.Hour), To: end.Add(-9*24*time.Hour - 5*time.Hour)}, // ends earlier
		{From: end.Add(-12 * 24 * time.Hour), To: end},                                    // jumps forward
		{From: end.Add(-25 * 24 * time.Hour), To: end.Add(-24 * 24 * time.Hour)},          // before what is held
		{From: end.Add(-3 * 24 * time.Hour), To: end.Add(-2 * 24 * time.Hour)},            // after it
	} {
		want, err := f.st.AllHostBytes(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.AllHostBytes(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 {
			t.Fatalf("window %v: the store holds nothing to compare", w)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("window %v .. %v: the cache differs from the store (-store +cache):\n%s", w.From, w.To, d)
		}
	}
}

// A backfill finds, day by day, what separate runs find.
func TestBackfillFindsWhatDailyRunsFind(t *testing.T) {
	f := loadScenario(t)
	ctx := context.Background()
	loc := f.cfg.Location()
	last := f.truth.End.In(loc).AddDate(0, 0, -1)
	first := last.AddDate(0, 0, -4)
	var got [][]Upserted
	if err := Backfill(ctx, f.env(), first, last, 24*time.Hour, func(res RunResult, err error) error {
		if err != nil {
			t.Errorf("backfill day %v: %v", res.Window.To, err)
		}
		got = append(got, res.Findings)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("backfill ran %d days, want 5", len(got))
	}
	total := 0
	for i := range got {
		d := first.AddDate(0, 0, i)
		at := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		res, err := Run(ctx, f.env(), at, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		total += len(res.Findings)
		want, _ := json.MarshalIndent(res.Findings, "", " ")
		have, _ := json.MarshalIndent(got[i], "", " ")
		if diff := cmp.Diff(string(want), string(have)); diff != "" {
			t.Errorf("day ending %v: backfill differs from a run of its own (-run +backfill):\n%s", at, diff)
		}
	}
	if total == 0 {
		t.Error("no findings in 5 days of the scenario: nothing compared")
	}
}
