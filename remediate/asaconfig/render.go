package asaconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// MaxLineLen is the longest line the renderer emits (the ASA terminal width).
const MaxLineLen = 511

// Sentinel errors of rendering and validation.
var (
	ErrUnsafeLine = errors.New("unsafe cli line")
	ErrBadName    = errors.New("invalid name")
	ErrBadID      = errors.New("invalid proposal id")
	ErrBadValue   = errors.New("invalid value")
)

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	idRE   = regexp.MustCompile(`^[a-z0-9-]{1,40}$`)
)

// ValidateLine refuses a CLI line that is empty, longer than [MaxLineLen],
// holds anything but printable ASCII (so no CR, LF, NUL, escape or Unicode
// line separator can split it into two commands) or a '?' (CLI help).
func ValidateLine(s string) error {
	if s == "" {
		return fmt.Errorf("empty line: %w", ErrUnsafeLine)
	}
	if len(s) > MaxLineLen {
		return fmt.Errorf("line of %d chars exceeds %d: %w", len(s), MaxLineLen, ErrUnsafeLine)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("byte 0x%02x at %d: %w", c, i, ErrUnsafeLine)
		}
	}
	// The ASA CLI answers "?" with help at once, wherever it is typed.
	if i := strings.IndexByte(s, '?'); i >= 0 {
		return fmt.Errorf("'?' at %d: %w", i, ErrUnsafeLine)
	}
	return nil
}

// ValidateName checks an object, group, ACL or interface name.
func ValidateName(s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("%q: %w", s, ErrBadName)
	}
	return nil
}

// RemarkKind is the kind word of a remark or description template.
type RemarkKind uint8

// Remark kinds.
const (
	KindBlock RemarkKind = iota + 1
	KindQuarantine
	KindSAN
	KindManaged // description of a managed group
	KindACL     // an ACL firebreak created and bound where there was none
)

func (k RemarkKind) String() string {
	switch k {
	case KindBlock:
		return "block"
	case KindQuarantine:
		return "quarantine"
	case KindSAN:
		return "san-route"
	case KindManaged:
		return "managed"
	case KindACL:
		return "acl"
	}
	return ""
}

// Remark is the only text firebreak writes into a remark or description:
// "firebreak <proposal-id> <kind>".
type Remark struct {
	ProposalID string     `json:"proposal_id"`
	Kind       RemarkKind `json:"kind"`
}

// NewRemark validates the id and kind.
func NewRemark(id string, kind RemarkKind) (Remark, error) {
	r := Remark{ProposalID: id, Kind: kind}
	if _, err := r.Text(); err != nil {
		return Remark{}, err
	}
	return r, nil
}

// Text renders the remark, or fails when the id or kind is invalid.
func (r Remark) Text() (string, error) {
	if !idRE.MatchString(r.ProposalID) {
		return "", fmt.Errorf("%q: %w", r.ProposalID, ErrBadID)
	}
	if r.Kind.String() == "" {
		return "", fmt.Errorf("remark kind %d: %w", r.Kind, ErrBadValue)
	}
	return "firebreak " + r.ProposalID + " " + r.Kind.String(), nil
}

// ParseRemark reverses [Remark.Text]; ok is false for any other text.
func ParseRemark(s string) (Remark, bool) {
	f := strings.Fields(s)
	if len(f) != 3 || f[0] != "firebreak" || !idRE.MatchString(f[1]) {
		return Remark{}, false
	}
	for k := KindBlock; k <= KindACL; k++ {
		if k.String() == f[2] {
			r := Remark{ProposalID: f[1], Kind: k}
			t, _ := r.Text()
			return r, t == s
		}
	}
	return Remark{}, false
}

func itoa(i int) string { return strconv.Itoa(i) }

// mask renders the dotted netmask of an IPv4 prefix length.
func mask(bits int) string {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}

// renderPrefix renders "A MASK" (IPv4) or "A/len" (IPv6).
func renderPrefix(p netip.Prefix) string {
	if p.Addr().Is4() {
		return p.Addr().String() + " " + mask(p.Bits())
	}
	return p.String()
}

