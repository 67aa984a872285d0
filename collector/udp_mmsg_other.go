//go:build !(linux && (amd64 || arm64))

package collector

import (
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// xnetReader reads datagrams with x/net's ReadBatch (recvmmsg where the platform has it).
type xnetReader struct {
	c        *net.UDPConn
	pc       *ipv4.PacketConn
	ms       []ipv4.Message
	deadline time.Time
}

// detachUDP returns c: elsewhere than on Linux the receiver reads through the poller.
func detachUDP(c *net.UDPConn) (udpSocket, error) { return c, nil }

func newBatchReader(sc syscall.Conn, bufs [][]byte) (batchReader, error) {
	c := sc.(*net.UDPConn)
	r := &xnetReader{c: c, pc: ipv4.NewPacketConn(c), ms: make([]ipv4.Message, len(bufs))} // SOL_SOCKET-level calls: fine on a dual-stack socket too
	for i := range r.ms {
		r.ms[i].Buffers = [][]byte{bufs[i]}
	}
	return r, nil
}

func (r *xnetReader) Read(deadline time.Time) (int, error) {
	if !deadline.Equal(r.deadline) {
		if err := r.c.SetReadDeadline(deadline); err != nil {
			return 0, err
		}
		r.deadline = deadline
	}
	return r.pc.ReadBatch(r.ms, 0)
}

func (r *xnetReader) Datagram(i int) (int, netip.Addr) {
	m := &r.ms[i]
	ua, _ := m.Addr.(*net.UDPAddr)
	if ua == nil {
		return m.N, netip.Addr{}
	}
	return m.N, ua.AddrPort().Addr().Unmap()
}
