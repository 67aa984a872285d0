package collector

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// The batch reader reports each datagram's length and sender: IPv4 senders on a dual-stack
// socket (as ":5140" is) unmapped, IPv6 loopback as ::1, and several datagrams per Read.
func TestBatchReaderSenders(t *testing.T) {
	for _, tc := range []struct {
		listen string
		from   []string
	}{
		{"127.0.0.1:0", []string{"127.0.0.1", "127.0.0.2"}},
		{":0", []string{"127.0.0.1", "::1"}},
	} {
		c, err := ListenUDP(t.Context(), tc.listen, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		port := c.LocalAddr().(*net.UDPAddr).Port
		var want []netip.Addr
		var sizes []int
		for i, from := range tc.from {
			src := netip.MustParseAddr(from)
			dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
			if src.Is6() {
				dst = netip.AddrPortFrom(netip.IPv6Loopback(), uint16(port))
			}
			s, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), net.UDPAddrFromAddrPort(dst))
			if err != nil {
				t.Skipf("no sender on %s: %v", from, err)
			}
			for k := range 3 {
				msg := make([]byte, 10+i*7+k)
				if _, err := s.Write(msg); err != nil {
					t.Fatal(err)
				}
				want, sizes = append(want, src), append(sizes, len(msg))
			}
			s.Close()
		}
		bufs := make([][]byte, 4)
		for i := range bufs {
			bufs[i] = make([]byte, 64)
		}
		rd, err := newBatchReader(c, bufs)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		var got []netip.Addr
		var gotSizes []int
		for len(got) < len(want) {
			n, err := rd.Read(deadline)
			if err != nil {
				t.Fatalf("%s: read after %d datagrams: %v", tc.listen, len(got), err)
			}
			for i := range n {
				size, src := rd.Datagram(i)
				got, gotSizes = append(got, src), append(gotSizes, size)
			}
		}
		for i := range want {
			if got[i] != want[i] || gotSizes[i] != sizes[i] {
				t.Errorf("%s: datagram %d from %s, %d bytes; want %s, %d", tc.listen, i, got[i], gotSizes[i], want[i], sizes[i])
			}
		}
		// Nothing more: a Read waits, and the deadline ends it as a timeout.
		if _, err := rd.Read(time.Now().Add(20 * time.Millisecond)); err == nil {
			t.Errorf("%s: Read of an empty socket returned no error", tc.listen)
		} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Errorf("%s: Read of an empty socket: %v, want a timeout", tc.listen, err)
		}
	}
}

func TestUDPPauseNeedsABuffer(t *testing.T) {
	if got := udpPauseFor(212992); got != 0 {
		t.Errorf("pause with the kernel's default buffer = %s, want none", got)
	}
	if got := udpPauseFor(128 << 20); got != udpPause {
		t.Errorf("pause with 64 MiB = %s, want %s", got, udpPause)
	}
}

// The daemon's socket, taken out of the runtime's poller (detachUDP), keeps its address and
// what was queued before; closing it ends a waiting Read with net.ErrClosed, and later Reads
// too, so that the receiver stops at shutdown.
func TestDetachedSocketReadsAndCloses(t *testing.T) {
	c, err := ListenUDP(t.Context(), "127.0.0.1:0", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s, err := net.DialUDP("udp", nil, c.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, m := range []string{"one", "two", "three"} {
		if _, err := s.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	sock, err := detachUDP(c)
	if err != nil {
		t.Fatal(err)
	}
	bufs := make([][]byte, 4)
	for i := range bufs {
		bufs[i] = make([]byte, 64)
	}
	rd, err := newBatchReader(sock, bufs)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for len(got) < 3 {
		n, err := rd.Read(deadline)
		if err != nil {
			t.Fatalf("read after %v: %v", got, err)
		}
		for i := range n {
			size, _ := rd.Datagram(i)
			got = append(got, string(bufs[i][:size]))
		}
	}
	if want := []string{"one", "two", "three"}; !slices.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
	done := make(chan error, 1)
	go func() { // ends when Close ends its wait
		_, err := rd.Read(time.Time{})
		done <- err
	}()
	if err := sock.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Read still waiting 10 s after Close")
	}
	if _, err := rd.Read(time.Time{}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Read after Close: %v, want net.ErrClosed", err)
	}
}
