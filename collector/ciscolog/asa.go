package ciscolog

import "strings"

// parseASA fills the typed fields of the ASA messages we know. On a body it cannot read it
// leaves the event at KindHeader with the typed fields cleared. It reports whether the id is
// one it types.
func parseASA(body string, ev *Event) bool {
	var ok bool
	switch ev.MsgID {
	case 302013, 302015, 302035: // TCP, UDP, SCTP
		ok = asaBuilt(body, ev)
	case 302014, 302016, 302036:
		ok = asaTeardown(body, ev)
	case 302020, 302021:
		ok = asaICMPConn(body, ev)
	case 106023:
		ok = asaDenySrcDst(body, ev, false)
	case 106010, 106014:
		ok = asaDenySrcDst(body, ev, true)
	case 106100:
		ok = asa106100(body, ev)
	case 305011, 305012:
		ok = asaXlate(body, ev)
	case 106001:
		ok = asa106001(body, ev)
	case 106006, 106007:
		ok = asaDenyInbound(body, ev)
	case 106015:
		ok = asa106015(body, ev)
	case 106021:
		ok = asa106021(body, ev)
	case 313001, 313004:
		ok = asaDeniedICMP(body, ev)
	case 313005:
		ok = asa313005(body, ev)
	case 710003, 710005:
		ok = asa7100xx(body, ev)
	case 605004, 605005:
		ok = asaLogin(body, ev)
	case 113004, 113005:
		ok = asaAAA(body, ev)
	case 113019:
		ok = asa113019(body, ev)
	case 722022, 722023, 722051, 716001, 716002:
		ok = asaVPN(body, ev)
	case 733100:
		ok = asa733100(body, ev)
	case 111008:
		ok = asa111008(body, ev)
	default:
		if !asaTemplate(body, ev) {
			return false
		}
		return true
	}
	finishBody(ev, ok)
	return true
}

// finishBody makes the event typed when its body was read whole, and header-only otherwise.
func finishBody(ev *Event, ok bool) {
	if ok && !ev.Truncated {
		ev.Kind = KindTyped
	} else {
		ev.clearBody()
	}
}

// clearBody undoes a partial body parse.
func (e *Event) clearBody() {
	e.Action, e.Proto, e.HasProto = ActionNone, 0, false
	e.Src, e.Dst = Endpoint{}, Endpoint{}
	e.Direction, e.Initiator = DirectionUnknown, SideUnknown
	e.Bytes, e.Duration, e.ConnID = 0, 0, 0
	e.ACL, e.User, e.Reason = "", "", ""
	e.ICMPType, e.ICMPCode = -1, -1
	e.Group, e.RuleID, e.MAC, e.SrcBytes, e.DstBytes = "", "", "", 0, 0
}

// truncated marks the event as cut and returns false, for a parser's failure path.
func truncated(ev *Event) bool {
	ev.Truncated = true
	return false
}

func direction(s string) (Direction, bool) {
	switch s {
	case "inbound":
		return DirectionInbound, true
	case "outbound":
		return DirectionOutbound, true
	}
	return DirectionUnknown, false
}

// asaBuilt: Built {inbound|outbound} {TCP|UDP} connection ID for A (mA)[(id)] to B (mB)[(id)] [(user)]
func asaBuilt(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "Built ")
	if !ok {
		return false
	}
	d, s := word(s)
	if ev.Direction, ok = direction(d); !ok {
		return false
	}
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	s, ok = strings.CutPrefix(s, "connection ")
	if !ok {
		return false
	}
	id, s, ok := uintAt(s)
	if !ok {
		return false
	}
	ev.ConnID = id
	s, ok = strings.CutPrefix(s, " for ")
	if !ok {
		return false
	}
	b, ok := plainEndpoint(&ev.Src, s, " to ", false, true)
	if !ok {
		var a string
		if a, b, ok = cut(s, " to "); !ok {
			return truncated(ev)
		}
		endpoint(&ev.Src, a, true, true)
	}
	rest := endpoint(&ev.Dst, b, true, true)
	// The mapped slot after each endpoint is mandatory: without it the line was cut inside
	// the destination (its port may be a prefix of the real one).
	if (!ev.Dst.MappedAddr.IsValid() && ev.Dst.MappedPort == 0) || !parensClosed(rest) {
		return truncated(ev)
	}
	trailingUser(ev, rest)
	ev.Action = ActionBuilt
	if ev.Direction == DirectionOutbound {
		ev.Initiator = SideDst
	} else {
		ev.Initiator = SideSrc
	}
	return true
}

