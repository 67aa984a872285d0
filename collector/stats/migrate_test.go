package stats

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/buntdb"
)

// fixtureNow is when testdata/db/schema-v3.db.gz was written (by the schema-3 firebreak; see
// schema-v3.json): buntdb keeps each key's remaining TTL relative to the file's time, and a
// file unpacked now is that file seen at that moment.
var fixtureNow = time.Date(2026, 12, 3, 12, 53, 0, 0, time.UTC)

// unpackV3 writes the schema-3 fixture as dir/firebreak.db.
func unpackV3(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "db", "schema-v3.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DBFile)
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// v3Counts reads what the schema-3 file holds, by its own key layout, with buntdb directly.
type v3Counts struct {
	denies  map[netip.Addr]uint64 // hourly deny totals per source
	acls    map[string]uint64     // hourly denies per "src acl"
	terms   map[Field]map[Term]uint64
	records map[string]int
	logs    int
}

func readV3(t *testing.T, path string) v3Counts {
	t.Helper()
	c := v3Counts{denies: map[netip.Addr]uint64{}, acls: map[string]uint64{}, terms: map[Field]map[Term]uint64{}, records: map[string]int{}}
	byKey := map[string]Field{}
	for _, f := range Fields {
		byKey[fieldKeys[f]] = f
		c.terms[f] = map[Term]uint64{}
	}
	db, err := buntdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *buntdb.Tx) error {
		return tx.AscendKeys("*", func(k, v string) bool {
			f := strings.Split(k, "|")
			switch {
			case f[0] == "deny" && f[1] == "h":
				n, _ := strconv.ParseUint(v, 10, 64)
				c.denies[netip.MustParseAddr(f[2])] += n
			case f[0] == "dacl" && f[1] == "h":
				n, _ := strconv.ParseUint(v, 10, 64)
				c.acls[f[2]+" "+unesc(f[4])] += n
			case f[0] == "term" && f[1] == "h":
				es, err := decodePacked(v, nfTerm, nil)
				if err != nil {
					t.Errorf("fixture key %s: %v", k, err)
				}
				field := byKey[f[2]]
				for _, e := range es {
					var tm Term
					switch field {
					case FieldDestinationPort:
						if e.proto == 0 && e.port == 0 {
							continue
						}
						tm.Proto, tm.Port = e.proto, e.port
					case FieldUserSource:
						if e.user == "" || !e.addr.IsValid() {
							continue
						}
						tm.User, tm.Addr = e.user, e.addr
					default:
						if !e.addr.IsValid() {
							continue
						}
						tm.Addr = e.addr
					}
					c.terms[field][tm] += e.v[0]
				}
			case f[0] == "rec":
				c.records[f[1]]++
			case f[0] == "log":
				c.logs++
			}
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An upgrade carries a schema-3 database (written by the schema-3 firebreak) forward: the
// records (findings, proposals, the audit log) are kept as they were, and the two statistics
// families schema 4 changed read back with the same totals through today's queries.
func TestOpenMigratesSchema3Database(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := unpackV3(t, dir)
	probe := filepath.Join(t.TempDir(), DBFile)
	if err := copyFile(path, probe); err != nil {
		t.Fatal(err)
	}
	want := readV3(t, probe)
	if len(want.denies) == 0 || len(want.acls) == 0 || len(want.terms[FieldSourceIP]) == 0 || want.records["finding"] == 0 {
		t.Fatalf("the fixture holds too little to test: %d deny sources, %d ACL pairs, %d source terms, %v records",
			len(want.denies), len(want.acls), len(want.terms[FieldSourceIP]), want.records)
	}

	st, err := Open(ctx, dir, Options{Now: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatalf("open the schema-3 file: %v", err)
	}
	defer st.Close()
	mg := st.Migrated()
	if mg == nil || mg.From != 3 || mg.To != schemaVersion || mg.Keys == 0 {
		t.Fatalf("Migrated() = %+v, want 3 -> %d with keys rewritten", mg, schemaVersion)
	}
	if info, err := Inspect(mg.Backup); err != nil || info.Schema != 3 || info.Records["finding"] != want.records["finding"] {
		t.Fatalf("the backup of the old file: %+v, %v", info, err)
	}

	for ns, n := range want.records {
		got := 0
		if err := st.ListRecords(ctx, ns, func(string, []byte) error { got++; return nil }); err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("records %s: %d after the migration, %d before", ns, got, n)
		}
	}
	logs := 0
	if err := st.ListLog(ctx, "audit", 0, func(uint64, []byte) error { logs++; return nil }); err != nil {
		t.Fatal(err)
	}
	if logs != want.logs {
		t.Errorf("audit log: %d entries after, %d before", logs, want.logs)
	}

	ds, err := st.Denies(ctx, netip.Addr{}, Window{}, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	got := map[netip.Addr]uint64{}
	for _, d := range ds {
		got[d.Src] = d.Count
	}
	for src, n := range want.denies {
		if got[src] != n {
			t.Errorf("denies of %s: %d after, %d before", src, got[src], n)
		}
	}
	if len(got) != len(want.denies) {
		t.Errorf("deny sources: %d after, %d before", len(got), len(want.denies))
	}
	acls, err := st.DenyACLs(ctx, netip.Addr{}, Window{}, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	gotACL := map[string]uint64{}
	for _, a := range acls {
		gotACL[a.Src.String()+" "+a.ACL] = a.Count
	}
	for k, n := range want.acls {
		if gotACL[k] != n {
			t.Errorf("denies %s: %d after, %d before", k, gotACL[k], n)
		}
	}
	for _, f := range Fields {
		tc, err := st.Terms(ctx, f, Window{}, Hourly)
		if err != nil {
			t.Fatal(err)
		}
		gotT := map[Term]uint64{}
		for _, x := range tc.Terms {
			gotT[x.Term] = x.Count
		}
		if len(gotT) != len(want.terms[f]) {
			t.Errorf("%s: %d terms after, %d before", f, len(gotT), len(want.terms[f]))
		}
		for tm, n := range want.terms[f] {
			if gotT[tm] != n {
				t.Errorf("%s %+v: %d after, %d before", f, tm, gotT[tm], n)
			}
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Opened again, the file is current: nothing more to migrate.
	st2, err := Open(ctx, dir, Options{Now: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if st2.Migrated() != nil {
		t.Errorf("second open migrated again: %+v", st2.Migrated())
	}
}

// A file from a newer firebreak is refused with a message saying so, and left as it was.
func TestOpenRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DBFile)
	db, err := buntdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *buntdb.Tx) error {
		_, _, err := tx.Set(schemaKey, strconv.Itoa(schemaVersion+1), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	_, err = Open(context.Background(), dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "newer firebreak") {
		t.Fatalf("open a newer file: %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("the refused file was changed")
	}
	if _, err := os.Stat(path + ".schema-v" + strconv.Itoa(schemaVersion+1) + ".bak"); err == nil {
		t.Error("a backup was made of a file that was not migrated")
	}
}

// A backup taken while the store is written to is a database file of its own, and Restore puts
// it back in place of a newer one (moved aside) so that the next Open accepts it.
func TestBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(id string) {
		if err := st.PutRecord(ctx, "finding", id, map[string]string{"id": id}, 0); err != nil {
			t.Fatal(err)
		}
	}
	put("a")
	put("b")
	st.markFlush(time.Now())
	bak := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(bak)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	put("c") // after the backup
	st.markFlush(time.Now())

	if _, err := Restore(ctx, dir, bak, time.Now()); err == nil {
		t.Fatal("restore while the store is open succeeded; want the lock refusal")
	} else if _, ok := err.(*LockedError); !ok {
		t.Fatalf("restore while open: %v, want a *LockedError", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Restore(ctx, dir, bak, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Info.Records["finding"] != 2 || r.Aside == "" {
		t.Fatalf("restored %+v", r)
	}
	if info, err := Inspect(r.Aside); err != nil || info.Records["finding"] != 3 {
		t.Fatalf("the file moved aside: %+v %v", info, err)
	}
	st, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatalf("open after restore (the record must follow the restored file): %v", err)
	}
	defer st.Close()
	var ids []string
	if err := st.ListRecords(ctx, "finding", func(id string, raw []byte) error {
		var v map[string]string
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != "a,b" {
		t.Errorf("findings after restore: %v, want a,b", ids)
	}
	if _, err := Restore(ctx, dir, filepath.Join(dir, "nope"), time.Now()); err == nil {
		t.Error("restore of a missing file succeeded")
	}
}

// An upgrade from schema 4 (testdata/db/schema-v4.db.gz: a 3-day `firebreak gen --days 3
// --lines-per-day 2000 --seed 5 --start 2026-11-29` scenario ingested and detected by the
// schema-4 firebreak on 2026-12-03) keeps every statistics key and value, takes the buntdb TTLs
// off the statistics (schema 6) (records keep theirs) and gives exemplars their line's time.
func TestOpenMigratesSchema4Database(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, DBFile)
	unpackGz(t, filepath.Join("..", "..", "testdata", "db", "schema-v4.db.gz"), path)
	type item struct {
		val string
		ttl bool
	}
	probe := filepath.Join(t.TempDir(), DBFile)
	if err := copyFile(path, probe); err != nil {
		t.Fatal(err)
	}
	db, err := buntdb.Open(probe)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]item{}
	_ = db.View(func(tx *buntdb.Tx) error {
		return tx.Ascend("", func(k, v string) bool {
			ttl, _ := tx.TTL(k)
			before[k] = item{v, ttl != -1}
			return true
		})
	})
	db.Close()
	var stats, ex, withTTL, recTTL int
	for k, it := range before {
		if _, ok := expiresAt(k, "0 0", Retention{}); ok || strings.HasPrefix(k, "ex|") {
			stats++
			if it.ttl {
				withTTL++
			}
		} else if it.ttl {
			recTTL++
		}
		if strings.HasPrefix(k, "ex|") {
			ex++
		}
	}
	if stats < 1000 || ex == 0 || withTTL != stats {
		t.Fatalf("the fixture: %d statistics keys (%d with a TTL), %d exemplars; want many, all with TTLs", stats, withTTL, ex)
	}

	st, err := Open(ctx, dir, Options{Now: func() time.Time { return time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatalf("open the schema-4 file: %v", err)
	}
	defer st.Close()
	mg := st.Migrated()
	if mg == nil || mg.From != 4 || mg.To != schemaVersion || mg.Keys < stats {
		t.Fatalf("Migrated() = %+v, want 4 -> %d with %d keys rewritten", mg, schemaVersion, stats)
	}
	wall := time.Now().Unix()
	seen := map[string]bool{}
	var lines, recTTLAfter int
	_ = st.db.View(func(tx *buntdb.Tx) error {
		return tx.Ascend("", func(k, v string) bool {
			seen[k] = true
			old, had := before[k]
			ttl, _ := tx.TTL(k)
			switch {
			case k == schemaKey || k == prunedKey || k == flushKey || strings.HasPrefix(k, "log"):
				// (log entries are schema 5's: chained by hash)
			case !had:
				t.Errorf("%s: new key after the migration", k)
			case strings.HasPrefix(k, "ex|"):
				ts, raw, _ := strings.Cut(v, " ")
				at := atoi64(ts) + int64(35*24*time.Hour/time.Second)
				if raw != old.val || exemplarLine(v) != old.val || at < wall || at > wall+int64(36*24*time.Hour/time.Second) {
					t.Errorf("%s = %q; want the line's time and %q", k, v, old.val)
				}
				lines++
			case v != old.val:
				t.Errorf("%s changed in the migration", k)
			}
			if strings.HasPrefix(k, "rec|") {
				if ttl != -1 {
					recTTLAfter++
				}
			} else if ttl != -1 {
				t.Errorf("%s keeps a TTL (%v)", k, ttl)
			}
			return true
		})
	})
	for k := range before {
		if !seen[k] {
			t.Errorf("%s lost in the migration", k)
		}
	}
	if lines != ex || recTTLAfter != recTTL {
		t.Errorf("%d exemplars after, %d before; %d records with a TTL after, %d before", lines, ex, recTTLAfter, recTTL)
	}
	if hs, err := st.AllHostSeries(ctx, Window{}, Hourly); err != nil || len(hs) == 0 {
		t.Errorf("AllHostSeries after the migration: %d hosts, %v", len(hs), err)
	}
}

func unpackGz(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
