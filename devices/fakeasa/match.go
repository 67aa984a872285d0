package fakeasa

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// packet is the first packet of a flow as the data path sees it.
type packet struct {
	ifname     string
	proto      int // IP protocol number
	src, dst   netip.Addr
	sport      uint16
	dport      uint16 // for ICMP: the type
	icmpCode   int
	icmpHasTyp bool
}

func (p packet) ported() bool { return p.proto == 6 || p.proto == 17 || p.proto == 132 }

// aceActive: not `inactive`, and its time-range (if any) active now.
func (m *model) aceActive(v *netView, e *ace, now time.Time) bool {
	for i, t := range e.tail {
		if t == "inactive" {
			return false
		}
		if t == "time-range" && i+1 < len(e.tail) {
			lines, ok := v.timeRanges[e.tail[i+1]]
			if !ok || !timeRangeActive(lines, now.In(v.zone)) {
				return false
			}
		}
	}
	return true
}

// inAddr reports whether a is inside an ACE address.
func (m *model) inAddr(v *netView, spec addrSpec, a netip.Addr) bool {
	switch spec.kind {
	case "any":
		return true
	case "any4":
		return a.Is4()
	case "host":
		return spec.addr == a
	case "net":
		return spec.prefix.Contains(a)
	case "object":
		return m.inObject(v, spec.group, a)
	case "group":
		return m.inGroup(v, spec.group, a, map[string]bool{})
	}
	return false
}

func (m *model) inObject(v *netView, name string, a netip.Addr) bool {
	if p, ok := m.objects[name]; ok {
		return p.Contains(a)
	}
	if r, ok := v.ranges[name]; ok {
		return a.BitLen() == r[0].BitLen() && r[0].Compare(a) <= 0 && a.Compare(r[1]) <= 0
	}
	return false
}

func (m *model) inGroup(v *netView, name string, a netip.Addr, seen map[string]bool) bool {
	g := m.groups[name]
	if g == nil || seen[name] {
		return false
	}
	seen[name] = true
	for _, c := range g.children {
		f := fields(c)
		switch {
		case len(f) == 2 && f[0] == "group-object":
			if m.inGroup(v, f[1], a, seen) {
				return true
			}
		case len(f) == 2 && f[0] == "network-object":
			if p, err := netip.ParsePrefix(f[1]); err == nil && p.Masked().Contains(a) {
				return true
			}
		case len(f) == 3 && f[0] == "network-object" && f[1] == "host":
			if h, err := netip.ParseAddr(f[2]); err == nil && h == a {
				return true
			}
		case len(f) == 3 && f[0] == "network-object" && f[1] == "object":
			if m.inObject(v, f[2], a) {
				return true
			}
		case len(f) == 3 && f[0] == "network-object":
			n, err := netip.ParseAddr(f[1])
			bits, ok := parseMask(f[2])
			if err == nil && ok && netip.PrefixFrom(n, bits).Contains(a) {
				return true
			}
		}
	}
	return false
}

// opMatch evaluates "eq P", "range A B"... (words) for a port.
func opMatch(proto string, f []string, port uint16) bool {
	if len(f) < 2 {
		return false
	}
	lo, ok := parsePort(proto, f[1])
	if !ok {
		// tcp-udp groups and service lines accept the other table's names.
		if lo, ok = parsePort("udp", f[1]); !ok {
			return false
		}
	}
	switch f[0] {
	case "eq":
		return port == lo
	case "neq":
		return port != lo
	case "lt":
		return port < lo
	case "gt":
		return port > lo
	case "range":
		if len(f) < 3 {
			return false
		}
		hi, ok := parsePort(proto, f[2])
		if !ok {
			if hi, ok = parsePort("udp", f[2]); !ok {
				return false
			}
		}
		return port >= lo && port <= hi
	}
	return false
}

// portMatch evaluates an ACE port operand (an operator or a port group).
func (m *model) portMatch(spec portSpec, proto string, port uint16) bool {
	if spec.op != "object-group" {
		return spec.match(port)
	}
	return m.portGroupMatch(spec.group, proto, port, map[string]bool{})
}

func (m *model) portGroupMatch(name, proto string, port uint16, seen map[string]bool) bool {
	g := m.groups[name]
	if g == nil || seen[name] {
		return false
	}
	seen[name] = true
	for _, c := range g.children {
		f := fields(c)
		switch {
		case len(f) == 2 && f[0] == "group-object":
			if m.portGroupMatch(f[1], proto, port, seen) {
				return true
			}
		case len(f) >= 3 && f[0] == "port-object":
			if opMatch(proto, f[1:], port) {
				return true
			}
		}
	}
	return false
}

