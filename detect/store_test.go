package detect

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
)

func openTestStore(t *testing.T, now time.Time) *stats.Store {
	t.Helper()
	st, err := stats.Open(t.Context(), filepath.Join(t.TempDir(), "data"), stats.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func testFinding(k string, first, last time.Time, summary string) Finding {
	return Finding{
		Key: k, Detector: DetectorDNSUnapproved, Severity: SeverityMedium, Title: "t " + k,
		Subject:   Subject{Host: netip.MustParseAddr("10.1.10.11"), Peer: netip.MustParseAddr("9.9.9.9")},
		Evidence:  Evidence{Summary: summary, Window: TimeRange{From: last.Add(-24 * time.Hour), To: last}},
		FirstSeen: first, LastSeen: last,
	}
}

func TestStoreUpsert(t *testing.T) {
	t0 := time.Date(2026, 4, 20, 5, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	type step struct {
		at         time.Time
		suppress   time.Duration
		wantChange Change
		wantCount  int
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"rerun of the same window changes nothing", []step{
			{t0, day, ChangeNew, 1}, {t0, day, ChangeSilent, 1}, {t0, day, ChangeSilent, 1}}},
		{"found again within the suppression is silent", []step{
			{t0, 2 * day, ChangeNew, 1}, {t0.Add(day), 2 * day, ChangeSilent, 2}}},
		{"found again after the suppression alerts", []step{
			{t0, day, ChangeNew, 1}, {t0.Add(day), day, ChangeUpdated, 2}, {t0.Add(2 * day), day, ChangeUpdated, 3}}},
		{"no suppression: every new window alerts, reruns do not", []step{
			{t0, 0, ChangeNew, 1}, {t0.Add(time.Hour), 0, ChangeUpdated, 2}, {t0.Add(time.Hour), 0, ChangeSilent, 2}}},
		{"an older window counts but keeps the newer evidence", []step{
			{t0.Add(day), day, ChangeNew, 1}, {t0, day, ChangeSilent, 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openTestStore(t, t0)
			fs := NewStore(st, 0)
			var id string
			for i, s := range tc.steps {
				w := TimeRange{From: s.at.Add(-day), To: s.at}
				f := testFinding("dns_unapproved|10.1.10.11|9.9.9.9", s.at.Add(-time.Hour), s.at, s.at.String())
				ups, err := fs.Upsert(t.Context(), []string{DetectorDNSUnapproved}, w, []Finding{f, f},
					func(string) time.Duration { return s.suppress }, s.at)
				if err != nil {
					t.Fatal(err)
				}
				if len(ups) != 1 {
					t.Fatalf("step %d: %d upserts for one key reported twice; want 1", i, len(ups))
				}
				u := ups[0]
				if u.Change != s.wantChange || u.Count != s.wantCount {
					t.Errorf("step %d: change %s count %d; want %s %d", i, u.Change, u.Count, s.wantChange, s.wantCount)
				}
				if id == "" {
					id = u.ID
				} else if u.ID != id {
					t.Errorf("step %d: id changed from %s to %s", i, id, u.ID)
				}
			}
			all, err := fs.List(t.Context(), Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 1 {
				t.Fatalf("%d findings stored; want 1", len(all))
			}
			got := all[0]
			first, last := tc.steps[0].at, tc.steps[0].at
			for _, s := range tc.steps {
				first, last = minTime(first, s.at), maxTime(last, s.at)
			}
			if !got.FirstSeen.Equal(first.Add(-time.Hour)) || !got.LastSeen.Equal(last) {
				t.Errorf("seen %s..%s; want %s..%s", got.FirstSeen, got.LastSeen, first.Add(-time.Hour), last)
			}
			if got.Evidence.Summary != last.String() {
				t.Errorf("evidence of %q; want the newest window's %q", got.Evidence.Summary, last.String())
			}
		})
	}
}

func TestStoreIDCollisionAndGet(t *testing.T) {
	t0 := time.Date(2026, 4, 20, 5, 0, 0, 0, time.UTC)
	st := openTestStore(t, t0)
	fs := NewStore(st, 0)
	k := "port_scan|203.0.113.250"
	// Another finding already holds k's 8-digit id.
	squatter := testFinding("other", t0, t0, "squatter")
	squatter.ID = shortID(k, 8)
	if err := st.PutRecord(t.Context(), NSFinding, squatter.ID, squatter, 0); err != nil {
		t.Fatal(err)
	}
	ups, err := fs.Upsert(t.Context(), []string{DetectorPortScan}, TimeRange{From: t0.Add(-time.Hour), To: t0},
		[]Finding{testFinding(k, t0, t0, "scan")}, func(string) time.Duration { return 0 }, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ups[0].ID, shortID(k, 12); got != want {
		t.Errorf("id %s; want the 12-digit %s after a collision", got, want)
	}
	f, err := fs.Get(t.Context(), ups[0].ID)
	if err != nil || f.Key != k {
		t.Errorf("Get(%s) = %q, %v; want key %q", ups[0].ID, f.Key, err, k)
	}
	if _, err := fs.Get(t.Context(), "deadbeef"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) error %v; want ErrNotFound", err)
	}
}

func TestStoreListFilterAndReopen(t *testing.T) {
	t0 := time.Date(2026, 4, 20, 5, 0, 0, 0, time.UTC)
	st := openTestStore(t, t0)
	fs := NewStore(st, 30*24*time.Hour)
	ctx := context.Background()
	a := testFinding("dns_unapproved|a", t0, t0, "a")
	b := testFinding("port_scan|b", t0, t0.Add(-48*time.Hour), "b")
	b.Detector, b.Severity = DetectorPortScan, SeverityLow
	w := TimeRange{From: t0.Add(-24 * time.Hour), To: t0}
	ups, err := fs.Upsert(ctx, []string{"x"}, w, []Finding{a, b}, func(string) time.Duration { return 24 * time.Hour }, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    Filter
		want int
	}{
		{Filter{}, 2},
		{Filter{Detector: DetectorPortScan}, 1},
		{Filter{MinSeverity: SeverityMedium}, 1},
		{Filter{Since: t0.Add(-time.Hour)}, 1},
		{Filter{Status: StatusResolved}, 0},
	} {
		got, err := fs.List(ctx, tc.q)
		if err != nil || len(got) != tc.want {
			t.Errorf("List(%+v) = %d findings, %v; want %d", tc.q, len(got), err, tc.want)
		}
	}
	if _, err := fs.SetStatus(ctx, ups[0].ID, StatusResolved); err != nil {
		t.Fatal(err)
	}
	// Found again in a later window: the resolved finding reopens.
	t1 := t0.Add(72 * time.Hour)
	a2 := testFinding(a.Key, t1, t1, "again")
	re, err := fs.Upsert(ctx, []string{"x"}, TimeRange{From: t1.Add(-24 * time.Hour), To: t1}, []Finding{a2},
		func(string) time.Duration { return 24 * time.Hour }, t1)
	if err != nil {
		t.Fatal(err)
	}
	if re[0].Change != ChangeReopened || re[0].Status != StatusOpen || re[0].ID != ups[0].ID {
		t.Errorf("after resolve and a new sighting: %s %s %s; want reopened open %s", re[0].Change, re[0].Status, re[0].ID, ups[0].ID)
	}
}

// TestStoreWeakerWindowKeepsSubject: the day after an exfiltration the same key fires on a
// small hour whose top peer is a CDN; the stored finding keeps the strong window's peer (what
// a block targets), counts the day and says the trend.
func TestStoreWeakerWindowKeepsSubject(t *testing.T) {
	t0 := time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC)
	st := openTestStore(t, t0)
	fs := NewStore(st, 0)
	exfil, cdnPeer := netip.MustParseAddr("203.0.113.233"), netip.MustParseAddr("192.0.2.10")
	mk := func(at time.Time, peer netip.Addr, bytes float64, summary string) Finding {
		f := testFinding("volume_spike|10.1.100.33", at.Add(-time.Hour), at, summary)
		f.Detector, f.Subject.Peer = DetectorVolumeSpike, peer
		f.Evidence.Counts = map[string]float64{"bytes": bytes}
		return f
	}
	never := func(string) time.Duration { return 0 }
	day := 24 * time.Hour
	for i, f := range []Finding{mk(t0.Add(day), exfil, 3e9, "strong"), mk(t0.Add(2*day), cdnPeer, 3e8, "weak")} {
		w := TimeRange{From: f.LastSeen.Add(-day), To: f.LastSeen}
		if _, err := fs.Upsert(t.Context(), []string{DetectorVolumeSpike}, w, []Finding{f}, never, t0); err != nil {
			t.Fatal(i, err)
		}
	}
	got, err := fs.List(t.Context(), Filter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("List = %v, %v", got, err)
	}
	f := got[0]
	if f.Subject.Peer != exfil || f.Evidence.Summary != "strong" || f.Latest != "weak" {
		t.Errorf("subject %v evidence %q latest %q: want the strong window's peer and evidence", f.Subject.Peer, f.Evidence.Summary, f.Latest)
	}
	if f.DaysActive != 2 || f.Trend != "falling" || f.PeakStrength != 3e9 || f.Count != 2 || !f.LastSeen.Equal(t0.Add(2*day)) {
		t.Errorf("days %d trend %q peak %g count %d last %v", f.DaysActive, f.Trend, f.PeakStrength, f.Count, f.LastSeen)
	}
}
