package ciscolog

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// UnparsedTag is the tag AppendECS puts on events it could not parse.
const UnparsedTag = "firebreak_unparsed"

// TruncatedTag is the tag AppendECS puts on events whose frame was cut (Event.Truncated).
const TruncatedTag = "firebreak_truncated"

// AppendECS appends ev as one JSON object (no trailing newline) with Elastic Common Schema
// field names as Elastic's Cisco ASA and IOS integrations use them, as flat dotted keys
// (Elasticsearch ingest expands them). Fields the event does not have are left out. It
// allocates nothing when dst has room.
//
// Source and destination follow the message's own order, as Elastic's do (`for A to B` gives
// source A); the connection's initiator is not reflected in them.
func AppendECS(dst []byte, ev *Event) []byte {
	w := ecsWriter{b: append(dst, '{')}
	if !ev.Time.IsZero() {
		w.key("@timestamp")
		w.b = append(w.b, '"')
		w.b = appendTimestamp(w.b, ev.Time)
		w.b = append(w.b, '"')
	}
	w.str("ecs.version", ECSVersion)
	msg := ev.Text
	if ev.Kind == KindUnparsed {
		msg = trimRight(ev.Raw)
	}
	w.str("message", msg)
	w.str("event.original", ev.Raw)
	typed := ev.Kind == KindTyped
	if typed && ev.Action == ActionAlert {
		w.str("event.kind", "alert")
	} else {
		w.str("event.kind", "event")
	}
	if cat, typ := ecsCategory(ev); cat != "" {
		w.key("event.category")
		w.b = append(w.b, cat...)
		if typ != "" {
			w.key("event.type")
			w.b = append(w.b, typ...)
		}
	}
	asa := ev.Family == FamilyASA
	switch ev.Family {
	case FamilyASA:
		w.uint("event.code", uint64(ev.MsgID), true)
	case FamilyIOS:
		w.str("event.code", ev.Mnemonic)
	}
	if typed {
		w.str("event.action", ecsAction(ev))
		w.str("event.outcome", ecsOutcome(ev.Action))
	}
	if ev.Reason != "" {
		w.str("event.reason", ev.Reason)
	}
	if ev.Duration > 0 || (ev.Kind == KindTyped && (ev.Action == ActionTeardown || ev.Action == ActionTranslateEnd)) {
		w.int("event.duration", int64(ev.Duration))
	}
	if ev.Seq > 0 {
		w.uint("event.sequence", uint64(ev.Seq), false)
	}
	if ev.Severity >= 0 {
		w.int("event.severity", int64(ev.Severity))
		w.int("log.syslog.severity.code", int64(ev.Severity))
		w.str("log.level", logLevels[ev.Severity&7])
	}
	if ev.Priority >= 0 {
		w.int("log.syslog.priority", int64(ev.Priority))
		w.int("log.syslog.facility.code", int64(ev.Priority>>3))
	}
	w.str("observer.hostname", ev.Host)
	if ev.Sender.IsValid() {
		w.addr("log.source.address", ev.Sender)
	}
	if ev.Family != FamilyUnknown {
		w.str("observer.vendor", "Cisco")
		if asa {
			w.str("observer.product", ecsProduct(ev.Facility))
			w.str("observer.type", "firewall")
		} else {
			w.str("observer.product", "ios")
		}
	}
	w.endpoint(&srcKeys, &ev.Src)
	w.endpoint(&dstKeys, &ev.Dst)
	w.str("source.mac", ev.MAC)
	if ev.SrcBytes > 0 || ev.DstBytes > 0 {
		w.uint("source.bytes", ev.SrcBytes, false)
		w.uint("destination.bytes", ev.DstBytes, false)
	}
	if ev.Group != "" && (ev.User != "" || ev.Src.Addr.IsValid()) {
		w.str("source.user.group.name", ev.Group)
	}
	if asa && (ev.Action == ActionTranslate || ev.Action == ActionTranslateEnd) {
		// Elastic writes a translation as source=real, destination=mapped.
		if ev.Src.MappedAddr.IsValid() {
			w.addr("destination.ip", ev.Src.MappedAddr)
			if ev.Src.MappedPort != 0 {
				w.uint("destination.port", uint64(ev.Src.MappedPort), false)
			}
		}
	} else {
		w.nat(&srcKeys, &ev.Src)
		w.nat(&dstKeys, &ev.Dst)
	}
	if ev.HasProto {
		if name := protoName(ev.Proto); name != "" {
			w.str("network.transport", name)
		}
		w.uint("network.iana_number", uint64(ev.Proto), true)
	}
	if ev.Src.Addr.IsValid() || ev.Dst.Addr.IsValid() {
		a := ev.Src.Addr
		if !a.IsValid() {
			a = ev.Dst.Addr
		}
		if a.Is4() || a.Is4In6() {
			w.str("network.type", "ipv4")
		} else {
			w.str("network.type", "ipv6")
		}
	}
	w.str("network.direction", ev.Direction.String())
	if ev.Bytes > 0 || (ev.Kind == KindTyped && ev.Action == ActionTeardown && ev.HasProto) {
		w.uint("network.bytes", ev.Bytes, false)
	}
	if ev.Family == FamilyIOS && ev.Kind == KindTyped && ev.Action != ActionRateLimit && strings.Contains(ev.Mnemonic, "ACCESSLOG") {
		// The access-list logs count packets; other IOS messages count nothing.
		w.uint("network.packets", uint64(ev.Count), false)
	}
	if asa {
		w.str("observer.ingress.interface.name", ev.Src.Iface)
		w.str("observer.egress.interface.name", ev.Dst.Iface)
	} else {
		w.str("observer.ingress.interface.name", ev.Src.Iface)
	}
	w.str("rule.name", ev.ACL)
	w.str("rule.id", ev.RuleID)
	w.str("user.name", ev.User)
	if d := userDomain(ev.User); d != "" {
		w.str("user.domain", d)
	}
	w.related(ev)
	if asa {
		w.uint("cisco.asa.message_id", uint64(ev.MsgID), true)
		w.str("cisco.asa.suffix", ev.Class)
		if ev.ConnID > 0 {
			w.uint("cisco.asa.connection_id", ev.ConnID, true)
		}
		w.str("cisco.asa.source_interface", ev.Src.Iface)
		w.str("cisco.asa.destination_interface", ev.Dst.Iface)
		w.str("cisco.asa.rule_name", ev.ACL)
		w.str("cisco.asa.source_username", ev.Src.User)
		w.str("cisco.asa.destination_username", ev.Dst.User)
		if ev.Action != ActionTranslate && ev.Action != ActionTranslateEnd {
			w.mapped(&srcKeys, &ev.Src)
			w.mapped(&dstKeys, &ev.Dst)
		}
		if ev.ICMPType >= 0 {
			w.int("cisco.asa.icmp_type", int64(ev.ICMPType))
		}
		if ev.ICMPCode >= 0 {
			w.int("cisco.asa.icmp_code", int64(ev.ICMPCode))
		}
		if ev.MsgID == 106100 && ev.Kind == KindTyped {
			w.uint("cisco.asa.hit_count", uint64(ev.Count), false)
		}
	} else if ev.Family == FamilyIOS {
		w.str("cisco.ios.facility", ev.Facility)
		w.str("cisco.ios.access_list", ev.ACL)
		if ev.ICMPType >= 0 {
			w.uint("icmp.type", uint64(ev.ICMPType), true)
		}
		if ev.ICMPCode >= 0 {
			w.uint("icmp.code", uint64(ev.ICMPCode), true)
		}
	}
	switch {
	case ev.Kind == KindUnparsed:
		w.key("tags")
		w.b = append(w.b, `["`+UnparsedTag+`"]`...)
	case ev.Truncated:
		w.key("tags")
		w.b = append(w.b, `["`+TruncatedTag+`"]`...)
	}
	return append(w.b, '}')
}

