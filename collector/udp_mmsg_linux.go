//go:build linux && (amd64 || arm64)

package collector

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// detachUDP takes c's socket out of the Go runtime's poller and returns it as a blocking file
// that no poller watches (c is closed; the socket, its bound address and options stay). The
// poller registers a socket edge-triggered, so while the receiver pauses (udpPause) every
// arriving datagram woke the thread parked in epoll_wait for nothing: a quarter of the
// daemon's CPU at 150 k msg/s. The receiver waits with poll(2) itself instead (mmsgReader).
func detachUDP(c *net.UDPConn) (udpSocket, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("udp socket: %w", err)
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = fcntlDup(int(fd))
	}); err != nil {
		return nil, fmt.Errorf("udp socket: %w", err)
	}
	if derr != nil {
		return nil, fmt.Errorf("udp socket: dup: %w", derr)
	}
	addr := c.LocalAddr().String()
	if err := c.Close(); err != nil { // EPOLL_CTL_DEL and close of the first descriptor
		syscall.Close(nfd)
		return nil, fmt.Errorf("udp socket: %w", err)
	}
	// Blocking, so that os.NewFile leaves it out of the poller; reads use MSG_DONTWAIT.
	if err := syscall.SetNonblock(nfd, false); err != nil {
		syscall.Close(nfd)
		return nil, fmt.Errorf("udp socket: %w", err)
	}
	return os.NewFile(uintptr(nfd), "udp:"+addr), nil
}

func fcntlDup(fd int) (int, error) {
	nfd, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return -1, e
	}
	return int(nfd), nil
}

// pollWait bounds one poll(2) call, so that a Close (which does not wake a poll on Linux) is
// seen this soon: shutdown waits at most this long for the receiver.
const pollWait = 100 * time.Millisecond

// mmsgReader reads datagrams with recvmmsg(2) straight into its buffers and decodes the
// senders' addresses into netip.Addr, allocating nothing per datagram (x/net's ReadBatch
// allocates a *net.UDPAddr for each: an eighth of the daemon's CPU at 150 k msg/s).
type mmsgReader struct {
	rc     syscall.RawConn
	hs     []mmsghdr
	iovs   []syscall.Iovec
	names  []syscall.RawSockaddrInet6 // large enough for either family
	bufs   [][]byte
	n      int // datagrams of the last read
	errno  syscall.Errno
	read   func(fd uintptr) // recvmmsg without waiting; bound once: a method value per call would allocate
	wait   func(fd uintptr) // poll(2) for input for up to waitMs
	waitMs int
	pfd    [1]unix.PollFd
	waitTs unix.Timespec // ppoll's timeout, a field so that a wait does not allocate
}

// mmsghdr is struct mmsghdr: a msghdr and the datagram's length.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
}

// newBatchReader reads c (a *net.UDPConn, or a socket from detachUDP) without the runtime's
// poller: recvmmsg with MSG_DONTWAIT, and poll(2) when the socket is empty.
func newBatchReader(c syscall.Conn, bufs [][]byte) (batchReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &mmsgReader{rc: rc, hs: make([]mmsghdr, len(bufs)), iovs: make([]syscall.Iovec, len(bufs)),
		names: make([]syscall.RawSockaddrInet6, len(bufs)), bufs: bufs}
	for i := range r.hs {
		r.iovs[i].Base = &bufs[i][0]
		r.iovs[i].SetLen(len(bufs[i]))
		r.hs[i].hdr.Iov = &r.iovs[i]
		r.hs[i].hdr.Iovlen = 1
		r.hs[i].hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	r.read = func(fd uintptr) {
		for i := range r.hs {
			r.hs[i].hdr.Namelen = syscall.SizeofSockaddrInet6
			r.hs[i].hdr.Flags = 0
		}
		for {
			n, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hs[0])), uintptr(len(r.hs)), syscall.MSG_DONTWAIT, 0, 0)
			if e == syscall.EINTR {
				continue
			}
			r.n, r.errno = int(n), e
			return
		}
	}
	r.pfd[0].Events = unix.POLLIN
	r.wait = func(fd uintptr) {
		r.pfd[0].Fd = int32(fd)
		// Blocking: the goroutine's thread waits in the kernel, the runtime runs others.
		// ppoll: every architecture has it (arm64 has no poll).
		r.waitTs = unix.NsecToTimespec(int64(r.waitMs) * 1e6)
		_, _ = unix.Ppoll(r.pfd[:], &r.waitTs, nil)
	}
	return r, nil
}

// Read fills up to all buffers; it waits until at least one datagram is there, the deadline
// passes (os.ErrDeadlineExceeded) or the socket is closed (net.ErrClosed).
func (r *mmsgReader) Read(deadline time.Time) (int, error) {
	// As the poller does: a passed deadline wins over waiting data, so a stream that never
	// pauses still hands partial batches on at the linger time.
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return 0, os.ErrDeadlineExceeded
	}
	for {
		r.n, r.errno = 0, 0
		if err := r.rc.Control(r.read); err != nil {
			return 0, fmt.Errorf("recvmmsg: %w (%w)", net.ErrClosed, err)
		}
		switch r.errno {
		case 0:
			return r.n, nil
		case syscall.EAGAIN:
		default:
			return 0, &net.OpError{Op: "recvmmsg", Net: "udp", Err: r.errno}
		}
		wait := pollWait
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			wait = min(wait, left)
		}
		r.waitMs = max(int(wait/time.Millisecond), 1)
		if err := r.rc.Control(r.wait); err != nil {
			return 0, fmt.Errorf("poll: %w (%w)", net.ErrClosed, err)
		}
	}
}

// Datagram returns datagram i of the last Read: its length (up to its buffer's) and sender.
func (r *mmsgReader) Datagram(i int) (int, netip.Addr) {
	h := &r.hs[i]
	n := int(h.len)
	sa := &r.names[i]
	switch sa.Family {
	case syscall.AF_INET:
		if h.hdr.Namelen >= syscall.SizeofSockaddrInet4 {
			sa4 := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
			return n, netip.AddrFrom4(sa4.Addr)
		}
	case syscall.AF_INET6:
		if h.hdr.Namelen >= syscall.SizeofSockaddrInet6 {
			a := netip.AddrFrom16(sa.Addr)
			if sa.Scope_id != 0 { // link-local: named by its interface, as net.UDPAddr is
				a = a.WithZone(zoneName(int(sa.Scope_id)))
			}
			return n, a.Unmap()
		}
	}
	return n, netip.Addr{}
}

func zoneName(index int) string {
	if ifi, err := net.InterfaceByIndex(index); err == nil {
		return ifi.Name
	}
	return strconv.Itoa(index)
}
