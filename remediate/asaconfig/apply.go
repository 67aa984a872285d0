package asaconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Errors of Apply. They mirror what the ASA refuses (named in comments), and
// add a few refusals of our own where an exact inverse would be impossible.
var (
	ErrNamesInUse = errors.New("config uses 'name' entries")
	ErrNotFound   = errors.New("not found")           // "specified object group X not found", "obj does not exist in this group"
	ErrACLMissing = errors.New("access-list missing") // "access-list X does not exist"
	ErrExists     = errors.New("already exists")      // name taken (ours: the inverse would delete it)
	ErrDuplicate  = errors.New("duplicate")           // "object already exists", "Possible duplicate entry", "Route already exists"
	ErrInUse      = errors.New("in use")              // "not allowed, it is being used", "would become empty"
	ErrEmptyGroup = errors.New("object-group is empty")
	ErrNotEmpty   = errors.New("group not empty") // ours: delete members first
	ErrDrift      = errors.New("model drift")     // line or description differs from the change
	ErrBadLine    = errors.New("invalid line number")
)

// ApplyError tells which change of a list failed.
type ApplyError struct {
	Index  int // 0-based index into the change list
	Change Change
	Err    error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("change %d (%s): %v", e.Index+1, e.Change, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// Manageable returns ErrNamesInUse when the config has `name` entries.
func (c *Config) Manageable() error {
	if n := c.Names(); len(n) > 0 {
		return fmt.Errorf("%d name entries, e.g. %s: %w", len(n), n[0].Name, ErrNamesInUse)
	}
	return nil
}

// Apply applies changes in order to a copy of c and returns it; c is not
// modified. The first failing change stops it with an *ApplyError wrapping
// one of the sentinel errors. Exec-mode changes (shun) validate but leave
// the configuration unchanged.
func (c *Config) Apply(changes []Change) (*Config, error) {
	if err := c.Manageable(); err != nil {
		return nil, err
	}
	nc := c.clone()
	for i, ch := range changes {
		if _, err := ch.Lines(); err != nil {
			return nil, &ApplyError{Index: i, Change: ch, Err: err}
		}
		if err := ch.apply(nc); err != nil {
			return nil, &ApplyError{Index: i, Change: ch, Err: err}
		}
	}
	return nc, nil
}

func (c *Config) clone() *Config {
	nc := *c
	nc.nodes = slices.Clone(c.nodes)
	return &nc
}

// mkNode builds a node from configuration lines (sub-lines start with a
// space), adding "\r" when the config uses CRLF.
func (c *Config) mkNode(ls ...string) node {
	p := &parser{names: map[string]netip.Addr{}, objKind: c.objKinds()}
	v, _ := p.parseBlock(ls)
	if c.crlf {
		for i := range ls {
			ls[i] += "\r"
		}
	}
	return node{lines: ls, v: v}
}

func (c *Config) objKinds() map[string]string {
	m := map[string]string{}
	for _, n := range c.nodes {
		switch v := n.v.(type) {
		case *groupNode:
			m[v.g.Name] = "network"
		case *NetworkObject:
			m[v.Name] = "object-network"
		case *otherObjNode:
			m[v.name] = strings.TrimPrefix(strings.Replace(v.kind, "object ", "object-", 1), "object-group ")
		}
	}
	return m
}

func (c *Config) insertAt(i int, n node) {
	c.nodes = slices.Insert(c.nodes, i, n)
}

func (c *Config) removeAt(i int) {
	c.nodes = slices.Delete(c.nodes, i, i+1)
}

// lastIndex returns the index of the last node matching f, or -1.
func (c *Config) lastIndex(f func(node) bool) int {
	for i := len(c.nodes) - 1; i >= 0; i-- {
		if f(c.nodes[i]) {
			return i
		}
	}
	return -1
}

func (c *Config) firstIndex(f func(node) bool) int {
	for i, n := range c.nodes {
		if f(n) {
			return i
		}
	}
	return -1
}

func isACLNode(n node) bool { _, ok := n.v.(*aclNode); return ok }

func isGroupish(n node) bool {
	switch v := n.v.(type) {
	case *groupNode:
		return true
	case *otherObjNode:
		return strings.HasPrefix(v.kind, "object-group ")
	}
	return false
}

// groupRefs counts references to a group: ACL lines and group-object members.
func (c *Config) groupRefs(name string) int {
	refs := 0
	for _, n := range c.nodes {
		switch v := n.v.(type) {
		case *aclNode:
			refs += aclEntryRefs(v.entry, name)
		case *groupNode:
			for _, m := range v.g.Members {
				if m.Kind == MemberGroup && m.Name == name {
					refs++
				}
			}
		}
	}
	return refs
}

func aclEntryRefs(e ACLEntry, name string) int {
	switch e.Kind {
	case EntryACE:
		r := 0
		for _, a := range []Address{e.ACE.Src, e.ACE.Dst} {
			if a.Kind == AddrObjectGroup && a.Name == name {
				r++
			}
		}
		return r
	case EntryOther:
		f := strings.Fields(e.Text)
		r := 0
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "object-group" && f[i+1] == name {
				r++
			}
		}
		return r
	}
	return 0
}

func (x CreateGroup) apply(c *Config) error {
	if c.objectExists(x.Name) {
		return fmt.Errorf("object %s: %w", x.Name, ErrExists)
	}
	d, _ := x.Description.Text()
	n := c.mkNode("object-group network "+x.Name, " description "+d)
	// Groups are shown before the access-lists: after the last object-group
	// that precedes the first access-list.
	firstACL := c.firstIndex(isACLNode)
	at := len(c.nodes)
	if firstACL >= 0 {
		at = firstACL
		for i := firstACL - 1; i >= 0; i-- {
			if isGroupish(c.nodes[i]) {
				at = i + 1
				break
			}
		}
	} else if g := c.lastIndex(isGroupish); g >= 0 {
		at = g + 1
	}
	c.insertAt(at, n)
	return nil
}

func (x DeleteGroup) apply(c *Config) error {
	i := c.groupIndex(x.Name)
	if i < 0 {
		return fmt.Errorf("object-group %s: %w", x.Name, ErrNotFound)
	}
	g := c.nodes[i].v.(*groupNode)
	if r := c.groupRefs(x.Name); r > 0 {
		return fmt.Errorf("object-group %s has %d references: %w", x.Name, r, ErrInUse)
	}
	if len(g.g.Members) > 0 || g.unparsed > 0 {
		return fmt.Errorf("object-group %s: %w", x.Name, ErrNotEmpty)
	}
	if d, _ := x.Description.Text(); g.g.Description != d || len(c.nodes[i].lines) != 2 {
		return fmt.Errorf("object-group %s description %q: %w", x.Name, g.g.Description, ErrDrift)
	}
	c.removeAt(i)
	return nil
}

func (c *Config) checkMemberTarget(m Member) error {
	switch m.Kind {
	case MemberGroup:
		if c.groupIndex(m.Name) < 0 {
			return fmt.Errorf("group-object %s: %w", m.Name, ErrNotFound)
		}
		if g, _ := c.Group(m.Name); len(g.Members) == 0 {
			return fmt.Errorf("group-object %s: %w", m.Name, ErrEmptyGroup)
		}
	case MemberObject:
		if !slices.ContainsFunc(c.NetworkObjects(), func(o NetworkObject) bool { return o.Name == m.Name }) {
			return fmt.Errorf("object %s: %w", m.Name, ErrNotFound)
		}
	}
	return nil
}

func sameMember(a, b Member) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == MemberHost || a.Kind == MemberPrefix {
		return a.Prefix.Masked() == b.Prefix.Masked()
	}
	return a.Name == b.Name
}