func renderAddress(a Address) (string, error) {
	switch a.Kind {
	case AddrAny:
		return "any", nil
	case AddrAny4:
		return "any4", nil
	case AddrAny6:
		return "any6", nil
	case AddrHost:
		if !a.Prefix.IsValid() || !a.Prefix.IsSingleIP() {
			return "", fmt.Errorf("host %v: %w", a.Prefix, ErrBadValue)
		}
		return "host " + a.Prefix.Addr().String(), nil
	case AddrPrefix:
		if !a.Prefix.IsValid() {
			return "", fmt.Errorf("prefix %v: %w", a.Prefix, ErrBadValue)
		}
		return renderPrefix(a.Prefix), nil
	case AddrObjectGroup, AddrObject, AddrInterface:
		if err := ValidateName(a.Name); err != nil {
			return "", err
		}
		kw := map[AddrKind]string{AddrObjectGroup: "object-group", AddrObject: "object", AddrInterface: "interface"}[a.Kind]
		return kw + " " + a.Name, nil
	}
	return "", fmt.Errorf("address kind %d: %w", a.Kind, ErrBadValue)
}

func renderPort(p Protocol, m PortMatch) (string, error) {
	if m.Op == PortAny {
		return "", nil
	}
	if p != ProtoTCP && p != ProtoUDP {
		return "", fmt.Errorf("port condition on %v: %w", p, ErrBadValue)
	}
	switch m.Op {
	case PortEq, PortNeq, PortLt, PortGt:
		op := map[PortOp]string{PortEq: "eq", PortNeq: "neq", PortLt: "lt", PortGt: "gt"}[m.Op]
		return op + " " + portName(p, m.Lo), nil
	case PortRange:
		if m.Lo > m.Hi {
			return "", fmt.Errorf("range %d %d: %w", m.Lo, m.Hi, ErrBadValue)
		}
		return "range " + portName(p, m.Lo) + " " + portName(p, m.Hi), nil
	}
	return "", fmt.Errorf("port op %d: %w", m.Op, ErrBadValue)
}

var logLevels = map[string]bool{
	"emergencies": true, "alerts": true, "critical": true, "errors": true, "warnings": true,
	"notifications": true, "informational": true, "debugging": true,
	"0": true, "1": true, "2": true, "3": true, "4": true, "5": true, "6": true, "7": true,
}

// renderACEBody renders "ACTION PROTO SRC [SPORT] DST [DPORT] [options]".
func renderACEBody(e ACE) (string, error) {
	if e.Action != Permit && e.Action != Deny {
		return "", fmt.Errorf("action %d: %w", e.Action, ErrBadValue)
	}
	if e.Protocol.String() == "invalid-protocol" {
		return "", fmt.Errorf("protocol %d: %w", e.Protocol, ErrBadValue)
	}
	parts := []string{e.Action.String(), e.Protocol.String()}
	for _, x := range []struct {
		a Address
		p PortMatch
	}{{e.Src, e.SrcPort}, {e.Dst, e.DstPort}} {
		s, err := renderAddress(x.a)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
		ps, err := renderPort(e.Protocol, x.p)
		if err != nil {
			return "", err
		}
		if ps != "" {
			parts = append(parts, ps)
		}
	}
	switch {
	case e.Log.Disable:
		parts = append(parts, "log", "disable")
	case e.Log.Default:
		parts = append(parts, "log", "default")
	case e.Log.Set:
		parts = append(parts, "log")
		if e.Log.Level != "" {
			if !logLevels[e.Log.Level] {
				return "", fmt.Errorf("log level %q: %w", e.Log.Level, ErrBadValue)
			}
			parts = append(parts, e.Log.Level)
		}
		if e.Log.Interval != 0 {
			parts = append(parts, "interval", strconv.Itoa(int(e.Log.Interval)))
		}
	}
	if e.TimeRange != "" {
		if err := ValidateName(e.TimeRange); err != nil {
			return "", err
		}
		parts = append(parts, "time-range", e.TimeRange)
	}
	if e.Inactive {
		parts = append(parts, "inactive")
	}
	return strings.Join(parts, " "), nil
}

// RenderACE renders the configuration line of ace in acl, as `show
// running-config` shows it.
func RenderACE(acl string, ace ACE) (string, error) {
	if err := ValidateName(acl); err != nil {
		return "", err
	}
	body, err := renderACEBody(ace)
	if err != nil {
		return "", err
	}
	return checked("access-list " + acl + " extended " + body)
}

func renderMember(m Member) (string, error) {
	switch m.Kind {
	case MemberHost:
		if !m.Prefix.IsValid() || !m.Prefix.IsSingleIP() {
			return "", fmt.Errorf("host member %v: %w", m.Prefix, ErrBadValue)
		}
		return "network-object host " + m.Prefix.Addr().String(), nil
	case MemberPrefix:
		if !m.Prefix.IsValid() {
			return "", fmt.Errorf("prefix member %v: %w", m.Prefix, ErrBadValue)
		}
		return "network-object " + renderPrefix(m.Prefix), nil
	case MemberObject:
		if err := ValidateName(m.Name); err != nil {
			return "", err
		}
		return "network-object object " + m.Name, nil
	case MemberGroup:
		if err := ValidateName(m.Name); err != nil {
			return "", err
		}
		return "group-object " + m.Name, nil
	}
	return "", fmt.Errorf("member kind %d: %w", m.Kind, ErrBadValue)
}

