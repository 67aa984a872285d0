package collector

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"github.com/firebreak-dev/firebreak/collector/sockopt"
	"golang.org/x/net/bpf"
	"golang.org/x/net/ipv4"
)

// skfNetOff is the classic BPF offset base of the network header (SKF_NET_OFF): a UDP socket's
// filter sees the datagram from its UDP header, the IP header only through this base.
const skfNetOff = 0xfff00000 // -0x100000 as the uint32 the instruction holds

// maxFilterSources bounds the program to well within the kernel's 4096 instructions.
const maxFilterSources = 400

// sourceFilter assembles a socket filter that keeps only datagrams whose IP source is one of
// srcs (IPv4 and IPv6 alike, so it fits a dual-stack socket), and drops every other one in the
// kernel, before it takes room in the socket's receive queue.
func sourceFilter(srcs []netip.Addr) ([]bpf.RawInstruction, error) {
	if len(srcs) > maxFilterSources {
		return nil, fmt.Errorf("%d syslog sources: more than the %d a socket filter holds", len(srcs), maxFilterSources)
	}
	var v4, v6 []netip.Addr
	for _, a := range srcs {
		if a = a.Unmap(); a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	const accept, drop = 0xffffffff, 0
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: skfNetOff, Size: 1},
		bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 4, SkipTrue: 0, SkipFalse: 1},
		bpf.Jump{Skip: 3}, // to the IPv4 list
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6, SkipTrue: 0, SkipFalse: 1},
		bpf.Jump{Skip: uint32(2 + 2*len(v4) + 1)}, // over the IPv4 list to the IPv6 one
		bpf.RetConstant{Val: drop},
		// IPv4: the source address is at offset 12.
		bpf.LoadAbsolute{Off: skfNetOff + 12, Size: 4},
	}
	for _, a := range v4 {
		b := a.As4()
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: be32(b[:]), SkipTrue: 0, SkipFalse: 1},
			bpf.RetConstant{Val: accept})
	}
	prog = append(prog, bpf.RetConstant{Val: drop})
	// IPv6: the source address is the four words from offset 8. Each address is a run of
	// loads and compares that falls through to accept; a mismatch skips to the next run.
	for _, a := range v6 {
		b := a.As16()
		for w := range 4 {
			left := uint8(2*(3-w) + 1) // instructions after this compare up to the run's accept
			prog = append(prog,
				bpf.LoadAbsolute{Off: skfNetOff + 8 + uint32(4*w), Size: 4},
				bpf.JumpIf{Cond: bpf.JumpEqual, Val: be32(b[4*w:]), SkipTrue: 0, SkipFalse: left})
		}
		prog = append(prog, bpf.RetConstant{Val: accept})
	}
	prog = append(prog, bpf.RetConstant{Val: drop})
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("source filter: %w", err)
	}
	return raw, nil
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// attachSourceFilter installs sourceFilter(srcs) on c.
func attachSourceFilter(c *net.UDPConn, srcs []netip.Addr) error {
	raw, err := sourceFilter(srcs)
	if err != nil {
		return err
	}
	// SO_ATTACH_FILTER is a socket-level option: the ipv4 wrapper sets it on IPv6 sockets too.
	if err := ipv4.NewPacketConn(c).SetBPF(raw); err != nil {
		return fmt.Errorf("attach source filter: %w", err)
	}
	return nil
}

// kernelDrops returns the datagrams the kernel dropped on c's socket (sk_drops): those the
// source filter refused and those that found the receive queue full.
func kernelDrops(c syscall.Conn) (uint32, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	const soMeminfo, skMeminfoDrops = 55, 8 // linux/sock_diag.h
	var info [16]uint32
	var serr error
	err = rc.Control(func(fd uintptr) {
		n := uint32(unsafe.Sizeof(info))
		if e := sockopt.Get(fd, syscall.SOL_SOCKET, soMeminfo, unsafe.Pointer(&info[0]), &n); e != 0 {
			serr = e
		} else if n/4 <= skMeminfoDrops {
			serr = errors.New("SO_MEMINFO without a drop count")
		}
	})
	if err = errors.Join(err, serr); err != nil {
		return 0, fmt.Errorf("socket drops: %w", err)
	}
	return info[skMeminfoDrops], nil
}
