package scenario

import (
	"math"
	"time"
)

// flow is a kind of normal, scaled session.
type flow uint8

const (
	fWeb          flow = iota // workstation to the web or the CDN
	fDMZInternal              // workstation to the portal or web server in the DMZ
	fServerUpdate             // server to the update CDN
	fDNS                      // domain controller forwarding to an approved public resolver
	fInboundWeb               // internet client to the web server or patient portal
	fMailIn                   // mail peer to the DMZ mail server
	fMailOut                  // DMZ mail server to a mail peer
	fDenyNoise                // internet background noise denied on a conventional port
	fDenyInside               // workstation denied sending mail directly
	fACLPermit                // 106100 permit with logging
	fDenyToBox                // 710003 management access to the ASA refused
	fUDPDiscard               // 710005 broadcast discarded
	fRouterServer             // building 2/3 workstation to a server in building 1 (2921 ACL log)
	fRouterPing               // building 2/3 workstation pinging a server
	fRouterPrint              // building 2/3 workstation to the print server
)

type flowWeight struct {
	f      flow
	w      float64 // relative number of sessions
	lines  float64 // expected lines per session
	outMed float64 // median outbound bytes (0: not outbound)
	outSig float64
}

var flowMix = []flowWeight{
	{fWeb, 40, 3, 30_000, 1.5},
	{fDMZInternal, 6, 2, 0, 0},
	{fServerUpdate, 4, 3, 400_000, 1.3},
	{fDNS, 15, 3, 180, 0.3},
	{fInboundWeb, 10, 2, 0, 0},
	{fMailIn, 2, 2, 0, 0},
	{fMailOut, 2, 2, 25_000, 1.2},
	{fDenyNoise, 6, 1, 0, 0},
	{fDenyInside, 1, 1, 0, 0},
	{fACLPermit, 3, 1, 0, 0},
	{fDenyToBox, 1, 1, 0, 0},
	{fUDPDiscard, 1, 1, 0, 0},
	{fRouterServer, 20, 1, 0, 0},
	{fRouterPing, 2, 1, 0, 0},
	{fRouterPrint, 3, 1, 0, 0},
}

func (g *generator) initMix() {
	g.mix = flowMix
	var sum, lines float64
	for _, m := range g.mix {
		sum += m.w
		g.mixCum = append(g.mixCum, sum)
		lines += m.w * m.lines
	}
	g.avgLine = lines / sum
}

// expectedWeekdayOutbound estimates a weekday's outbound bytes of scaled traffic; used only when
// a run has no earlier weekday to measure.
func (g *generator) expectedWeekdayOutbound() uint64 {
	sessions := float64(g.cfg.LinesPerDay) / g.avgLine
	var sum, perSession float64
	for _, m := range g.mix {
		sum += m.w
		if m.outMed > 0 {
			perSession += m.w * m.outMed * math.Exp(m.outSig*m.outSig/2)
		}
	}
	return uint64(sessions * perSession / sum)
}

var (
	conventionalDenyPorts = []uint16{22, 3389, 80, 443, 25}
	routerServerPorts     = []uint16{3389, 445, 443, 88, 389, 135}
)

