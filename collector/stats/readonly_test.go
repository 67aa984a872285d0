package stats

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/buntdb"
)

// readAll runs every query and record read the detectors and the CLI use, and returns the
// results by name.
func readAll(t *testing.T, st *Store) map[string]any {
	t.Helper()
	ctx := context.Background()
	day := Window{From: t0.Truncate(24 * time.Hour), To: t0.Add(24 * time.Hour)}
	out := map[string]any{}
	must := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = v
	}
	for _, r := range []Resolution{Hourly, Daily} {
		p := []string{"hourly", "daily"}[r] + " "
		v1, err := st.HostSeries(ctx, ip("10.2.0.5"), day, r)
		must(p+"HostSeries", v1, err)
		v2, err := st.AllHostSeries(ctx, day, r)
		must(p+"AllHostSeries", v2, err)
		v3, err := st.SiteSeries(ctx, Window{}, r)
		must(p+"SiteSeries", v3, err)
		v4, err := st.PeerPorts(ctx, netip.Addr{}, day, r)
		must(p+"PeerPorts", v4, err)
		v5, err := st.Peers(ctx, netip.Addr{}, day, r)
		must(p+"Peers", v5, err)
		v6, err := st.Ports(ctx, netip.Addr{}, day, r)
		must(p+"Ports", v6, err)
		v7, err := st.Denies(ctx, netip.Addr{}, day, r)
		must(p+"Denies", v7, err)
		v8, err := st.DenyACLs(ctx, netip.Addr{}, day, r)
		must(p+"DenyACLs", v8, err)
		v9, err := st.Interfaces(ctx, day, r)
		must(p+"Interfaces", v9, err)
		for _, f := range []Field{FieldDestinationIP, FieldDestinationPort, FieldSourceIP, FieldUserSource} {
			v, err := st.Terms(ctx, f, day, r)
			must(p+"Terms "+string(rune('0'+f)), v, err)
		}
	}
	bg, err := st.BackgroundTerms(ctx, FieldDestinationIP)
	must("BackgroundTerms", bg, err)
	vpn, err := st.VPNSources(ctx, "")
	must("VPNSources", vpn, err)
	pairs, err := st.Pairs(ctx, time.Time{})
	must("Pairs", pairs, err)
	res, err := st.Resolvers(ctx, netip.Addr{})
	must("Resolvers", res, err)
	hosts, err := st.Hosts(ctx)
	must("Hosts", hosts, err)
	ex, err := st.Exemplars(ctx, ExemplarKey{Kind: ExemplarDeny, A: ip("192.0.2.66")})
	must("Exemplars", ex, err)
	var recs []string
	err = st.ListRecords(ctx, "finding", func(id string, raw []byte) error {
		recs = append(recs, id+"="+string(raw))
		return nil
	})
	must("ListRecords", recs, err)
	var logs []string
	err = st.ListLog(ctx, "audit", 0, func(seq uint64, raw []byte) error {
		logs = append(logs, string(raw))
		return nil
	})
	must("ListLog", logs, err)
	lc, err := st.VerifyLog(ctx, "audit")
	must("VerifyLog", lc, err)
	var got struct{ N int }
	found, err := st.GetRecord(ctx, "finding", "a", &got)
	must("GetRecord", []any{found, got}, err)
	return out
}

