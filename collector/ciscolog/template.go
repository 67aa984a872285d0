package ciscolog

import (
	"fmt"
	"strings"
)

// Message formats as small templates. The connection, ACL and NAT messages that make up nearly
// all of a firewall's traffic have hand-written readers (asa.go); the long tail of ids is read
// by templates written in the notation of Cisco's message guide:
//
//	Deny IP spoof from ({src}) to {dst} on interface {sif}
//
// Literal text must appear as written; a {field} takes the text up to the next literal (the
// first occurrence, as Elastic's dissect does) or to the end of the body when it is last. A
// field whose text does not read as its kind (a port that is not a number) fails the template.
// An id may have several templates; the first that matches wins.
//
// A body that matches an id's opening but ends before a later literal of every template is
// taken as cut (Event.Truncated): the mandatory part of the message is missing, and a value
// read up to the end of a cut body may itself be cut.

type fieldKind uint8

const (
	fLit       fieldKind = iota
	fSkip                // {_}: any text
	fSrc                 // address or name of Src
	fDst                 // address or name of Dst
	fSport               // port of Src (number or service name)
	fDport               // port of Dst
	fSrcAP               // Src as addr[/port]
	fDstAP               // Dst as addr[/port]
	fSrcIf               // Src as [iface:]addr[/port][(user)][ (mapped/port)][(user)]
	fDstIf               // Dst likewise
	fSif                 // Src interface name
	fDif                 // Dst interface name
	fUser                // Event.User (quotes trimmed)
	fGroup               // Event.Group
	fProto               // protocol word (must be known)
	fProtoOpt            // protocol word, ignored when unknown (RTP, RTCP)
	fReason              // Event.Reason
	fACL                 // Event.ACL
	fBytes               // Event.Bytes
	fDur                 // Event.Duration from h:mm:ss
	fConn                // Event.ConnID
	fICMPType            // Event.ICMPType
	fICMPCode            // Event.ICMPCode
	fDir                 // inbound / outbound
	fVerb                // permitted / est-allowed / denied: sets the action
	fAuth                // Succeeded / Failed (any case): login or login-failed
	fMAC                 // Event.MAC
	fSrcAt               // [user@]addr[(...)] (304001)
	fSrcMapped           // Src.MappedAddr from a bare address (an assigned VPN address)
	fRuleID              // Event.RuleID
	fProtoLast           // the last word of the text is the protocol (`permitted black listed TCP`)
	fSrcCP               // Src as addr:port, split at the last ':' (IPv6 allowed)
	fDstCP               // Dst likewise
	fUserWord            // Event.User, one word: the short form of a format that has a longer one
	fSrcBytes            // Event.SrcBytes (the bytes Src sent); Bytes becomes the sum
	fDstBytes            // Event.DstBytes
)

var fieldNames = map[string]fieldKind{
	"_": fSkip, "src": fSrc, "dst": fDst, "sport": fSport, "dport": fDport,
	"srcap": fSrcAP, "dstap": fDstAP, "srcif": fSrcIf, "dstif": fDstIf, "sif": fSif, "dif": fDif,
	"user": fUser, "group": fGroup, "proto": fProto, "proto?": fProtoOpt, "reason": fReason,
	"acl": fACL, "bytes": fBytes, "dur": fDur, "conn": fConn, "icmpt": fICMPType, "icmpc": fICMPCode,
	"dir": fDir, "verb": fVerb, "auth": fAuth, "mac": fMAC, "srcat": fSrcAt, "assigned": fSrcMapped,
	"rule": fRuleID, "protolast": fProtoLast, "srccp": fSrcCP, "dstcp": fDstCP, "userword": fUserWord,
	"sbytes": fSrcBytes, "dbytes": fDstBytes,
}

type seg struct {
	lit  string
	kind fieldKind
}

type tmpl struct{ segs []seg }

