package datapath

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

type matchResult uint8

const (
	matchNo matchResult = iota
	matchYes
	matchMaybe
)

// addrSet is a compiled ACE address.
type addrSet struct {
	any4, any6 bool
	prefixes   []netip.Prefix
	ranges     [][2]netip.Addr
	maybe      string // an FQDN object: membership unknown
	group      string // the network object-group named by the entry
}

func (s *addrSet) match(a netip.Addr) matchResult {
	if a.Is4() && s.any4 || a.Is6() && s.any6 {
		return matchYes
	}
	for _, p := range s.prefixes {
		if p.Contains(a) {
			return matchYes
		}
	}
	for _, r := range s.ranges {
		if a.BitLen() == r[0].BitLen() && !a.Less(r[0]) && !r[1].Less(a) {
			return matchYes
		}
	}
	if s.maybe != "" {
		return matchMaybe
	}
	return matchNo
}

// svc is one protocol/port/icmp alternative of an entry.
type svc struct {
	proto              int16 // asaconfig.AnyProto: every protocol; asaconfig.TCPUDP: tcp or udp
	src, dst           asaconfig.PortMatch
	icmpType, icmpCode int16
}

func portOK(m asaconfig.PortMatch, p uint16) bool {
	switch m.Op {
	case asaconfig.PortAny:
		return true
	case asaconfig.PortEq:
		return p == m.Lo
	case asaconfig.PortNeq:
		return p != m.Lo
	case asaconfig.PortLt:
		return p < m.Lo
	case asaconfig.PortGt:
		return p > m.Lo
	case asaconfig.PortRange:
		return p >= m.Lo && p <= m.Hi
	}
	return false
}

func (s svc) match(f Flow) bool {
	switch s.proto {
	case asaconfig.AnyProto:
	case asaconfig.TCPUDP:
		if f.Proto != TCP && f.Proto != UDP {
			return false
		}
	default:
		if s.proto != int16(f.Proto) {
			return false
		}
	}
	portCond := s.src.Op != asaconfig.PortAny || s.dst.Op != asaconfig.PortAny
	switch {
	case hasPorts(f.Proto):
		return portOK(s.src, f.SrcPort) && portOK(s.dst, f.DstPort)
	case portCond:
		return false // a port condition matches only port-bearing protocols
	case f.Proto == ICMP || f.Proto == 58:
		return (s.icmpType == asaconfig.AnyICMP || s.icmpType == int16(f.ICMPType)) &&
			(s.icmpCode == asaconfig.AnyICMP || s.icmpCode == int16(f.ICMPCode))
	}
	return true
}

// entry is a compiled ACE.
type entry struct {
	acl, text, remark string
	line              int
	action            asaconfig.Action
	why               string // cannot be decided (Unknown when reached)
	src, dst          addrSet
	svcs              []svc
	timeRange         string
	tr                *asaconfig.TimeRange // nil with timeRange set: undefined, never active
	inactive          bool
}

func (e *entry) ref() *Rule {
	if e == nil {
		return nil
	}
	g := e.dst.group
	if e.src.group != "" {
		g = e.src.group
	}
	return &Rule{ACL: e.acl, Line: e.line, Text: e.text, Remark: e.remark, Group: g}
}

func (e *entry) active(local time.Time) bool {
	if e.inactive {
		return false
	}
	if e.timeRange == "" {
		return true
	}
	return e.tr != nil && e.tr.Active(local)
}

func (e *entry) match(f Flow, local time.Time) matchResult {
	if e.why != "" {
		return matchMaybe
	}
	if !e.active(local) {
		return matchNo
	}
	if !slices.ContainsFunc(e.svcs, func(s svc) bool { return s.match(f) }) {
		return matchNo
	}
	rs, rd := e.src.match(f.Src), e.dst.match(f.Dst)
	switch {
	case rs == matchNo || rd == matchNo:
		return matchNo
	case rs == matchMaybe || rd == matchMaybe:
		return matchMaybe
	}
	return matchYes
}

type acl struct {
	name    string
	entries []entry
}

// compiler resolves the objects entries refer to, once per model.
type compiler struct {
	cfg      *asaconfig.Config
	ifaces   map[string]asaconfig.Interface
	objects  map[string]asaconfig.NetworkObject
	groups   map[string]asaconfig.NetworkGroup
	trs      map[string]asaconfig.TimeRange
	warnings []string
}

