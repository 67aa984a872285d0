package scenario

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/policies"
)

// TestEveryLineParses parses every line of a 3-day run with the project's parser and checks
// that it is typed and says what the generator meant to write.
func TestEveryLineParses(t *testing.T) {
	res := record(t, Config{Seed: 5, Days: 3, LinesPerDay: 15000}, true)
	l := res.g.l
	now := res.truth.End
	p := ciscolog.NewParser(ciscolog.Options{
		Now: func() time.Time { return now },
		Zone: func(host string) *time.Location {
			if host == deviceNames[devASA] {
				return l.loc
			}
			return time.UTC
		},
	})
	styles := map[uint8]int{}
	failures := 0
	for i := range res.lines {
		x := &res.lines[i]
		styles[x.style]++
		var ev ciscolog.Event
		p.ParseString(x.line, &ev)
		if problems := expectEvent(l, x, &ev); len(problems) > 0 {
			failures++
			if failures <= 15 {
				t.Errorf("line %d: %s\n  %s", i, strings.Join(problems, "; "), strings.TrimSpace(x.line))
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d lines did not round-trip", failures, len(res.lines))
	}
	for s := styleASAYear; s <= styleIOS3164; s++ {
		if styles[s] == 0 {
			t.Errorf("no line in envelope style %d", s)
		}
	}
	t.Logf("%d lines, all typed; envelopes %v", len(res.lines), styles)
}

func expectEvent(l *layout, x *recorded, ev *ciscolog.Event) (problems []string) {
	r := &x.r
	bad := func(field string, got, want any) {
		problems = append(problems, fmt.Sprintf("%s = %v, want %v", field, got, want))
	}
	eq := func(field string, got, want any) {
		if got != want {
			bad(field, got, want)
		}
	}
	addr := func(i uint32) netip.Addr { return l.addrs[i].a }
	if ev.Kind != ciscolog.KindTyped {
		bad("Kind", ev.Kind, ciscolog.KindTyped)
		return problems
	}
	want := time.UnixMilli(r.t).UTC()
	if x.style != styleASA5424 && x.style != styleIOSSeq && x.style != styleIOS3164 {
		want = want.Truncate(time.Second)
	}
	if !ev.Time.Equal(want) && !(x.style == styleIOS3164 && ev.Time.Equal(want.Truncate(time.Second))) {
		bad("Time", ev.Time, want)
	}
	eq("Host", ev.Host, deviceNames[r.dev])
	eq("Severity", ev.Severity, msgs[r.kind].sev)
	if r.dev == devASA {
		eq("Family", ev.Family, ciscolog.FamilyASA)
		eq("MsgID", ev.MsgID, msgs[r.kind].id)
	} else {
		eq("Family", ev.Family, ciscolog.FamilyIOS)
		eq("Mnemonic", ev.Mnemonic, strings.TrimSuffix(strings.TrimPrefix(msgs[r.kind].tag, "%SEC-6-"), ": "))
		eq("Seq", ev.Seq != 0, true)
	}
	ep := func(side string, got ciscolog.Endpoint, a uint32, port uint16, iface uint8) {
		eq(side+".Addr", got.Addr, addr(a))
		eq(side+".Port", got.Port, port)
		if iface != ifNone {
			eq(side+".Iface", got.Iface, ifNames[iface])
		}
	}
	proto := func() {
		eq("Proto", ev.Proto, ciscolog.Proto(r.proto))
	}
	switch r.kind {
	case kBuiltTCP, kBuiltUDP:
		eq("Action", ev.Action, ciscolog.ActionBuilt)
		proto()
		ep("Src", ev.Src, r.a, r.ap, r.aIf)
		ep("Dst", ev.Dst, r.b, r.bp, r.bIf)
		eq("Src.MappedAddr", ev.Src.MappedAddr, addr(r.am))
		eq("Src.MappedPort", ev.Src.MappedPort, r.amp)
		eq("Dst.MappedAddr", ev.Dst.MappedAddr, addr(r.bm))
		eq("Dst.MappedPort", ev.Dst.MappedPort, r.bmp)
		eq("ConnID", ev.ConnID, uint64(r.conn))
		if r.dir == dirOutbound {
			eq("Direction", ev.Direction, ciscolog.DirectionOutbound)
			eq("Initiator", ev.Initiator, ciscolog.SideDst)
		} else {
			eq("Direction", ev.Direction, ciscolog.DirectionInbound)
			eq("Initiator", ev.Initiator, ciscolog.SideSrc)
		}
	case kTeardownTCP, kTeardownUDP:
		eq("Action", ev.Action, ciscolog.ActionTeardown)
		proto()
		ep("Src", ev.Src, r.a, r.ap, r.aIf)
		ep("Dst", ev.Dst, r.b, r.bp, r.bIf)
		eq("ConnID", ev.ConnID, uint64(r.conn))
		eq("Bytes", ev.Bytes, r.bytes)
		eq("Duration", ev.Duration, time.Duration(r.dur)*time.Second)
		if r.kind == kTeardownTCP {
			eq("Reason", ev.Reason, teardownReasons[r.aux])
		}
	case kPATBuilt, kPATTeardown:
		if r.kind == kPATBuilt {
			eq("Action", ev.Action, ciscolog.ActionTranslate)
		} else {
			eq("Action", ev.Action, ciscolog.ActionTranslateEnd)
			eq("Duration", ev.Duration, time.Duration(r.dur)*time.Second)
		}
		proto()
		ep("Src", ev.Src, r.a, r.ap, r.aIf)
		eq("Src.MappedAddr", ev.Src.MappedAddr, addr(r.b))
		eq("Src.MappedPort", ev.Src.MappedPort, r.bp)
	case kDeny:
		eq("Action", ev.Action, ciscolog.ActionDeny)
		proto()
		ep("Src", ev.Src, r.a, r.ap, r.aIf)
		ep("Dst", ev.Dst, r.b, r.bp, r.bIf)
		eq("ACL", ev.ACL, ifNames[r.aIf]+"_access_in")
	case kACLPermit:
		eq("Action", ev.Action, ciscolog.ActionPermit)
		proto()
		ep("Src", ev.Src, r.a, r.ap, r.aIf)
		ep("Dst", ev.Dst, r.b, r.bp, r.bIf)
		eq("ACL", ev.ACL, "inside_access_in")
		eq("Count", ev.Count, r.aux)
	case kDenyToBox, kUDPDiscard:
		if r.kind == kDenyToBox {
			eq("Action", ev.Action, ciscolog.ActionDeny)
		} else {
			eq("Action", ev.Action, ciscolog.ActionDrop)
		}
		proto()
		ep("Src", ev.Src, r.a, r.ap, ifNone)
		ep("Dst", ev.Dst, r.b, r.bp, r.bIf)
	case kAAAOK, kAAAFail:
		eq("User", ev.User, l.users[r.user-1].name)
		eq("Dst.Addr", ev.Dst.Addr, addr(r.b))
		if r.kind == kAAAOK {
			eq("Action", ev.Action, ciscolog.ActionLogin)
		} else {
			eq("Action", ev.Action, ciscolog.ActionLoginFailed)
			eq("Src.Addr", ev.Src.Addr, addr(r.a))
		}
	case kVPNStart, kSVCUp, kVPNAssign, kSVCDown, kVPNEnd:
		eq("User", ev.User, l.users[r.user-1].name)
		eq("Src.Addr", ev.Src.Addr, addr(r.a))
		switch r.kind {
		case kSVCDown, kVPNEnd:
			eq("Action", ev.Action, ciscolog.ActionSessionEnd)
		default:
			eq("Action", ev.Action, ciscolog.ActionSessionStart)
		}
		if r.kind == kVPNAssign {
			eq("Src.MappedAddr", ev.Src.MappedAddr, addr(r.b))
		}
	case kVPNDisc:
		eq("Action", ev.Action, ciscolog.ActionSessionEnd)
		eq("User", ev.User, l.users[r.user-1].name)
		eq("Src.Addr", ev.Src.Addr, addr(r.a))
		eq("Duration", ev.Duration, time.Duration(r.dur)*time.Second)
		eq("Bytes", ev.Bytes, r.bytes+r.bytes2)
	case kThreat:
		eq("Action", ev.Action, ciscolog.ActionThreat)
	case kConfig:
		eq("Action", ev.Action, ciscolog.ActionConfig)
		eq("User", ev.User, l.admins[r.user-1])
	case kIOSLogP, kIOSLogDP:
		if r.permit {
			eq("Action", ev.Action, ciscolog.ActionPermit)
		} else {
			eq("Action", ev.Action, ciscolog.ActionDeny)
		}
		proto()
		eq("ACL", ev.ACL, routerACL[r.dev])
		eq("Src.Addr", ev.Src.Addr, addr(r.a))
		eq("Dst.Addr", ev.Dst.Addr, addr(r.b))
		if r.kind == kIOSLogP {
			eq("Src.Port", ev.Src.Port, r.ap)
			eq("Dst.Port", ev.Dst.Port, r.bp)
			eq("Count", ev.Count, r.aux)
		} else {
			eq("ICMPType", ev.ICMPType, int16(r.aux>>8&0xff))
			eq("ICMPCode", ev.ICMPCode, int16(r.aux&0xff))
			eq("Count", ev.Count, r.aux>>16)
		}
	default:
		bad("kind", r.kind, "a known kind")
	}
	return problems
}

// TestSitePolicyLoads checks that the generator's site policy passes policies.Load, and that it
// classifies the generated addresses the way the incidents assume.
func TestSitePolicyLoads(t *testing.T) {
	for _, site := range []Site{DefaultSite(), {
		Name: "small", Timezone: "UTC", DomainControllers: 2, PrintServers: 1, TerminalServers: 1,
		AppServers: 3, VMHosts: 2, SANArrays: 1, Printers: 4, VendorPrinters: 1,
		Workstations: [3]int{12, 12, 12}, VPNUsers: 4,
	}} {
		data, err := site.Policy()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), FilePolicy)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := policies.Load(path)
		if err != nil {
			t.Fatalf("policies.Load(site %s): %v\n%s", site.Name, err, data)
		}
		l, err := buildLayout(site)
		if err != nil {
			t.Fatal(err)
		}
		seg := func(i uint32) string {
			s, _ := c.Segment(l.addr(i))
			return s
		}
		role := func(i uint32) string {
			n, ok := c.Classify(l.addr(i))
			if !ok {
				return ""
			}
			return n.Role
		}
		for _, tc := range []struct {
			i    uint32
			role string
		}{
			{l.dcs[1], policies.RoleDomainControllers}, {l.printSrv[0], policies.RolePrintServers},
			{l.terminals[0], policies.RoleTerminalServers}, {l.vmHosts[0], policies.RoleVMHosts},
			{l.san[0], policies.RoleSAN}, {l.printers[len(l.printers)-1], policies.RolePrinters},
			{l.ws[2][0], policies.RoleWorkstations}, {l.dmzPortal, policies.RoleDMZ},
			{l.users[0].pool, policies.RoleVPNPool}, {l.apps[0], policies.RoleServers},
		} {
			if got := role(tc.i); got != tc.role {
				t.Errorf("%s: role of %s = %q, want %q", site.Name, l.addr(tc.i), got, tc.role)
			}
		}
		if seg(l.exfilPeer) != policies.Internet || seg(l.cdn[0]) != policies.Internet {
			t.Errorf("%s: external addresses are not in the internet segment", site.Name)
		}
		if c.IsInternal(l.addr(l.exfilPeer)) || !c.IsInternal(l.addr(l.pubPAT)) {
			t.Errorf("%s: the site's public addresses are not internal, or a peer is", site.Name)
		}
		tcp := func(n uint16) policies.Port { return policies.Port{Proto: policies.ProtoTCP, Num: n} }
		udp53 := policies.Port{Proto: policies.ProtoUDP, Num: 53}
		// Normal traffic is allowed ...
		for _, f := range []struct {
			from, to uint32
			port     policies.Port
		}{
			{l.ws[1][0], l.terminals[0], tcp(3389)}, {l.ws[0][0], l.web[0], tcp(443)},
			{l.dcs[0], l.approvedResolvers[0], udp53}, {l.clients[0], l.dmzWeb, tcp(443)},
			{l.users[0].pool, l.terminals[0], tcp(3389)}, {l.vmHosts[0], l.cdn[0], tcp(443)},
			{l.dmzMail, l.mailPeers[0], tcp(25)},
		} {
			if !c.FlowAllowed(seg(f.from), seg(f.to), f.port) {
				t.Errorf("%s: normal flow %s -> %s %v not allowed", site.Name, seg(f.from), seg(f.to), f.port)
			}
		}
		// ... and the incidents are not.
		for _, f := range []struct {
			from, to uint32
			port     policies.Port
		}{
			{l.dmzPortal, l.san[0], tcp(3260)}, {l.ws[1][0], l.ws[2][0], tcp(445)},
			{l.printSrv[0], l.vendors[0][0], tcp(443)}, {l.printers[0], l.vendors[0][0], tcp(443)},
			{l.ws[2][0], l.shellPeer, tcp(4444)},
		} {
			if c.FlowAllowed(seg(f.from), seg(f.to), f.port) {
				t.Errorf("%s: incident flow %s -> %s %v is allowed", site.Name, seg(f.from), seg(f.to), f.port)
			}
		}
		if c.ApprovedResolver(l.addr(l.unapprovedResolver)) || !c.ApprovedResolver(l.addr(l.approvedResolvers[0])) {
			t.Errorf("%s: resolver approval wrong", site.Name)
		}
		if c.ConventionalPort("", policies.Port{Proto: policies.ProtoTCP, Num: 4444}) {
			t.Errorf("%s: tcp/4444 is conventional", site.Name)
		}
	}
}
