package collector

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

var killNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// TestKillDuringPipelineIngest runs the real ingest path (stdin → workers → aggregator →
// flusher → buntdb) in a child process, kills it with SIGKILL while lines are still arriving,
// and checks that the database reopens and holds at least every event the child reported
// flushed: at most what came after the last flush is lost.
func TestKillDuringPipelineIngest(t *testing.T) {
	if os.Getenv("COLLECTOR_KILL_CHILD") != "" {
		t.Skip("child")
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillPipelineChild$")
	cmd.Env = append(os.Environ(), "COLLECTOR_KILL_CHILD="+dir)
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
	// A child that stops reporting fails the test instead of hanging it.
	guard := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer guard.Stop()
	sc := bufio.NewScanner(out)
	// The reader hands lines on in batches of batchFrames: send whole batches.
	sent, flushed := 0, 0
	for round := range 5 {
		var chunk strings.Builder
		for i := range batchFrames {
			chunk.WriteString(line(round*batchFrames+i) + "\n")
		}
		if _, err := io.WriteString(in, chunk.String()); err != nil {
			t.Fatal(err)
		}
		sent += batchFrames
		for flushed < sent && sc.Scan() { // the child reports after each flush
			if n, ok := strings.CutPrefix(sc.Text(), "flushed "); ok {
				flushed, _ = strconv.Atoi(n)
			}
		}
	}
	// More lines, then the kill, probably in the middle of reading or flushing them.
	var chunk strings.Builder
	for i := range 2 * batchFrames {
		chunk.WriteString(line(i) + "\n")
	}
	_, _ = io.WriteString(in, chunk.String())
	sent += 2 * batchFrames
	_ = cmd.Process.Kill() // SIGKILL
	_ = cmd.Wait()
	if flushed < 5*batchFrames {
		t.Fatalf("child reported %d events flushed, want %d before the kill", flushed, 5*batchFrames)
	}
	st, err := stats.Open(t.Context(), dir, stats.Options{Now: func() time.Time { return killNow }})
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer st.Close()
	site, err := st.SiteSeries(t.Context(), stats.Window{}, stats.Hourly)
	if err != nil {
		t.Fatal(err)
	}
	var events uint64
	for _, b := range site {
		events += b.Events
	}
	if events < uint64(flushed) || events > uint64(sent) {
		t.Errorf("events in the store after the kill = %d; want %d..%d (every reported flush kept)", events, flushed, sent)
	}
}

// TestKillPipelineChild is the child of TestKillDuringPipelineIngest: it ingests stdin and
// prints "flushed N" after every flush.
func TestKillPipelineChild(t *testing.T) {
	dir := os.Getenv("COLLECTOR_KILL_CHILD")
	if dir == "" {
		t.Skip("only run as TestKillDuringPipelineIngest's child")
	}
	cfg, err := policies.Parse("test.yaml", []byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return killNow }
	st, err := stats.Open(t.Context(), dir, stats.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := NewPipeline(PipelineOptions{Config: cfg, Store: st, Now: clock, FlushEvery: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { // reports flushes until the process is killed
		last := uint64(0)
		for ctx.Err() == nil {
			if n := p.Status().Agg.Events; n != last {
				last = n
				fmt.Printf("flushed %d\n", n)
			}
			time.Sleep(2 * time.Millisecond) // polling the pipeline's counters
		}
	}()
	if _, err := Ingest(ctx, []string{"-"}, os.Stdin, p, nil); err != nil {
		t.Fatal(err)
	}
}
