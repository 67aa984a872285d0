package scenario

import (
	"fmt"
	"testing"
	"time"
)

// TestIncidentsPresent checks every planted incident against the lines, on a 3-day run (every
// incident squeezed in) and a 30-day run (incidents after weeks of history).
func TestIncidentsPresent(t *testing.T) {
	for _, days := range []int{3, 30} {
		t.Run(fmt.Sprintf("%ddays", days), func(t *testing.T) {
			lpd := 8000
			if days > 7 {
				lpd = 3000
			}
			res := record(t, Config{Seed: 11, Days: days, LinesPerDay: lpd}, false)
			if len(res.truth.Incidents) != 10 {
				t.Fatalf("%d incidents in the truth, want 10", len(res.truth.Incidents))
			}
			byKind := map[string]Incident{}
			for _, in := range res.truth.Incidents {
				byKind[in.Kind] = in
				if in.Detector == "" || in.ID == "" || in.Description == "" {
					t.Errorf("incident %+v lacks id, detector or description", in)
				}
				if in.Start.Before(res.truth.Start) || in.End.After(res.truth.End) || in.End.Before(in.Start) {
					t.Errorf("incident %s window %v..%v outside the run %v..%v", in.ID, in.Start, in.End, res.truth.Start, res.truth.End)
				}
				if in.Kind != KindSilentHost && in.Lines == 0 {
					t.Errorf("incident %s has no lines", in.ID)
				}
			}
			c := checker{t: t, res: res}
			c.exfil(byKind[KindExfiltration], days)
			c.san(byKind[KindSANThroughFW])
			c.printer(byKind[KindPrinterEgress])
			c.dns(byKind[KindDNSUnapproved])
			c.silent(byKind[KindSilentHost])
			c.vpn(byKind[KindNewVPNSource])
			c.outPorts(byKind[KindUnusualPortOut])
			c.denied(byKind[KindUnusualPortDenied])
			c.segment(byKind[KindSegmentViolation])
			c.scan(byKind[KindPortScan])
		})
	}
}

type checker struct {
	t   *testing.T
	res runResult
}

func (c *checker) addr(i uint32) string { return c.res.g.l.addrs[i].s }

func ms(t time.Time) int64 { return t.UnixMilli() }

func isTeardown(k kind) bool { return k == kTeardownTCP || k == kTeardownUDP }
func isBuilt(k kind) bool    { return k == kBuiltTCP || k == kBuiltUDP }

