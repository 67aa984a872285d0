package asaconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Errors of planning.
var (
	ErrProtected      = errors.New("target is protected")
	ErrTooBroad       = errors.New("target prefix too broad")
	ErrNoACL          = errors.New("no inbound access-list on interface")
	ErrNotOwned       = errors.New("group is not exclusively used by deny entries")
	ErrGroupFull      = errors.New("managed group is full")
	ErrWrongInterface = errors.New("address is not behind the interface")
	ErrNotConnected   = errors.New("gateway is not on a connected subnet of the interface")
)

// ProtectedError names the protection that refused a target.
type ProtectedError struct {
	Target netip.Prefix
	By     Protected
}

func (e *ProtectedError) Error() string {
	return fmt.Sprintf("%v is protected by %v (%s)", e.Target, e.By.Prefix, e.By.Reason)
}

func (e *ProtectedError) Unwrap() error { return ErrProtected }

// Limits bound what a plan may touch. The zero value uses the defaults.
type Limits struct {
	// Protected is the operator's set, checked with [Protected.Refuses] in
	// addition to [Config.SelfProtected].
	Protected []Protected
	// MinPrefixLen is the broadest IPv4 target allowed (default 24);
	// MinPrefixLen6 the same for IPv6 (default 48).
	MinPrefixLen, MinPrefixLen6 int
	// MaxGroupMembers caps the managed group (default 2000): each member
	// is one more expanded ACL element.
	MaxGroupMembers int
}

func (l Limits) withDefaults() Limits {
	if l.MinPrefixLen == 0 {
		l.MinPrefixLen = 24
	}
	if l.MinPrefixLen6 == 0 {
		l.MinPrefixLen6 = 48
	}
	if l.MaxGroupMembers == 0 {
		l.MaxGroupMembers = 2000
	}
	return l
}

// Plan is an ordered change list in which every prefix, applied, leaves the
// device in a safe state. Notes explain no-ops and risks; Advisory is text
// for a person (the host or 2921 side of a SAN fix), never sent to a device.
type Plan struct {
	Changes  []Change
	Notes    []string
	Advisory string
}

// Block asks to block an external address or prefix via a managed network
// group referenced by one deny ACE in the inbound ACL of Interface (the
// peer as source: connections it opens), and, for each interface of
// Egress, one `deny ip any object-group G` at the top of that interface's
// inbound ACL (the peer as destination: connections internal hosts open to
// it, which the outside ACL never sees). An interface without an inbound
// ACL gets a new one that keeps what its security level allowed.
type Block struct {
	ProposalID string
	Target     netip.Prefix
	Group      string
	Interface  string
	Egress     []string
	// Shun adds a `shun` of a single IPv4 target as the last change, to
	// drop its new connections on every interface. A shun of a source only
	// leaves its current connections up (ASA command reference). The shun
	// is not in the config, is lost on reload and is not replicated to a
	// failover peer; the caller owns its expiry (PlanUnblock adds the
	// Unshun when set).
	Shun bool
	// ClearConn adds `clear conn address T` for a single-address target
	// after the denies: established connections match the connection
	// table, not the ACL, so a deny alone leaves live sessions up.
	ClearConn bool
	// End, when set, makes the block temporary on the device: instead of
	// a group member, its own denies naming the target, each with
	// `time-range TimeRangeName(ProposalID)` whose `absolute end` is End
	// (the device's wall clock). The ASA stops enforcing them at End.
	End time.Time
}

// Quarantine asks to isolate an internal host: denied as source at the
// top of the inbound ACL of Interface (its ingress), and as destination at
// the top of every other interface's inbound ACL that could reach it
// (binding new ACLs where there are none); with Shun and ClearConn, its new
// connections are also shunned and its live ones cleared.
type Quarantine struct {
	ProposalID string
	Host       netip.Addr
	Interface  string
	Shun       bool
	ClearConn  bool
	// End makes the denies temporary on the device, as Block.End.
	End time.Time
}

// SANFix asks that SAN be routed via Gateway on Interface; a zero Gateway
// asks only to delete the static routes for exactly SAN.
type SANFix struct {
	ProposalID string
	SAN        netip.Prefix
	Interface  string
	Gateway    netip.Addr
}

// protections merges the caller's set with the device's own.
func (c *Config) protections(l Limits) []Protected {
	return append(slices.Clone(l.Protected), c.SelfProtected()...)
}