// session queues one normal session of flow f starting at t.
func (g *generator) session(day int, t int64, f flow) {
	l := g.l
	switch f {
	case fWeb:
		b := g.rng.IntN(3)
		host := g.pick(l.ws[b])
		peer := g.pick(l.web)
		if g.rng.IntN(5) == 0 {
			peer = g.pick(l.cdn)
		}
		port := uint16(443)
		if g.rng.IntN(10) == 0 {
			port = 80
		}
		g.outbound(day, t, host, ifInside, peer, protoTCP, port, g.lognormal(30_000, 1.5),
			500+g.expMs(20_000), g.rng.IntN(2) == 0, 0)
	case fDMZInternal:
		host := g.pick(l.ws[g.rng.IntN(3)])
		srv := l.dmzPortal
		if g.rng.IntN(3) == 0 {
			srv = l.dmzWeb
		}
		g.connection(t, connSpec{proto: protoTCP, dir: dirOutbound, a: srv, aIf: ifDMZ, ap: 443, am: noAddr,
			b: host, bIf: ifInside, bp: g.ephemeral(), bm: noAddr, bytes: g.lognormal(20_000, 1.2),
			durMs: 200 + g.expMs(15_000), reason: g.teardownReason()})
	case fServerUpdate:
		dur := 1000 + g.expMs(60_000)
		if g.rng.IntN(1000) == 0 {
			dur = int64(24+g.rng.IntN(16)) * 3_600_000 // a persistent session longer than a day
		}
		g.outbound(day, t, g.pick(l.upd), ifInside, g.pick(l.cdn), protoTCP, 443,
			g.lognormal(400_000, 1.3), dur, g.rng.IntN(2) == 0, 0)
	case fDNS:
		g.outbound(day, t, g.pick(l.dcs), ifInside, g.pick(l.approvedResolvers), protoUDP, 53,
			g.lognormal(180, 0.3), g.expMs(80), g.rng.IntN(2) == 0, 0)
	case fInboundWeb:
		srv, pub := l.dmzPortal, l.pubPortal
		if g.rng.IntN(2) == 0 {
			srv, pub = l.dmzWeb, l.pubWeb
		}
		g.connection(t, connSpec{proto: protoTCP, dir: dirInbound, a: g.pick(l.clients), aIf: ifOutside,
			ap: g.ephemeral(), am: noAddr, b: srv, bIf: ifDMZ, bp: 443, bm: pub, bmp: 443,
			bytes: g.lognormal(60_000, 1.3), durMs: 300 + g.expMs(15_000), reason: g.teardownReason()})
	case fMailIn:
		g.connection(t, connSpec{proto: protoTCP, dir: dirInbound, a: g.pick(l.mailPeers), aIf: ifOutside,
			ap: g.ephemeral(), am: noAddr, b: l.dmzMail, bIf: ifDMZ, bp: 25, bm: l.pubMail, bmp: 25,
			bytes: g.lognormal(40_000, 1.2), durMs: 300 + g.expMs(5_000), reason: g.teardownReason()})
	case fMailOut:
		g.outbound(day, t, l.dmzMail, ifDMZ, g.pick(l.mailPeers), protoTCP, 25, g.lognormal(25_000, 1.2),
			300+g.expMs(5_000), false, 0)
	case fDenyNoise:
		port := conventionalDenyPorts[g.rng.IntN(len(conventionalDenyPorts))]
		dst := l.dmzWeb
		if g.rng.IntN(2) == 0 {
			dst = l.dmzPortal
		}
		g.push(rec{t: t, kind: kDeny, dev: devASA, proto: protoTCP, a: g.pick(l.noise), ap: g.ephemeral(),
			aIf: ifOutside, b: dst, bp: port, bIf: ifDMZ, aux: g.rng.Uint32()})
	case fDenyInside:
		g.push(rec{t: t, kind: kDeny, dev: devASA, proto: protoTCP, a: g.pick(l.ws[g.rng.IntN(3)]),
			ap: g.ephemeral(), aIf: ifInside, b: g.pick(l.mailPeers), bp: 25, bIf: ifOutside, aux: g.rng.Uint32()})
	case fACLPermit:
		g.push(rec{t: t, kind: kACLPermit, dev: devASA, proto: protoTCP, a: g.pick(l.ws[g.rng.IntN(3)]),
			ap: g.ephemeral(), aIf: ifInside, b: g.pick(l.web), bp: 443, bIf: ifOutside,
			aux: 1 + uint32(g.rng.IntN(3))})
	case fDenyToBox:
		port := uint16(22)
		if g.rng.IntN(3) == 0 {
			port = 443
		}
		g.push(rec{t: t, kind: kDenyToBox, dev: devASA, proto: protoTCP, a: g.pick(l.noise), ap: g.ephemeral(),
			b: l.pubPAT, bp: port, bIf: ifOutside})
	case fUDPDiscard:
		b := g.rng.IntN(3)
		port := uint16(137)
		if g.rng.IntN(2) == 0 {
			port = 138
		}
		g.push(rec{t: t, kind: kUDPDiscard, dev: devASA, proto: protoUDP, a: g.pick(l.ws[b]), ap: port,
			b: l.wsBroadcast[b], bp: port, bIf: ifInside})
	case fRouterServer, fRouterPing, fRouterPrint:
		b := 1 + g.rng.IntN(2)
		dev := uint8(devRtrB2)
		if b == 2 {
			dev = devRtrB3
		}
		host := g.pick(l.ws[b])
		r := rec{t: t, kind: kIOSLogP, dev: dev, proto: protoTCP, a: host, ap: g.ephemeral(), permit: true,
			aux: g.packets()}
		switch f {
		case fRouterServer:
			r.bp = routerServerPorts[g.rng.IntN(len(routerServerPorts))]
			switch r.bp {
			case 3389:
				r.b = g.pick(l.terminals)
			case 88, 389, 135:
				r.b = g.pick(l.dcs)
			default:
				r.b = g.pick(l.apps)
				if len(l.dental) > 0 && g.rng.IntN(6) == 0 {
					r.b = g.pick(l.dental)
				}
			}
			if g.rng.IntN(8) == 0 {
				r.proto, r.bp, r.b = protoUDP, 53, g.pick(l.dcs)
			}
		case fRouterPing:
			r.kind, r.proto, r.ap, r.b = kIOSLogDP, protoICMP, 0, g.pick(l.upd)
			r.aux = g.packets()<<16 | 8<<8 // echo request
		case fRouterPrint:
			r.b, r.bp = g.pick(l.printSrv), 445
		}
		g.push(r)
	}
}

