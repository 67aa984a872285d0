package collector

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// twoDevicePolicy accepts syslog from 127.0.0.1 (the real sender) and 127.0.0.3 (a device an
// attacker can reach, or a misbehaving one). The TCP limits are the defaults.
const twoDevicePolicy = `site: test
collector:
  udp_listen: 127.0.0.1:0
  tcp_listen: 127.0.0.1:0
  max_message_size: 2KiB
devices:
  - name: asa1
    kind: asa
    syslog_sources: [127.0.0.1]
  - name: asa2
    kind: asa
    syslog_sources: [127.0.0.3]
networks:
  - {name: lan, role: workstations, prefixes: [10.0.0.0/8]}
flows:
  - {from: lan, to: internet}
protected: [127.0.0.0/8]
`

func dialFrom(t *testing.T, local string, to net.Addr) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls cond (the daemon's counters) until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling for a condition, not synchronising by time
	}
}

// Issue 13 #5: 64 slow-loris connections from one allowed source (each has sent one byte of a
// frame and nothing more) must not keep a real sender from another allowed source out.
func TestTCPSlowLorisDoesNotLockOutRealSender(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	d := startDaemonWith(t, now, twoDevicePolicy)
	const slow = 64
	for range slow {
		c := dialFrom(t, "127.0.0.3", d.ls.TCPAddr())
		defer c.Close()
		if _, err := c.Write([]byte("1")); err != nil {
			t.Fatal(err)
		}
	}
	// Every slow connection has been accepted or refused by the daemon.
	waitFor(t, "the slow connections to be handled", func() bool {
		return testCount(d.metrics.TCPConns)+
			testCount(d.metrics.Dropped.WithLabelValues(DropTooManyConns))+
			testCount(d.metrics.Dropped.WithLabelValues(DropTooManyConnsPerSource)) >= slow
	})
	const senders, lines = 3, 20
	for s := range senders {
		c := dialFrom(t, "127.0.0.1", d.ls.TCPAddr())
		var b strings.Builder
		for i := range lines {
			b.WriteString(line(s*lines+i) + "\n")
		}
		// A refused connection may fail the write; the count below says how many got in.
		_, _ = io.WriteString(c, b.String())
		c.Close()
	}
	d.waitParsed(t, senders*lines)
	d.stop(t)
	if s := d.p.Status(); s.Typed != senders*lines {
		t.Errorf("typed = %d, want %d (every real sender accepted)", s.Typed, senders*lines)
	}
	if got := testCount(d.metrics.Dropped.WithLabelValues(DropTooManyConnsPerSource)); got == 0 {
		t.Error("the per-source limit refused nothing")
	}
}

// Issue 13 #5: a frame must arrive whole within the frame deadline, however slowly it trickles
// in (each byte would otherwise restart the idle timeout).
func TestTCPFrameDeadline(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	policy := strings.Replace(testPolicy, "tcp_idle_timeout: 2s", "tcp_idle_timeout: 2s\n  tcp_frame_timeout: 300ms", 1)
	d := startDaemonWith(t, now, policy)
	c := dialFrom(t, "127.0.0.1", d.ls.TCPAddr())
	defer c.Close()
	closed := make(chan time.Duration, 1)
	start := time.Now()
	go func() { // owned by the test: ends when the daemon closes the connection
		var b [1]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				closed <- time.Since(start)
				return
			}
		}
	}()
	// One byte every 50 ms (the pace of the attack, not a synchronisation), for up to 5 s:
	// well inside the 2 s idle timeout each time.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	msg := line(1)
	for i := 0; ; i++ {
		select {
		case took := <-closed:
			if took > 2*time.Second {
				t.Fatalf("connection closed after %s, want the 300ms frame deadline", took)
			}
			waitFor(t, "the frame timeout counter", func() bool {
				return testCount(d.metrics.Dropped.WithLabelValues(DropFrameTimeout)) == 1
			})
			return
		case <-tick.C:
			if i >= 100 {
				t.Fatal("a frame sent one byte per 50 ms kept the connection open for 5 s")
			}
			_, _ = c.Write([]byte{msg[i%len(msg)]})
		}
	}
}