// asaTeardown: Teardown {TCP|UDP} connection ID for A[(id)][ user] to B[(id)][ user]
// duration H:MM:SS bytes N [reason [from iface]] [(user)]
func asaTeardown(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "Teardown ")
	if !ok {
		return false
	}
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	s, ok = strings.CutPrefix(s, "connection ")
	if !ok {
		return false
	}
	id, s, ok := uintAt(s)
	if !ok {
		return false
	}
	ev.ConnID = id
	s, ok = strings.CutPrefix(s, " for ")
	if !ok {
		return false
	}
	var tail string
	if rest, ok := plainEndpoint(&ev.Src, s, " to ", false, false); ok {
		if tail, ok = plainEndpoint(&ev.Dst, rest, " duration ", false, false); !ok {
			var b string
			if b, tail, ok = cut(rest, " duration "); !ok {
				return truncated(ev)
			}
			looseUser(&ev.Dst, endpoint(&ev.Dst, b, true, false))
		}
	} else {
		a, s, ok := cut(s, " to ")
		if !ok {
			return truncated(ev)
		}
		b, t, ok := cut(s, " duration ")
		if !ok {
			return truncated(ev)
		}
		looseUser(&ev.Src, endpoint(&ev.Src, a, true, false))
		looseUser(&ev.Dst, endpoint(&ev.Dst, b, true, false))
		tail = t
	}
	ev.Duration, tail, ok = parseDuration(tail)
	if !ok {
		return truncated(ev)
	}
	tail, ok = strings.CutPrefix(tail, " bytes ")
	if !ok {
		return truncated(ev)
	}
	ev.Bytes, tail, ok = uintAt(tail)
	if !ok {
		return truncated(ev)
	}
	tail = strings.TrimLeft(trimRight(tail), " ")
	// The reason is optional in the format (`bytes N [reason] [(user)]`), so a line cut inside
	// the byte count cannot be told from a whole one; a cut inside the user can.
	if !parensClosed(tail) {
		return truncated(ev)
	}
	if n := len(tail); n > 0 && tail[n-1] == ')' {
		if k := strings.LastIndexByte(tail, '('); k >= 0 {
			ev.User = tail[k+1 : n-1]
			tail = trimRight(tail[:k])
		}
	}
	if r, _, ok := cut(tail, " from "); ok {
		tail = r
	}
	ev.Reason = tail
	ev.Action = ActionTeardown
	return true
}

// looseUser takes the old ` user1` form that follows an endpoint.
func looseUser(ep *Endpoint, rest string) {
	rest = strings.TrimLeft(rest, " ")
	if rest != "" && ep.User == "" && strings.IndexByte(rest, ' ') < 0 {
		ep.User = rest
	}
}

// asaICMPConn: {Built {inbound|outbound}|Teardown} ICMP connection for faddr F gaddr G laddr L
// [(user)] [type T code C]. Both put laddr (the inside host, mapped to gaddr) in Src and faddr
// in Dst, as Elastic maps them, so that the Built and the Teardown of one flow agree; the
// Built's direction gives the initiator (inbound: faddr, Dst; outbound: laddr, Src).
func asaICMPConn(s string, ev *Event) bool {
	var ok bool
	if s, ok = strings.CutPrefix(s, "Built "); ok {
		var d string
		d, s = word(s)
		if ev.Direction, ok = direction(d); !ok {
			return false
		}
		ev.Action = ActionBuilt
		ev.Initiator = SideSrc
		if ev.Direction == DirectionInbound {
			ev.Initiator = SideDst
		}
	} else if s, ok = strings.CutPrefix(s, "Teardown "); ok {
		ev.Action = ActionTeardown
	} else {
		return false
	}
	p, s := word(s)
	if !strings.EqualFold(p, "ICMP") {
		return false
	}
	s, ok = strings.CutPrefix(s, "connection for faddr ")
	if !ok {
		return false
	}
	f, s, ok := cut(s, " gaddr ")
	if !ok {
		return false
	}
	g, l, ok := cut(s, " laddr ")
	if !ok {
		return false
	}
	var fa, ga, la Endpoint
	endpoint(&fa, f, false, false)
	endpoint(&ga, g, false, false)
	rest := strings.TrimLeft(endpoint(&la, l, false, false), " ")
	if strings.HasPrefix(rest, "(") {
		if u, after, ok := cut(rest[1:], ")"); ok {
			ev.User = u
			rest = after
		}
	}
	icmpTypeCode(ev, rest)
	fa.Port, la.Port = 0, 0 // ICMP ids, not ports
	la.MappedAddr = ga.Addr
	ev.Src, ev.Dst = la, fa
	ev.Proto, ev.HasProto = ProtoICMP, true
	if fa.Addr.Is6() || la.Addr.Is6() {
		ev.Proto = ProtoICMPv6
	}
	return true
}

