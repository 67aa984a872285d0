package asaconfig

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// MaxConfigSize caps the input of [Parse].
const MaxConfigSize = 16 << 20

// ErrTooLarge is returned by Parse for input above MaxConfigSize.
var ErrTooLarge = errors.New("config too large")

// errUntyped marks an access-list line that is valid but not typed here.
var errUntyped = errors.New("not typed")

// Config is a parsed running configuration. It is immutable; all methods are
// safe for concurrent use. The zero value is an empty configuration.
type Config struct {
	nodes    []node
	crlf     bool // lines end in "\r\n"
	finalEOL bool // text ends with a line end
	warnings []ParseWarning
}

// node is one top-level line with its indented sub-lines, verbatim, and the
// typed value parsed from them (nil when unknown). Values are never mutated
// once in a node; changes replace the node.
type node struct {
	lines []string
	v     any
}

type (
	hostnameNode struct{ name string }
	groupNode    struct {
		g          NetworkGroup
		memberLine []int // index into lines of each member
		descLine   int   // index into lines of the description, 0 if none
		unparsed   int   // sub-lines not understood
	}
	aclNode struct {
		acl   string
		entry ACLEntry // Line is assigned by views
	}
	otherObjNode struct {
		name, kind string
		descs      int        // description sub-lines
		suffix     []string   // words after the name ("tcp" in "object-group service S tcp")
		subs       [][]string // the other sub-lines, as words (members, service lines)
	}
	factNode  struct{ prot []Protected }
	namesNode struct{}
	mgmtNode  struct {
		proto, nameif, text string
		prefix              netip.Prefix
	}
)

type parser struct {
	names   map[string]netip.Addr
	objKind map[string]string // object and object-group names → kind ("network", "service", …)
}

// Parse reads `show running-config` text. It fails only on oversized input;
// lines it cannot type are kept verbatim and reported by [Config.Warnings].
func Parse(text []byte) (*Config, error) {
	if len(text) > MaxConfigSize {
		return nil, fmt.Errorf("%d bytes: %w", len(text), ErrTooLarge)
	}
	c := &Config{finalEOL: true} // lines added to an empty config end in "\n"
	if len(text) == 0 {
		return c, nil
	}
	c.finalEOL = false
	lines := strings.Split(string(text), "\n")
	if lines[len(lines)-1] == "" {
		c.finalEOL = true
		lines = lines[:len(lines)-1]
	}
	c.crlf = len(lines) > 0 && strings.HasSuffix(lines[0], "\r")
	p := &parser{names: map[string]netip.Addr{}, objKind: map[string]string{}}
	for i := 0; i < len(lines); {
		j := i + 1
		if !isSub(lines[i]) {
			for j < len(lines) && isSub(lines[j]) {
				j++
			}
		}
		n := node{lines: lines[i:j:j]}
		v, err := p.parseBlock(n.lines)
		if err != nil {
			// The line keeps its place (an access-list line still takes a
			// line number) but carries only what could be typed.
			c.warnings = append(c.warnings, ParseWarning{Line: i + 1, Text: strings.TrimSuffix(lines[i], "\r"), Err: err})
		}
		n.v = v
		c.nodes = append(c.nodes, n)
		i = j
	}
	return c, nil
}

func isSub(l string) bool { return strings.HasPrefix(l, " ") }

func clean(l string) string { return strings.TrimSpace(strings.TrimSuffix(l, "\r")) }

// Warnings lists lines that looked known but could not be typed.
func (c *Config) Warnings() []ParseWarning { return append([]ParseWarning(nil), c.warnings...) }

// Render returns the configuration text. For a parsed, unchanged Config it
// is byte-identical to the input of Parse.
func (c *Config) Render() string {
	var b strings.Builder
	first := true
	for _, n := range c.nodes {
		for _, l := range n.lines {
			if !first {
				b.WriteByte('\n')
			}
			first = false
			b.WriteString(l)
		}
	}
	if c.finalEOL && !first {
		b.WriteByte('\n')
	}
	return b.String()
}

