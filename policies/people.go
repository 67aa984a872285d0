package policies

import (
	"regexp"
	"slices"
	"strings"
)

// People says who may use the daemon and who may approve changes. Names are OS user and group
// names: the daemon learns the caller's user from the kernel (SO_PEERCRED on its socket), so
// each admin runs the CLI under their own account.
type People struct {
	// AdminGroup is the OS group whose members may use the daemon's socket: the daemon makes
	// it mode 0660 with this group (and refuses to start when the group does not exist).
	// Empty: mode 0600, the daemon's own user only.
	AdminGroup string `yaml:"admin_group"`
	// Approvers are the users who may approve a proposal; empty: anyone who may run the CLI.
	Approvers []string `yaml:"approvers"`
	// ApproversByKind replaces Approvers for the kinds it names (block, quarantine, san_fix,
	// removal).
	ApproversByKind map[string][]string `yaml:"approvers_by_kind"`
	// ProposerCannotApprove refuses an approval by the user who proposed (a person running
	// propose or revert; proposals from the detectors are the daemon's, so anyone listed may
	// approve them).
	ProposerCannotApprove bool `yaml:"proposer_cannot_approve"`
	// TwoPerson lists the kinds that need two distinct approvers of the same plan before a
	// push.
	TwoPerson []string `yaml:"two_person"`
}

// ApprovalKinds are the proposal kinds the people rules name (advisories send nothing).
var ApprovalKinds = []string{"block", "quarantine", "san_fix", "removal"}

// osNamePattern is what user and group names must match: the portable POSIX set (useradd's
// default is stricter still).
var osNamePattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$`)

// ApproversFor is the list of users who may approve a proposal of kind; nil means anyone.
func (p People) ApproversFor(kind string) []string {
	if l, ok := p.ApproversByKind[kind]; ok {
		return l
	}
	return p.Approvers
}

// MayApprove reports whether user may approve a proposal of kind.
func (p People) MayApprove(kind, user string) bool {
	l := p.ApproversFor(kind)
	return len(l) == 0 || slices.Contains(l, user)
}

// ApprovalsNeeded is how many distinct approvers a proposal of kind needs: 2 for the kinds in
// TwoPerson, else 1.
func (p People) ApprovalsNeeded(kind string) int {
	if slices.Contains(p.TwoPerson, kind) {
		return 2
	}
	return 1
}

func (v *validator) people() {
	pp := v.cfg.People
	const p = "$.people."
	if pp.AdminGroup != "" && !osNamePattern.MatchString(pp.AdminGroup) {
		v.errf(p+"admin_group", "%q is not an OS group name", pp.AdminGroup)
	}
	v.userList(p+"approvers", pp.Approvers)
	kinds := make([]string, 0, len(pp.ApproversByKind))
	for k := range pp.ApproversByKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		path := p + "approvers_by_kind." + k
		if !slices.Contains(ApprovalKinds, k) {
			v.errf(path, "unknown kind %q (one of %s)", k, strings.Join(ApprovalKinds, ", "))
			continue
		}
		if len(pp.ApproversByKind[k]) == 0 {
			v.errf(path, "empty list: name who may approve %s proposals (leave the kind out for people.approvers)", k)
		}
		v.userList(path, pp.ApproversByKind[k])
	}
	seen := map[string]bool{}
	for i, k := range pp.TwoPerson {
		path := idx(p+"two_person", i)
		switch {
		case !slices.Contains(ApprovalKinds, k):
			v.errf(path, "unknown kind %q (one of %s)", k, strings.Join(ApprovalKinds, ", "))
		case seen[k]:
			v.errf(path, "%s listed twice", k)
		default:
			if l := pp.ApproversFor(k); len(l) == 1 {
				v.errf(path, "%s needs two distinct approvers but only %s may approve it", k, l[0])
			}
		}
		seen[k] = true
	}
}

func (v *validator) userList(path string, users []string) {
	seen := map[string]int{}
	for i, u := range users {
		e := idx(path, i)
		if !osNamePattern.MatchString(u) {
			v.errf(e, "%q is not an OS user name", u)
			continue
		}
		if j, ok := seen[u]; ok {
			v.errf(e, "%s listed twice (also at %s)", u, v.where(idx(path, j)))
			continue
		}
		seen[u] = i
	}
}
