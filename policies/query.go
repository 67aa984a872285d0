package policies

import (
	"net/netip"
	"slices"
	"time"
)

// tables are the lookup structures Load builds once; they are never modified afterwards.
type tables struct {
	nets      prefixTable[*Network]
	internal  prefixTable[struct{}]
	protected prefixTable[struct{}]
	netByName map[string]*Network
	devByName map[string]*Device
	devBySrc  map[netip.Addr]*Device
	resolvers map[netip.Addr]struct{}
	flows     map[[2]string]flowRule
	conv      map[string]map[Port]struct{} // role -> ports conventional for it (its own and "default")
	hosts     map[netip.Addr]*Host
}

type flowRule struct {
	all   bool // some rule for this pair lists no ports
	ports map[Port]struct{}
}

// prefixTable finds the most specific prefix holding an address: one exact-match map per
// prefix length present, tried longest first. With the handful of lengths a site uses this is
// a few map probes and no allocation.
type prefixTable[V any] struct {
	len4, len6 []int
	m          map[netip.Prefix]V
}

func (t *prefixTable[V]) add(p netip.Prefix, v V) {
	if t.m == nil {
		t.m = map[netip.Prefix]V{}
	}
	if _, ok := t.m[p]; ok {
		return // first wins; validation refuses a prefix owned twice
	}
	t.m[p] = v
	lens := &t.len6
	if p.Addr().Is4() {
		lens = &t.len4
	}
	if !slices.Contains(*lens, p.Bits()) {
		*lens = append(*lens, p.Bits())
		slices.SortFunc(*lens, func(a, b int) int { return b - a })
	}
}

func (t *prefixTable[V]) lookup(a netip.Addr) (V, bool) {
	var zero V
	if !a.IsValid() {
		return zero, false
	}
	a = a.Unmap().WithZone("")
	lens := t.len6
	if a.Is4() {
		lens = t.len4
	}
	for _, l := range lens {
		p, err := a.Prefix(l)
		if err != nil {
			continue
		}
		if v, ok := t.m[p]; ok {
			return v, true
		}
	}
	return zero, false
}

func buildTables(c *Config) *tables {
	t := &tables{
		netByName: map[string]*Network{},
		devByName: map[string]*Device{},
		devBySrc:  map[netip.Addr]*Device{},
		resolvers: map[netip.Addr]struct{}{},
		flows:     map[[2]string]flowRule{},
		conv:      map[string]map[Port]struct{}{},
		hosts:     map[netip.Addr]*Host{},
	}
	for i := range c.Networks {
		n := &c.Networks[i]
		t.netByName[n.Name] = n
		for _, p := range n.Prefixes {
			t.nets.add(p, n)
			if n.Role == RoleManagement {
				t.protected.add(p, struct{}{})
			}
		}
		for k := range n.Hosts {
			t.hosts[n.Hosts[k].Address] = &n.Hosts[k]
		}
	}
	for _, p := range c.Internal {
		t.internal.add(p, struct{}{})
	}
	for _, p := range c.Protected {
		t.protected.add(p, struct{}{})
	}
	host := func(a netip.Addr) {
		if a.IsValid() {
			t.protected.add(netip.PrefixFrom(a, a.BitLen()), struct{}{})
		}
	}
	for _, r := range c.DNS.ApprovedResolvers {
		t.resolvers[r] = struct{}{}
		host(r)
	}
	for i := range c.Devices {
		d := &c.Devices[i]
		t.devByName[d.Name] = d
		for _, s := range d.SyslogSources {
			t.devBySrc[s] = d
			host(s)
		}
		host(d.SSH.Address)
	}
	for _, f := range c.Flows {
		k := [2]string{f.From, f.To}
		r := t.flows[k]
		if len(f.Ports) == 0 {
			r.all = true
		}
		for _, p := range f.Ports {
			if r.ports == nil {
				r.ports = map[Port]struct{}{}
			}
			r.ports[p] = struct{}{}
		}
		t.flows[k] = r
	}
	def := c.Ports["default"]
	for role, ps := range c.Ports {
		if role == "default" {
			continue
		}
		set := map[Port]struct{}{}
		for _, p := range append(slices.Clone(def), ps...) {
			set[p] = struct{}{}
		}
		t.conv[role] = set
	}
	set := map[Port]struct{}{}
	for _, p := range def {
		set[p] = struct{}{}
	}
	t.conv["default"] = set
	return t
}

// Classify returns the network holding addr; the most specific prefix wins (a /32 domain
// controller inside a /24 servers network is a domain controller). IPv4-mapped IPv6 addresses
// are unmapped first. The *Network points into c.Networks and must not be modified.
func (c *Config) Classify(addr netip.Addr) (*Network, bool) {
	return c.tables.nets.lookup(addr)
}

// Segment is the flow segment of addr: its network's name, or Internet when it is in no network
// and not in c.Internal. Internal addresses in no network give "" and false.
func (c *Config) Segment(addr netip.Addr) (string, bool) {
	if n, ok := c.tables.nets.lookup(addr); ok {
		return n.Name, true
	}
	if _, ok := c.tables.internal.lookup(addr); ok {
		return "", false
	}
	return Internet, true
}