func (p *parser) addr(tok string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(tok); err == nil {
		return a, nil
	}
	if a, ok := p.names[tok]; ok {
		return a, nil
	}
	return netip.Addr{}, fmt.Errorf("address %q: %w", tok, ErrBadValue)
}

func maskBits(m netip.Addr) (int, bool) {
	if !m.Is4() {
		return 0, false
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := bits.LeadingZeros32(^v)
	if n < 32 && v<<n != 0 {
		return 0, false
	}
	return n, true
}

// prefix parses "A MASK" at f[i], f[i+1], or "A/len" for IPv6.
func (p *parser) prefix(f []string, i int) (netip.Prefix, int, error) {
	if i >= len(f) {
		return netip.Prefix{}, 0, fmt.Errorf("missing address: %w", ErrBadValue)
	}
	if strings.Contains(f[i], "/") {
		pp, err := netip.ParsePrefix(f[i])
		if err != nil {
			return netip.Prefix{}, 0, fmt.Errorf("prefix %q: %w", f[i], ErrBadValue)
		}
		return pp, 1, nil
	}
	a, err := p.addr(f[i])
	if err != nil {
		return netip.Prefix{}, 0, err
	}
	if i+1 >= len(f) {
		return netip.Prefix{}, 0, fmt.Errorf("missing mask: %w", ErrBadValue)
	}
	m, err := netip.ParseAddr(f[i+1])
	if err != nil {
		return netip.Prefix{}, 0, fmt.Errorf("mask %q: %w", f[i+1], ErrBadValue)
	}
	b, ok := maskBits(m)
	if !ok || !a.Is4() {
		return netip.Prefix{}, 0, fmt.Errorf("mask %q: %w", f[i+1], ErrBadValue)
	}
	return netip.PrefixFrom(a, b), 2, nil
}

func hostPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }

