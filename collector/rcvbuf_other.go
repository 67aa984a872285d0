//go:build !linux

package collector

import "net"

// forceReadBuffer: only Linux can raise a socket buffer past the system's maximum; elsewhere
// the caller reads what SetReadBuffer got, and warns when it is less than asked.
func forceReadBuffer(*net.UDPConn, int) {}
