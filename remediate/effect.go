package remediate

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// Flow classes of an Effect.
const (
	ClassFinding    = "finding"    // a flow of the proposal's findings: must end dropped
	ClassAllowed    = "allowed"    // a flow the policy allows: must not change
	ClassManagement = "management" // management access to the ASA: must not change
	ClassDNS        = "dns"        // DNS to an approved resolver: must not change
)

// MaxProtectedFlows bounds the allowed, management and DNS flows checked.
const MaxProtectedFlows = 48

// FlowEffect is one flow's verdict before and after a change, by the
// data-path model (remediate/datapath).
type FlowEffect struct {
	Class  string           `json:"class"`
	What   string           `json:"what,omitempty"` // the policy flow or service it stands for
	Flow   datapath.Flow    `json:"flow"`
	Before datapath.Verdict `json:"before"`
	After  datapath.Verdict `json:"after"`
}

// Changed reports whether the verdict's action changed.
func (e FlowEffect) Changed() bool { return e.Before.Action != e.After.Action }

// String is "10.3.100.15 -> 192.0.2.144 tcp/4444: permitted (inside_access_in
// line 3) -> dropped (inside_access_in line 1, FIREBREAK_BLOCK)".
func (e FlowEffect) String() string {
	return e.Flow.String() + ": " + e.Before.String() + " -> " + e.After.String()
}

// Effect is what a change does to its finding's flows and to the flows
// that must keep working. Ineffective is set when a finding flow is not
// dropped after the change; Breaks when a protected flow changes verdict.
type Effect struct {
	Flows       []FlowEffect `json:"flows,omitempty"`
	Checked     int          `json:"checked"` // protected flows checked
	Ineffective string       `json:"ineffective,omitempty"`
	Breaks      string       `json:"breaks,omitempty"`
}

// Errors of the effect check.
var (
	ErrIneffective   = errors.New("change does not drop its finding's flows")
	ErrBreaksAllowed = errors.New("change drops an allowed or protected flow")
)

// Err is ErrIneffective or ErrBreaksAllowed with the reason, or nil.
func (e *Effect) Err() error {
	switch {
	case e == nil:
		return nil
	case e.Breaks != "":
		return fmt.Errorf("%w: %s", ErrBreaksAllowed, e.Breaks)
	case e.Ineffective != "":
		return fmt.Errorf("%w: %s", ErrIneffective, e.Ineffective)
	}
	return nil
}

// FindingFlows returns the effects of class finding.
func (e *Effect) FindingFlows() []FlowEffect {
	if e == nil {
		return nil
	}
	var out []FlowEffect
	for _, f := range e.Flows {
		if f.Class == ClassFinding {
			out = append(out, f)
		}
	}
	return out
}

// effect evaluates p's finding flows and the policy's protected flows on
// before and after (after holds the plan's changes; shuns are its Shun
// changes, a new connection's first packet is judged).
func (m *Manager) effect(p Proposal, before, after *asaconfig.Config, changes []asaconfig.Change) *Effect {
	if p.Kind != KindBlock && p.Kind != KindQuarantine && p.Kind != KindSANFix {
		return nil
	}
	at := m.now()
	mb := datapath.New(before, datapath.Options{})
	ma := datapath.New(after, datapath.Options{})
	var st datapath.State
	for _, c := range changes {
		if s, ok := c.(asaconfig.Shun); ok {
			st.Shuns = append(st.Shuns, datapath.Shun{Src: s.Addr})
		}
	}
	ifaces := mb.Interfaces()
	e := &Effect{}
	for _, f := range p.Flows {
		if _, ok := ifaces[f.Ingress]; !ok {
			f.Ingress = "" // the interface the source routes through
		}
		e.Flows = append(e.Flows, FlowEffect{Class: ClassFinding, Flow: f,
			Before: mb.Decide(f, at, nil), After: ma.Decide(f, at, &st)})
	}
	for _, fe := range e.FindingFlows() {
		if fe.After.Action != datapath.Drop {
			e.Ineffective = fmt.Sprintf("%s stays %s after the change", fe.Flow, fe.After)
			break
		}
	}
	if p.Kind == KindBlock {
		// A block must turn something from permitted to dropped: when the
		// ASA already drops every flow of its findings (a scanner whose
		// probes the ACL denies), it would stop nothing.
		if why := alreadyDropped(e.FindingFlows()); why != "" {
			e.Ineffective = why
		}
	}
	if (p.Kind == KindBlock || p.Kind == KindQuarantine) && neverCrosses(e.FindingFlows()) {
		// The model would "drop" a packet the ASA never sees (a 2921
		// routes it, or it stays on one VLAN): nothing on the ASA stops it.
		e.Ineffective = "none of its flows crosses the ASA (in and out by one interface): isolate the host at its switch port, VLAN or router"
	}
	if p.Kind == KindSANFix && !changesACL(changes) {
		// A route change or an advisory: SAN flows are not meant to drop.
		e.Ineffective = ""
	}
	for _, pf := range m.protectedFlows(before, mb, p.Target) {
		pf.Before = mb.Decide(pf.Flow, at, nil)
		if pf.Before.Ingress == pf.Before.Egress && pf.Before.Stage != datapath.StageToBox {
			continue // does not cross the ASA
		}
		pf.After = ma.Decide(pf.Flow, at, &st)
		e.Checked++
		if pf.Changed() {
			e.Flows = append(e.Flows, pf)
			if e.Breaks == "" {
				e.Breaks = fmt.Sprintf("%s (%s) %s", pf.Flow, pf.What, verdictChange(pf))
			}
		}
	}
	return e
}

