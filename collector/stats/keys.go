package stats

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Key building and value coding. Keys are built only at flush time and in queries, never per
// event. See the package doc for the schema.

const (
	hourDigits = 7 // hour index = unix/3600; 7 digits last until the year 3110
	dayDigits  = 6 // day index = unix/86400
	sep        = '|'
)

// appendPad appends v as a zero-padded decimal of width w (v must be ≥ 0).
func appendPad(b []byte, v int64, w int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < w; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendBucket appends the hour (daily=false) or day index of bucket t.
func appendBucket(b []byte, t int32, daily bool) []byte {
	if daily {
		return appendPad(b, int64(t), dayDigits)
	}
	return appendPad(b, int64(t), hourDigits)
}

// appendAddr appends an address in its canonical text form; the invalid address is written as
// "-" (the overflow bucket of capped families).
func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, '-')
	}
	return a.AppendTo(b)
}

// maxKeyString bounds a string copied from a log line into a key.
const maxKeyString = 96

// appendEsc appends s with '|', '%', spaces, control and non-ASCII bytes percent-escaped, so that
// attacker-supplied names (users, interfaces, ACLs) can neither break the key structure nor make
// keys unbounded.
func appendEsc(b []byte, s string) []byte {
	if len(s) > maxKeyString {
		s = s[:maxKeyString]
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '|' || c == '%' {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

// unesc reverses appendEsc.
func unesc(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// appendVals appends the decimal fields of v separated by spaces.
func appendVals(b []byte, v []uint64) []byte {
	for i, x := range v {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendUint(b, x, 10)
	}
	return b
}

// parseVals parses space-separated decimals into out and returns how many it read. Garbage
// fields read as 0: a value is only ever written by this package.
func parseVals(s string, out []uint64) int {
	n := 0
	var cur uint64
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if in && n < len(out) {
				out[n] = cur
				n++
			}
			cur, in = 0, false
			continue
		}
		if c >= '0' && c <= '9' {
			cur = cur*10 + uint64(c-'0')
		}
		in = true
	}
	if in && n < len(out) {
		out[n] = cur
		n++
	}
	return n
}

// splitKey splits a key into its '|'-separated fields into out (no allocation).
func splitKey(key string, out []string) []string {
	out = out[:0]
	for {
		i := strings.IndexByte(key, sep)
		if i < 0 {
			return append(out, key)
		}
		out = append(out, key[:i])
		key = key[i+1:]
	}
}

func parseAddr(s string) netip.Addr {
	if s == "-" {
		return netip.Addr{}
	}
	a, _ := netip.ParseAddr(s)
	return a
}

func atoi64(s string) int64 {
	v, _ := strconv.ParseInt(s, 10, 64)
	return v
}

func unixTime(s int64) time.Time { return time.Unix(s, 0).UTC() }