// Issue 13 #6: an octet count far beyond the maximum frame must not swallow the frames after
// it: it is counted and the reader resynchronises at the next frame.
func TestTCPOverstatedOctetCountResyncs(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	d := startDaemon(t, now)
	c := dialFrom(t, "127.0.0.1", d.ls.TCPAddr())
	var b strings.Builder
	bad := line(0)
	fmt.Fprintf(&b, "999999999 %s", bad)
	const n = 1000
	for i := range n {
		l := line(1 + i)
		fmt.Fprintf(&b, "%d %s", len(l), l)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	d.waitParsed(t, n+1)
	d.stop(t)
	if s := d.p.Status(); s.Typed != n+1 {
		t.Errorf("typed = %d, want %d", s.Typed, n+1)
	}
	if got := octetCountErrors(d.metrics); got != 1 {
		t.Errorf("octet count errors = %v, want 1", got)
	}
}

// Issue 13 #6: a count 20 bytes short of its frame is noticed where the next frame should
// start; the frame is taken to the real next frame and the stream stays in step.
func TestTCPShortOctetCountResyncs(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	d := startDaemon(t, now)
	c := dialFrom(t, "127.0.0.1", d.ls.TCPAddr())
	var b strings.Builder
	const n = 100
	for i := range n {
		l := line(i)
		count := len(l)
		if i == 0 {
			count -= 20
		}
		fmt.Fprintf(&b, "%d %s", count, l)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	waitFor(t, "the connection to be read", func() bool {
		return testCount(d.metrics.TCPConns) == 0 && d.p.Status().Typed+d.p.Status().Unparsed+d.p.Status().Header >= 2
	})
	d.waitParsed(t, n)
	d.stop(t)
	if s := d.p.Status(); s.Typed != n {
		t.Errorf("typed = %d, want %d (the short frame and every frame after it)", s.Typed, n)
	}
	if got := octetCountErrors(d.metrics); got != 1 {
		t.Errorf("octet count errors = %v, want 1", got)
	}
}

func octetCountErrors(m *Metrics) float64 {
	return testCount(m.FramingErrors.WithLabelValues(FrameOctetCount))
}

// Issue 13 #9: an oversize frame is dropped, as the documentation of max_message_size says:
// counted, not parsed (its cut end could misstate a field) and not archived, over UDP and TCP.
func TestOversizeFramesDroppedAsDocumented(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	d := startDaemon(t, now)
	// A teardown whose byte count lies beyond the 2 KiB maximum: cut, it would read "bytes 1".
	big := line(0)[:strings.Index(line(0), "bytes ")] + strings.Repeat(" ", 2048) + "bytes 1000000000 TCP FINs"
	u, err := net.DialUDP("udp", nil, d.ls.UDPAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if _, err := u.Write([]byte(big)); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte(line(1))); err != nil {
		t.Fatal(err)
	}
	c := dialFrom(t, "127.0.0.1", d.ls.TCPAddr())
	fmt.Fprintf(c, "%s\n%d %s%s\n", big, len(big), big, line(2))
	c.Close()
	waitFor(t, "both oversize frames to be counted", func() bool {
		return testCount(d.metrics.Dropped.WithLabelValues(DropOversize)) >= 3
	})
	d.waitParsed(t, 2)
	d.stop(t)
	if got := testCount(d.metrics.Dropped.WithLabelValues(DropOversize)); got != 3 {
		t.Errorf("oversize = %v, want 3", got)
	}
	if s := d.p.Status(); s.Typed != 2 || s.Unparsed+s.Header != 0 {
		t.Errorf("status = %+v, want the 2 good lines only", s)
	}
	r, err := OpenLog(ArchiveName(d.archive, now), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	raw, _ := io.ReadAll(r)
	if n := strings.Count(string(raw), "\n"); n != 2 || strings.Contains(string(raw), "    ") {
		t.Errorf("archive has %d lines (%d bytes), want the 2 good ones", n, len(raw))
	}
}
