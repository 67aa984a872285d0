package remediate

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// Protection by class, beside the policy's list and the device's own config (checkTarget):
// a block or quarantine is refused with the reason when its target is
//   - a known service (services:), or a mobile carrier's range (vpn.carriers);
//   - an address any VPN user logged in from (the statistics' VPN sources);
//   - a protected address in another form: IPv4-mapped, NAT64 (64:ff9b::/96), or the other
//     family of a well-known public resolver (8.8.8.8 and 2001:4860:4860::8888);
//   - a special-purpose range that is not globally reachable (RFC 6890 registry: shared
//     address space 100.64.0.0/10, benchmarking 198.18.0.0/15, loopback, link-local, ...);
//   - a firewall's own address or its outside interface's connected subnet;
//   - for a quarantine, a host whose role the policy does not opt in (remediation.quarantine_roles).
//
// And a block needs strong evidence (guard.check): a peer few internal hosts talk to (fan-in)
// that is new to the site, else the finding gets an advisory instead.

// guard holds what one Propose call learned from the statistics, so that each finding does
// not query again.
type guard struct {
	m      *Manager
	ctx    context.Context
	vpn    map[netip.Addr]vpnUse // VPN login sources
	loaded bool
	fanIn  map[detect.TimeRange]map[netip.Addr]map[netip.Addr]bool
	seen   map[time.Time]map[netip.Addr]bool // peers with documents in the 7 days before a day
	err    error
	// outside are the outside interfaces' connected subnets: the policy's outside_subnet and,
	// with the device's running config, its outside interface's address and mask.
	outside []netip.Prefix
}

type vpnUse struct {
	users  []string
	logins uint64
}

// newGuard reads what protect needs now: protect runs inside Propose's write transaction,
// where the store cannot be read again.
func (m *Manager) newGuard(ctx context.Context, outsideIf string, running *asaconfig.Config) *guard {
	g := &guard{m: m, ctx: ctx, fanIn: map[detect.TimeRange]map[netip.Addr]map[netip.Addr]bool{}, seen: map[time.Time]map[netip.Addr]bool{}}
	g.outside = m.pol.OutsideSubnets()
	if running != nil {
		for _, in := range running.Interfaces() {
			if in.Nameif == outsideIf && in.Address.IsValid() {
				g.outside = append(g.outside, in.Address.Masked())
			}
		}
	}
	g.load()
	return g
}

func (g *guard) load() {
	if g.loaded {
		return
	}
	g.loaded = true
	g.vpn = map[netip.Addr]vpnUse{}
	vs, err := g.m.st.VPNSources(g.ctx, "")
	if err != nil {
		g.err = fmt.Errorf("vpn sources: %w", err)
		return
	}
	for _, v := range vs {
		u := g.vpn[v.Src.Unmap()]
		u.users = append(u.users, v.User)
		u.logins += v.Count
		g.vpn[v.Src.Unmap()] = u
	}
}

// specialPurpose are the RFC 6890 registry's ranges that are not globally reachable. The
// documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are
// left out on purpose: examples and the scenario generator use them as the internet, and a
// block of one cuts off nothing real.
var specialPurpose = func() []struct {
	p    netip.Prefix
	name string
} {
	var out []struct {
		p    netip.Prefix
		name string
	}
	for _, s := range [][2]string{
		{"0.0.0.0/8", "this network"}, {"10.0.0.0/8", "private use"}, {"100.64.0.0/10", "shared address space (carrier-grade NAT)"},
		{"127.0.0.0/8", "loopback"}, {"169.254.0.0/16", "link local"}, {"172.16.0.0/12", "private use"},
		{"192.0.0.0/24", "IETF protocol assignments"}, {"192.168.0.0/16", "private use"},
		{"198.18.0.0/15", "benchmarking"}, {"240.0.0.0/4", "reserved"}, {"255.255.255.255/32", "limited broadcast"},
		{"::/128", "unspecified"}, {"::1/128", "loopback"}, {"100::/64", "discard-only"},
		{"2001::/23", "IETF protocol assignments"}, {"fc00::/7", "unique local"}, {"fe80::/10", "link local"},
	} {
		out = append(out, struct {
			p    netip.Prefix
			name string
		}{netip.MustParsePrefix(s[0]), s[1]})
	}
	return out
}()

// resolverTwins are well-known public resolvers' addresses in the other family: protecting
// one protects its twin.
var resolverTwins = map[netip.Addr]netip.Addr{}

