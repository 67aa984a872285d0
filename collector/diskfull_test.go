package collector

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// syncBuffer is a log sink safe for the pipeline's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Issue 13 #11: the disk fills up (simulated at the file layer by the kernel itself: a file
// size limit, RLIMIT_FSIZE, makes every write that grows the database fail with EFBIG, as
// ENOSPC would), flushes fail, and the statistics of that time are kept in memory until a flush
// succeeds once there is room again: none is lost, and status, metrics and the log say what
// is held.
func TestDiskFullKeepsStatisticsUntilAFlushSucceeds(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cfg, err := policies.Parse("test.yaml", []byte(strings.Replace(testPolicy, "tcp_listen: 127.0.0.1:0", `tcp_listen: "off"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	st, err := stats.Open(t.Context(), dir, stats.Options{Now: clock, AutoShrinkDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := NewMetrics(nil)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	p := NewPipeline(PipelineOptions{Config: cfg, Store: st, Metrics: m, Log: log, Now: clock, FlushEvery: 10 * time.Millisecond, FlushEvents: -1})
	ls, err := Listen(t.Context(), cfg, m, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ls.Run(ctx, p) }()
	c, err := net.DialUDP("udp", nil, ls.UDPAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send := func(from, n int) {
		for i := range n {
			// Each line names another inside host, so the database has to grow.
			l := fmt.Sprintf("<166>Nov 27 2026 11:%02d:00 asa1 : %%ASA-6-302014: Teardown TCP connection %d for outside:192.0.2.7/443 to inside:10.%d.%d.%d/5000 duration 0:00:01 bytes 1000 TCP FINs",
				(from+i)%60, from+i, (from+i)>>16&255, (from+i)>>8&255, (from+i)&255)
			if _, err := c.Write([]byte(l)); err != nil {
				t.Fatal(err)
			}
		}
	}
	flushed := func() uint64 { return p.Status().Agg.Events }
	const before, during = 200, 2000
	send(0, before)
	waitFor(t, "the first lines to be flushed", func() bool { return flushed() == before })

	// The disk is full: the database cannot grow.
	fi, err := os.Stat(st.Path())
	if err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	full := lim
	full.Cur = uint64(fi.Size())
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
		t.Skipf("no file size limit: %v", err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer restore()
	failed0 := testCount(m.FlushErrors)
	send(before, during)
	d := &testDaemon{p: p}
	d.waitParsed(t, before+during)
	waitFor(t, "flushes to fail", func() bool { return testCount(m.FlushErrors) >= failed0+3 })
	held := unflushedOf(p)
	gauge := unflushedGauge(m)
	restore() // room again

	waitFor(t, "a flush to succeed", func() bool { return unflushedOf(p) == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	site, err := st.SiteSeries(t.Context(), stats.Window{}, stats.Hourly)
	if err != nil {
		t.Fatal(err)
	}
	var events uint64
	for _, b := range site {
		events += b.Events
	}
	t.Logf("disk full: %v flushes failed, %d events held (gauge %v); after: %d of %d events in the store",
		testCount(m.FlushErrors)-failed0, held, gauge, events, before+during)
	if events != before+during {
		t.Errorf("store holds %d events, want %d: statistics of the full disk were lost", events, before+during)
	}
	if held != during || gauge != during {
		t.Errorf("while flushes failed, status held %d and the metric %v events; want %d", held, gauge, during)
	}
	if out := logs.String(); !strings.Contains(out, "unflushed_events") || !strings.Contains(out, "flush succeeded again") {
		t.Errorf("the log does not say what was held and when it was written:\n%s", out)
	}
}
