package ciscolog

import (
	"net/netip"
	"strings"
	"time"
)

// Helpers that read typed fields out of message bodies. They work on substrings of the frame
// and never allocate.

// cut returns s[:i] and s[i+len(sep):] around the first sep, like strings.Cut.
func cut(s, sep string) (string, string, bool) {
	return strings.Cut(s, sep)
}

// uintAt reads a decimal number at the start of s.
func uintAt(s string) (v uint64, rest string, ok bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		if i >= 19 {
			return 0, s, false
		}
		v = v*10 + uint64(s[i]-'0')
		i++
	}
	if i == 0 {
		return 0, s, false
	}
	return v, s[i:], true
}

// word returns the text up to the first space.
func word(s string) (string, string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// parsePort reads a port number or, for a few services the ASA prints by name, its number.
func parsePort(s string) (uint16, bool) {
	if v, rest, ok := uintAt(s); ok && rest == "" && v <= 65535 {
		return uint16(v), true
	}
	switch s {
	case "http", "www":
		return 80, true
	case "https":
		return 443, true
	case "ssh":
		return 22, true
	case "telnet":
		return 23, true
	case "domain":
		return 53, true
	case "ftp":
		return 21, true
	case "smtp":
		return 25, true
	case "snmp":
		return 161, true
	}
	return 0, false
}

// setAddr fills ep.Addr from an address slot, or ep.Name when the slot holds a name or an
// address that does not parse (`OCSP_Server`, `1192.168.2.2`).
func setAddr(ep *Endpoint, s string) {
	if a, ok := parseAddr(s); ok {
		ep.Addr = a
		return
	}
	ep.Name = s
}

// scanIPv4Port reads the common endpoint shape `a.b.c.d[/port]` at s[i:] in one pass: the
// address as a big-endian number, the port (-1 when there is none) and where the text ends.
// end is -1 when s[i:] does not start with that shape, or when a digit, '.' or '/' follows it;
// the caller checks what may follow. For what it accepts, parseAddr and parsePort read the
// same address and port; everything else (IPv6, names, service names) is left to them.
func scanIPv4Port(s string, i int) (ip uint32, port, end int) {
	n := len(s)
	for f := 0; ; f++ {
		if i < 0 || i >= n {
			return 0, 0, -1
		}
		v := uint32(s[i]) - '0'
		if v > 9 {
			return 0, 0, -1
		}
		i++
		if v != 0 && i < n { // no leading zero: up to two more digits
			if d := uint32(s[i]) - '0'; d <= 9 {
				v = v*10 + d
				i++
				if i < n {
					if d := uint32(s[i]) - '0'; d <= 9 {
						v = v*10 + d
						i++
						if v > 255 {
							return 0, 0, -1
						}
					}
				}
			}
		}
		ip = ip<<8 | v
		if f == 3 {
			break
		}
		if i >= n || s[i] != '.' {
			return 0, 0, -1
		}
		i++
	}
	port = -1
	if i < n && s[i] == '/' {
		i++
		start, v := i, 0
		for i < n && i-start < 5 {
			d := uint(s[i]) - '0'
			if d > 9 {
				break
			}
			v = v*10 + int(d)
			i++
		}
		if i == start || v > 65535 {
			return 0, 0, -1
		}
		port = v
	}
	if i < n {
		if c := s[i]; c == '.' || c == '/' || c-'0' <= 9 {
			return 0, 0, -1
		}
	}
	return ip, port, i
}

func addrFrom(ip uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)})
}

// addrPort reads `addr[/port]` (port after the last '/').
func addrPort(ep *Endpoint, s string) {
	if ip, port, end := scanIPv4Port(s, 0); end == len(s) {
		ep.Addr = addrFrom(ip)
		if port >= 0 {
			ep.Port = uint16(port)
		}
		return
	}
	addr, port, hasPort := s, "", false
	if k := strings.LastIndexByte(s, '/'); k >= 0 {
		addr, port, hasPort = s[:k], s[k+1:], true
	}
	a, ok := parseAddr(addr)
	setAddrPort(ep, s, addr, a, ok, port, hasPort)
}