func init() {
	for _, p := range [][2]string{
		{"8.8.8.8", "2001:4860:4860::8888"}, {"8.8.4.4", "2001:4860:4860::8844"},
		{"1.1.1.1", "2606:4700:4700::1111"}, {"1.0.0.1", "2606:4700:4700::1001"},
		{"9.9.9.9", "2620:fe::fe"}, {"149.112.112.112", "2620:fe::9"},
		{"208.67.222.222", "2620:119:35::35"}, {"208.67.220.220", "2620:119:53::53"},
	} {
		a, b := netip.MustParseAddr(p[0]), netip.MustParseAddr(p[1])
		resolverTwins[a], resolverTwins[b] = b, a
	}
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// forms are the addresses a target stands for: itself, the IPv4 address embedded in its
// mapped or NAT64 form, and a public resolver's other-family twin.
func forms(a netip.Addr) []netip.Addr {
	out := []netip.Addr{a}
	if a.Is4In6() {
		out = append(out, a.Unmap())
	} else if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		out = append(out, netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	for _, x := range out {
		if t, ok := resolverTwins[x]; ok {
			out = append(out, t)
		}
	}
	return out
}

// protect refuses a block or quarantine of target by class; nil when none applies.
func (g *guard) protect(kind Kind, target netip.Prefix) error {
	if kind != KindBlock && kind != KindQuarantine {
		return nil
	}
	pol := g.m.pol
	a := target.Addr()
	for _, f := range forms(a) {
		fp := netip.PrefixFrom(f, f.BitLen())
		if f != a && (pol.IsProtected(f) || pol.ProtectedOverlaps(fp)) {
			return fmt.Errorf("%s is protected %s in another form (%s)", target, f, formName(a))
		}
		if svc, ok := pol.ServiceOverlaps(netip.PrefixFrom(f, target.Bits()-(a.BitLen()-f.BitLen()))); ok && kind == KindBlock {
			return fmt.Errorf("%s is known service %q (services:): never blocked", target, svc.Name)
		}
		if c, ok := pol.Carrier(f); ok && kind == KindBlock {
			return fmt.Errorf("%s is in mobile carrier %q's range (vpn.carriers): its users share addresses", target, c.Name)
		}
		if d, ok := pol.DeviceAddress(f); ok {
			return fmt.Errorf("%s is %s's own address", target, d.Name)
		}
		for _, sub := range g.outside {
			if sub.Contains(f) {
				return fmt.Errorf("%s is in the outside interface's connected subnet %s (the ISP gateway and neighbours)", target, sub)
			}
		}
		if kind == KindBlock {
			for _, sp := range specialPurpose {
				if sp.p.Overlaps(fp) && !pol.IsInternal(f) {
					return fmt.Errorf("%s is special-purpose address space %s (%s, RFC 6890): not a peer to block", target, sp.p, sp.name)
				}
			}
		}
	}
	if kind == KindBlock {
		if g.err != nil {
			return fmt.Errorf("cannot check VPN sources: %w", g.err)
		}
		for src, u := range g.vpn {
			if target.Contains(src) {
				return fmt.Errorf("VPN user(s) %s logged in from %s (%d logins): blocking it locks them out", strings.Join(u.users, ", "), src, u.logins)
			}
		}
	}
	if kind == KindQuarantine {
		role := ""
		if n, ok := pol.Classify(a.Unmap()); ok {
			role = n.Role
		}
		if !pol.QuarantineAllowed(role) {
			if role == "" {
				role = "(no network)"
			}
			return fmt.Errorf("%s is a %s host: quarantine of that role needs remediation.quarantine_roles to list it", target, role)
		}
	}
	return nil
}

func formName(a netip.Addr) string {
	switch {
	case a.Is4In6():
		return "IPv4-mapped"
	case nat64.Contains(a):
		return "NAT64 64:ff9b::/96"
	case a.Is6():
		return "the resolver's IPv6 address"
	}
	return "the resolver's IPv4 address"
}

// maxFanIn is the most internal hosts a blocked peer may have talked to around the finding: a
// peer many hosts use is a shared service, not one host's exfiltration channel.
const maxFanIn = 2

// check turns block intents without strong evidence into advisories: the peer must be new to
// the site (no documents with it in the 7 days before the finding) and talk to at most
// maxFanIn internal hosts over the finding's time. A port scan (hundreds of distinct ports) is
// evidence enough on its own.
func (g *guard) check(f detect.Finding, in []intent) []intent {
	for i := range in {
		if in[i].kind != KindBlock || f.Detector == detect.DetectorPortScan {
			continue
		}
		peer := in[i].target.Addr()
		if why := g.weak(f, peer); why != "" {
			text := fmt.Sprintf("not blocked: %s; review %s and the hosts talking to it", why, peer)
			in[i] = intent{kind: KindAdvisory, target: in[i].target, topic: f.Detector, reason: text, advisory: text}
		}
	}
	return in
}

// weak says why the evidence against peer is not enough for a block, or "".
func (g *guard) weak(f detect.Finding, peer netip.Addr) string {
	if g.m.st == nil {
		return ""
	}
	span := detect.TimeRange{From: f.FirstSeen.Truncate(time.Hour), To: f.LastSeen.Truncate(time.Hour).Add(time.Hour)}
	hosts, ok := g.fanIn[span]
	if !ok {
		pp, err := g.m.st.PeerPorts(g.ctx, netip.Addr{}, stats.Window{From: span.From, To: span.To}, stats.Hourly)
		if err != nil {
			return "fan-in unknown: " + err.Error()
		}
		hosts = map[netip.Addr]map[netip.Addr]bool{}
		for _, p := range pp {
			if !p.Peer.IsValid() {
				continue
			}
			if hosts[p.Peer] == nil {
				hosts[p.Peer] = map[netip.Addr]bool{}
			}
			hosts[p.Peer][p.Host] = true
		}
		g.fanIn[span] = hosts
	}
	if n := len(hosts[peer]); n > maxFanIn {
		return fmt.Sprintf("%d internal hosts talk to it (fan-in above %d: a shared service)", n, maxFanIn)
	}
	day := time.Date(f.FirstSeen.Year(), f.FirstSeen.Month(), f.FirstSeen.Day(), 0, 0, 0, 0, time.UTC)
	seen, ok := g.seen[day]
	if !ok {
		seen = map[netip.Addr]bool{}
		w := stats.Window{From: day.AddDate(0, 0, -7), To: day}
		for _, field := range []stats.Field{stats.FieldDestinationIP, stats.FieldSourceIP} {
			tc, err := g.m.st.Terms(g.ctx, field, w, stats.Daily)
			if err != nil {
				return "history unknown: " + err.Error()
			}
			for _, t := range tc.Terms {
				if t.Count > 0 {
					seen[t.Term.Addr] = true
				}
			}
		}
		g.seen[day] = seen
	}
	if seen[peer] {
		return "the site already talked to it in the week before (not new)"
	}
	return ""
}