func (p *parser) parseBlock(lines []string) (any, error) {
	head := clean(lines[0])
	f := strings.Fields(head)
	if len(f) == 0 || isSub(lines[0]) {
		return nil, nil
	}
	subs := make([][]string, len(lines))
	for i := 1; i < len(lines); i++ {
		subs[i] = strings.Fields(clean(lines[i]))
	}
	switch f[0] {
	case "hostname":
		if len(f) == 2 {
			return &hostnameNode{name: f[1]}, nil
		}
	case "names":
		return &namesNode{}, nil
	case "name":
		if len(f) >= 3 {
			a, err := netip.ParseAddr(f[1])
			if err != nil {
				return nil, fmt.Errorf("name address: %w", ErrBadValue)
			}
			p.names[f[2]] = a
			return &NameEntry{Addr: a, Name: f[2]}, nil
		}
	case "interface":
		if len(f) == 2 {
			return p.parseInterface(f[1], subs)
		}
	case "object":
		if len(f) == 3 {
			p.objKind[f[2]] = "object-" + f[1]
			if f[1] == "network" {
				return p.parseObject(f[2], subs), nil
			}
			return otherObject(&otherObjNode{name: f[2], kind: "object " + f[1]}, subs), nil
		}
	case "object-group":
		if len(f) >= 3 {
			p.objKind[f[2]] = f[1]
			if f[1] == "network" && len(f) == 3 {
				return p.parseGroup(f[2], lines, subs), nil
			}
			return otherObject(&otherObjNode{name: f[2], kind: "object-group " + f[1], suffix: f[3:]}, subs), nil
		}
	case "time-range":
		if len(f) == 2 {
			return p.parseTimeRange(f[1], subs)
		}
	case "same-security-traffic":
		if len(f) == 3 && f[1] == "permit" && (f[2] == "inter-interface" || f[2] == "intra-interface") {
			return &sameSecNode{intra: f[2] == "intra-interface"}, nil
		}
	case "clock":
		if len(f) >= 4 && f[1] == "timezone" {
			return parseClock(f)
		}
	case "icmp", "icmp-deny":
		if n, ok := p.parseICMPAccess(f); ok {
			return n, nil
		}
	case "access-list":
		if len(f) >= 3 {
			return p.parseACLLine(head, f)
		}
	case "access-group":
		return parseAccessGroup(f)
	case "route":
		r, err := p.parseRoute(f)
		if err != nil {
			return nil, err
		}
		return r, nil
	case "ssh", "http", "telnet":
		if f[0] == "http" && len(f) >= 3 && f[1] == "server" && f[2] == "enable" {
			return parseHTTPServer(f)
		}
		if len(f) == 4 {
			if pr, n, err := p.prefix(f, 1); err == nil && n == 2 {
				return &mgmtNode{proto: f[0], prefix: pr.Masked(), nameif: f[3], text: head}, nil
			}
		}
	case "logging":
		if len(f) >= 4 && f[1] == "host" {
			return p.hostFact(f[3], "logging host: "+head)
		}
	case "ntp":
		if len(f) >= 3 && f[1] == "server" {
			return p.hostFact(f[2], "ntp server: "+head)
		}
	case "aaa-server":
		if len(f) >= 5 && f[3] == "host" {
			return p.hostFact(f[4], "aaa server: "+head)
		}
	case "snmp-server":
		if len(f) >= 4 && f[1] == "host" {
			return p.hostFact(f[3], "snmp host: "+head)
		}
	case "tunnel-group":
		if len(f) >= 3 {
			if a, err := netip.ParseAddr(f[1]); err == nil {
				return &factNode{prot: []Protected{{Prefix: hostPrefix(a), Reason: "vpn peer: tunnel-group " + f[1]}}}, nil
			}
		}
	case "crypto":
		if len(f) >= 7 && f[1] == "map" && f[4] == "set" && f[5] == "peer" {
			fn := &factNode{}
			for _, t := range f[6:] {
				if a, err := p.addr(t); err == nil {
					fn.prot = append(fn.prot, Protected{Prefix: hostPrefix(a), Reason: "vpn peer: " + head})
				}
			}
			return fn, nil
		}
	case "dns":
		fn := &factNode{}
		if len(f) >= 3 && f[1] == "name-server" {
			p.nameServers(fn, f[2:], head)
		}
		for i, s := range subs {
			if len(s) >= 2 && s[0] == "name-server" {
				p.nameServers(fn, s[1:], clean(lines[i]))
			}
		}
		if len(fn.prot) > 0 {
			return fn, nil
		}
	case "failover":
		// failover interface ip IF A MASK standby B
		if len(f) >= 6 && f[1] == "interface" && f[2] == "ip" {
			fn := &factNode{}
			for _, i := range []int{4, 7} {
				if i < len(f) {
					if a, err := netip.ParseAddr(f[i]); err == nil {
						fn.prot = append(fn.prot, Protected{Prefix: hostPrefix(a), Reason: "failover link: " + head})
					}
				}
			}
			return fn, nil
		}
	}
	return nil, nil
}

func (p *parser) nameServers(fn *factNode, toks []string, text string) {
	for _, t := range toks {
		if a, err := netip.ParseAddr(t); err == nil {
			fn.prot = append(fn.prot, Protected{Prefix: hostPrefix(a), Reason: "dns server: " + text})
		}
	}
}

func (p *parser) hostFact(tok, reason string) (any, error) {
	a, err := p.addr(tok)
	if err != nil {
		return nil, nil // a host name, not an address: nothing to protect by prefix
	}
	return &factNode{prot: []Protected{{Prefix: hostPrefix(a), Reason: reason}}}, nil
}

