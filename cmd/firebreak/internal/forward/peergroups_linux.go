package forward

import (
	"syscall"
	"unsafe"

	"github.com/firebreak-dev/firebreak/collector/sockopt"
)

// soPeerGroups is SO_PEERGROUPS (Linux 4.13; 59 on the common architectures;
// the syscall package does not name it).
const soPeerGroups = 59

// peerGroups is the caller's supplementary groups, or nil when the kernel
// does not answer.
func peerGroups(fd uintptr) []uint32 {
	buf := make([]uint32, 64)
	for range 2 {
		n := uint32(len(buf) * 4)
		e := sockopt.Get(fd, syscall.SOL_SOCKET, soPeerGroups, unsafe.Pointer(&buf[0]), &n)
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