// setAddrPort stores a parsed address slot: whole is the slot text, addr its address part.
func setAddrPort(ep *Endpoint, whole, addr string, a netip.Addr, ok bool, port string, hasPort bool) {
	if ok {
		ep.Addr = a
		if hasPort {
			ep.Port, _ = parsePort(port)
		}
		return
	}
	if hasPort {
		if p, ok := parsePort(port); ok {
			ep.Port, ep.Name = p, addr
			return
		}
	}
	ep.Name = whole
}

// mappedPort reads a NAT mapping `addr/port` into ep.MappedAddr/MappedPort. A name in the
// mapped slot leaves MappedAddr invalid.
func mappedPort(ep *Endpoint, s string) {
	var m Endpoint
	addrPort(&m, s)
	ep.MappedAddr, ep.MappedPort = m.Addr, m.Port
}

// ifAddr reads `iface:addr[/port]` where the interface may itself contain ':' (`v1:outside`)
// or spaces and the address may be IPv6. It picks the first ':' after which a valid address
// follows; failing that, the last ':' (the address slot holds a name).
func ifAddr(ep *Endpoint, s string) {
	first := -1
	for k := 0; k < len(s); k++ {
		if s[k] != ':' {
			continue
		}
		if first < 0 {
			first = k
		}
		slot := s[k+1:]
		addr, port, hasPort := slot, "", false
		if j := strings.LastIndexByte(slot, '/'); j >= 0 {
			addr, port, hasPort = slot[:j], slot[j+1:], true
		}
		if a, ok := parseAddr(addr); ok {
			ep.Iface = s[:k]
			setAddrPort(ep, slot, addr, a, true, port, hasPort)
			return
		}
	}
	if first < 0 {
		addrPort(ep, s)
		return
	}
	k := strings.LastIndexByte(s, ':')
	ep.Iface = s[:k]
	addrPort(ep, s[k+1:])
}

// endpoint reads an ASA endpoint with its decorations from seg:
//
//	[iface:]addr[/port][(identity)][ (mapped/port)][(identity)]
//
// and returns what follows. withIface says whether the slot starts with `iface:`; withMapped
// whether a ` (mapped/port)` may follow. The slot itself ends at the first space or '(' after
// the interface's colon (an interface name may contain spaces: `NP Identity Ifc`).
func endpoint(ep *Endpoint, seg string, withIface, withMapped bool) string {
	start := 0
	if withIface {
		if k := strings.IndexByte(seg, ':'); k >= 0 {
			start = k + 1
		}
	}
	if ip, port, end := scanIPv4Port(seg, start); end >= 0 && (end == len(seg) || seg[end] == ' ' || seg[end] == '(') {
		// What ifAddr or addrPort would read from seg[:end], in one pass.
		if start > 0 {
			ep.Iface = seg[:start-1]
		}
		ep.Addr = addrFrom(ip)
		if port >= 0 {
			ep.Port = uint16(port)
		}
		return decorations(ep, seg[end:], withMapped)
	}
	end := len(seg)
	for k := start; k < len(seg); k++ {
		if seg[k] == ' ' || seg[k] == '(' {
			end = k
			break
		}
	}
	if withIface {
		ifAddr(ep, seg[:end])
	} else {
		addrPort(ep, seg[:end])
	}
	return decorations(ep, seg[end:], withMapped)
}