// CheckTarget refuses a target that is invalid, the default route, broader
// than the limits allow, or protected.
func (c *Config) CheckTarget(t netip.Prefix, l Limits) error {
	l = l.withDefaults()
	if !t.IsValid() {
		return fmt.Errorf("target %v: %w", t, ErrBadValue)
	}
	t = t.Masked()
	min := l.MinPrefixLen
	if t.Addr().Is6() {
		min = l.MinPrefixLen6
	}
	if t.Bits() == 0 || t.Bits() < min {
		return fmt.Errorf("%v broader than /%d: %w", t, min, ErrTooBroad)
	}
	a := t.Addr()
	if a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() || a.IsLinkLocalUnicast() {
		return fmt.Errorf("target %v: %w", t, ErrBadValue)
	}
	for _, p := range c.protections(l) {
		if p.Refuses(t) {
			return &ProtectedError{Target: t, By: p}
		}
	}
	return nil
}

func blockACE(group string) ACE {
	return ACE{Action: Deny, Protocol: ProtoIP, Src: GroupAddr(group), Dst: AnyAddr()}
}

var protectedRemark = regexp.MustCompile(`(?i)protect|management|mgmt`)

// flatten resolves a source address to prefixes (nil for any/interface).
func (c *Config) flatten(a Address) []netip.Prefix {
	switch a.Kind {
	case AddrHost, AddrPrefix:
		return []netip.Prefix{a.Prefix.Masked()}
	case AddrObject:
		return c.objectPrefixes(a.Name)
	case AddrObjectGroup:
		return c.groupPrefixes(a.Name, map[string]bool{})
	}
	return nil
}

func (c *Config) objectPrefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, o := range c.NetworkObjects() {
		if o.Name == name && o.Prefix.IsValid() {
			out = append(out, o.Prefix.Masked())
		}
	}
	return out
}

func (c *Config) groupPrefixes(name string, seen map[string]bool) []netip.Prefix {
	if seen[name] {
		return nil
	}
	seen[name] = true
	g, _ := c.Group(name)
	var out []netip.Prefix
	for _, m := range g.Members {
		switch m.Kind {
		case MemberHost, MemberPrefix:
			out = append(out, m.Prefix.Masked())
		case MemberObject:
			out = append(out, c.objectPrefixes(m.Name)...)
		case MemberGroup:
			out = append(out, c.groupPrefixes(m.Name, seen)...)
		}
	}
	return out
}

// BlockInsertLine is the line at which a managed deny ACE goes in acl: one
// past the last protected entry (see the package doc), 1 when none.
func (c *Config) BlockInsertLine(acl string, l Limits) int {
	a, _ := c.ACL(acl)
	prot := c.protections(l)
	last, inMgmtRemark := 0, false
	for _, e := range a.Entries {
		switch e.Kind {
		case EntryRemark:
			_, ours := ParseRemark(e.Remark) // a proposal id may contain "mgmt"
			inMgmtRemark = !ours && protectedRemark.MatchString(e.Remark)
			if inMgmtRemark {
				last = e.Line
			}
		case EntryACE, EntryOther:
			// A deny in a management section (the catch-all at the end of an
			// ACL under one remark) protects nobody: the block may precede it.
			deny := e.Kind == EntryACE && e.ACE.Action == Deny
			if (inMgmtRemark && !deny) || (e.Kind == EntryACE && e.ACE.Action == Permit && c.sourceProtected(e.ACE.Src, prot)) {
				last = e.Line
			}
		}
	}
	return last + 1
}

func (c *Config) sourceProtected(src Address, prot []Protected) bool {
	for _, sp := range c.flatten(src) {
		if sp.Bits() == 0 {
			// A permit from anywhere is a public service, not management:
			// the managed group never holds a protected address, so the
			// block may precede it (else blocked sources keep the service).
			continue
		}
		for _, p := range prot {
			if p.Scope == ScopeOverlap && p.Prefix.Masked().Overlaps(sp) {
				return true
			}
		}
	}
	return false
}