// parseInterface keeps what it can type; the first bad value is reported
// but the nameif and the rest are still kept.
func (p *parser) parseInterface(hw string, subs [][]string) (any, error) {
	in := &Interface{HW: hw, SecurityLevel: -1}
	var first error
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	for _, s := range subs {
		switch {
		case len(s) == 2 && s[0] == "nameif":
			in.Nameif = s[1]
		case len(s) == 2 && s[0] == "security-level":
			n, err := strconv.Atoi(s[1])
			if err != nil || n < 0 || n > 100 {
				fail(fmt.Errorf("security-level %q: %w", s[1], ErrBadValue))
				continue
			}
			in.SecurityLevel = n
		case len(s) >= 3 && s[0] == "ip" && s[1] == "address" && (s[2] == "dhcp" || s[2] == "pppoe"):
			// Learned address: nothing to type (nor to protect by prefix).
		case len(s) >= 4 && s[0] == "ip" && s[1] == "address":
			pr, _, err := p.prefix(s, 2)
			if err != nil {
				fail(err)
				continue
			}
			in.Address = pr
			if len(s) >= 6 && s[4] == "standby" {
				sb, err := p.addr(s[5])
				if err != nil {
					fail(err)
					continue
				}
				in.Standby = sb
			}
		case len(s) == 1 && s[0] == "shutdown":
			in.Shutdown = true
		case len(s) == 1 && s[0] == "management-only":
			in.MgmtOnly = true
		}
	}
	return in, first
}

func (p *parser) parseObject(name string, subs [][]string) any {
	o := &NetworkObject{Name: name}
	for _, s := range subs {
		switch {
		case len(s) == 2 && s[0] == "host":
			if a, err := p.addr(s[1]); err == nil {
				o.Prefix = hostPrefix(a)
			}
		case len(s) >= 2 && s[0] == "subnet":
			if pr, _, err := p.prefix(s, 1); err == nil {
				o.Prefix = pr
			}
		case len(s) == 3 && s[0] == "range":
			a, err1 := p.addr(s[1])
			b, err2 := p.addr(s[2])
			if err1 == nil && err2 == nil && a.BitLen() == b.BitLen() && !b.Less(a) {
				o.First, o.Last = a, b
			}
		case len(s) >= 2 && s[0] == "fqdn":
			o.FQDN = s[len(s)-1]
		case len(s) >= 1 && s[0] == "description":
			o.Description = strings.Join(s[1:], " ")
		}
	}
	return o
}

func (p *parser) parseGroup(name string, lines []string, subs [][]string) any {
	gn := &groupNode{g: NetworkGroup{Name: name}}
	for i := 1; i < len(subs); i++ {
		s := subs[i]
		m, err := p.parseMember(s)
		switch {
		case err == nil:
			gn.g.Members = append(gn.g.Members, m)
			gn.memberLine = append(gn.memberLine, i)
		case len(s) >= 1 && s[0] == "description":
			// The description is free text: keep it as written after the keyword.
			t := clean(lines[i])
			gn.g.Description = strings.TrimSpace(strings.TrimPrefix(t, "description"))
			gn.descLine = i
		default:
			gn.unparsed++
		}
	}
	return gn
}

func (p *parser) parseMember(s []string) (Member, error) {
	switch {
	case len(s) == 3 && s[0] == "network-object" && s[1] == "host":
		a, err := p.addr(s[2])
		if err != nil {
			return Member{}, err
		}
		return Member{Kind: MemberHost, Prefix: hostPrefix(a)}, nil
	case len(s) == 3 && s[0] == "network-object" && s[1] == "object":
		return Member{Kind: MemberObject, Name: s[2]}, nil
	case len(s) >= 2 && s[0] == "network-object":
		pr, n, err := p.prefix(s, 1)
		if err != nil || 1+n != len(s) {
			return Member{}, fmt.Errorf("network-object: %w", ErrBadValue)
		}
		return Member{Kind: MemberPrefix, Prefix: pr}, nil
	case len(s) == 2 && s[0] == "group-object":
		return Member{Kind: MemberGroup, Name: s[1]}, nil
	}
	return Member{}, fmt.Errorf("member: %w", ErrBadValue)
}

func (p *parser) parseACLLine(head string, f []string) (any, error) {
	an := &aclNode{acl: f[1], entry: ACLEntry{Kind: EntryOther, Text: head}}
	switch f[2] {
	case "remark":
		an.entry.Kind = EntryRemark
		// The remark is the rest of the line as written.
		if rest, ok := strings.CutPrefix(head, "access-list "+f[1]+" remark"); ok {
			an.entry.Remark = strings.TrimPrefix(rest, " ")
		} else {
			an.entry.Remark = strings.Join(f[3:], " ")
		}
	case "extended":
		ace, err := p.parseACE(f[3:])
		switch {
		case err == nil:
			an.entry.Kind = EntryACE
			an.entry.ACE = ace
		case errors.Is(err, errUntyped):
		default:
			return an, err
		}
	}
	return an, nil
}

