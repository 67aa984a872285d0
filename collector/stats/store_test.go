package stats

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir, t0)
	_, err := Open(context.Background(), dir, Options{Command: "second"})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Open = %v; want *LockedError", err)
	}
	if le.PID != os.Getpid() || le.Cmd != "stats.test" || le.Path != filepath.Join(dir, LockFile) {
		t.Errorf("LockedError = %+v; want pid %d, cmd stats.test, path %s", le, os.Getpid(), filepath.Join(dir, LockFile))
	}
	if msg := err.Error(); !strings.Contains(msg, strconv.Itoa(os.Getpid())) || !strings.Contains(msg, "stats.test") {
		t.Errorf("error %q does not name the owner", msg)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := Open(context.Background(), dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close = %v", err)
	}
	st2.Close()
}

func siteDocs(t *testing.T, st *Store) uint64 {
	t.Helper()
	site, err := st.SiteSeries(context.Background(), Window{}, Daily)
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, b := range site {
		n += b.Docs
	}
	return n
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir, t0.Add(2*time.Hour))
	a := NewAggregator(siteCls{}, AggOptions{})
	for _, ev := range scenario() {
		a.Add(&ev)
	}
	flush(t, a, st)
	const want1 = 13 // the scenario's 17 events less its 4 router packet logs (not documents)
	if err := st.PutRecord(ctx, "findings", "f1", map[string]int{"n": 1}, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, dir, t0.Add(2*time.Hour))
	defer st.Close()
	if got := siteDocs(t, st); got != want1 {
		t.Errorf("docs after reopen = %d; want %d", got, want1)
	}
	// The same hour again after the reopen adds to what the file holds (the store must not
	// take the bucket for one nothing has written).
	for _, ev := range scenario() {
		a.Add(&ev)
	}
	flush(t, a, st)
	if got := siteDocs(t, st); got != 2*want1 {
		t.Errorf("docs after a second flush of the same hour = %d; want %d", got, 2*want1)
	}
	peers, err := st.Peers(ctx, ip("10.2.0.5"), Window{}, Hourly)
	if err != nil || len(peers) != 1 || peers[0].BytesInitiated != 3000 {
		t.Errorf("Peers(10.2.0.5) after two flushes = %+v, %v; want 3000 bytes", peers, err)
	}
	tc, err := st.Terms(ctx, FieldSourceIP, Window{}, Daily)
	if err != nil || tc.Map()[Term{Addr: ip("10.2.0.5")}] != 2*2 {
		// 10.2.0.5's router packet logs are not documents: its 2 ASA documents per flush.
		t.Errorf("Terms(source.ip) after two flushes = %+v, %v; want 4 documents for 10.2.0.5", tc, err)
	}
	var v map[string]int
	if ok, err := st.GetRecord(ctx, "findings", "f1", &v); !ok || err != nil || v["n"] != 1 {
		t.Errorf("GetRecord after reopen = %v, %v, %v; want found {n:1}", ok, err, v)
	}
}

// hostValues reads every host bucket as raw text.
func hostValues(t *testing.T, st *Store) map[string]string {
	t.Helper()
	out := make(map[string]string)
	if err := st.scanPrefix(context.Background(), "host|", func(k, v string) bool {
		out[k] = v
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// A crash while buntdb writes a flush leaves the file ending mid-command. Every prefix of the
// file from the end of flush 1 must open cleanly, keep flush 1 whole, and show each key of
// flush 2 either before or after its update (buntdb keeps the complete commands of a torn
// write: the last flush may be partly lost, nothing else).
func TestTornWrite(t *testing.T) {
	dir := t.TempDir()
	now := t0.Add(2 * time.Hour)
	st := openStore(t, dir, now)
	a := NewAggregator(siteCls{}, AggOptions{})
	for _, ev := range scenario() {
		a.Add(&ev)
	}
	flush(t, a, st)
	after1 := hostValues(t, st)
	fi, err := os.Stat(st.Path())
	if err != nil {
		t.Fatal(err)
	}
	size1 := fi.Size()
	for _, ev := range scenario() {
		a.Add(&ev)
	}
	flush(t, a, st)
	after2 := hostValues(t, st)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int64{size1, size1 + 1, size1 + 7, (size1 + int64(len(data))) / 2, int64(len(data)) - 3, int64(len(data)) - 1} {
		d2 := t.TempDir()
		if err := os.WriteFile(filepath.Join(d2, DBFile), data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		st2, err := Open(context.Background(), d2, Options{Now: fixedNow(now)})
		if err != nil {
			t.Fatalf("Open of the file cut at %d of %d = %v", cut, len(data), err)
		}
		got := hostValues(t, st2)
		for k, v1 := range after1 {
			if v := got[k]; v != v1 && v != after2[k] {
				t.Errorf("cut %d: %s = %q; want %q (flush 1) or %q (flush 2)", cut, k, v, v1, after2[k])
			}
		}
		st2.Close()
		fi, err := os.Stat(filepath.Join(d2, DBFile))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > cut {
			t.Errorf("cut %d: file grew to %d on open", cut, fi.Size())
		}
	}
}

func TestOpenCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DBFile)
	if err := os.WriteFile(path, []byte("*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\nb\r\ngarbage\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the lock is released after a failed Open
		_, err := Open(context.Background(), dir, Options{})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
			t.Fatalf("Open of a damaged file = %v; want ErrCorrupt naming %s", err, path)
		}
	}
}

// TestKillDuringIngest runs a child process that flushes in a loop and kills it with SIGKILL
// after it has reported some flushes; the reopened db must hold every reported flush and at
// most one more.
func TestKillDuringIngest(t *testing.T) {
	if os.Getenv("STATS_KILL_CHILD") != "" {
		t.Skip("child")
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$")
	cmd.Env = append(os.Environ(), "STATS_KILL_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The child flushes once per line it reads; the kill lands while flush 6 may be running.
	sc := bufio.NewScanner(out)
	reported := 0
	for reported < 5 {
		if _, err := in.Write([]byte("go\n")); err != nil {
			t.Fatal(err)
		}
		if !sc.Scan() {
			break
		}
		if n, ok := strings.CutPrefix(sc.Text(), "flushed "); ok {
			reported, _ = strconv.Atoi(n)
		}
	}
	_, _ = in.Write([]byte("go\n"))
	_ = cmd.Process.Kill() // SIGKILL
	_ = cmd.Wait()
	if reported < 5 {
		t.Fatalf("child reported %d flushes before exiting", reported)
	}
	st := openStore(t, dir, t0.Add(2*time.Hour))
	defer st.Close()
	got := siteDocs(t, st)
	const per = 13 // documents per flush of the scenario (its router packet logs are not documents)
	if got < uint64(reported)*per || got > uint64(reported+1)*per {
		t.Errorf("docs after kill = %d; want %d..%d (%d flushes reported, the next may be lost)", got, reported*per, (reported+1)*per, reported)
	}
}

func TestKillChild(t *testing.T) {
	dir := os.Getenv("STATS_KILL_CHILD")
	if dir == "" {
		t.Skip("only run as TestKillDuringIngest's child")
	}
	st := openStore(t, dir, t0.Add(2*time.Hour))
	a := NewAggregator(siteCls{}, AggOptions{})
	sc := bufio.NewScanner(os.Stdin)
	for i := 1; sc.Scan(); i++ {
		for _, ev := range scenario() {
			a.Add(&ev)
		}
		flush(t, a, st)
		fmt.Printf("flushed %d\n", i)
	}
}