// packets is the count of an IOS ACL log line: 1 for a first packet, more for the 5-minute
// summaries.
func (g *generator) packets() uint32 {
	if g.rng.IntN(3) == 0 {
		return 2 + uint32(g.rng.IntN(60))
	}
	return 1
}

// fixedTraffic is the traffic that does not scale with LinesPerDay: heartbeats of VM hosts,
// domain controllers' time sync, printers and the print server calling their vendors.
func (g *generator) fixedTraffic(day int, hs, he int64) {
	l := g.l
	span := he - hs
	for i, h := range l.vmHosts {
		for q := int64(0); q < span; q += 15 * 60_000 {
			t := hs + q + g.rng.Int64N(60_000)
			if !g.inc.silenced(h, t) {
				g.outbound(day, t, h, ifInside, l.cdn[i%len(l.cdn)], protoTCP, 443, g.lognormal(40_000, 0.5),
					500+g.expMs(3_000), false, 0)
			}
		}
		t := hs + int64((i*5)%60)*60_000 + g.rng.Int64N(30_000)
		if t < he && !g.inc.silenced(h, t) {
			g.outbound(day, t, h, ifInside, l.ntp, protoUDP, 123, 96, g.expMs(40), false, 0)
		}
	}
	for i, h := range l.dcs {
		t := hs + int64((i*17+3)%60)*60_000 + g.rng.Int64N(30_000)
		if t < he {
			g.outbound(day, t, h, ifInside, l.ntp, protoUDP, 123, 96, g.expMs(40), false, 0)
		}
	}
	// Printers calling home: incident 3 (the policy allows printers no internet at all).
	for i, p := range l.vendorPrinters {
		t := hs + int64((i*7)%60)*60_000 + g.rng.Int64N(50_000)
		if t < he {
			v := l.vendors[l.addrs[p].vendor]
			g.outbound(day, t, p, ifInside, v[i%len(v)], protoTCP, 443, g.lognormal(3_000, 0.4),
				300+g.expMs(2_000), false, g.inc.printer)
		}
	}
	// The print server: about 600 KB a week to the vendor, in four calls a day.
	localH := time.UnixMilli(hs).In(l.loc).Hour()
	if localH%6 == 2 && len(l.printSrv) > 0 {
		t := hs + g.rng.Int64N(span)
		bytes := uint64(printServerWeekly / 28 * (0.9 + 0.2*g.rng.Float64()))
		g.outbound(day, t, l.printSrv[0], ifInside, l.vendors[0][0], protoTCP, 443, bytes,
			1000+g.expMs(4_000), false, g.inc.printer)
	}
}