// asaDenySrcDst: Deny [inbound] PROTO src IF:A[/p][(id)] dst IF:B[/p][(id)] [type..]
// [by access-group "ACL" [hashes]] — 106023 (ACL), 106010 and 106014 (inbound).
func asaDenySrcDst(s string, ev *Event, inbound bool) bool {
	s, ok := strings.CutPrefix(s, "Deny ")
	if !ok {
		return false
	}
	if inbound {
		if s, ok = strings.CutPrefix(s, "inbound "); !ok {
			return false
		}
		ev.Direction = DirectionInbound
	}
	s = strings.TrimPrefix(s, "protocol ")
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	s, ok = strings.CutPrefix(s, "src ")
	if !ok {
		return false
	}
	var acl string
	if rest, ok := plainEndpoint(&ev.Src, s, " dst ", false, false); ok {
		if acl, ok = plainEndpoint(&ev.Dst, rest, " by access-group ", true, false); !ok {
			var b string
			b, acl, _ = cut(rest, " by access-group ")
			icmpTypeCode(ev, endpoint(&ev.Dst, b, true, false))
		}
	} else {
		a, s, ok := cut(s, " dst ")
		if !ok {
			return false
		}
		b, g, _ := cut(s, " by access-group ")
		endpoint(&ev.Src, a, true, false)
		icmpTypeCode(ev, endpoint(&ev.Dst, b, true, false))
		acl = g
	}
	if acl != "" {
		var ok bool
		if ev.ACL, _, ok = quoted(acl); !ok || !bracketsClosed(acl) {
			return truncated(ev)
		}
	} else if !inbound {
		return truncated(ev) // 106023 always names its access-group
	}
	ev.Action = ActionDeny
	if ev.MsgID == 106010 {
		ev.Action = ActionDrop
	}
	ev.Initiator = SideSrc
	return true
}

// asa106100: access-list ACL {permitted|denied|est-allowed} PROTO IF/A(p)[(id)] -> IF/B(p)[(id)]
// hit-cnt N ({first hit|N-second interval}) [hashes]
func asa106100(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "access-list ")
	if !ok {
		return false
	}
	ev.ACL, s = word(s)
	verb, s := word(s)
	switch verb {
	case "permitted", "est-allowed":
		ev.Action = ActionPermit
	case "denied":
		ev.Action = ActionDeny
	default:
		return false
	}
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	a, s, ok := cut(s, " -> ")
	if !ok {
		return false
	}
	b, tail, ok := cut(s, " hit-cnt ")
	if !ok {
		return truncated(ev)
	}
	if !slashEndpoint(&ev.Src, a) || !slashEndpoint(&ev.Dst, b) {
		return false
	}
	n, after, ok := uintAt(tail)
	if !ok || n > 1<<32-1 {
		return truncated(ev)
	}
	if !(strings.Contains(after, "hit") || strings.Contains(after, "interval")) || !parensClosed(after) || !bracketsClosed(after) {
		return truncated(ev) // `(first hit)` or `(300-second interval)` always follows
	}
	if n > 0 {
		ev.Count = uint32(n)
	}
	if ev.Proto == ProtoICMP || ev.Proto == ProtoICMPv6 {
		// For ICMP the port slots hold the type and the code.
		ev.ICMPType, ev.ICMPCode = int16(ev.Src.Port), int16(ev.Dst.Port)
		ev.Src.Port, ev.Dst.Port = 0, 0
	}
	ev.Initiator = SideSrc
	return true
}

