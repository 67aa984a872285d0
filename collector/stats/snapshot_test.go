package stats

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/buntdb"
)

// dumpTx lists every key=value of tx in order.
func dumpTx(tx kvTx) []string {
	var out []string
	_ = tx.Ascend("", func(k, v string) bool {
		out = append(out, fmt.Sprintf("%q=%q", k, v))
		return true
	})
	return out
}

// loadBoth reads the file at path with buntdb (on a copy: buntdb truncates a torn tail) and
// as a snapshot, and fails the test unless they agree, key for key and on every read the
// store's code makes of a snapshot (Get, AscendRange, Len).
func loadBoth(t *testing.T, path string, keys []string, rng *rand.Rand) *snapshot {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(cp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(cp, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	db, err := buntdb.Open(cp)
	if err != nil {
		t.Fatalf("buntdb.Open: %v", err)
	}
	defer db.Close()
	snap, err := readBothWays(t, string(data), fi.ModTime(), time.Now())
	if err != nil {
		t.Fatalf("readSnapshot: %v", err)
	}
	err = db.View(func(tx *buntdb.Tx) error {
		if d := cmp.Diff(dumpTx(tx), dumpTx(snap)); d != "" {
			t.Fatalf("contents differ (-buntdb +snapshot):\n%s", d)
		}
		for _, k := range keys {
			wv, werr := tx.Get(k)
			gv, gerr := snap.Get(k)
			if wv != gv || !errors.Is(gerr, werr) && werr != gerr {
				t.Fatalf("Get(%q) = %q, %v; buntdb %q, %v", k, gv, gerr, wv, werr)
			}
		}
		for range 20 {
			lo, hi := keys[rng.IntN(len(keys))], keys[rng.IntN(len(keys))]
			var want, got []string
			_ = tx.AscendRange("", lo, hi, func(k, _ string) bool { want = append(want, k); return true })
			_ = snap.AscendRange("", lo, hi, func(k, _ string) bool { got = append(got, k); return true })
			if !slices.Equal(want, got) {
				t.Fatalf("AscendRange(%q, %q) = %q; buntdb %q", lo, hi, got, want)
			}
		}
		wn, _ := tx.Len()
		gn, _ := snap.Len()
		if wn != gn {
			t.Fatalf("Len = %d; buntdb %d", gn, wn)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// readBothWays reads data in one pass and split in two halves parsed at once (as files of
// snapSplitMin bytes or more are), and fails the test unless both give the same.
func readBothWays(t testing.TB, data string, modTime, now time.Time) (*snapshot, error) {
	t.Helper()
	one, err1 := readSnapshot(data, modTime, now)
	defer func(old int) { snapSplitMin = old }(snapSplitMin)
	snapSplitMin = 0
	two, err2 := readSnapshot(data, modTime, now)
	if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
		t.Fatalf("one pass: %v; in two halves: %v", err1, err2)
	}
	if err1 == nil && (!slices.Equal(one.ents, two.ents) || one.torn != two.torn || !maps.Equal(one.exp, two.exp)) {
		t.Fatalf("one pass and two halves differ: %d/%d keys, torn %d/%d", len(one.ents), len(two.ents), one.torn, two.torn)
	}
	return one, err1
}

// TestSnapshotMatchesBuntdb writes files with buntdb itself (sets, overwrites, deletes, TTLs
// alive and expired, compactions, values holding the format's own bytes) and reads each as
// buntdb does and as a snapshot, whole and cut short at random points.
func TestSnapshotMatchesBuntdb(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 17))
			path := filepath.Join(t.TempDir(), "t.db")
			db, err := buntdb.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.SetConfig(buntdb.Config{SyncPolicy: buntdb.Never, AutoShrinkDisabled: true}); err != nil {
				t.Fatal(err)
			}
			keys := []string{"", "a", "z", "\xff"}
			for i := range 60 {
				keys = append(keys, fmt.Sprintf("host|h|10.0.%d.%d|%06d", i%3, i, 20000+i%7))
			}
			bytes := []string{"", "0", "*3\r\n$3\r\nset\r\n", "$5\r\n", "a\x00b", "\r\n\r\n", "\xff\xfe"}
			val := func() string {
				var b strings.Builder
				for range rng.IntN(5) {
					b.WriteString(bytes[rng.IntN(len(bytes))])
				}
				if rng.IntN(10) == 0 {
					b.WriteString(strings.Repeat("v", rng.IntN(5000)))
				}
				return b.String()
			}
			for round := range 8 {
				err := db.Update(func(tx *buntdb.Tx) error {
					for range 10 + rng.IntN(40) {
						k := keys[4+rng.IntN(len(keys)-4)]
						switch r := rng.IntN(10); {
						case r < 6:
							_, _, err := tx.Set(k, val(), nil)
							if err != nil {
								return err
							}
						case r < 8:
							// a TTL of 1 s has passed once the file's time is moved back below
							ttl := []time.Duration{time.Second, time.Hour}[rng.IntN(2)]
							if _, _, err := tx.Set(k, val(), &buntdb.SetOptions{Expires: true, TTL: ttl}); err != nil {
								return err
							}
						default:
							if _, err := tx.Delete(k); err != nil && !errors.Is(err, buntdb.ErrNotFound) {
								return err
							}
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if round == 3 || round == 6 && seed%2 == 0 {
					if err := db.Shrink(); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			// Age the file by a minute: the 1-second TTLs are past at load, the hour ones not.
			old := time.Now().Add(-time.Minute)
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
			snap := loadBoth(t, path, keys, rng)
			if snap.torn != 0 {
				t.Errorf("whole file: torn = %d bytes; want 0", snap.torn)
			}
			data, _ := os.ReadFile(path)
			for range 6 {
				cut := filepath.Join(t.TempDir(), "cut.db")
				if err := os.WriteFile(cut, data[:rng.IntN(len(data))], 0o600); err != nil {
					t.Fatal(err)
				}
				_ = os.Chtimes(cut, old, old)
				loadBoth(t, cut, keys, rng)
			}
		})
	}
}

// TestSnapshotFormatCases holds hand-written files to buntdb's reading of them: the same
// contents, or an invalid file for both.
func TestSnapshotFormatCases(t *testing.T) {
	set := func(k, v string) string {
		return fmt.Sprintf("*3\r\n$3\r\nset\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
	}
	future := fmt.Sprint(time.Now().Add(time.Hour).Unix())
	past := fmt.Sprint(time.Now().Add(-time.Hour).Unix())
	cases := []struct {
		name, data string
		invalid    bool
		torn       bool
		// buntdb's loader allocates the length it reads before reading it (99 GB here); the
		// snapshot sees it as cut short, as buntdb does once its allocation succeeds.
		snapOnly bool
	}{
		{name: "empty"},
		{name: "nul bytes between commands", data: "\x00" + set("a", "1") + "\x00\x00" + set("b", "2")},
		{name: "upper-case commands", data: "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\n" + set("b", "2")},
		{name: "flushdb", data: set("a", "1") + "*1\r\n$7\r\nflushdb\r\n" + set("b", "2")},
		{name: "flushdb in the second half", data: set("a", "1") + set("b", "2") + set("c", "3") + set("d", "4") + "*1\r\n$7\r\nflushdb\r\n" + set("e", "5")},
		{name: "a command inside a value at the middle", data: set("a", "x\n"+set("zz", "inner")+"\n") + set("b", "2")},
		{name: "absolute expiry", data: "*5\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nae\r\n$" + fmt.Sprint(len(future)) + "\r\n" + future + "\r\n" +
			"*5\r\n$3\r\nset\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nae\r\n$" + fmt.Sprint(len(past)) + "\r\n" + past + "\r\n"},
		{name: "empty command", data: "*0\r\n" + set("a", "1")},
		{name: "torn value", data: set("a", "1") + "*3\r\n$3\r\nset\r\n$1\r\nb\r\n$9\r\nab", torn: true},
		{name: "torn length line", data: set("a", "1") + "*3\r\n$3", torn: true},
		{name: "length past the end", data: set("a", "1") + "*3\r\n$3\r\nset\r\n$99999999999\r\n", torn: true, snapOnly: true},
		{name: "not a command", data: "hello\r\n", invalid: true},
		{name: "unknown command", data: "*2\r\n$3\r\nfoo\r\n$1\r\na\r\n", invalid: true},
		{name: "value without CRLF", data: "*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1XY", invalid: true},
		{name: "set with 4 parts", data: "*4\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nex\r\n", invalid: true},
		{name: "bad set option", data: "*5\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nxx\r\n$1\r\n1\r\n", invalid: true},
		{name: "bad length", data: "*3\r\n$x\r\n", invalid: true},
		{name: "length line without CR", data: "*3\n", invalid: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.db")
			if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(path)
			snap, serr := readBothWays(t, tc.data, fi.ModTime(), time.Now())
			if tc.snapOnly {
				if serr != nil || snap.torn == 0 || len(snap.ents) != 1 {
					t.Fatalf("readSnapshot = %+v, %v; want the first key and a torn tail", snap, serr)
				}
				return
			}
			db, berr := buntdb.Open(path)
			if tc.invalid {
				if !errors.Is(serr, buntdb.ErrInvalid) || berr == nil {
					t.Fatalf("readSnapshot = %v, buntdb.Open = %v; want both invalid", serr, berr)
				}
				return
			}
			if serr != nil || berr != nil {
				t.Fatalf("readSnapshot = %v, buntdb.Open = %v; want both to read it", serr, berr)
			}
			defer db.Close()
			_ = db.View(func(tx *buntdb.Tx) error {
				if d := cmp.Diff(dumpTx(tx), dumpTx(snap)); d != "" {
					t.Errorf("contents differ (-buntdb +snapshot):\n%s", d)
				}
				return nil
			})
			if (snap.torn > 0) != tc.torn {
				t.Errorf("torn = %d bytes; want torn %v", snap.torn, tc.torn)
			}
		})
	}
}

// FuzzReadSnapshot: any bytes give an error or a sorted index of distinct keys, never a panic.
func FuzzReadSnapshot(f *testing.F) {
	f.Add("*3\r\n$3\r\nset\r\n$1\r\nb\r\n$1\r\n1\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$3\r\ndel\r\n$1\r\nb\r\n")
	f.Add("\x00*1\r\n$7\r\nflushdb\r\n*5\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nex\r\n$2\r\n10\r\n")
	f.Add("*3\r\n$3\r\nset\r\n$1\r\nb\r\n$9\r\nab")
	f.Fuzz(func(t *testing.T, data string) {
		s, err := readBothWays(t, data, time.Unix(1e9, 0), time.Unix(1e9+5, 0))
		if err != nil {
			return
		}
		for i := 1; i < len(s.ents); i++ {
			if s.key(i-1) >= s.key(i) {
				t.Fatalf("keys out of order: %q then %q", s.key(i-1), s.key(i))
			}
		}
	})
}

// BenchmarkReadSnapshot indexes a compacted file of 100,000 keys (about 45 MB, the 90-day
// scenario's size) with 2,000 writes after the compaction, or the file FIREBREAK_SNAPSHOT_FILE
// names.
func BenchmarkReadSnapshot(b *testing.B) {
	path := os.Getenv("FIREBREAK_SNAPSHOT_FILE")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
		db, err := buntdb.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		_ = db.SetConfig(buntdb.Config{SyncPolicy: buntdb.Never, AutoShrinkDisabled: true})
		val := strings.Repeat("v", 420)
		_ = db.Update(func(tx *buntdb.Tx) error {
			for i := range 100_000 {
				if _, _, err := tx.Set(fmt.Sprintf("host|h|10.%d.%d.%d|%06d", i%5, i/250%250, i%250, 20400+i%35), val, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err := db.Shrink(); err != nil {
			b.Fatal(err)
		}
		_ = db.Update(func(tx *buntdb.Tx) error {
			for i := range 2000 {
				_, _, _ = tx.Set(fmt.Sprintf("host|h|10.%d.%d.%d|%06d", i%5, i/250%250, i%250, 20400+i%35), val+"x", nil)
			}
			return nil
		})
		db.Close()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	s := string(data)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		snap, err := readSnapshot(s, time.Now(), time.Now())
		if err != nil || len(snap.ents) == 0 {
			b.Fatal(err)
		}
	}
}

// TestLayerMatchesBuntdb applies the same random sets and deletes, in several transactions, to
// a buntdb file and to a layer over a snapshot of it; the layer answers as buntdb does, and
// its commands appended to the file make buntdb read what the layer shows.
func TestLayerMatchesBuntdb(t *testing.T) {
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			dir := t.TempDir()
			path := filepath.Join(dir, "t.db")
			db, err := buntdb.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for i := range 40 {
				keys = append(keys, fmt.Sprintf("k|%02d", i))
			}
			_ = db.Update(func(tx *buntdb.Tx) error {
				for _, k := range keys[:30] {
					_, _, _ = tx.Set(k, "base "+k, nil)
				}
				return nil
			})
			db.Close()
			data, _ := os.ReadFile(path)
			snap, err := readSnapshot(string(data), time.Now(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ov := &layer{under: snap}
			var appended []byte
			db, err = buntdb.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for round := range 5 {
				ltx := newLayerTx(ov)
				err := db.Update(func(tx *buntdb.Tx) error {
					for range 15 {
						k := keys[rng.IntN(len(keys))]
						if rng.IntN(3) == 0 {
							_, werr := tx.Delete(k)
							_, gerr := ltx.Delete(k)
							if !errors.Is(gerr, werr) && gerr != werr {
								t.Fatalf("Delete(%q) = %v; buntdb %v", k, gerr, werr)
							}
							continue
						}
						v := fmt.Sprintf("r%d %s", round, k)
						_, wrep, _ := tx.Set(k, v, nil)
						_, grep, _ := ltx.Set(k, v, nil)
						if wrep != grep {
							t.Fatalf("Set(%q) replaced = %v; buntdb %v", k, grep, wrep)
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range ltx.ents {
					ov.put(e)
				}
				appended = append(appended, ltx.cmds...)
				_ = db.View(func(tx *buntdb.Tx) error {
					if d := cmp.Diff(dumpTx(tx), dumpTx(ov)); d != "" {
						t.Fatalf("round %d: contents differ (-buntdb +layer):\n%s", round, d)
					}
					for range 20 {
						lo, hi := keys[rng.IntN(len(keys))], keys[rng.IntN(len(keys))]+"~"
						var want, got []string
						_ = tx.AscendRange("", lo, hi, func(k, v string) bool { want = append(want, k+v); return len(want) < 7 })
						_ = ov.AscendRange("", lo, hi, func(k, v string) bool { got = append(got, k+v); return len(got) < 7 })
						if !slices.Equal(want, got) {
							t.Fatalf("AscendRange(%q, %q) = %q; buntdb %q", lo, hi, got, want)
						}
					}
					for _, k := range keys {
						wv, werr := tx.Get(k)
						gv, gerr := ov.Get(k)
						if wv != gv || (werr == nil) != (gerr == nil) {
							t.Fatalf("Get(%q) = %q, %v; buntdb %q, %v", k, gv, gerr, wv, werr)
						}
					}
					wn, _ := tx.Len()
					gn, _ := ov.Len()
					if wn != gn {
						t.Fatalf("Len = %d; buntdb %d", gn, wn)
					}
					return nil
				})
			}
			// The original file with the layer's commands appended reads as the layer.
			cp := filepath.Join(dir, "appended.db")
			if err := os.WriteFile(cp, append(data, appended...), 0o600); err != nil {
				t.Fatal(err)
			}
			db2, err := buntdb.Open(cp)
			if err != nil {
				t.Fatal(err)
			}
			defer db2.Close()
			_ = db2.View(func(tx *buntdb.Tx) error {
				if d := cmp.Diff(dumpTx(ov), dumpTx(tx)); d != "" {
					t.Errorf("appended file differs (-layer +buntdb):\n%s", d)
				}
				return nil
			})
		})
	}
}
