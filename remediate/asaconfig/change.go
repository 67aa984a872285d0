package asaconfig

import (
	"fmt"
	"net/netip"
)

// Mode is the CLI mode a change is entered in.
type Mode uint8

// Modes.
const (
	ModeConfig Mode = iota + 1 // configure terminal
	ModeExec                   // privileged EXEC (shun)
)

// Change is one typed configuration change. Implementations are the value
// types of this package only. Lines renders the CLI lines (each passed
// through [ValidateLine]); a change that opens a sub-mode ends with "exit",
// so every change starts and ends in configuration mode. Inverse returns the
// change that undoes it exactly.
type Change interface {
	Lines() ([]string, error)
	Inverse() Change
	Mode() Mode
	String() string
	apply(c *Config) error
}

// CreateGroup creates an empty `object-group network` with a template
// description. Its inverse is DeleteGroup.
type CreateGroup struct {
	Name        string
	Description Remark
}

// DeleteGroup deletes an empty, unreferenced network group whose description
// is the given template. Its inverse is CreateGroup.
type DeleteGroup struct {
	Name        string
	Description Remark
}

// AddGroupMember adds a member to an existing network group.
type AddGroupMember struct {
	Group  string
	Member Member
}

// RemoveGroupMember removes a member from a network group.
type RemoveGroupMember struct {
	Group  string
	Member Member
}

// InsertACE inserts an extended ACE at Line (1-based; existing lines shift
// down). Its inverse is DeleteACE with the same Line.
type InsertACE struct {
	ACL  string
	Line int
	ACE  ACE
}

// DeleteACE deletes the ACE equal to ACE. It is rendered without a line
// number (the ASA matches the content); Line, when not 0, is where the model
// expects it, and is used by the inverse.
type DeleteACE struct {
	ACL  string
	Line int
	ACE  ACE
}

// AddRemark inserts a template remark at Line.
type AddRemark struct {
	ACL    string
	Line   int
	Remark Remark
}

// DeleteRemark deletes the remark with the template text; Line as for
// DeleteACE.
type DeleteRemark struct {
	ACL    string
	Line   int
	Remark Remark
}

// AddRoute adds a static route.
type AddRoute struct{ Route Route }

// DeleteRoute deletes a static route.
type DeleteRoute struct{ Route Route }

// Shun blocks a source address and drops its connections, in privileged
// EXEC mode. It is not part of the configuration and is lost on reload.
type Shun struct{ Addr netip.Addr }

// Unshun removes a shun.
type Unshun struct{ Addr netip.Addr }

func (CreateGroup) Mode() Mode       { return ModeConfig }
func (DeleteGroup) Mode() Mode       { return ModeConfig }
func (AddGroupMember) Mode() Mode    { return ModeConfig }
func (RemoveGroupMember) Mode() Mode { return ModeConfig }
func (InsertACE) Mode() Mode         { return ModeConfig }
func (DeleteACE) Mode() Mode         { return ModeConfig }
func (AddRemark) Mode() Mode         { return ModeConfig }
func (DeleteRemark) Mode() Mode      { return ModeConfig }
func (AddRoute) Mode() Mode          { return ModeConfig }
func (DeleteRoute) Mode() Mode       { return ModeConfig }
func (Shun) Mode() Mode              { return ModeExec }
func (Unshun) Mode() Mode            { return ModeExec }

func (x CreateGroup) Inverse() Change       { return DeleteGroup(x) }
func (x DeleteGroup) Inverse() Change       { return CreateGroup(x) }
func (x AddGroupMember) Inverse() Change    { return RemoveGroupMember(x) }
func (x RemoveGroupMember) Inverse() Change { return AddGroupMember(x) }
func (x InsertACE) Inverse() Change         { return DeleteACE(x) }
func (x DeleteACE) Inverse() Change         { return InsertACE(x) }
func (x AddRemark) Inverse() Change         { return DeleteRemark(x) }
func (x DeleteRemark) Inverse() Change      { return AddRemark(x) }
func (x AddRoute) Inverse() Change          { return DeleteRoute(x) }
func (x DeleteRoute) Inverse() Change       { return AddRoute(x) }
func (x Shun) Inverse() Change              { return Unshun(x) }
func (x Unshun) Inverse() Change            { return Shun(x) }

