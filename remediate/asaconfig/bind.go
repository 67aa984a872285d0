package asaconfig

import (
	"fmt"
	"net/netip"
	"slices"
)

// BindACL binds an existing ACL with `access-group ACL in interface I`.
// The interface must have no inbound transit binding yet (a control-plane
// binding may exist: it filters only traffic to the box). Its inverse is
// UnbindACL.
type BindACL struct {
	ACL       string
	Interface string
}

// UnbindACL removes `access-group ACL in interface I`.
type UnbindACL struct {
	ACL       string
	Interface string
}

// ClearConn is `clear conn address A` in privileged EXEC: it tears down
// the connections to and from A. A new deny does not cut a live connection
// (its packets match the connection table, not the ACL), so a block of
// traffic that is flowing needs it. There is nothing to undo: its inverse
// is itself (clearing again is harmless) and removal plans leave it out.
type ClearConn struct{ Addr netip.Addr }

func (BindACL) Mode() Mode   { return ModeConfig }
func (UnbindACL) Mode() Mode { return ModeConfig }
func (ClearConn) Mode() Mode { return ModeExec }

func (x BindACL) Inverse() Change   { return UnbindACL(x) }
func (x UnbindACL) Inverse() Change { return BindACL(x) }
func (x ClearConn) Inverse() Change { return x }

func bindLine(acl, iface string) (string, error) {
	if err := ValidateName(acl); err != nil {
		return "", err
	}
	if err := ValidateName(iface); err != nil {
		return "", err
	}
	return "access-group " + acl + " in interface " + iface, nil
}

func (x BindACL) Lines() ([]string, error) {
	l, err := bindLine(x.ACL, x.Interface)
	if err != nil {
		return nil, err
	}
	return lines(l)
}

func (x UnbindACL) Lines() ([]string, error) {
	l, err := bindLine(x.ACL, x.Interface)
	if err != nil {
		return nil, err
	}
	return lines("no " + l)
}

func (x ClearConn) Lines() ([]string, error) {
	if !x.Addr.IsValid() || x.Addr.Zone() != "" {
		return nil, fmt.Errorf("clear conn %v: %w", x.Addr, ErrBadValue)
	}
	return lines("clear conn address " + x.Addr.Unmap().String())
}

func (x BindACL) String() string {
	return "bind " + x.ACL + " in interface " + x.Interface
}
func (x UnbindACL) String() string {
	return "unbind " + x.ACL + " from interface " + x.Interface
}
func (x ClearConn) String() string { return "clear conn address " + x.Addr.String() }

func isBindNode(n node) bool { _, ok := n.v.(*AccessGroup); return ok }

func (x BindACL) apply(c *Config) error {
	if _, ok := c.InterfaceByName(x.Interface); !ok {
		return fmt.Errorf("interface %s: %w", x.Interface, ErrNotFound)
	}
	if _, ok := c.ACL(x.ACL); !ok {
		return fmt.Errorf("access-list %s: %w", x.ACL, ErrACLMissing)
	}
	if cur, ok := c.InboundACL(x.Interface); ok {
		return fmt.Errorf("interface %s already has %s: %w", x.Interface, cur, ErrExists)
	}
	l, _ := bindLine(x.ACL, x.Interface)
	at := c.lastIndex(isBindNode) + 1
	if at == 0 {
		at = c.lastIndex(isACLNode) + 1
		if at == 0 {
			at = len(c.nodes)
		}
	}
	c.insertAt(at, c.mkNode(l))
	return nil
}

func (x UnbindACL) apply(c *Config) error {
	i := c.firstIndex(func(n node) bool {
		g, ok := n.v.(*AccessGroup)
		return ok && g.Dir == DirIn && !g.ControlPlane && g.ACL == x.ACL && g.Interface == x.Interface
	})
	if i < 0 {
		return fmt.Errorf("access-group %s in interface %s: %w", x.ACL, x.Interface, ErrNotFound)
	}
	c.removeAt(i)
	return nil
}