// ECSVersion is the Elastic Common Schema version AppendECS writes (ecs.version), the one of
// Elastic's cisco_asa integration whose field names it follows.
const ECSVersion = "8.11.0"

var logLevels = [8]string{"emergency", "alert", "critical", "error", "warning", "notification", "informational", "debug"}

// ecsCategory returns event.category and event.type as JSON arrays, by what the message
// reports, as Elastic's pipelines categorise the same ids.
func ecsCategory(ev *Event) (cat, typ string) {
	if ev.Kind != KindTyped {
		if ev.Family == FamilyASA {
			return `["network"]`, ""
		}
		return "", ""
	}
	switch ev.Action {
	case ActionBuilt:
		return `["network"]`, `["connection","start"]`
	case ActionTeardown:
		return `["network"]`, `["connection","end"]`
	case ActionDeny, ActionDrop:
		return `["network"]`, `["connection","denied"]`
	case ActionPermit:
		return `["network"]`, `["connection","allowed"]`
	case ActionTranslate:
		return `["network","configuration"]`, `["creation"]`
	case ActionTranslateEnd:
		return `["network","configuration"]`, `["deletion"]`
	case ActionLogin:
		return `["authentication","network"]`, `["allowed","info"]`
	case ActionLoginFailed:
		return `["authentication","network"]`, `["denied","info"]`
	case ActionLogout:
		return `["authentication","network"]`, `["end"]`
	case ActionSessionStart:
		return `["network","session"]`, `["connection","start"]`
	case ActionSessionEnd:
		return `["network","session"]`, `["connection","end"]`
	case ActionThreat, ActionAlert:
		return `["intrusion_detection","network"]`, `["info"]`
	case ActionConfig:
		return `["configuration"]`, `["change"]`
	case ActionAccess:
		return `["network"]`, `["access","allowed"]`
	}
	return `["network"]`, `["info"]` // rate-limit, state change, info
}

