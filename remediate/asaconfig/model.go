package asaconfig

import (
	"net/netip"
)

// Action is the verdict of an ACE.
type Action uint8

// Actions.
const (
	Permit Action = iota + 1
	Deny
)

func (a Action) String() string {
	switch a {
	case Permit:
		return "permit"
	case Deny:
		return "deny"
	}
	return "invalid-action"
}

// Protocol is the protocol of a typed ACE. Other protocols (esp, gre,
// numbers, service groups) are kept as [EntryOther] entries.
type Protocol uint8

// Protocols.
const (
	ProtoIP Protocol = iota + 1
	ProtoTCP
	ProtoUDP
	ProtoICMP
)

func (p Protocol) String() string {
	switch p {
	case ProtoIP:
		return "ip"
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	}
	return "invalid-protocol"
}

// AddrKind tells how an ACE names a source or destination.
type AddrKind uint8

// Address kinds.
const (
	AddrAny         AddrKind = iota + 1 // any
	AddrAny4                            // any4
	AddrAny6                            // any6
	AddrHost                            // host A (Prefix is a single address)
	AddrPrefix                          // A MASK (IPv4) or A/len (IPv6)
	AddrObjectGroup                     // object-group NAME
	AddrObject                          // object NAME
	AddrInterface                       // interface NAME
)

// Address is a source or destination of an ACE.
type Address struct {
	Kind   AddrKind     `json:"kind"`
	Prefix netip.Prefix `json:"prefix,omitzero"` // for AddrHost and AddrPrefix
	Name   string       `json:"name,omitempty"`  // for AddrObjectGroup, AddrObject and AddrInterface
}

// AnyAddr is the `any` address.
func AnyAddr() Address { return Address{Kind: AddrAny} }

// HostAddr is `host A`.
func HostAddr(a netip.Addr) Address {
	return Address{Kind: AddrHost, Prefix: netip.PrefixFrom(a, a.BitLen())}
}

// PrefixAddr is `A MASK`; a single-address prefix becomes `host A` as the ASA
// shows it.
func PrefixAddr(p netip.Prefix) Address {
	p = p.Masked()
	if p.IsSingleIP() {
		return Address{Kind: AddrHost, Prefix: p}
	}
	return Address{Kind: AddrPrefix, Prefix: p}
}

// GroupAddr is `object-group NAME`.
func GroupAddr(name string) Address { return Address{Kind: AddrObjectGroup, Name: name} }

// PortOp is a port operator.
type PortOp uint8

// Port operators; PortAny means no port condition.
const (
	PortAny PortOp = iota
	PortEq
	PortNeq
	PortLt
	PortGt
	PortRange
)

// PortMatch is a port condition; Hi is used by PortRange only.
type PortMatch struct {
	Op PortOp `json:"op"`
	Lo uint16 `json:"lo,omitempty"`
	Hi uint16 `json:"hi,omitempty"`
}

// LogOpts are the `log` options of an ACE.
type LogOpts struct {
	Set      bool   `json:"set,omitempty"`      // `log` present
	Level    string `json:"level,omitempty"`    // "" or a level name/number as configured
	Interval uint16 `json:"interval,omitempty"` // 0 when absent
	Disable  bool   `json:"disable,omitempty"`  // `log disable`
	Default  bool   `json:"default,omitempty"`  // `log default`
}

// ACE is a typed `extended` access-list entry.
type ACE struct {
	Action    Action    `json:"action"`
	Protocol  Protocol  `json:"protocol"`
	Src       Address   `json:"src"`
	SrcPort   PortMatch `json:"src_port,omitzero"`
	Dst       Address   `json:"dst"`
	DstPort   PortMatch `json:"dst_port,omitzero"`
	Log       LogOpts   `json:"log,omitzero"`
	TimeRange string    `json:"time_range,omitempty"`
	Inactive  bool      `json:"inactive,omitempty"`
}

// EntryKind classifies access-list lines.
type EntryKind uint8

// Entry kinds. EntryOther is any access-list line the package does not type
// (standard, webtype, service groups, icmp types…); it still takes a line
// number.
const (
	EntryRemark EntryKind = iota + 1
	EntryACE
	EntryOther
)

// ACLEntry is one line of an access-list, numbered as `show access-list`
// numbers it (1-based, remarks included).
type ACLEntry struct {
	Line   int
	Kind   EntryKind
	Remark string // EntryRemark
	ACE    ACE    // EntryACE
	Text   string // the configuration line as shown
}

