package fakeasa

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The fake's data path for the first packet of a flow, in the order the
// ASA documents for routed mode: input interface; the connection table
// (replies and later packets of a connection bypass every ACL); shun of the
// source; route lookup (to-the-box for the box's own addresses); the input
// interface's ACL then the global ACL, or, when neither exists, the
// security levels (higher to lower only); same-security-traffic for equal
// levels and hairpins; the output interface's `out` ACL; to-the-box: the
// control-plane ACL and the ssh/http/telnet/icmp lines. NAT, inspection and
// uRPF are not simulated.
//
// packet-tracer prints the phases as the ASA does (text: "Phase: N",
// "Type:", "Subtype:", "Result:", "Config:", "Additional Information:", then
// "Result:" with the interfaces, "Action:" and "Drop-reason:"; with `xml`,
// the same fields as <Phase> elements and a <result> element). Unconfirmed
// on a real box: the SHUN phase and its drop reason, the wording of the
// to-the-box and same-security drops.

type phase struct {
	typ, subtype string
	allow        bool
	config       []string
	info         []string
}

// verdict is the data path's decision on one packet.
type verdict struct {
	phases     []phase
	in, out    string
	inUp       bool
	allow      bool
	dropReason string
	acl        string // the ACL whose entry (or implicit deny) decided: the drop, or the input permit
	line       int    // that entry's line number, 0 for the implicit deny
	hits       []hit  // every entry that matched (each counts a hit)
	conn       *conn  // the existing connection used
}

type hit struct {
	acl, element string
	line         int
}

func (vd *verdict) add(p phase) { vd.phases = append(vd.phases, p) }

func (vd *verdict) drop(p phase, reason string) verdict {
	p.allow = false
	vd.add(p)
	vd.allow, vd.dropReason = false, reason
	return *vd
}

const aclDrop = "(acl-drop) Flow is denied by configured rule"

// decide runs pk through the data path at now. It changes nothing.
func (s *Server) decide(pk packet, now time.Time) verdict {
	m := s.m
	v := m.view()
	vd := verdict{in: pk.ifname}
	in := v.ports[pk.ifname]
	if in == nil {
		vd.dropReason = "(no-interface) Input interface does not exist"
		return vd
	}
	vd.inUp = !in.down
	if in.down {
		return vd.drop(phase{typ: "INPUT-INTERFACE"}, "(interface-down) Interface is down")
	}
	for _, c := range s.flows {
		if c.carries(pk) {
			vd.conn = c
			vd.out = c.outIf
			if c.src != pk.src {
				vd.out = c.inIf // a reply leaves by the initiator's side
			}
			vd.add(phase{typ: "FLOW-LOOKUP", allow: true, info: []string{fmt.Sprintf("Found flow with id %d, using existing flow", c.id)}})
			vd.allow = true
			return vd
		}
	}
	for _, sh := range m.shuns {
		if sh == pk.src {
			return vd.drop(phase{typ: "SHUN", info: []string{"source " + pk.src.String() + " is shunned"}}, "(shunned) Packet dropped due to a shun")
		}
	}
	if boxIf, ok := v.owner(pk.dst); ok {
		return s.toBox(v, &vd, in, boxIf, pk, now)
	}
	r, ok := v.lookup(pk.dst)
	if !ok {
		return vd.drop(phase{typ: "ROUTE-LOOKUP", subtype: "Resolve Egress Interface"}, "(no-route) No route to host")
	}
	vd.out = r.out
	info := "found next-hop " + r.via.String() + " using egress ifc  " + r.out
	if r.connected {
		info = "found next-hop " + pk.dst.String() + " using egress ifc  " + r.out
	}
	vd.add(phase{typ: "ROUTE-LOOKUP", subtype: "Resolve Egress Interface", allow: true, info: []string{info}})
	out := v.ports[r.out]
	if in.mgmtOnly || out.mgmtOnly {
		return vd.drop(phase{typ: "ACCESS-LIST", config: []string{"Implicit Rule"}, info: []string{"management-only interface"}}, aclDrop)
	}
	// The input ACL chain: the interface's, then the global one.
	var chain []string
	if n, ok := v.bound("in", in.name, false); ok {
		chain = append(chain, n)
	}
	if n, ok := v.global(); ok {
		chain = append(chain, n)
	}
	if len(chain) > 0 {
		allowed, ph := s.runACLs(v, &vd, chain, pk, now, func(acl string) string {
			if g, _ := v.global(); g == acl {
				return "access-group " + acl + " global"
			}
			return "access-group " + acl + " in interface " + in.name
		})
		if !allowed {
			return vd.drop(ph, aclDrop)
		}
		vd.add(ph)
	} else {
		if in.level < out.level {
			return vd.drop(phase{typ: "ACCESS-LIST", config: []string{"Implicit Rule"},
				info: []string{fmt.Sprintf("security-level %d to %d", in.level, out.level)}}, aclDrop)
		}
		vd.add(phase{typ: "ACCESS-LIST", allow: true, config: []string{"Implicit Rule"}})
	}
	switch {
	case in.name == out.name && !v.intraSame:
		return vd.drop(phase{typ: "ACCESS-LIST", config: []string{"Implicit Rule"}, info: []string{"same-security-traffic intra-interface is not permitted"}}, aclDrop)
	case in.name != out.name && in.level == out.level && !v.interSame:
		return vd.drop(phase{typ: "ACCESS-LIST", config: []string{"Implicit Rule"}, info: []string{"same-security-traffic inter-interface is not permitted"}}, aclDrop)
	}
	if n, ok := v.bound("out", out.name, false); ok {
		allowed, ph := s.runACLs(v, &vd, []string{n}, pk, now, func(acl string) string {
			return "access-group " + acl + " out interface " + out.name
		})
		if !allowed {
			return vd.drop(ph, aclDrop)
		}
		vd.add(ph)
	}
	vd.add(phase{typ: "FLOW-CREATION", allow: true, info: []string{"New flow created, packet dispatched to next module"}})
	vd.allow = true
	return vd
}