// slashEndpoint reads `iface/addr(port)[(identity)]`.
func slashEndpoint(ep *Endpoint, s string) bool {
	k := strings.IndexByte(s, '(')
	if k < 0 {
		return false
	}
	chunk := s[:k]
	j := strings.LastIndexByte(chunk, '/')
	if j < 0 {
		return false
	}
	ep.Iface = chunk[:j]
	setAddr(ep, chunk[j+1:])
	portText, rest, ok := cut(s[k+1:], ")")
	if !ok {
		return false
	}
	if p, ok := parsePort(portText); ok {
		ep.Port = p
	}
	identity(ep, rest)
	return true
}

// asaXlate: {Built|Teardown} {dynamic|static} PROTO translation from IF:real/p[(id)] to
// IF:mapped/p [duration D]. The real side is Src; the mapped address is Src.MappedAddr, and
// the mapped side's interface is Dst.Iface (Dst has no address of its own).
func asaXlate(s string, ev *Event) bool {
	verb, s := word(s)
	switch verb {
	case "Built":
		ev.Action = ActionTranslate
	case "Teardown":
		ev.Action = ActionTranslateEnd
	default:
		return false
	}
	kind, s := word(s)
	if kind != "dynamic" && kind != "static" {
		return false
	}
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	s, ok := strings.CutPrefix(s, "translation from ")
	if !ok {
		return false
	}
	var m Endpoint
	var tail string
	if rest, ok := plainEndpoint(&ev.Src, s, " to ", false, false); ok {
		if tail, ok = plainEndpoint(&m, rest, " duration ", true, false); !ok {
			var b string
			b, tail, _ = cut(rest, " duration ")
			endpoint(&m, b, true, false)
		}
	} else {
		a, s, ok := cut(s, " to ")
		if !ok {
			return false
		}
		b, t, _ := cut(s, " duration ")
		endpoint(&ev.Src, a, true, false)
		endpoint(&m, b, true, false)
		tail = t
	}
	ev.Src.MappedAddr, ev.Src.MappedPort = m.Addr, m.Port
	ev.Dst.Iface = m.Iface
	if m.Name != "" { // a names-feature pool name
		ev.Dst.Name = m.Name
	}
	if tail != "" {
		if ev.Duration, _, ok = parseDuration(tail); !ok {
			return false
		}
	}
	ev.Initiator = SideSrc
	return true
}

// asa106001: Inbound TCP connection denied from A/p to B/p flags F on interface I
func asa106001(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "Inbound ")
	if !ok {
		return false
	}
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	s, ok = strings.CutPrefix(s, "connection denied from ")
	if !ok {
		return false
	}
	if !fromTo(ev, s, " flags ") {
		return false
	}
	ev.Action, ev.Direction = ActionDeny, DirectionInbound
	return true
}

// fromTo reads `A/p to B/p<sep>REASON on interface I` (the reason part when sep is set).
func fromTo(ev *Event, s, sep string) bool {
	a, s, ok := cut(s, " to ")
	if !ok {
		return false
	}
	b, tail := s, ""
	if sep != "" {
		if b, tail, ok = cut(s, sep); !ok {
			return false
		}
	}
	endpoint(&ev.Src, a, false, false)
	rest := endpoint(&ev.Dst, b, false, false)
	if sep == "" {
		tail = rest
	}
	reason, iface, ok := cut(tail, " on interface ")
	if ok {
		ev.Src.Iface = trimRight(iface)
	} else if ev.MsgID != 106007 {
		return truncated(ev) // these messages end with the interface
	}
	reason = strings.TrimSpace(reason)
	if reason != "" {
		ev.Reason = reason
	}
	ev.Initiator = SideSrc
	return true
}

