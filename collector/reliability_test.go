package collector

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Hostile input over UDP: random binary, NUL-filled and empty datagrams are counted and kept as
// unparsed frames, an oversize one is counted and dropped; nothing crashes and good lines still
// go through.
func TestUDPMalformedFrames(t *testing.T) {
	d := startDaemon(t, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	c, err := net.DialUDP("udp", nil, d.ls.UDPAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	var frames [][]byte
	for range 200 {
		b := make([]byte, 1+rng.IntN(1500))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0] = 0xff // not a line ending or NUL, so the frame is not empty after trimming
		frames = append(frames, b)
	}
	frames = append(frames,
		bytes.Repeat([]byte{0}, 100)[:99],                                        // NULs only: trimmed to nothing, still a frame
		append([]byte("<166>"), bytes.Repeat([]byte("A"), 4000)...),              // oversize (max 2 KiB)
		[]byte("<999999999999999999999>Nov 99 99:99:99 asa1 : %ASA-6-302013: x"), // broken header
		[]byte("<166>Nov 27 2026 10:00:00 asa1 : %ASA-6-302013: Built outbound TCP connection"),
		[]byte(line(1)),
	)
	for _, f := range frames {
		if _, err := c.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	n := int64(len(frames))
	d.waitParsed(t, n-1)
	d.stop(t)
	if got := testCount(d.metrics.Received.WithLabelValues("udp")); got != float64(n) {
		t.Errorf("received = %v, want %d", got, n)
	}
	if got := testCount(d.metrics.Dropped.WithLabelValues(DropOversize)); got != 1 {
		t.Errorf("oversize = %v, want 1", got)
	}
	if s := d.p.Status(); s.Typed < 1 || s.Typed+s.Header+s.Unparsed != n-1 {
		t.Errorf("status = %+v; want %d frames (all but the oversize one), the good line typed", s, n-1)
	}
}

// A flood from sources that are not configured (any 127.0.0.x but .1) is dropped before any
// per-source state exists: the drop counter counts it, nothing reaches the pipeline, and the
// heap does not grow with the number of datagrams or sources.
func TestUDPFloodFromUnknownSourcesIsBounded(t *testing.T) {
	d := startDaemon(t, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	dst := d.ls.UDPAddr().(*net.UDPAddr)
	msg := []byte(line(7))
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const sources, each = 50, 400
	for i := range sources {
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 1, byte(2+i))}, dst)
		if err != nil {
			t.Fatal(err)
		}
		for range each {
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
	}
	// Then one good line, so that "everything before it was handled" can be awaited.
	good, err := net.DialUDP("udp", nil, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if _, err := good.Write(msg); err != nil {
		t.Fatal(err)
	}
	d.waitParsed(t, 1)
	// The socket filter drops the flood in the kernel (counted there); what a missing filter
	// lets through is dropped on reading. Either way each datagram is counted once.
	dropped := func() float64 {
		return testCount(d.metrics.Dropped.WithLabelValues(DropUnknownSource)) + testCount(d.metrics.UDPKernelDrops)
	}
	deadline := time.Now().Add(10 * time.Second)
	for dropped() < sources*each && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling for a condition
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	d.stop(t)
	if got := dropped(); got != sources*each {
		t.Errorf("dropped unknown source = %v, want %d", got, sources*each)
	}
	if got := testCount(d.metrics.Received.WithLabelValues("udp")); got != 1 {
		t.Errorf("received = %v, want 1: the kernel filter keeps the flood from the socket", got)
	}
	if s := d.p.Status(); s.Typed != 1 {
		t.Errorf("typed = %d; want only the configured source's line", s.Typed)
	}
	// 20,000 datagrams of ~170 bytes would be 3.4 MB if they were kept anywhere.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 2<<20 {
		t.Errorf("heap grew by %d bytes during the flood; want it bounded", grew)
	}
}

const tcpPolicy = `site: test
collector:
  udp_listen: "off"
  tcp_listen: 127.0.0.1:0
  tcp_max_conns: 3
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

// waitClosed reads from c until the server closes it (EOF or reset) and fails if that does not
// happen within limit.
func waitClosed(t *testing.T, c net.Conn, limit time.Duration) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(limit)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %s", limit)
	}
}

// An idle client is disconnected after the idle timeout; a client stuck in the middle of a frame
// (newline framing without the newline, an octet count never completed) neither blocks other
// connections nor shutdown; connections beyond tcp_max_conns are refused and counted; binary
// junk over TCP is counted and does not crash.
func TestTCPSlowIdleAndMaxConns(t *testing.T) {
	d := startDaemonWith(t, time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), tcpPolicy)
	addr := d.ls.TCPAddr().String()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	idle := dial()
	waitClosed(t, idle, 10*time.Second) // 2 s idle timeout

	// Two clients that never finish a frame.
	half := dial()
	if _, err := io.WriteString(half, "<166>Nov 27 2026 10:00:00 asa1 : %ASA-6-302013: never ends"); err != nil {
		t.Fatal(err)
	}
	counted := dial()
	if _, err := io.WriteString(counted, "900 <166>short"); err != nil {
		t.Fatal(err)
	}
	// A good client still gets through, binary junk included.
	good := dial()
	junk := string([]byte{0xff, 0xfe, 1, 2, 3}) + "\n" + strings.Repeat("Z", 5000) + "\n"
	if _, err := io.WriteString(good, line(1)+"\n"+junk+line(2)+"\n"); err != nil {
		t.Fatal(err)
	}
	d.waitParsed(t, 3) // the oversize frame is dropped
	if got := testCount(d.metrics.Dropped.WithLabelValues(DropOversize)); got != 1 {
		t.Errorf("oversize = %v, want 1", got)
	}
	// Three connections are open (half, counted, good): a fourth is over the limit.
	extra := dial()
	waitClosed(t, extra, 5*time.Second)
	if got := testCount(d.metrics.Dropped.WithLabelValues(DropTooManyConns)); got != 1 {
		t.Errorf("too many connections = %v, want 1", got)
	}

	// Shutdown does not wait for the unfinished frames.
	d.cancel()
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5 s of cancel with half-sent frames open")
	}
	if s := d.p.Status(); s.Typed != 2 {
		t.Errorf("typed = %d, want the good client's 2 lines", s.Typed)
	}
}