// plainEndpoint is a one-pass form of
//
//	before, after, found := cut(s, sep)
//	endpoint(ep, before, true, withMapped)
//
// for the usual text: s starts with `iface:a.b.c.d[/port]` (with withMapped, optionally
// followed by ` (a.b.c.d/port)`), the interface name has no space, and sep (which starts with
// a space) follows at once, so that it is the first sep in s. With orEnd, s may also end there
// (then found would be false and after empty). It fills ep as endpoint would and returns after;
// when s is not like that, ok is false and ep is untouched.
func plainEndpoint(ep *Endpoint, s, sep string, orEnd, withMapped bool) (after string, ok bool) {
	k := 0
	for ; k < len(s) && s[k] != ':'; k++ {
		if s[k] == ' ' {
			return "", false
		}
	}
	ip, port, end := scanIPv4Port(s, k+1)
	if k == len(s) || end < 0 {
		return "", false
	}
	mport, mip, j := -1, uint32(0), end
	if withMapped && strings.HasPrefix(s[end:], " (") {
		var mend int
		if mip, mport, mend = scanIPv4Port(s, end+2); mport < 0 || mend < 0 || mend >= len(s) || s[mend] != ')' {
			return "", false
		}
		j = mend + 1
	}
	switch {
	case strings.HasPrefix(s[j:], sep):
		after = s[j+len(sep):]
	case orEnd && j == len(s):
	default:
		return "", false
	}
	ep.Iface, ep.Addr = s[:k], addrFrom(ip)
	if port >= 0 {
		ep.Port = uint16(port)
	}
	if mport >= 0 {
		ep.MappedAddr, ep.MappedPort = addrFrom(mip), uint16(mport)
	}
	return after, true
}

// decorations reads what may follow an endpoint's address: `[(identity)][ (mapped/port)][(identity)]`.
func decorations(ep *Endpoint, rest string, withMapped bool) string {
	rest = identity(ep, rest)
	if withMapped && strings.HasPrefix(rest, " (") {
		// Fast path: ` (a.b.c.d/port)`, which the general code below reads the same way.
		if ip, port, end := scanIPv4Port(rest, 2); port >= 0 && end >= 0 && end < len(rest) && rest[end] == ')' {
			ep.MappedAddr, ep.MappedPort = addrFrom(ip), uint16(port)
			return identity(ep, rest[end+1:])
		}
		inner, after, ok := cut(rest[2:], ")")
		if ok && isMappedSlot(inner) {
			mappedPort(ep, inner)
			rest = identity(ep, after)
		}
	}
	return rest
}

// identity reads a glued `(LOCAL\user)`, `(user@dom)`, `(9999:sgt)` or `(LOCAL\alice, 123)`
// into ep.User (the part before ", ") and returns the rest.
func identity(ep *Endpoint, s string) string {
	if len(s) < 2 || s[0] != '(' {
		return s
	}
	inner, after, ok := cut(s[1:], ")")
	if !ok || strings.HasPrefix(inner, "type ") || isMappedSlot(inner) {
		return s
	}
	if ep.User == "" {
		if u, _, ok := cut(inner, ", "); ok {
			ep.User = u
		} else {
			ep.User = inner
		}
	}
	return after
}

func isMappedSlot(s string) bool {
	slash := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '/':
			slash = slash || i > 0
		case ' ', '\\', '@':
			return false
		}
	}
	return slash
}

// trailingUser reads a final ` (user)` after the endpoints.
func trailingUser(ev *Event, s string) {
	s = trimRight(s)
	if len(s) < 3 || s[len(s)-1] != ')' {
		return
	}
	k := strings.LastIndex(s, " (")
	if k < 0 || len(s) < k+3 {
		return
	}
	inner := s[k+2 : len(s)-1]
	if strings.IndexByte(inner, '(') >= 0 || inner == "" {
		return
	}
	ev.User = inner
}