// spec is how one id (or IOS mnemonic) is read.
type spec struct {
	pats   []tmpl
	action Action
	proto  Proto     // set when the message implies it (106013: ICMP)
	dir    Direction // likewise
	vpn    bool      // the body may start with `Group <G> User <U> IP <A> ` (or without brackets)
	post   func(ev *Event)
}

// compile turns the notation into segments. It panics on a malformed template (they are
// constants of this package; a test compiles them all).
func compile(p string) tmpl {
	var t tmpl
	for p != "" {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			t.segs = append(t.segs, seg{lit: p})
			break
		}
		if i > 0 {
			t.segs = append(t.segs, seg{lit: p[:i]})
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			panic("ciscolog: unclosed field in template " + p)
		}
		k, ok := fieldNames[p[i+1:i+j]]
		if !ok {
			panic(fmt.Sprintf("ciscolog: unknown field %q in template %s", p[i+1:i+j], p))
		}
		if n := len(t.segs); n > 0 && t.segs[n-1].kind != fLit {
			panic("ciscolog: two fields without a literal between them in " + p)
		}
		t.segs = append(t.segs, seg{kind: k})
		p = p[i+j+1:]
	}
	return t
}

func mk(action Action, pats ...string) *spec {
	s := &spec{action: action}
	for _, p := range pats {
		s.pats = append(s.pats, compile(p))
	}
	return s
}

// result of one template match.
type matchResult uint8

const (
	matchFail matchResult = iota
	matchOK
	matchCut // the body ended before a literal after the opening: the line was cut
)

// match reads s into ev with t. ev's typed fields must be clear on entry; on failure they may
// hold part of the message (the caller clears them).
func (t *tmpl) match(s string, ev *Event) matchResult {
	if n := len(t.segs); n > 0 && t.segs[n-1].kind == fLit && !strings.HasSuffix(t.segs[n-1].lit, ".") {
		s = strings.TrimSuffix(s, ".") // a sentence's full stop is optional
	}
	pos := 0
	for i := range t.segs {
		sg := &t.segs[i]
		if sg.kind == fLit {
			if !strings.HasPrefix(s[pos:], sg.lit) {
				if i > 0 && strings.HasPrefix(sg.lit, s[pos:]) {
					return matchCut // cut inside the literal
				}
				return matchFail
			}
			pos += len(sg.lit)
			continue
		}
		var val string
		if i+1 < len(t.segs) {
			next := t.segs[i+1].lit
			k := strings.Index(s[pos:], next)
			if i+2 == len(t.segs) {
				// The template ends with this literal: the body must end with it (`to {dst}.`
				// must not stop at the first dot of the address).
				k = -1
				if strings.HasSuffix(s, next) && len(s)-len(next) >= pos {
					k = len(s) - len(next) - pos
				}
			}
			if k < 0 {
				if i > 0 && !t.laterLiteral(i+2, s[pos:]) {
					// The body ended before the literal and nothing after it in the format
					// appears either: it was cut, not worded differently.
					return matchCut
				}
				return matchFail
			}
			val = s[pos : pos+k]
			pos += k
		} else {
			val = s[pos:]
			pos = len(s)
		}
		if !setField(ev, sg.kind, val) {
			return matchFail
		}
	}
	return matchOK
}

// laterLiteral reports whether a literal of t from segment i on occurs in s.
func (t *tmpl) laterLiteral(i int, s string) bool {
	for ; i < len(t.segs); i++ {
		if t.segs[i].kind == fLit && strings.Contains(s, t.segs[i].lit) {
			return true
		}
	}
	return false
}

