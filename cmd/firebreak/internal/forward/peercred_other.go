//go:build !linux && !darwin

package forward

import (
	"errors"
	"net"
)

// peerCred: the caller's identity comes from the kernel or not at all; this platform has no
// supported way, so commands are not forwarded to a running daemon here.
func peerCred(*net.UnixConn) (int, []uint32, error) {
	return 0, nil, errors.New("peer credentials: not supported on this platform (Linux and macOS are)")
}