// parseDuration reads h:mm:ss where hours may exceed 24 (`92:24:20`).
func parseDuration(s string) (time.Duration, string, bool) {
	h, rest, ok := uintAt(s)
	if !ok || len(rest) < 6 || rest[0] != ':' || rest[3] != ':' || h > 1<<31 {
		return 0, s, false
	}
	m, _, ok1 := digits(rest, 1, 2, 2)
	sec, end, ok2 := digits(rest, 4, 2, 2)
	if !ok1 || !ok2 || m > 59 || sec > 59 {
		return 0, s, false
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	return d, rest[end:], true
}

// parseHMS reads the VPN form 0h:32m:16s.
func parseHMS(s string) (time.Duration, bool) {
	var d time.Duration
	for _, unit := range [...]struct {
		c byte
		d time.Duration
	}{{'h', time.Hour}, {'m', time.Minute}, {'s', time.Second}} {
		v, rest, ok := uintAt(s)
		if !ok || rest == "" || rest[0] != unit.c || v > 1<<31 {
			return 0, false
		}
		d += time.Duration(v) * unit.d
		s = strings.TrimPrefix(rest[1:], ":")
	}
	return d, true
}

// protoByName maps the protocol words Cisco logs to IANA numbers.
func protoByName(s string) (Proto, bool) {
	switch s { // the common spellings, before folding case
	case "TCP", "tcp":
		return ProtoTCP, true
	case "UDP", "udp":
		return ProtoUDP, true
	}
	if len(s) > 10 {
		return 0, false
	}
	var b [10]byte
	for i := 0; i < len(s); i++ {
		b[i] = lower(s[i])
	}
	switch string(b[:len(s)]) {
	case "tcp":
		return ProtoTCP, true
	case "udp":
		return ProtoUDP, true
	case "icmp":
		return ProtoICMP, true
	case "icmp6", "icmpv6", "ipv6-icmp":
		return ProtoICMPv6, true
	case "igmp":
		return 2, true
	case "gre":
		return ProtoGRE, true
	case "esp":
		return ProtoESP, true
	case "ah":
		return 51, true
	case "eigrp":
		return 88, true
	case "ospf":
		return 89, true
	case "pim":
		return 103, true
	case "sctp":
		return 132, true
	}
	if v, rest, ok := uintAt(s); ok && rest == "" && v <= 255 {
		return Proto(v), true
	}
	return 0, false
}

func setProto(ev *Event, s string) bool {
	p, ok := protoByName(s)
	if ok {
		ev.Proto, ev.HasProto = p, true
	}
	return ok
}

// icmpTypeCode finds `type T, code C` or `type T code C` or `type=T, code=C` in s.
func icmpTypeCode(ev *Event, s string) {
	k := strings.Index(s, "type")
	if k < 0 {
		return
	}
	s = s[k+4:]
	if len(s) > 0 && (s[0] == ' ' || s[0] == '=') {
		s = s[1:]
	}
	t, rest, ok := uintAt(s)
	if !ok || t > 255 {
		return
	}
	ev.ICMPType = int16(t)
	rest = strings.TrimPrefix(rest, ",")
	rest = strings.TrimPrefix(rest, " ")
	if !strings.HasPrefix(rest, "code") {
		return
	}
	rest = rest[4:]
	if len(rest) > 0 && (rest[0] == ' ' || rest[0] == '=') {
		rest = rest[1:]
	}
	if c, _, ok := uintAt(rest); ok && c <= 255 {
		ev.ICMPCode = int16(c)
	}
}

// quoted returns the text between the first pair of double quotes in s.
func quoted(s string) (string, string, bool) {
	k := strings.IndexByte(s, '"')
	if k < 0 {
		return "", s, false
	}
	inner, rest, ok := cut(s[k+1:], "\"")
	return inner, rest, ok
}

// parensClosed reports whether every '(' in s is closed by a later ')'.
func parensClosed(s string) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		}
	}
	return depth == 0
}

// bracketsClosed reports whether a '[' in s is closed by a later ']'.
func bracketsClosed(s string) bool {
	k := strings.LastIndexByte(s, '[')
	return k < 0 || strings.IndexByte(s[k:], ']') >= 0
}