// groupUse checks that every reference to group is a deny ACE naming it as
// source: only then is adding a member a pure block.
func (c *Config) groupUse(group string) error {
	for _, n := range c.nodes {
		switch v := n.v.(type) {
		case *aclNode:
			if aclEntryRefs(v.entry, group) == 0 {
				continue
			}
			e := v.entry
			// A deny naming the group as source or destination only ever
			// drops more when a member is added.
			if e.Kind != EntryACE || e.ACE.Action != Deny {
				return fmt.Errorf("%s used by %q: %w", group, e.Text, ErrNotOwned)
			}
		case *groupNode:
			for _, m := range v.g.Members {
				if m.Kind == MemberGroup && m.Name == group {
					return fmt.Errorf("%s nested in group %s: %w", group, v.g.Name, ErrNotOwned)
				}
			}
		}
	}
	return nil
}

func (c *Config) validateBlock(b Block) (string, error) {
	if err := c.Manageable(); err != nil {
		return "", err
	}
	if _, err := NewRemark(b.ProposalID, KindBlock); err != nil {
		return "", err
	}
	if err := ValidateName(b.Group); err != nil {
		return "", err
	}
	if err := ValidateName(b.Interface); err != nil {
		return "", err
	}
	for _, e := range b.Egress {
		if err := ValidateName(e); err != nil {
			return "", err
		}
	}
	acl, _ := c.InboundACL(b.Interface)
	if _, isGroup := c.Group(b.Group); !isGroup && c.objectExists(b.Group) {
		return "", fmt.Errorf("%s names another object: %w", b.Group, ErrNotOwned)
	}
	return acl, c.groupUse(b.Group)
}

// PlanBlock plans a block: create the group if missing, add the target, and
// if the ACL has no `deny ip object-group G any` yet, insert it at
// [Config.BlockInsertLine] followed by its remark. A target already in the
// group (or covered by a member) with the ACE in place yields an empty plan
// and a note.
func (c *Config) PlanBlock(b Block, l Limits) (Plan, error) {
	l = l.withDefaults()
	acl, err := c.validateBlock(b)
	if err != nil {
		return Plan{}, err
	}
	if err := c.CheckTarget(b.Target, l); err != nil {
		return Plan{}, err
	}
	if !b.End.IsZero() {
		return c.planTempBlock(b, acl, l)
	}
	t := b.Target.Masked()
	var p Plan
	g, exists := c.Group(b.Group)
	if !exists {
		p.Changes = append(p.Changes, CreateGroup{Name: b.Group, Description: Remark{ProposalID: b.ProposalID, Kind: KindManaged}})
	}
	covered := false
	for _, m := range g.Members {
		if (m.Kind == MemberHost || m.Kind == MemberPrefix) && m.Prefix.Masked().Bits() <= t.Bits() && m.Prefix.Masked().Contains(t.Addr()) {
			covered = true
			p.Notes = append(p.Notes, fmt.Sprintf("%v is already in %s as %v", t, b.Group, m.Prefix.Masked()))
			break
		}
	}
	if !covered {
		if len(g.Members) >= l.MaxGroupMembers {
			return Plan{}, fmt.Errorf("%s has %d members: %w", b.Group, len(g.Members), ErrGroupFull)
		}
		p.Changes = append(p.Changes, AddGroupMember{Group: b.Group, Member: PrefixMember(t)})
	}
	cur, err := c.Apply(p.Changes)
	if err != nil {
		return Plan{}, fmt.Errorf("plan does not apply: %w", err)
	}
	add := func(ch []Change, note string) error {
		if note != "" {
			p.Notes = append(p.Notes, note)
		}
		if len(ch) == 0 {
			return nil
		}
		next, err := cur.Apply(ch)
		if err != nil {
			return fmt.Errorf("plan does not apply: %w", err)
		}
		cur = next
		p.Changes = append(p.Changes, ch...)
		return nil
	}
	ch, acl, note, err := cur.denyOn(b.Interface, blockACE(b.Group), b.ProposalID, KindBlock, afterProtection, l)
	if err != nil {
		return Plan{}, err
	}
	if err := add(ch, note); err != nil {
		return Plan{}, err
	}
	var done []string
	for _, e := range b.Egress {
		if e == b.Interface || slices.Contains(done, e) {
			continue
		}
		done = append(done, e)
		egress := ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: GroupAddr(b.Group)}
		ch, _, note, err := cur.denyOn(e, egress, b.ProposalID, KindBlock, atTop, l)
		if err != nil {
			return Plan{}, err
		}
		if err := add(ch, note); err != nil {
			return Plan{}, err
		}
	}
	if len(p.Changes) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%v already blocked: no change", t))
	}
	if b.Shun {
		if !t.IsSingleIP() || !t.Addr().Is4() {
			return Plan{}, fmt.Errorf("shun of %v: needs one IPv4 address: %w", t, ErrBadValue)
		}
		p.Changes = append(p.Changes, Shun{Addr: t.Addr()})
	}
	if b.ClearConn && t.IsSingleIP() {
		p.Changes = append(p.Changes, ClearConn{Addr: t.Addr()})
	}
	c.warnEarlierPermits(&p, cur, acl, blockACE(b.Group), t)
	return p, nil
}