func (c *checker) exfil(in Incident, days int) {
	t := c.t
	host, peer := in.Hosts[0].String(), in.Peers[0].String()
	day := int(in.Start.Sub(c.res.truth.Start).Hours() / 24)
	if days >= 28 && day < 21 {
		t.Errorf("exfiltration on day %d of %d: less than 3 weeks of history", day, days)
	}
	if wd := in.Start.Weekday(); wd == time.Saturday || wd == time.Sunday {
		t.Errorf("exfiltration on a %s", wd)
	}
	// Baseline, from the lines: outbound bytes of normal traffic per weekday before that day.
	perDay := make([]uint64, days)
	var hostBefore uint64
	var total, window uint64
	w0, w1 := ms(in.Start), ms(in.Start.Add(90*time.Minute))
	for _, x := range c.res.lines {
		r := &x.r
		if !isTeardown(r.kind) || r.aIf != ifOutside || r.dir != dirOutbound {
			continue
		}
		start := time.UnixMilli(r.t - int64(r.dur)*1000)
		d := int(start.Sub(c.res.truth.Start).Hours() / 24)
		if r.inc == 0 && d >= 0 && d < days {
			perDay[d] += r.bytes
			if c.addr(r.b) == host && d < day {
				hostBefore += r.bytes
			}
		}
		if c.addr(r.b) == host && c.addr(r.a) == peer {
			total += r.bytes
			if r.t >= w0 && r.t <= w1 {
				window += r.bytes
			}
			if r.inc == 0 {
				t.Errorf("a normal connection to the exfiltration peer %s", peer)
			}
		}
	}
	var ref, n uint64
	for d := range day {
		if wd := c.res.truth.Start.AddDate(0, 0, d).Weekday(); wd != time.Saturday && wd != time.Sunday {
			ref += perDay[d]
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no weekday before the exfiltration day %d", day)
	}
	ref /= n
	if total != in.Bytes {
		t.Errorf("exfiltration bytes in the lines %d, truth %d", total, in.Bytes)
	}
	if r := float64(total) / float64(ref); r < 2.8 || r > 3.2 {
		t.Errorf("exfiltration %d bytes = %.2f x a weekday's outbound %d, want about 3", total, r, ref)
	}
	if float64(window) < 0.85*float64(total) {
		t.Errorf("only %d of %d exfiltration bytes between 14:00 and 15:30", window, total)
	}
	// Against the host's own history the day is enormous.
	if perHost := hostBefore / uint64(max(day, 1)); perHost*50 > total {
		t.Errorf("host %s averaged %d bytes a day before; the exfiltration (%d) does not stand out", host, perHost, total)
	}
}

func (c *checker) san(in Incident) {
	seen := map[string]int{}
	for _, x := range c.res.lines {
		r := &x.r
		if isBuilt(r.kind) && r.bp == 3260 && c.res.g.l.addrs[r.b].role == roleSAN {
			if r.t < ms(in.Start) {
				c.t.Errorf("SAN crossing at %v, before the incident start %v", time.UnixMilli(r.t), in.Start)
			}
			if r.aIf == r.bIf {
				c.t.Errorf("SAN connection does not cross the ASA: %s to %s", ifNames[r.aIf], ifNames[r.bIf])
			}
			seen[c.addr(r.a)]++
		}
	}
	for _, h := range in.Hosts {
		if seen[h.String()] == 0 {
			c.t.Errorf("server %s never reaches the SAN across the ASA", h)
		}
	}
	if len(seen) != 2 {
		c.t.Errorf("SAN reached across the ASA by %v, want exactly the two servers", seen)
	}
}

func (c *checker) printer(in Incident) {
	l := c.res.g.l
	var psBytes uint64
	printers := map[uint32]bool{}
	for _, x := range c.res.lines {
		r := &x.r
		if !isTeardown(r.kind) || r.aIf != ifOutside {
			continue
		}
		switch l.addrs[r.b].role {
		case rolePrintServer:
			psBytes += r.bytes
			if l.addrs[r.a].a != l.addr(l.vendors[0][0]) {
				c.t.Errorf("print server talks to %s, not its vendor", c.addr(r.a))
			}
		case rolePrinter:
			printers[r.b] = true
		}
	}
	weeks := float64(c.res.truth.Days) / 7
	if perWeek := float64(psBytes) / weeks; perWeek < 500_000 || perWeek > 700_000 {
		c.t.Errorf("print server sends %.0f bytes a week to the vendor, want about 600 KB", perWeek)
	}
	if len(printers) != c.res.g.cfg.Site.VendorPrinters {
		c.t.Errorf("%d printers talk outside, want %d", len(printers), c.res.g.cfg.Site.VendorPrinters)
	}
}

func (c *checker) dns(in Incident) {
	dc, res := in.Hosts[0].String(), in.Peers[0].String()
	n := 0
	for _, x := range c.res.lines {
		r := &x.r
		if r.kind == kBuiltUDP && c.addr(r.a) == res {
			if c.addr(r.b) != dc || r.ap != 53 {
				c.t.Errorf("unexpected flow to the unapproved resolver: %s -> %s/%d", c.addr(r.b), res, r.ap)
			}
			if r.t < ms(in.Start) {
				c.t.Errorf("query to %s before the incident start", res)
			}
			n++
		}
	}
	if n < 20 {
		c.t.Errorf("%d queries to the unapproved resolver, want at least 20", n)
	}
}

func (c *checker) silent(in Incident) {
	h := in.Hosts[0].String()
	var before, after int
	for _, x := range c.res.lines {
		r := &x.r
		if c.addr(r.a) == h || c.addr(r.b) == h {
			if r.t >= ms(in.Start) {
				after++
			} else {
				before++
			}
		}
	}
	if after != 0 {
		c.t.Errorf("silent host %s has %d lines after %v", h, after, in.Start)
	}
	if before < 50 {
		c.t.Errorf("silent host %s had only %d lines before it went silent", h, before)
	}
}

func (c *checker) vpn(in Incident) {
	l := c.res.g.l
	src := in.Peers[0].String()
	var logins int
	for _, x := range c.res.lines {
		r := &x.r
		if r.kind != kAAAOK && r.kind != kVPNAssign {
			continue
		}
		u := l.users[r.user-1].name
		if c.addr(r.a) == src {
			if u != in.User {
				c.t.Errorf("user %s also logs in from %s", u, src)
			}
			if r.t < ms(in.Start) || r.t > ms(in.Start)+60_000 {
				c.t.Errorf("login from %s at %v, want at %v", src, time.UnixMilli(r.t), in.Start)
			}
			logins++
		}
	}
	if logins != 2 {
		c.t.Errorf("%d login lines (113004, 722051) from %s, want 2", logins, src)
	}
	// Apart from the incident, every user's sources are all seen within the first week, so a
	// new-source detector's learning period covers them.
	if c.res.truth.Days >= 14 {
		learnEnd := ms(c.res.truth.Start.AddDate(0, 0, 7))
		seen := map[string]bool{}
		for _, x := range c.res.lines {
			r := &x.r
			if r.kind != kAAAOK || r.inc != 0 {
				continue
			}
			key := l.users[r.user-1].name + " " + c.addr(r.a)
			if r.t < learnEnd {
				seen[key] = true
			} else if !seen[key] {
				c.t.Errorf("login %s first seen after the first week", key)
				seen[key] = true
			}
		}
	}
	if in.User == "" {
		c.t.Error("new VPN source incident names no user")
	}
}

func (c *checker) outPorts(in Incident) {
	h := in.Hosts[0].String()
	ports := map[uint16]int{}
	for _, x := range c.res.lines {
		r := &x.r
		if r.kind == kBuiltTCP && c.addr(r.b) == h && r.aIf == ifOutside && r.ap != 443 && r.ap != 80 {
			ports[r.ap]++
		}
	}
	if ports[4444] < 5 || ports[6667] < 1 || len(ports) != 2 {
		c.t.Errorf("outbound unconventional ports of %s: %v, want 4444 (5+) and 6667", h, ports)
	}
	// Then ssh to the DMZ web server, inside to dmz through the ASA.
	ssh := 0
	for _, x := range c.res.lines {
		r := &x.r
		if r.kind == kBuiltTCP && c.addr(r.b) == h && r.aIf == ifDMZ && r.bIf == ifInside && r.ap == 22 && r.dir == dirOutbound {
			ssh++
			if r.t < ms(in.Start) || r.t > ms(in.End) {
				c.t.Errorf("ssh of %s at %v outside the incident window", h, time.UnixMilli(r.t))
			}
		}
	}
	if ssh != 4 {
		c.t.Errorf("ssh sessions of %s to the DMZ: %d, want 4", h, ssh)
	}
}

func (c *checker) denied(in Incident) {
	per := map[string]map[uint16]int{}
	first := map[string]int64{}
	for _, x := range c.res.lines {
		r := &x.r
		if r.kind == kDeny && r.inc > 0 && c.res.truth.Incidents[r.inc-1].Kind == KindUnusualPortDenied {
			a := c.addr(r.a)
			if _, ok := first[a]; !ok {
				first[a] = r.t
			}
			if r.t-first[a] > 3600_000 {
				c.t.Errorf("denies of %s spread over more than an hour", a)
			}
			if r.t < ms(in.Start) || r.t > ms(in.End) {
				c.t.Errorf("deny of %s at %v outside the incident window", a, time.UnixMilli(r.t))
			}
			if per[a] == nil {
				per[a] = map[uint16]int{}
			}
			per[a][r.bp]++
		}
	}
	for _, p := range in.Peers {
		m := per[p.String()]
		if len(m) != 1 {
			c.t.Errorf("denier %s hit ports %v, want one port", p, m)
		}
		for port, n := range m {
			if n < 30 || port == 443 || port == 80 || port == 22 {
				c.t.Errorf("denier %s denied %d times on %d", p, n, port)
			}
		}
	}
	// Background deny noise stays on conventional ports.
	for _, x := range c.res.lines {
		r := &x.r
		if r.kind == kDeny && r.inc == 0 && r.aIf == ifOutside {
			switch r.bp {
			case 22, 3389, 80, 443, 25:
			default:
				c.t.Fatalf("background deny on port %d", r.bp)
			}
		}
	}
}

func (c *checker) segment(in Incident) {
	a, b := in.Hosts[0].String(), in.Hosts[1].String()
	n := 0
	for _, x := range c.res.lines {
		r := &x.r
		if r.kind == kIOSLogP && c.addr(r.a) == a && c.addr(r.b) == b {
			n++
		}
		// No other workstation-to-workstation traffic across buildings.
		l := c.res.g.l
		if r.dev != devASA && l.addrs[r.b].role == roleWorkstation && r.inc == 0 {
			c.t.Fatalf("normal traffic between workstations: %s -> %s", c.addr(r.a), c.addr(r.b))
		}
	}
	if n < 10 {
		c.t.Errorf("%d router ACL lines %s -> %s, want 10+", n, a, b)
	}
}

func (c *checker) scan(in Incident) {
	src := in.Peers[0].String()
	ports := map[uint16]bool{}
	var first, last int64
	for _, x := range c.res.lines {
		r := &x.r
		if r.kind == kDeny && c.addr(r.a) == src {
			if first == 0 {
				first = r.t
			}
			last = r.t
			ports[r.bp] = true
		}
	}
	if len(ports) < 200 {
		c.t.Errorf("scanner %s denied on %d distinct ports, want 200+", src, len(ports))
	}
	if last-first > 5*60_000 {
		c.t.Errorf("scan lasts %v, want under 5 minutes", time.Duration(last-first)*time.Millisecond)
	}
	if c.res.byKind[kThreat] == 0 {
		c.t.Error("no 733100 threat-detection line")
	}
}