// ACL is an access-list in configuration order.
type ACL struct {
	Name    string
	Entries []ACLEntry
}

// MemberKind classifies network object-group members.
type MemberKind uint8

// Member kinds.
const (
	MemberHost   MemberKind = iota + 1 // network-object host A
	MemberPrefix                       // network-object A MASK
	MemberObject                       // network-object object NAME
	MemberGroup                        // group-object NAME
)

// Member is a network object-group member.
type Member struct {
	Kind   MemberKind   `json:"kind"`
	Prefix netip.Prefix `json:"prefix,omitzero"` // MemberHost, MemberPrefix
	Name   string       `json:"name,omitempty"`  // MemberObject, MemberGroup
}

// HostMember is `network-object host A`.
func HostMember(a netip.Addr) Member {
	return Member{Kind: MemberHost, Prefix: netip.PrefixFrom(a, a.BitLen())}
}

// PrefixMember is `network-object A MASK`, or `host A` for a single address.
func PrefixMember(p netip.Prefix) Member {
	p = p.Masked()
	if p.IsSingleIP() {
		return Member{Kind: MemberHost, Prefix: p}
	}
	return Member{Kind: MemberPrefix, Prefix: p}
}

// NetworkGroup is an `object-group network`.
type NetworkGroup struct {
	Name        string
	Description string
	Members     []Member
}

// NetworkObject is an `object network`: host and subnet set Prefix, range
// sets First and Last, fqdn sets FQDN (its addresses are not known here).
type NetworkObject struct {
	Name        string
	Description string
	Prefix      netip.Prefix // host (/32) or subnet; invalid for range/fqdn
	First, Last netip.Addr   // range
	FQDN        string
}

// Interface is an `interface` block.
type Interface struct {
	HW            string // Ethernet0/0
	Nameif        string
	SecurityLevel int // -1 when absent
	Address       netip.Prefix
	Standby       netip.Addr
	Shutdown      bool
	MgmtOnly      bool // management-only
}

// NameEntry is a `name A NAME` line.
type NameEntry struct {
	Addr netip.Addr
	Name string
}

// Direction of an access-group binding.
type Direction uint8

// Directions.
const (
	DirIn Direction = iota + 1
	DirOut
	DirGlobal
)

func (d Direction) String() string {
	switch d {
	case DirIn:
		return "in"
	case DirOut:
		return "out"
	case DirGlobal:
		return "global"
	}
	return "invalid-direction"
}

// AccessGroup binds an ACL to an interface or globally. A ControlPlane
// binding filters only traffic to the box itself, never transit traffic.
type AccessGroup struct {
	ACL          string
	Dir          Direction
	Interface    string // empty for DirGlobal
	ControlPlane bool   `json:"control_plane,omitempty"`
}

// Route is a static IPv4 route. Distance is 1 when the line has none.
type Route struct {
	Interface string       `json:"interface"`
	Dest      netip.Prefix `json:"dest"`
	Gateway   netip.Addr   `json:"gateway"`
	Distance  uint8        `json:"distance,omitempty"`
	Track     uint32       `json:"track,omitempty"` // 0 when absent
	Tunneled  bool         `json:"tunneled,omitempty"`
}

// ProtectScope says how a protected prefix restricts targets.
type ProtectScope uint8

// Protect scopes.
const (
	// ScopeOverlap refuses any target that overlaps the prefix (hosts,
	// management networks, peers, gateways).
	ScopeOverlap ProtectScope = iota
	// ScopeWhole refuses targets that cover the whole prefix (connected
	// subnets: quarantining one host in them is allowed).
	ScopeWhole
)

// Protected is a prefix that must never be blocked, with the reason.
type Protected struct {
	Prefix netip.Prefix
	Scope  ProtectScope
	Reason string
}

// Refuses reports whether p forbids acting on target.
func (p Protected) Refuses(target netip.Prefix) bool {
	pp, tt := p.Prefix.Masked(), target.Masked()
	if !pp.IsValid() || !tt.IsValid() || pp.Addr().Is4() != tt.Addr().Is4() {
		return false
	}
	if p.Scope == ScopeWhole {
		return tt.Bits() <= pp.Bits() && tt.Contains(pp.Addr())
	}
	return pp.Overlaps(tt)
}

// ParseWarning is a line the parser recognised but could not type; the line
// is still kept verbatim.
type ParseWarning struct {
	Line int // 1-based line number in the input
	Text string
	Err  error
}

func (w ParseWarning) String() string {
	return "line " + itoa(w.Line) + ": " + w.Err.Error() + ": " + w.Text
}
