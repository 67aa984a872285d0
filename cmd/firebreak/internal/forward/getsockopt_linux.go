//go:build linux && !386

package forward

import (
	"syscall"
	"unsafe"
)

// getsockopt is getsockopt(2) with a raw buffer.
func getsockopt(fd, level, opt uintptr, val unsafe.Pointer, n *uint32) syscall.Errno {
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, level, opt, uintptr(val), uintptr(unsafe.Pointer(n)), 0)
	return e
}
