package collector

import (
	"net"
	"syscall"
)

// forceReadBuffer asks for n bytes past net.core.rmem_max (SO_RCVBUFFORCE: root or
// CAP_NET_ADMIN); without the privilege it changes nothing, and the caller reads what it got.
func forceReadBuffer(c *net.UDPConn, n int) {
	rc, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
	})
}