func (ClearConn) apply(*Config) error { return nil }

// NewACLName is the name for a new inbound ACL of nameif: "<nameif>_access_in"
// (the ASDM convention), or with a "_fb" suffix when that is taken.
func (c *Config) NewACLName(nameif string) (string, error) {
	for _, n := range []string{nameif + "_access_in", nameif + "_access_in_fb", "FIREBREAK_" + nameif + "_in"} {
		if ValidateName(n) != nil {
			continue
		}
		if _, used := c.ACL(n); !used && !c.objectExists(n) {
			return n, nil
		}
	}
	return "", fmt.Errorf("no free ACL name for %s: %w", nameif, ErrExists)
}

// ImplicitACL renders what the security levels allow from interface in
// (which has no inbound ACL) as ACL entries, so that binding an ACL with a
// deny in front keeps today's behaviour: one entry per routed prefix
// (connected subnets and static routes, longest first, so the first match
// is the route the ASA would pick), permit when the egress interface's
// level is not higher than in's, deny when it is. Equal levels are
// permitted here: the same-security-traffic check comes after the ACL.
// Traffic to the default route's interface is the last entry (for "any").
// Each entry is an InsertACE at consecutive lines from first.
func (c *Config) ImplicitACL(acl, in string, first int) ([]Change, error) {
	src, ok := c.InterfaceByName(in)
	if !ok {
		return nil, fmt.Errorf("interface %s: %w", in, ErrNotFound)
	}
	level := effectiveLevel(src)
	type dest struct {
		p      netip.Prefix
		iface  string
		dist   int
		permit bool
	}
	levels := map[string]int{}
	for _, x := range c.Interfaces() {
		if x.Nameif != "" {
			levels[x.Nameif] = effectiveLevel(x)
		}
	}
	var ds []dest
	for _, x := range c.Interfaces() {
		if x.Nameif != "" && !x.Shutdown && x.Address.IsValid() && x.Address.Addr().Is4() {
			ds = append(ds, dest{p: x.Address.Masked(), iface: x.Nameif})
		}
	}
	for _, r := range c.Routes() {
		if _, up := levels[r.Interface]; !up || r.Tunneled || !r.Dest.Addr().Is4() {
			continue
		}
		ds = append(ds, dest{p: r.Dest.Masked(), iface: r.Interface, dist: max(1, int(r.Distance))})
	}
	slices.SortStableFunc(ds, func(a, b dest) int {
		if a.p.Bits() != b.p.Bits() {
			return b.p.Bits() - a.p.Bits()
		}
		return a.dist - b.dist
	})
	var out []Change
	seen := map[netip.Prefix]bool{}
	line := first
	for _, d := range ds {
		if seen[d.p] {
			continue // the ASA uses the first (lowest distance) route
		}
		seen[d.p] = true
		ace := ACE{Action: Permit, Protocol: ProtoIP, Src: AnyAddr(), Dst: prefixAddr(d.p)}
		if levels[d.iface] > level {
			ace.Action = Deny
		}
		out = append(out, InsertACE{ACL: acl, Line: line, ACE: ace})
		line++
	}
	if !seen[netip.PrefixFrom(netip.IPv4Unspecified(), 0)] {
		// No default route: the route lookup drops the rest anyway.
		out = append(out, InsertACE{ACL: acl, Line: line, ACE: ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: AnyAddr()}})
	}
	return out, nil
}

func prefixAddr(p netip.Prefix) Address {
	if p.Bits() == 0 {
		return AnyAddr()
	}
	if p.IsSingleIP() {
		return HostAddr(p.Addr())
	}
	return PrefixAddr(p)
}

// effectiveLevel is the interface's security level, with the ASA's default
// of 100 for nameif inside and 0 otherwise.
func effectiveLevel(in Interface) int {
	if in.SecurityLevel >= 0 {
		return in.SecurityLevel
	}
	if in.Nameif == "inside" {
		return 100
	}
	return 0
}
