package stats

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/buntdb"
)

type proposal struct {
	ID    string
	State string
}

func TestRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir, t0)
	for _, id := range []string{"p2", "p1", "p3"} {
		if err := st.PutRecord(ctx, "proposals", id, proposal{ID: id, State: "proposed"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutRecord(ctx, "proposalsX", "p9", proposal{ID: "p9"}, 0); err != nil {
		t.Fatal(err)
	}
	var got proposal
	if ok, err := st.GetRecord(ctx, "proposals", "p2", &got); !ok || err != nil || got != (proposal{"p2", "proposed"}) {
		t.Errorf("GetRecord(p2) = %v, %v, %+v", ok, err, got)
	}
	if ok, err := st.GetRecord(ctx, "proposals", "nope", &got); ok || err != nil {
		t.Errorf("GetRecord(nope) = %v, %v; want not found", ok, err)
	}
	var ids []string
	if err := st.ListRecords(ctx, "proposals", func(id string, raw []byte) error {
		var p proposal
		if err := json.Unmarshal(raw, &p); err != nil || p.ID != id {
			t.Errorf("record %s = %s (%v)", id, raw, err)
		}
		ids = append(ids, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"p1", "p2", "p3"}, ids); d != "" {
		t.Errorf("ListRecords ids (-want +got):\n%s", d)
	}
	if ok, err := st.DeleteRecord(ctx, "proposals", "p3"); !ok || err != nil {
		t.Errorf("DeleteRecord(p3) = %v, %v", ok, err)
	}
	if ok, err := st.DeleteRecord(ctx, "proposals", "p3"); ok || err != nil {
		t.Errorf("second DeleteRecord(p3) = %v, %v; want not found", ok, err)
	}
	for _, bad := range []string{"", "a|b", "x*", "line\nbreak"} {
		if err := st.PutRecord(ctx, "proposals", bad, 1, 0); !errors.Is(err, ErrBadName) {
			t.Errorf("PutRecord(id %q) = %v; want ErrBadName", bad, err)
		}
	}

	// Update is all or nothing.
	boom := errors.New("boom")
	err := st.Update(ctx, func(tx *RecordTx) error {
		if err := tx.Put("proposals", "p1", proposal{"p1", "approved"}, 0); err != nil {
			return err
		}
		if _, err := tx.AppendLog("audit", "approve p1"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v; want boom", err)
	}
	if _, _ = st.GetRecord(ctx, "proposals", "p1", &got); got.State != "proposed" {
		t.Errorf("after rolled-back Update p1 = %+v; want proposed", got)
	}
	var entries []string
	if err := st.ListLog(ctx, "audit", 0, func(seq uint64, raw []byte) error {
		entries = append(entries, string(raw))
		return nil
	}); err != nil || len(entries) != 0 {
		t.Errorf("audit after rollback = %v, %v; want empty", entries, err)
	}

	// A transaction may list and change records together.
	err = st.Update(ctx, func(tx *RecordTx) error {
		return tx.List("proposals", func(id string, _ []byte) error {
			if err := tx.Put("proposals", id, proposal{id, "expired"}, 0); err != nil {
				return err
			}
			_, err := tx.AppendLog("audit", "expire "+id)
			return err
		})
	})
	if err != nil {
		t.Fatalf("Update with List = %v", err)
	}
	if _, _ = st.GetRecord(ctx, "proposals", "p2", &got); got.State != "expired" {
		t.Errorf("p2 = %+v; want expired", got)
	}

	// Log sequence numbers keep growing across reopen.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, dir, t0)
	defer st.Close()
	seq, err := st.AppendLog(ctx, "audit", "after reopen")
	if err != nil || seq != 3 {
		t.Errorf("AppendLog after reopen = %d, %v; want 3", seq, err)
	}
	var seqs []uint64
	entries = nil
	if err := st.ListLog(ctx, "audit", 0, func(seq uint64, raw []byte) error {
		seqs = append(seqs, seq)
		entries = append(entries, string(raw))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]uint64{1, 2, 3}, seqs); d != "" {
		t.Errorf("log seqs (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{`"expire p1"`, `"expire p2"`, `"after reopen"`}, entries); d != "" {
		t.Errorf("log entries (-want +got):\n%s", d)
	}
	seqs = nil
	if err := st.ListLog(ctx, "audit", 2, func(seq uint64, _ []byte) error { seqs = append(seqs, seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]uint64{3}, seqs); d != "" {
		t.Errorf("ListLog after 2 (-want +got):\n%s", d)
	}

	// A record with a TTL carries it (buntdb expires it on its own clock).
	if err := st.PutRecord(ctx, "suppress", "k", true, time.Hour); err != nil {
		t.Fatal(err)
	}
	var ttl time.Duration
	_ = st.db.View(func(tx *buntdb.Tx) error { ttl, _ = tx.TTL(recKey("suppress", "k")); return nil })
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Errorf("record TTL = %v; want about 1h", ttl)
	}
	m := st.Metrics()
	if m.FileSize == 0 || m.Keys == 0 || m.Path != st.Path() {
		t.Errorf("Metrics = %+v; want size, keys and path", m)
	}
}
