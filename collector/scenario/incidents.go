package scenario

import (
	"net/netip"
	"time"
)

// Truth is the ground truth of a run: what was generated and which incidents were planted.
type Truth struct {
	Profile     string     `json:"profile,omitempty"` // ProfileClinic when empty
	Seed        uint64     `json:"seed"`
	Days        int        `json:"days"`
	Start       time.Time  `json:"start"` // first midnight, site zone
	End         time.Time  `json:"end"`   // midnight after the last day
	Timezone    string     `json:"timezone"`
	LinesPerDay int        `json:"lines_per_day"`
	Lines       [2]int64   `json:"lines"` // lines written: [0] ASA, [1] routers
	Incidents   []Incident `json:"incidents"`
	// Decoys are planted look-alikes of incidents (harbor profile): findings about them are
	// false positives, and no block or quarantine may target them.
	Decoys []Decoy `json:"decoys,omitempty"`
}

// Incident kinds.
const (
	KindExfiltration      = "exfiltration"
	KindSANThroughFW      = "san_through_firewall"
	KindPrinterEgress     = "printer_egress"
	KindDNSUnapproved     = "dns_unapproved_resolver"
	KindSilentHost        = "silent_host"
	KindNewVPNSource      = "new_vpn_source"
	KindUnusualPortOut    = "unusual_port_outbound"
	KindUnusualPortDenied = "unusual_port_denied"
	KindSegmentViolation  = "segment_violation"
	KindPortScan          = "port_scan"
)

// Incident is one planted incident. Detector names the detector that must find it; Also lists
// detectors that may legitimately report it too.
type Incident struct {
	ID          string       `json:"id"`
	Kind        string       `json:"kind"`
	Detector    string       `json:"detector"`
	Also        []string     `json:"also,omitempty"`
	Start       time.Time    `json:"start"`
	End         time.Time    `json:"end"`
	Hosts       []netip.Addr `json:"hosts,omitempty"` // internal hosts involved
	Peers       []netip.Addr `json:"peers,omitempty"` // external or other-side addresses
	Ports       []string     `json:"ports,omitempty"` // "tcp/4444"
	User        string       `json:"user,omitempty"`
	Bytes       uint64       `json:"bytes,omitempty"`    // bytes the incident's connections carried
	Baseline    uint64       `json:"baseline,omitempty"` // reference it is measured against (exfiltration: a normal weekday's site outbound bytes)
	Lines       int          `json:"lines"`              // lines the incident produced
	Description string       `json:"description"`
}

// incidentPlan holds the days, hosts and truth indices (+1; 0 = not planted) of the incidents.
type incidentPlan struct {
	exfil, san, printer, dns, silent, vpn, outPort, denied, segment, scan uint8

	exfilDay, sanDay, dnsDay, silentDay, vpnDay, outDay, deniedDay, segDay, scanDay int

	exfilHost, silentHost, dnsDC, outHost, segA, segB uint32
	sanHosts                                          [2]uint32
	silentFrom                                        int64 // unix ms
	vpnUser                                           int
}

func (p *incidentPlan) silenced(h uint32, t int64) bool {
	return p.silent != 0 && h == p.silentHost && t >= p.silentFrom
}

// placeDay puts an incident at fraction frac of the run, at least minDay in (if the run is long
// enough), on a weekday when one is near.
func (g *generator) placeDay(frac float64, minDay int) int {
	days := g.cfg.Days
	d := int(frac * float64(days))
	if days > 21 && d < minDay {
		d = minDay
	}
	if days > 1 && d == 0 {
		d = 1
	}
	d = min(d, days-1)
	weekend := func(d int) bool {
		wd := g.start.AddDate(0, 0, d).Weekday()
		return wd == time.Saturday || wd == time.Sunday
	}
	for i := 0; i < 3 && weekend(d); i++ {
		switch {
		case d+1 < days:
			d++
		case d > 0:
			d--
		}
	}
	return d
}

func (g *generator) addIncident(in Incident) uint8 {
	g.truth.Incidents = append(g.truth.Incidents, in)
	return uint8(len(g.truth.Incidents))
}

func (g *generator) at(day, h, m int) time.Time {
	y, mo, d := g.start.Date()
	return time.Date(y, mo, d+day, h, m, 0, 0, g.l.loc)
}

func (l *layout) addr(i uint32) netip.Addr { return l.addrs[i].a }

func (l *layout) addrList(idx ...uint32) []netip.Addr {
	out := make([]netip.Addr, len(idx))
	for i, x := range idx {
		out[i] = l.addrs[x].a
	}
	return out
}