func lines(ls ...string) ([]string, error) {
	for _, l := range ls {
		if err := ValidateLine(l); err != nil {
			return nil, err
		}
	}
	return ls, nil
}

func groupHeader(name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return "object-group network " + name, nil
}

func (x CreateGroup) Lines() ([]string, error) {
	h, err := groupHeader(x.Name)
	if err != nil {
		return nil, err
	}
	d, err := x.Description.Text()
	if err != nil {
		return nil, err
	}
	return lines(h, "description "+d, "exit")
}

func (x DeleteGroup) Lines() ([]string, error) {
	h, err := groupHeader(x.Name)
	if err != nil {
		return nil, err
	}
	if _, err := x.Description.Text(); err != nil {
		return nil, err
	}
	return lines("no " + h)
}

func memberLines(group string, m Member, neg bool) ([]string, error) {
	h, err := groupHeader(group)
	if err != nil {
		return nil, err
	}
	ml, err := renderMember(m)
	if err != nil {
		return nil, err
	}
	if neg {
		ml = "no " + ml
	}
	return lines(h, ml, "exit")
}

func (x AddGroupMember) Lines() ([]string, error)    { return memberLines(x.Group, x.Member, false) }
func (x RemoveGroupMember) Lines() ([]string, error) { return memberLines(x.Group, x.Member, true) }

func checkLineNo(n int) error {
	if n < 1 || n > 100000 {
		return fmt.Errorf("line %d: %w", n, ErrBadLine)
	}
	return nil
}

func (x InsertACE) Lines() ([]string, error) {
	if err := checkLineNo(x.Line); err != nil {
		return nil, err
	}
	if err := ValidateName(x.ACL); err != nil {
		return nil, err
	}
	body, err := renderACEBody(x.ACE)
	if err != nil {
		return nil, err
	}
	return lines("access-list " + x.ACL + " line " + itoa(x.Line) + " extended " + body)
}

func (x DeleteACE) Lines() ([]string, error) {
	if x.Line != 0 {
		if err := checkLineNo(x.Line); err != nil {
			return nil, err
		}
	}
	l, err := RenderACE(x.ACL, x.ACE)
	if err != nil {
		return nil, err
	}
	return lines("no " + l)
}

func (x AddRemark) Lines() ([]string, error) {
	if err := checkLineNo(x.Line); err != nil {
		return nil, err
	}
	if err := ValidateName(x.ACL); err != nil {
		return nil, err
	}
	t, err := x.Remark.Text()
	if err != nil {
		return nil, err
	}
	return lines("access-list " + x.ACL + " line " + itoa(x.Line) + " remark " + t)
}

func (x DeleteRemark) Lines() ([]string, error) {
	if x.Line != 0 {
		if err := checkLineNo(x.Line); err != nil {
			return nil, err
		}
	}
	if err := ValidateName(x.ACL); err != nil {
		return nil, err
	}
	t, err := x.Remark.Text()
	if err != nil {
		return nil, err
	}
	return lines("no access-list " + x.ACL + " remark " + t)
}

func (x AddRoute) Lines() ([]string, error) {
	r, err := renderRoute(x.Route)
	if err != nil {
		return nil, err
	}
	return lines(r)
}

func (x DeleteRoute) Lines() ([]string, error) {
	r, err := renderRoute(x.Route)
	if err != nil {
		return nil, err
	}
	return lines("no " + r)
}

func shunAddr(a netip.Addr) (string, error) {
	if !a.Is4() {
		return "", fmt.Errorf("shun %v: %w", a, ErrBadValue)
	}
	return a.String(), nil
}

func (x Shun) Lines() ([]string, error) {
	a, err := shunAddr(x.Addr)
	if err != nil {
		return nil, err
	}
	return lines("shun " + a)
}

func (x Unshun) Lines() ([]string, error) {
	a, err := shunAddr(x.Addr)
	if err != nil {
		return nil, err
	}
	return lines("no shun " + a)
}

