package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// Allow decides whether a sender may deliver syslog. It must be safe for concurrent use.
type Allow func(netip.Addr) bool

// udpReceiver reads datagrams from one socket into batches.
type udpReceiver struct {
	conn    *net.UDPConn
	allow   Allow
	out     chan<- *Batch
	pool    *batchPool
	metrics *Metrics
	log     *slog.Logger
	maxMsg  int
	linger  time.Duration // how long a partial batch may wait for more datagrams
}

// ListenUDP opens the syslog UDP socket with a receive buffer of bufBytes. The kernel caps
// SO_RCVBUF at net.core.rmem_max; when that is smaller, a process with CAP_NET_ADMIN gets the
// full size through SO_RCVBUFFORCE. UDPReadBuffer tells what the socket really has.
func ListenUDP(ctx context.Context, addr string, bufBytes int) (*net.UDPConn, error) {
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", addr, err)
	}
	conn := pc.(*net.UDPConn)
	if bufBytes > 0 {
		if err := conn.SetReadBuffer(bufBytes); err != nil {
			conn.Close()
			return nil, fmt.Errorf("udp receive buffer: %w", err)
		}
		if UDPReadBuffer(conn) < bufBytes {
			forceReadBuffer(conn, bufBytes) // best effort: EPERM without CAP_NET_ADMIN
		}
	}
	return conn, nil
}

// UDPReadBuffer returns the socket's receive buffer as the kernel reports it (about twice
// what was asked: the kernel counts its bookkeeping too), or 0 when it cannot tell.
func UDPReadBuffer(c *net.UDPConn) int {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) {
		n, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	})
	return n
}

func forceReadBuffer(c *net.UDPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
	})
}

// run reads until the connection is closed. It owns no goroutines.
func (r *udpReceiver) run(ctx context.Context) error {
	// Datagrams are read up to udpBatch at a time with one recvmmsg call; each buffer has
	// room for one byte more than the maximum, so an oversize datagram shows as a full one.
	pc := ipv4.NewPacketConn(r.conn) // SOL_SOCKET-level calls: fine on a dual-stack socket too
	ms := make([]ipv4.Message, udpBatch)
	bufs := make([]byte, udpBatch*(r.maxMsg+1))
	for i := range ms {
		ms[i].Buffers = [][]byte{bufs[i*(r.maxMsg+1) : (i+1)*(r.maxMsg+1)]}
	}
	b := r.pool.get()
	received := r.metrics.Received.WithLabelValues("udp")
	unknown := r.metrics.Dropped.WithLabelValues(DropUnknownSource)
	oversize := r.metrics.Dropped.WithLabelValues(DropOversize)
	queueFull := r.metrics.Dropped.WithLabelValues(DropQueueFull)
	var first time.Time
	send := func() {
		if b.Len() == 0 {
			return
		}
		select {
		case r.out <- b:
		default:
			// The pipeline is behind: wait briefly (the kernel buffer keeps filling), then drop.
			t := time.NewTimer(200 * time.Millisecond)
			select {
			case r.out <- b:
				t.Stop()
			case <-t.C:
				queueFull.Add(float64(b.Len()))
				b.Release()
			case <-ctx.Done():
				t.Stop()
				b.Release()
			}
		}
		b = r.pool.get()
	}
	defer func() {
		send()
		b.Release()
	}()
	for {
		if b.Len() > 0 && first.IsZero() {
			first = time.Now()
			if err := r.conn.SetReadDeadline(first.Add(r.linger)); err != nil {
				return deadlineErr(err)
			}
		}
		n, err := pc.ReadBatch(ms, 0)
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				send()
				first = time.Time{}
				if err := r.conn.SetReadDeadline(time.Time{}); err != nil {
					return deadlineErr(err)
				}
				continue
			}
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			r.log.Warn("udp read", "err", err)
			continue
		}
		received.Add(float64(n))
		bytes := 0
		for i := range n {
			m := &ms[i]
			bytes += m.N
			ua, _ := m.Addr.(*net.UDPAddr)
			if ua == nil {
				continue
			}
			ap := ua.AddrPort()
			addr := ap.Addr().Unmap()
			if !r.allow(addr) {
				unknown.Inc()
				continue
			}
			if m.N > r.maxMsg {
				// Dropped, as documented: a cut frame could misstate a field (a byte count
				// cut mid-number), so it is neither parsed nor archived.
				oversize.Inc()
				continue
			}
			b.add(trimFrame(m.Buffers[0][:m.N]), addr)
			if b.full(r.maxMsg) {
				send()
				if first.IsZero() {
					continue
				}
				first = time.Time{}
				if err := r.conn.SetReadDeadline(time.Time{}); err != nil {
					return deadlineErr(err)
				}
			}
		}
		r.metrics.ReceivedBytes.Add(float64(bytes))
	}
}

// deadlineErr is a failure to set the read deadline; on a socket closed for shutdown it is
// the normal end.
func deadlineErr(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return fmt.Errorf("udp deadline: %w", err)
}

// udpBatch is how many datagrams one recvmmsg call may return.
const udpBatch = 64

// trimFrame drops trailing line endings and NULs that some senders append.
func trimFrame(p []byte) []byte {
	for len(p) > 0 {
		switch p[len(p)-1] {
		case '\n', '\r', 0:
			p = p[:len(p)-1]
			continue
		}
		break
	}
	return p
}
