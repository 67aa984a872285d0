//go:build linux && (amd64 || arm64)

package collector

import (
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"
)

// mmsgReader reads datagrams with recvmmsg(2) straight into its buffers and decodes the
// senders' addresses into netip.Addr, allocating nothing per datagram (x/net's ReadBatch
// allocates a *net.UDPAddr for each: an eighth of the daemon's CPU at 150 k msg/s).
type mmsgReader struct {
	rc    syscall.RawConn
	hs    []mmsghdr
	iovs  []syscall.Iovec
	names []syscall.RawSockaddrInet6 // large enough for either family
	bufs  [][]byte
	n     int // datagrams of the last read
	errno syscall.Errno
	read  func(fd uintptr) bool // bound once: a method value per call would allocate
}

// mmsghdr is struct mmsghdr: a msghdr and the datagram's length.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
}

func newBatchReader(c *net.UDPConn, bufs [][]byte) (batchReader, error) {
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
	r.read = func(fd uintptr) bool {
		for i := range r.hs {
			r.hs[i].hdr.Namelen = syscall.SizeofSockaddrInet6
			r.hs[i].hdr.Flags = 0
		}
		for {
			n, _, e := syscall.Syscall6(syscall.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hs[0])), uintptr(len(r.hs)), 0, 0, 0)
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait for the poller (and the read deadline)
			}
			r.n, r.errno = int(n), e
			return true
		}
	}
	return r, nil
}

// Read fills up to all buffers; it blocks until at least one datagram is there, the read
// deadline passes (a timeout error) or the socket is closed.
func (r *mmsgReader) Read() (int, error) {
	r.n, r.errno = 0, 0
	if err := r.rc.Read(r.read); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, &net.OpError{Op: "recvmmsg", Net: "udp", Err: r.errno}
	}
	return r.n, nil
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