// warnEarlierPermits notes the permits of acl (in cur) before ace that
// still let t in.
func (c *Config) warnEarlierPermits(p *Plan, cur *Config, acl string, ace ACE, t netip.Prefix) {
	a, _ := cur.ACL(acl)
	line := 0
	for _, e := range a.Entries {
		if e.Kind == EntryACE && sameACE(e.ACE, ace) {
			line = e.Line
		}
	}
	for _, e := range a.Entries {
		if e.Line < line && e.Kind == EntryACE && e.ACE.Action == Permit && c.sourceMayMatch(e.ACE.Src, t) {
			p.Notes = append(p.Notes, fmt.Sprintf("warning: %s line %d comes before the block and still permits %v: %s", acl, e.Line, t, e.Text))
		}
	}
}

// planTempBlock plans a block with an end on the device: the time-range,
// then `deny ip T any time-range N` where a group block's ACE would go,
// `deny ip any T time-range N` at the top of each egress ACL, then the
// shun and clear conn as PlanBlock.
func (c *Config) planTempBlock(b Block, acl string, l Limits) (Plan, error) {
	t := b.Target.Masked()
	name := TimeRangeName(b.ProposalID)
	if _, ok := c.TimeRange(name); ok {
		return Plan{}, fmt.Errorf("time-range %s: %w", name, ErrExists)
	}
	p := Plan{Changes: []Change{CreateTimeRange{Name: name, End: b.End}}}
	cur, err := c.Apply(p.Changes)
	if err != nil {
		return Plan{}, fmt.Errorf("plan does not apply: %w", err)
	}
	add := func(nameif string, ace ACE, where denyPlacement) (string, error) {
		ch, a, note, err := cur.denyOn(nameif, ace, b.ProposalID, KindBlock, where, l)
		if err != nil {
			return "", err
		}
		if note != "" {
			p.Notes = append(p.Notes, note)
		}
		next, err := cur.Apply(ch)
		if err != nil {
			return "", fmt.Errorf("plan does not apply: %w", err)
		}
		cur = next
		p.Changes = append(p.Changes, ch...)
		return a, nil
	}
	in := ACE{Action: Deny, Protocol: ProtoIP, Src: prefixAddr(t), Dst: AnyAddr(), TimeRange: name}
	if acl, err = add(b.Interface, in, afterProtection); err != nil {
		return Plan{}, err
	}
	var done []string
	for _, e := range b.Egress {
		if e == b.Interface || slices.Contains(done, e) {
			continue
		}
		done = append(done, e)
		if _, err := add(e, ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: prefixAddr(t), TimeRange: name}, atTop); err != nil {
			return Plan{}, err
		}
	}
	p.Notes = append(p.Notes, fmt.Sprintf("the device enforces the denies through %s by its own clock (time-range %s; a real ASA switches it off up to 100 s later)", b.End.Format("15:04 2 January 2006"), name))
	if b.Shun {
		if !t.IsSingleIP() || !t.Addr().Is4() {
			return Plan{}, fmt.Errorf("shun of %v: needs one IPv4 address: %w", t, ErrBadValue)
		}
		p.Changes = append(p.Changes, Shun{Addr: t.Addr()})
	}
	if b.ClearConn && t.IsSingleIP() {
		p.Changes = append(p.Changes, ClearConn{Addr: t.Addr()})
	}
	c.warnEarlierPermits(&p, cur, acl, in, t)
	return p, nil
}

