package fakeasa

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// token is one word of a command line with its byte offset, so errors can
// place the ASA's caret under the offending word.
type token struct {
	s   string
	pos int
}

func tokenize(line string) []token {
	var toks []token
	start := -1
	for i := 0; i <= len(line); i++ {
		if i == len(line) || line[i] == ' ' || line[i] == '\t' {
			if start >= 0 {
				toks = append(toks, token{s: line[start:i], pos: start})
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return toks
}

// cliError is a device reply that is not a success. Invalid input carries the
// caret position; other errors carry the literal device text.
type cliError struct {
	caret int // -1 unless invalid input
	text  string
}

func (e *cliError) Error() string { return e.text }

func invalidAt(pos int) *cliError {
	return &cliError{caret: pos, text: "ERROR: % Invalid input detected at '^' marker."}
}

func incomplete() *cliError {
	return &cliError{caret: -1, text: "ERROR: % Incomplete command"}
}

func devErr(format string, args ...any) *cliError {
	return &cliError{caret: -1, text: fmt.Sprintf(format, args...)}
}

// addrSpec is an ACE address: any, host A, A MASK or object-group NAME.
type addrSpec struct {
	kind   string // "any", "any4", "host", "net", "group", "object"
	addr   netip.Addr
	prefix netip.Prefix
	mask   string
	group  string // group or object name
	label  string // the "names" alias the address was written with
}

func (a addrSpec) String() string {
	switch a.kind {
	case "any", "any4":
		return a.kind
	case "host":
		if a.label != "" {
			return "host " + a.label
		}
		return "host " + a.addr.String()
	case "net":
		if a.label != "" {
			return a.label + " " + a.mask
		}
		return a.prefix.Addr().String() + " " + a.mask
	case "object":
		return "object " + a.group
	default:
		return "object-group " + a.group
	}
}

// portSpec is an optional port operator: eq/lt/gt/neq P or range P1 P2.
type portSpec struct {
	op     string // eq, lt, gt, neq, range or object-group
	lo, hi uint16
	proto  string
	group  string
}

func (p portSpec) String() string {
	if p.op == "" {
		return ""
	}
	if p.op == "object-group" {
		return "object-group " + p.group
	}
	if p.op == "range" {
		return "range " + portName(p.proto, p.lo) + " " + portName(p.proto, p.hi)
	}
	return p.op + " " + portName(p.proto, p.lo)
}

func (p portSpec) match(port uint16) bool {
	switch p.op {
	case "", "object-group":
		return true
	case "eq":
		return port == p.lo
	case "neq":
		return port != p.lo
	case "lt":
		return port < p.lo
	case "gt":
		return port > p.lo
	default:
		return port >= p.lo && port <= p.hi
	}
}

// ace is one access-list entry: a remark or an extended rule.
type ace struct {
	remark   string
	isRemark bool
	action   string
	proto    string
	src, dst addrSpec
	sport    portSpec
	dport    portSpec
	icmpType string
	tail     []string // log ..., time-range NAME, inactive
	hits     map[string]uint64
}

// body renders the entry as it follows "access-list NAME " in the running config.
func (e *ace) body() string {
	if e.isRemark {
		return "remark " + e.remark
	}
	return e.bodyWith(e.src.String(), e.sport.String(), e.dst.String(), e.dport.String())
}

// bodyWith renders the rule with the given address and port texts (used to
// render the expanded elements of object-group ACEs).
func (e *ace) bodyWith(src, sport, dst, dport string) string {
	parts := []string{"extended", e.action, e.proto, src}
	if sport != "" {
		parts = append(parts, sport)
	}
	parts = append(parts, dst)
	if dport != "" {
		parts = append(parts, dport)
	}
	if e.icmpType != "" {
		parts = append(parts, e.icmpType)
	}
	parts = append(parts, e.tail...)
	return strings.Join(parts, " ")
}

func (e *ace) inactive() bool {
	for _, t := range e.tail {
		if t == "inactive" {
			return true
		}
	}
	return false
}

var icmpTypes = map[string]bool{
	"echo": true, "echo-reply": true, "unreachable": true, "time-exceeded": true,
	"source-quench": true, "redirect": true, "parameter-problem": true, "traceroute": true,
}

// wellKnownPorts maps the numbers the ASA prints as names; it is a subset
// of the real table, enough for the rules firebreak renders.
var wellKnownPorts = map[string]map[uint16]string{
	"tcp": {21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 49: "tacacs", 53: "domain", 80: "www",
		110: "pop3", 139: "netbios-ssn", 143: "imap4", 179: "bgp", 389: "ldap", 443: "https",
		636: "ldaps", 1521: "sqlnet", 1720: "h323"},
	"udp": {53: "domain", 67: "bootps", 68: "bootpc", 69: "tftp", 123: "ntp", 161: "snmp",
		162: "snmptrap", 514: "syslog"},
}

func portName(proto string, p uint16) string {
	if n, ok := wellKnownPorts[proto][p]; ok {
		return n
	}
	return strconv.Itoa(int(p))
}

func parsePort(proto, s string) (uint16, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 65535 {
			return 0, false
		}
		return uint16(n), true
	}
	for p, name := range wellKnownPorts[proto] {
		if name == s {
			return p, true
		}
	}
	return 0, false
}

// parseMask accepts a dotted netmask with contiguous bits.
func parseMask(s string) (int, bool) {
	m, err := netip.ParseAddr(s)
	if err != nil || !m.Is4() {
		return 0, false
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for bits < 32 && v&(1<<(31-bits)) != 0 {
		bits++
	}
	if bits < 32 && v<<bits != 0 {
		return 0, false
	}
	return bits, true
}

// parseAddrMask parses "A MASK" into a prefix; the address must have no host
// bits, like the ASA ("doesn't pair").
func parseAddrMask(a, m token) (netip.Prefix, *cliError) {
	addr, err := netip.ParseAddr(a.s)
	if err != nil || !addr.Is4() {
		return netip.Prefix{}, invalidAt(a.pos)
	}
	bits, ok := parseMask(m.s)
	if !ok {
		return netip.Prefix{}, invalidAt(m.pos)
	}
	p := netip.PrefixFrom(addr, bits)
	if p.Masked().Addr() != addr {
		return netip.Prefix{}, devErr("ERROR: IP address,mask <%s,%s> doesn't pair", a.s, m.s)
	}
	return p, nil
}

// parser walks tokens for one command.
type parser struct {
	toks []token
	i    int
	m    *model
	// strict is set for typed commands; a saved config may hold forward
	// references.
	strict bool
}

func (p *parser) more() bool { return p.i < len(p.toks) }

func (p *parser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i].s
	}
	return ""
}

func (p *parser) next() (token, *cliError) {
	if p.i >= len(p.toks) {
		return token{}, incomplete()
	}
	t := p.toks[p.i]
	p.i++
	return t, nil
}

// ipv4 resolves a dotted address or a "names" alias.
func (p *parser) ipv4(t token) (netip.Addr, string, *cliError) {
	if a, err := netip.ParseAddr(t.s); err == nil && a.Is4() {
		return a, "", nil
	}
	if a, ok := p.m.names[t.s]; ok {
		return a, t.s, nil
	}
	return netip.Addr{}, "", invalidAt(t.pos)
}

func (p *parser) addr() (addrSpec, *cliError) {
	t, err := p.next()
	if err != nil {
		return addrSpec{}, err
	}
	switch t.s {
	case "any", "any4":
		return addrSpec{kind: t.s}, nil
	case "host":
		a, err := p.next()
		if err != nil {
			return addrSpec{}, err
		}
		ip, label, cerr := p.ipv4(a)
		if cerr != nil {
			return addrSpec{}, cerr
		}
		return addrSpec{kind: "host", addr: ip, label: label}, nil
	case "object-group":
		g, err := p.next()
		if err != nil {
			return addrSpec{}, err
		}
		if grp := p.m.groups[g.s]; grp == nil && p.strict || grp != nil && grp.kind != "network" {
			return addrSpec{}, devErr("ERROR: specified object group <%s> not found", g.s)
		}
		return addrSpec{kind: "group", group: g.s}, nil
	case "object":
		o, err := p.next()
		if err != nil {
			return addrSpec{}, err
		}
		if _, ok := p.m.objects[o.s]; !ok && p.strict {
			return addrSpec{}, devErr("ERROR: specified object <%s> not found", o.s)
		}
		return addrSpec{kind: "object", group: o.s}, nil
	}
	ip, label, cerr := p.ipv4(t)
	if cerr != nil {
		return addrSpec{}, cerr
	}
	m, err := p.next()
	if err != nil {
		return addrSpec{}, err
	}
	pre, cerr := parseAddrMask(token{s: ip.String(), pos: t.pos}, m)
	if cerr != nil {
		return addrSpec{}, cerr
	}
	if pre.Bits() == 32 && label == "" {
		return addrSpec{kind: "host", addr: pre.Addr()}, nil
	}
	return addrSpec{kind: "net", prefix: pre, mask: m.s, label: label}, nil
}

func (p *parser) port(proto string) (portSpec, *cliError) {
	op := p.peek()
	switch op {
	case "eq", "lt", "gt", "neq", "range":
	case "object-group":
		// A service group here; a network group is the next address.
		if p.i+1 >= len(p.toks) {
			return portSpec{}, incomplete()
		}
		name := p.toks[p.i+1].s
		if g := p.m.groups[name]; g == nil || g.kind != "service" {
			return portSpec{}, nil
		}
		p.i += 2
		return portSpec{op: op, group: name, proto: proto}, nil
	default:
		return portSpec{}, nil
	}
	p.i++
	a, err := p.next()
	if err != nil {
		return portSpec{}, err
	}
	lo, ok := parsePort(proto, a.s)
	if !ok {
		return portSpec{}, invalidAt(a.pos)
	}
	ps := portSpec{op: op, lo: lo, hi: lo, proto: proto}
	if op == "range" {
		b, err := p.next()
		if err != nil {
			return portSpec{}, err
		}
		hi, ok := parsePort(proto, b.s)
		if !ok || hi < lo {
			return portSpec{}, invalidAt(b.pos)
		}
		ps.hi = hi
	}
	return ps, nil
}

// parseACE parses what follows "access-list NAME [line N]"; raw is the whole
// command line (for remark text).
func parseACE(p *parser, raw string) (*ace, *cliError) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.s == "remark" {
		if !p.more() {
			return nil, incomplete()
		}
		text := strings.TrimRight(raw[p.toks[p.i].pos:], " \t")
		if len(text) > 100 {
			return nil, invalidAt(p.toks[p.i].pos + 100)
		}
		p.i = len(p.toks)
		return &ace{isRemark: true, remark: text}, nil
	}
	if t.s == "extended" {
		if t, err = p.next(); err != nil {
			return nil, err
		}
	}
	e := &ace{hits: map[string]uint64{}}
	switch t.s {
	case "permit", "deny":
		e.action = t.s
	default:
		return nil, invalidAt(t.pos)
	}
	// Protocol names, numbers, groups and service objects: protocols.go.
	if e.proto, _, err = p.protocolSpec(); err != nil {
		return nil, err
	}
	if e.src, err = p.addr(); err != nil {
		return nil, err
	}
	if e.proto == "tcp" || e.proto == "udp" {
		if e.sport, err = p.port(e.proto); err != nil {
			return nil, err
		}
	}
	if e.dst, err = p.addr(); err != nil {
		return nil, err
	}
	if e.proto == "tcp" || e.proto == "udp" {
		if e.dport, err = p.port(e.proto); err != nil {
			return nil, err
		}
	}
	if e.proto == "icmp" {
		e.icmpType = p.icmpSpec()
	}
	for p.more() {
		t := p.toks[p.i]
		switch t.s {
		case "log", "inactive":
			e.tail = append(e.tail, t.s)
			p.i++
			// log takes optional level/interval words; keep them verbatim.
			for t.s == "log" && p.more() && p.peek() != "inactive" && p.peek() != "time-range" {
				e.tail = append(e.tail, p.peek())
				p.i++
			}
		case "time-range":
			p.i++
			n, err := p.next()
			if err != nil {
				return nil, err
			}
			e.tail = append(e.tail, "time-range", n.s)
		default:
			return nil, invalidAt(t.pos)
		}
	}
	return e, nil
}