// parseACE types the tokens after "extended".
func (p *parser) parseACE(f []string) (ACE, error) {
	var e ACE
	if len(f) < 4 {
		return e, fmt.Errorf("short ace: %w", ErrBadValue)
	}
	switch f[0] {
	case "permit":
		e.Action = Permit
	case "deny":
		e.Action = Deny
	default:
		return e, fmt.Errorf("action %q: %w", f[0], ErrBadValue)
	}
	switch f[1] {
	case "ip":
		e.Protocol = ProtoIP
	case "tcp":
		e.Protocol = ProtoTCP
	case "udp":
		e.Protocol = ProtoUDP
	case "icmp":
		e.Protocol = ProtoICMP
	default:
		return e, errUntyped
	}
	i := 2
	var err error
	if e.Src, i, err = p.aceAddr(f, i); err != nil {
		return e, err
	}
	if e.SrcPort, i, err = p.acePort(e.Protocol, f, i); err != nil {
		return e, err
	}
	if e.Dst, i, err = p.aceAddr(f, i); err != nil {
		return e, err
	}
	if e.DstPort, i, err = p.acePort(e.Protocol, f, i); err != nil {
		return e, err
	}
	for i < len(f) {
		switch f[i] {
		case "log":
			e.Log.Set = true
			i++
			if i < len(f) && (f[i] == "disable" || f[i] == "default") {
				e.Log.Disable, e.Log.Default = f[i] == "disable", f[i] == "default"
				i++
				continue
			}
			if i < len(f) && logLevels[f[i]] {
				e.Log.Level = f[i]
				i++
			}
			if i+1 < len(f) && f[i] == "interval" {
				n, err := strconv.ParseUint(f[i+1], 10, 16)
				if err != nil || n == 0 {
					return e, fmt.Errorf("log interval %q: %w", f[i+1], ErrBadValue)
				}
				e.Log.Interval = uint16(n)
				i += 2
			}
		case "time-range":
			if i+1 >= len(f) {
				return e, fmt.Errorf("time-range: %w", ErrBadValue)
			}
			e.TimeRange = f[i+1]
			i += 2
		case "inactive":
			e.Inactive = true
			i++
		default:
			// icmp types, service groups in odd places, fqdn…: valid, not typed.
			return e, errUntyped
		}
	}
	return e, nil
}

func (p *parser) aceAddr(f []string, i int) (Address, int, error) {
	if i >= len(f) {
		return Address{}, i, fmt.Errorf("missing address: %w", ErrBadValue)
	}
	switch f[i] {
	case "any":
		return Address{Kind: AddrAny}, i + 1, nil
	case "any4":
		return Address{Kind: AddrAny4}, i + 1, nil
	case "any6":
		return Address{Kind: AddrAny6}, i + 1, nil
	case "host":
		if i+1 >= len(f) {
			return Address{}, i, fmt.Errorf("host: %w", ErrBadValue)
		}
		a, err := p.addr(f[i+1])
		if err != nil {
			return Address{}, i, err
		}
		return Address{Kind: AddrHost, Prefix: hostPrefix(a)}, i + 2, nil
	case "object-group", "object", "interface":
		if i+1 >= len(f) {
			return Address{}, i, fmt.Errorf("%s: %w", f[i], ErrBadValue)
		}
		k := map[string]AddrKind{"object-group": AddrObjectGroup, "object": AddrObject, "interface": AddrInterface}[f[i]]
		if k == AddrObjectGroup && p.objKind[f[i+1]] != "" && p.objKind[f[i+1]] != "network" {
			return Address{}, i, errUntyped
		}
		if k == AddrObject && p.objKind[f[i+1]] != "" && p.objKind[f[i+1]] != "object-network" {
			return Address{}, i, errUntyped
		}
		return Address{Kind: k, Name: f[i+1]}, i + 2, nil
	case "object-group-user", "user", "user-group", "security-group", "fqdn":
		return Address{}, i, errUntyped
	}
	pr, n, err := p.prefix(f, i)
	if err != nil {
		return Address{}, i, err
	}
	return Address{Kind: AddrPrefix, Prefix: pr}, i + n, nil
}

