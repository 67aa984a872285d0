package ciscolog

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// scanIPv4PortRef is scanIPv4Port's contract written with netip and strconv.
func scanIPv4PortRef(s string, i int) (ip uint32, port, end int) {
	j := i
	for j < len(s) && (isDigit(s[j]) || s[j] == '.' || s[j] == '/') {
		j++
	}
	addr, p, hasPort := strings.Cut(s[i:j], "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is4() || strings.Contains(p, "/") {
		return 0, 0, -1
	}
	port = -1
	if hasPort {
		v, err := strconv.Atoi(p)
		if err != nil || len(p) > 5 || v > 65535 || p[0] == '+' || p[0] == '-' {
			return 0, 0, -1
		}
		port = v
	}
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), port, j
}

func TestScanIPv4Port(t *testing.T) {
	check := func(s string, i int) {
		t.Helper()
		ip, port, end := scanIPv4Port(s, i)
		wip, wport, wend := scanIPv4PortRef(s, i)
		if end != wend || (end >= 0 && (ip != wip || port != wport)) {
			t.Fatalf("scanIPv4Port(%q, %d) = %08x, %d, %d; want %08x, %d, %d", s, i, ip, port, end, wip, wport, wend)
		}
	}
	for _, s := range []string{
		"1.2.3.4", "10.20.1.15/52114", "203.0.113.40/443 (x)", "0.0.0.0/0", "255.255.255.255/65535",
		"256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.5", "1.2.3.4/", "1.2.3.4/65536",
		"1.2.3.4/123456", "1.2.3.4/00443", "1.2.3.4/000443", "1.2.3.4/5/6", "1.2.3.4(x)", "1.2.3.4:80", "1.2.3.4 ", "1..3.4",
		"1.2.3.1000", "1.2.3.4/8a", "", ".", "/", "a.b.c.d", "::1", "1.2.3.4)", "999.1.1.1", "1.2.3.45/8)",
	} {
		for i := 0; i <= len(s); i++ {
			check(s, i)
		}
		check(" ("+s, 2)
	}
	r := rand.New(rand.NewPCG(7, 11))
	const alphabet = "0123456789......//  (x:"
	parts := []string{"0", "1", "9", "10", "25", "99", "100", "199", "249", "250", "255", "256", "300", "999", "00", "01", "1000"}
	for n := 0; n < 200000; n++ {
		var b strings.Builder
		if n%2 == 0 { // near-addresses
			for f := 0; f < 4; f++ {
				if f > 0 {
					b.WriteByte('.')
				}
				b.WriteString(parts[r.IntN(len(parts))])
			}
			if r.IntN(2) == 0 {
				b.WriteByte('/')
				b.WriteString(strconv.Itoa(r.IntN(100000)))
			}
		}
		for k := r.IntN(4); k > 0; k-- {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		check(s, 0)
		if len(s) > 0 {
			check(s, r.IntN(len(s)))
		}
	}
}

// TestPlainEndpoint checks plainEndpoint against the cut and endpoint it stands for.
func TestPlainEndpoint(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	for n := 0; n < 100000; n++ {
		s := pick("outside", "in side", "", "v1:outside", "NP Identity Ifc", "a to b", "dmz") + pick(":", ":", "/", "") +
			pick("10.20.1.15", "203.0.113.40", "1.2.3.256", "fe80::1", "name", "01.2.3.4") + pick("/443", "/52114", "", "/http", "/65536", "/") +
			pick("", "", " (198.51.100.7/40112)", " (198.51.100.7)", "(LOCAL\\alice)", " (x to y/1)", " (1.2.3.4/5)(id)") +
			pick(" to ", " dst ", " duration ", "", " ", " to  ") + pick("inside:10.0.0.1/5", "x", "")
		for _, sep := range []string{" to ", " dst ", " duration "} {
			for _, orEnd := range []bool{false, true} {
				for _, withMapped := range []bool{false, true} {
					var got Endpoint
					after, ok := plainEndpoint(&got, s, sep, orEnd, withMapped)
					if !ok {
						if got != (Endpoint{}) {
							t.Fatalf("plainEndpoint(%q, %q) failed but filled %+v", s, sep, got)
						}
						continue
					}
					before, wantAfter, found := strings.Cut(s, sep)
					if !found && !orEnd {
						t.Fatalf("plainEndpoint(%q, %q) accepted a frame without the separator", s, sep)
					}
					var want Endpoint
					rest := endpoint(&want, before, true, withMapped)
					if got != want || after != wantAfter || rest != "" {
						t.Fatalf("plainEndpoint(%q, %q, %v, %v) = %+v, %q; want %+v, %q (rest %q)", s, sep, orEnd, withMapped, got, after, want, wantAfter, rest)
					}
				}
			}
		}
	}
}
