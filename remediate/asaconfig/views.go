package asaconfig

import (
	"net/netip"
	"slices"
)

// Hostname is the configured hostname, or "".
func (c *Config) Hostname() string {
	for _, n := range c.nodes {
		if h, ok := n.v.(*hostnameNode); ok {
			return h.name
		}
	}
	return ""
}

// Names lists the `name` entries.
func (c *Config) Names() []NameEntry {
	var out []NameEntry
	for _, n := range c.nodes {
		if e, ok := n.v.(*NameEntry); ok {
			out = append(out, *e)
		}
	}
	return out
}

// Interfaces lists the interface blocks in order.
func (c *Config) Interfaces() []Interface {
	var out []Interface
	for _, n := range c.nodes {
		if in, ok := n.v.(*Interface); ok {
			out = append(out, *in)
		}
	}
	return out
}

// InterfaceByName finds the interface with the given nameif.
func (c *Config) InterfaceByName(nameif string) (Interface, bool) {
	for _, in := range c.Interfaces() {
		if in.Nameif == nameif {
			return in, true
		}
	}
	return Interface{}, false
}

// NetworkObjects lists the `object network` definitions, one per name: the
// ASA shows an object again in its NAT section, and those repeats are merged
// into the first.
func (c *Config) NetworkObjects() []NetworkObject {
	var out []NetworkObject
	idx := map[string]int{}
	for _, n := range c.nodes {
		o, ok := n.v.(*NetworkObject)
		if !ok {
			continue
		}
		i, seen := idx[o.Name]
		if !seen {
			idx[o.Name] = len(out)
			out = append(out, *o)
			continue
		}
		if !out[i].Prefix.IsValid() {
			out[i].Prefix = o.Prefix
		}
		if !out[i].First.IsValid() {
			out[i].First, out[i].Last = o.First, o.Last
		}
		if out[i].FQDN == "" {
			out[i].FQDN = o.FQDN
		}
		if out[i].Description == "" {
			out[i].Description = o.Description
		}
	}
	return out
}

// NetworkGroups lists the `object-group network` definitions.
func (c *Config) NetworkGroups() []NetworkGroup {
	var out []NetworkGroup
	for _, n := range c.nodes {
		if g, ok := n.v.(*groupNode); ok {
			out = append(out, copyGroup(g.g))
		}
	}
	return out
}

func copyGroup(g NetworkGroup) NetworkGroup {
	g.Members = slices.Clone(g.Members)
	return g
}

// Group finds a network object-group by name.
func (c *Config) Group(name string) (NetworkGroup, bool) {
	if i := c.groupIndex(name); i >= 0 {
		return copyGroup(c.nodes[i].v.(*groupNode).g), true
	}
	return NetworkGroup{}, false
}

func (c *Config) groupIndex(name string) int {
	for i, n := range c.nodes {
		if g, ok := n.v.(*groupNode); ok && g.g.Name == name {
			return i
		}
	}
	return -1
}

// objectExists reports whether name is taken in the shared namespace of
// objects and object-groups.
func (c *Config) objectExists(name string) bool {
	for _, n := range c.nodes {
		switch v := n.v.(type) {
		case *groupNode:
			if v.g.Name == name {
				return true
			}
		case *NetworkObject:
			if v.Name == name {
				return true
			}
		case *otherObjNode:
			if v.name == name {
				return true
			}
		}
	}
	return false
}

// ACLNames lists access-list names in order of first appearance.
func (c *Config) ACLNames() []string {
	var out []string
	for _, n := range c.nodes {
		if a, ok := n.v.(*aclNode); ok && !slices.Contains(out, a.acl) {
			out = append(out, a.acl)
		}
	}
	return out
}

// ACL returns an access-list with its entries numbered as `show
// access-list` numbers them.
func (c *Config) ACL(name string) (ACL, bool) {
	acl := ACL{Name: name}
	for _, n := range c.nodes {
		if a, ok := n.v.(*aclNode); ok && a.acl == name {
			e := a.entry
			e.Line = len(acl.Entries) + 1
			acl.Entries = append(acl.Entries, e)
		}
	}
	return acl, len(acl.Entries) > 0
}

// aclNodeIndex returns the node index of line (1-based) of acl, or -1; line
// 0 or past the end returns -1.
func (c *Config) aclNodeIndex(acl string, line int) int {
	k := 0
	for i, n := range c.nodes {
		if a, ok := n.v.(*aclNode); ok && a.acl == acl {
			k++
			if k == line {
				return i
			}
		}
	}
	return -1
}