func (x AddGroupMember) apply(c *Config) error {
	i := c.groupIndex(x.Group)
	if i < 0 {
		return fmt.Errorf("object-group %s: %w", x.Group, ErrNotFound)
	}
	g := c.nodes[i].v.(*groupNode)
	if slices.ContainsFunc(g.g.Members, func(m Member) bool { return sameMember(m, x.Member) }) {
		return fmt.Errorf("%s in %s: %w", memberString(x.Member), x.Group, ErrDuplicate)
	}
	if x.Member.Kind == MemberGroup && x.Member.Name == x.Group {
		return fmt.Errorf("group-object %s in itself: %w", x.Group, ErrBadValue)
	}
	if err := c.checkMemberTarget(x.Member); err != nil {
		return err
	}
	ml, _ := renderMember(x.Member)
	ls := append(trimCR(c.nodes[i].lines), " "+ml)
	c.nodes[i] = c.mkNode(ls...)
	return nil
}

func (x RemoveGroupMember) apply(c *Config) error {
	i := c.groupIndex(x.Group)
	if i < 0 {
		return fmt.Errorf("object-group %s: %w", x.Group, ErrNotFound)
	}
	g := c.nodes[i].v.(*groupNode)
	k := slices.IndexFunc(g.g.Members, func(m Member) bool { return sameMember(m, x.Member) })
	if k < 0 {
		return fmt.Errorf("%s in %s: %w", memberString(x.Member), x.Group, ErrNotFound)
	}
	if len(g.g.Members) == 1 && c.groupRefs(x.Group) > 0 {
		return fmt.Errorf("object-group %s would become empty: %w", x.Group, ErrInUse)
	}
	ls := trimCR(c.nodes[i].lines)
	ls = slices.Delete(ls, g.memberLine[k], g.memberLine[k]+1)
	c.nodes[i] = c.mkNode(ls...)
	return nil
}

