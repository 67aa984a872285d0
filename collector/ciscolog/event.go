package ciscolog

import (
	"net/netip"
	"strings"
	"time"
	"unsafe"
)

// Family is the device family that produced a message.
type Family uint8

const (
	FamilyUnknown Family = iota
	FamilyASA            // %ASA-, %FTD-, %PIX-, %FWSM-, %NGIPS- tags (the firewall family)
	FamilyIOS            // %FAC[-SUB]-SEV-MNEMONIC tags
)

func (f Family) String() string {
	switch f {
	case FamilyASA:
		return "asa"
	case FamilyIOS:
		return "ios"
	}
	return "unknown"
}

// Kind says how much of a frame was understood.
type Kind uint8

const (
	// KindUnparsed: no Cisco tag was found; only Raw (and perhaps a header time and host) is set.
	KindUnparsed Kind = iota
	// KindHeader: the tag was understood (family, id or mnemonic, severity) but not the body;
	// Text holds the message body.
	KindHeader
	// KindTyped: the body was parsed into typed fields.
	KindTyped
)

func (k Kind) String() string {
	switch k {
	case KindHeader:
		return "header"
	case KindTyped:
		return "typed"
	}
	return "unparsed"
}

// Action is what the message reports.
type Action uint8

const (
	ActionNone Action = iota
	ActionBuilt
	ActionTeardown
	ActionDeny
	ActionPermit
	ActionDrop // dropped without an ACL decision (e.g. 106006/106007/106010, 313004)
	ActionTranslate
	ActionTranslateEnd
	ActionLogin
	ActionLogout
	ActionLoginFailed
	ActionSessionStart
	ActionSessionEnd
	ActionThreat // 733100 drop-rate
	ActionConfig // 111008 command executed
	ActionRateLimit
	ActionAlert       // an intrusion, threat-intelligence or scan event (IPS, FTD 430001, 338xxx)
	ActionStateChange // an interface or line protocol changed state (IOS LINK, LINEPROTO)
	ActionAccess      // a URL, file or resource was accessed (304001, 716003)
	ActionInfo        // a typed message that reports a state, not an action on traffic
)

var actionNames = [...]string{
	ActionNone:         "",
	ActionBuilt:        "built",
	ActionTeardown:     "teardown",
	ActionDeny:         "deny",
	ActionPermit:       "permit",
	ActionDrop:         "drop",
	ActionTranslate:    "translate",
	ActionTranslateEnd: "translate-end",
	ActionLogin:        "login",
	ActionLogout:       "logout",
	ActionLoginFailed:  "login-failed",
	ActionSessionStart: "session-start",
	ActionSessionEnd:   "session-end",
	ActionThreat:       "threat",
	ActionConfig:       "config",
	ActionRateLimit:    "rate-limit",
	ActionAlert:        "alert",
	ActionStateChange:  "state-change",
	ActionAccess:       "access",
	ActionInfo:         "info",
}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "unknown"
}

// Direction is the ASA's notion of inbound or outbound for a connection.
type Direction uint8

const (
	DirectionUnknown Direction = iota
	DirectionInbound
	DirectionOutbound
)

func (d Direction) String() string {
	switch d {
	case DirectionInbound:
		return "inbound"
	case DirectionOutbound:
		return "outbound"
	}
	return ""
}

// Side names one endpoint of an event.
type Side uint8

const (
	SideUnknown Side = iota
	SideSrc
	SideDst
)

// Proto is an IP protocol number. The zero value means "not known"; ProtoNumber distinguishes a
// real protocol 0 (HOPOPT), which Cisco never logs.
type Proto uint8

const (
	ProtoICMP   Proto = 1
	ProtoTCP    Proto = 6
	ProtoUDP    Proto = 17
	ProtoGRE    Proto = 47
	ProtoESP    Proto = 50
	ProtoICMPv6 Proto = 58
)

// Endpoint is one side of a flow as the message names it.
type Endpoint struct {
	Addr  netip.Addr // zero (invalid) when the slot held a name or an unparseable address
	Port  uint16
	Iface string // interface name as logged (may contain ':' or spaces)
	// Name holds the text of the address slot when it was not a valid address (the ASA `names`
	// feature, or a malformed address). Addr stays invalid in that case.
	Name       string
	MappedAddr netip.Addr // NAT: the translated address, when the message gives one
	MappedPort uint16
	User       string // identity suffix, e.g. `LOCAL\alice` from `(LOCAL\alice)`
}