func setField(ev *Event, k fieldKind, v string) bool {
	switch k {
	case fSkip:
	case fSrc, fDst:
		v = strings.TrimSpace(v)
		if v == "" {
			return false
		}
		ep := &ev.Src
		if k == fDst {
			ep = &ev.Dst
		}
		setAddr(ep, v)
	case fSport, fDport:
		p, ok := parsePort(strings.TrimSpace(v))
		if !ok {
			return false
		}
		if k == fSport {
			ev.Src.Port = p
		} else {
			ev.Dst.Port = p
		}
	case fSrcAP, fDstAP:
		if v == "" {
			return false
		}
		ep := &ev.Src
		if k == fDstAP {
			ep = &ev.Dst
		}
		addrPort(ep, v)
	case fSrcIf, fDstIf:
		if v == "" {
			return false
		}
		ep := &ev.Src
		if k == fDstIf {
			ep = &ev.Dst
		}
		rest := endpoint(ep, v, true, true)
		if !parensClosed(rest) {
			return false
		}
	case fSif:
		ev.Src.Iface = trimRight(v)
	case fDif:
		ev.Dst.Iface = trimRight(v)
	case fUser:
		ev.User = strings.Trim(v, ` '"`)
	case fUserWord:
		if v == "" || strings.IndexByte(v, ' ') >= 0 {
			return false
		}
		ev.User = strings.Trim(v, `'"`)
	case fGroup:
		ev.Group = strings.Trim(v, ` '"`)
	case fProto:
		return setProto(ev, v)
	case fProtoOpt:
		setProto(ev, v)
	case fReason:
		ev.Reason = strings.TrimSpace(v)
	case fACL:
		ev.ACL = strings.Trim(v, ` "`)
	case fBytes:
		n, rest, ok := uintAt(v)
		if !ok || rest != "" {
			return false
		}
		ev.Bytes = n
	case fDur:
		d, rest, ok := parseDuration(v)
		if !ok || rest != "" {
			return false
		}
		ev.Duration = d
	case fSrcBytes, fDstBytes:
		n, rest, ok := uintAt(v)
		if !ok || rest != "" {
			return false
		}
		if k == fSrcBytes {
			ev.SrcBytes = n
		} else {
			ev.DstBytes = n
		}
		ev.Bytes = ev.SrcBytes + ev.DstBytes
	case fConn:
		n, rest, ok := uintAt(v)
		if !ok || rest != "" {
			return false
		}
		ev.ConnID = n
	case fICMPType, fICMPCode:
		n, rest, ok := uintAt(v)
		if !ok || rest != "" || n > 255 {
			return false
		}
		if k == fICMPType {
			ev.ICMPType = int16(n)
		} else {
			ev.ICMPCode = int16(n)
		}
	case fDir:
		switch v {
		case "inbound", "Inbound":
			ev.Direction = DirectionInbound
		case "outbound", "Outbound":
			ev.Direction = DirectionOutbound
		default:
			return false
		}
	case fVerb:
		switch v {
		case "permitted", "est-allowed":
			ev.Action = ActionPermit
		case "denied":
			ev.Action = ActionDeny
		default:
			return false
		}
	case fAuth:
		switch strings.ToLower(strings.TrimSpace(strings.TrimSuffix(v, "."))) {
		case "succeeded", "success", "successful":
			ev.Action = ActionLogin
		case "failed", "failure", "rejected":
			ev.Action = ActionLoginFailed
		default:
			return false
		}
	case fMAC:
		ev.MAC = strings.TrimSpace(v)
	case fSrcAt:
		v = strings.TrimSpace(v)
		if i := strings.IndexByte(v, '('); i > 0 {
			v = v[:i]
		}
		if u, a, ok := strings.Cut(v, "@"); ok {
			ev.User, v = u, a
		}
		if v == "" {
			return false
		}
		setAddr(&ev.Src, v)
	case fSrcMapped:
		a, ok := parseAddr(strings.TrimSpace(v))
		if !ok {
			return false
		}
		ev.Src.MappedAddr = a
	case fRuleID:
		ev.RuleID = strings.TrimSpace(v)
	case fProtoLast:
		if i := strings.LastIndexByte(v, ' '); i >= 0 {
			v = v[i+1:]
		}
		return setProto(ev, v)
	case fSrcCP, fDstCP:
		ep := &ev.Src
		if k == fDstCP {
			ep = &ev.Dst
		}
		i := strings.LastIndexByte(v, ':')
		if i <= 0 {
			return false
		}
		p, ok := parsePort(v[i+1:])
		if !ok {
			return false
		}
		setAddr(ep, v[:i])
		ep.Port = p
	}
	return true
}