func trimCR(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.TrimSuffix(l, "\r")
	}
	return out
}

func (c *Config) checkAddr(a Address) error {
	switch a.Kind {
	case AddrObjectGroup:
		g, ok := c.Group(a.Name)
		if !ok {
			return fmt.Errorf("object group %s: %w", a.Name, ErrNotFound)
		}
		if len(g.Members) == 0 {
			return fmt.Errorf("object group %s: %w", a.Name, ErrEmptyGroup)
		}
	case AddrObject:
		if !slices.ContainsFunc(c.NetworkObjects(), func(o NetworkObject) bool { return o.Name == a.Name }) {
			return fmt.Errorf("object %s: %w", a.Name, ErrNotFound)
		}
	case AddrInterface:
		if _, ok := c.InterfaceByName(a.Name); !ok {
			return fmt.Errorf("interface %s: %w", a.Name, ErrNotFound)
		}
	}
	return nil
}

// insertACLNode inserts n as line of acl, creating the ACL when line is 1
// and it does not exist.
func (c *Config) insertACLNode(acl string, line int, n node) error {
	a, ok := c.ACL(acl)
	switch {
	case !ok && line != 1:
		return fmt.Errorf("access-list %s: %w", acl, ErrACLMissing)
	case line > len(a.Entries)+1:
		return fmt.Errorf("line %d of %s with %d lines: %w", line, acl, len(a.Entries), ErrBadLine)
	case !ok:
		at := c.lastIndex(isACLNode) + 1
		if at == 0 {
			at = c.lastIndex(isGroupish) + 1
			if at == 0 {
				at = len(c.nodes)
			}
		}
		c.insertAt(at, n)
	case line == len(a.Entries)+1:
		c.insertAt(c.aclNodeIndex(acl, line-1)+1, n)
	default:
		c.insertAt(c.aclNodeIndex(acl, line), n)
	}
	return nil
}

// sameACE compares ACEs as the ASA does for duplicates: log options aside.
func sameACE(a, b ACE) bool {
	a.Log, b.Log = LogOpts{}, LogOpts{}
	a.Src.Prefix, a.Dst.Prefix = a.Src.Prefix.Masked(), a.Dst.Prefix.Masked()
	b.Src.Prefix, b.Dst.Prefix = b.Src.Prefix.Masked(), b.Dst.Prefix.Masked()
	return a == b
}

func (x InsertACE) apply(c *Config) error {
	if x.ACE.TimeRange != "" && c.timeRangeIndex(x.ACE.TimeRange) < 0 {
		return fmt.Errorf("time-range %s: %w", x.ACE.TimeRange, ErrNotFound)
	}
	if a, ok := c.ACL(x.ACL); ok {
		for _, e := range a.Entries {
			if e.Kind == EntryACE && sameACE(e.ACE, x.ACE) {
				return fmt.Errorf("%s line %d: %w", x.ACL, e.Line, ErrDuplicate)
			}
		}
	}
	for _, ad := range []Address{x.ACE.Src, x.ACE.Dst} {
		if err := c.checkAddr(ad); err != nil {
			return err
		}
	}
	l, _ := RenderACE(x.ACL, x.ACE)
	return c.insertACLNode(x.ACL, x.Line, c.mkNode(l))
}

