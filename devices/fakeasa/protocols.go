package fakeasa

import (
	"strconv"
	"strings"
)

// Protocols beyond ip/tcp/udp/icmp in ACEs: names and numbers, protocol
// object-groups, service object-groups and service objects in the protocol
// position (9.x), and ICMP types by name or number with an optional code, or
// an icmp-type object-group.

var protocolNumbers = map[string]int{
	"ip": 0, "icmp": 1, "igmp": 2, "ipinip": 4, "tcp": 6, "igrp": 9, "udp": 17, "gre": 47,
	"esp": 50, "ah": 51, "ipsec": 50, "icmp6": 58, "eigrp": 88, "ospf": 89, "nos": 94, "pim": 103,
	"pcp": 108, "snp": 109, "sctp": 132,
}

// protocolNumber reads a protocol name or number (0 is ip).
func protocolNumber(s string) (int, bool) {
	if n, ok := protocolNumbers[s]; ok {
		return n, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 255 {
		return 0, false
	}
	return n, true
}

var icmpTypeNumbers = map[string]int{
	"echo-reply": 0, "unreachable": 3, "source-quench": 4, "redirect": 5, "alternate-address": 6,
	"echo": 8, "router-advertisement": 9, "router-solicitation": 10, "time-exceeded": 11,
	"parameter-problem": 12, "timestamp-request": 13, "timestamp-reply": 14,
	"information-request": 15, "information-reply": 16, "mask-request": 17, "mask-reply": 18,
	"traceroute": 30, "conversion-error": 31, "mobile-redirect": 32,
}

func icmpTypeNumber(s string) (int, bool) {
	if n, ok := icmpTypeNumbers[s]; ok {
		return n, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 255 {
		return 0, false
	}
	return n, true
}

// protocolSpec reads the protocol position of an ACE: the text kept in
// ace.proto, and whether the ports come from a service group or object
// (then the ACE has no port operands).
func (p *parser) protocolSpec() (text string, service bool, err *cliError) {
	t, err := p.next()
	if err != nil {
		return "", false, err
	}
	switch t.s {
	case "object-group", "object":
		n, err := p.next()
		if err != nil {
			return "", false, err
		}
		if t.s == "object" {
			if p.m.serviceObjectItem(n.s) < 0 && p.strict {
				return "", false, devErr("ERROR: specified object <%s> not found", n.s)
			}
			return "object " + n.s, true, nil
		}
		g := p.m.groups[n.s]
		switch {
		case g == nil && p.strict:
			return "", false, devErr("ERROR: specified object group <%s> not found", n.s)
		case g != nil && g.kind != "protocol" && g.kind != "service":
			return "", false, invalidAt(n.pos)
		}
		return "object-group " + n.s, g == nil || g.kind == "service", nil
	}
	if _, ok := protocolNumber(t.s); !ok {
		return "", false, invalidAt(t.pos)
	}
	return t.s, false, nil
}

// icmpSpec reads an optional ICMP type [code] or icmp-type group after the
// destination of an ICMP ACE.
func (p *parser) icmpSpec() string {
	w := p.peek()
	if w == "object-group" && p.i+1 < len(p.toks) {
		if g := p.m.groups[p.toks[p.i+1].s]; g != nil && g.kind == "icmp-type" {
			p.i += 2
			return "object-group " + g.name
		}
		return ""
	}
	if _, ok := icmpTypeNumber(w); !ok || w == "" {
		return ""
	}
	p.i++
	spec := w
	if c := p.peek(); c != "" {
		if n, err := strconv.Atoi(c); err == nil && n >= 0 && n <= 255 {
			p.i++
			spec += " " + c
		}
	}
	return spec
}

// serviceObjectItem finds the verbatim item of "object service NAME".
func (m *model) serviceObjectItem(name string) int {
	for i, it := range m.items {
		if it.kind == itemVerbatim && len(it.lines) > 0 && strings.TrimSpace(it.lines[0]) == "object service "+name {
			return i
		}
	}
	return -1
}
