package stats

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/buntdb"
)

// writeLog opens a store in dir, appends n entries to log "audit" and closes it.
func writeLog(t *testing.T, dir string, n int) {
	t.Helper()
	st := openStore(t, dir, t0)
	for i := 1; i <= n; i++ {
		if _, err := st.AppendLog(context.Background(), "audit", map[string]any{"who": "alice", "n": i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// tamper changes the closed database file in dir with buntdb directly, as someone who can
// write the data folder would.
func tamper(t *testing.T, dir string, fn func(tx *buntdb.Tx) error) {
	t.Helper()
	db, err := buntdb.Open(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func logKey(seq uint64) string { return string(appendPad([]byte(logPrefix("audit")), int64(seq), 20)) }

func verify(t *testing.T, dir string) LogCheck {
	t.Helper()
	st := openStore(t, dir, t0)
	defer st.Close()
	c, err := st.VerifyLog(context.Background(), "audit")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLogChainIntact(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, 5)
	c := verify(t, dir)
	if c.Break != nil || c.Entries != 5 || c.Last != 5 || c.Head == LogGenesis {
		t.Fatalf("VerifyLog = %+v, break %+v; want 5 intact entries", c, c.Break)
	}
	// ListLog hands back the payload, not the envelope.
	st := openStore(t, dir, t0)
	defer st.Close()
	var got []string
	_ = st.ListLog(context.Background(), "audit", 3, func(_ uint64, raw []byte) error { got = append(got, string(raw)); return nil })
	if want := []string{`{"n":4,"who":"alice"}`, `{"n":5,"who":"alice"}`}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListLog = %q; want %q", got, want)
	}
	// Hooks see each committed entry with its chain hash; a rolled-back one is not seen.
	var seen []LogRecord
	st.OnLog(func(r LogRecord) { seen = append(seen, r) })
	_ = st.Update(context.Background(), func(tx *RecordTx) error {
		_, _ = tx.AppendLog("audit", "rolled back")
		return fmt.Errorf("boom")
	})
	if _, err := st.AppendLog(context.Background(), "audit", "six"); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].Seq != 6 || seen[0].Prev != c.Head || string(seen[0].Payload) != `"six"` ||
		seen[0].Hash != LogHash("audit", 6, c.Head, []byte(`"six"`)) {
		t.Errorf("hooks saw %+v; want entry 6 chained to %s", seen, c.Head)
	}
}

func TestLogChainTampering(t *testing.T) {
	cases := []struct {
		name     string
		change   func(tx *buntdb.Tx) error
		seq      uint64
		kind     string
		inDetail string
	}{
		{"edit bytes", func(tx *buntdb.Tx) error {
			v, _ := tx.Get(logKey(3))
			_, _, err := tx.Set(logKey(3), strings.Replace(v, `"alice"`, `"mallory"`, 1), nil)
			return err
		}, 3, LogEdited, "do not match its hash"},
		{"edit and rehash", func(tx *buntdb.Tx) error {
			v, _ := tx.Get(logKey(3))
			e, _ := openLog(v)
			nv, _, err := sealLog("audit", 3, e.Prev, []byte(`{"n":3,"who":"mallory"}`))
			if err == nil {
				_, _, err = tx.Set(logKey(3), nv, nil)
			}
			return err
		}, 3, LogEdited, "rewritten"},
		{"delete", func(tx *buntdb.Tx) error { _, err := tx.Delete(logKey(3)); return err }, 3, LogDeleted, "entry 3 is missing"},
		{"delete the last", func(tx *buntdb.Tx) error { _, err := tx.Delete(logKey(5)); return err }, 5, LogDeleted, "last written"},
		{"delete the last and its number", func(tx *buntdb.Tx) error {
			_, err := tx.Delete(logKey(5))
			if err == nil {
				_, _, err = tx.Set(pfxLogSeq+"|audit", "4", nil)
			}
			return err
		}, 4, LogEdited, "log head"},
		{"reorder", func(tx *buntdb.Tx) error {
			a, _ := tx.Get(logKey(3))
			b, _ := tx.Get(logKey(4))
			_, _, err := tx.Set(logKey(3), b, nil)
			if err == nil {
				_, _, err = tx.Set(logKey(4), a, nil)
			}
			return err
		}, 3, LogReordered, "swapped"},
		{"insert", func(tx *buntdb.Tx) error {
			// A forged entry 3 chained to 2, and the old 3..5 renumbered and rehashed on top.
			v2, _ := tx.Get(logKey(2))
			e2, _ := openLog(v2)
			forged, hf, _ := sealLog("audit", 3, e2.H, []byte(`{"n":99,"who":"mallory"}`))
			var olds []logEnvelope
			for s := uint64(3); s <= 5; s++ {
				v, _ := tx.Get(logKey(s))
				e, _ := openLog(v)
				olds = append(olds, e)
			}
			if _, _, err := tx.Set(logKey(3), forged, nil); err != nil {
				return err
			}
			_ = hf
			// The old entry 3 keeps its link to entry 2 (the forger does not rewrite the rest).
			for i, e := range olds {
				nv, _, _ := sealLog("audit", uint64(4+i), e.Prev, e.V)
				if _, _, err := tx.Set(logKey(uint64(4+i)), nv, nil); err != nil {
					return err
				}
			}
			return nil
		}, 3, LogInserted, "entry 4 follows entry 2"},
		{"not an envelope", func(tx *buntdb.Tx) error {
			_, _, err := tx.Set(logKey(2), `{"who":"mallory"}`, nil)
			return err
		}, 2, LogEdited, "not a chained"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeLog(t, dir, 5)
			if c := verify(t, dir); c.Break != nil {
				t.Fatalf("before tampering: %+v", c.Break)
			}
			tamper(t, dir, tc.change)
			c := verify(t, dir)
			if c.Break == nil {
				t.Fatalf("VerifyLog after %s = intact; want a break", tc.name)
			}
			if c.Break.Seq != tc.seq || c.Break.Kind != tc.kind || !strings.Contains(c.Break.Detail, tc.inDetail) {
				t.Errorf("break = %+v; want entry %d %s (%q)", c.Break, tc.seq, tc.kind, tc.inDetail)
			}
		})
	}
}

// A schema-4 file (entries without the chain) is chained once at Open, and the mark says so.
func TestLogChainMigratesSchema4(t *testing.T) {
	dir := t.TempDir()
	writeLog(t, dir, 0)
	tamper(t, dir, func(tx *buntdb.Tx) error {
		for i := 1; i <= 3; i++ {
			if _, _, err := tx.Set(logKey(uint64(i)), fmt.Sprintf(`{"who": "old", "n": %d}`, i), nil); err != nil {
				return err
			}
		}
		if _, _, err := tx.Set(pfxLogSeq+"|audit", "3", nil); err != nil {
			return err
		}
		_, _, err := tx.Set(schemaKey, "4", nil)
		return err
	})
	st := openStore(t, dir, t0)
	mg := st.Migrated()
	if mg == nil || mg.From != 4 || mg.To != schemaVersion || mg.Keys != 3 {
		t.Fatalf("Migrated = %+v; want 4 -> %d, 3 entries", mg, schemaVersion)
	}
	if _, err := st.AppendLog(context.Background(), "audit", "new"); err != nil {
		t.Fatal(err)
	}
	c, err := st.VerifyLog(context.Background(), "audit")
	if err != nil || c.Break != nil || c.Entries != 4 || c.ChainedUpTo != 3 || !c.ChainedAt.Equal(t0.Truncate(time.Second)) {
		t.Fatalf("VerifyLog = %+v, %v; want 4 intact entries, chained up to 3 at %v", c, err, t0)
	}
	var got []string
	_ = st.ListLog(context.Background(), "audit", 0, func(seq uint64, raw []byte) error {
		got = append(got, strconv.FormatUint(seq, 10)+"="+string(raw))
		return nil
	})
	if want := `[1={"who":"old","n":1} 2={"who":"old","n":2} 3={"who":"old","n":3} 4="new"]`; fmt.Sprint(got) != want {
		t.Errorf("ListLog = %s; want %s", got, want)
	}
	_ = st.Close()
}