// userDomain returns the domain of `DOM\user`, `LOCAL\DOM\user` or `user@dom`.
func userDomain(u string) string {
	if i := strings.LastIndexByte(u, '\\'); i > 0 {
		d := u[:i]
		if j := strings.LastIndexByte(d, '\\'); j >= 0 {
			d = d[j+1:]
		}
		if d == "LOCAL" {
			return ""
		}
		return d
	}
	if i := strings.LastIndexByte(u, '@'); i > 0 && i < len(u)-1 {
		return u[i+1:]
	}
	return ""
}

func ecsProduct(fac string) string {
	switch fac {
	case "FTD":
		return "ftd"
	case "PIX":
		return "pix"
	case "FWSM":
		return "fwsm"
	case "NGIPS":
		return "ngips"
	}
	return "asa"
}

// ecsAction names the event as Elastic's Cisco pipelines do.
func ecsAction(ev *Event) string {
	switch ev.Action {
	case ActionBuilt:
		return "flow-creation"
	case ActionTeardown:
		return "flow-expiration"
	case ActionDeny, ActionPermit, ActionDrop, ActionTranslate, ActionTranslateEnd:
		return "firewall-rule"
	}
	return ev.Action.String()
}

func ecsOutcome(a Action) string {
	switch a {
	case ActionDeny, ActionDrop, ActionLoginFailed:
		return "failure"
	case ActionThreat, ActionRateLimit, ActionAlert:
		return "unknown"
	case ActionStateChange, ActionInfo:
		return ""
	}
	return "success"
}

func protoName(p Proto) string {
	switch p {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "ipv6-icmp"
	case 2:
		return "igmp"
	case ProtoGRE:
		return "gre"
	case ProtoESP:
		return "esp"
	case 51:
		return "ah"
	case 88:
		return "eigrp"
	case 89:
		return "ospf"
	case 103:
		return "pim"
	case 132:
		return "sctp"
	}
	return ""
}

type ecsWriter struct {
	b     []byte
	comma bool
}

func (w *ecsWriter) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.comma = true
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

// str writes k: v, skipping empty values.
func (w *ecsWriter) str(k, v string) {
	if v == "" {
		return
	}
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

// related writes related.ip, related.user and related.hosts: every address, user and host
// name the event carries, each once.
func (w *ecsWriter) related(ev *Event) {
	var ips [4]netip.Addr
	n := 0
	for _, a := range [4]netip.Addr{ev.Src.Addr, ev.Src.MappedAddr, ev.Dst.Addr, ev.Dst.MappedAddr} {
		if a.IsValid() && !slices.Contains(ips[:n], a) {
			ips[n] = a
			n++
		}
	}
	if n > 0 {
		w.key("related.ip")
		w.b = append(w.b, '[')
		for i, a := range ips[:n] {
			if i > 0 {
				w.b = append(w.b, ',')
			}
			w.b = append(w.b, '"')
			w.b = a.AppendTo(w.b)
			w.b = append(w.b, '"')
		}
		w.b = append(w.b, ']')
	}
	w.list("related.user", ev.User, ev.Src.User, ev.Dst.User)
	var s, d string
	if isHostName(ev.Src.Name) {
		s = ev.Src.Name
	}
	if isHostName(ev.Dst.Name) {
		d = ev.Dst.Name
	}
	w.list("related.hosts", ev.Host, s, d)
}

// list writes k as an array of the distinct non-empty values (masked users `*****` left out).
func (w *ecsWriter) list(k string, a, b, c string) {
	vals := [3]string{a, b, c}
	first := true
	for i, v := range vals {
		if v == "" || v == "*****" || (i > 0 && v == vals[0]) || (i > 1 && v == vals[1]) {
			continue
		}
		if first {
			w.key(k)
			w.b = append(w.b, '[')
			first = false
		} else {
			w.b = append(w.b, ',')
		}
		w.b = appendJSONString(w.b, v)
	}
	if !first {
		w.b = append(w.b, ']')
	}
}

// isHostName says whether an endpoint's name is a host name (not a cut or odd address).
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if isAlpha(s[i]) {
			return true
		}
	}
	return false
}