// alreadyDropped is the reason a block of these flows stops nothing (every
// one dropped before the change, by the rules named), or "" when one of
// them is permitted before. No flows: nothing to judge, "".
func alreadyDropped(fs []FlowEffect) string {
	var rules []string
	acl := true
	for _, f := range fs {
		if f.Before.Action != datapath.Drop {
			return ""
		}
		if !slices.Contains(rules, f.Before.Reason) {
			rules = append(rules, f.Before.Reason)
		}
		acl = acl && f.Before.Rule != nil
	}
	if len(fs) == 0 {
		return ""
	}
	what := "the ACL already stops this peer"
	if !acl {
		what = "the ASA already stops this peer"
	}
	n := fmt.Sprintf("all %d flows", len(fs))
	if len(fs) == 1 {
		n = "its only flow"
	}
	return fmt.Sprintf("%s already dropped by %s; %s", n, strings.Join(rules, ", "), what)
}

// neverCrosses reports whether there are flows and every one enters and
// would leave the ASA by the same interface (not to the box itself).
func neverCrosses(fs []FlowEffect) bool {
	for _, f := range fs {
		if f.Before.Ingress == "" || f.Before.Ingress != f.Before.Egress || f.Before.Stage == datapath.StageToBox {
			return false
		}
	}
	return len(fs) > 0
}

func verdictChange(f FlowEffect) string {
	return "changes from " + f.Before.String() + " to " + f.After.String()
}

func changesACL(cs []asaconfig.Change) bool {
	return slices.ContainsFunc(cs, func(c asaconfig.Change) bool { _, ok := c.(asaconfig.InsertACE); return ok })
}