// planTempRemoval deletes, bottom-up in every ACL, the ACEs naming
// time-range name with the firebreak remark of proposal id above each,
// then the time-range.
func (c *Config) planTempRemoval(p *Plan, id, name string) error {
	cur := c
	for _, acl := range c.ACLNames() {
		a, _ := cur.ACL(acl)
		var ch []Change
		for i := len(a.Entries) - 1; i >= 0; i-- {
			e := a.Entries[i]
			if e.Kind != EntryACE || e.ACE.TimeRange != name {
				continue
			}
			ch = append(ch, DeleteACE{ACL: acl, Line: e.Line, ACE: e.ACE})
			if i > 0 && a.Entries[i-1].Kind == EntryRemark {
				if r, ok := ParseRemark(a.Entries[i-1].Remark); ok && r.ProposalID == id {
					ch = append(ch, DeleteRemark{ACL: acl, Line: e.Line - 1, Remark: r})
				}
			}
		}
		next, err := cur.Apply(ch)
		if err != nil {
			return fmt.Errorf("plan does not apply: %w", err)
		}
		cur = next
		p.Changes = append(p.Changes, ch...)
	}
	if t, ok := cur.TimeRange(name); ok {
		if cur.timeRangeRefs(name) > 0 {
			p.Notes = append(p.Notes, fmt.Sprintf("time-range %s is left: other entries name it", name))
			return nil
		}
		p.Changes = append(p.Changes, DeleteTimeRange{Name: name, End: t.End})
	}
	return nil
}

func (c *Config) sourceMayMatch(src Address, t netip.Prefix) bool {
	switch src.Kind {
	case AddrAny, AddrAny4:
		return t.Addr().Is4()
	case AddrAny6:
		return t.Addr().Is6()
	}
	for _, sp := range c.flatten(src) {
		if sp.Overlaps(t) {
			return true
		}
	}
	return false
}

// PlanUnblock plans the removal of a block: remove the member; if it was
// the last, first delete every deny ACE naming the group (bottom-up, each
// followed by its firebreak remark, since the ASA refuses to empty a group
// in use), then remove the member and delete the group when its
// description is a firebreak template. Not blocked yields an empty plan.
func (c *Config) PlanUnblock(b Block) (Plan, error) {
	if _, err := c.validateBlock(b); err != nil {
		return Plan{}, err
	}
	if !b.Target.IsValid() {
		return Plan{}, fmt.Errorf("target %v: %w", b.Target, ErrBadValue)
	}
	var p Plan
	if b.Shun {
		t := b.Target.Masked()
		if !t.IsSingleIP() || !t.Addr().Is4() {
			return Plan{}, fmt.Errorf("unshun of %v: needs one IPv4 address: %w", t, ErrBadValue)
		}
		p.Changes = append(p.Changes, Unshun{Addr: t.Addr()})
	}
	if name := TimeRangeName(b.ProposalID); c.timeRangeIndex(name) >= 0 || c.timeRangeRefs(name) > 0 {
		if err := c.planTempRemoval(&p, b.ProposalID, name); err != nil {
			return Plan{}, err
		}
		if _, err := c.Apply(p.Changes); err != nil {
			return Plan{}, fmt.Errorf("plan does not apply: %w", err)
		}
		return p, nil
	}
	m := PrefixMember(b.Target)
	g, ok := c.Group(b.Group)
	if !ok || !slices.ContainsFunc(g.Members, func(x Member) bool { return sameMember(x, m) }) {
		p.Notes = append(p.Notes, fmt.Sprintf("%v is not a member of %s: no change to the config", b.Target.Masked(), b.Group))
		return p, nil
	}
	if len(g.Members) == 1 {
		for _, name := range c.ACLNames() {
			a, _ := c.ACL(name)
			for i := len(a.Entries) - 1; i >= 0; i-- {
				e := a.Entries[i]
				if aclEntryRefs(e, b.Group) == 0 {
					continue
				}
				p.Changes = append(p.Changes, DeleteACE{ACL: name, Line: e.Line, ACE: e.ACE})
				if i > 0 && a.Entries[i-1].Kind == EntryRemark {
					if r, ok := ParseRemark(a.Entries[i-1].Remark); ok && r.Kind == KindBlock {
						p.Changes = append(p.Changes, DeleteRemark{ACL: name, Line: e.Line - 1, Remark: r})
					}
				}
			}
		}
	}
	p.Changes = append(p.Changes, RemoveGroupMember{Group: b.Group, Member: m})
	if len(g.Members) == 1 {
		if r, ok := ParseRemark(g.Description); ok && r.Kind == KindManaged {
			p.Changes = append(p.Changes, DeleteGroup{Name: b.Group, Description: r})
		} else {
			p.Notes = append(p.Notes, fmt.Sprintf("%s is left empty: its description is not a firebreak template", b.Group))
		}
	}
	if _, err := c.Apply(p.Changes); err != nil {
		return Plan{}, fmt.Errorf("plan does not apply: %w", err)
	}
	return p, nil
}

