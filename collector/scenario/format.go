package scenario

import (
	"strconv"
	"time"
)

// Envelope styles. The ASA writes in the site's zone, the routers in UTC.
const (
	styleASAYear uint8 = iota // <166>Apr 06 2026 14:03:11 asa1 : %ASA-6-302013: ...
	styleASA3164              // <166>Apr  6 14:03:11 asa1 %ASA-6-302013: ...
	styleASA5424              // <166>1 2026-04-06T14:03:11.123-05:00 asa1 - - - - %ASA-6-302013: ...
	styleIOSSeq               // <190>123: rtr-b2: *Apr  6 19:03:11.123 UTC: %SEC-6-IPACCESSLOGP: ...
	styleIOS3164              // <190>Apr  6 19:03:11 rtr-b2 123: Apr  6 19:03:11.123 UTC: %SEC-6-...
)

type msgInfo struct {
	tag string // "%ASA-6-302013: "
	pri string // "<166>"
	sev int8
	id  uint32
}

func asaMsg(sev int8, id uint32) msgInfo {
	s := strconv.Itoa(int(sev))
	return msgInfo{
		tag: "%ASA-" + s + "-" + strconv.Itoa(int(id)) + ": ",
		pri: "<" + strconv.Itoa(20*8+int(sev)) + ">",
		sev: sev, id: id,
	}
}

var msgs = [...]msgInfo{
	kBuiltTCP:    asaMsg(6, 302013),
	kTeardownTCP: asaMsg(6, 302014),
	kBuiltUDP:    asaMsg(6, 302015),
	kTeardownUDP: asaMsg(6, 302016),
	kPATBuilt:    asaMsg(6, 305011),
	kPATTeardown: asaMsg(6, 305012),
	kDeny:        asaMsg(4, 106023),
	kACLPermit:   asaMsg(6, 106100),
	kDenyToBox:   asaMsg(3, 710003),
	kUDPDiscard:  asaMsg(7, 710005),
	kAAAOK:       asaMsg(6, 113004),
	kAAAFail:     asaMsg(6, 113005),
	kVPNStart:    asaMsg(6, 716001),
	kSVCUp:       asaMsg(6, 722022),
	kVPNAssign:   asaMsg(4, 722051),
	kSVCDown:     asaMsg(6, 722023),
	kVPNEnd:      asaMsg(6, 716002),
	kVPNDisc:     asaMsg(4, 113019),
	kThreat:      asaMsg(4, 733100),
	kConfig:      asaMsg(5, 111008),
	kIOSLogP:     {tag: "%SEC-6-IPACCESSLOGP: ", pri: "<190>", sev: 6},
	kIOSLogDP:    {tag: "%SEC-6-IPACCESSLOGDP: ", pri: "<190>", sev: 6},
}

var routerACL = [numDevices]string{"", "B2-LAN-IN", "B3-LAN-IN"}