// asaDenyInbound: 106006 `Deny inbound UDP from A/p to B/p on interface I` and
// 106007 `... due to DNS Query`.
func asaDenyInbound(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "Deny inbound ")
	if !ok {
		return false
	}
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	s, ok = strings.CutPrefix(s, "from ")
	if !ok {
		return false
	}
	if ev.MsgID == 106007 {
		if !fromTo(ev, s, " due to ") {
			return false
		}
	} else if !fromTo(ev, s, "") {
		return false
	}
	ev.Reason = strings.TrimSuffix(ev.Reason, ".")
	ev.Action, ev.Direction = ActionDrop, DirectionInbound
	return true
}

// asa106015: Deny TCP (no connection) from A/p to B/p flags F on interface I
func asa106015(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "Deny ")
	if !ok {
		return false
	}
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	s, ok = strings.CutPrefix(s, "(no connection) from ")
	if !ok {
		return false
	}
	if !fromTo(ev, s, " flags ") {
		return false
	}
	ev.Action = ActionDrop
	return true
}

// asa106021: Deny PROTO reverse path check from A to B on interface I
func asa106021(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "Deny ")
	if !ok {
		return false
	}
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	s, ok = strings.CutPrefix(s, "reverse path check from ")
	if !ok {
		return false
	}
	if !fromTo(ev, s, "") {
		return false
	}
	ev.Reason = "reverse path check"
	ev.Action = ActionDrop
	return true
}

// asaDeniedICMP: 313001 `Denied ICMP type=T, code=C from A on interface I` and
// 313004 `Denied ICMP type=T, from laddr A on interface I to B: no matching session`.
func asaDeniedICMP(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "Denied ICMP ")
	if !ok {
		return false
	}
	icmpTypeCode(ev, s)
	_, s, ok = cut(s, "from ")
	if !ok {
		return false
	}
	s = strings.TrimPrefix(s, "laddr ")
	s = strings.TrimPrefix(s, "faddr ")
	a, s, ok := cut(s, " on interface ")
	if !ok {
		return truncated(ev)
	}
	setAddr(&ev.Src, a)
	ev.Proto, ev.HasProto = ProtoICMP, true
	if ev.Src.Addr.Is6() {
		ev.Proto = ProtoICMPv6
	}
	ev.Initiator = SideSrc
	if ev.MsgID == 313001 {
		ev.Src.Iface = s
		ev.Action = ActionDeny
		return true
	}
	iface, s, ok := cut(s, " to ")
	if !ok {
		return false
	}
	ev.Src.Iface = iface
	b, reason, _ := cut(s, ": ")
	setAddr(&ev.Dst, strings.TrimSuffix(b, ":"))
	ev.Reason = reason
	ev.Action = ActionDrop
	return true
}

// asa313005: No matching connection for ICMP error message: icmp src IF:A[(id)] dst IF:B[(id)]
// (type T, code C) on IF interface. Original IP payload: ...
func asa313005(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "No matching connection for ICMP error message: icmp src ")
	if !ok {
		return false
	}
	a, s, ok := cut(s, " dst ")
	if !ok {
		return false
	}
	b, _, ok := cut(s, " interface.")
	if !ok {
		return false
	}
	endpoint(&ev.Src, a, true, false)
	rest := endpoint(&ev.Dst, b, true, false)
	icmpTypeCode(ev, rest)
	ev.Proto, ev.HasProto = ProtoICMP, true
	if ev.Src.Addr.Is6() {
		ev.Proto = ProtoICMPv6
	}
	ev.Reason = "no matching connection"
	ev.Action = ActionDrop
	ev.Initiator = SideSrc
	return true
}

// asa7100xx: 710003 `PROTO access denied by ACL from A/p to IF:B/svc`, 710005 `PROTO request
// discarded from A/p to IF:B/svc`.
func asa7100xx(s string, ev *Event) bool {
	p, s := word(s)
	if !setProto(ev, p) {
		return false
	}
	var ok bool
	if ev.MsgID == 710003 {
		s, ok = strings.CutPrefix(s, "access denied by ACL from ")
		ev.Action = ActionDeny
	} else {
		s, ok = strings.CutPrefix(s, "request discarded from ")
		ev.Action = ActionDrop
	}
	if !ok {
		return false
	}
	a, b, ok := cut(s, " to ")
	if !ok {
		return false
	}
	endpoint(&ev.Src, a, false, false)
	endpoint(&ev.Dst, b, true, false)
	ev.Initiator = SideSrc
	return true
}