func quarantineACE(h netip.Addr) ACE {
	return ACE{Action: Deny, Protocol: ProtoIP, Src: HostAddr(h), Dst: AnyAddr()}
}

func (c *Config) checkQuarantine(q Quarantine) error {
	if err := c.Manageable(); err != nil {
		return err
	}
	if _, err := NewRemark(q.ProposalID, KindQuarantine); err != nil {
		return err
	}
	if err := ValidateName(q.Interface); err != nil {
		return err
	}
	if !q.Host.IsValid() {
		return fmt.Errorf("host %v: %w", q.Host, ErrBadValue)
	}
	return nil
}

func quarantineDstACE(h netip.Addr) ACE {
	return ACE{Action: Deny, Protocol: ProtoIP, Src: AnyAddr(), Dst: HostAddr(h)}
}

// behind reports whether a is on a connected subnet of nameif or routed
// through it by a static route (the default route aside).
func (c *Config) behind(nameif string, a netip.Addr) bool {
	if in, ok := c.InterfaceByName(nameif); ok && in.Address.IsValid() && in.Address.Masked().Contains(a) {
		return true
	}
	for _, r := range c.Routes() {
		if r.Interface == nameif && r.Dest.Bits() > 0 && r.Dest.Masked().Contains(a) {
			return true
		}
	}
	return false
}

// PlanQuarantine plans `deny ip host H any` at line 1 of the host's
// interface's inbound ACL and `deny ip any host H` at line 1 of every other
// interface's that can reach it (transit, not management-only): an
// interface with an ACL, or without one but with a security level not
// below the host's. Interfaces without an ACL get a new one that keeps
// what their level allowed. With q.Shun and q.ClearConn, `shun H` and
// `clear conn address H` follow. The host must be behind the interface and
// not protected.
func (c *Config) PlanQuarantine(q Quarantine, l Limits) (Plan, error) {
	if err := c.checkQuarantine(q); err != nil {
		return Plan{}, err
	}
	if err := c.CheckTarget(hostPrefix(q.Host), l); err != nil {
		return Plan{}, err
	}
	if !c.behind(q.Interface, q.Host) {
		return Plan{}, fmt.Errorf("%v on %s: %w", q.Host, q.Interface, ErrWrongInterface)
	}
	home, _ := c.InterfaceByName(q.Interface)
	var p Plan
	cur := c
	tr := ""
	if !q.End.IsZero() {
		tr = TimeRangeName(q.ProposalID)
		if _, ok := c.TimeRange(tr); ok {
			return Plan{}, fmt.Errorf("time-range %s: %w", tr, ErrExists)
		}
		p.Changes = []Change{CreateTimeRange{Name: tr, End: q.End}}
		var err error
		if cur, err = c.Apply(p.Changes); err != nil {
			return Plan{}, fmt.Errorf("plan does not apply: %w", err)
		}
		p.Notes = append(p.Notes, fmt.Sprintf("the device enforces the denies through %s by its own clock (time-range %s; a real ASA switches it off up to 100 s later)", q.End.Format("15:04 2 January 2006"), tr))
	}
	add := func(nameif string, ace ACE) error {
		ace.TimeRange = tr
		ch, _, note, err := cur.denyOn(nameif, ace, q.ProposalID, KindQuarantine, atTop, l)
		if err != nil {
			return err
		}
		if note != "" {
			p.Notes = append(p.Notes, note)
		}
		if len(ch) == 0 {
			return nil
		}
		next, err := cur.Apply(ch)
		if err != nil {
			return fmt.Errorf("plan does not apply: %w", err)
		}
		cur = next
		p.Changes = append(p.Changes, ch...)
		return nil
	}
	if err := add(q.Interface, quarantineACE(q.Host)); err != nil {
		return Plan{}, err
	}
	for _, in := range c.Interfaces() {
		if in.Nameif == "" || in.Nameif == q.Interface || in.MgmtOnly || in.Shutdown {
			continue
		}
		if _, has := c.InboundACL(in.Nameif); !has && effectiveLevel(in) < effectiveLevel(home) {
			continue // the security levels already drop its traffic to the host
		}
		if err := add(in.Nameif, quarantineDstACE(q.Host)); err != nil {
			return Plan{}, err
		}
	}
	if len(p.Changes) == 0 || tr != "" && len(p.Changes) == 1 {
		p.Changes = nil
		p.Notes = append(p.Notes, fmt.Sprintf("%v already quarantined: no change", q.Host))
	}
	if q.Shun && q.Host.Is4() {
		p.Changes = append(p.Changes, Shun{Addr: q.Host})
	}
	if q.ClearConn {
		p.Changes = append(p.Changes, ClearConn{Addr: q.Host})
	}
	return p, nil
}

