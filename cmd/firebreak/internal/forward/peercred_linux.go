package forward

import (
	"fmt"
	"net"
	"slices"
	"syscall"
	"unsafe"
)

// peerCred returns the caller's uid and groups from the kernel.
func peerCred(c *net.UnixConn) (int, []uint32, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, nil, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *syscall.Ucred
	var groups []uint32
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
		if serr == nil {
			groups = peerGroups(fd)
		}
	}); err != nil {
		return 0, nil, fmt.Errorf("peer credentials: %w", err)
	}
	if serr != nil {
		return 0, nil, fmt.Errorf("peer credentials: %w", serr)
	}
	if groups != nil && !slices.Contains(groups, cred.Gid) {
		groups = append(groups, cred.Gid)
	}
	return int(cred.Uid), groups, nil
}

// soPeerGroups is SO_PEERGROUPS (Linux 4.13; 59 on the common architectures;
// the syscall package does not name it).
const soPeerGroups = 59

// peerGroups is the caller's supplementary groups, or nil when the kernel
// does not answer.
func peerGroups(fd uintptr) []uint32 {
	buf := make([]uint32, 64)
	for range 2 {
		n := uint32(len(buf) * 4)
		_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.SOL_SOCKET, soPeerGroups,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		switch {
		case e == 0:
			return append([]uint32{}, buf[:n/4]...)
		case e == syscall.ERANGE && int(n/4) > len(buf):
			buf = make([]uint32, n/4) // n is the size needed
		default:
			return nil
		}
	}
	return nil
}
