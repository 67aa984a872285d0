package asaconfig

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file types the configuration that decides what the data path does
// with a packet but that firebreak never changes: service, protocol and
// icmp-type object-groups, service objects, time-ranges,
// same-security-traffic, the clock's time zone and the to-the-box services
// (ssh, http, telnet, icmp). Package datapath evaluates them.

// AnyProto is the protocol number standing for `ip` (every protocol).
const AnyProto int16 = -1

// AnyICMP stands for "any ICMP type" or "any code".
const AnyICMP int16 = -1

// ServiceEntry is one line of a service object-group, or a service object:
// `service-object tcp destination eq 443`, `port-object eq www` (Proto is
// AnyProto: the ACE's protocol applies), `service-object icmp echo`,
// `service-object object NAME` (Object) or `group-object NAME` (Group).
type ServiceEntry struct {
	Proto              int16
	Src, Dst           PortMatch
	ICMPType, ICMPCode int16
	Object             string
	Group              string
}

// ServiceGroup is an `object-group service NAME [tcp|udp|tcp-udp]`. Ports is
// the legacy suffix ("" for a 9.x group of service-object lines).
type ServiceGroup struct {
	Name    string
	Ports   string
	Entries []ServiceEntry
}

// ProtocolGroup is an `object-group protocol NAME`: protocol numbers
// (AnyProto for `ip`) and nested groups.
type ProtocolGroup struct {
	Name      string
	Protocols []int16
	Groups    []string
}

// ICMPGroup is an `object-group icmp-type NAME`: ICMP types and nested groups.
type ICMPGroup struct {
	Name   string
	Types  []int16
	Groups []string
}

// Weekly is one `periodic` line of a time-range, in minutes of the device's
// local week. Without Span it is active on each of Days from From to To
// (minutes after midnight, To excluded); with Span it runs from From on
// Days[0] to To on SpanTo.
type Weekly struct {
	Days   []time.Weekday
	From   int
	To     int
	Span   bool
	SpanTo time.Weekday
}

// TimeRange is a `time-range NAME` block. Start and End (`absolute`) are
// wall-clock times of the device, kept in UTC fields without a zone; zero
// when absent. Periodic lines all apply (any one active suffices).
type TimeRange struct {
	Name       string
	Start, End time.Time
	Periodic   []Weekly
}

// MgmtAccess is an `ssh`, `http` or `telnet` line: who may reach the box's
// own service on an interface.
type MgmtAccess struct {
	Proto     string // ssh, http, telnet
	Prefix    netip.Prefix
	Interface string
}

// ICMPAccess is an `icmp permit|deny SRC [TYPE] IFNAME` line: ICMP to the
// box's own interface address. Src invalid means any; Type is AnyICMP when
// not given.
type ICMPAccess struct {
	Action    Action
	Src       netip.Prefix
	Type      int16
	Interface string
}

type (
	sameSecNode   struct{ intra bool }
	clockNode     struct{ offset time.Duration }
	httpSrvNode   struct{ port uint16 }
	icmpAccessNod struct{ a ICMPAccess }
)

// otherObject fills in the description count and the member lines.
func otherObject(o *otherObjNode, subs [][]string) *otherObjNode {
	for _, s := range subs[1:] {
		switch {
		case len(s) == 0:
		case s[0] == "description":
			o.descs++
		default:
			o.subs = append(o.subs, s)
		}
	}
	return o
}

// protoNumbers are the protocol names the ASA accepts in access-lists.
var protoNumbers = map[string]int16{
	"ip": AnyProto, "icmp": 1, "igmp": 2, "ipinip": 4, "tcp": 6, "igrp": 9, "udp": 17, "gre": 47,
	"esp": 50, "ah": 51, "ipsec": 50, "icmp6": 58, "eigrp": 88, "ospf": 89, "nos": 94, "pim": 103,
	"pcp": 108, "snp": 109, "sctp": 132,
}

