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
	segID     map[string]uint32            // network names, Internet and Any -> small ids
	flows     map[uint64]*flowRule         // from id << 32 | to id
	conv      map[string]map[Port]struct{} // role -> ports conventional for it (its own and "default")
	hosts     map[netip.Addr]*Host
	ctx       *contextTables // services, carriers, device addresses (context.go)
}

type flowRule struct {
	all   bool // some rule for this pair lists no ports
	ports map[Port]struct{}
}

// prefixTable finds the most specific prefix holding an address. Prefixes are either nested
// or disjoint, so at build time they are flattened into sorted, disjoint address ranges, each
// carrying its most specific prefix's value; a lookup is one binary search, without
// allocation. add may be called until the first lookup; build runs on first use (Load calls
// it before the Config is shared).
type prefixTable[V any] struct {
	pending map[netip.Prefix]V // insertion set; first value for a prefix wins
	order   []netip.Prefix
	v4      rangeSet[uint32]
	v6      rangeSet[u128]
	vals    []V
	m       map[netip.Prefix]V // every prefix added, for ProtectedOverlaps-style scans
}

// rangeSet holds range starts, sorted, and for each the index into vals (-1: no prefix).
type rangeSet[K uint32 | u128] struct {
	starts []K
	idx    []int32
}

type u128 struct{ hi, lo uint64 }

func (t *prefixTable[V]) add(p netip.Prefix, v V) {
	if t.pending == nil {
		t.pending = map[netip.Prefix]V{}
		t.m = t.pending
	}
	if _, ok := t.pending[p]; ok {
		return // validation refuses a prefix owned twice
	}
	t.pending[p] = v
	t.order = append(t.order, p)
}

// build flattens the prefixes into ranges.
func (t *prefixTable[V]) build() {
	var p4, p6 []netip.Prefix
	for _, p := range t.order {
		if p.Addr().Is4() {
			p4 = append(p4, p)
		} else {
			p6 = append(p6, p)
		}
	}
	t.vals = t.vals[:0]
	for _, p := range t.order {
		t.vals = append(t.vals, t.pending[p])
	}
	index := make(map[netip.Prefix]int32, len(t.order))
	for i, p := range t.order {
		index[p] = int32(i)
	}
	t.v4 = flatten(p4, index, func(a netip.Addr) uint32 {
		b := a.As4()
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	},
		func(k uint32) (uint32, bool) { return k + 1, k != ^uint32(0) }, func(a, b uint32) int { return cmpU32(a, b) })
	t.v6 = flatten(p6, index, key6, next6, cmp128)
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func key6(a netip.Addr) u128 {
	b := a.As16()
	var k u128
	for i := 0; i < 8; i++ {
		k.hi = k.hi<<8 | uint64(b[i])
		k.lo = k.lo<<8 | uint64(b[8+i])
	}
	return k
}

func next6(k u128) (u128, bool) {
	if k.lo != ^uint64(0) {
		return u128{k.hi, k.lo + 1}, true
	}
	return u128{k.hi + 1, 0}, k.hi != ^uint64(0)
}

func cmp128(a, b u128) int {
	switch {
	case a.hi != b.hi:
		return sign64(a.hi, b.hi)
	case a.lo != b.lo:
		return sign64(a.lo, b.lo)
	}
	return 0
}

func sign64(a, b uint64) int {
	if a < b {
		return -1
	}
	return 1
}

// flatten turns laminar prefixes into disjoint ranges: sorted by start and then broadest
// first, the prefixes are a pre-order walk of their containment tree, swept with a stack.
func flatten[K uint32 | u128](ps []netip.Prefix, index map[netip.Prefix]int32,
	key func(netip.Addr) K, next func(K) (K, bool), cmp func(a, b K) int) rangeSet[K] {
	type item struct {
		start, end K
		idx        int32
	}
	items := make([]item, len(ps))
	for i, p := range ps {
		last := netip.PrefixFrom(lastAddr(p), p.Addr().BitLen())
		items[i] = item{key(p.Addr()), key(last.Addr()), index[p]}
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := cmp(a.start, b.start); c != 0 {
			return c
		}
		return -cmp(a.end, b.end) // broader first
	})
	var rs rangeSet[K]
	emit := func(start K, idx int32) {
		rs.starts = append(rs.starts, start)
		rs.idx = append(rs.idx, idx)
	}
	var stack []item
	var cur K          // first address not yet given to a range
	exhausted := false // cur ran past the highest address
	for _, it := range items {
		for len(stack) > 0 && cmp(stack[len(stack)-1].end, it.start) < 0 {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if cmp(cur, top.end) <= 0 {
				emit(cur, top.idx)
			}
			cur, _ = next(top.end) // it.start lies beyond, so there is a next address
		}
		if cmp(cur, it.start) < 0 {
			parent := int32(-1)
			if len(stack) > 0 {
				parent = stack[len(stack)-1].idx
			}
			emit(cur, parent)
		}
		cur = it.start
		stack = append(stack, it)
	}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !exhausted && cmp(cur, top.end) <= 0 {
			emit(cur, top.idx)
		}
		if n, ok := next(top.end); ok {
			cur = n
		} else {
			exhausted = true
		}
	}
	if !exhausted && len(items) > 0 {
		emit(cur, -1)
	}
	return rs
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func find[K uint32 | u128](rs *rangeSet[K], k K, cmp func(a, b K) int) int32 {
	// The last range starting at or before k.
	lo, hi := 0, len(rs.starts)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if cmp(rs.starts[mid], k) <= 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return -1
	}
	return rs.idx[lo-1]
}

