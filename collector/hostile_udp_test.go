package collector

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// queued returns the bytes waiting in c's receive queue (SIOCINQ: for UDP, the size of the
// next datagram; 0 when the queue is empty).
func queued(t *testing.T, c syscall.Conn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	_ = rc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall(syscall.SYS_IOCTL, fd, 0x541B /* SIOCINQ */, uintptr(unsafe.Pointer(&n)))
	})
	return int(n)
}

// Issue 13 #8: a flood from unknown sources next to the real stream, arriving while the
// receiver is behind (here: not reading yet, the worst case of a GC pause or a slow flush), must
// not cost the real stream a datagram. Before the socket filter the flood filled the receive
// queue and the kernel dropped real datagrams with it.
func TestUnknownFloodCostsRealStreamNothing(t *testing.T) {
	const real, floodPerReal = 300, 20
	policy := strings.Replace(testPolicy, "max_message_size: 2KiB", "max_message_size: 2KiB\n  udp_read_buffer: 256KiB", 1)
	cfg, err := policies.Parse("test.yaml", []byte(policy))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st, err := stats.Open(t.Context(), filepath.Join(t.TempDir(), "data"), stats.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := NewMetrics(nil)
	log := slog.New(slog.DiscardHandler)
	p := NewPipeline(PipelineOptions{Config: cfg, Store: st, Metrics: m, Log: log, Now: clock, FlushEvery: time.Hour})
	ls, err := Listen(t.Context(), cfg, m, log)
	if err != nil {
		t.Fatal(err)
	}
	dst := ls.UDPAddr().(*net.UDPAddr)
	flood, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer flood.Close()
	good, err := net.DialUDP("udp", nil, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	junk := []byte(line(99))
	for i := range real {
		for range floodPerReal {
			if _, err := flood.Write(junk); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := good.Write([]byte(line(i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ls.Run(ctx, p) }()
	// Done when the queue is empty and every datagram read is parsed or dropped.
	waitFor(t, "the receive queue to drain", func() bool {
		s := p.Status()
		read := testCount(m.Received.WithLabelValues("udp"))
		return queued(t, ls.udp) == 0 && float64(s.Typed+s.Header+s.Unparsed)+testCount(m.Dropped.WithLabelValues(DropUnknownSource)) == read && read > 0
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := p.Status()
	t.Logf("real stream: %d of %d parsed beside %d flood datagrams", s.Typed, real, real*floodPerReal)
	if s.Typed != real {
		t.Errorf("real stream lost %d of %d datagrams to the flood", real-int(s.Typed), real)
	}
}

// The socket filter keeps IPv4 and IPv6 sources on a dual-stack socket and drops the others.
func TestSourceFilterDualStack(t *testing.T) {
	c, err := ListenUDP(t.Context(), ":0", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	allowed := []netip.Addr{netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("2001:db8::1")}
	if err := attachSourceFilter(c, allowed); err != nil {
		t.Fatal(err)
	}
	base, err := kernelDrops(c)
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	send := func(from, to string) {
		s, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)}, &net.UDPAddr{IP: net.ParseIP(to), Port: port})
		if err != nil {
			t.Skipf("no %s loopback: %v", from, err)
		}
		defer s.Close()
		if _, err := s.Write([]byte(from)); err != nil {
			t.Fatal(err)
		}
	}
	send("127.0.0.1", "127.0.0.1")
	send("::1", "::1")
	send("127.0.0.3", "127.0.0.1")
	send("127.0.0.2", "127.0.0.1")
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	var got []string
	for range 2 {
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(buf[:n]))
	}
	if strings.Join(got, ",") != "::1,127.0.0.2" {
		t.Errorf("received from %v, want ::1 then 127.0.0.2", got)
	}
	if n, _ := kernelDrops(c); n-base != 2 {
		t.Errorf("kernel drops = %d, want 2 (127.0.0.1 and 127.0.0.3)", n-base)
	}
}

func damagedOf(r io.Reader) int { return DamagedMembers(r) }

func unflushedOf(p *Pipeline) int64 { return p.Status().Unflushed }

func unflushedGauge(m *Metrics) float64 { return testCount(m.Unflushed) }

// Batched receive (recvmmsg) on an IPv6 and a dual-stack socket: senders' addresses come
// through for the allow-list and the source filter.
func TestUDPBatchedReceiveIPv6AndDualStack(t *testing.T) {
	for _, listen := range []string{"'[::1]:0'", "':0'"} {
		t.Run(listen, func(t *testing.T) {
			policy := strings.Replace(testPolicy, "udp_listen: 127.0.0.1:0", "udp_listen: "+listen, 1)
			policy = strings.Replace(policy, "syslog_sources: [127.0.0.1]", "syslog_sources: [127.0.0.1, '::1']", 1)
			d := startDaemonWith(t, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), policy)
			port := d.ls.UDPAddr().(*net.UDPAddr).Port
			targets := []string{"::1"}
			if listen == "':0'" {
				targets = append(targets, "127.0.0.1")
			}
			for _, to := range targets {
				c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.ParseIP(to), Port: port})
				if err != nil {
					t.Skipf("no %s: %v", to, err)
				}
				for i := range 100 {
					if _, err := c.Write([]byte(line(i))); err != nil {
						t.Fatal(err)
					}
				}
				c.Close()
			}
			d.waitParsed(t, int64(100*len(targets)))
			d.stop(t)
			if s := d.p.Status(); s.Typed != int64(100*len(targets)) {
				t.Errorf("typed = %d, want %d", s.Typed, 100*len(targets))
			}
		})
	}
}

// Issue 17: the 64 MiB default, and the warning when the kernel grants less. As root the
// socket gets what it asks (SO_RCVBUFFORCE); the decision is checked on the kernel's figures.
func TestUDPReceiveBufferDefaultAndWarning(t *testing.T) {
	if got := policies.Default().Collector.UDPReadBuffer; got != 64<<20 {
		t.Errorf("default udp_read_buffer = %d, want 64 MiB", got)
	}
	c, err := ListenUDP(t.Context(), "127.0.0.1:0", 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reported := UDPReadBuffer(c)
	t.Logf("asked 64 MiB, kernel reports %d (granted %d)", reported, reported/2)
	if bufferShort(64<<20, reported) != (reported < 128<<20) {
		t.Error("the warning disagrees with what the kernel granted")
	}
	if !bufferShort(64<<20, 2*(4<<20)) || bufferShort(64<<20, 128<<20) || bufferShort(0, 0) {
		t.Error("bufferShort: want a warning for 4 MiB granted of 64, none for all of it or for none asked")
	}
}
