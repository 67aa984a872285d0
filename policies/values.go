package policies

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in YAML as a Go duration with two more units, d (24h)
// and w (7d): "90s", "24h", "35d", "1w2d12h". Convert with time.Duration(d).
type Duration time.Duration

// UnmarshalText parses the forms above; negative durations are refused.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the shortest form that parses back to the same value.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// String writes two days or more in whole days as "35d", and anything else as
// time.Duration does without zero units ("24h", "5m", "1h30m").
func (d Duration) String() string {
	td := time.Duration(d)
	const day = 24 * time.Hour
	if td >= 2*day && td%day == 0 {
		return strconv.FormatInt(int64(td/day), 10) + "d"
	}
	s := td.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	// Leading day and week terms are ours; the rest is time.ParseDuration's.
	var total time.Duration
	rest := s
	for {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || (rest[i] != 'd' && rest[i] != 'w') {
			break
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		unit := 24 * time.Hour
		if rest[i] == 'w' {
			unit *= 7
		}
		if err != nil || n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if rest == "" {
		return total, nil
	}
	if rest == s || total == 0 || rest[0] >= '0' && rest[0] <= '9' {
		v, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 5m, 24h, 35d)", s)
		}
		if v > math.MaxInt64-total {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		return total + v, nil
	}
	return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 5m, 24h, 35d)", s)
}

// ByteSize is a number of bytes written in YAML as a plain integer or with a unit: B, KB, MB,
// GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), case-insensitive, with an
// optional fraction ("1.5GB").
type ByteSize int64

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	// Longest suffixes first so "MiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"t", 1e12},
	{"b", 1},
}

// UnmarshalText parses the forms above; negative sizes are refused.
func (z *ByteSize) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	lower := strings.ToLower(s)
	mult := 1.0
	num := lower
	for _, u := range sizeUnits {
		if strings.HasSuffix(lower, u.suffix) {
			mult = u.mult
			num = strings.TrimSpace(lower[:len(lower)-len(u.suffix)])
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eEnNxX+") {
		return fmt.Errorf("invalid size %q (use e.g. 512KB, 200MB, 1.5GiB)", s)
	}
	v *= mult
	if v < 0 || v >= math.MaxInt64 || math.IsNaN(v) {
		return fmt.Errorf("size %q is out of range", s)
	}
	*z = ByteSize(math.Round(v))
	return nil
}

// MarshalText writes the size with the largest decimal unit that divides it exactly.
func (z ByteSize) MarshalText() ([]byte, error) { return []byte(z.String()), nil }

func (z ByteSize) String() string {
	for _, u := range []struct {
		s string
		m int64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if z != 0 && int64(z)%u.m == 0 {
			return strconv.FormatInt(int64(z)/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(int64(z), 10) + "B"
}

// IP protocol numbers a Port may carry (the same numbers as the parser's Proto).
const (
	ProtoICMP uint8 = 1
	ProtoTCP  uint8 = 6
	ProtoUDP  uint8 = 17
)

// Port is a transport port written "tcp/443" or "udp/53", or "icmp" (Num 0: any ICMP). It is
// comparable and used as a map key.
type Port struct {
	Proto uint8  // IP protocol number: ProtoTCP, ProtoUDP or ProtoICMP
	Num   uint16 // 1..65535 for TCP and UDP; 0 for ICMP
}

// ParsePort parses "tcp/443", "udp/53" or "icmp".
func ParsePort(s string) (Port, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "icmp" {
		return Port{Proto: ProtoICMP}, nil
	}
	proto, num, ok := strings.Cut(s, "/")
	var p Port
	switch proto {
	case "tcp":
		p.Proto = ProtoTCP
	case "udp":
		p.Proto = ProtoUDP
	default:
		return Port{}, fmt.Errorf("invalid port %q (use tcp/443, udp/53 or icmp)", s)
	}
	n, err := strconv.ParseUint(num, 10, 16)
	if !ok || err != nil || n == 0 {
		return Port{}, fmt.Errorf("invalid port %q (number must be 1-65535)", s)
	}
	p.Num = uint16(n)
	return p, nil
}

// UnmarshalText parses with ParsePort.
func (p *Port) UnmarshalText(b []byte) error {
	v, err := ParsePort(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// MarshalText writes the form ParsePort reads.
func (p Port) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

func (p Port) String() string {
	switch p.Proto {
	case ProtoTCP:
		return "tcp/" + strconv.Itoa(int(p.Num))
	case ProtoUDP:
		return "udp/" + strconv.Itoa(int(p.Num))
	case ProtoICMP:
		return "icmp"
	}
	return fmt.Sprintf("proto%d/%d", p.Proto, p.Num)
}

// parsePrefix reads a prefix or a bare address (taken as a host prefix) and refuses a prefix
// with host bits set: in a firewall policy a silently widened or narrowed range is a mistake
// worth stopping for.
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid address or prefix %q", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("address %q has a zone; zones are not allowed", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid prefix %q", s)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("prefix %q is IPv4-mapped IPv6; write it as IPv4", s)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("prefix %q has host bits set; write %s (the network) or %s/%d (one host)",
			s, m, p.Addr(), p.Addr().BitLen())
	}
	return p, nil
}

// parseAddr reads one address; zones are refused and IPv4-mapped IPv6 is unmapped.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("invalid address %q", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("address %q has a zone; zones are not allowed", s)
	}
	return a.Unmap(), nil
}