// Event is one parsed syslog frame. It is a value: copy it freely. See the package doc for how
// long its string fields stay valid.
type Event struct {
	Kind Kind

	Time time.Time // UTC; zero when the frame carried no timestamp
	Host string    // device hostname from the header or tag area; may be empty
	// Sender is the address the frame came from; set by the collector, not by the parser.
	Sender netip.Addr

	// Priority is the syslog PRI (facility*8+severity); -1 when the frame had none.
	Priority int16
	// Seq is the device's IOS sequence number (`000123:`); 0 when absent.
	Seq uint32

	Family   Family
	MsgID    uint32 // ASA message id (302013); 0 for IOS
	Facility string // IOS facility (SEC); "ASA"/"FTD"/"PIX" for ASA
	Mnemonic string // IOS mnemonic (IPACCESSLOGP); empty for ASA
	Severity int8   // 0..7 from the tag, else from PRI; -1 when unknown
	// Class is the ASA class word of tags such as %ASA-session-5-106100; empty otherwise.
	Class string

	Action   Action
	Proto    Proto
	HasProto bool
	// Src and Dst follow the message's own order (`for A to B`: Src is A, as Elastic maps it);
	// see Initiator for who opened the connection. Special cases: 302020 and 302021 put laddr
	// in Src (with gaddr as its mapping) and faddr in Dst, whatever the direction, as Elastic
	// does, so that a flow's Built and Teardown agree (the Built's Initiator says who pinged);
	// translations (305011/305012) put the real endpoint
	// in Src with the translated address in Src.MappedAddr/MappedPort, and only the mapped
	// interface in Dst; VPN, AAA and login events put the remote user's address in Src and
	// the server or the ASA in Dst; 733100 puts the attacking address (if any) in Src.
	Src, Dst  Endpoint
	Direction Direction
	// Initiator is the side that opened the connection. For `Built outbound ... for A to B` it
	// is SideDst (B, the inside host); for `Built inbound ... for A to B` it is SideSrc.
	Initiator Side

	Bytes    uint64
	Duration time.Duration
	ConnID   uint64
	ACL      string // access-list or access-group name
	User     string // user of a VPN/AAA/config event, or the trailing `(user)` of a connection
	ICMPType int16  // -1 when absent
	ICMPCode int16  // -1 when absent
	Reason   string // teardown reason, deny reason or flags, 733100 object, 111008 command
	// Count is how many occurrences the frame stands for: hit-cnt (106100), `N packets` (IOS),
	// `message repeated N times`; 1 otherwise.
	Count uint32

	// Group is the VPN tunnel group or group policy (`Group <G>`, `Group = G`) or, for FTD
	// events, the access-control policy; empty otherwise.
	Group string
	// RuleID identifies the signature or rule of an intrusion event (IOS IPS `Sig:3050`,
	// FTD `SID: 2000`); empty otherwise.
	RuleID string
	// MAC is the source hardware address some IOS messages name (DOT1X, MAB, PORT_SECURITY,
	// DHCP_SNOOPING, IP-4-DUPADDR), as logged.
	MAC string
	// SrcBytes and DstBytes are the bytes each side sent, where the message splits them
	// (113019 xmt/rcv, FTD InitiatorBytes/ResponderBytes); Bytes is their sum then.
	SrcBytes, DstBytes uint64
	// Truncated says the frame was cut: it ended before the mandatory part of its message
	// (a closing quote, the mapped address of a Built, the reason of a TCP teardown ...), or it
	// reached Options.MaxFrame. A truncated event is KindHeader: a value read from a cut line
	// may itself be cut (port 32 for 320), so none is kept.
	Truncated bool

	Text string // the message body after the tag
	Raw  string // the whole frame as received
}

// Initiating returns the endpoint that opened the connection and the one it reached. When the
// initiator is unknown it returns Src, Dst.
func (e *Event) Initiating() (client, server Endpoint) {
	if e.Initiator == SideDst {
		return e.Dst, e.Src
	}
	return e.Src, e.Dst
}

// Clone returns a copy of e whose strings no longer alias the parsed frame, so that it can be
// kept after the frame's buffer is reused. It makes one allocation (a copy of Raw) when every
// string is a part of Raw, as Parse makes them.
func (e Event) Clone() Event {
	raw := strings.Clone(e.Raw)
	re := func(s string) string {
		if s == "" {
			return ""
		}
		if off, ok := within(e.Raw, s); ok {
			return raw[off : off+len(s)]
		}
		return strings.Clone(s)
	}
	c := e
	c.Raw = raw
	c.Host, c.Facility, c.Mnemonic, c.Class = re(e.Host), re(e.Facility), re(e.Mnemonic), re(e.Class)
	c.ACL, c.User, c.Reason, c.Text = re(e.ACL), re(e.User), re(e.Reason), re(e.Text)
	c.Group, c.RuleID, c.MAC = re(e.Group), re(e.RuleID), re(e.MAC)
	for _, p := range [...][2]*Endpoint{{&c.Src, &e.Src}, {&c.Dst, &e.Dst}} {
		p[0].Iface, p[0].Name, p[0].User = re(p[1].Iface), re(p[1].Name), re(p[1].User)
	}
	return c
}

// within reports whether s lies inside the memory of base, and at which offset.
func within(base, s string) (int, bool) {
	if len(base) == 0 || len(s) > len(base) {
		return 0, false
	}
	b := uintptr(unsafe.Pointer(unsafe.StringData(base)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if p < b || p+uintptr(len(s)) > b+uintptr(len(base)) {
		return 0, false
	}
	return int(p - b), true
}
