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
)

// Allow decides whether a sender may deliver syslog. It must be safe for concurrent use.
type Allow func(netip.Addr) bool

// udpReceiver reads datagrams from one socket into batches.
type udpReceiver struct {
	conn    udpSocket
	allow   Allow
	out     chan<- *Batch
	pool    *batchPool
	metrics *Metrics
	log     *slog.Logger
	maxMsg  int
	linger  time.Duration // how long a partial batch may wait for more datagrams
	pause   time.Duration // wait after draining the socket (udpPauseFor); 0: none
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
func UDPReadBuffer(c syscall.Conn) int {
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

// run reads until the connection is closed. It owns no goroutines.
func (r *udpReceiver) run(ctx context.Context) error {
	// Datagrams are read up to udpBatch at a time with one recvmmsg call; each buffer has
	// room for one byte more than the maximum, so an oversize datagram shows as a full one.
	bufs := make([]byte, udpBatch*(r.maxMsg+1))
	views := make([][]byte, udpBatch)
	for i := range views {
		views[i] = bufs[i*(r.maxMsg+1) : (i+1)*(r.maxMsg+1)]
	}
	rd, err := newBatchReader(r.conn, views)
	if err != nil {
		return fmt.Errorf("udp: %w", err)
	}
	b := r.pool.get()
	received := r.metrics.Received.WithLabelValues("udp")
	unknown := r.metrics.Dropped.WithLabelValues(DropUnknownSource)
	oversize := r.metrics.Dropped.WithLabelValues(DropOversize)
	queueFull := r.metrics.Dropped.WithLabelValues(DropQueueFull)
	var deadline time.Time // when the partial batch must go; zero: none yet
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
		if b.Len() > 0 && deadline.IsZero() {
			deadline = time.Now().Add(r.linger)
		}
		n, err := rd.Read(deadline)
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				send()
				deadline = time.Time{}
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
			size, addr := rd.Datagram(i)
			bytes += size
			if !addr.IsValid() {
				continue
			}
			if !r.allow(addr) {
				unknown.Inc()
				continue
			}
			if size > r.maxMsg {
				// Dropped, as documented: a cut frame could misstate a field (a byte count
				// cut mid-number), so it is neither parsed nor archived.
				oversize.Inc()
				continue
			}
			b.add(trimFrame(views[i][:size]), addr)
			if b.full(r.maxMsg) {
				send()
				deadline = time.Time{}
			}
		}
		r.metrics.ReceivedBytes.Add(float64(bytes))
		if n < udpBatch && r.pause > 0 {
			// The socket is drained: let datagrams gather for a moment, so that the next
			// call returns many (a recvmmsg call and a wake-up per few datagrams cost more
			// than the datagrams).
			time.Sleep(r.pause)
		}
	}
}

// udpSocket is the daemon's UDP socket: a *net.UDPConn, or on Linux the same socket taken out
// of the Go runtime's poller (detachUDP).
type udpSocket interface {
	syscall.Conn
	Close() error
}

// udpBatch is how many datagrams one recvmmsg call may return.
const udpBatch = 64

// udpPause is how long the receiver waits after draining the socket before reading again:
// at 150 k msg/s about 300 datagrams gather (5 recvmmsg calls of 64 instead of one call and
// one wake-up per few datagrams), and a lone datagram is delayed by as little.
const udpPause = 2 * time.Millisecond

// udpPauseFor is the pause for a socket whose receive buffer the kernel reports as buf bytes:
// udpPause when the buffer holds a pause's datagrams many times over at any rate the daemon
// keeps up with (8 MiB reported, 4 MiB asked, is about 20 ms at 150 k msg/s of 1 KiB kernel
// buffers each), none when it might not (a kernel that refused the size asked).
func udpPauseFor(buf int) time.Duration {
	if buf < 8<<20 {
		return 0
	}
	return udpPause
}

// batchReader reads datagrams into the buffers it was made with (newBatchReader, per
// platform): Read waits until at least one datagram is there, the deadline passes (a net.Error
// whose Timeout is true; a zero deadline: none) or the socket is closed (net.ErrClosed), and
// returns how many it read; Datagram tells the length and sender of each.
type batchReader interface {
	Read(deadline time.Time) (int, error)
	Datagram(i int) (size int, src netip.Addr)
}

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