// findEntry finds the line of the entry matching f, checking want (if not 0).
func (c *Config) findEntry(acl string, want int, f func(ACLEntry) bool) (int, error) {
	a, ok := c.ACL(acl)
	if !ok {
		return 0, fmt.Errorf("access-list %s: %w", acl, ErrACLMissing)
	}
	for _, e := range a.Entries {
		if f(e) {
			if want != 0 && e.Line != want {
				return 0, fmt.Errorf("entry at %s line %d, expected %d: %w", acl, e.Line, want, ErrDrift)
			}
			return e.Line, nil
		}
	}
	return 0, fmt.Errorf("entry in %s: %w", acl, ErrNotFound)
}

func (x DeleteACE) apply(c *Config) error {
	line, err := c.findEntry(x.ACL, x.Line, func(e ACLEntry) bool {
		return e.Kind == EntryACE && sameACE(e.ACE, x.ACE)
	})
	if err != nil {
		return err
	}
	c.removeAt(c.aclNodeIndex(x.ACL, line))
	return nil
}

func (x AddRemark) apply(c *Config) error {
	t, _ := x.Remark.Text()
	if a, ok := c.ACL(x.ACL); ok {
		for _, e := range a.Entries {
			if e.Kind == EntryRemark && e.Remark == t {
				return fmt.Errorf("remark at %s line %d: %w", x.ACL, e.Line, ErrDuplicate)
			}
		}
	}
	return c.insertACLNode(x.ACL, x.Line, c.mkNode("access-list "+x.ACL+" remark "+t))
}

func (x DeleteRemark) apply(c *Config) error {
	t, _ := x.Remark.Text()
	line, err := c.findEntry(x.ACL, x.Line, func(e ACLEntry) bool {
		return e.Kind == EntryRemark && e.Remark == t
	})
	if err != nil {
		return err
	}
	c.removeAt(c.aclNodeIndex(x.ACL, line))
	return nil
}

func routeIndex(c *Config, r Route) int {
	return c.firstIndex(func(n node) bool {
		v, ok := n.v.(*Route)
		return ok && v.Interface == r.Interface && v.Dest.Masked() == r.Dest.Masked() && v.Gateway == r.Gateway
	})
}

func normRoute(r Route) Route {
	if r.Distance == 0 {
		r.Distance = 1
	}
	return r
}

func (x AddRoute) apply(c *Config) error {
	r := normRoute(x.Route)
	if _, ok := c.InterfaceByName(r.Interface); !ok {
		return fmt.Errorf("interface %s: %w", r.Interface, ErrNotFound)
	}
	if routeIndex(c, r) >= 0 {
		return fmt.Errorf("route to %v via %v: %w", r.Dest, r.Gateway, ErrDuplicate)
	}
	l, _ := renderRoute(r)
	at := c.lastIndex(func(n node) bool { _, ok := n.v.(*Route); return ok }) + 1
	if at == 0 {
		at = c.lastIndex(func(n node) bool { _, ok := n.v.(*AccessGroup); return ok }) + 1
		if at == 0 {
			at = len(c.nodes)
		}
	}
	c.insertAt(at, c.mkNode(l))
	return nil
}

func (x DeleteRoute) apply(c *Config) error {
	r := normRoute(x.Route)
	i := routeIndex(c, r)
	if i < 0 {
		return fmt.Errorf("route to %v via %v: %w", r.Dest, r.Gateway, ErrNotFound)
	}
	got := *c.nodes[i].v.(*Route)
	got.Dest, r.Dest = got.Dest.Masked(), r.Dest.Masked()
	if got != r {
		return fmt.Errorf("route to %v via %v differs in distance or options: %w", r.Dest, r.Gateway, ErrDrift)
	}
	c.removeAt(i)
	return nil
}

func (Shun) apply(*Config) error   { return nil }
func (Unshun) apply(*Config) error { return nil }
