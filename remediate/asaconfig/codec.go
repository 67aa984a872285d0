package asaconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// ErrCodec is wrapped by errors of UnmarshalChanges.
var ErrCodec = errors.New("invalid change encoding")

// MaxChangesSize caps the input of UnmarshalChanges.
const MaxChangesSize = 1 << 20

// Enum text forms, so stored proposals read well and reject unknown words.
var (
	addrKindNames   = []string{"", "any", "any4", "any6", "host", "prefix", "object-group", "object", "interface"}
	portOpNames     = []string{"any", "eq", "neq", "lt", "gt", "range"}
	memberKindNames = []string{"", "host", "prefix", "object", "group"}
)

func enumText(names []string, v int) ([]byte, error) {
	if v < 0 || v >= len(names) || names[v] == "" {
		return nil, fmt.Errorf("enum value %d: %w", v, ErrCodec)
	}
	return []byte(names[v]), nil
}

func enumParse(names []string, b []byte) (int, error) {
	for i, n := range names {
		if n != "" && n == string(b) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("enum %q: %w", b, ErrCodec)
}

var (
	actionNames   = []string{"", "permit", "deny"}
	protocolNames = []string{"", "ip", "tcp", "udp", "icmp"}
	remarkNames   = []string{"", "block", "quarantine", "san-route", "managed", "acl"}
)

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) { return enumText(actionNames, int(a)) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Action) UnmarshalText(b []byte) error {
	v, err := enumParse(actionNames, b)
	*a = Action(v)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (p Protocol) MarshalText() ([]byte, error) { return enumText(protocolNames, int(p)) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Protocol) UnmarshalText(b []byte) error {
	v, err := enumParse(protocolNames, b)
	*p = Protocol(v)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (k AddrKind) MarshalText() ([]byte, error) { return enumText(addrKindNames, int(k)) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *AddrKind) UnmarshalText(b []byte) error {
	v, err := enumParse(addrKindNames, b)
	*k = AddrKind(v)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (o PortOp) MarshalText() ([]byte, error) { return enumText(portOpNames, int(o)) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *PortOp) UnmarshalText(b []byte) error {
	v, err := enumParse(portOpNames, b)
	*o = PortOp(v)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (k MemberKind) MarshalText() ([]byte, error) { return enumText(memberKindNames, int(k)) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *MemberKind) UnmarshalText(b []byte) error {
	v, err := enumParse(memberKindNames, b)
	*k = MemberKind(v)
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (k RemarkKind) MarshalText() ([]byte, error) { return enumText(remarkNames, int(k)) }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *RemarkKind) UnmarshalText(b []byte) error {
	v, err := enumParse(remarkNames, b)
	*k = RemarkKind(v)
	return err
}

// changeJSON is the stored form of one change.
type changeJSON struct {
	Kind        string     `json:"kind"`
	Name        string     `json:"name,omitempty"`
	Description *Remark    `json:"description,omitempty"`
	Group       string     `json:"group,omitempty"`
	Member      *Member    `json:"member,omitempty"`
	ACL         string     `json:"acl,omitempty"`
	Line        int        `json:"line,omitempty"`
	ACE         *ACE       `json:"ace,omitempty"`
	Remark      *Remark    `json:"remark,omitempty"`
	Route       *Route     `json:"route,omitempty"`
	Addr        netip.Addr `json:"addr,omitzero"`
	End         time.Time  `json:"end,omitzero"` // time-range absolute end, device wall clock
}

// MarshalChanges encodes changes as a JSON array, for storing a proposal.
func MarshalChanges(changes []Change) ([]byte, error) {
	out := make([]changeJSON, 0, len(changes))
	for i, ch := range changes {
		var j changeJSON
		switch x := ch.(type) {
		case CreateGroup:
			j = changeJSON{Kind: "create-group", Name: x.Name, Description: &x.Description}
		case DeleteGroup:
			j = changeJSON{Kind: "delete-group", Name: x.Name, Description: &x.Description}
		case AddGroupMember:
			j = changeJSON{Kind: "add-member", Group: x.Group, Member: &x.Member}
		case RemoveGroupMember:
			j = changeJSON{Kind: "remove-member", Group: x.Group, Member: &x.Member}
		case InsertACE:
			j = changeJSON{Kind: "insert-ace", ACL: x.ACL, Line: x.Line, ACE: &x.ACE}
		case DeleteACE:
			j = changeJSON{Kind: "delete-ace", ACL: x.ACL, Line: x.Line, ACE: &x.ACE}
		case AddRemark:
			j = changeJSON{Kind: "add-remark", ACL: x.ACL, Line: x.Line, Remark: &x.Remark}
		case DeleteRemark:
			j = changeJSON{Kind: "delete-remark", ACL: x.ACL, Line: x.Line, Remark: &x.Remark}
		case AddRoute:
			j = changeJSON{Kind: "add-route", Route: &x.Route}
		case DeleteRoute:
			j = changeJSON{Kind: "delete-route", Route: &x.Route}
		case Shun:
			j = changeJSON{Kind: "shun", Addr: x.Addr}
		case Unshun:
			j = changeJSON{Kind: "unshun", Addr: x.Addr}
		case BindACL:
			j = changeJSON{Kind: "bind-acl", ACL: x.ACL, Name: x.Interface}
		case UnbindACL:
			j = changeJSON{Kind: "unbind-acl", ACL: x.ACL, Name: x.Interface}
		case ClearConn:
			j = changeJSON{Kind: "clear-conn", Addr: x.Addr}
		case CreateTimeRange:
			j = changeJSON{Kind: "create-time-range", Name: x.Name, End: x.End}
		case DeleteTimeRange:
			j = changeJSON{Kind: "delete-time-range", Name: x.Name, End: x.End}
		default:
			return nil, fmt.Errorf("change %d of type %T: %w", i+1, ch, ErrCodec)
		}
		out = append(out, j)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode changes: %w", err)
	}
	return b, nil
}

// UnmarshalChanges decodes MarshalChanges output strictly (unknown fields,
// kinds or enum words, missing parts and changes whose Lines fail are all
// errors), so a tampered store cannot smuggle text into a CLI line.
func UnmarshalChanges(b []byte) ([]Change, error) {
	if len(b) > MaxChangesSize {
		return nil, fmt.Errorf("%d bytes: %w", len(b), ErrCodec)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var in []changeJSON
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("decode changes: %w: %w", ErrCodec, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data: %w", ErrCodec)
	}
	out := make([]Change, 0, len(in))
	for i, j := range in {
		ch, err := j.change()
		if err != nil {
			return nil, fmt.Errorf("change %d: %w", i+1, err)
		}
		if _, err := ch.Lines(); err != nil {
			return nil, fmt.Errorf("change %d: %w: %w", i+1, ErrCodec, err)
		}
		out = append(out, ch)
	}
	return out, nil
}

func (j changeJSON) change() (Change, error) {
	missing := func(what string) error { return fmt.Errorf("%s without %s: %w", j.Kind, what, ErrCodec) }
	switch j.Kind {
	case "create-group", "delete-group":
		if j.Description == nil {
			return nil, missing("description")
		}
		if j.Kind == "create-group" {
			return CreateGroup{Name: j.Name, Description: *j.Description}, nil
		}
		return DeleteGroup{Name: j.Name, Description: *j.Description}, nil
	case "add-member", "remove-member":
		if j.Member == nil {
			return nil, missing("member")
		}
		if j.Kind == "add-member" {
			return AddGroupMember{Group: j.Group, Member: *j.Member}, nil
		}
		return RemoveGroupMember{Group: j.Group, Member: *j.Member}, nil
	case "insert-ace", "delete-ace":
		if j.ACE == nil {
			return nil, missing("ace")
		}
		if j.Kind == "insert-ace" {
			return InsertACE{ACL: j.ACL, Line: j.Line, ACE: *j.ACE}, nil
		}
		return DeleteACE{ACL: j.ACL, Line: j.Line, ACE: *j.ACE}, nil
	case "add-remark", "delete-remark":
		if j.Remark == nil {
			return nil, missing("remark")
		}
		if j.Kind == "add-remark" {
			return AddRemark{ACL: j.ACL, Line: j.Line, Remark: *j.Remark}, nil
		}
		return DeleteRemark{ACL: j.ACL, Line: j.Line, Remark: *j.Remark}, nil
	case "add-route", "delete-route":
		if j.Route == nil {
			return nil, missing("route")
		}
		if j.Kind == "add-route" {
			return AddRoute{Route: *j.Route}, nil
		}
		return DeleteRoute{Route: *j.Route}, nil
	case "shun":
		return Shun{Addr: j.Addr}, nil
	case "unshun":
		return Unshun{Addr: j.Addr}, nil
	case "bind-acl":
		return BindACL{ACL: j.ACL, Interface: j.Name}, nil
	case "unbind-acl":
		return UnbindACL{ACL: j.ACL, Interface: j.Name}, nil
	case "clear-conn":
		return ClearConn{Addr: j.Addr}, nil
	case "create-time-range":
		return CreateTimeRange{Name: j.Name, End: j.End}, nil
	case "delete-time-range":
		return DeleteTimeRange{Name: j.Name, End: j.End}, nil
	}
	return nil, fmt.Errorf("kind %q: %w", j.Kind, ErrCodec)
}