// runACLs evaluates the ACLs in order; the first active matching entry
// decides, no match is the implicit deny of the last. It records the
// deciding ACL and line in vd.
func (s *Server) runACLs(v *netView, vd *verdict, chain []string, pk packet, now time.Time, groupLine func(string) string) (bool, phase) {
	m := s.m
	for _, name := range chain {
		a := m.acls[name]
		if a == nil {
			continue
		}
		for i, e := range a.entries {
			ok, key := m.aceMatch(v, e, pk, now)
			if !ok {
				continue
			}
			if vd.acl == "" || e.action != "permit" {
				vd.acl, vd.line = name, i+1
			}
			vd.hits = append(vd.hits, hit{acl: name, line: i + 1, element: key})
			ph := phase{typ: "ACCESS-LIST", subtype: "log", allow: e.action == "permit",
				config: []string{groupLine(name), "access-list " + name + " " + e.body()}}
			return e.action == "permit", ph
		}
	}
	vd.acl, vd.line = chain[len(chain)-1], 0 // the implicit deny after the last (global) ACL
	return false, phase{typ: "ACCESS-LIST", config: []string{"Implicit Rule"}}
}

// toBox handles traffic to one of the box's own addresses.
func (s *Server) toBox(v *netView, vd *verdict, in, owner *port, pk packet, now time.Time) verdict {
	vd.out = "identity"
	vd.add(phase{typ: "ROUTE-LOOKUP", subtype: "Resolve Egress Interface", allow: true, info: []string{"found next-hop " + pk.dst.String() + " using egress ifc  identity"}})
	if n, ok := v.bound("in", in.name, true); ok {
		allowed, ph := s.runACLs(v, vd, []string{n}, pk, now, func(acl string) string {
			return "access-group " + acl + " in interface " + in.name + " control-plane"
		})
		if !allowed {
			return vd.drop(ph, aclDrop)
		}
		vd.add(ph)
	}
	if owner.name != in.name {
		return vd.drop(phase{typ: "ACCESS-LIST", config: []string{"Implicit Rule"}, info: []string{"to-the-box traffic for a far interface"}}, aclDrop)
	}
	if pk.proto == 1 {
		rules := 0
		for _, l := range v.icmpLines {
			if l.ifname != in.name {
				continue
			}
			rules++
			if l.src.IsValid() && !l.src.Contains(pk.src) || l.typ >= 0 && l.typ != int(pk.dport) {
				continue
			}
			if l.permit {
				vd.add(phase{typ: "ACCESS-LIST", allow: true, config: []string{"icmp permit"}})
				vd.allow = true
				return *vd
			}
			return vd.drop(phase{typ: "ACCESS-LIST", config: []string{"icmp deny"}}, aclDrop)
		}
		if rules > 0 {
			return vd.drop(phase{typ: "ACCESS-LIST", config: []string{"Implicit Rule"}}, aclDrop)
		}
		vd.allow = true
		return *vd
	}
	svc := ""
	if pk.proto == 6 {
		switch {
		case pk.dport == 22:
			svc = "ssh"
		case pk.dport == 23:
			svc = "telnet"
		case v.httpPort > 0 && int(pk.dport) == v.httpPort:
			svc = "http"
		}
	}
	for _, l := range v.mgmt {
		if svc != "" && l.proto == svc && l.ifname == in.name && l.net.Contains(pk.src) {
			vd.add(phase{typ: "ACCESS-LIST", allow: true, config: []string{fmt.Sprintf("%s %s %s %s", l.proto, l.net.Addr(), maskString(l.net.Bits()), l.ifname)}})
			vd.allow = true
			return *vd
		}
	}
	return vd.drop(phase{typ: "ACCESS-LIST", config: []string{"Implicit Rule"}}, aclDrop)
}