func (p *parser) acePort(proto Protocol, f []string, i int) (PortMatch, int, error) {
	if i >= len(f) || (proto != ProtoTCP && proto != ProtoUDP) {
		return PortMatch{}, i, nil
	}
	ops := map[string]PortOp{"eq": PortEq, "neq": PortNeq, "lt": PortLt, "gt": PortGt, "range": PortRange}
	op, ok := ops[f[i]]
	if !ok {
		if f[i] == "object-group" && i+1 < len(f) && p.objKind[f[i+1]] == "service" {
			return PortMatch{}, i, errUntyped
		}
		return PortMatch{}, i, nil
	}
	if i+1 >= len(f) {
		return PortMatch{}, i, fmt.Errorf("port: %w", ErrBadValue)
	}
	lo, ok := parsePort(proto, f[i+1])
	if !ok {
		return PortMatch{}, i, fmt.Errorf("port %q: %w", f[i+1], ErrBadValue)
	}
	if op != PortRange {
		return PortMatch{Op: op, Lo: lo}, i + 2, nil
	}
	if i+2 >= len(f) {
		return PortMatch{}, i, fmt.Errorf("range: %w", ErrBadValue)
	}
	hi, ok := parsePort(proto, f[i+2])
	if !ok {
		return PortMatch{}, i, fmt.Errorf("port %q: %w", f[i+2], ErrBadValue)
	}
	return PortMatch{Op: PortRange, Lo: lo, Hi: hi}, i + 3, nil
}

func parseAccessGroup(f []string) (any, error) {
	switch {
	case len(f) == 3 && f[2] == "global":
		return &AccessGroup{ACL: f[1], Dir: DirGlobal}, nil
	case len(f) >= 5 && (f[2] == "in" || f[2] == "out") && f[3] == "interface":
		d := DirIn
		if f[2] == "out" {
			d = DirOut
		}
		g := &AccessGroup{ACL: f[1], Dir: d, Interface: f[4]}
		for _, opt := range f[5:] {
			switch opt {
			case "control-plane":
				g.ControlPlane = true
			case "per-user-override":
			default:
				return nil, fmt.Errorf("access-group option %q: %w", opt, ErrBadValue)
			}
		}
		return g, nil
	}
	return nil, fmt.Errorf("access-group: %w", ErrBadValue)
}

func (p *parser) parseRoute(f []string) (*Route, error) {
	if len(f) < 5 {
		return nil, fmt.Errorf("route: %w", ErrBadValue)
	}
	r := &Route{Interface: f[1], Distance: 1}
	pr, n, err := p.prefix(f, 2)
	if err != nil || n != 2 {
		return nil, fmt.Errorf("route destination: %w", ErrBadValue)
	}
	r.Dest = pr
	if r.Gateway, err = p.addr(f[4]); err != nil {
		return nil, err
	}
	i := 5
	if i < len(f) {
		if d, err := strconv.ParseUint(f[i], 10, 8); err == nil {
			if d < 1 || d > 255 {
				return nil, fmt.Errorf("route distance %q: %w", f[i], ErrBadValue)
			}
			r.Distance = uint8(d)
			i++
		}
	}
	for i < len(f) {
		switch {
		case f[i] == "track" && i+1 < len(f):
			t, err := strconv.ParseUint(f[i+1], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("route track %q: %w", f[i+1], ErrBadValue)
			}
			r.Track = uint32(t)
			i += 2
		case f[i] == "tunneled":
			r.Tunneled = true
			i++
		default:
			return nil, fmt.Errorf("route option %q: %w", f[i], ErrBadValue)
		}
	}
	return r, nil
}
