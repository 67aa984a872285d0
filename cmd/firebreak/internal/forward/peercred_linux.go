package forward

import (
	"fmt"
	"net"
	"slices"
	"syscall"
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