// packetTracer handles "packet-tracer input IF tcp|udp SRC SPORT DST DPORT
// [detailed] [xml]" and "packet-tracer input IF icmp SRC TYPE CODE [IDENT]
// DST [detailed] [xml]". Ports and types may be names.
func (s *cliSession) packetTracer(toks []token) (result, *cliError) {
	if len(toks) < 3 {
		return result{}, incomplete()
	}
	if toks[1].s != "input" {
		return result{}, invalidAt(toks[1].pos)
	}
	args := toks[2:]
	xml := false
	for len(args) > 0 {
		last := args[len(args)-1].s
		if last == "xml" {
			xml = true
		} else if last != "detailed" {
			break
		}
		args = args[:len(args)-1]
	}
	if len(args) < 2 {
		return result{}, incomplete()
	}
	pk := packet{ifname: args[0].s}
	if s.srv.m.view().ports[pk.ifname] == nil {
		return result{}, invalidAt(args[0].pos)
	}
	proto := args[1].s
	addr := func(t token) (netip.Addr, *cliError) {
		a, err := netip.ParseAddr(t.s)
		if err != nil || !a.Is4() {
			return netip.Addr{}, invalidAt(t.pos)
		}
		return a, nil
	}
	var err *cliError
	switch proto {
	case "tcp", "udp":
		if len(args) != 6 {
			return result{}, incomplete()
		}
		pk.proto = 6
		if proto == "udp" {
			pk.proto = 17
		}
		if pk.src, err = addr(args[2]); err != nil {
			return result{}, err
		}
		sp, ok := parsePort(proto, args[3].s)
		if !ok {
			return result{}, invalidAt(args[3].pos)
		}
		if pk.dst, err = addr(args[4]); err != nil {
			return result{}, err
		}
		dp, ok := parsePort(proto, args[5].s)
		if !ok {
			return result{}, invalidAt(args[5].pos)
		}
		pk.sport, pk.dport = sp, dp
	case "icmp":
		if len(args) != 6 && len(args) != 7 {
			return result{}, incomplete()
		}
		pk.proto = 1
		if pk.src, err = addr(args[2]); err != nil {
			return result{}, err
		}
		t, ok := icmpTypeNumber(args[3].s)
		if !ok {
			return result{}, invalidAt(args[3].pos)
		}
		c, cerr := strconv.Atoi(args[4].s)
		if cerr != nil || c < 0 || c > 255 {
			return result{}, invalidAt(args[4].pos)
		}
		if pk.dst, err = addr(args[len(args)-1]); err != nil {
			return result{}, err
		}
		pk.dport, pk.icmpCode = uint16(t), c
	default:
		return result{}, invalidAt(args[1].pos)
	}
	vd := s.srv.decide(pk, s.srv.clock())
	if xml {
		return result{out: vd.xml()}, nil
	}
	return result{out: vd.text()}, nil
}

func resultWord(allow bool) string {
	if allow {
		return "ALLOW"
	}
	return "DROP"
}

func (vd verdict) outIf() string {
	switch {
	case vd.out == "identity":
		return "NP Identity Ifc"
	case vd.out == "":
		return "UNKNOWN"
	}
	return vd.out
}

func status(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

func (vd verdict) text() string {
	var b strings.Builder
	for i, p := range vd.phases {
		fmt.Fprintf(&b, "Phase: %d\nType: %s\nSubtype: %s\nResult: %s\nConfig:\n", i+1, p.typ, p.subtype, resultWord(p.allow))
		for _, c := range p.config {
			b.WriteString(c + "\n")
		}
		b.WriteString("Additional Information:\n")
		for _, c := range p.info {
			b.WriteString(c + "\n")
		}
		b.WriteString("\n")
	}
	action := "drop"
	if vd.allow {
		action = "allow"
	}
	fmt.Fprintf(&b, "Result:\ninput-interface: %s\ninput-status: %s\ninput-line-status: %s\noutput-interface: %s\noutput-status: up\noutput-line-status: up\nAction: %s\n",
		vd.in, status(vd.inUp), status(vd.inUp), vd.outIf(), action)
	if !vd.allow {
		fmt.Fprintf(&b, "Drop-reason: %s\n", vd.dropReason)
	}
	return b.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func (vd verdict) xml() string {
	var b strings.Builder
	for i, p := range vd.phases {
		fmt.Fprintf(&b, "<Phase>\n<id>%d</id>\n<type>%s</type>\n<subtype>%s</subtype>\n<result>%s</result>\n<config>\n%s</config>\n<extra>\n%s</extra>\n</Phase>\n",
			i+1, xmlEscape(p.typ), xmlEscape(p.subtype), resultWord(p.allow), xmlLines(p.config), xmlLines(p.info))
	}
	action := "drop"
	if vd.allow {
		action = "allow"
	}
	fmt.Fprintf(&b, "<result>\n<input-interface>%s</input-interface>\n<input-status>%s</input-status>\n<input-line-status>%s</input-line-status>\n<output-interface>%s</output-interface>\n<output-status>up</output-status>\n<output-line-status>up</output-line-status>\n<action>%s</action>\n",
		xmlEscape(vd.in), status(vd.inUp), status(vd.inUp), xmlEscape(vd.outIf()), action)
	if !vd.allow {
		fmt.Fprintf(&b, "<drop-reason>%s</drop-reason>\n", xmlEscape(vd.dropReason))
	}
	b.WriteString("</result>\n")
	return b.String()
}

func xmlLines(ls []string) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(xmlEscape(l) + "\n")
	}
	return b.String()
}