var monthNames = [...]string{"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

const vpnGroup = "GroupPolicy_VPN"

// clock caches the broken-down time of one second in one zone; lines are time-ordered, so most
// lines reuse it.
type clock struct {
	loc     *time.Location
	sec     int64
	valid   bool
	y       int
	mo, d   int
	h, m, s int
	off     int // seconds east of UTC
}

func (c *clock) set(ms int64) {
	sec := ms / 1000
	if ms < 0 && ms%1000 != 0 {
		sec--
	}
	if c.valid && sec == c.sec {
		return
	}
	t := time.Unix(sec, 0).In(c.loc)
	var mo time.Month
	c.y, mo, c.d = t.Date()
	c.mo = int(mo)
	c.h, c.m, c.s = t.Clock()
	_, c.off = t.Zone()
	c.sec, c.valid = sec, true
}

type formatter struct {
	l     *layout
	buf   []byte
	local clock // the ASA's zone
	utc   clock // the routers' zone
}

func (f *formatter) init(l *layout) {
	f.l = l
	f.buf = make([]byte, 0, 1024)
	f.local.loc = l.loc
	f.utc.loc = time.UTC
}

func app2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func app3(b []byte, v int) []byte {
	return append(b, byte('0'+v/100), byte('0'+v/10%10), byte('0'+v%10))
}

func appU(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// appDay writes a day of month space-padded ("Apr  6"), as RFC 3164 and IOS do.
func appDay(b []byte, d int) []byte {
	if d < 10 {
		return append(b, ' ', byte('0'+d))
	}
	return app2(b, d)
}

func appHMS(b []byte, c *clock) []byte {
	b = app2(b, c.h)
	b = append(b, ':')
	b = app2(b, c.m)
	b = append(b, ':')
	return app2(b, c.s)
}

// appDuration writes h:mm:ss with unbounded hours, as the ASA does.
func appDuration(b []byte, sec uint32) []byte {
	b = appU(b, uint64(sec/3600))
	b = append(b, ':')
	b = app2(b, int(sec/60%60))
	b = append(b, ':')
	return app2(b, int(sec%60))
}

// line formats r into the formatter's buffer (valid until the next call) and says which
// envelope it used.
func (f *formatter) line(g *generator, r *rec) ([]byte, uint8) {
	b := f.buf[:0]
	mi := &msgs[r.kind]
	ms := int(r.t % 1000)
	if ms < 0 {
		ms += 1000
	}
	var style uint8
	if r.dev == devASA {
		c := &f.local
		c.set(r.t)
		x := g.frng.IntN(20)
		b = append(b, mi.pri...)
		switch {
		case x < 12:
			style = styleASAYear
			b = append(b, monthNames[c.mo]...)
			b = append(b, ' ')
			b = app2(b, c.d)
			b = append(b, ' ')
			b = appU(b, uint64(c.y))
			b = append(b, ' ')
			b = appHMS(b, c)
			b = append(b, " asa1 : "...)
		case x < 17:
			style = styleASA3164
			b = append(b, monthNames[c.mo]...)
			b = append(b, ' ')
			b = appDay(b, c.d)
			b = append(b, ' ')
			b = appHMS(b, c)
			b = append(b, " asa1 "...)
		default:
			style = styleASA5424
			b = append(b, "1 "...)
			b = appU(b, uint64(c.y))
			b = append(b, '-')
			b = app2(b, c.mo)
			b = append(b, '-')
			b = app2(b, c.d)
			b = append(b, 'T')
			b = appHMS(b, c)
			b = append(b, '.')
			b = app3(b, ms)
			if c.off == 0 {
				b = append(b, 'Z')
			} else {
				off := c.off
				sign := byte('+')
				if off < 0 {
					sign, off = '-', -off
				}
				b = append(b, sign)
				b = app2(b, off/3600)
				b = append(b, ':')
				b = app2(b, off/60%60)
			}
			b = append(b, " asa1 - - - - "...)
		}
		b = append(b, mi.tag...)
		b = f.asaBody(b, r)
	} else {
		c := &f.utc
		c.set(r.t)
		host := deviceNames[r.dev]
		g.iosSeq[r.dev]++
		seq := uint64(g.iosSeq[r.dev])
		b = append(b, mi.pri...)
		if g.frng.IntN(5) < 3 {
			style = styleIOSSeq
			b = appU(b, seq)
			b = append(b, ": "...)
			b = append(b, host...)
			b = append(b, ": *"...)
		} else {
			style = styleIOS3164
			b = append(b, monthNames[c.mo]...)
			b = append(b, ' ')
			b = appDay(b, c.d)
			b = append(b, ' ')
			b = appHMS(b, c)
			b = append(b, ' ')
			b = append(b, host...)
			b = append(b, ' ')
			b = appU(b, seq)
			b = append(b, ": "...)
		}
		b = append(b, monthNames[c.mo]...)
		b = append(b, ' ')
		b = appDay(b, c.d)
		b = append(b, ' ')
		b = appHMS(b, c)
		b = append(b, '.')
		b = app3(b, ms)
		b = append(b, " UTC: "...)
		b = append(b, mi.tag...)
		b = f.iosBody(b, r)
	}
	b = append(b, '\n')
	f.buf = b
	return b, style
}

func (f *formatter) ep(b []byte, iface uint8, a uint32, port uint16) []byte {
	b = append(b, ifNames[iface]...)
	b = append(b, ':')
	b = append(b, f.l.addrs[a].s...)
	b = append(b, '/')
	return appU(b, uint64(port))
}

func (f *formatter) addrPort(b []byte, a uint32, port uint16) []byte {
	b = append(b, f.l.addrs[a].s...)
	b = append(b, '/')
	return appU(b, uint64(port))
}

func protoUpper(p uint8) string {
	if p == protoUDP {
		return "UDP"
	}
	return "TCP"
}

func protoLower(p uint8) string {
	switch p {
	case protoUDP:
		return "udp"
	case protoICMP:
		return "icmp"
	}
	return "tcp"
}

func (f *formatter) vpnPrefix(b []byte, r *rec) []byte {
	b = append(b, "Group <"+vpnGroup+"> User <"...)
	b = append(b, f.l.users[r.user-1].name...)
	b = append(b, "> IP <"...)
	b = append(b, f.l.addrs[r.a].s...)
	return append(b, "> "...)
}

func (f *formatter) asaBody(b []byte, r *rec) []byte {
	l := f.l
	switch r.kind {
	case kBuiltTCP, kBuiltUDP:
		b = append(b, "Built "...)
		if r.dir == dirInbound {
			b = append(b, "inbound "...)
		} else {
			b = append(b, "outbound "...)
		}
		b = append(b, protoUpper(r.proto)...)
		b = append(b, " connection "...)
		b = appU(b, uint64(r.conn))
		b = append(b, " for "...)
		b = f.ep(b, r.aIf, r.a, r.ap)
		b = append(b, " ("...)
		b = f.addrPort(b, r.am, r.amp)
		b = append(b, ") to "...)
		b = f.ep(b, r.bIf, r.b, r.bp)
		b = append(b, " ("...)
		b = f.addrPort(b, r.bm, r.bmp)
		b = append(b, ')')
	case kTeardownTCP, kTeardownUDP:
		b = append(b, "Teardown "...)
		b = append(b, protoUpper(r.proto)...)
		b = append(b, " connection "...)
		b = appU(b, uint64(r.conn))
		b = append(b, " for "...)
		b = f.ep(b, r.aIf, r.a, r.ap)
		b = append(b, " to "...)
		b = f.ep(b, r.bIf, r.b, r.bp)
		b = append(b, " duration "...)
		b = appDuration(b, r.dur)
		b = append(b, " bytes "...)
		b = appU(b, r.bytes)
		if r.kind == kTeardownTCP {
			b = append(b, ' ')
			b = append(b, teardownReasons[r.aux]...)
		}
	case kPATBuilt, kPATTeardown:
		if r.kind == kPATBuilt {
			b = append(b, "Built dynamic "...)
		} else {
			b = append(b, "Teardown dynamic "...)
		}
		b = append(b, protoUpper(r.proto)...)
		b = append(b, " translation from "...)
		b = f.ep(b, r.aIf, r.a, r.ap)
		b = append(b, " to "...)
		b = f.ep(b, r.bIf, r.b, r.bp)
		if r.kind == kPATTeardown {
			b = append(b, " duration "...)
			b = appDuration(b, r.dur)
		}
	case kDeny:
		b = append(b, "Deny "...)
		b = append(b, protoLower(r.proto)...)
		b = append(b, " src "...)
		b = f.ep(b, r.aIf, r.a, r.ap)
		b = append(b, " dst "...)
		b = f.ep(b, r.bIf, r.b, r.bp)
		b = append(b, " by access-group \""...)
		b = append(b, ifNames[r.aIf]...)
		b = append(b, "_access_in\" [0x"...)
		b = strconv.AppendUint(b, uint64(r.aux), 16)
		b = append(b, ", 0x0]"...)
	case kACLPermit:
		b = append(b, "access-list inside_access_in permitted "...)
		b = append(b, protoLower(r.proto)...)
		b = append(b, ' ')
		b = append(b, ifNames[r.aIf]...)
		b = append(b, '/')
		b = append(b, l.addrs[r.a].s...)
		b = append(b, '(')
		b = appU(b, uint64(r.ap))
		b = append(b, ") -> "...)
		b = append(b, ifNames[r.bIf]...)
		b = append(b, '/')
		b = append(b, l.addrs[r.b].s...)
		b = append(b, '(')
		b = appU(b, uint64(r.bp))
		b = append(b, ") hit-cnt "...)
		b = appU(b, uint64(r.aux))
		if r.aux == 1 {
			b = append(b, " first hit [0x"...)
		} else {
			b = append(b, " 300-second interval [0x"...)
		}
		b = strconv.AppendUint(b, uint64(r.a)*2654435761%(1<<32), 16)
		b = append(b, ", 0x0]"...)
	case kDenyToBox, kUDPDiscard:
		if r.kind == kDenyToBox {
			b = append(b, "TCP access denied by ACL from "...)
		} else {
			b = append(b, "UDP request discarded from "...)
		}
		b = f.addrPort(b, r.a, r.ap)
		b = append(b, " to "...)
		b = f.ep(b, r.bIf, r.b, r.bp)
	case kAAAOK:
		b = append(b, "AAA user authentication Successful : server = "...)
		b = append(b, l.addrs[r.b].s...)
		b = append(b, " : user = "...)
		b = append(b, l.users[r.user-1].name...)
	case kAAAFail:
		b = append(b, "AAA user authentication Rejected : reason = AAA failure : server = "...)
		b = append(b, l.addrs[r.b].s...)
		b = append(b, " : user = "...)
		b = append(b, l.users[r.user-1].name...)
		b = append(b, " : user IP = "...)
		b = append(b, l.addrs[r.a].s...)
	case kVPNStart:
		b = f.vpnPrefix(b, r)
		b = append(b, "WebVPN session started."...)
	case kSVCUp:
		b = f.vpnPrefix(b, r)
		b = append(b, "TCP SVC connection established without compression"...)
	case kVPNAssign:
		b = f.vpnPrefix(b, r)
		b = append(b, "IPv4 Address <"...)
		b = append(b, l.addrs[r.b].s...)
		b = append(b, "> IPv6 address <::> assigned to session"...)
	case kSVCDown:
		b = f.vpnPrefix(b, r)
		b = append(b, "TCP SVC connection terminated without compression"...)
	case kVPNEnd:
		b = f.vpnPrefix(b, r)
		b = append(b, "WebVPN session terminated: User Requested."...)
	case kVPNDisc:
		b = append(b, "Group = "+vpnGroup+", Username = "...)
		b = append(b, l.users[r.user-1].name...)
		b = append(b, ", IP = "...)
		b = append(b, l.addrs[r.a].s...)
		b = append(b, ", Session disconnected. Session Type: AnyConnect-Parent, Duration: "...)
		b = appU(b, uint64(r.dur/3600))
		b = append(b, "h:"...)
		b = app2(b, int(r.dur/60%60))
		b = append(b, "m:"...)
		b = app2(b, int(r.dur%60))
		b = append(b, "s, Bytes xmt: "...)
		b = appU(b, r.bytes)
		b = append(b, ", Bytes rcv: "...)
		b = appU(b, r.bytes2)
		b = append(b, ", Reason: User Requested"...)
	case kThreat:
		b = append(b, "[ Scanning] drop rate-1 exceeded. Current burst rate is "...)
		b = appU(b, uint64(10+r.aux/4))
		b = append(b, " per second, max configured rate is 10; Current average rate is "...)
		b = appU(b, uint64(5+r.aux/10))
		b = append(b, " per second, max configured rate is 5; Cumulative total count is "...)
		b = appU(b, uint64(r.aux*30))
	case kConfig:
		b = append(b, "User '"...)
		b = append(b, l.admins[r.user-1]...)
		b = append(b, "' executed the 'write memory' command."...)
	}
	return b
}

func (f *formatter) iosBody(b []byte, r *rec) []byte {
	l := f.l
	b = append(b, "list "...)
	b = append(b, routerACL[r.dev]...)
	if r.permit {
		b = append(b, " permitted "...)
	} else {
		b = append(b, " denied "...)
	}
	b = append(b, protoLower(r.proto)...)
	b = append(b, ' ')
	b = append(b, l.addrs[r.a].s...)
	packets := r.aux
	if r.kind == kIOSLogDP {
		b = append(b, " -> "...)
		b = append(b, l.addrs[r.b].s...)
		b = append(b, " ("...)
		b = appU(b, uint64(r.aux>>8&0xff))
		b = append(b, '/')
		b = appU(b, uint64(r.aux&0xff))
		b = append(b, ')')
		packets = r.aux >> 16
	} else {
		b = append(b, '(')
		b = appU(b, uint64(r.ap))
		b = append(b, ") -> "...)
		b = append(b, l.addrs[r.b].s...)
		b = append(b, '(')
		b = appU(b, uint64(r.bp))
		b = append(b, ')')
	}
	b = append(b, ", "...)
	b = appU(b, uint64(packets))
	if packets == 1 {
		b = append(b, " packet"...)
	} else {
		b = append(b, " packets"...)
	}
	return b
}
