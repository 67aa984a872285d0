package stats

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
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
