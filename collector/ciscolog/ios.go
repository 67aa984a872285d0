package ciscolog

import "strings"

// parseIOS types the IOS access-list logging messages (%SEC-6-IPACCESSLOG*, the IPv6 forms
// %IPV6_ACL-6-ACCESSLOG*, %IPV6-6-ACCESSLOG*, and the IOS-XE/XR variants %FMANFP-6-IPACCESSLOG*,
// %ACL-IPV4_ACL-6-IPACCESSLOGP), and the messages of ios_specs.go. Other mnemonics stay
// KindHeader.
func parseIOS(body string, ev *Event) bool {
	m := ev.Mnemonic
	if !strings.Contains(m, "ACCESSLOG") {
		return iosTemplate(body, ev)
	}
	var ok bool
	if strings.HasSuffix(m, "RL") {
		ok = iosRateLimit(body, ev)
	} else {
		ok = iosACL(body, ev, strings.HasSuffix(m, "LOGS"))
	}
	finishBody(ev, ok)
	return true
}

// iosRateLimit: access-list logging rate-limited or missed N packets
func iosRateLimit(s string, ev *Event) bool {
	_, rest, ok := cut(s, "missed ")
	if !ok {
		return false
	}
	n, _, ok := uintAt(rest)
	if !ok || n > 1<<32-1 {
		return false
	}
	ev.Count = uint32(n)
	ev.Action = ActionRateLimit
	return true
}

// iosACL: [module prefix] list NAME {permitted|denied} [PROTO] SRC -> DST [(x)], N packet[s]
// where SRC is `[MAC ]addr[(port)][ (ifc mac)| ifc]` and the ifc may be glued to `->`.
// standard is IPACCESSLOGS: no protocol and no destination.
func iosACL(s string, ev *Event, standard bool) bool {
	k := strings.Index(s, "list ")
	if k < 0 {
		return false
	}
	s = s[k+len("list "):]
	ev.ACL, s = word(s)
	verb, s := word(s)
	switch verb {
	case "permitted", "permit":
		ev.Action = ActionPermit
	case "denied", "deny":
		ev.Action = ActionDeny
	default:
		return false
	}
	if !standard {
		var p string
		p, s = word(s)
		switch p {
		case "ip", "ipv6":
		default:
			if !setProto(ev, p) {
				return false
			}
		}
	}
	var src, dst, tail string
	if standard {
		// `10.1.1.1 3 packets` or `10.1.1.1 (Gi0/1 ...), 3 packets`
		p := strings.LastIndex(s, " packet")
		if p < 0 {
			return false
		}
		head := strings.TrimRight(s[:p], " ")
		i := strings.LastIndexByte(head, ' ')
		if i < 0 {
			return false
		}
		src, tail = strings.TrimRight(head[:i], ", "), head[i+1:]
	} else {
		var ok bool
		if src, s, ok = cut(s, "->"); !ok {
			return false
		}
		if dst, tail, ok = cut(s, ","); !ok {
			return false
		}
	}
	if !iosSource(&ev.Src, src) {
		return false
	}
	if !standard {
		dst = strings.TrimSpace(dst)
		end := len(dst)
		if i := strings.IndexAny(dst, " ("); i >= 0 {
			end = i
		}
		if a, ok := parseAddr(dst[:end]); ok {
			ev.Dst.Addr = a
		} else {
			return false
		}
		rest := strings.TrimLeft(dst[end:], " ")
		if strings.HasPrefix(rest, "(") {
			inner, _, _ := cut(rest[1:], ")")
			if t, c, ok := cut(inner, "/"); ok {
				if tv, _, ok := uintAt(t); ok && tv <= 255 {
					ev.ICMPType = int16(tv)
				}
				if cv, _, ok := uintAt(c); ok && cv <= 255 {
					ev.ICMPCode = int16(cv)
				}
			} else if end < len(dst) && dst[end] == '(' {
				if p, ok := parsePort(inner); ok {
					ev.Dst.Port = p
				}
			}
		}
	}
	tail = strings.TrimSpace(tail)
	if n, _, ok := uintAt(tail); ok && n <= 1<<32-1 {
		ev.Count = uint32(n)
	}
	ev.Initiator = SideSrc
	return true
}

// iosSource reads `[MAC ]addr[(port)] [(ifc mac)|ifc]`.
func iosSource(ep *Endpoint, s string) bool {
	s = strings.TrimSpace(s)
	for s != "" {
		if s[0] == '(' {
			inner, rest, ok := cut(s[1:], ")")
			if !ok {
				return false
			}
			if ep.Iface == "" {
				ep.Iface, _ = word(inner)
			}
			s = strings.TrimLeft(rest, " ")
			continue
		}
		tok, rest := word(s)
		s = strings.TrimLeft(rest, " ")
		if !ep.Addr.IsValid() {
			if isMAC(tok) {
				continue
			}
			addr, port := tok, ""
			if i := strings.IndexByte(tok, '('); i > 0 {
				addr = tok[:i]
				port, _, _ = cut(tok[i+1:], ")")
			}
			a, ok := parseAddr(addr)
			if !ok {
				return false
			}
			ep.Addr = a
			if port != "" {
				if p, ok := parsePort(port); ok {
					ep.Port = p
				}
			}
			continue
		}
		if ep.Iface == "" {
			ep.Iface = tok
		}
	}
	return ep.Addr.IsValid()
}

// isMAC matches 0011.2233.4455 and 00-11-22-33-44-55.
func isMAC(s string) bool {
	if isMACDotted(s) {
		return true
	}
	if len(s) != 17 {
		return false
	}
	for i := 0; i < 17; i++ {
		if i%3 == 2 {
			if s[i] != '-' && s[i] != ':' {
				return false
			}
		} else if !isHex(s[i]) {
			return false
		}
	}
	return true
}