// planIncidents chooses days, hosts and addresses and records the incidents in the truth; the
// lines are queued day by day by plantIncidents.
func (g *generator) planIncidents() {
	l, p := g.l, &g.inc
	g.truth = Truth{Seed: g.cfg.Seed, Days: g.cfg.Days, Start: g.start, End: g.end,
		Timezone: g.cfg.Site.Timezone, LinesPerDay: g.cfg.LinesPerDay}

	p.exfilDay = g.placeDay(0.75, 21)
	p.exfilHost = l.ws[0][min(23, len(l.ws[0])-1)]
	p.exfil = g.addIncident(Incident{ID: "exfil-1", Kind: KindExfiltration, Detector: "volume_spike",
		Also:  []string{"significant_terms"},
		Start: g.at(p.exfilDay, 14, 0), End: g.at(p.exfilDay, 15, 30),
		Hosts: l.addrList(p.exfilHost), Peers: l.addrList(l.exfilPeer), Ports: []string{"tcp/443"},
		Description: "one workstation uploads about three times a normal day's site outbound bytes to one external address, mostly 14:00-15:30"})

	p.sanDay = g.placeDay(0.40, 12)
	p.sanHosts = [2]uint32{l.dmzPortal, l.dmzWeb}
	p.san = g.addIncident(Incident{ID: "san-1", Kind: KindSANThroughFW, Detector: "san_crossing",
		Also:  []string{"segment_violation", "volume_spike"},
		Start: g.at(p.sanDay, 1, 30), End: g.end,
		Hosts: l.addrList(p.sanHosts[0], p.sanHosts[1]), Peers: l.addrList(l.san[0]), Ports: []string{"tcp/3260"},
		Description: "the patient portal and the web server in the DMZ open iSCSI sessions to the SAN through the ASA every night"})

	printHosts := append([]uint32{}, l.printSrv[0])
	printHosts = append(printHosts, l.vendorPrinters...)
	p.printer = g.addIncident(Incident{ID: "printer-1", Kind: KindPrinterEgress, Detector: "printer_egress",
		Also:  []string{"segment_violation"},
		Start: g.start, End: g.end,
		Hosts: l.addrList(printHosts...), Peers: l.addrList(append(append([]uint32{}, l.vendors[0]...), l.vendors[1]...)...),
		Ports:       []string{"tcp/443"},
		Description: "the print server sends about 600 KB a week to the printer vendor, and the vendor-managed printers call home every hour"})

	p.dnsDay = g.placeDay(0.5, 15)
	p.dnsDC = l.dcs[1]
	p.dns = g.addIncident(Incident{ID: "dns-1", Kind: KindDNSUnapproved, Detector: "dns_unapproved",
		Also:  []string{"significant_terms"},
		Start: g.at(p.dnsDay, 0, 0), End: g.end,
		Hosts: l.addrList(p.dnsDC), Peers: l.addrList(l.unapprovedResolver), Ports: []string{"udp/53"},
		Description: "the second domain controller starts forwarding DNS to a resolver the policy does not approve"})

	p.silentDay = g.placeDay(0.6, 18)
	p.silentHost = l.vmHosts[min(6, len(l.vmHosts)-1)]
	from := g.at(p.silentDay, 3, 17)
	p.silentFrom = from.UnixMilli()
	p.silent = g.addIncident(Incident{ID: "silent-1", Kind: KindSilentHost, Detector: "silent_host",
		Start: from, End: g.end, Hosts: l.addrList(p.silentHost),
		Description: "a VM host stops sending any traffic and stays silent until the end of the run"})

	p.vpnDay = g.placeDay(0.7, 20)
	p.vpnUser = min(3, len(l.users)-1)
	vpnAt := g.at(p.vpnDay, 19, 42)
	p.vpn = g.addIncident(Incident{ID: "vpn-1", Kind: KindNewVPNSource, Detector: "new_vpn_source",
		Also:  []string{"significant_terms"},
		Start: vpnAt, End: vpnAt, Hosts: l.addrList(l.users[p.vpnUser].pool), Peers: l.addrList(l.newVPNSource),
		User:        l.users[p.vpnUser].name,
		Description: "a VPN user logs in from a source address never seen for that user"})

	p.outDay = g.placeDay(0.65, 19)
	p.outHost = l.ws[2][min(5, len(l.ws[2])-1)]
	p.outPort = g.addIncident(Incident{ID: "ports-1", Kind: KindUnusualPortOut, Detector: "unusual_ports",
		Also:  []string{"significant_terms", "segment_violation"},
		Start: g.at(p.outDay, 10, 5), End: g.at(p.outDay, 17, 0),
		Hosts: l.addrList(p.outHost), Peers: l.addrList(l.shellPeer, l.ircPeer, l.dmzWeb), Ports: []string{"tcp/4444", "tcp/6667", "tcp/22"},
		Description: "a workstation connects out on tcp/4444 (a reverse shell's port) and keeps an IRC session on tcp/6667, " +
			"then opens ssh to the DMZ web server through the ASA (no flow allows it): a compromised host moving laterally"})

	p.deniedDay = g.placeDay(0.55, 16)
	p.denied = g.addIncident(Incident{ID: "ports-2", Kind: KindUnusualPortDenied, Detector: "unusual_ports",
		Also:  []string{"significant_terms"},
		Start: g.at(p.deniedDay, 8, 0), End: g.at(p.deniedDay, 15, 0),
		Hosts: l.addrList(l.dmzWeb, l.dmzPortal), Peers: l.addrList(l.deniers...),
		Ports:       []string{"tcp/5555", "tcp/8291", "tcp/37215"},
		Description: "three external addresses are each denied 30-45 times within an hour on an unconventional port"})

	p.segDay = g.placeDay(0.45, 13)
	p.segA = l.ws[1][min(7, len(l.ws[1])-1)]
	p.segB = l.ws[2][min(11, len(l.ws[2])-1)]
	p.segment = g.addIncident(Incident{ID: "segment-1", Kind: KindSegmentViolation, Detector: "segment_violation",
		Start: g.at(p.segDay, 11, 0), End: g.at(p.segDay, 12, 30),
		Hosts: l.addrList(p.segA, p.segB), Ports: []string{"tcp/445", "tcp/3389"},
		Description: "a workstation in building 2 talks directly to a workstation in building 3 (2921 ACL log)"})

	p.scanDay = g.placeDay(0.8, 24)
	scanAt := g.at(p.scanDay, 2, 13)
	p.scan = g.addIncident(Incident{ID: "scan-1", Kind: KindPortScan, Detector: "port_scan",
		Also:  []string{"unusual_ports", "significant_terms"},
		Start: scanAt, End: scanAt.Add(4 * time.Minute),
		Hosts: l.addrList(l.dmzWeb), Peers: l.addrList(l.scanner),
		Description: "one external address probes hundreds of ports of the web server within minutes"})
}

