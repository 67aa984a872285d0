package fakeasa

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The connection table, shun semantics and the commands that show and
// clear them, from the ASA command reference:
//
//   - `shun SRC` blocks new connections from SRC; its current connections
//     remain in place. `shun SRC DST SPORT DPORT [PROTO]` also drops that
//     current connection. (The fake keeps one shun per source and ignores
//     vlan/interface options.)
//   - `clear conn address A` drops the connections with A at either end;
//     `clear conn address A address B` those between A and B; `clear conn
//     all` every one. Replies "N connection(s) deleted." (unconfirmed).
//   - `show conn [address A]`: "N in use, M most used", then one line per
//     connection, the lower-security side first (format of the 8.4+ box:
//     "TCP outside 198.51.100.9:443 inside 10.1.1.5:50000, idle 0:00:00,
//     uptime 0:00:05, bytes 0, flags UIO").

// Flow is a packet given to the fake's data path by a test: the first
// packet of a connection or a packet of an existing one. Proto is tcp, udp,
// icmp or a protocol number.
type Flow struct {
	Interface        string
	Proto            string
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	ICMPType         uint8
	ICMPCode         uint8
}

// Verdict is what the fake's data path did with a Flow: allowed or not, the
// ACL and line that decided (Line 0: its implicit deny; ACL "" when no ACL
// decided, e.g. a shun, the connection table or the security levels), and
// the drop reason as packet-tracer words it.
type Verdict struct {
	Allowed    bool
	ACL        string
	Line       int
	DropReason string
	Existing   bool // permitted as a packet of an existing connection
	Egress     string
}

// ConnInfo is one entry of the connection table.
type ConnInfo struct {
	ID               int
	Proto            string
	In, Out          string // the initiator's interface and the responder's
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
}

type conn struct {
	id           int
	proto        int
	inIf, outIf  string
	src, dst     netip.Addr
	sport, dport uint16
	since        time.Time
}

// carries reports whether pk belongs to c (either direction).
func (c *conn) carries(pk packet) bool {
	if c.proto != pk.proto {
		return false
	}
	if !pk.ported() {
		return c.src == pk.src && c.dst == pk.dst || c.src == pk.dst && c.dst == pk.src
	}
	return c.src == pk.src && c.sport == pk.sport && c.dst == pk.dst && c.dport == pk.dport ||
		c.src == pk.dst && c.sport == pk.dport && c.dst == pk.src && c.dport == pk.sport
}

func (f Flow) packet() (packet, error) {
	pk := packet{ifname: f.Interface, src: f.Src.Unmap(), dst: f.Dst.Unmap(), sport: f.SrcPort, dport: f.DstPort}
	n, ok := protocolNumber(f.Proto)
	if !ok || n == 0 {
		return pk, fmt.Errorf("fakeasa: protocol %q", f.Proto)
	}
	pk.proto = n
	if n == 1 {
		pk.sport, pk.dport, pk.icmpCode = 0, uint16(f.ICMPType), int(f.ICMPCode)
	}
	return pk, nil
}

func (vd verdict) public() Verdict {
	return Verdict{Allowed: vd.allow, ACL: vd.acl, Line: vd.line, DropReason: vd.dropReason, Existing: vd.conn != nil, Egress: vd.out}
}