func (w *ecsWriter) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

// uint writes k: v, as a JSON string when quoted (Elastic keeps ids and codes as keywords).
func (w *ecsWriter) uint(k string, v uint64, quoted bool) {
	w.key(k)
	if quoted {
		w.b = append(w.b, '"')
	}
	w.b = strconv.AppendUint(w.b, v, 10)
	if quoted {
		w.b = append(w.b, '"')
	}
}

func (w *ecsWriter) addr(k string, a netip.Addr) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = a.AppendTo(w.b)
	w.b = append(w.b, '"')
}

// Key names are written out in full so that they stay constants (no concatenation per call).
type sideKeys struct{ ip, port, address, user, natIP, natPort, mIP, mPort string }

var (
	srcKeys = sideKeys{"source.ip", "source.port", "source.address", "source.user.name",
		"source.nat.ip", "source.nat.port", "cisco.asa.mapped_source_ip", "cisco.asa.mapped_source_port"}
	dstKeys = sideKeys{"destination.ip", "destination.port", "destination.address", "destination.user.name",
		"destination.nat.ip", "destination.nat.port", "cisco.asa.mapped_destination_ip", "cisco.asa.mapped_destination_port"}
)

func (w *ecsWriter) endpoint(k *sideKeys, ep *Endpoint) {
	if ep.Addr.IsValid() {
		w.addr(k.ip, ep.Addr)
		w.addr(k.address, ep.Addr)
	} else if ep.Name != "" {
		w.str(k.address, ep.Name)
	}
	if ep.Port != 0 {
		w.uint(k.port, uint64(ep.Port), false)
	}
	w.str(k.user, ep.User)
}

// nat writes source.nat.* / destination.nat.* only where the mapping differs from the real one.
func (w *ecsWriter) nat(k *sideKeys, ep *Endpoint) {
	if ep.MappedAddr.IsValid() && ep.MappedAddr != ep.Addr {
		w.addr(k.natIP, ep.MappedAddr)
	}
	if ep.MappedPort != 0 && ep.MappedPort != ep.Port {
		w.uint(k.natPort, uint64(ep.MappedPort), false)
	}
}

func (w *ecsWriter) mapped(k *sideKeys, ep *Endpoint) {
	if ep.MappedAddr.IsValid() {
		w.addr(k.mIP, ep.MappedAddr)
	}
	if ep.MappedPort != 0 {
		w.uint(k.mPort, uint64(ep.MappedPort), false)
	}
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the bytes a JSON string holds as they are: printable ASCII but '"' and '\\'.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// needsEscape8 reports whether any of the eight bytes in x is not jsonSafe.
func needsEscape8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - 0x20*lo) &^ x // high bit set where a byte < 0x20 (or >= 0x80, caught below)
	q := x ^ ('"' * lo)
	bs := x ^ ('\\' * lo)
	quote := (q - lo) &^ q
	back := (bs - lo) &^ bs
	return (ctl|quote|back|x)&hi != 0
}

// appendTimestamp writes t in UTC as 2006-01-02T15:04:05.000Z, as AppendFormat with that
// layout does, without reading the layout.
func appendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// appendJSONString writes s as a JSON string: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, U+2028/U+2029 escaped for JavaScript consumers.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	// Fast path: skip eight bytes at a time while none needs escaping (no control character,
	// quote, backslash or non-ASCII byte), which is all of most values.
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if needsEscape8(x) {
			break
		}
	}
	for i < len(s) && jsonSafe[s[i]] {
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
