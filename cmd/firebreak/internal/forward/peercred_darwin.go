package forward

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// peerCred returns the caller's uid and groups from the kernel (LOCAL_PEERCRED: the
// effective uid and up to 16 groups, the first being the effective group).
func peerCred(c *net.UnixConn) (int, []uint32, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, nil, fmt.Errorf("peer credentials: %w", err)
	}
	var x *unix.Xucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		x, serr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	}); err != nil {
		return 0, nil, fmt.Errorf("peer credentials: %w", err)
	}
	if serr != nil {
		return 0, nil, fmt.Errorf("peer credentials: %w", serr)
	}
	groups := make([]uint32, 0, x.Ngroups)
	for _, g := range x.Groups[:min(int(x.Ngroups), len(x.Groups))] {
		groups = append(groups, g)
	}
	return int(x.Uid), groups, nil
}