// asaLogin: Login {denied|permitted} from A/p to IF:B/svc for user "U"
func asaLogin(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "Login ")
	if !ok {
		return false
	}
	verb, s := word(s)
	switch verb {
	case "denied":
		ev.Action = ActionLoginFailed
	case "permitted":
		ev.Action = ActionLogin
	default:
		return false
	}
	s, ok = strings.CutPrefix(s, "from ")
	if !ok {
		return false
	}
	a, s, ok := cut(s, " to ")
	if !ok {
		return false
	}
	b, u, ok := cut(s, " for user ")
	if !ok {
		return truncated(ev)
	}
	endpoint(&ev.Src, a, false, false)
	endpoint(&ev.Dst, b, true, false)
	if ev.User, _, ok = quoted(u); !ok {
		return truncated(ev) // cut inside the user name
	}
	ev.Initiator = SideSrc
	return true
}

// kv returns the value after key up to the next field, which starts at a ',' or ':' followed
// by `Key = ` (a value may itself hold commas and colons: `user = CN=Smith, John,OU=Staff`).
func kv(s, key string) (string, bool) {
	k := strings.Index(s, key)
	if k < 0 {
		return "", false
	}
	v := s[k+len(key):]
	for i := 0; i < len(v); i++ {
		if (v[i] == ':' || v[i] == ',') && keyFollows(v[i+1:], " = ") {
			return strings.TrimSpace(v[:i]), true
		}
	}
	return strings.TrimSpace(v), true
}

// kvAddr returns the address-like value after key: up to a space or a comma.
func kvAddr(s, key string) (string, bool) {
	k := strings.Index(s, key)
	if k < 0 {
		return "", false
	}
	v := s[k+len(key):]
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' || v[i] == ',' {
			return v[:i], true
		}
	}
	return v, true
}

// keyFollows reports whether s is `[spaces]Key<eq>...` where Key is a short run of letters,
// digits, spaces, '_' or '-' starting with a letter.
func keyFollows(s, eq string) bool {
	i := skipSpaces(s, 0)
	if i >= len(s) || !isAlpha(s[i]) {
		return false
	}
	for j := i; j < len(s) && j-i <= 40; j++ {
		if strings.HasPrefix(s[j:], eq) {
			return true
		}
		if c := s[j]; !(isAlpha(c) || isDigit(c) || c == ' ' || c == '_' || c == '-') {
			return false
		}
	}
	return false
}

// asaAAA: 113004 `AAA user {authentication|authorization|accounting} Successful : server = S :
// user = U` and 113005 `AAA user authentication Rejected : reason = R : server = S : user = U :
// user IP = IP`.
func asaAAA(s string, ev *Event) bool {
	if !strings.HasPrefix(s, "AAA user ") {
		return false
	}
	server, ok := kvAddr(s, "server = ")
	if !ok {
		return false
	}
	setAddr(&ev.Dst, server)
	u, ok := kv(s, "user = ")
	if !ok {
		if u, ok = kv(s, "User = "); !ok {
			return false
		}
	}
	ev.User = u
	if ev.MsgID == 113004 {
		ev.Action = ActionLogin
		return true
	}
	ev.Action = ActionLoginFailed
	ev.Reason, _ = kv(s, "reason = ")
	if ip, ok := kvAddr(s, "user IP = "); ok {
		if a, ok := parseAddr(ip); ok {
			ev.Src.Addr = a
		}
	}
	ev.Initiator = SideSrc
	return true
}

