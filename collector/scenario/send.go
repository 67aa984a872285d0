package scenario

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ErrNotLoopback is returned (wrapped) by Send and ParseTarget for any destination that is not a
// loopback address: generated traffic is for load tests on this machine only.
var ErrNotLoopback = errors.New("target is not a loopback address (only 127.0.0.0/8, ::1 and localhost are allowed)")

// ErrBadTarget is returned (wrapped) for a target that is not udp://HOST:PORT.
var ErrBadTarget = errors.New("target must look like udp://127.0.0.1:5140")

// sendTick is how often the sender wakes to send what its schedule owes.
const sendTick = time.Millisecond

// sendBatch is how many datagrams one sendmmsg call carries at most.
const sendBatch = 64

// maxBehind bounds how far the sender may fall behind its schedule (a stall of the sending
// thread on a busy machine) and still catch up; beyond it the schedule restarts, so the rate
// achieved, not a burst, is what a stall costs.
const maxBehind = time.Second

// maxLine is the longest line Send accepts.
const maxLine = 64 << 10

// ParseTarget checks a send target "udp://HOST:PORT" and returns its address. HOST must be a
// loopback address literal or "localhost" (taken as 127.0.0.1); names are never resolved, so
// nothing can redirect the traffic off this machine.
func ParseTarget(target string) (netip.AddrPort, error) {
	u, err := url.Parse(target)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("target %q: %w: %w", target, ErrBadTarget, err)
	}
	if u.Scheme != "udp" || u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return netip.AddrPort{}, fmt.Errorf("target %q: %w", target, ErrBadTarget)
	}
	host, portText := u.Hostname(), u.Port()
	port, err := parsePortNumber(portText)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("target %q: %w: %w", target, ErrBadTarget, err)
	}
	var addr netip.Addr
	if host == "localhost" {
		addr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	} else {
		addr, err = netip.ParseAddr(host)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("target host %q: %w", host, ErrNotLoopback)
		}
	}
	addr = addr.Unmap()
	if !addr.IsLoopback() {
		return netip.AddrPort{}, fmt.Errorf("target host %s: %w", addr, ErrNotLoopback)
	}
	return netip.AddrPortFrom(addr.WithZone(""), port), nil
}

func parsePortNumber(s string) (uint16, error) {
	if s == "" {
		return 0, errors.New("no port")
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("port %q is not a number", s)
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, fmt.Errorf("port %q is out of range", s)
		}
	}
	if n == 0 {
		return 0, errors.New("port 0")
	}
	return uint16(n), nil
}

// Send reads newline-terminated lines from r and sends each non-empty one as a single UDP
// datagram to target (see ParseTarget), rate lines per second (see SendLines for the pace).
// It stops at the end of r, on the first error, or when ctx is done, and returns how many
// lines it sent; a cancelled ctx gives ctx's error (wrapped).
func Send(ctx context.Context, r io.Reader, target string, rate int) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var bufs [sendBatch][]byte
	fill := func(ms []ipv4.Message) (int, error) {
		for i := range ms {
			for {
				if !sc.Scan() {
					if err := sc.Err(); err != nil {
						return i, fmt.Errorf("read lines: %w", err)
					}
					return i, io.EOF
				}
				line := sc.Bytes()
				if n := len(line); n > 0 && line[n-1] == '\r' {
					line = line[:n-1]
				}
				if len(line) > 0 {
					bufs[i] = append(bufs[i][:0], line...) // the scanner reuses its buffer
					ms[i].Buffers[0] = bufs[i]
					break
				}
			}
		}
		return len(ms), nil
	}
	return send(ctx, target, rate, fill)
}

// SendLines sends count datagrams to target (see ParseTarget), taking lines in turn and
// starting over at the end, rate datagrams per second. It paces by the clock from the first
// datagram (up to 64 go with one sendmmsg call, released every millisecond), so a sender
// descheduled for a while catches up instead of falling short of the rate, by at most a
// second's worth. It returns how many it sent; a cancelled ctx gives ctx's error (wrapped).
func SendLines(ctx context.Context, lines [][]byte, target string, rate, count int) (int, error) {
	if len(lines) == 0 {
		return 0, nil
	}
	next := 0
	fill := func(ms []ipv4.Message) (int, error) {
		for i := range ms {
			if count <= 0 {
				return i, io.EOF
			}
			ms[i].Buffers[0] = lines[next]
			next = (next + 1) % len(lines)
			count--
		}
		return len(ms), nil
	}
	return send(ctx, target, rate, fill)
}

// batchWriter is sendmmsg on a connected socket: ipv4's and ipv6's PacketConn both have it.
type batchWriter interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// send paces what fill provides to target. fill sets the Buffers[0] of up to len(ms) messages
// and returns how many it set, and io.EOF once it has no more.
func send(ctx context.Context, target string, rate int, fill func(ms []ipv4.Message) (int, error)) (int, error) {
	ap, err := ParseTarget(target)
	if err != nil {
		return 0, err
	}
	if rate <= 0 {
		return 0, fmt.Errorf("rate %d: must be at least one line per second: %w", rate, ErrBadTarget)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", ap.String())
	if err != nil {
		return 0, fmt.Errorf("dial %s: %w", ap, err)
	}
	defer c.Close()
	var w batchWriter = ipv4.NewPacketConn(c.(*net.UDPConn))
	if ap.Addr().Is6() {
		w = ipv6.NewPacketConn(c.(*net.UDPConn))
	}
	ms := make([]ipv4.Message, sendBatch)
	for i := range ms {
		ms[i].Buffers = make([][]byte, 1)
	}

	tick := time.NewTicker(sendTick)
	defer tick.Stop()
	start := time.Now()
	base := 0 // datagrams sent before start (the schedule restarts after a long stall)
	sent := 0
	for {
		owed := base + int(float64(rate)*time.Since(start).Seconds()) - sent
		if owed > rate*int(maxBehind/time.Second) {
			start, base, owed = time.Now(), sent, 1
		}
		for owed > 0 {
			n, ferr := fill(ms[:min(owed, sendBatch)])
			for k := 0; k < n; {
				m, err := w.WriteBatch(ms[k:n], 0)
				if err != nil {
					return sent, fmt.Errorf("send to %s: %w", ap, err)
				}
				k += m
				sent += m
			}
			owed -= n
			if ferr == io.EOF {
				return sent, nil
			}
			if ferr != nil {
				return sent, ferr
			}
			if ctx.Err() != nil {
				return sent, fmt.Errorf("send to %s: %w", ap, ctx.Err())
			}
		}
		select {
		case <-ctx.Done():
			return sent, fmt.Errorf("send to %s: %w", ap, ctx.Err())
		case <-tick.C:
		}
	}
}