// protectedFlows samples what must keep working: one flow per port of each
// policy flow between two networks (or a network and the internet), from a
// representative address of each side; management access to the ASA from
// its configured prefixes; DNS from each network to each approved
// resolver. Addresses inside target are never used (a block or quarantine
// is meant to change those).
func (m *Manager) protectedFlows(cfg *asaconfig.Config, mb *datapath.Model, target netip.Prefix) []FlowEffect {
	var out []FlowEffect
	add := func(class, what string, f datapath.Flow) {
		if len(out) < MaxProtectedFlows && f.Src.IsValid() && f.Dst.IsValid() && !target.Contains(f.Src) && !target.Contains(f.Dst) {
			out = append(out, FlowEffect{Class: class, What: what, Flow: f})
		}
	}
	rep := func(seg string) netip.Addr {
		if seg == policies.Internet {
			for _, s := range []string{"192.0.2.80", "198.51.100.80", "203.0.113.80"} {
				a := netip.MustParseAddr(s)
				if !target.Contains(a) && !m.pol.IsInternal(a) {
					return a
				}
			}
			return netip.Addr{}
		}
		n, ok := m.pol.NetworkByName(seg)
		if !ok {
			return netip.Addr{}
		}
		return representative(n, target)
	}
	// Management access first: it matters most and is few.
	for _, ma := range cfg.ManagementAccess() {
		in, ok := cfg.InterfaceByName(ma.Interface)
		if !ok || !in.Address.IsValid() || !ma.Prefix.Addr().Is4() {
			continue
		}
		port := map[string]uint16{"ssh": 22, "telnet": 23, "http": 443}[ma.Proto]
		if ma.Proto == "http" {
			if p, on := cfg.HTTPServer(); on {
				port = p
			}
		}
		src := hostIn(ma.Prefix, target)
		add(ClassManagement, ma.Proto+" "+ma.Prefix.String()+" "+ma.Interface,
			datapath.Flow{Ingress: ma.Interface, Proto: datapath.TCP, Src: src, SrcPort: 40001, Dst: in.Address.Addr(), DstPort: port})
	}
	for _, fl := range m.pol.Flows {
		if fl.From == policies.Any || fl.To == policies.Any {
			continue
		}
		src, dst := rep(fl.From), rep(fl.To)
		what := fl.From + " -> " + fl.To
		ports := fl.Ports
		if len(ports) == 0 {
			ports = []policies.Port{{Proto: datapath.TCP, Num: 443}}
		}
		for i, pt := range ports {
			if i == 3 {
				break
			}
			f := datapath.Flow{Proto: pt.Proto, Src: src, Dst: dst, SrcPort: 40002, DstPort: pt.Num}
			if pt.Proto == datapath.ICMP {
				f.SrcPort, f.DstPort, f.ICMPType = 0, 0, 8
			}
			add(ClassAllowed, what, f)
		}
	}
	for _, r := range m.pol.DNS.ApprovedResolvers {
		for _, n := range m.pol.Networks {
			if n.Role == policies.RoleSAN || n.Role == policies.RoleManagement {
				continue
			}
			src := representative(&n, target)
			if !src.IsValid() || mb.RouteInterface(src) == mb.RouteInterface(r) {
				continue
			}
			add(ClassDNS, n.Name+" -> resolver "+r.String(), datapath.Flow{Proto: datapath.UDP, Src: src, SrcPort: 40003, Dst: r.Unmap(), DstPort: 53})
		}
	}
	return out
}

// representative is an address of n to stand for it: a named host, else
// the tenth address of its first IPv4 prefix; never one inside target.
func representative(n *policies.Network, target netip.Prefix) netip.Addr {
	for _, h := range n.Hosts {
		if a := h.Address.Unmap(); a.Is4() && !target.Contains(a) {
			return a
		}
	}
	for _, p := range n.Prefixes {
		if p.Addr().Is4() {
			if a := hostIn(p, target); a.IsValid() {
				return a
			}
		}
	}
	return netip.Addr{}
}

// hostIn picks an address of p outside target: the tenth, else the first
// that is not.
func hostIn(p netip.Prefix, target netip.Prefix) netip.Addr {
	p = p.Masked()
	if p.IsSingleIP() {
		if target.Contains(p.Addr()) {
			return netip.Addr{}
		}
		return p.Addr()
	}
	a := p.Addr()
	for i := 0; i < 10 && p.Contains(a.Next()); i++ {
		a = a.Next()
	}
	for i := 0; i < 64 && p.Contains(a); i++ {
		if !target.Contains(a) {
			return a
		}
		a = a.Next()
	}
	return netip.Addr{}
}

// effectLines renders an effect for a terminal: finding flows first, then
// the protected flows that changed, then the count that did not.
func effectLines(e *Effect) []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, f := range e.Flows {
		tag := ""
		if f.Class != ClassFinding {
			tag = " [" + f.Class + ": " + f.What + "]"
		}
		out = append(out, f.String()+tag)
	}
	unchanged := e.Checked
	for _, f := range e.Flows {
		if f.Class != ClassFinding {
			unchanged--
		}
	}
	out = append(out, strconv.Itoa(unchanged)+" of "+strconv.Itoa(e.Checked)+" allowed, management and DNS flows unchanged")
	return out
}

// EffectLines renders an effect for a terminal or a report (see DryRun).
func EffectLines(e *Effect) []string { return effectLines(e) }

// ProtectedFlows lists the flows that must keep working whatever is done
// to target (see protectedFlows): the policy's allowed flows, management
// access to the ASA and DNS to approved resolvers, as cfg routes them.
func (m *Manager) ProtectedFlows(cfg *asaconfig.Config, target netip.Prefix) []FlowEffect {
	return m.protectedFlows(cfg, datapath.New(cfg, datapath.Options{}), target)
}
