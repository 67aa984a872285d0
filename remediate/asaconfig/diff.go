package asaconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pmezard/go-difflib/difflib"
)

// Diff returns the unified diff (3 lines of context) of two configurations'
// text, "" when equal.
func Diff(before, after *Config) (string, error) {
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(before.Render()),
		B:        difflib.SplitLines(after.Render()),
		FromFile: "running-config",
		ToFile:   "candidate-config",
		Context:  3,
	})
	if err != nil {
		return "", fmt.Errorf("diff: %w", err)
	}
	return d, nil
}

// ElementCount is the number of expanded elements of acl as the header of
// `show access-list` counts them: remarks count 0, an ACE counts the product
// of its expanded source and destination (and service group) sizes. Lines
// that are not typed count the groups they name, or 1. ok is false when the
// ACL does not exist.
func (c *Config) ElementCount(acl string) (n int, ok bool) {
	a, ok := c.ACL(acl)
	if !ok {
		return 0, false
	}
	for _, e := range a.Entries {
		switch e.Kind {
		case EntryACE:
			n += c.addrCount(e.ACE.Src) * c.addrCount(e.ACE.Dst)
		case EntryOther:
			k := 1
			f := strings.Fields(e.Text)
			for i := 0; i+1 < len(f); i++ {
				if f[i] == "object-group" {
					k *= c.groupSize(f[i+1], map[string]bool{})
				}
			}
			n += k
		}
	}
	return n, true
}

func (c *Config) addrCount(a Address) int {
	if a.Kind == AddrObjectGroup {
		return c.groupSize(a.Name, map[string]bool{})
	}
	return 1
}

// groupSize counts the expanded members of a network group, or the entries
// of another kind of object-group.
func (c *Config) groupSize(name string, seen map[string]bool) int {
	if seen[name] {
		return 0
	}
	seen[name] = true
	for _, nd := range c.nodes {
		switch v := nd.v.(type) {
		case *groupNode:
			if v.g.Name != name {
				continue
			}
			k := 0
			for _, m := range v.g.Members {
				if m.Kind == MemberGroup {
					k += c.groupSize(m.Name, seen)
				} else {
					k++
				}
			}
			return k
		case *otherObjNode:
			if v.name == name && strings.HasPrefix(v.kind, "object-group ") {
				return max(1, len(nd.lines)-1-v.descs)
			}
		}
	}
	return 1
}

// Scope is what a fingerprint covers.
type Scope struct {
	ACLs       []string
	Groups     []string
	TimeRanges []string
	Routes     bool
}

// ScopeOf returns the ACLs, groups and routes that changes touch. Groups
// referenced by touched ACLs are added by [Config.Fingerprint].
func ScopeOf(changes []Change) Scope {
	var s Scope
	addACL := func(n string) {
		if !slices.Contains(s.ACLs, n) {
			s.ACLs = append(s.ACLs, n)
		}
	}
	addGroup := func(n string) {
		if !slices.Contains(s.Groups, n) {
			s.Groups = append(s.Groups, n)
		}
	}
	for _, ch := range changes {
		switch x := ch.(type) {
		case CreateGroup:
			addGroup(x.Name)
		case DeleteGroup:
			addGroup(x.Name)
		case AddGroupMember:
			addGroup(x.Group)
		case RemoveGroupMember:
			addGroup(x.Group)
		case InsertACE:
			addACL(x.ACL)
		case DeleteACE:
			addACL(x.ACL)
		case AddRemark:
			addACL(x.ACL)
		case DeleteRemark:
			addACL(x.ACL)
		case AddRoute, DeleteRoute:
			s.Routes = true
		case BindACL:
			addACL(x.ACL)
		case UnbindACL:
			addACL(x.ACL)
		case CreateTimeRange:
			s.TimeRanges = append(s.TimeRanges, x.Name)
		case DeleteTimeRange:
			s.TimeRanges = append(s.TimeRanges, x.Name)
		}
	}
	return s
}

// Fingerprint is the hex sha256 of the normalized sections in scope: the
// ACLs (typed entries re-rendered, others with collapsed spaces), the groups
// they reference (transitively) and the scope's groups, all access-group
// bindings and, if in scope, the routes. A push compares it with the value
// at approval to detect that the device changed.
func (c *Config) Fingerprint(s Scope) string {
	var b strings.Builder
	groups := slices.Clone(s.Groups)
	trs := slices.Clone(s.TimeRanges)
	acls := slices.Sorted(slices.Values(s.ACLs))
	for _, name := range acls {
		a, _ := c.ACL(name)
		fmt.Fprintf(&b, "acl %s\n", name)
		for _, e := range a.Entries {
			fmt.Fprintf(&b, "%d %s\n", e.Line, normEntry(name, e))
			if e.Kind == EntryACE && e.ACE.TimeRange != "" {
				trs = append(trs, e.ACE.TimeRange)
			}
			for _, ad := range []Address{e.ACE.Src, e.ACE.Dst} {
				if e.Kind == EntryACE && ad.Kind == AddrObjectGroup {
					groups = append(groups, ad.Name)
				}
			}
			if e.Kind == EntryOther {
				f := strings.Fields(e.Text)
				for i := 0; i+1 < len(f); i++ {
					if f[i] == "object-group" {
						groups = append(groups, f[i+1])
					}
				}
			}
		}
	}
	seen := map[string]bool{}
	for len(groups) > 0 {
		g := groups[0]
		groups = groups[1:]
		if seen[g] {
			continue
		}
		seen[g] = true
		grp, ok := c.Group(g)
		fmt.Fprintf(&b, "group %s %t %q\n", g, ok, grp.Description)
		// Member order has no meaning (and is not kept by remove + re-add).
		var ms []string
		for _, m := range grp.Members {
			ml, _ := renderMember(m)
			ms = append(ms, ml)
			if m.Kind == MemberGroup {
				groups = append(groups, m.Name)
			}
		}
		slices.Sort(ms)
		for _, ml := range ms {
			fmt.Fprintf(&b, " %s\n", ml)
		}
	}
	// The time-ranges of the entries in scope: an ACE's end is part of it.
	slices.Sort(trs)
	for _, name := range slices.Compact(trs) {
		t, ok := c.TimeRange(name)
		fmt.Fprintf(&b, "time-range %s %t %s %s %v\n", name, ok, t.Start.Format(time.RFC3339), t.End.Format(time.RFC3339), t.Periodic)
	}
	for _, ag := range c.AccessGroups() {
		cp := ""
		if ag.ControlPlane {
			cp = " control-plane"
		}
		fmt.Fprintf(&b, "access-group %s %s %s%s\n", ag.ACL, ag.Dir, ag.Interface, cp)
	}
	if s.Routes {
		for _, r := range c.Routes() {
			rl, _ := renderRoute(r)
			fmt.Fprintf(&b, "%s\n", rl)
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func normEntry(acl string, e ACLEntry) string {
	switch e.Kind {
	case EntryACE:
		if l, err := RenderACE(acl, e.ACE); err == nil {
			return l
		}
	case EntryRemark:
		return "remark " + e.Remark
	}
	return strings.Join(strings.Fields(e.Text), " ")
}
