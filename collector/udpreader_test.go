package collector

import (
	"net"
	"net/netip"
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