func renderRoute(r Route) (string, error) {
	if err := ValidateName(r.Interface); err != nil {
		return "", err
	}
	if !r.Dest.IsValid() || !r.Dest.Addr().Is4() || !r.Gateway.Is4() {
		return "", fmt.Errorf("route %v via %v: %w", r.Dest, r.Gateway, ErrBadValue)
	}
	d := r.Distance
	if d == 0 {
		d = 1
	}
	s := "route " + r.Interface + " " + renderPrefix(r.Dest) + " " + r.Gateway.String() + " " + strconv.Itoa(int(d))
	if r.Track != 0 {
		s += " track " + strconv.FormatUint(uint64(r.Track), 10)
	}
	if r.Tunneled {
		s += " tunneled"
	}
	return s, nil
}

func checked(s string) (string, error) {
	if err := ValidateLine(s); err != nil {
		return "", err
	}
	return s, nil
}

// Port names as the ASA displays them (and accepts them).
var tcpPorts = map[string]uint16{
	"aol": 5190, "bgp": 179, "chargen": 19, "cifs": 3020, "citrix-ica": 1494, "cmd": 514,
	"ctiqbe": 2748, "daytime": 13, "discard": 9, "domain": 53, "echo": 7, "exec": 512,
	"finger": 79, "ftp": 21, "ftp-data": 20, "gopher": 70, "h323": 1720, "hostname": 101,
	"http": 80, "https": 443, "ident": 113, "imap4": 143, "irc": 194, "kerberos": 750,
	"klogin": 543, "kshell": 544, "ldap": 389, "ldaps": 636, "login": 513, "lotusnotes": 1352,
	"lpd": 515, "netbios-ssn": 139, "nfs": 2049, "nntp": 119, "pcanywhere-data": 5631,
	"pim-auto-rp": 496, "pop2": 109, "pop3": 110, "pptp": 1723, "rsh": 514, "rtsp": 554,
	"sip": 5060, "smtp": 25, "sqlnet": 1521, "ssh": 22, "sunrpc": 111, "tacacs": 49,
	"talk": 517, "telnet": 23, "uucp": 540, "whois": 43, "www": 80,
}

var udpPorts = map[string]uint16{
	"biff": 512, "bootpc": 68, "bootps": 67, "cifs": 3020, "discard": 9, "dnsix": 195,
	"domain": 53, "echo": 7, "http": 80, "isakmp": 500, "kerberos": 750, "mobile-ip": 434,
	"nameserver": 42, "netbios-dgm": 138, "netbios-ns": 137, "nfs": 2049, "ntp": 123,
	"pcanywhere-status": 5632, "pim-auto-rp": 496, "radius": 1645, "radius-acct": 1646,
	"rip": 520, "secureid-udp": 5510, "sip": 5060, "snmp": 161, "snmptrap": 162,
	"sunrpc": 111, "syslog": 514, "tacacs": 49, "talk": 517, "tftp": 69, "time": 37,
	"who": 513, "www": 80, "xdmcp": 177,
}

// Display names where several names share a number.
var tcpDisplay, udpDisplay = displayNames(tcpPorts, map[uint16]string{80: "www", 514: "rsh"}),
	displayNames(udpPorts, map[uint16]string{80: "www"})

func displayNames(m map[string]uint16, prefer map[uint16]string) map[uint16]string {
	out := make(map[uint16]string, len(m))
	for name, n := range m {
		if cur, ok := out[n]; !ok || name < cur {
			out[n] = name
		}
	}
	for n, name := range prefer {
		out[n] = name
	}
	return out
}

func portName(p Protocol, n uint16) string {
	d := tcpDisplay
	if p == ProtoUDP {
		d = udpDisplay
	}
	if s, ok := d[n]; ok {
		return s
	}
	return strconv.Itoa(int(n))
}

func parsePort(p Protocol, s string) (uint16, bool) {
	if n, err := strconv.ParseUint(s, 10, 16); err == nil {
		return uint16(n), true
	}
	m := tcpPorts
	if p == ProtoUDP {
		m = udpPorts
	}
	n, ok := m[s]
	return n, ok
}
