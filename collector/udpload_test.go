package collector

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// TestUDPLoopbackLoad sends syslog over loopback UDP at fixed rates to the real listeners and
// pipeline and checks that nothing is lost: every datagram sent is parsed, and the kernel
// dropped none (/proc/net/udp). It is a measurement, not a unit test: it runs only when
// FIREBREAK_UDP_RATES names the rates (messages per second, comma-separated; e.g.
// "100000,150000") and takes FIREBREAK_UDP_SECONDS (default 10) per rate. It reports the
// highest rate achieved without loss.
//
//	FIREBREAK_UDP_RATES=100000,150000,200000 go test -run TestUDPLoopbackLoad -v ./collector/
func TestUDPLoopbackLoad(t *testing.T) {
	rates := os.Getenv("FIREBREAK_UDP_RATES")
	if rates == "" {
		t.Skip("set FIREBREAK_UDP_RATES to measure")
	}
	secs := 10
	if s := os.Getenv("FIREBREAK_UDP_SECONDS"); s != "" {
		secs, _ = strconv.Atoi(s)
	}
	best := 0
	for _, r := range strings.Split(rates, ",") {
		rate, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || rate <= 0 {
			t.Fatalf("bad rate %q", r)
		}
		sent, parsed, drops, buf, took := udpLoad(t, rate, time.Duration(secs)*time.Second)
		lost := sent - parsed
		t.Logf("rate %d/s for %ds: sent %d in %s (%.0f/s), parsed %d, lost %d, kernel drops %d, socket buffer %d bytes",
			rate, secs, sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(), parsed, lost, drops, buf)
		// The sender may fall short of the asked rate on a busy machine: what counts is the
		// rate it achieved.
		if got := int(float64(sent) / took.Seconds()); lost == 0 && drops == 0 && got > best {
			best = got
		}
	}
	t.Logf("highest rate achieved without loss: %d messages/s", best)
}

func udpLoad(t *testing.T, rate int, d time.Duration) (sent, parsed, drops int64, buf int, took time.Duration) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	policy := strings.Replace(testPolicy, "max_message_size: 2KiB", "max_message_size: 2KiB\n  udp_read_buffer: 64MiB", 1)
	cfg, err := policies.Parse("test.yaml", []byte(policy))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	clock := func() time.Time { return now }
	st, err := stats.Open(t.Context(), filepath.Join(dir, "data"), stats.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := NewMetrics(nil)
	log := slog.New(slog.DiscardHandler)
	p := NewPipeline(PipelineOptions{Config: cfg, Store: st, Metrics: m, Log: log, Now: clock, FlushEvery: time.Second})
	ls, err := Listen(t.Context(), cfg, m, log)
	if err != nil {
		t.Fatal(err)
	}
	buf = UDPReadBuffer(ls.udp)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ls.Run(ctx, p) }()
	port := ls.UDPAddr().(*net.UDPAddr).Port

	conn, err := net.DialUDP("udp", nil, ls.UDPAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make([][]byte, 4096)
	for i := range msgs {
		msgs[i] = []byte(line(i))
	}
	// Pace by the clock: every millisecond, send what the rate owes so far.
	start := time.Now()
	total := int64(rate) * int64(d/time.Millisecond) / 1000
	for sent < total {
		owed := min(total, int64(float64(rate)*time.Since(start).Seconds()))
		for ; sent < owed; sent++ {
			if _, err := conn.Write(msgs[sent%int64(len(msgs))]); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
		time.Sleep(time.Millisecond) // pacing the sender, not synchronising
	}
	took = time.Since(start)
	// Wait until the pipeline has parsed everything or stops making progress.
	last, still := int64(-1), 0
	for still < 20 {
		s := p.Status()
		parsed = s.Typed + s.Header + s.Unparsed
		if parsed >= sent {
			break
		}
		if parsed == last {
			still++
		} else {
			still = 0
		}
		last = parsed
		time.Sleep(50 * time.Millisecond) // polling for a condition
	}
	drops = udpDrops(t, port)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	s := p.Status()
	return sent, s.Typed + s.Header + s.Unparsed, drops, buf, took
}

// udpDrops reads the kernel's drop counter of the UDP socket bound to port.
func udpDrops(t *testing.T, port int) int64 {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		t.Logf("no /proc/net/udp: %v", err)
		return 0
	}
	defer f.Close()
	want := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) > 12 && strings.HasSuffix(fs[1], want) {
			n, _ := strconv.ParseInt(fs[len(fs)-1], 10, 64)
			return n
		}
	}
	return 0
}
