package asaconfig

import (
	"fmt"
	"net/netip"
)

// denyPlacement says where denyOn puts its ACE in an existing ACL.
type denyPlacement uint8

const (
	atTop           denyPlacement = iota + 1 // line 1
	afterProtection                          // [Config.BlockInsertLine]
)

// denyOn plans ace, under a remark of kind for id, in the inbound ACL of
// nameif. When the interface has no inbound ACL (a control-plane binding
// does not count), it creates one that starts with the remark and the deny
// and then allows what the security levels allowed ([Config.ImplicitACL]),
// and binds it: today's traffic is unchanged but for the deny. It returns
// the changes (nil with a note when the ACE is already there) and the ACL.
// c must already include the changes planned before (the caller applies
// them in order).
func (c *Config) denyOn(nameif string, ace ACE, id string, kind RemarkKind, where denyPlacement, l Limits) ([]Change, string, string, error) {
	if err := ValidateName(nameif); err != nil {
		return nil, "", "", err
	}
	if _, ok := c.InterfaceByName(nameif); !ok {
		return nil, "", "", fmt.Errorf("interface %s: %w", nameif, ErrNotFound)
	}
	if acl, ok := c.InboundACL(nameif); ok {
		a, _ := c.ACL(acl)
		for _, e := range a.Entries {
			if e.Kind == EntryACE && sameACE(e.ACE, ace) {
				return nil, acl, fmt.Sprintf("%s line %d already has this deny", acl, e.Line), nil
			}
		}
		line := 1
		if where == afterProtection {
			line = c.BlockInsertLine(acl, l)
		}
		return []Change{
			InsertACE{ACL: acl, Line: line, ACE: ace},
			AddRemark{ACL: acl, Line: line, Remark: Remark{ProposalID: id, Kind: kind}},
		}, acl, "", nil
	}
	acl, err := c.NewACLName(nameif)
	if err != nil {
		return nil, "", "", err
	}
	out := []Change{
		InsertACE{ACL: acl, Line: 1, ACE: ace},
		AddRemark{ACL: acl, Line: 1, Remark: Remark{ProposalID: id, Kind: kind}},
		AddRemark{ACL: acl, Line: 1, Remark: Remark{ProposalID: id, Kind: KindACL}},
	}
	rest, err := c.ImplicitACL(acl, nameif, 4)
	if err != nil {
		return nil, "", "", err
	}
	out = append(out, rest...)
	out = append(out, BindACL{ACL: acl, Interface: nameif})
	note := fmt.Sprintf("%s had no inbound access-list: new %s keeps what its security level allowed (%d entries after the deny) and is bound with `access-group %s in interface %s`",
		nameif, acl, len(rest), acl, nameif)
	return out, acl, note, nil
}

// FlowDeny asks to deny traffic from each Src to its Dst (pairs) on the
// inbound ACL of Interface, the interface the sources' traffic enters by.
// It is used for SAN traffic the policy does not allow.
type FlowDeny struct {
	ProposalID string
	Interface  string
	Pairs      [][2]netip.Addr
}

// PlanFlowDeny plans `deny ip host SRC host DST` at line 1 of the
// interface's inbound ACL (binding a new one where there is none) for each
// pair, under a san-route remark.
func (c *Config) PlanFlowDeny(d FlowDeny, l Limits) (Plan, error) {
	if err := c.Manageable(); err != nil {
		return Plan{}, err
	}
	if _, err := NewRemark(d.ProposalID, KindSAN); err != nil {
		return Plan{}, err
	}
	if len(d.Pairs) == 0 {
		return Plan{}, fmt.Errorf("flow deny without flows: %w", ErrBadValue)
	}
	var p Plan
	cur := c
	for _, pr := range d.Pairs {
		if !pr[0].IsValid() || !pr[1].IsValid() {
			return Plan{}, fmt.Errorf("flow %v -> %v: %w", pr[0], pr[1], ErrBadValue)
		}
		if err := c.CheckTarget(hostPrefix(pr[0]), l); err != nil {
			return Plan{}, err
		}
		ace := ACE{Action: Deny, Protocol: ProtoIP, Src: HostAddr(pr[0]), Dst: HostAddr(pr[1])}
		ch, _, note, err := cur.denyOn(d.Interface, ace, d.ProposalID, KindSAN, atTop, l)
		if err != nil {
			return Plan{}, err
		}
		if note != "" {
			p.Notes = append(p.Notes, note)
		}
		if len(ch) == 0 {
			continue
		}
		next, err := cur.Apply(ch)
		if err != nil {
			return Plan{}, fmt.Errorf("plan does not apply: %w", err)
		}
		cur = next
		p.Changes = append(p.Changes, ch...)
	}
	if len(p.Changes) == 0 {
		p.Notes = append(p.Notes, "every flow is already denied: no change")
	}
	return p, nil
}