// PlanRelease plans the removal of the quarantine ACEs of the host (as
// source and as destination, in every ACL) with their remarks, and the
// unshun when q.Shun. ACLs a quarantine created stay bound: they keep what
// the security levels allowed.
func (c *Config) PlanRelease(q Quarantine) (Plan, error) {
	if err := c.checkQuarantine(q); err != nil {
		return Plan{}, err
	}
	var p Plan
	if q.Shun && q.Host.Is4() {
		p.Changes = append(p.Changes, Unshun{Addr: q.Host})
	}
	cur := c
	tr := TimeRangeName(q.ProposalID)
	for _, acl := range c.ACLNames() {
		for {
			a, _ := cur.ACL(acl)
			var ch []Change
			for i, e := range a.Entries {
				ace := e.ACE
				if ace.TimeRange == tr {
					ace.TimeRange = "" // this proposal's temporary denies
				}
				if e.Kind != EntryACE || !sameACE(ace, quarantineACE(q.Host)) && !sameACE(ace, quarantineDstACE(q.Host)) {
					continue
				}
				ch = append(ch, DeleteACE{ACL: acl, Line: e.Line, ACE: e.ACE})
				if i > 0 && a.Entries[i-1].Kind == EntryRemark {
					if r, ok := ParseRemark(a.Entries[i-1].Remark); ok && r.Kind == KindQuarantine {
						ch = append(ch, DeleteRemark{ACL: acl, Line: e.Line - 1, Remark: r})
					}
				}
				break
			}
			if len(ch) == 0 {
				break
			}
			next, err := cur.Apply(ch)
			if err != nil {
				return Plan{}, fmt.Errorf("plan does not apply: %w", err)
			}
			cur = next
			p.Changes = append(p.Changes, ch...)
		}
	}
	if t, ok := cur.TimeRange(tr); ok && cur.timeRangeRefs(tr) == 0 {
		p.Changes = append(p.Changes, DeleteTimeRange{Name: tr, End: t.End})
	}
	if len(p.Changes) == 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%v is not quarantined: no change", q.Host))
	}
	return p, nil
}

