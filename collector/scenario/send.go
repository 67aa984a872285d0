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
)

// ErrNotLoopback is returned (wrapped) by Send and ParseTarget for any destination that is not a
// loopback address: generated traffic is for load tests on this machine only.
var ErrNotLoopback = errors.New("target is not a loopback address (only 127.0.0.0/8, ::1 and localhost are allowed)")

// ErrBadTarget is returned (wrapped) for a target that is not udp://HOST:PORT.
var ErrBadTarget = errors.New("target must look like udp://127.0.0.1:5140")

// sendTick is how often Send releases a batch of lines.
const sendTick = 10 * time.Millisecond

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
// datagram to target (see ParseTarget), rate lines per second: every 10 ms it releases the
// batch the rate allows, so the pace is steady without a timer per line. It stops at the end of
// r, on the first error, or when ctx is done, and returns how many lines it sent; a cancelled
// ctx gives ctx's error (wrapped).
func Send(ctx context.Context, r io.Reader, target string, rate int) (int, error) {
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

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	perTick := float64(rate) * sendTick.Seconds()
	allowance := perTick // the first batch goes at once
	tick := time.NewTicker(sendTick)
	defer tick.Stop()
	sent := 0
	for {
		for allowance >= 1 {
			if !sc.Scan() {
				if err := sc.Err(); err != nil {
					return sent, fmt.Errorf("read lines: %w", err)
				}
				return sent, nil
			}
			line := sc.Bytes()
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			if len(line) == 0 {
				continue
			}
			if _, err := c.Write(line); err != nil {
				return sent, fmt.Errorf("send to %s: %w", ap, err)
			}
			sent++
			allowance--
		}
		select {
		case <-ctx.Done():
			return sent, fmt.Errorf("send to %s: %w", ap, ctx.Err())
		case <-tick.C:
			// Never bank more than one tick's worth: after a stall the pace stays steady.
			allowance = min(allowance+perTick, perTick+1)
		}
	}
}
