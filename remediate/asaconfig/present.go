package asaconfig

import (
	"fmt"
	"slices"
)

// Missing lists what of applied changes the configuration no longer has:
// each added group, member, ACE, route, binding and time-range that is
// absent and each deleted route that is back, as a sentence. Remarks and
// exec-mode changes (shun, clear conn) are not checked: a remark decides
// nothing, and a shun is not in the configuration (see `show shun`).
// Removing an entry deletes the changes that depend on it too, so a whole
// missing block is reported once per change.
func (c *Config) Missing(applied []Change) []string {
	var out []string
	for _, ch := range applied {
		switch x := ch.(type) {
		case CreateGroup:
			if _, ok := c.Group(x.Name); !ok {
				out = append(out, fmt.Sprintf("object-group %s is gone", x.Name))
			}
		case AddGroupMember:
			g, _ := c.Group(x.Group)
			if !slices.ContainsFunc(g.Members, func(m Member) bool { return sameMember(m, x.Member) }) {
				out = append(out, fmt.Sprintf("%s is not in object-group %s", memberString(x.Member), x.Group))
			}
		case InsertACE:
			a, _ := c.ACL(x.ACL)
			if !slices.ContainsFunc(a.Entries, func(e ACLEntry) bool { return e.Kind == EntryACE && sameACE(e.ACE, x.ACE) }) {
				l, _ := RenderACE(x.ACL, x.ACE)
				out = append(out, fmt.Sprintf("%q is gone", l))
			}
		case AddRoute:
			if !slices.Contains(c.Routes(), x.Route) {
				l, _ := renderRoute(x.Route)
				out = append(out, fmt.Sprintf("%q is gone", l))
			}
		case DeleteRoute:
			if slices.Contains(c.Routes(), x.Route) {
				l, _ := renderRoute(x.Route)
				out = append(out, fmt.Sprintf("%q is back", l))
			}
		case BindACL:
			if !slices.ContainsFunc(c.AccessGroups(), func(g AccessGroup) bool {
				return g.ACL == x.ACL && g.Interface == x.Interface && !g.ControlPlane
			}) {
				out = append(out, fmt.Sprintf("access-group %s in interface %s is gone", x.ACL, x.Interface))
			}
		case CreateTimeRange:
			t, ok := c.TimeRange(x.Name)
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("time-range %s is gone", x.Name))
			case !sameMinute(t.End, x.End):
				out = append(out, fmt.Sprintf("time-range %s ends %s, not %s", x.Name, t.End.Format("15:04 2 January 2006"), x.End.Format("15:04 2 January 2006")))
			}
		}
	}
	return out
}
