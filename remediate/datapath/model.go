package datapath

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// IP protocol numbers used by flows.
const (
	ICMP uint8 = 1
	TCP  uint8 = 6
	UDP  uint8 = 17
	SCTP uint8 = 132
)

// Flow is the first packet of a connection. Ingress is the nameif it
// enters by; empty means the interface the source routes through. Ports are
// used for TCP, UDP and SCTP; ICMPType and ICMPCode for ICMP.
type Flow struct {
	Ingress  string     `json:"ingress,omitempty"`
	Proto    uint8      `json:"proto"`
	Src      netip.Addr `json:"src"`
	SrcPort  uint16     `json:"src_port,omitempty"`
	Dst      netip.Addr `json:"dst"`
	DstPort  uint16     `json:"dst_port,omitempty"`
	ICMPType uint8      `json:"icmp_type,omitempty"`
	ICMPCode uint8      `json:"icmp_code,omitempty"`
}

func hasPorts(p uint8) bool { return p == TCP || p == UDP || p == SCTP }

// ProtoName is the ASA's name of a protocol number (or the number).
func ProtoName(p uint8) string {
	switch p {
	case ICMP:
		return "icmp"
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case SCTP:
		return "sctp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	}
	return strconv.Itoa(int(p))
}

// String is "10.3.100.15 -> 192.0.2.144 tcp/4444" (ports and ICMP types as
// far as they apply; the source port is left out).
func (f Flow) String() string {
	s := f.Src.String() + " -> " + f.Dst.String() + " " + ProtoName(f.Proto)
	switch {
	case hasPorts(f.Proto):
		s += "/" + strconv.Itoa(int(f.DstPort))
	case f.Proto == ICMP:
		s += "/" + strconv.Itoa(int(f.ICMPType))
	}
	return s
}

// Action is a verdict.
type Action uint8

// Verdicts. Unknown means the configuration alone cannot decide (see the
// package doc); it is never counted as dropped.
const (
	Permit Action = iota + 1
	Drop
	Unknown
)

func (a Action) String() string {
	switch a {
	case Permit:
		return "permitted"
	case Drop:
		return "dropped"
	case Unknown:
		return "unknown"
	}
	return "invalid"
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Action) UnmarshalText(b []byte) error {
	for _, v := range []Action{Permit, Drop, Unknown} {
		if v.String() == string(b) {
			*a = v
			return nil
		}
	}
	return fmt.Errorf("datapath: verdict %q", b)
}

// Stage is the check that decided.
type Stage string

// Stages, in the order of the package doc.
const (
	StageInterface    Stage = "interface"      // ingress missing or down
	StageConn         Stage = "conn"           // established connection
	StageShun         Stage = "shun"           // shunned source
	StageRoute        Stage = "route"          // no route to the destination
	StageACLIn        Stage = "acl-in"         // ingress ACL (interface or global)
	StageSecurity     Stage = "security-level" // no ingress ACL: security levels
	StageSameSecurity Stage = "same-security"  // same level or same interface
	StageMgmtOnly     Stage = "management-only"
	StageACLOut       Stage = "acl-out"       // egress ACL
	StageControlPlane Stage = "control-plane" // to-the-box ACL
	StageToBox        Stage = "to-the-box"    // the box's own services
	StageUnsupported  Stage = "unsupported"
)

// Rule names the access-list line that decided; Line 0 is the ACL's
// implicit deny. Group is the network object-group through which the entry
// matched, Remark the remark above it.
type Rule struct {
	ACL    string `json:"acl"`
	Line   int    `json:"line,omitempty"`
	Text   string `json:"text,omitempty"`
	Remark string `json:"remark,omitempty"`
	Group  string `json:"group,omitempty"`
}

func (r Rule) String() string {
	if r.Line == 0 {
		return "implicit deny of " + r.ACL
	}
	s := r.ACL + " line " + strconv.Itoa(r.Line)
	if r.Group != "" {
		s += ", " + r.Group
	}
	return s
}

// Verdict is what the box does with a flow, and why.
type Verdict struct {
	Action  Action `json:"action"`
	Stage   Stage  `json:"stage"`
	Rule    *Rule  `json:"rule,omitempty"` // the deciding ACL entry, when an ACL decided
	Ingress string `json:"ingress,omitempty"`
	Egress  string `json:"egress,omitempty"` // "" for to-the-box or unrouted
	Reason  string `json:"reason"`           // the deciding check in words
}

// String is "permitted (inside_access_in line 3)" or "dropped (shun of A)".
func (v Verdict) String() string {
	return v.Action.String() + " (" + v.Reason + ")"
}

// Shun is an active shun: new connections from Src are dropped (on
// Interface only, when set).
type Shun struct {
	Src       netip.Addr `json:"src"`
	Interface string     `json:"interface,omitempty"`
}

// Conn is an established connection in the box's table.
type Conn struct {
	Proto   uint8      `json:"proto"`
	Src     netip.Addr `json:"src"`
	SrcPort uint16     `json:"src_port,omitempty"`
	Dst     netip.Addr `json:"dst"`
	DstPort uint16     `json:"dst_port,omitempty"`
}

// matches reports whether f is a packet of c, in either direction.
func (c Conn) matches(f Flow) bool {
	if c.Proto != f.Proto {
		return false
	}
	if !hasPorts(f.Proto) {
		return c.Src == f.Src && c.Dst == f.Dst || c.Src == f.Dst && c.Dst == f.Src
	}
	return c.Src == f.Src && c.SrcPort == f.SrcPort && c.Dst == f.Dst && c.DstPort == f.DstPort ||
		c.Src == f.Dst && c.SrcPort == f.DstPort && c.Dst == f.Src && c.DstPort == f.SrcPort
}

// State is what the box holds beside its configuration. The zero value is a
// box with no shun and no connection.
type State struct {
	Shuns []Shun `json:"shuns,omitempty"`
	Conns []Conn `json:"conns,omitempty"`
}

// Options configure a Model.
type Options struct {
	// Location is the box's clock zone for time-ranges; nil uses the
	// config's `clock timezone` offset, or UTC.
	Location *time.Location
}

type iface struct {
	name     string
	level    int
	addr     netip.Prefix
	standby  netip.Addr
	up       bool
	mgmtOnly bool
}

type route struct {
	dest  netip.Prefix
	iface string
	dist  int
}

// Model is a compiled configuration. It is immutable and safe for
// concurrent use.
type Model struct {
	ifaces      map[string]*iface
	routes      []route // longest prefix first, then distance
	aclIn       map[string]string
	aclOut      map[string]string
	aclCP       map[string]string
	global      string
	acls        map[string]*acl
	interSame   bool
	intraSame   bool
	loc         *time.Location
	mgmt        []asaconfig.MgmtAccess
	httpPort    uint16
	httpEnabled bool
	icmpRules   []asaconfig.ICMPAccess
	warnings    []string
}

// New compiles cfg. Lines the model cannot use are listed by Warnings;
// entries it cannot decide stay in place and give Unknown verdicts.
func New(cfg *asaconfig.Config, o Options) *Model {
	m := &Model{
		ifaces: map[string]*iface{}, aclIn: map[string]string{}, aclOut: map[string]string{},
		aclCP: map[string]string{}, acls: map[string]*acl{}, loc: o.Location,
	}
	if m.loc == nil {
		m.loc = time.UTC
		if off, ok := cfg.ClockOffset(); ok {
			m.loc = time.FixedZone("clock", int(off/time.Second))
		}
	}
	for _, in := range cfg.Interfaces() {
		if in.Nameif == "" {
			continue
		}
		lvl := in.SecurityLevel
		if lvl < 0 {
			lvl = 0
			if in.Nameif == "inside" {
				lvl = 100 // the ASA's default for nameif inside
			}
		}
		m.ifaces[in.Nameif] = &iface{name: in.Nameif, level: lvl, addr: in.Address, standby: in.Standby,
			up: !in.Shutdown, mgmtOnly: in.MgmtOnly}
	}
	for _, in := range m.ifaces {
		if in.up && in.addr.IsValid() {
			m.routes = append(m.routes, route{dest: in.addr.Masked(), iface: in.name, dist: 0})
		}
	}
	for _, r := range cfg.Routes() {
		in := m.ifaces[r.Interface]
		if r.Tunneled || in == nil || !in.up {
			continue
		}
		d := int(r.Distance)
		if d == 0 {
			d = 1
		}
		m.routes = append(m.routes, route{dest: r.Dest.Masked(), iface: r.Interface, dist: d})
	}
	slices.SortStableFunc(m.routes, func(a, b route) int {
		if a.dest.Bits() != b.dest.Bits() {
			return b.dest.Bits() - a.dest.Bits()
		}
		return a.dist - b.dist
	})
	for _, g := range cfg.AccessGroups() {
		switch {
		case g.Dir == asaconfig.DirGlobal:
			m.global = g.ACL
		case g.Dir == asaconfig.DirIn && g.ControlPlane:
			m.aclCP[g.Interface] = g.ACL
		case g.Dir == asaconfig.DirIn:
			m.aclIn[g.Interface] = g.ACL
		case g.Dir == asaconfig.DirOut:
			m.aclOut[g.Interface] = g.ACL
		}
	}
	c := newCompiler(cfg)
	for _, name := range m.boundACLs() {
		m.acls[name] = c.acl(name)
	}
	m.warnings = c.warnings
	m.interSame, m.intraSame = cfg.SameSecurityTraffic()
	m.mgmt = cfg.ManagementAccess()
	m.httpPort, m.httpEnabled = cfg.HTTPServer()
	m.icmpRules = cfg.ICMPAccessRules()
	return m
}

func (m *Model) boundACLs() []string {
	var out []string
	add := func(n string) {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, mp := range []map[string]string{m.aclIn, m.aclOut, m.aclCP} {
		for _, n := range mp {
			add(n)
		}
	}
	add(m.global)
	slices.Sort(out)
	return out
}

// Warnings lists what the model could not use (unknown groups, lines it
// cannot type), for a person to check.
func (m *Model) Warnings() []string { return slices.Clone(m.warnings) }

// RouteInterface is the nameif the box routes a to, or "".
func (m *Model) RouteInterface(a netip.Addr) string {
	a = a.Unmap()
	for _, r := range m.routes {
		if r.dest.Contains(a) {
			return r.iface
		}
	}
	return ""
}

// toBox reports whether a is one of the box's own addresses, and whose.
func (m *Model) toBox(a netip.Addr) (string, bool) {
	for _, in := range m.ifaces {
		if in.addr.IsValid() && in.addr.Addr() == a || in.standby.IsValid() && in.standby == a {
			return in.name, true
		}
	}
	return "", false
}

// Interfaces lists the nameifs with their security levels.
func (m *Model) Interfaces() map[string]int {
	out := map[string]int{}
	for n, in := range m.ifaces {
		out[n] = in.level
	}
	return out
}

// Decide returns what the box does with the first packet of f at time at,
// given its runtime state st (nil: none).
func (m *Model) Decide(f Flow, at time.Time, st *State) Verdict {
	if st == nil {
		st = &State{}
	}
	f.Src, f.Dst = f.Src.Unmap(), f.Dst.Unmap()
	v := Verdict{Ingress: f.Ingress}
	if !f.Src.IsValid() || !f.Dst.IsValid() {
		return m.unknown(v, "flow without addresses")
	}
	if f.Src.Is6() || f.Dst.Is6() {
		return m.unknown(v, "IPv6 routing is not modelled")
	}
	if v.Ingress == "" {
		v.Ingress = m.RouteInterface(f.Src)
		if v.Ingress == "" {
			return drop(v, StageInterface, "no interface routes the source "+f.Src.String())
		}
		f.Ingress = v.Ingress
	}
	in := m.ifaces[v.Ingress]
	if in == nil {
		return drop(v, StageInterface, "no interface "+v.Ingress)
	}
	if !in.up {
		return drop(v, StageInterface, "interface "+v.Ingress+" is shut down")
	}
	for _, c := range st.Conns {
		if c.matches(f) {
			v.Egress = m.RouteInterface(f.Dst)
			return permit(v, StageConn, "existing connection")
		}
	}
	for _, s := range st.Shuns {
		if s.Src.Unmap() == f.Src && (s.Interface == "" || s.Interface == v.Ingress) {
			return drop(v, StageShun, "shun of "+f.Src.String())
		}
	}
	local := at.In(m.loc)
	if owner, ok := m.toBox(f.Dst); ok {
		return m.toTheBox(v, in, owner, f, local)
	}
	v.Egress = m.RouteInterface(f.Dst)
	if v.Egress == "" {
		return drop(v, StageRoute, "no route to "+f.Dst.String())
	}
	out := m.ifaces[v.Egress]
	if in.mgmtOnly || out.mgmtOnly {
		name := in.name
		if !in.mgmtOnly {
			name = out.name
		}
		return drop(v, StageMgmtOnly, "management-only interface "+name)
	}
	// The ingress ACL, or the security levels when there is none.
	var permitted *Rule
	if aclName, ok := m.aclIn[in.name]; ok || m.global != "" {
		var chain []string
		if ok {
			chain = append(chain, aclName)
		}
		if m.global != "" {
			chain = append(chain, m.global)
		}
		r, res := m.evalChain(chain, f, local)
		switch res {
		case matchMaybe:
			return m.unknownRule(v, StageACLIn, r)
		case matchNo:
			// The implicit deny comes after the global ACL when there is one.
			return dropRule(v, StageACLIn, &Rule{ACL: chain[len(chain)-1]})
		}
		if r.action != asaconfig.Permit {
			return dropRule(v, StageACLIn, r.ref())
		}
		permitted = r.ref()
	} else if in.level < out.level {
		return drop(v, StageSecurity, fmt.Sprintf("security levels: %s %d to %s %d", in.name, in.level, out.name, out.level))
	}
	if in.name == out.name && !m.intraSame {
		return drop(v, StageSameSecurity, "back out of "+in.name+" without same-security-traffic permit intra-interface")
	}
	if in.name != out.name && in.level == out.level && !m.interSame {
		return drop(v, StageSameSecurity, fmt.Sprintf("same security level %d on %s and %s without same-security-traffic permit inter-interface", in.level, in.name, out.name))
	}
	if aclName, ok := m.aclOut[out.name]; ok {
		r, res := m.evalChain([]string{aclName}, f, local)
		switch res {
		case matchMaybe:
			return m.unknownRule(v, StageACLOut, r)
		case matchNo:
			return dropRule(v, StageACLOut, &Rule{ACL: aclName})
		}
		if r.action != asaconfig.Permit {
			return dropRule(v, StageACLOut, r.ref())
		}
	}
	if permitted != nil {
		v.Rule = permitted
		return permit(v, StageACLIn, permitted.String())
	}
	return permit(v, StageSecurity, fmt.Sprintf("security levels: %s %d to %s %d", in.name, in.level, out.name, out.level))
}

// evalChain runs the ACLs in order; the first matching entry decides.
func (m *Model) evalChain(chain []string, f Flow, local time.Time) (*entry, matchResult) {
	for _, name := range chain {
		a := m.acls[name]
		if a == nil {
			continue
		}
		for i := range a.entries {
			e := &a.entries[i]
			switch e.match(f, local) {
			case matchYes:
				return e, matchYes
			case matchMaybe:
				return e, matchMaybe
			}
		}
	}
	return nil, matchNo
}

func (m *Model) toTheBox(v Verdict, in *iface, owner string, f Flow, local time.Time) Verdict {
	if aclName, ok := m.aclCP[in.name]; ok {
		r, res := m.evalChain([]string{aclName}, f, local)
		switch res {
		case matchMaybe:
			return m.unknownRule(v, StageControlPlane, r)
		case matchNo:
			return dropRule(v, StageControlPlane, &Rule{ACL: aclName})
		}
		if r.action != asaconfig.Permit {
			return dropRule(v, StageControlPlane, r.ref())
		}
	}
	if owner != in.name {
		return drop(v, StageToBox, "to-the-box traffic for "+owner+"'s address entering "+in.name)
	}
	svc := ""
	switch {
	case f.Proto == TCP && f.DstPort == 22:
		svc = "ssh"
	case f.Proto == TCP && f.DstPort == 23:
		svc = "telnet"
	case f.Proto == TCP && m.httpEnabled && f.DstPort == m.httpPort:
		svc = "http"
	case f.Proto == ICMP:
		for _, r := range m.icmpRules {
			if r.Interface != in.name || r.Src.IsValid() && !r.Src.Contains(f.Src) ||
				r.Type != asaconfig.AnyICMP && r.Type != int16(f.ICMPType) {
				continue
			}
			if r.Action == asaconfig.Permit {
				return permit(v, StageToBox, "icmp permit on "+in.name)
			}
			return drop(v, StageToBox, "icmp deny on "+in.name)
		}
		if slices.ContainsFunc(m.icmpRules, func(r asaconfig.ICMPAccess) bool { return r.Interface == in.name }) {
			return drop(v, StageToBox, "no icmp permit on "+in.name+" matches")
		}
		return permit(v, StageToBox, "icmp to the box (no icmp rules on "+in.name+")")
	}
	if svc == "" {
		return drop(v, StageToBox, "no service of the box answers "+f.String())
	}
	for _, a := range m.mgmt {
		if a.Proto == svc && a.Interface == in.name && a.Prefix.Contains(f.Src) {
			return permit(v, StageToBox, fmt.Sprintf("%s %s %s", svc, a.Prefix, in.name))
		}
	}
	return drop(v, StageToBox, "no "+svc+" line allows "+f.Src.String()+" on "+in.name)
}

func permit(v Verdict, s Stage, why string) Verdict {
	v.Action, v.Stage, v.Reason = Permit, s, why
	return v
}

func drop(v Verdict, s Stage, why string) Verdict {
	v.Action, v.Stage, v.Reason = Drop, s, why
	return v
}

func dropRule(v Verdict, s Stage, r *Rule) Verdict {
	v.Rule = r
	return drop(v, s, r.String())
}

func (m *Model) unknown(v Verdict, why string) Verdict {
	v.Action, v.Stage, v.Reason = Unknown, StageUnsupported, why
	return v
}

func (m *Model) unknownRule(v Verdict, s Stage, e *entry) Verdict {
	v.Rule = e.ref()
	v.Action, v.Stage = Unknown, s
	v.Reason = e.ref().String() + " cannot be decided: " + e.why
	return v
}

// ParseProto reads "tcp", "udp", "icmp", ... or a number.
func ParseProto(s string) (uint8, bool) {
	n, ok := asaconfig.ParseProtocol(strings.ToLower(s))
	if !ok || n <= 0 || n > 255 {
		return 0, false
	}
	return uint8(n), true
}