func (x CreateGroup) String() string { return "create network group " + x.Name }
func (x DeleteGroup) String() string { return "delete network group " + x.Name }
func (x AddGroupMember) String() string {
	return "add " + memberString(x.Member) + " to group " + x.Group
}
func (x RemoveGroupMember) String() string {
	return "remove " + memberString(x.Member) + " from group " + x.Group
}
func (x InsertACE) String() string {
	return fmt.Sprintf("insert ACE at %s line %d", x.ACL, x.Line)
}
func (x DeleteACE) String() string {
	return fmt.Sprintf("delete ACE at %s line %d", x.ACL, x.Line)
}
func (x AddRemark) String() string {
	return fmt.Sprintf("insert remark at %s line %d", x.ACL, x.Line)
}
func (x DeleteRemark) String() string {
	return fmt.Sprintf("delete remark at %s line %d", x.ACL, x.Line)
}
func (x AddRoute) String() string    { return "add route to " + x.Route.Dest.String() }
func (x DeleteRoute) String() string { return "delete route to " + x.Route.Dest.String() }
func (x Shun) String() string        { return "shun " + x.Addr.String() }
func (x Unshun) String() string      { return "unshun " + x.Addr.String() }

func memberString(m Member) string {
	switch m.Kind {
	case MemberHost, MemberPrefix:
		return m.Prefix.String()
	case MemberObject:
		return "object " + m.Name
	case MemberGroup:
		return "group " + m.Name
	}
	return "invalid member"
}

// RenderAll renders the CLI lines of changes in order, failing on the first
// invalid change.
func RenderAll(changes []Change) ([]string, error) {
	var out []string
	for i, ch := range changes {
		ls, err := ch.Lines()
		if err != nil {
			return nil, fmt.Errorf("change %d (%s): %w", i+1, ch, err)
		}
		out = append(out, ls...)
	}
	return out, nil
}

// Inverses returns the inverse of changes, in reverse order: what to send to
// undo a (prefix of a) change list.
func Inverses(changes []Change) []Change {
	out := make([]Change, 0, len(changes))
	for i := len(changes) - 1; i >= 0; i-- {
		out = append(out, changes[i].Inverse())
	}
	return out
}

// CLIStep is one CLI line to send and the line that undoes it, typed in
// Mode (a sub-mode header such as "object-group network G", or "" for
// global configuration). Exec steps are sent in privileged EXEC mode. An
// empty Undo means the step needs no undo of its own.
type CLIStep struct {
	Exec bool
	Mode string
	Do   string
	Undo string
}

// Steps renders changes as single-line steps with their undo lines, for a
// driver that sends one line at a time and rolls back step by step in
// reverse. Every line passes ValidateLine. The undo of a deleted ACE or
// remark needs its Line, so DeleteACE and DeleteRemark must carry one.
func Steps(changes []Change) ([]CLIStep, error) {
	var out []CLIStep
	for i, ch := range changes {
		st, err := steps(ch)
		if err != nil {
			return nil, fmt.Errorf("change %d (%s): %w", i+1, ch, err)
		}
		out = append(out, st...)
	}
	return out, nil
}

func steps(ch Change) ([]CLIStep, error) {
	do, err := ch.Lines()
	if err != nil {
		return nil, err
	}
	undo, err := ch.Inverse().Lines()
	if err != nil {
		return nil, err
	}
	switch x := ch.(type) {
	case CreateGroup:
		// do = header, description, exit
		return []CLIStep{
			{Do: do[0], Undo: "no " + do[0]},
			{Mode: do[0], Do: do[1], Undo: "no " + do[1]},
		}, nil
	case DeleteGroup:
		// undo = header, description, exit
		return []CLIStep{
			{Mode: undo[0], Do: "no " + undo[1], Undo: undo[1]},
			{Do: do[0], Undo: undo[0]},
		}, nil
	case AddGroupMember, RemoveGroupMember:
		return []CLIStep{{Mode: do[0], Do: do[1], Undo: undo[1]}}, nil
	case CreateTimeRange, DeleteTimeRange:
		return timeRangeSteps(ch)
	case DeleteACE:
		if x.Line == 0 {
			return nil, fmt.Errorf("delete without line has no exact undo: %w", ErrBadLine)
		}
	case DeleteRemark:
		if x.Line == 0 {
			return nil, fmt.Errorf("delete without line has no exact undo: %w", ErrBadLine)
		}
	}
	return []CLIStep{{Exec: ch.Mode() == ModeExec, Do: do[0], Undo: undo[0]}}, nil
}