// AccessGroups lists the access-group bindings.
func (c *Config) AccessGroups() []AccessGroup {
	var out []AccessGroup
	for _, n := range c.nodes {
		if g, ok := n.v.(*AccessGroup); ok {
			out = append(out, *g)
		}
	}
	return out
}

// InboundACL returns the name of the ACL bound `in interface nameif` for
// transit traffic (a control-plane binding filters only traffic to the box).
func (c *Config) InboundACL(nameif string) (string, bool) {
	for _, g := range c.AccessGroups() {
		if g.Dir == DirIn && g.Interface == nameif && !g.ControlPlane {
			return g.ACL, true
		}
	}
	return "", false
}

// OutboundACL returns the name of the ACL bound `out interface nameif`.
func (c *Config) OutboundACL(nameif string) (string, bool) {
	for _, g := range c.AccessGroups() {
		if g.Dir == DirOut && g.Interface == nameif {
			return g.ACL, true
		}
	}
	return "", false
}

// ControlPlaneACL returns the ACL bound `in interface nameif control-plane`.
func (c *Config) ControlPlaneACL(nameif string) (string, bool) {
	for _, g := range c.AccessGroups() {
		if g.Dir == DirIn && g.Interface == nameif && g.ControlPlane {
			return g.ACL, true
		}
	}
	return "", false
}

// GlobalACL returns the ACL bound with `access-group NAME global`.
func (c *Config) GlobalACL() (string, bool) {
	for _, g := range c.AccessGroups() {
		if g.Dir == DirGlobal {
			return g.ACL, true
		}
	}
	return "", false
}

// Routes lists the static routes in order.
func (c *Config) Routes() []Route {
	var out []Route
	for _, n := range c.nodes {
		if r, ok := n.v.(*Route); ok {
			out = append(out, *r)
		}
	}
	return out
}

// SelfProtected derives from the configuration the prefixes that must never
// be blocked: interface addresses (and standby addresses), connected subnets
// (scope whole), management permits (ssh/http/telnet), logging, NTP, AAA,
// DNS and SNMP hosts, VPN peers, failover addresses and route gateways. Each
// prefix appears once, with the first reason found.
func (c *Config) SelfProtected() []Protected {
	var out []Protected
	seen := map[netip.Prefix]bool{}
	add := func(p Protected) {
		p.Prefix = p.Prefix.Masked()
		if !p.Prefix.IsValid() || seen[p.Prefix] {
			return
		}
		seen[p.Prefix] = true
		out = append(out, p)
	}
	for _, n := range c.nodes {
		switch v := n.v.(type) {
		case *Interface:
			if v.Address.IsValid() {
				add(Protected{Prefix: hostPrefix(v.Address.Addr()), Reason: "interface address of " + v.Nameif})
				if v.Standby.IsValid() {
					add(Protected{Prefix: hostPrefix(v.Standby), Reason: "standby address of " + v.Nameif})
				}
			}
		case *Route:
			reason := "route gateway via " + v.Interface
			if v.Dest.Bits() == 0 {
				reason = "default gateway via " + v.Interface
			}
			add(Protected{Prefix: hostPrefix(v.Gateway), Reason: reason})
		case *factNode:
			for _, p := range v.prot {
				add(p)
			}
		case *mgmtNode:
			add(c.mgmtProtection(v))
		}
	}
	// Connected subnets last: a host-scope reason wins for the same prefix.
	for _, in := range c.Interfaces() {
		if in.Address.IsValid() && !in.Address.IsSingleIP() {
			add(Protected{Prefix: in.Address, Scope: ScopeWhole, Reason: "connected subnet of " + in.Nameif})
		}
	}
	return out
}

// mgmtProtection protects a management permit. A permit that covers the
// whole connected subnet of a data interface (e.g. `ssh 10.20.0.0
// 255.255.255.0 inside`) names no admin host in particular, so it only
// refuses blocking that subnet as a whole; hosts in it can be quarantined.
func (c *Config) mgmtProtection(m *mgmtNode) Protected {
	p := Protected{Prefix: m.prefix, Reason: m.proto + " management access on " + m.nameif + ": " + m.text}
	if m.prefix.Bits() == 0 {
		p.Scope = ScopeWhole // from anywhere: names nobody
		return p
	}
	for _, in := range c.Interfaces() {
		if in.MgmtOnly || !in.Address.IsValid() || in.Address.IsSingleIP() {
			continue
		}
		sub := in.Address.Masked()
		if m.prefix.Bits() <= sub.Bits() && m.prefix.Contains(sub.Addr()) {
			p.Scope = ScopeWhole
			p.Reason += " (covers connected subnet of " + in.Nameif + ")"
		}
	}
	return p
}