func (t *prefixTable[V]) lookup(a netip.Addr) (V, bool) {
	var zero V
	if !a.IsValid() {
		return zero, false
	}
	a = a.Unmap()
	var i int32
	if a.Is4() {
		b := a.As4()
		i = find(&t.v4, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]), cmpU32)
	} else {
		i = find(&t.v6, key6(a), cmp128)
	}
	if i < 0 {
		return zero, false
	}
	return t.vals[i], true
}

func buildTables(c *Config) *tables {
	t := &tables{
		netByName: map[string]*Network{},
		devByName: map[string]*Device{},
		devBySrc:  map[netip.Addr]*Device{},
		resolvers: map[netip.Addr]struct{}{},
		segID:     map[string]uint32{Internet: 0, Any: 1},
		flows:     map[uint64]*flowRule{},
		conv:      map[string]map[Port]struct{}{},
		hosts:     map[netip.Addr]*Host{},
	}
	for i := range c.Networks {
		n := &c.Networks[i]
		t.netByName[n.Name] = n
		if _, ok := t.segID[n.Name]; !ok {
			t.segID[n.Name] = uint32(len(t.segID))
		}
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
		from, okf := t.segID[f.From]
		to, okt := t.segID[f.To]
		if !okf || !okt {
			continue // validation refuses unknown segments
		}
		k := uint64(from)<<32 | uint64(to)
		r := t.flows[k]
		if r == nil {
			r = &flowRule{}
			t.flows[k] = r
		}
		if len(f.Ports) == 0 {
			r.all = true
		}
		for _, p := range f.Ports {
			if r.ports == nil {
				r.ports = map[Port]struct{}{}
			}
			r.ports[p] = struct{}{}
		}
	}
	t.ctx = buildContext(c)
	t.nets.build()
	t.internal.build()
	t.protected.build()
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
// port. Segments are network names or Internet; an unknown name is allowed nothing. Traffic
// within one internal segment is always allowed. A rule with no ports allows every port; otherwise port must be listed (Proto and
// Num; an ICMP rule matches any ICMP). Any in a rule stands for every network (not Internet).
func (c *Config) FlowAllowed(fromNet, toNet string, port Port) bool {
	t := c.tables
	from, ok := t.segID[fromNet]
	if !ok || fromNet == Any {
		return false
	}
	to, ok := t.segID[toNet]
	if !ok || toNet == Any {
		return false
	}
	const internet, anyID = 0, 1
	if from == to && from != internet {
		return true
	}
	if t.flowMatch(from, to, port) {
		return true
	}
	if from != internet && t.flowMatch(anyID, to, port) {
		return true
	}
	return to != internet && t.flowMatch(from, anyID, port)
}

func (t *tables) flowMatch(from, to uint32, port Port) bool {
	r := t.flows[uint64(from)<<32|uint64(to)]
	if r == nil {
		return false
	}
	if r.all {
		return true
	}
	if port.Proto == ProtoICMP {
		port.Num = 0
	}
	_, ok := r.ports[port]
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
