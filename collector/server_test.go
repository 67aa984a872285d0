package collector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

const testPolicy = `site: test
collector:
  udp_listen: 127.0.0.1:0
  tcp_listen: 127.0.0.1:0
  tcp_max_conns: 4
  tcp_idle_timeout: 2s
  max_message_size: 2KiB
devices:
  - name: asa1
    kind: asa
    syslog_sources: [127.0.0.1]
networks:
  - {name: lan, role: workstations, prefixes: [10.0.0.0/8]}
flows:
  - {from: lan, to: internet}
protected: [127.0.0.0/8]
`

type testDaemon struct {
	ls      *Listeners
	p       *Pipeline
	st      *stats.Store
	metrics *Metrics
	archive string
	cancel  context.CancelFunc
	done    chan error
}

func startDaemon(t testing.TB, now time.Time) *testDaemon {
	t.Helper()
	return startDaemonWith(t, now, testPolicy)
}

func startDaemonWith(t testing.TB, now time.Time, policy string) *testDaemon {
	t.Helper()
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
	t.Cleanup(func() { st.Close() })
	arch, err := OpenArchive(filepath.Join(dir, "raw"))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(nil)
	log := slog.New(slog.DiscardHandler)
	p := NewPipeline(PipelineOptions{Config: cfg, Store: st, Archive: arch, Metrics: m, Log: log, Now: clock, FlushEvery: time.Hour})
	ls, err := Listen(t.Context(), cfg, m, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	d := &testDaemon{ls: ls, p: p, st: st, metrics: m, archive: filepath.Join(dir, "raw"), cancel: cancel, done: make(chan error, 1)}
	go func() {
		d.done <- ls.Run(ctx, p)
		arch.Close()
	}()
	return d
}

// stop ends the daemon the way SIGTERM does and waits for the final flush.
func (d *testDaemon) stop(t testing.TB) {
	t.Helper()
	d.cancel()
	if err := <-d.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// waitParsed polls the pipeline until it has parsed n frames (or fails after 10 s).
func (d *testDaemon) waitParsed(t testing.TB, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := d.p.Status()
		got := s.Typed + s.Header + s.Unparsed
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("parsed %d frames, want %d", got, n)
		}
		time.Sleep(100 * time.Microsecond) // polling for a condition, not synchronising by time
	}
}

func testCount(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

func line(i int) string {
	return fmt.Sprintf("<166>Nov 27 2026 10:00:%02d asa1 : %%ASA-6-302014: Teardown TCP connection %d for outside:192.0.2.7/443 to inside:10.1.1.5/5%04d duration 0:00:01 bytes 1000 TCP FINs", i%60, i, i%10000)
}

func TestDaemonReceivesUDPAndTCPAndFlushesOnStop(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	d := startDaemon(t, now)

	udp, err := net.DialUDP("udp", nil, d.ls.UDPAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	const nUDP = 300
	for i := range nUDP {
		if _, err := udp.Write([]byte(line(i) + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	// A datagram from another loopback address is not a configured source.
	spoof, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}, d.ls.UDPAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		spoof.Write([]byte(line(i)))
	}
	spoof.Close()

	tcp, err := net.Dial("tcp", d.ls.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	var stream strings.Builder
	for i := range 100 { // octet counting and newline framing on one connection
		l := line(1000 + i)
		if i%2 == 0 {
			fmt.Fprintf(&stream, "%d %s", len(l), l)
		} else {
			stream.WriteString(l + "\n")
		}
	}
	stream.WriteString(strings.Repeat("B", 5000) + "\n") // oversize: counted and dropped
	stream.WriteString("\x00\x01\x02binary junk\xff\n")
	if _, err := io.WriteString(tcp, stream.String()); err != nil {
		t.Fatal(err)
	}
	tcp.Close()

	d.waitParsed(t, nUDP+100+1)
	d.stop(t)

	s := d.p.Status()
	if s.Typed != nUDP+100 {
		t.Errorf("typed = %d, want %d", s.Typed, nUDP+100)
	}
	if s.Unparsed != 1 {
		t.Errorf("unparsed = %d, want 1 (the binary frame is kept as unparsed, the oversize one dropped)", s.Unparsed)
	}
	if got := testutil.ToFloat64(d.metrics.DeviceLastReceived.WithLabelValues("asa1")); got != float64(now.Unix()) {
		t.Errorf("asa1 last received = %v, want %d", got, now.Unix())
	}
	if got := testCount(d.metrics.UDPKernelDrops); got != 50 {
		t.Errorf("kernel drops (unknown source) = %v, want 50", got)
	}
	if got := testCount(d.metrics.Dropped.WithLabelValues(DropOversize)); got != 1 {
		t.Errorf("oversize = %v, want 1", got)
	}
	// The final flush put every teardown's bytes in the store.
	series, err := d.st.HostSeries(t.Context(), netip.MustParseAddr("10.1.1.5"), stats.Last(now.Add(time.Hour), 48*time.Hour), stats.Hourly)
	if err != nil {
		t.Fatal(err)
	}
	var bytes uint64
	for _, b := range series {
		bytes += b.Bytes()
	}
	if bytes != (nUDP+100)*1000 {
		t.Errorf("bytes in store = %d, want %d", bytes, (nUDP+100)*1000)
	}
	// And the archive has every accepted frame.
	r, err := OpenLog(ArchiveName(d.archive, now), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	raw, _ := io.ReadAll(r)
	if n := strings.Count(string(raw), "\n"); n != nUDP+100+1 {
		t.Errorf("archive has %d lines, want %d", n, nUDP+100+1)
	}
}