// scanPorts is how many distinct ports the scan touches.
const scanPorts = 300

// plantIncidents queues the incident lines of one day.
func (g *generator) plantIncidents(day int, ds time.Time) {
	l, p := g.l, &g.inc
	ms := func(h, m int) int64 { return g.at(day, h, m).UnixMilli() }
	if day == p.exfilDay {
		g.plantExfil(day, ms(14, 0))
	}
	if day >= p.sanDay {
		for i, h := range p.sanHosts {
			for k := range 2 {
				t := ms(1, 30) + int64(i*7+k*23)*60_000 + g.rng.Int64N(60_000)
				bytes := g.lognormal(300_000_000, 0.4)
				g.truth.Incidents[p.san-1].Bytes += bytes
				g.connection(t, connSpec{proto: protoTCP, dir: dirInbound, a: h, aIf: ifDMZ, ap: g.ephemeral(),
					am: noAddr, b: l.san[0], bIf: ifInside, bp: 3260, bm: noAddr, bytes: bytes,
					durMs: 10*60_000 + g.rng.Int64N(10*60_000), inc: p.san})
			}
		}
	}
	if day >= p.dnsDay {
		for h := range 24 {
			for range 3 {
				t := ms(h, 0) + g.rng.Int64N(3600_000)
				g.outbound(day, t, p.dnsDC, ifInside, l.unapprovedResolver, protoUDP, 53, g.lognormal(160, 0.3),
					g.expMs(60), g.rng.IntN(2) == 0, p.dns)
			}
		}
	}
	if day == p.vpnDay {
		g.vpnSession(g.at(day, 19, 42).UnixMilli(), p.vpnUser, l.newVPNSource, p.vpn)
	}
	if day == p.outDay {
		for k := range 8 {
			t := ms(10, 5) + int64(k)*40*60_000 + g.rng.Int64N(10*60_000)
			g.outbound(day, t, p.outHost, ifInside, l.shellPeer, protoTCP, 4444, g.lognormal(80_000, 1),
				5_000+g.expMs(120_000), false, p.outPort)
		}
		for k := range 3 {
			t := ms(10, 30) + int64(k)*2*3600_000 + g.rng.Int64N(10*60_000)
			g.outbound(day, t, p.outHost, ifInside, l.ircPeer, protoTCP, 6667, g.lognormal(30_000, 0.5),
				60*60_000+g.rng.Int64N(30*60_000), false, p.outPort)
		}
		g.plantLateral(ms(13, 10))
	}
	if day == p.deniedDay {
		ports := [3]uint16{5555, 8291, 37215}
		for i, src := range l.deniers {
			// A burst of 30-45 in one hour each (a detector's default window), hours apart.
			n := 30 + g.rng.IntN(16)
			for range n {
				t := ms(8+3*(i%3), 0) + g.rng.Int64N(3600_000)
				dst := l.dmzWeb
				if g.rng.IntN(2) == 0 {
					dst = l.dmzPortal
				}
				g.push(rec{t: t, kind: kDeny, dev: devASA, proto: protoTCP, a: src, ap: g.ephemeral(),
					aIf: ifOutside, b: dst, bp: ports[i], bIf: ifDMZ, aux: g.rng.Uint32(), inc: p.denied})
			}
		}
	}
	if day == p.segDay {
		for k := range 12 {
			t := ms(11, 0) + int64(k)*7*60_000 + g.rng.Int64N(60_000)
			port := uint16(445)
			if k%3 == 2 {
				port = 3389
			}
			g.push(rec{t: t, kind: kIOSLogP, dev: devRtrB2, proto: protoTCP, a: p.segA, ap: g.ephemeral(),
				b: p.segB, bp: port, permit: true, aux: g.packets(), inc: p.segment})
		}
	}
	if day == p.scanDay {
		t0 := ms(2, 13)
		perm := g.rng.Perm(1024)
		sp := g.ephemeral()
		for i := range scanPorts {
			t := t0 + int64(i)*(3*60_000)/scanPorts + g.rng.Int64N(200)
			g.push(rec{t: t, kind: kDeny, dev: devASA, proto: protoTCP, a: l.scanner, ap: sp,
				aIf: ifOutside, b: l.dmzWeb, bp: uint16(perm[i] + 1), bIf: ifDMZ, aux: g.rng.Uint32(), inc: p.scan})
		}
		g.push(rec{t: t0 + 60_000, kind: kThreat, dev: devASA, aux: 120, inc: p.scan})
		g.push(rec{t: t0 + 150_000, kind: kThreat, dev: devASA, aux: 280, inc: p.scan})
	}
}