// ParseProtocol reads a protocol name or number (0-255); `ip` is AnyProto.
func ParseProtocol(s string) (int16, bool) {
	if n, ok := protoNumbers[s]; ok {
		return n, true
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, false
	}
	if n == 0 {
		return AnyProto, true
	}
	return int16(n), true
}

// icmpTypes are the ICMP type names of ASA access-lists.
var icmpTypes = map[string]int16{
	"echo-reply": 0, "unreachable": 3, "source-quench": 4, "redirect": 5, "alternate-address": 6,
	"echo": 8, "router-advertisement": 9, "router-solicitation": 10, "time-exceeded": 11,
	"parameter-problem": 12, "timestamp-request": 13, "timestamp-reply": 14,
	"information-request": 15, "information-reply": 16, "mask-request": 17, "mask-reply": 18,
	"traceroute": 30, "conversion-error": 31, "mobile-redirect": 32,
}

// ParseICMPType reads an ICMP type name or number (0-255).
func ParseICMPType(s string) (int16, bool) {
	if n, ok := icmpTypes[s]; ok {
		return n, true
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, false
	}
	return int16(n), true
}

// portProto is the port-name table for a protocol number.
func portProto(p int16) Protocol {
	if p == 17 {
		return ProtoUDP
	}
	return ProtoTCP
}

// portOp reads "eq P", "range A B", ... at s[i]; n is the words used (0 when
// s[i] is not an operator).
func portOp(proto int16, s []string, i int) (PortMatch, int, error) {
	if i >= len(s) {
		return PortMatch{}, 0, nil
	}
	ops := map[string]PortOp{"eq": PortEq, "neq": PortNeq, "lt": PortLt, "gt": PortGt, "range": PortRange}
	op, ok := ops[s[i]]
	if !ok {
		return PortMatch{}, 0, nil
	}
	pp := portProto(proto)
	if i+1 >= len(s) {
		return PortMatch{}, 0, fmt.Errorf("port: %w", ErrBadValue)
	}
	lo, ok := parsePort(pp, s[i+1])
	if !ok && proto == AnyProto { // tcp-udp groups: names of either table
		lo, ok = parsePort(ProtoUDP, s[i+1])
	}
	if !ok {
		return PortMatch{}, 0, fmt.Errorf("port %q: %w", s[i+1], ErrBadValue)
	}
	if op != PortRange {
		return PortMatch{Op: op, Lo: lo}, 2, nil
	}
	if i+2 >= len(s) {
		return PortMatch{}, 0, fmt.Errorf("range: %w", ErrBadValue)
	}
	hi, ok := parsePort(pp, s[i+2])
	if !ok && proto == AnyProto {
		hi, ok = parsePort(ProtoUDP, s[i+2])
	}
	if !ok || hi < lo {
		return PortMatch{}, 0, fmt.Errorf("range %q %q: %w", s[i+1], s[i+2], ErrBadValue)
	}
	return PortMatch{Op: PortRange, Lo: lo, Hi: hi}, 3, nil
}

