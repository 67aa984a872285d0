package stats

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/buntdb"
)

// rawGet reads key from the file's keys directly (no query: queries write held values first).
func rawGet(t *testing.T, st *Store, key string) (string, bool) {
	t.Helper()
	var v string
	err := st.db.View(func(tx *buntdb.Tx) error {
		var err error
		v, err = tx.Get(key)
		return err
	})
	return v, err == nil
}

// A host day still open is held in memory across flushes and written once its day has closed
// (or before a query reads it); what the queries return is what writing at every flush gives.
func TestHeldHostDaysWrittenWhenTheDayCloses(t *testing.T) {
	ctx := context.Background()
	day0 := t0.Truncate(24 * time.Hour)
	end := day0.Add(3 * 24 * time.Hour)
	ws, web := ep("10.2.0.5", 50000, "inside"), ep("198.51.100.7", 443, "outside")
	// Three flushes in day 0, then one on day 1 past HoldGrace.
	batches := [][]time.Duration{{1 * time.Hour, 2 * time.Hour}, {5 * time.Hour}, {9 * time.Hour, 23 * time.Hour}, {24*time.Hour + 3*time.Hour}}
	run := func(hold time.Duration, check func(i int, st *Store)) map[string]any {
		st, err := Open(ctx, t.TempDir(), Options{Now: fixedNow(end), HoldOpen: hold, Command: "stats.test"})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(end)})
		for i, b := range batches {
			for _, d := range b {
				ev := built(day0.Add(d), ws, web)
				a.Add(&ev)
				ev = teardown(day0.Add(d), ws, web, 1000)
				a.Add(&ev)
			}
			flush(t, a, st)
			if check != nil {
				check(i, st)
			}
		}
		w := Window{From: day0, To: end}
		hs, err1 := st.HostSeries(ctx, ws.Addr, w, Hourly)
		ds, err2 := st.HostSeries(ctx, ws.Addr, w, Daily)
		ps, err3 := st.Peers(ctx, ws.Addr, w, Hourly)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		return map[string]any{"hourly": hs, "daily": ds, "peers": ps}
	}
	key := string(appendBucket([]byte("host|h|10.2.0.5|"), int32(day0.Unix()/86400), true))
	held := run(time.Hour, func(i int, st *Store) {
		_, inFile := rawGet(t, st, key)
		switch {
		case i < 3 && inFile:
			t.Errorf("after flush %d (day 0 open) the host day is in the file; want it held", i+1)
		case i < 3 && st.held.m[key] == nil:
			t.Errorf("after flush %d the host day is not held", i+1)
		case i == 3 && (!inFile || st.held.m[key] != nil):
			t.Errorf("after day 1 03:00: in file %v, held %v; want written and let go", inFile, st.held.m[key] != nil)
		}
	})
	every := run(time.Nanosecond, nil) // written at every flush: the former behaviour
	if d := cmp.Diff(every, held, addrEq); d != "" {
		t.Errorf("held values read back differently (-every flush +held):\n%s", d)
	}
	if hs := held["hourly"].([]HostBucket); len(hs) != 6 {
		t.Errorf("hourly buckets: %d, want 6", len(hs))
	}

	// A query writes what is held first.
	st := openStore(t, t.TempDir(), end)
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(end)})
	ev := built(day0.Add(time.Hour), ws, web)
	a.Add(&ev)
	flush(t, a, st)
	if _, ok := rawGet(t, st, key); ok {
		t.Fatal("an open day written at its first flush")
	}
	if hs, err := st.HostSeries(ctx, ws.Addr, Window{}, Hourly); err != nil || len(hs) != 1 {
		t.Fatalf("HostSeries = %v, %v", hs, err)
	}
	if _, ok := rawGet(t, st, key); !ok || st.held.dirty.Load() != 0 {
		t.Errorf("after a query: in file %v, %d dirty held; want written", ok, st.held.dirty.Load())
	}
}