// run reads body with the spec: it reports whether a template matched; when none did and at
// least one found the body cut, ev.Truncated is set.
func (sp *spec) run(body string, ev *Event) bool {
	if sp.vpn {
		body = vpnPrefix(body, ev)
	}
	cut := false
	for i := range sp.pats {
		if i > 0 {
			keep := *ev
			ev.clearBody()
			if sp.vpn { // the prefix fields stay
				ev.Group, ev.User, ev.Src.Addr, ev.Src.Name = keep.Group, keep.User, keep.Src.Addr, keep.Src.Name
			}
		}
		switch sp.pats[i].match(body, ev) {
		case matchOK:
			if ev.Action == ActionNone {
				ev.Action = sp.action
			}
			if sp.proto != 0 && !ev.HasProto {
				ev.Proto, ev.HasProto = sp.proto, true
			}
			if sp.dir != DirectionUnknown {
				ev.Direction = sp.dir
			}
			if ev.Src.Addr.IsValid() || ev.Src.Name != "" {
				ev.Initiator = SideSrc
			}
			if sp.post != nil {
				sp.post(ev)
			}
			return true
		case matchCut:
			cut = true
		}
	}
	if len(sp.pats) == 0 && sp.vpn && ev.User != "" { // the prefix is the whole format
		ev.Action = sp.action
		ev.Reason = strings.TrimSuffix(strings.TrimSpace(body), ".")
		if ev.Src.Addr.IsValid() {
			ev.Initiator = SideSrc
		}
		if sp.post != nil {
			sp.post(ev)
		}
		return true
	}
	if cut {
		ev.Truncated = true
	}
	return false
}

// vpnPrefix reads `Group <G> User <U> IP <A> ` (WebVPN and AnyConnect; also without the angle
// brackets) into ev and returns the rest of the body; s unchanged when it has no such prefix.
func vpnPrefix(s string, ev *Event) string {
	g, rest, ok := vpnField(s, "Group ")
	if !ok {
		return s
	}
	if !strings.HasPrefix(rest, "User ") {
		// A bracketless group name may contain spaces.
		all := s[len("Group "):]
		k := strings.Index(all, " User ")
		if k < 0 {
			return s
		}
		g, rest = all[:k], all[k+1:]
	}
	var u string
	if strings.HasPrefix(rest, "User IP <") {
		// `Group <G> User IP <A>`: the ASA had no user name for the session (716059).
		rest = rest[len("User "):]
	} else if u, rest, ok = vpnField(rest, "User "); !ok {
		return s
	}
	ip, rest, ok := vpnField(rest, "IP ")
	if !ok {
		return s
	}
	ev.Group, ev.User = strings.TrimSpace(g), u
	setAddr(&ev.Src, ip)
	return rest
}

// asaTemplate types an ASA id read by templates. It reports whether the id is one it knows.
func asaTemplate(body string, ev *Event) bool {
	sp := asaSpecs[ev.MsgID]
	if sp == nil {
		switch {
		case ev.MsgID >= 400000 && ev.MsgID <= 400099:
			sp = ipsSpec
		case ev.MsgID >= 713000 && ev.MsgID <= 713999:
			sp = ikeSpec
			if !strings.HasPrefix(body, "Group = ") && !strings.HasPrefix(body, "IP = ") {
				sp = ikeTextSpec
			}
		case ev.MsgID >= 722000 && ev.MsgID <= 722999:
			sp = svcSpec
		case ev.MsgID >= 737000 && ev.MsgID <= 737999:
			sp = ipaaSpec
		case ev.MsgID >= 750000 && ev.MsgID <= 751999:
			sp = ikev2Spec
		case ev.MsgID >= 430001 && ev.MsgID <= 430005:
			finishBody(ev, ftdEvent(body, ev))
			return true
		default:
			return false
		}
	}
	finishBody(ev, sp.run(body, ev))
	return true
}