// IsInternal says whether addr is the site's own: in a network or in the internal list.
func (c *Config) IsInternal(addr netip.Addr) bool {
	if _, ok := c.tables.nets.lookup(addr); ok {
		return true
	}
	_, ok := c.tables.internal.lookup(addr)
	return ok
}

// IsProtected says whether addr must never be blocked or quarantined: it is in the protected
// list, in a management network, an approved DNS resolver, or a device's syslog source or SSH
// address. Remediation adds what each device's running config shows.
func (c *Config) IsProtected(addr netip.Addr) bool {
	_, ok := c.tables.protected.lookup(addr)
	return ok
}

// ProtectedOverlaps says whether any protected address lies inside p (or p inside a protected
// prefix): a block of p would hit something protected.
func (c *Config) ProtectedOverlaps(p netip.Prefix) bool {
	if !p.IsValid() {
		return false
	}
	if p.Addr().Is4In6() {
		if p.Bits() < 96 {
			return true // covers all of IPv4 and more
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	for q := range c.tables.protected.m {
		if q.Overlaps(p) {
			return true
		}
	}
	return false
}

// FlowAllowed says whether the policy allows traffic from segment fromNet to segment toNet on
// port. Segments are network names or Internet. Traffic within one internal segment is always
// allowed. A rule with no ports allows every port; otherwise port must be listed (Proto and
// Num; an ICMP rule matches any ICMP). Any in a rule stands for every network (not Internet).
func (c *Config) FlowAllowed(fromNet, toNet string, port Port) bool {
	if fromNet == toNet && fromNet != Internet {
		return true
	}
	t := c.tables
	if t.flowMatch([2]string{fromNet, toNet}, port) {
		return true
	}
	if fromNet != Internet && t.flowMatch([2]string{Any, toNet}, port) {
		return true
	}
	return toNet != Internet && t.flowMatch([2]string{fromNet, Any}, port)
}

func (t *tables) flowMatch(k [2]string, port Port) bool {
	r, ok := t.flows[k]
	if !ok {
		return false
	}
	if r.all {
		return true
	}
	if port.Proto == ProtoICMP {
		port.Num = 0
	}
	_, ok = r.ports[port]
	return ok
}

// ConventionalPort says whether port is conventional for role: listed under ports.<role> or
// ports.default. An unknown or empty role uses ports.default alone.
func (c *Config) ConventionalPort(role string, p Port) bool {
	set, ok := c.tables.conv[role]
	if !ok {
		set = c.tables.conv["default"]
	}
	if p.Proto == ProtoICMP {
		p.Num = 0
	}
	_, ok = set[p]
	return ok
}

// DeviceBySource returns the device whose syslog comes from addr (nil, false for any other
// source: the collector drops those). The *Device points into c.Devices.
func (c *Config) DeviceBySource(addr netip.Addr) (*Device, bool) {
	d, ok := c.tables.devBySrc[addr.Unmap().WithZone("")]
	return d, ok
}

// DeviceByName returns the named device.
func (c *Config) DeviceByName(name string) (*Device, bool) {
	d, ok := c.tables.devByName[name]
	return d, ok
}

// NetworkByName returns the named network.
func (c *Config) NetworkByName(name string) (*Network, bool) {
	n, ok := c.tables.netByName[name]
	return n, ok
}

// ApprovedResolver says whether addr is one of dns.approved_resolvers.
func (c *Config) ApprovedResolver(addr netip.Addr) bool {
	_, ok := c.tables.resolvers[addr.Unmap().WithZone("")]
	return ok
}

// HostByAddr returns the named host with that address.
func (c *Config) HostByAddr(addr netip.Addr) (*Host, bool) {
	h, ok := c.tables.hosts[addr.Unmap().WithZone("")]
	return h, ok
}

// SilentAfter is how long addr may stay silent before the silent-host detector reports it, and
// false when addr is not watched. A named host uses its own expected_silent_hours, else its
// network's, else detectors.silent_host.hours; any other host is watched only when its network
// sets expected_silent_hours.
func (c *Config) SilentAfter(addr netip.Addr) (time.Duration, bool) {
	n, inNet := c.Classify(addr)
	if h, ok := c.HostByAddr(addr); ok {
		switch {
		case h.ExpectedSilentHours > 0:
			return time.Duration(h.ExpectedSilentHours) * time.Hour, true
		case inNet && n.ExpectedSilentHours > 0:
			return time.Duration(n.ExpectedSilentHours) * time.Hour, true
		}
		return time.Duration(c.Detectors.SilentHost.Hours) * time.Hour, true
	}
	if inNet && n.ExpectedSilentHours > 0 {
		return time.Duration(n.ExpectedSilentHours) * time.Hour, true
	}
	return 0, false
}

// NetworksByRole returns the networks of one role, in policy order.
func (c *Config) NetworksByRole(role string) []*Network {
	var out []*Network
	for i := range c.Networks {
		if c.Networks[i].Role == role {
			out = append(out, &c.Networks[i])
		}
	}
	return out
}
