//go:build !(linux && 386)

// Package sockopt reads socket options the syscall package has no typed call for
// (SO_MEMINFO, SO_PEERGROUPS) on every platform the daemon builds for.
package sockopt

import (
	"syscall"
	"unsafe"
)

// Get is getsockopt(2) with a raw buffer of *n bytes at val; *n becomes the length the
// kernel wrote (or, with ERANGE, the length it needs).
func Get(fd, level, opt uintptr, val unsafe.Pointer, n *uint32) syscall.Errno {
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, level, opt, uintptr(val), uintptr(unsafe.Pointer(n)), 0)
	return e
}