func newCompiler(cfg *asaconfig.Config) *compiler {
	c := &compiler{cfg: cfg, ifaces: map[string]asaconfig.Interface{}, objects: map[string]asaconfig.NetworkObject{},
		groups: map[string]asaconfig.NetworkGroup{}, trs: map[string]asaconfig.TimeRange{}}
	for _, in := range cfg.Interfaces() {
		c.ifaces[in.Nameif] = in
	}
	for _, o := range cfg.NetworkObjects() {
		c.objects[o.Name] = o
	}
	for _, g := range cfg.NetworkGroups() {
		c.groups[g.Name] = g
	}
	for _, t := range cfg.TimeRanges() {
		c.trs[t.Name] = t
	}
	return c
}

func (c *compiler) warn(format string, args ...any) {
	if len(c.warnings) < 100 {
		c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
	}
}

func (c *compiler) acl(name string) *acl {
	a := &acl{name: name}
	for _, r := range c.cfg.Rules(name) {
		if r.Kind == asaconfig.RuleRemark {
			continue
		}
		e := entry{acl: name, text: r.Text, remark: r.Remark, line: r.Line, action: r.Action,
			timeRange: r.TimeRange, inactive: r.Inactive}
		if r.Kind == asaconfig.RuleUnsupported {
			e.why = r.Why
			c.warn("%s line %d: %s", name, r.Line, r.Why)
			a.entries = append(a.entries, e)
			continue
		}
		if r.TimeRange != "" {
			if tr, ok := c.trs[r.TimeRange]; ok {
				e.tr = &tr
			} else {
				c.warn("%s line %d: time-range %s is not defined: the entry never matches", name, r.Line, r.TimeRange)
			}
		}
		var err error
		if e.src, err = c.addr(r.Src); err == nil {
			e.dst, err = c.addr(r.Dst)
		}
		if err == nil {
			e.svcs, err = c.services(r)
		}
		if err != nil {
			e.why = err.Error()
			c.warn("%s line %d: %v", name, r.Line, err)
		}
		a.entries = append(a.entries, e)
	}
	return a
}

func (c *compiler) addr(a asaconfig.Address) (addrSet, error) {
	var s addrSet
	switch a.Kind {
	case asaconfig.AddrAny:
		s.any4, s.any6 = true, true
	case asaconfig.AddrAny4:
		s.any4 = true
	case asaconfig.AddrAny6:
		s.any6 = true
	case asaconfig.AddrHost, asaconfig.AddrPrefix:
		s.prefixes = append(s.prefixes, a.Prefix.Masked())
	case asaconfig.AddrInterface:
		in, ok := c.ifaces[a.Name]
		if !ok || !in.Address.IsValid() {
			return s, fmt.Errorf("interface %s has no address", a.Name)
		}
		s.prefixes = append(s.prefixes, netip.PrefixFrom(in.Address.Addr(), in.Address.Addr().BitLen()))
	case asaconfig.AddrObject:
		if err := c.object(&s, a.Name); err != nil {
			return s, err
		}
	case asaconfig.AddrObjectGroup:
		s.group = a.Name
		if err := c.group(&s, a.Name, map[string]bool{}); err != nil {
			return s, err
		}
	default:
		return s, fmt.Errorf("address kind %d", a.Kind)
	}
	return s, nil
}

func (c *compiler) object(s *addrSet, name string) error {
	o, ok := c.objects[name]
	switch {
	case !ok:
		return fmt.Errorf("object %s is not defined", name)
	case o.Prefix.IsValid():
		s.prefixes = append(s.prefixes, o.Prefix.Masked())
	case o.First.IsValid():
		s.ranges = append(s.ranges, [2]netip.Addr{o.First, o.Last})
	case o.FQDN != "":
		s.maybe = "fqdn " + o.FQDN
	default:
		return fmt.Errorf("object %s has no address", name)
	}
	return nil
}

