//go:build !(linux && (amd64 || arm64))

package collector

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// xnetReader reads datagrams with x/net's ReadBatch (recvmmsg where the platform has it).
type xnetReader struct {
	pc *ipv4.PacketConn
	ms []ipv4.Message
}

func newBatchReader(c *net.UDPConn, bufs [][]byte) (batchReader, error) {
	r := &xnetReader{pc: ipv4.NewPacketConn(c), ms: make([]ipv4.Message, len(bufs))} // SOL_SOCKET-level calls: fine on a dual-stack socket too
	for i := range r.ms {
		r.ms[i].Buffers = [][]byte{bufs[i]}
	}
	return r, nil
}

func (r *xnetReader) Read() (int, error) { return r.pc.ReadBatch(r.ms, 0) }

func (r *xnetReader) Datagram(i int) (int, netip.Addr) {
	m := &r.ms[i]
	ua, _ := m.Addr.(*net.UDPAddr)
	if ua == nil {
		return m.N, netip.Addr{}
	}
	return m.N, ua.AddrPort().Addr().Unmap()
}
