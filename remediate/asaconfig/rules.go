package asaconfig

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// RuleKind classifies an access-list line for evaluation.
type RuleKind uint8

// Rule kinds.
const (
	RuleRemark RuleKind = iota + 1
	// RuleMatch is an extended ACE typed completely.
	RuleMatch
	// RuleUnsupported is an ACE whose match cannot be decided from the
	// configuration alone (user identity, FQDN objects, security groups) or
	// that is not an extended ACE (standard, webtype, ethertype); Why says.
	RuleUnsupported
)

// ProtoSpec is the protocol part of an ACE: a number (AnyProto for `ip`),
// a protocol object-group, or a service object-group or service object that
// also carries the ports (Service).
type ProtoSpec struct {
	Number  int16  `json:"number,omitempty"`
	Group   string `json:"group,omitempty"`
	Object  string `json:"object,omitempty"`
	Service bool   `json:"service,omitempty"`
}

// PortSpec is a port condition: an operator, or a service object-group of
// port-object lines (Group).
type PortSpec struct {
	Match PortMatch `json:"match,omitzero"`
	Group string    `json:"group,omitempty"`
}

// ICMPSpec is the ICMP condition of an ICMP ACE: a type (AnyICMP: any) and
// code (AnyICMP: any), or an icmp-type object-group.
type ICMPSpec struct {
	Type  int16  `json:"type"`
	Code  int16  `json:"code"`
	Group string `json:"group,omitempty"`
}

// Rule is one access-list line typed for evaluation (package datapath):
// unlike [ACE] it covers every extended form (protocol numbers, protocol
// and service groups, service objects, icmp types and groups).
type Rule struct {
	ACL    string
	Line   int    // as `show access-list` numbers it
	Text   string // the configuration line
	Remark string // the remark directly above (the last one), if any
	Kind   RuleKind
	Why    string // RuleUnsupported: what is not modelled

	Action           Action
	Proto            ProtoSpec
	Src, Dst         Address
	SrcPort, DstPort PortSpec
	ICMP             ICMPSpec
	TimeRange        string
	Inactive         bool
}

// Rules returns every line of acl typed for evaluation, in order.
func (c *Config) Rules(acl string) []Rule {
	a, ok := c.ACL(acl)
	if !ok {
		return nil
	}
	p := &parser{names: map[string]netip.Addr{}, objKind: c.objKinds()}
	for _, n := range c.Names() {
		p.names[n.Name] = n.Addr
	}
	out := make([]Rule, 0, len(a.Entries))
	remark := ""
	for _, e := range a.Entries {
		r := Rule{ACL: acl, Line: e.Line, Text: strings.TrimSpace(e.Text)}
		if e.Kind == EntryRemark {
			r.Kind, r.Remark = RuleRemark, e.Remark
			remark = e.Remark
			out = append(out, r)
			continue
		}
		r.Remark, remark = remark, ""
		f := strings.Fields(r.Text)
		if len(f) < 3 || f[2] != "extended" {
			r.Kind, r.Why = RuleUnsupported, "not an extended access-list entry"
			if len(f) >= 3 {
				r.Why = f[2] + " access-list entries are not modelled"
			}
			out = append(out, r)
			continue
		}
		if err := p.parseRule(&r, f[3:]); err != nil {
			r.Kind, r.Why = RuleUnsupported, err.Error()
		} else {
			r.Kind = RuleMatch
		}
		out = append(out, r)
	}
	return out
}

// unsupportedAddr are ACE address words whose match the config cannot decide.
var unsupportedAddr = map[string]string{
	"user": "user identity", "user-group": "user identity", "object-group-user": "user identity",
	"security-group": "security groups", "object-group-security": "security groups", "fqdn": "FQDN addresses",
}