func (c *compiler) group(s *addrSet, name string, seen map[string]bool) error {
	if seen[name] {
		return nil
	}
	seen[name] = true
	g, ok := c.groups[name]
	if !ok {
		return fmt.Errorf("object-group %s is not defined", name)
	}
	for _, m := range g.Members {
		switch m.Kind {
		case asaconfig.MemberHost, asaconfig.MemberPrefix:
			s.prefixes = append(s.prefixes, m.Prefix.Masked())
		case asaconfig.MemberObject:
			if err := c.object(s, m.Name); err != nil {
				return err
			}
		case asaconfig.MemberGroup:
			if err := c.group(s, m.Name, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// services compiles the protocol, port and ICMP parts of r.
func (c *compiler) services(r asaconfig.Rule) ([]svc, error) {
	anyCode := asaconfig.AnyICMP
	switch {
	case r.Proto.Service && r.Proto.Object != "":
		return c.serviceObject(r.Proto.Object, map[string]bool{})
	case r.Proto.Service:
		return c.serviceGroup(r.Proto.Group, map[string]bool{})
	}
	var protos []int16
	if r.Proto.Group != "" {
		var err error
		if protos, err = c.protocolGroup(r.Proto.Group, map[string]bool{}); err != nil {
			return nil, err
		}
	} else {
		protos = []int16{r.Proto.Number}
	}
	srcs, err := c.ports(r.SrcPort)
	if err != nil {
		return nil, err
	}
	dsts, err := c.ports(r.DstPort)
	if err != nil {
		return nil, err
	}
	icmps := [][2]int16{{r.ICMP.Type, r.ICMP.Code}}
	if r.ICMP.Group != "" {
		types, err := c.icmpGroup(r.ICMP.Group, map[string]bool{})
		if err != nil {
			return nil, err
		}
		icmps = icmps[:0]
		for _, t := range types {
			icmps = append(icmps, [2]int16{t, anyCode})
		}
	}
	var out []svc
	for _, p := range protos {
		for _, sp := range srcs {
			for _, dp := range dsts {
				for _, ic := range icmps {
					out = append(out, svc{proto: p, src: sp, dst: dp, icmpType: ic[0], icmpCode: ic[1]})
				}
			}
		}
	}
	return out, nil
}

// ports expands a port condition: an operator, or a port-object group.
func (c *compiler) ports(p asaconfig.PortSpec) ([]asaconfig.PortMatch, error) {
	if p.Group == "" {
		return []asaconfig.PortMatch{p.Match}, nil
	}
	entries, err := c.serviceEntries(p.Group, map[string]bool{})
	if err != nil {
		return nil, err
	}
	var out []asaconfig.PortMatch
	for _, e := range entries {
		out = append(out, e.Dst)
	}
	return out, nil
}

func (c *compiler) serviceEntries(name string, seen map[string]bool) ([]asaconfig.ServiceEntry, error) {
	if seen[name] {
		return nil, nil
	}
	seen[name] = true
	g, ok, err := c.cfg.ServiceGroup(name)
	if !ok {
		return nil, fmt.Errorf("object-group service %s is not defined", name)
	}
	if err != nil {
		return nil, err
	}
	var out []asaconfig.ServiceEntry
	for _, e := range g.Entries {
		if e.Group != "" {
			sub, err := c.serviceEntries(e.Group, seen)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func entrySvc(e asaconfig.ServiceEntry) svc {
	return svc{proto: e.Proto, src: e.Src, dst: e.Dst, icmpType: e.ICMPType, icmpCode: e.ICMPCode}
}

func (c *compiler) serviceGroup(name string, seen map[string]bool) ([]svc, error) {
	entries, err := c.serviceEntries(name, seen)
	if err != nil {
		return nil, err
	}
	var out []svc
	for _, e := range entries {
		if e.Object != "" {
			sub, err := c.serviceObject(e.Object, seen)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
			continue
		}
		out = append(out, entrySvc(e))
	}
	return out, nil
}

func (c *compiler) serviceObject(name string, _ map[string]bool) ([]svc, error) {
	e, ok, err := c.cfg.ServiceObject(name)
	if !ok {
		return nil, fmt.Errorf("object service %s is not defined", name)
	}
	if err != nil {
		return nil, err
	}
	return []svc{entrySvc(e)}, nil
}

func (c *compiler) protocolGroup(name string, seen map[string]bool) ([]int16, error) {
	if seen[name] {
		return nil, nil
	}
	seen[name] = true
	g, ok, err := c.cfg.ProtocolGroup(name)
	if !ok {
		return nil, fmt.Errorf("object-group protocol %s is not defined", name)
	}
	if err != nil {
		return nil, err
	}
	out := slices.Clone(g.Protocols)
	for _, sub := range g.Groups {
		ps, err := c.protocolGroup(sub, seen)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

func (c *compiler) icmpGroup(name string, seen map[string]bool) ([]int16, error) {
	if seen[name] {
		return nil, nil
	}
	seen[name] = true
	g, ok, err := c.cfg.ICMPGroup(name)
	if !ok {
		return nil, fmt.Errorf("object-group icmp-type %s is not defined", name)
	}
	if err != nil {
		return nil, err
	}
	out := slices.Clone(g.Types)
	for _, sub := range g.Groups {
		ts, err := c.icmpGroup(sub, seen)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}