// parseService reads "PROTO [source OP P] [destination OP P]" or
// "icmp [TYPE [CODE]]" (the words after `service-object` or `service`).
func parseService(s []string) (ServiceEntry, error) {
	e := ServiceEntry{ICMPType: AnyICMP, ICMPCode: AnyICMP}
	if len(s) == 0 {
		return e, fmt.Errorf("service: %w", ErrBadValue)
	}
	if s[0] == "object" && len(s) == 2 {
		e.Object = s[1]
		return e, nil
	}
	if s[0] == "tcp-udp" {
		e.Proto = AnyProto
	} else {
		p, ok := ParseProtocol(s[0])
		if !ok {
			return e, fmt.Errorf("service protocol %q: %w", s[0], ErrBadValue)
		}
		e.Proto = p
	}
	rest := s[1:]
	if e.Proto == 1 || e.Proto == 58 {
		if len(rest) > 0 {
			t, ok := ParseICMPType(rest[0])
			if !ok {
				return e, fmt.Errorf("icmp type %q: %w", rest[0], ErrBadValue)
			}
			e.ICMPType = t
			if len(rest) > 1 {
				c, err := strconv.ParseUint(rest[1], 10, 8)
				if err != nil {
					return e, fmt.Errorf("icmp code %q: %w", rest[1], ErrBadValue)
				}
				e.ICMPCode = int16(c)
			}
		}
		return e, nil
	}
	portProtoOf := e.Proto
	if s[0] == "tcp-udp" {
		portProtoOf = AnyProto
	}
	for i := 0; i < len(rest); {
		dst := true
		switch rest[i] {
		case "source":
			dst = false
			i++
		case "destination":
			i++
		}
		m, n, err := portOp(portProtoOf, rest, i)
		if err != nil {
			return e, err
		}
		if n == 0 {
			return e, fmt.Errorf("service %q: %w", strings.Join(s, " "), ErrBadValue)
		}
		if dst {
			e.Dst = m
		} else {
			e.Src = m
		}
		i += n
	}
	if s[0] == "tcp-udp" {
		e.Proto = tcpUDP
	}
	return e, nil
}

// tcpUDP marks a service entry valid for both TCP and UDP.
const tcpUDP int16 = -2

// TCPUDP is the Proto of a `tcp-udp` service entry.
const TCPUDP = tcpUDP

func (c *Config) otherObj(kind, name string) (*otherObjNode, bool) {
	for _, n := range c.nodes {
		if o, ok := n.v.(*otherObjNode); ok && o.kind == kind && o.name == name {
			return o, true
		}
	}
	return nil, false
}

// ServiceGroup returns the `object-group service NAME`. Lines it cannot type
// are reported in the error of the first one (the group is still returned
// with the others).
func (c *Config) ServiceGroup(name string) (ServiceGroup, bool, error) {
	o, ok := c.otherObj("object-group service", name)
	if !ok {
		return ServiceGroup{}, false, nil
	}
	g := ServiceGroup{Name: name}
	if len(o.suffix) == 1 {
		g.Ports = o.suffix[0]
	}
	var first error
	for _, s := range o.subs {
		var e ServiceEntry
		var err error
		switch {
		case len(s) == 2 && s[0] == "group-object":
			e = ServiceEntry{Group: s[1]}
		case len(s) >= 2 && s[0] == "port-object":
			p := AnyProto
			switch g.Ports {
			case "tcp":
				p = 6
			case "udp":
				p = 17
			}
			var n int
			e = ServiceEntry{Proto: AnyProto, ICMPType: AnyICMP, ICMPCode: AnyICMP}
			e.Dst, n, err = portOp(p, s, 1)
			if err == nil && n != len(s)-1 {
				err = fmt.Errorf("port-object %q: %w", strings.Join(s, " "), ErrBadValue)
			}
		case len(s) >= 2 && s[0] == "service-object":
			e, err = parseService(s[1:])
		default:
			err = fmt.Errorf("service group line %q: %w", strings.Join(s, " "), ErrBadValue)
		}
		if err != nil {
			if first == nil {
				first = fmt.Errorf("object-group service %s: %w", name, err)
			}
			continue
		}
		g.Entries = append(g.Entries, e)
	}
	return g, true, first
}

// ServiceObject returns the `object service NAME`.
func (c *Config) ServiceObject(name string) (ServiceEntry, bool, error) {
	o, ok := c.otherObj("object service", name)
	if !ok {
		return ServiceEntry{}, false, nil
	}
	for _, s := range o.subs {
		if len(s) >= 2 && s[0] == "service" {
			e, err := parseService(s[1:])
			if err != nil {
				return ServiceEntry{}, true, fmt.Errorf("object service %s: %w", name, err)
			}
			return e, true, nil
		}
	}
	return ServiceEntry{}, true, fmt.Errorf("object service %s has no service line: %w", name, ErrBadValue)
}