// PlanSANFix plans routing SAN via Gateway on Interface: the right route is
// added and wrong static routes for exactly SAN are deleted (after the add
// on the same interface, before it on another). When the ASA already
// routes SAN that way, the plan is empty and the Advisory says where to fix
// it instead. The Advisory always gives the host and 2921 equivalents.
func (c *Config) PlanSANFix(s SANFix, l Limits) (Plan, error) {
	if err := c.Manageable(); err != nil {
		return Plan{}, err
	}
	if _, err := NewRemark(s.ProposalID, KindSAN); err != nil {
		return Plan{}, err
	}
	if err := ValidateName(s.Interface); err != nil {
		return Plan{}, err
	}
	if !s.SAN.IsValid() || !s.SAN.Addr().Is4() {
		return Plan{}, fmt.Errorf("san %v: %w", s.SAN, ErrBadValue)
	}
	san := s.SAN.Masked()
	if san.Bits() < 8 {
		return Plan{}, fmt.Errorf("san %v: %w", san, ErrTooBroad)
	}
	in, ok := c.InterfaceByName(s.Interface)
	if !ok {
		return Plan{}, fmt.Errorf("interface %s: %w", s.Interface, ErrNotFound)
	}
	for _, x := range c.Interfaces() {
		if x.Address.IsValid() && x.Address.Masked().Overlaps(san) {
			// The ASA reaches it directly: no static route is involved.
			return Plan{Notes: []string{fmt.Sprintf("%v overlaps the connected subnet of %s: no route change on the ASA", san, x.Nameif)},
				Advisory: sanAdvisory(san, s.Gateway)}, nil
		}
	}
	if s.Gateway.IsValid() {
		if !s.Gateway.Is4() || !in.Address.IsValid() || !in.Address.Masked().Contains(s.Gateway) || in.Address.Addr() == s.Gateway {
			return Plan{}, fmt.Errorf("%v on %s: %w", s.Gateway, s.Interface, ErrNotConnected)
		}
	}
	if !s.Gateway.IsValid() {
		// Deleting the routes alone sends the SAN after the default route
		// (towards the ISP): never do it without a next hop to replace them.
		return Plan{Notes: []string{fmt.Sprintf("no next hop for %v in the policy (networks[].gateway): no route change", san)},
			Advisory: sanAdvisory(san, s.Gateway)}, nil
	}
	want := Route{Interface: s.Interface, Dest: san, Gateway: s.Gateway, Distance: 1}
	var p Plan
	have := false
	// Wrong routes on the same interface go after the add (the ASA keeps
	// equal-cost routes per interface, so there is no gap); wrong routes on
	// another interface go first (it refuses the same destination on two
	// interfaces), and the delete and add should be sent in one batch.
	var before, after []Change
	for _, r := range c.Routes() {
		if r.Dest.Masked() != san {
			continue
		}
		if s.Gateway.IsValid() && r.Interface == want.Interface && r.Gateway == want.Gateway {
			have = true
			p.Notes = append(p.Notes, fmt.Sprintf("route to %v via %v on %s already present", san, r.Gateway, r.Interface))
			continue
		}
		if s.Gateway.IsValid() && r.Interface == want.Interface {
			after = append(after, DeleteRoute{Route: r})
		} else {
			before = append(before, DeleteRoute{Route: r})
		}
	}
	p.Changes = append(p.Changes, before...)
	if s.Gateway.IsValid() && !have {
		if cur, ok := c.routeFor(san); ok && cur.Interface == want.Interface && cur.Gateway == want.Gateway {
			p.Notes = append(p.Notes, fmt.Sprintf("the ASA already routes %v via %v (route to %v): the fault is not on the ASA", san, cur.Gateway, cur.Dest))
		} else {
			p.Changes = append(p.Changes, AddRoute{Route: want})
		}
	}
	p.Changes = append(p.Changes, after...)
	if len(before) > 0 && s.Gateway.IsValid() && !have {
		p.Notes = append(p.Notes, "send the route delete and add in one batch: between them the SAN follows the covering route")
	}
	if len(p.Changes) == 0 {
		p.Notes = append(p.Notes, "no change on the ASA")
	}
	p.Advisory = sanAdvisory(san, s.Gateway)
	if _, err := c.Apply(p.Changes); err != nil {
		return Plan{}, fmt.Errorf("plan does not apply: %w", err)
	}
	return p, nil
}

// routeFor returns the longest-prefix static route covering p.
func (c *Config) routeFor(p netip.Prefix) (Route, bool) {
	var best Route
	found := false
	for _, r := range c.Routes() {
		d := r.Dest.Masked()
		if d.Bits() <= p.Bits() && d.Contains(p.Addr()) && (!found || d.Bits() > best.Dest.Masked().Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

func sanAdvisory(san netip.Prefix, gw netip.Addr) string {
	var b strings.Builder
	m := mask(san.Bits())
	fmt.Fprintf(&b, "SAN traffic to %v should not depend on the firewall.\n", san)
	if gw.IsValid() {
		fmt.Fprintf(&b, "Hosts on the SAN's clients' subnet: add a direct route, e.g. Linux `ip route add %v via %v`, Windows `route -p add %v mask %s %v`.\n", san, gw, san.Addr(), m, gw)
		fmt.Fprintf(&b, "Cisco 2921, if it routes these hosts: `ip route %v %s %v`.\n", san.Addr(), m, gw)
	} else {
		fmt.Fprintf(&b, "Check the hosts' and the 2921's routes to %v: they should reach it without the ASA.\n", san)
	}
	return b.String()
}