// asa113019: Group = G, Username = U, IP = A, Session disconnected. Session Type: T,
// Duration: 0h:32m:16s, Bytes xmt: N, Bytes rcv: M, Reason: R
func asa113019(s string, ev *Event) bool {
	if !strings.HasPrefix(s, "Group = ") {
		return false
	}
	u, ok := kv(s, "Username = ")
	if !ok {
		return false
	}
	ev.User = u
	if ip, ok := kvAddr(s, " IP = "); ok {
		setAddr(&ev.Src, ip)
	}
	if g, ok := kv(s, "Group = "); ok {
		ev.Group = g
	}
	if _, rest, ok := cut(s, "Duration: "); ok {
		d, _, _ := cut(rest, ",")
		if dur, ok := parseHMS(d); ok {
			ev.Duration = dur
		}
	}
	// xmt is what the ASA sent to the client, rcv what it received from it (Elastic maps them
	// to source.bytes and destination.bytes in that order; so do we).
	for i, key := range [...]string{"Bytes xmt: ", "Bytes rcv: "} {
		if _, rest, ok := cut(s, key); ok {
			if n, _, ok := uintAt(rest); ok {
				if i == 0 {
					ev.SrcBytes = n
				} else {
					ev.DstBytes = n
				}
			}
		}
	}
	ev.Bytes = ev.SrcBytes + ev.DstBytes
	if _, r, ok := cut(s, "Reason: "); ok {
		ev.Reason = trimRight(r)
	}
	ev.Action = ActionSessionEnd
	return true
}

// vpnField reads `Key <value>` or `Key value` at the start of s.
func vpnField(s, key string) (string, string, bool) {
	s, ok := strings.CutPrefix(s, key)
	if !ok {
		return "", s, false
	}
	if strings.HasPrefix(s, "<") {
		v, rest, ok := cut(s[1:], ">")
		return v, strings.TrimPrefix(rest, " "), ok
	}
	v, rest := word(s)
	return v, rest, true
}

// asaVPN: Group G User U IP A ... (722022, 722023, 722051, 716001, 716002), with or without
// angle brackets around the values.
func asaVPN(s string, ev *Event) bool {
	_, s, ok := vpnField(s, "Group ")
	if !ok {
		return false
	}
	// A bracketless group name may contain spaces: find " User ".
	if !strings.HasPrefix(s, "User ") {
		k := strings.Index(s, " User ")
		if k < 0 {
			return false
		}
		s = s[k+1:]
	}
	if ev.User, s, ok = vpnField(s, "User "); !ok {
		return false
	}
	ip, s, ok := vpnField(s, "IP ")
	if !ok {
		return false
	}
	setAddr(&ev.Src, ip)
	switch ev.MsgID {
	case 722022, 722023:
		p, rest := word(s)
		if !setProto(ev, p) || !strings.HasPrefix(rest, "SVC connection ") {
			return false
		}
		ev.Action = ActionSessionStart
		if ev.MsgID == 722023 {
			ev.Action = ActionSessionEnd
		}
	case 722051:
		v4, _, ok := vpnField(s, "IPv4 Address ")
		if !ok {
			return false
		}
		if a, ok := parseAddr(v4); ok {
			ev.Src.MappedAddr = a
		}
		ev.Action = ActionSessionStart
	case 716001:
		if !strings.HasPrefix(s, "WebVPN session started") {
			return false
		}
		ev.Action = ActionSessionStart
	case 716002:
		r, ok := strings.CutPrefix(s, "WebVPN session terminated")
		if !ok {
			return false
		}
		r = strings.TrimPrefix(r, ":")
		ev.Reason = strings.TrimSuffix(strings.TrimSpace(r), ".")
		ev.Action = ActionSessionEnd
	}
	return true
}

// asa733100: [ object] drop rate-N exceeded. ... Cumulative total count is N
func asa733100(s string, ev *Event) bool {
	if !strings.HasPrefix(s, "[") {
		return false
	}
	obj, rest, ok := cut(s[1:], "]")
	if !ok || !strings.HasPrefix(rest, " drop rate-") {
		return false
	}
	obj = strings.TrimSpace(obj)
	if a, ok := parseAddr(obj); ok {
		ev.Src.Addr = a
	}
	ev.Reason = obj
	ev.Action = ActionThreat
	return true
}

// asa111008: User 'U' executed the 'CMD' command.
func asa111008(s string, ev *Event) bool {
	s, ok := strings.CutPrefix(s, "User '")
	if !ok {
		return false
	}
	u, s, ok := cut(s, "' executed the '")
	if !ok {
		return truncated(ev)
	}
	k := strings.LastIndex(s, "' command")
	if k < 0 {
		return truncated(ev)
	}
	ev.User, ev.Reason = u, s[:k]
	ev.Action = ActionConfig
	return true
}