// ProtocolGroup returns the `object-group protocol NAME`.
func (c *Config) ProtocolGroup(name string) (ProtocolGroup, bool, error) {
	o, ok := c.otherObj("object-group protocol", name)
	if !ok {
		return ProtocolGroup{}, false, nil
	}
	g := ProtocolGroup{Name: name}
	var first error
	for _, s := range o.subs {
		switch {
		case len(s) == 2 && s[0] == "group-object":
			g.Groups = append(g.Groups, s[1])
		case len(s) == 2 && s[0] == "protocol-object":
			if p, ok := ParseProtocol(s[1]); ok {
				g.Protocols = append(g.Protocols, p)
				continue
			}
			fallthrough
		default:
			if first == nil {
				first = fmt.Errorf("object-group protocol %s line %q: %w", name, strings.Join(s, " "), ErrBadValue)
			}
		}
	}
	return g, true, first
}

// ICMPGroup returns the `object-group icmp-type NAME`.
func (c *Config) ICMPGroup(name string) (ICMPGroup, bool, error) {
	o, ok := c.otherObj("object-group icmp-type", name)
	if !ok {
		return ICMPGroup{}, false, nil
	}
	g := ICMPGroup{Name: name}
	var first error
	for _, s := range o.subs {
		switch {
		case len(s) == 2 && s[0] == "group-object":
			g.Groups = append(g.Groups, s[1])
		case len(s) == 2 && s[0] == "icmp-object":
			if t, ok := ParseICMPType(s[1]); ok {
				g.Types = append(g.Types, t)
				continue
			}
			fallthrough
		default:
			if first == nil {
				first = fmt.Errorf("object-group icmp-type %s line %q: %w", name, strings.Join(s, " "), ErrBadValue)
			}
		}
	}
	return g, true, first
}

// TimeRanges lists the `time-range` blocks.
func (c *Config) TimeRanges() []TimeRange {
	var out []TimeRange
	for _, n := range c.nodes {
		if t, ok := n.v.(*TimeRange); ok {
			tr := *t
			tr.Periodic = slices.Clone(t.Periodic)
			out = append(out, tr)
		}
	}
	return out
}

// TimeRange finds a time-range by name.
func (c *Config) TimeRange(name string) (TimeRange, bool) {
	for _, t := range c.TimeRanges() {
		if t.Name == name {
			return t, true
		}
	}
	return TimeRange{}, false
}

// SameSecurityTraffic reports the `same-security-traffic permit
// inter-interface` and `... intra-interface` settings.
func (c *Config) SameSecurityTraffic() (inter, intra bool) {
	for _, n := range c.nodes {
		if s, ok := n.v.(*sameSecNode); ok {
			if s.intra {
				intra = true
			} else {
				inter = true
			}
		}
	}
	return inter, intra
}

// ClockOffset is the fixed offset of `clock timezone NAME H [M]`; ok is
// false when the config has none (the box then runs on UTC). Summer time is
// not applied.
func (c *Config) ClockOffset() (time.Duration, bool) {
	for _, n := range c.nodes {
		if k, ok := n.v.(*clockNode); ok {
			return k.offset, true
		}
	}
	return 0, false
}

// ManagementAccess lists the ssh, http and telnet access lines.
func (c *Config) ManagementAccess() []MgmtAccess {
	var out []MgmtAccess
	for _, n := range c.nodes {
		if m, ok := n.v.(*mgmtNode); ok {
			out = append(out, MgmtAccess{Proto: m.proto, Prefix: m.prefix, Interface: m.nameif})
		}
	}
	return out
}

// HTTPServer reports `http server enable [port]` (port 443 when not given).
func (c *Config) HTTPServer() (port uint16, enabled bool) {
	for _, n := range c.nodes {
		if h, ok := n.v.(*httpSrvNode); ok {
			return h.port, true
		}
	}
	return 0, false
}

