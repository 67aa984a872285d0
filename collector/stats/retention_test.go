package stats

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/buntdb"
)

// Without buntdb TTLs, retention is Prune's: as the store's clock moves on, a flush after
// PruneEvery deletes hourly host days 35 days after their day, first/last-seen records and
// exemplars past theirs, and keeps the daily totals; nothing in the file carries a TTL.
func TestPruneDeletesWhatIsPastRetention(t *testing.T) {
	ctx := context.Background()
	clock, now, st := openAtT0(t)
	a := NewAggregator(siteCls{}, AggOptions{Now: now})
	ws, web := ep("10.2.0.5", 50000, "inside"), ep("198.51.100.7", 443, "outside")
	ev := built(t0.Add(-2*time.Hour), ws, web)
	a.Add(&ev)
	ev = vpnLogin(t0.Add(-2*time.Hour), "alice", "198.51.100.20")
	a.Add(&ev)
	flush(t, a, st)
	count := func(p string) int { return len(keysWithPrefix(t, st, p)) }
	if count("host|h|") != 1 || count("host|d|") != 1 || count("seen|") != 1 || count("ex|") == 0 {
		t.Fatalf("after the first flush: %d hourly, %d daily, %d seen, %d exemplar keys", count("host|h|"), count("host|d|"), count("seen|"), count("ex|"))
	}
	if ex, err := st.Exemplars(ctx, ExemplarKey{Kind: ExemplarVPN, User: "alice", A: ip("198.51.100.20")}); err != nil || len(ex) != 1 || ex[0] != "vpn alice 198.51.100.20" {
		t.Fatalf("Exemplars = %q, %v; want the raw line without its time", ex, err)
	}
	_ = st.db.View(func(tx *buntdb.Tx) error {
		return tx.Ascend("", func(k, _ string) bool {
			if ttl, _ := tx.TTL(k); ttl != -1 && !strings.HasPrefix(k, "rec|") {
				t.Errorf("%s has a buntdb TTL (%v)", k, ttl)
			}
			return true
		})
	})

	// 36 days later, a flush of new traffic prunes (the last prune is more than PruneEvery ago).
	clock.Store(t0.Add(36 * 24 * time.Hour).Unix())
	a = NewAggregator(siteCls{}, AggOptions{Now: now}) // its horizon is a day past its clock
	ev = built(now().Add(-time.Hour), ep("10.2.0.6", 50000, "inside"), web)
	a.Add(&ev)
	flush(t, a, st)
	if n := count("host|h|" + "10.2.0.5|"); n != 0 {
		t.Errorf("hourly host day 36 days old: %d keys, want pruned", n)
	}
	if n := count("host|d|10.2.0.5|"); n != 1 {
		t.Errorf("daily host day 36 days old: %d keys, want kept (400 days)", n)
	}
	if ex, _ := st.Exemplars(ctx, ExemplarKey{Kind: ExemplarVPN, User: "alice", A: ip("198.51.100.20")}); len(ex) != 0 {
		t.Errorf("exemplars 36 days old: %q, want pruned (35 days)", ex)
	}
	if n := count("host|h|10.2.0.6|"); n != 1 {
		t.Errorf("the new hour: %d keys, want 1", n)
	}
	if n := count("seen|10.2.0.5"); n != 1 {
		t.Errorf("seen record 36 days old: %d, want kept (400 days)", n)
	}

	// Within PruneEvery of the last prune a flush does not scan again; after a year and more,
	// seen records and daily totals go too.
	clock.Store(t0.Add(402 * 24 * time.Hour).Unix())
	ps, err := st.Prune(ctx)
	if err != nil || ps.Deleted == 0 {
		t.Fatalf("Prune = %+v, %v", ps, err)
	}
	if n := count("seen|10.2.0.5") + count("host|d|10.2.0.5|") + count("vpn|"); n != 0 {
		t.Errorf("402 days on: %d seen, daily or VPN keys of the old host left, want none", n)
	}
	if st.pruneDue() {
		t.Error("pruneDue right after a prune")
	}
}

// TestPrunedSpanStartsOver: a first/last-seen record that Prune deleted starts over when the
// source comes back (nothing a flush remembers of the records it wrote brings back the old
// first sighting).
func TestPrunedSpanStartsOver(t *testing.T) {
	ctx := context.Background()
	clock, now, st := openAtT0(t)
	login := func(at time.Time) {
		a := NewAggregator(siteCls{}, AggOptions{Now: now})
		ev := vpnLogin(at, "alice", "198.51.100.20")
		a.Add(&ev)
		flush(t, a, st)
	}
	login(t0.Add(-2 * time.Hour))
	login(t0.Add(-time.Hour)) // merged into the record the first flush wrote
	srcs, err := st.VPNSources(ctx, "alice")
	if err != nil || len(srcs) != 1 || !srcs[0].First.Equal(t0.Add(-2*time.Hour)) || !srcs[0].Last.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("VPNSources = %+v, %v; want one source seen from t0-2h to t0-1h", srcs, err)
	}
	clock.Store(t0.Add(402 * 24 * time.Hour).Unix())
	if ps, err := st.Prune(ctx); err != nil || ps.Deleted == 0 {
		t.Fatalf("Prune = %+v, %v", ps, err)
	}
	back := now().Add(-time.Hour)
	login(back)
	srcs, err = st.VPNSources(ctx, "alice")
	if err != nil || len(srcs) != 1 || !srcs[0].First.Equal(back) {
		t.Fatalf("after the prune, VPNSources = %+v, %v; want first seen %v", srcs, err, back)
	}
}

// openAtT0 opens a store in a temporary folder whose clock starts at t0 and moves when the
// test stores another time in clock; Cleanup closes it.
func openAtT0(t *testing.T) (clock *atomic.Int64, now func() time.Time, st *Store) {
	t.Helper()
	clock = new(atomic.Int64)
	clock.Store(t0.Unix())
	now = func() time.Time { return time.Unix(clock.Load(), 0).UTC() }
	st, err := Open(context.Background(), t.TempDir(), Options{Now: now, Command: "stats.test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return clock, now, st
}
