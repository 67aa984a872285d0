package fakeasa

import (
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// This file and tracer.go, conns.go and timerange.go are the fake's data
// path: what it does with a packet, written from Cisco's ASA configuration
// guides and command references (access rules, security levels, shun,
// packet-tracer), independently of firebreak's remediate/datapath model,
// which a differential test compares with it. Everything is read from the
// device model on each packet: the fake is small and must never lag behind
// its own configuration.

// port is one interface as the data path sees it.
type port struct {
	name     string
	level    int
	net      netip.Prefix // address and mask
	standby  netip.Addr
	down     bool
	mgmtOnly bool
}

// fib is one installed route.
type fib struct {
	net       netip.Prefix
	via       netip.Addr // invalid for connected
	out       string
	distance  int
	connected bool
}

// binding is one parsed access-group line.
type binding struct {
	acl          string
	dir          string // in, out, global
	ifname       string
	controlPlane bool
}

// netView is the configuration the data path reads, gathered from the
// model's verbatim lines and managed sections.
type netView struct {
	ports      map[string]*port
	fibs       []fib
	bindings   []binding
	interSame  bool
	intraSame  bool
	zone       *time.Location
	mgmt       []mgmtLine // ssh, http, telnet
	httpPort   int        // 0: http server not enabled
	icmpLines  []icmpLine
	ranges     map[string][2]netip.Addr // object network NAME range A B
	fqdns      map[string]bool
	services   map[string][]string // object service NAME: its service line words
	timeRanges map[string][]string // time-range NAME: its sub-lines
}

type mgmtLine struct {
	proto  string
	net    netip.Prefix
	ifname string
}

type icmpLine struct {
	permit bool
	src    netip.Prefix // invalid: any
	typ    int          // -1: any
	ifname string
}

func fields(line string) []string { return strings.Fields(line) }

func (m *model) view() *netView {
	v := &netView{
		ports: map[string]*port{}, zone: time.UTC, ranges: map[string][2]netip.Addr{},
		fqdns: map[string]bool{}, services: map[string][]string{}, timeRanges: map[string][]string{},
	}
	for _, it := range m.items {
		if it.kind != itemVerbatim || len(it.lines) == 0 {
			continue
		}
		head := fields(it.lines[0])
		if len(head) == 0 {
			continue
		}
		var body [][]string
		for _, l := range it.lines[1:] {
			body = append(body, fields(l))
		}
		switch head[0] {
		case "interface":
			v.addPort(body)
		case "same-security-traffic":
			if len(head) == 3 && head[1] == "permit" {
				v.interSame = v.interSame || head[2] == "inter-interface"
				v.intraSame = v.intraSame || head[2] == "intra-interface"
			}
		case "clock":
			if len(head) >= 4 && head[1] == "timezone" {
				v.zone = clockZone(head)
			}
		case "ssh", "telnet", "http":
			v.addMgmt(head)
		case "icmp":
			v.addICMP(head)
		case "object":
			if len(head) == 3 && head[1] == "network" {
				for _, b := range body {
					if len(b) == 3 && b[0] == "range" {
						x, err1 := netip.ParseAddr(b[1])
						y, err2 := netip.ParseAddr(b[2])
						if err1 == nil && err2 == nil {
							v.ranges[head[2]] = [2]netip.Addr{x, y}
						}
					}
					if len(b) >= 2 && b[0] == "fqdn" {
						v.fqdns[head[2]] = true
					}
				}
			}
			if len(head) == 3 && head[1] == "service" {
				for _, b := range body {
					if len(b) >= 2 && b[0] == "service" {
						v.services[head[2]] = b[1:]
					}
				}
			}
		case "time-range":
			if len(head) == 2 {
				var lines []string
				for _, l := range it.lines[1:] {
					lines = append(lines, strings.TrimSpace(l))
				}
				v.timeRanges[head[1]] = lines
			}
		}
	}
	for name := range m.linkDown {
		if p := v.ports[name]; p != nil {
			p.down = true // line protocol down: its routes leave the table
		}
	}
	for _, r := range m.routes {
		dev := v.ports[r.ifname]
		gw, err := netip.ParseAddr(r.gw)
		bits, ok := parseMask(r.mask)
		dst, err2 := netip.ParseAddr(r.dest)
		if dev == nil || dev.down || err != nil || err2 != nil || !ok {
			continue
		}
		v.fibs = append(v.fibs, fib{net: netip.PrefixFrom(dst, bits), via: gw, out: r.ifname, distance: r.dist})
	}
	for _, p := range v.ports {
		if !p.down && p.net.IsValid() {
			v.fibs = append(v.fibs, fib{net: p.net.Masked(), out: p.name, connected: true})
		}
	}
	// Longest match first; connected (distance 0) before static.
	sort.SliceStable(v.fibs, func(i, j int) bool {
		a, b := v.fibs[i], v.fibs[j]
		if a.net.Bits() != b.net.Bits() {
			return a.net.Bits() > b.net.Bits()
		}
		return a.distance < b.distance
	})
	// Of the routes to one destination only those of the best distance
	// are installed (a floating static route waits as a backup); equal-cost
	// routes share it (ECMP on one interface).
	v.fibs = slices.DeleteFunc(v.fibs, func(r fib) bool {
		for _, x := range v.fibs {
			if x.net == r.net {
				return x.distance < r.distance
			}
		}
		return false
	})
	for _, g := range m.accessGroups {
		f := fields(g)
		switch {
		case len(f) == 3 && f[2] == "global":
			v.bindings = append(v.bindings, binding{acl: f[1], dir: "global"})
		case len(f) >= 5 && f[3] == "interface":
			b := binding{acl: f[1], dir: f[2], ifname: f[4]}
			for _, o := range f[5:] {
				if o == "control-plane" {
					b.controlPlane = true
				}
			}
			v.bindings = append(v.bindings, b)
		}
	}
	return v
}

func (v *netView) addPort(body [][]string) {
	p := &port{level: -1}
	for _, b := range body {
		switch {
		case len(b) == 2 && b[0] == "nameif":
			p.name = b[1]
		case len(b) == 2 && b[0] == "security-level":
			if n, err := strconv.Atoi(b[1]); err == nil {
				p.level = n
			}
		case len(b) >= 4 && b[0] == "ip" && b[1] == "address":
			a, err := netip.ParseAddr(b[2])
			bits, ok := parseMask(b[3])
			if err == nil && ok {
				p.net = netip.PrefixFrom(a, bits)
			}
			if len(b) >= 6 && b[4] == "standby" {
				p.standby, _ = netip.ParseAddr(b[5])
			}
		case len(b) == 1 && b[0] == "shutdown":
			p.down = true
		case len(b) == 1 && b[0] == "management-only":
			p.mgmtOnly = true
		}
	}
	if p.name == "" {
		return
	}
	if p.level < 0 {
		// The ASA gives nameif "inside" level 100 and every other name 0.
		p.level = 0
		if p.name == "inside" {
			p.level = 100
		}
	}
	v.ports[p.name] = p
}

func clockZone(f []string) *time.Location {
	h, err := strconv.Atoi(f[3])
	if err != nil {
		return time.UTC
	}
	secs := h * 3600
	if len(f) >= 5 {
		if mins, err := strconv.Atoi(f[4]); err == nil {
			if h < 0 {
				secs -= mins * 60
			} else {
				secs += mins * 60
			}
		}
	}
	return time.FixedZone(f[2], secs)
}

func (v *netView) addMgmt(f []string) {
	if len(f) == 4 && f[1] == "server" && f[2] == "enable" && f[0] == "http" {
		if n, err := strconv.Atoi(f[3]); err == nil {
			v.httpPort = n
		}
		return
	}
	if len(f) == 3 && f[0] == "http" && f[1] == "server" && f[2] == "enable" {
		v.httpPort = 443
		return
	}
	if len(f) != 4 {
		return
	}
	a, err := netip.ParseAddr(f[1])
	bits, ok := parseMask(f[2])
	if err != nil || !ok {
		return
	}
	v.mgmt = append(v.mgmt, mgmtLine{proto: f[0], net: netip.PrefixFrom(a, bits).Masked(), ifname: f[3]})
}

// addICMP reads "icmp permit|deny any|host A|A MASK [type] IF".
func (v *netView) addICMP(f []string) {
	if len(f) < 4 || (f[1] != "permit" && f[1] != "deny") {
		return
	}
	l := icmpLine{permit: f[1] == "permit", typ: -1, ifname: f[len(f)-1]}
	rest := f[2 : len(f)-1]
	switch {
	case len(rest) >= 1 && rest[0] == "any":
		rest = rest[1:]
	case len(rest) >= 2 && rest[0] == "host":
		a, err := netip.ParseAddr(rest[1])
		if err != nil {
			return
		}
		l.src = netip.PrefixFrom(a, a.BitLen())
		rest = rest[2:]
	case len(rest) >= 2:
		a, err := netip.ParseAddr(rest[0])
		bits, ok := parseMask(rest[1])
		if err != nil || !ok {
			return
		}
		l.src = netip.PrefixFrom(a, bits).Masked()
		rest = rest[2:]
	default:
		return
	}
	if len(rest) == 1 {
		t, ok := icmpTypeNumber(rest[0])
		if !ok {
			return
		}
		l.typ = t
	}
	v.icmpLines = append(v.icmpLines, l)
}

// lookup returns the route the box uses for dst.
func (v *netView) lookup(dst netip.Addr) (fib, bool) {
	for _, r := range v.fibs {
		if r.net.Contains(dst) {
			return r, true
		}
	}
	return fib{}, false
}

// owner returns the interface whose own address dst is.
func (v *netView) owner(dst netip.Addr) (*port, bool) {
	for _, p := range v.ports {
		if p.net.IsValid() && p.net.Addr() == dst || p.standby.IsValid() && p.standby == dst {
			return p, true
		}
	}
	return nil, false
}

func (v *netView) bound(dir, ifname string, controlPlane bool) (string, bool) {
	for _, b := range v.bindings {
		if b.dir == dir && b.ifname == ifname && b.controlPlane == controlPlane {
			return b.acl, true
		}
	}
	return "", false
}

func (v *netView) global() (string, bool) {
	for _, b := range v.bindings {
		if b.dir == "global" {
			return b.acl, true
		}
	}
	return "", false
}