// clock is the box's time.
func (s *Server) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// SetNow replaces the box's clock (nil: time.Now): time-ranges are
// enforced, and `show clock` answers, by it.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Trace is packet-tracer: the data path's verdict on f, changing nothing.
func (s *Server) Trace(f Flow) (Verdict, error) {
	pk, err := f.packet()
	if err != nil {
		return Verdict{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m.view().ports[pk.ifname] == nil {
		return Verdict{}, fmt.Errorf("fakeasa: no interface %q", f.Interface)
	}
	return s.decide(pk, s.clock()).public(), nil
}

// ErrDenied is returned by Open for a flow the data path drops.
var ErrDenied = errors.New("fakeasa: flow denied")

// Send passes f through the data path as real traffic: the deciding ACL
// entry's hit count grows, and a permitted first packet opens a connection
// (later packets and replies use it).
func (s *Server) Send(f Flow) (Verdict, error) {
	pk, err := f.packet()
	if err != nil {
		return Verdict{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m.view().ports[pk.ifname] == nil {
		return Verdict{}, fmt.Errorf("fakeasa: no interface %q", f.Interface)
	}
	now := s.clock()
	vd := s.decide(pk, now)
	for _, h := range vd.hits {
		if a := s.m.acls[h.acl]; a != nil && h.element != "" && h.line <= len(a.entries) {
			a.entries[h.line-1].hits[h.element]++
		}
	}
	if vd.allow && vd.conn == nil && vd.out != "identity" {
		s.flowSeq++
		s.flows = append(s.flows, &conn{id: s.flowSeq, proto: pk.proto, inIf: pk.ifname, outIf: vd.out,
			src: pk.src, dst: pk.dst, sport: pk.sport, dport: pk.dport, since: now})
	}
	return vd.public(), nil
}

// Open is Send for a flow that must be permitted: it opens the connection
// (a live session that a test then expects a change to cut or not).
func (s *Server) Open(f Flow) error {
	v, err := s.Send(f)
	if err != nil {
		return err
	}
	if !v.Allowed {
		return fmt.Errorf("%w: %s", ErrDenied, v.DropReason)
	}
	return nil
}

// Conns lists the connection table.
func (s *Server) Conns() []ConnInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ConnInfo, 0, len(s.flows))
	for _, c := range s.flows {
		out = append(out, ConnInfo{ID: c.id, Proto: protoWord(c.proto), In: c.inIf, Out: c.outIf,
			Src: c.src, Dst: c.dst, SrcPort: c.sport, DstPort: c.dport})
	}
	return out
}

func protoWord(n int) string {
	for w, v := range map[string]int{"tcp": 6, "udp": 17, "icmp": 1} {
		if v == n {
			return w
		}
	}
	return strconv.Itoa(n)
}

// shunCmd handles "shun SRC [DST SPORT DPORT [PROTO]]".
func (s *cliSession) shunCmd(toks []token) (result, *cliError) {
	m := s.srv.m
	if len(toks) < 2 {
		return result{}, incomplete()
	}
	a, err := netip.ParseAddr(toks[1].s)
	if err != nil || !a.Is4() {
		return result{}, invalidAt(toks[1].pos)
	}
	var drop *conn
	switch len(toks) {
	case 2:
	case 5, 6:
		dst, err := netip.ParseAddr(toks[2].s)
		if err != nil || !dst.Is4() {
			return result{}, invalidAt(toks[2].pos)
		}
		sp, err1 := strconv.ParseUint(toks[3].s, 10, 16)
		dp, err2 := strconv.ParseUint(toks[4].s, 10, 16)
		if err1 != nil {
			return result{}, invalidAt(toks[3].pos)
		}
		if err2 != nil {
			return result{}, invalidAt(toks[4].pos)
		}
		proto := 0
		if len(toks) == 6 {
			n, ok := protocolNumber(toks[5].s)
			if !ok {
				return result{}, invalidAt(toks[5].pos)
			}
			proto = n
		}
		for _, c := range s.srv.flows {
			if c.src == a && c.dst == dst && c.sport == uint16(sp) && c.dport == uint16(dp) && (proto == 0 || c.proto == proto) {
				drop = c
			}
		}
	default:
		return result{}, invalidAt(toks[len(toks)-1].pos)
	}
	if slices.Contains(m.shuns, a) {
		return result{}, devErr("ERROR: Shun %s already exists", a)
	}
	m.shuns = append(m.shuns, a)
	if drop != nil {
		s.srv.flows = slices.DeleteFunc(s.srv.flows, func(c *conn) bool { return c == drop })
	}
	return result{out: fmt.Sprintf("Shun %s added in context: single_vf\nShun %s successful\n", a, a)}, nil
}

// connFilter reads "address A [address B] [protocol P] [port N]" (the
// common forms of show conn and clear conn).
func connFilter(toks []token) (func(*conn) bool, *cliError) {
	var addrs []netip.Addr
	proto, port := 0, -1
	for i := 0; i < len(toks); i += 2 {
		if i+1 >= len(toks) {
			return nil, incomplete()
		}
		switch toks[i].s {
		case "address":
			a, err := netip.ParseAddr(toks[i+1].s)
			if err != nil {
				return nil, invalidAt(toks[i+1].pos)
			}
			addrs = append(addrs, a)
		case "protocol":
			n, ok := protocolNumber(toks[i+1].s)
			if !ok || n == 0 {
				return nil, invalidAt(toks[i+1].pos)
			}
			proto = n
		case "port":
			n, err := strconv.ParseUint(toks[i+1].s, 10, 16)
			if err != nil {
				return nil, invalidAt(toks[i+1].pos)
			}
			port = int(n)
		default:
			return nil, invalidAt(toks[i].pos)
		}
	}
	if len(addrs) > 2 {
		return nil, invalidAt(toks[len(toks)-1].pos)
	}
	return func(c *conn) bool {
		if proto != 0 && c.proto != proto || port >= 0 && int(c.sport) != port && int(c.dport) != port {
			return false
		}
		switch len(addrs) {
		case 1:
			return c.src == addrs[0] || c.dst == addrs[0]
		case 2:
			return c.src == addrs[0] && c.dst == addrs[1] || c.src == addrs[1] && c.dst == addrs[0]
		}
		return true
	}, nil
}

// clearConn handles "clear conn [all] [address A [address B]] [protocol P] [port N]".
func (s *cliSession) clearConn(toks []token) (result, *cliError) {
	rest := toks[2:]
	if len(rest) > 0 && rest[0].s == "all" {
		rest = rest[1:]
	}
	keep, err := connFilter(rest)
	if err != nil {
		return result{}, err
	}
	n := 0
	s.srv.flows = slices.DeleteFunc(s.srv.flows, func(c *conn) bool {
		if keep(c) {
			n++
			return true
		}
		return false
	})
	return result{out: fmt.Sprintf("%d connection(s) deleted.\n", n)}, nil
}

// showConn handles "show conn [all] [count] [address A ...]".
func (s *cliSession) showConn(args []token) (result, *cliError) {
	count := false
	for len(args) > 0 && (args[0].s == "all" || args[0].s == "count" || args[0].s == "detail") {
		count = count || args[0].s == "count"
		args = args[1:]
	}
	sel, err := connFilter(args)
	if err != nil {
		return result{}, err
	}
	var b strings.Builder
	v := s.srv.m.view()
	var lines []string
	for _, c := range s.srv.flows {
		if sel(c) {
			lines = append(lines, connLine(v, c, s.srv.clock()))
		}
	}
	fmt.Fprintf(&b, "%d in use, %d most used\n", len(lines), len(s.srv.flows))
	if !count {
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	return result{out: b.String()}, nil
}

func connLine(v *netView, c *conn, now time.Time) string {
	a := fmt.Sprintf("%s %s:%d", c.inIf, c.src, c.sport)
	b := fmt.Sprintf("%s %s:%d", c.outIf, c.dst, c.dport)
	if c.proto == 1 {
		a = fmt.Sprintf("%s %s", c.inIf, c.src)
		b = fmt.Sprintf("%s %s", c.outIf, c.dst)
	}
	flags := "UIO"
	in, out := v.ports[c.inIf], v.ports[c.outIf]
	switch {
	case in != nil && out != nil && in.level < out.level:
		flags = "UIOB" // initiated from the lower-security side, which is shown first
	case in != nil && out != nil && in.level > out.level:
		a, b = b, a
	}
	up := now.Sub(c.since).Round(time.Second)
	return fmt.Sprintf("%s %s %s, idle 0:00:00, uptime %s, bytes 0, flags %s", strings.ToUpper(protoWord(c.proto)), a, b, hms(up), flags)
}

func hms(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	h := int(d.Hours())
	return fmt.Sprintf("%d:%02d:%02d", h, int(d.Minutes())%60, int(d.Seconds())%60)
}

// showShun handles "show shun [SRC]".
func (s *cliSession) showShun(args []token) (result, *cliError) {
	m := s.srv.m
	var only netip.Addr
	if len(args) == 1 {
		a, err := netip.ParseAddr(args[0].s)
		if err != nil {
			return result{}, invalidAt(args[0].pos)
		}
		only = a
	} else if len(args) > 1 {
		return result{}, invalidAt(args[1].pos)
	}
	v := m.view()
	var b strings.Builder
	for _, a := range m.shuns {
		if only.IsValid() && a != only {
			continue
		}
		ifname := "outside"
		if r, ok := v.lookup(a); ok {
			ifname = r.out
		}
		fmt.Fprintf(&b, "shun (%s) %s 0.0.0.0 0 0 0\n", ifname, a)
	}
	return result{out: b.String()}, nil
}

// showRoute handles "show route [IFNAME] [A [MASK]]" from the routing
// table (connected subnets of up interfaces, the best-distance static
// routes through up interfaces), in the format of the ASA configuration
// guide: the table, or with A the entry a packet to A uses (with MASK the
// entry for exactly that network), every equal-cost next hop listed.
func (s *cliSession) showRoute(args []token) (result, *cliError) {
	v := s.srv.m.view()
	ifname := ""
	if len(args) > 0 {
		if _, ok := v.ports[args[0].s]; ok {
			ifname, args = args[0].s, args[1:]
		}
	}
	fibs := slices.DeleteFunc(slices.Clone(v.fibs), func(r fib) bool { return ifname != "" && r.out != ifname })
	var b strings.Builder
	if len(args) >= 1 {
		a, err := netip.ParseAddr(args[0].s)
		if err != nil || !a.Is4() {
			return result{}, invalidAt(args[0].pos)
		}
		var entry netip.Prefix
		switch len(args) {
		case 1:
			for _, r := range fibs {
				if r.net.Contains(a) {
					entry = r.net
					break
				}
			}
			if !entry.IsValid() {
				return result{out: "% Network not in table\n"}, nil
			}
		case 2:
			bits, ok := parseMask(args[1].s)
			if !ok {
				return result{}, invalidAt(args[1].pos)
			}
			entry = netip.PrefixFrom(a, bits).Masked()
			if !slices.ContainsFunc(fibs, func(r fib) bool { return r.net == entry }) {
				return result{out: "% Subnet not in table\n"}, nil
			}
		default:
			return result{}, invalidAt(args[2].pos)
		}
		var hops []fib
		for _, r := range fibs {
			if r.net == entry {
				hops = append(hops, r)
			}
		}
		fmt.Fprintf(&b, "\nRouting entry for %s %s\n", entry.Addr(), maskString(entry.Bits()))
		if hops[0].connected {
			b.WriteString("  Known via \"connected\", distance 0, metric 0 (connected, via interface)\n")
		} else {
			fmt.Fprintf(&b, "  Known via \"static\", distance %d, metric 0\n", hops[0].distance)
		}
		b.WriteString("  Routing Descriptor Blocks:\n")
		for i, r := range hops {
			mark := "  "
			if i == 0 {
				mark = "* "
			}
			if r.connected {
				fmt.Fprintf(&b, "  %sdirectly connected, via %s\n", mark, r.out)
			} else {
				fmt.Fprintf(&b, "  %s%s, via %s\n", mark, r.via, r.out)
			}
			b.WriteString("      Route metric is 0, traffic share count is 1\n")
		}
		return result{out: b.String()}, nil
	}
	b.WriteString("Codes: C - connected, S - static, I - IGRP, R - RIP, M - mobile, B - BGP\n" +
		"       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area\n" +
		"       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2\n" +
		"       E1 - OSPF external type 1, E2 - OSPF external type 2, E - EGP\n" +
		"       i - IS-IS, L1 - IS-IS level-1, L2 - IS-IS level-2, ia - IS-IS inter area\n" +
		"       * - candidate default, U - per-user static route, o - ODR\n" +
		"       P - periodic downloaded static route\n\n")
	last := "Gateway of last resort is not set\n\n"
	for _, r := range fibs {
		if r.net.Bits() == 0 && !r.connected {
			last = fmt.Sprintf("Gateway of last resort is %s to network 0.0.0.0\n\n", r.via)
			break
		}
	}
	b.WriteString(last)
	for _, r := range fibs {
		if r.connected {
			fmt.Fprintf(&b, "C    %s %s is directly connected, %s\n", r.net.Addr(), maskString(r.net.Bits()), r.out)
			continue
		}
		code := "S   "
		if r.net.Bits() == 0 {
			code = "S*  "
		}
		fmt.Fprintf(&b, "%s %s %s [%d/0] via %s, %s\n", code, r.net.Addr(), maskString(r.net.Bits()), r.distance, r.via, r.out)
	}
	return result{out: b.String()}, nil
}