// filledStore writes the scenario's statistics, records (one with a TTL) and an audit log
// into a store in dir, and closes it.
func filledStore(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	st := openStore(t, dir, t0.Add(2*time.Hour))
	a := NewAggregator(siteCls{}, AggOptions{})
	for _, ev := range scenario() {
		a.Add(&ev)
	}
	flush(t, a, st)
	for id, n := range map[string]int{"a": 1, "b": 2} {
		if err := st.PutRecord(ctx, "finding", id, struct{ N int }{n}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutRecord(ctx, "finding", "c", struct{ N int }{3}, time.Hour); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := st.AppendLog(ctx, "audit", map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestOpenReadOnlyReadsWhatOpenReads: every query over a store opened read-only gives what it
// gives over the same file opened by buntdb; the file is not changed; writes fail.
func TestOpenReadOnlyReadsWhatOpenReads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	filledStore(t, dir)
	path := filepath.Join(dir, DBFile)
	before := fileHash(t, path)

	ro, err := OpenReadOnly(ctx, dir, Options{Now: fixedNow(t0.Add(2 * time.Hour)), Command: "ro"})
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, ro)
	if n := len(got["Pairs"].([]Pair)); n == 0 {
		t.Fatal("no pairs read: the scenario's store is empty?")
	}
	if _, err := Open(ctx, dir, Options{Command: "second"}); !errors.As(err, new(*LockedError)) {
		t.Errorf("Open while read-only open = %v; want *LockedError (the read-only store holds the lock)", err)
	}
	writes := map[string]error{
		"PutRecord": ro.PutRecord(ctx, "finding", "x", 1, 0),
		"Prune":     func() error { _, err := ro.Prune(ctx); return err }(),
		"Shrink":    ro.Shrink(ctx),
		"Backup":    ro.Backup(ctx, &bytes.Buffer{}),
		"Flush": func() error {
			a := NewAggregator(siteCls{}, AggOptions{})
			for _, ev := range scenario() {
				a.Add(&ev)
			}
			_, err := a.Flush(ctx, ro)
			return err
		}(),
	}
	_, writes["AppendLog"] = ro.AppendLog(ctx, "audit", 1)
	for name, err := range writes {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only store = %v; want ErrReadOnly", name, err)
		}
	}
	if m := ro.Metrics(); m.Keys == 0 {
		t.Errorf("Metrics().Keys = 0 on the read-only store")
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if fileHash(t, path) != before {
		t.Error("the read-only open changed the database file")
	}

	rw := openStore(t, dir, t0.Add(2*time.Hour))
	defer rw.Close()
	want := readAll(t, rw)
	if d := cmp.Diff(want, got, addrEq); d != "" {
		t.Errorf("read-only results differ (-buntdb +read-only):\n%s", d)
	}
}

// TestOpenReadOnlyRefuses: what Open refuses, or would have to write to open, OpenReadOnly
// refuses with the same error or ErrNeedsWrite; a torn tail is read up to its last command.
func TestOpenReadOnlyRefuses(t *testing.T) {
	ctx := context.Background()
	t.Run("empty folder", func(t *testing.T) {
		st, err := OpenReadOnly(ctx, t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if h, err := st.Hosts(ctx); err != nil || len(h) != 0 {
			t.Errorf("Hosts = %v, %v; want none", h, err)
		}
	})
	t.Run("behind its record", func(t *testing.T) {
		dir := t.TempDir()
		filledStore(t, dir)
		rec, _, err := readLastFlush(dir)
		if err != nil {
			t.Fatal(err)
		}
		rec.Flush += 5
		if err := writeLastFlush(dir, rec); err != nil {
			t.Fatal(err)
		}
		_, err = OpenReadOnly(ctx, dir, Options{})
		if !errors.As(err, new(*BehindError)) {
			t.Errorf("OpenReadOnly = %v; want *BehindError", err)
		}
		_, err = OpenReadOnly(ctx, dir, Options{AcceptBehind: true})
		if !errors.Is(err, ErrNeedsWrite) {
			t.Errorf("OpenReadOnly(AcceptBehind) = %v; want ErrNeedsWrite", err)
		}
	})
	t.Run("older schema", func(t *testing.T) {
		dir := t.TempDir()
		filledStore(t, dir)
		db, err := buntdb.Open(filepath.Join(dir, DBFile))
		if err != nil {
			t.Fatal(err)
		}
		_ = db.Update(func(tx *buntdb.Tx) error { _, _, err := tx.Set(schemaKey, "5", nil); return err })
		db.Close()
		if _, err := OpenReadOnly(ctx, dir, Options{}); !errors.Is(err, ErrNeedsWrite) {
			t.Errorf("OpenReadOnly = %v; want ErrNeedsWrite", err)
		}
	})
	t.Run("damaged", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, DBFile), []byte("not a database\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenReadOnly(ctx, dir, Options{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("OpenReadOnly = %v; want ErrCorrupt", err)
		}
	})
	t.Run("torn tail", func(t *testing.T) {
		dir := t.TempDir()
		filledStore(t, dir)
		path := filepath.Join(dir, DBFile)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteString("*3\r\n$3\r\nset\r\n$7\r\nrec|x|y\r\n$40\r\n{\"half")
		f.Close()
		before := fileHash(t, path)
		st, err := OpenReadOnly(ctx, dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := st.Pairs(ctx, time.Time{}); err != nil || len(p) == 0 {
			t.Errorf("Pairs = %v, %v; want the pairs before the torn write", p, err)
		}
		st.Close()
		if fileHash(t, path) != before {
			t.Error("the read-only open truncated the torn tail; the next read-write open does that")
		}
	})
}

// recordOps is a sequence of record transactions: puts with and without a TTL, a delete,
// log appends (several in one transaction), a transaction that fails, and reads of its own
// writes.
func recordOps(t *testing.T, st *Store) []LogRecord {
	t.Helper()
	ctx := context.Background()
	var hooked []LogRecord
	st.OnLog(func(r LogRecord) { hooked = append(hooked, r) })
	for i := range 4 {
		if err := st.PutRecord(ctx, "proposal", fmt.Sprint("p", i), map[string]int{"i": i}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutRecord(ctx, "proposal", "ttl", "soon", 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	if found, err := st.DeleteRecord(ctx, "finding", "b"); err != nil || !found {
		t.Fatalf("DeleteRecord(finding, b) = %v, %v; want found", found, err)
	}
	if found, err := st.DeleteRecord(ctx, "finding", "nope"); err != nil || found {
		t.Fatalf("DeleteRecord(finding, nope) = %v, %v; want not found", found, err)
	}
	err := st.Update(ctx, func(tx *RecordTx) error {
		for i := range 3 {
			if _, err := tx.AppendLog("audit", map[string]int{"batch": i}); err != nil {
				return err
			}
		}
		if err := tx.Put("finding", "a", struct{ N int }{10}, 0); err != nil {
			return err
		}
		var got struct{ N int }
		if ok, err := tx.Get("finding", "a", &got); err != nil || !ok || got.N != 10 {
			t.Errorf("Get in the transaction = %v %v %v; want its own write", ok, err, got)
		}
		n := 0
		_ = tx.List("proposal", func(string, []byte) error { n++; return nil })
		if n != 5 {
			t.Errorf("List(proposal) in the transaction = %d records; want 5", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = st.Update(ctx, func(tx *RecordTx) error {
		_ = tx.Put("finding", "a", struct{ N int }{99}, 0)
		_, _ = tx.AppendLog("audit", "lost")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing Update = %v", err)
	}
	return hooked
}

// dumpFile lists key=value and whether each key has a TTL, as buntdb reads the file.
func dumpFile(t *testing.T, path string) []string {
	t.Helper()
	db, err := buntdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []string
	_ = db.View(func(tx *buntdb.Tx) error {
		return tx.Ascend("", func(k, v string) bool {
			d, _ := tx.TTL(k)
			ttl := ""
			if d > 0 {
				ttl = fmt.Sprintf(" ttl %.0fh", d.Hours())
			}
			out = append(out, k+"="+v+ttl)
			return true
		})
	})
	return out
}

// TestOpenAppendWritesWhatOpenWrites: the same record transactions on two copies of a store,
// one opened with Open and one with OpenAppend, leave files that buntdb reads the same; the
// appending store reads its own writes, fires the log hooks and keeps the audit chain.
func TestOpenAppendWritesWhatOpenWrites(t *testing.T) {
	ctx := context.Background()
	rwDir, apDir := t.TempDir(), t.TempDir()
	filledStore(t, rwDir)
	filledStore(t, apDir)

	rw := openStore(t, rwDir, t0.Add(2*time.Hour))
	rwHooks := recordOps(t, rw)
	rwReads := readAll(t, rw)
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}

	ap, err := OpenAppend(ctx, apDir, Options{Now: fixedNow(t0.Add(2 * time.Hour)), Command: "append"})
	if err != nil {
		t.Fatal(err)
	}
	apHooks := recordOps(t, ap)
	apReads := readAll(t, ap)
	if d := cmp.Diff(rwReads, apReads, addrEq); d != "" {
		t.Errorf("reads after the writes differ (-Open +OpenAppend):\n%s", d)
	}
	if d := cmp.Diff(rwHooks, apHooks); d != "" || len(apHooks) != 3 {
		t.Errorf("log hooks differ (-Open +OpenAppend), want 3:\n%s", d)
	}
	if lc := apReads["VerifyLog"].(LogCheck); lc.Entries != 6 || lc.Break != nil {
		t.Errorf("VerifyLog = %+v; want 6 entries, intact", lc)
	}
	if _, err := ap.Prune(ctx); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Prune on an appending store = %v; want ErrReadOnly", err)
	}
	if err := ap.Close(); err != nil {
		t.Fatal(err)
	}
	want, got := dumpFile(t, filepath.Join(rwDir, DBFile)), dumpFile(t, filepath.Join(apDir, DBFile))
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("files differ as buntdb reads them (-Open +OpenAppend):\n%s", d)
	}
	// And Open goes on from the appended file: its chain, its records.
	st := openStore(t, apDir, t0.Add(2*time.Hour))
	defer st.Close()
	if _, err := st.AppendLog(ctx, "audit", "after"); err != nil {
		t.Fatal(err)
	}
	if lc, err := st.VerifyLog(ctx, "audit"); err != nil || lc.Entries != 7 || lc.Break != nil {
		t.Errorf("VerifyLog after reopening = %+v, %v; want 7 entries, intact", lc, err)
	}
}

// A torn last write must be truncated before anything is appended after it.
func TestOpenAppendRefusesATornFile(t *testing.T) {
	dir := t.TempDir()
	filledStore(t, dir)
	f, err := os.OpenFile(filepath.Join(dir, DBFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("*3\r\n$3\r\nset\r\n$1\r\nx")
	f.Close()
	if _, err := OpenAppend(context.Background(), dir, Options{}); !errors.Is(err, ErrNeedsWrite) {
		t.Fatalf("OpenAppend = %v; want ErrNeedsWrite", err)
	}
	st := openStore(t, dir, t0) // the lock was released; Open truncates the tail
	st.Close()
	ap, err := OpenAppend(context.Background(), dir, Options{})
	if err != nil {
		t.Fatalf("OpenAppend after Open truncated the tail = %v", err)
	}
	ap.Close()
}