// plantLateral queues the compromised workstation's ssh sessions to the DMZ web server
// (inside to dmz through the ASA, permitted by the inside ACL). It draws nothing from the
// random source, so the rest of the run is the same as without it.
func (g *generator) plantLateral(t0 int64) {
	l, p := g.l, &g.inc
	for k := range 4 {
		t := t0 + int64(k)*11*60_000 + int64(k*k)*7_000
		bytes := uint64(4_000 + 1_500*k)
		g.truth.Incidents[p.outPort-1].Bytes += bytes
		g.connection(t, connSpec{proto: protoTCP, dir: dirOutbound, a: l.dmzWeb, aIf: ifDMZ, ap: 22, am: noAddr,
			b: p.outHost, bIf: ifInside, bp: uint16(50_212 + 97*k), bm: noAddr, bytes: bytes,
			durMs: int64(40_000 + 9_000*k), reason: 0, inc: p.outPort})
	}
}

// plantExfil queues the upload: 3x the reference, about 90 % between 14:00 and 15:30.
func (g *generator) plantExfil(day int, t0 int64) {
	p := &g.inc
	var ref, n uint64
	for d := range day {
		wd := g.start.AddDate(0, 0, d).Weekday()
		if wd != time.Saturday && wd != time.Sunday {
			ref += g.dayOut[d]
			n++
		}
	}
	if n > 0 {
		ref /= n
	} else {
		ref = g.expectedWeekdayOutbound()
	}
	in := &g.truth.Incidents[p.exfil-1]
	in.Baseline = ref
	total := 3 * ref
	const conns, inWindow = 40, 36
	var weights [conns]float64
	var wsum [2]float64
	for i := range weights {
		weights[i] = 0.5 + g.rng.Float64()
		wsum[min(i/inWindow, 1)] += weights[i]
	}
	share := [2]float64{0.9, 0.1}
	slot := int64(85 * 60_000 / inWindow)
	for i := range conns {
		part := uint64(float64(total) * share[min(i/inWindow, 1)] * weights[i] / wsum[min(i/inWindow, 1)])
		var t, dur int64
		if i < inWindow {
			t = t0 + int64(i)*slot + g.rng.Int64N(slot/3)
			dur = slot/2 + g.rng.Int64N(slot/3)
		} else {
			t = t0 + 90*60_000 + int64(i-inWindow)*12*60_000 + g.rng.Int64N(60_000)
			dur = 5*60_000 + g.rng.Int64N(5*60_000)
		}
		g.outbound(day, t, p.exfilHost, ifInside, g.l.exfilPeer, protoTCP, 443, part, dur, true, p.exfil)
	}
	in.End = time.UnixMilli(t0 + 150*60_000).In(g.l.loc)
}