const printServerWeekly = 600_000.0

// planDay queues a day's VPN sessions, configuration saves, threat notices and the incidents
// active that day. Everything queued here lies in the future of the current hour.
func (g *generator) planDay(day int, ds time.Time, weekend bool) {
	l := g.l
	base := ds.UnixMilli()
	p := 0.55
	if weekend {
		p = 0.12
	}
	for ui, u := range l.users {
		// In the first days every user shows each of their home addresses once, so a new-source
		// detector's learning period sees them all.
		early := day < 5 && g.vpnSessions[ui] < len(u.homes)
		if (!early && g.rng.Float64() >= p) || (g.inc.vpnUser == ui && g.inc.vpnDay == day) {
			continue
		}
		t := base + int64(7*3600_000) + g.rng.Int64N(13*3600_000)
		src := u.homes[g.vpnSessions[ui]%len(u.homes)]
		g.vpnSessions[ui]++
		g.vpnSession(t, ui, src, 0)
	}
	if !weekend && g.rng.IntN(10) < 6 {
		t := base + int64(9*3600_000) + g.rng.Int64N(8*3600_000)
		g.push(rec{t: t, kind: kConfig, dev: devASA, user: uint16(1 + g.rng.IntN(len(l.admins)))})
	}
	if g.rng.IntN(10) < 3 {
		t := base + g.rng.Int64N(24*3600_000)
		g.push(rec{t: t, kind: kThreat, dev: devASA, aux: 10 + uint32(g.rng.IntN(30))})
	}
	g.plantIncidents(day, ds)
}

// vpnSession queues an AnyConnect session of user ui from src starting at t, with its traffic.
func (g *generator) vpnSession(t int64, ui int, src uint32, inc uint8) {
	l := g.l
	u := l.users[ui]
	usr := uint16(ui + 1)
	dc := l.dcs[0]
	if g.rng.IntN(12) == 0 { // a mistyped password first
		g.push(rec{t: t, kind: kAAAFail, dev: devASA, user: usr, a: src, b: dc, inc: inc})
		t += 20_000 + g.rng.Int64N(40_000)
	}
	g.push(rec{t: t, kind: kAAAOK, dev: devASA, user: usr, a: src, b: dc, inc: inc})
	g.push(rec{t: t + 400, kind: kVPNStart, dev: devASA, user: usr, a: src, inc: inc})
	g.push(rec{t: t + 1200, kind: kSVCUp, dev: devASA, user: usr, a: src, inc: inc})
	g.push(rec{t: t + 1300, kind: kVPNAssign, dev: devASA, user: usr, a: src, b: u.pool, inc: inc})
	dur := int64(20*60_000) + g.rng.Int64N(4*3600_000)
	var sent uint64
	for at := t + 5_000; at < t+dur-60_000; at += 60_000 + g.expMs(15*60_000) {
		srv, port := g.pick(l.terminals), uint16(3389)
		if g.rng.IntN(3) == 0 {
			srv, port = g.pick(l.apps), 443
		}
		cd := min(t+dur-at-30_000, 1000+g.expMs(20*60_000))
		bytes := g.lognormal(200_000, 1.2)
		sent += bytes
		g.connection(at, connSpec{proto: protoTCP, dir: dirInbound, a: u.pool, aIf: ifOutside, ap: g.ephemeral(),
			am: noAddr, b: srv, bIf: ifInside, bp: port, bm: noAddr, bytes: bytes, durMs: cd,
			reason: g.teardownReason(), inc: inc})
	}
	end := t + dur
	g.push(rec{t: end, kind: kSVCDown, dev: devASA, user: usr, a: src, inc: inc})
	g.push(rec{t: end + 100, kind: kVPNEnd, dev: devASA, user: usr, a: src, inc: inc})
	g.push(rec{t: end + 200, kind: kVPNDisc, dev: devASA, user: usr, a: src, dur: uint32(dur / 1000),
		bytes: sent/3 + 4096, bytes2: sent, inc: inc})
}