// serviceMatch evaluates the words of a `service-object` or `service` line.
func serviceMatch(f []string, pk packet) bool {
	if len(f) == 0 {
		return false
	}
	name := f[0]
	rest := f[1:]
	switch name {
	case "tcp-udp":
		if pk.proto != 6 && pk.proto != 17 {
			return false
		}
		name = "tcp"
		if pk.proto == 17 {
			name = "udp"
		}
	default:
		n, ok := protocolNumber(name)
		if !ok || n != 0 && n != pk.proto {
			return false
		}
	}
	if pk.proto == 1 && (name == "icmp") {
		if len(rest) == 0 {
			return true
		}
		t, ok := icmpTypeNumber(rest[0])
		if !ok || t != int(pk.dport) {
			return false
		}
		if len(rest) > 1 {
			c, err := strconv.Atoi(rest[1])
			return err == nil && c == pk.icmpCode
		}
		return true
	}
	if len(rest) > 0 && !pk.ported() {
		return false
	}
	for i := 0; i < len(rest); {
		side := "destination"
		if rest[i] == "source" || rest[i] == "destination" {
			side = rest[i]
			i++
		}
		n := 2
		if i < len(rest) && rest[i] == "range" {
			n = 3
		}
		if i+n > len(rest) {
			return false
		}
		port := pk.dport
		if side == "source" {
			port = pk.sport
		}
		if !opMatch(name, rest[i:i+n], port) {
			return false
		}
		i += n
	}
	return true
}

// protoMatch evaluates the protocol position and the ports or ICMP type.
func (m *model) protoMatch(v *netView, e *ace, pk packet) bool {
	switch {
	case strings.HasPrefix(e.proto, "object-group "):
		return m.protoGroupMatch(v, strings.TrimPrefix(e.proto, "object-group "), e, pk, map[string]bool{})
	case strings.HasPrefix(e.proto, "object "):
		f, ok := v.services[strings.TrimPrefix(e.proto, "object ")]
		return ok && serviceMatch(f, pk)
	}
	n, _ := protocolNumber(e.proto)
	if n != 0 && n != pk.proto {
		return false
	}
	switch e.proto {
	case "tcp", "udp":
		return m.portMatch(e.sport, e.proto, pk.sport) && m.portMatch(e.dport, e.proto, pk.dport)
	case "icmp":
		return m.icmpMatch(e.icmpType, pk)
	}
	return true
}

func (m *model) icmpMatch(spec string, pk packet) bool {
	if spec == "" {
		return true
	}
	if g, ok := strings.CutPrefix(spec, "object-group "); ok {
		return m.icmpGroupMatch(g, int(pk.dport), map[string]bool{})
	}
	f := fields(spec)
	t, _ := icmpTypeNumber(f[0])
	if t != int(pk.dport) {
		return false
	}
	if len(f) > 1 {
		c, _ := strconv.Atoi(f[1])
		return c == pk.icmpCode
	}
	return true
}

func (m *model) icmpGroupMatch(name string, typ int, seen map[string]bool) bool {
	g := m.groups[name]
	if g == nil || seen[name] {
		return false
	}
	seen[name] = true
	for _, c := range g.children {
		f := fields(c)
		switch {
		case len(f) == 2 && f[0] == "group-object":
			if m.icmpGroupMatch(f[1], typ, seen) {
				return true
			}
		case len(f) == 2 && f[0] == "icmp-object":
			if t, ok := icmpTypeNumber(f[1]); ok && t == typ {
				return true
			}
		}
	}
	return false
}

// protoGroupMatch evaluates a protocol or service object-group in the
// protocol position.
func (m *model) protoGroupMatch(v *netView, name string, e *ace, pk packet, seen map[string]bool) bool {
	g := m.groups[name]
	if g == nil || seen[name] {
		return false
	}
	seen[name] = true
	for _, c := range g.children {
		f := fields(c)
		switch {
		case len(f) == 2 && f[0] == "group-object":
			if m.protoGroupMatch(v, f[1], e, pk, seen) {
				return true
			}
		case len(f) == 2 && f[0] == "protocol-object":
			if n, ok := protocolNumber(f[1]); ok && (n == 0 || n == pk.proto) {
				return true
			}
		case len(f) == 3 && f[0] == "service-object" && f[1] == "object":
			if s, ok := v.services[f[2]]; ok && serviceMatch(s, pk) {
				return true
			}
		case len(f) >= 2 && f[0] == "service-object":
			if serviceMatch(f[1:], pk) {
				return true
			}
		}
	}
	return false
}

// aceMatch reports whether the active ACE e matches pk, and the key of the
// expanded element that counts the hit.
func (m *model) aceMatch(v *netView, e *ace, pk packet, now time.Time) (bool, string) {
	if e.isRemark || !m.aceActive(v, e, now) {
		return false, ""
	}
	if !m.protoMatch(v, e, pk) || !m.inAddr(v, e.src, pk.src) || !m.inAddr(v, e.dst, pk.dst) {
		return false, ""
	}
	els, _ := m.elements(e)
	for _, el := range els {
		if (el.anySrc || el.src.Contains(pk.src)) && (el.anyDst || el.dst.Contains(pk.dst)) {
			if !pk.ported() || el.sport.match(pk.sport) && el.dport.match(pk.dport) {
				return true, el.key
			}
		}
	}
	if len(els) > 0 {
		return true, els[0].key
	}
	return true, ""
}