// ICMPAccessRules lists the `icmp permit|deny` lines in order.
func (c *Config) ICMPAccessRules() []ICMPAccess {
	var out []ICMPAccess
	for _, n := range c.nodes {
		if a, ok := n.v.(*icmpAccessNod); ok {
			out = append(out, a.a)
		}
	}
	return out
}

func parseHTTPServer(f []string) (any, error) {
	port := uint16(443)
	if len(f) == 4 {
		n, err := strconv.ParseUint(f[3], 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("http server port %q: %w", f[3], ErrBadValue)
		}
		port = uint16(n)
	}
	return &httpSrvNode{port: port}, nil
}

// parseClock reads `clock timezone NAME HOURS [MINUTES]`.
func parseClock(f []string) (any, error) {
	h, err := strconv.Atoi(f[3])
	if err != nil || h < -12 || h > 14 {
		return nil, fmt.Errorf("clock timezone hours %q: %w", f[3], ErrBadValue)
	}
	off := time.Duration(h) * time.Hour
	if len(f) >= 5 {
		m, err := strconv.Atoi(f[4])
		if err != nil || m < 0 || m > 59 {
			return nil, fmt.Errorf("clock timezone minutes %q: %w", f[4], ErrBadValue)
		}
		if h < 0 {
			off -= time.Duration(m) * time.Minute
		} else {
			off += time.Duration(m) * time.Minute
		}
	}
	return &clockNode{offset: off}, nil
}

// parseICMPAccess reads `icmp {permit|deny} {any|host A|A MASK} [TYPE] IF`.
func (p *parser) parseICMPAccess(f []string) (any, bool) {
	if f[0] != "icmp" || len(f) < 4 || (f[1] != "permit" && f[1] != "deny") {
		return nil, false
	}
	a := ICMPAccess{Action: Permit, Type: AnyICMP, Interface: f[len(f)-1]}
	if f[1] == "deny" {
		a.Action = Deny
	}
	i := 2
	switch {
	case f[i] == "any":
		i++
	case f[i] == "host" && i+1 < len(f):
		ad, err := p.addr(f[i+1])
		if err != nil {
			return nil, false
		}
		a.Src = hostPrefix(ad)
		i += 2
	default:
		pr, n, err := p.prefix(f, i)
		if err != nil {
			return nil, false
		}
		a.Src = pr.Masked()
		i += n
	}
	switch len(f) - 1 - i {
	case 0:
	case 1:
		t, ok := ParseICMPType(f[i])
		if !ok {
			return nil, false
		}
		a.Type = t
	default:
		return nil, false
	}
	return &icmpAccessNod{a: a}, true
}

var weekdays = map[string]time.Weekday{
	"Sunday": time.Sunday, "Monday": time.Monday, "Tuesday": time.Tuesday, "Wednesday": time.Wednesday,
	"Thursday": time.Thursday, "Friday": time.Friday, "Saturday": time.Saturday,
}

var months = map[string]time.Month{}

func init() {
	for m := time.January; m <= time.December; m++ {
		months[m.String()] = m
		months[m.String()[:3]] = m
	}
}

