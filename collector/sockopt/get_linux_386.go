package sockopt

import (
	"syscall"
	"unsafe"
)

// Get is getsockopt(2) with a raw buffer of *n bytes at val; *n becomes the length the
// kernel wrote (or, with ERANGE, the length it needs). On linux/386 the socket calls go through
// socketcall(2) (call 15 is getsockopt), which the syscall package does not wrap.
func Get(fd, level, opt uintptr, val unsafe.Pointer, n *uint32) syscall.Errno {
	args := [5]uintptr{fd, level, opt, uintptr(val), uintptr(unsafe.Pointer(n))}
	_, _, e := syscall.Syscall(syscall.SYS_SOCKETCALL, 15, uintptr(unsafe.Pointer(&args[0])), 0)
	return e
}