// parseRule types the words after "extended" into r.
func (p *parser) parseRule(r *Rule, f []string) error {
	if len(f) < 3 {
		return fmt.Errorf("short entry")
	}
	switch f[0] {
	case "permit":
		r.Action = Permit
	case "deny":
		r.Action = Deny
	default:
		return fmt.Errorf("action %q", f[0])
	}
	i := 1
	switch f[i] {
	case "object-group":
		if i+1 >= len(f) {
			return fmt.Errorf("protocol group without a name")
		}
		name := f[i+1]
		switch p.objKind[name] {
		case "protocol":
			r.Proto = ProtoSpec{Group: name}
		case "service":
			r.Proto = ProtoSpec{Group: name, Service: true}
		default:
			return fmt.Errorf("object-group %s is not a protocol or service group", name)
		}
		i += 2
	case "object":
		if i+1 >= len(f) {
			return fmt.Errorf("service object without a name")
		}
		if p.objKind[f[i+1]] != "object-service" {
			return fmt.Errorf("object %s is not a service object", f[i+1])
		}
		r.Proto = ProtoSpec{Object: f[i+1], Service: true}
		i += 2
	default:
		n, ok := ParseProtocol(f[i])
		if !ok {
			return fmt.Errorf("protocol %q", f[i])
		}
		r.Proto = ProtoSpec{Number: n}
		i++
	}
	if w, ok := unsupportedAddr[f[i]]; ok {
		return fmt.Errorf("entries with %s are not modelled", w)
	}
	var err error
	if r.Src, i, err = p.ruleAddr(f, i); err != nil {
		return err
	}
	if r.SrcPort, i, err = p.rulePort(r.Proto, f, i); err != nil {
		return err
	}
	if i < len(f) {
		if w, ok := unsupportedAddr[f[i]]; ok {
			return fmt.Errorf("entries with %s are not modelled", w)
		}
	}
	if r.Dst, i, err = p.ruleAddr(f, i); err != nil {
		return err
	}
	r.ICMP = ICMPSpec{Type: AnyICMP, Code: AnyICMP}
	if r.Proto.Number == 1 || r.Proto.Number == 58 {
		if i, err = p.ruleICMP(r, f, i); err != nil {
			return err
		}
	} else if r.DstPort, i, err = p.rulePort(r.Proto, f, i); err != nil {
		return err
	}
	for i < len(f) {
		switch f[i] {
		case "log":
			i++
			for i < len(f) && f[i] != "time-range" && f[i] != "inactive" {
				i++ // level, interval N, disable, default
			}
		case "time-range":
			if i+1 >= len(f) {
				return fmt.Errorf("time-range without a name")
			}
			r.TimeRange = f[i+1]
			i += 2
		case "inactive":
			r.Inactive = true
			i++
		default:
			return fmt.Errorf("word %q", f[i])
		}
	}
	return nil
}

func (p *parser) ruleAddr(f []string, i int) (Address, int, error) {
	if i >= len(f) {
		return Address{}, i, fmt.Errorf("missing address")
	}
	switch f[i] {
	case "object-group":
		if i+1 >= len(f) {
			return Address{}, i, fmt.Errorf("object-group without a name")
		}
		if k := p.objKind[f[i+1]]; k != "network" {
			return Address{}, i, fmt.Errorf("object-group %s is not a network group", f[i+1])
		}
		return Address{Kind: AddrObjectGroup, Name: f[i+1]}, i + 2, nil
	case "object":
		if i+1 >= len(f) {
			return Address{}, i, fmt.Errorf("object without a name")
		}
		if k := p.objKind[f[i+1]]; k != "object-network" {
			return Address{}, i, fmt.Errorf("object %s is not a network object", f[i+1])
		}
		return Address{Kind: AddrObject, Name: f[i+1]}, i + 2, nil
	}
	a, n, err := p.aceAddr(f, i)
	if err != nil {
		return Address{}, i, fmt.Errorf("address at %q: %w", f[i], err)
	}
	return a, n, nil
}

func (p *parser) rulePort(proto ProtoSpec, f []string, i int) (PortSpec, int, error) {
	if i >= len(f) || proto.Service {
		return PortSpec{}, i, nil
	}
	if f[i] == "object-group" && i+1 < len(f) && p.objKind[f[i+1]] == "service" {
		return PortSpec{Group: f[i+1]}, i + 2, nil
	}
	num := proto.Number
	if proto.Group != "" {
		num = 6 // a protocol group: names from the TCP table
	}
	m, n, err := portOp(num, f, i)
	if err != nil {
		return PortSpec{}, i, err
	}
	if n > 0 && proto.Group == "" && num != 6 && num != 17 && num != 132 {
		return PortSpec{}, i, fmt.Errorf("port condition on protocol %d", num)
	}
	return PortSpec{Match: m}, i + n, nil
}

func (p *parser) ruleICMP(r *Rule, f []string, i int) (int, error) {
	if i >= len(f) {
		return i, nil
	}
	if f[i] == "object-group" && i+1 < len(f) && p.objKind[f[i+1]] == "icmp-type" {
		r.ICMP.Group = f[i+1]
		return i + 2, nil
	}
	t, ok := ParseICMPType(f[i])
	if !ok {
		return i, nil // an option word follows
	}
	r.ICMP.Type = t
	i++
	if i < len(f) {
		if c, err := strconv.ParseUint(f[i], 10, 8); err == nil {
			r.ICMP.Code = int16(c)
			i++
		}
	}
	return i, nil
}