// clockMinutes reads "hh:mm" (00:00-23:59; 24:00 is accepted as an end).
func clockMinutes(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// absTime reads "hh:mm day month year" at s[i:i+4].
func absTime(s []string, i int) (time.Time, bool) {
	if i+4 > len(s) {
		return time.Time{}, false
	}
	min, ok := clockMinutes(s[i])
	if !ok || min >= 24*60 {
		return time.Time{}, false
	}
	d, err := strconv.Atoi(s[i+1])
	mo, okm := months[s[i+2]]
	y, erry := strconv.Atoi(s[i+3])
	if err != nil || !okm || erry != nil || d < 1 || d > 31 || y < 1993 || y > 2035 {
		return time.Time{}, false
	}
	t := time.Date(y, mo, d, min/60, min%60, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // 31 February
	}
	return t, true
}

// dayList reads weekday words (and daily, weekdays, weekend) from s[i:],
// up to the first non-day word.
func dayList(s []string, i int) ([]time.Weekday, int) {
	var out []time.Weekday
	n := 0
	for ; i+n < len(s); n++ {
		w := s[i+n]
		switch w {
		case "daily":
			out = append(out, time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday)
		case "weekdays":
			out = append(out, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)
		case "weekend":
			out = append(out, time.Saturday, time.Sunday)
		default:
			d, ok := weekdays[w]
			if !ok {
				return out, n
			}
			out = append(out, d)
		}
	}
	return out, n
}

// parsePeriodic reads the words after `periodic`.
func parsePeriodic(s []string) (Weekly, error) {
	bad := fmt.Errorf("periodic %q: %w", strings.Join(s, " "), ErrBadValue)
	days, n := dayList(s, 0)
	if n == 0 || n >= len(s) {
		return Weekly{}, bad
	}
	from, ok := clockMinutes(s[n])
	if !ok || n+2 >= len(s) || s[n+1] != "to" {
		return Weekly{}, bad
	}
	rest := s[n+2:]
	w := Weekly{Days: days, From: from}
	if len(rest) == 2 {
		// "Monday 8:00 to Friday 17:00": one start day, one end day.
		endDays, k := dayList(rest, 0)
		if n != 1 || k != 1 || len(days) != 1 || len(endDays) != 1 {
			return Weekly{}, bad
		}
		w.Span, w.SpanTo = true, endDays[0]
		rest = rest[1:]
	}
	if len(rest) != 1 {
		return Weekly{}, bad
	}
	to, ok := clockMinutes(rest[0])
	if !ok {
		return Weekly{}, bad
	}
	w.To = to
	if !w.Span && to <= from {
		return Weekly{}, bad
	}
	return w, nil
}

// parseTimeRange reads a `time-range NAME` block.
func (p *parser) parseTimeRange(name string, subs [][]string) (any, error) {
	t := &TimeRange{Name: name}
	var first error
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	for _, s := range subs[1:] {
		switch {
		case len(s) == 0:
		case s[0] == "absolute":
			for i := 1; i < len(s); {
				v, ok := absTime(s, i+1)
				if !ok || (s[i] != "start" && s[i] != "end") {
					fail(fmt.Errorf("absolute %q: %w", strings.Join(s, " "), ErrBadValue))
					break
				}
				if s[i] == "start" {
					t.Start = v
				} else {
					t.End = v
				}
				i += 5
			}
		case s[0] == "periodic":
			w, err := parsePeriodic(s[1:])
			if err != nil {
				fail(err)
				continue
			}
			t.Periodic = append(t.Periodic, w)
		}
	}
	return t, first
}

// Active reports whether the time-range is active at wall-clock time local
// (the device's clock, zone ignored: only its fields are read). The absolute
// end minute is included (the ASA configuration guide: "the end time is
// inclusive"; a real box then takes up to 80-100 s more); a periodic line's
// end minute is excluded.
func (t TimeRange) Active(local time.Time) bool {
	w := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), 0, 0, time.UTC)
	if !t.Start.IsZero() && w.Before(t.Start) {
		return false
	}
	if !t.End.IsZero() && w.After(t.End) {
		return false
	}
	if len(t.Periodic) == 0 {
		return true
	}
	min := local.Hour()*60 + local.Minute()
	for _, p := range t.Periodic {
		if p.active(local.Weekday(), min) {
			return true
		}
	}
	return false
}

func (p Weekly) active(day time.Weekday, min int) bool {
	if !p.Span {
		return slices.Contains(p.Days, day) && min >= p.From && min < p.To
	}
	// Minutes of the week from Monday 00:00, as the ASA's week starts.
	week := func(d time.Weekday, m int) int { return (int(d)+6)%7*24*60 + m }
	now, from, to := week(day, min), week(p.Days[0], p.From), week(p.SpanTo, p.To)
	if from <= to {
		return now >= from && now < to
	}
	return now >= from || now < to // wraps over the end of the week
}
