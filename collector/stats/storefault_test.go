package stats

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// flushSome writes n flushes of teardowns through the real aggregator into st.
func flushSome(t *testing.T, st *Store, n int) {
	t.Helper()
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0)})
	for i := range n {
		for j := range 50 {
			ev := teardown(t0.Add(time.Duration(i)*time.Hour), ep("10.2.0.5", uint16(40000+j), "inside"), ep("192.0.2.7", 443, "outside"), 1000)
			a.Add(&ev)
		}
		if _, err := a.Flush(context.Background(), st); err != nil {
			t.Fatal(err)
		}
	}
}

// Issue 13 #13: removing the lock file must not let a second writer in: the lock is the
// kernel's, on the data folder itself.
func TestRemovedLockFileDoesNotAdmitSecondWriter(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir, t0)
	defer st.Close()
	if err := os.Remove(filepath.Join(dir, LockFile)); err != nil {
		t.Fatal(err)
	}
	second, err := Open(context.Background(), dir, Options{Command: "second"})
	if err == nil {
		second.Close()
		t.Fatal("a second Open succeeded after the lock file was removed")
	}
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Open = %v; want *LockedError", err)
	}
}

// Issue 13 #12: a database cut to half its size, or to zero, is refused at start with a
// message that says what happened; the record of the last flush beside it is what tells.
func TestTruncatedDBRefused(t *testing.T) {
	for _, cut := range []struct {
		name string
		size func(int64) int64
	}{{"half", func(n int64) int64 { return n / 2 }}, {"zero", func(int64) int64 { return 0 }}} {
		t.Run(cut.name, func(t *testing.T) {
			dir := t.TempDir()
			st := openStore(t, dir, t0)
			flushSome(t, st, 20)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, DBFile)
			fi, err := os.Stat(db)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(db, cut.size(fi.Size())); err != nil {
				t.Fatal(err)
			}
			st, err = Open(context.Background(), dir, Options{Now: fixedNow(t0)})
			if err == nil {
				site, _ := st.SiteSeries(context.Background(), Window{}, Hourly)
				st.Close()
				t.Fatalf("a db cut to %s opened silently (%d of 20 hours left)", cut.name, len(site))
			}
			if !errors.Is(err, ErrBehind) || !strings.Contains(err.Error(), "firebreak db check") {
				t.Errorf("Open = %v; want ErrBehind naming `firebreak db check`", err)
			}
			// Accepting the loss opens what is left and records it as the new last flush.
			st, err = Open(context.Background(), dir, Options{Now: fixedNow(t0), AcceptBehind: true})
			if err != nil {
				t.Fatalf("Open with AcceptBehind = %v", err)
			}
			st.Close()
			st = openStore(t, dir, t0)
			st.Close()
		})
	}
}

// A clean history opens: flushes, close, reopen, more flushes, reopen.
func TestLastFlushRecordFollowsTheDB(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir, t0)
	flushSome(t, st, 3)
	st.Close()
	st = openStore(t, dir, t0)
	flushSome(t, st, 2)
	st.Close()
	st = openStore(t, dir, t0)
	defer st.Close()
	r, err := Check(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.DBFlush != 5 || r.RecordFlush != 5 {
		t.Errorf("check = %+v; want OK at flush 5", r)
	}
}
