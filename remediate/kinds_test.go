package remediate_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/devices"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/remediate"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
	"github.com/firebreak-dev/firebreak/remediate/datapath"
)

// These tests push each kind of change over SSH to the fake ASA and judge
// packets with the fake's own data path (its packet-tracer): the
// finding's flows are permitted before and dropped after, the flows that
// must keep working are not touched.

var (
	exfilHost = netip.MustParseAddr("10.20.0.77")
	exfilPeer = netip.MustParseAddr("192.0.2.144")
)

// builtOutbound is the ASA's log of a connection an inside host opened.
func builtOutbound(host, peer netip.Addr, sport, dport int, hostIf string) string {
	return "<166>Mar 02 2026 09:11:08 fw1 : %ASA-6-302013: Built outbound TCP connection 10130451 for outside:" +
		peer.String() + "/" + itoa(dport) + " (" + peer.String() + "/" + itoa(dport) + ") to " + hostIf + ":" + host.String() + "/" + itoa(sport) +
		" (198.51.100.2/55718)"
}

func exfil(id string) detect.Finding {
	return detect.Finding{ID: id, Key: "unusual_ports|allowed|" + exfilHost.String() + "|tcp/4444", Detector: detect.DetectorUnusualPorts,
		Severity: detect.SeverityMedium, Title: "unusual port",
		Subject:  detect.Subject{Host: exfilHost, Peer: exfilPeer, Proto: 6, Port: 4444},
		Evidence: detect.Evidence{Lines: []string{builtOutbound(exfilHost, exfilPeer, 54326, 4444, "inside")}}, Status: "open"}
}

func (r *rig) trace(f fakeasa.Flow) fakeasa.Verdict {
	r.t.Helper()
	v, err := r.srv.Trace(f)
	if err != nil {
		r.t.Fatal(err)
	}
	return v
}

// kept are flows the site needs in the test policy: servers to the
// internet on https, ssh from the monitoring provider to the box, the
// public https service, admin ssh on the management interface.
var kept = []fakeasa.Flow{
	{Interface: "inside", Proto: "tcp", Src: netip.MustParseAddr("10.20.0.10"), SrcPort: 41000, Dst: netip.MustParseAddr("192.0.2.80"), DstPort: 443},
	{Interface: "outside", Proto: "tcp", Src: netip.MustParseAddr("192.0.2.50"), SrcPort: 41001, Dst: netip.MustParseAddr("198.51.100.2"), DstPort: 22},
	{Interface: "outside", Proto: "tcp", Src: netip.MustParseAddr("192.0.2.99"), SrcPort: 41002, Dst: netip.MustParseAddr("172.16.20.11"), DstPort: 443},
	{Interface: "management", Proto: "tcp", Src: netip.MustParseAddr("10.99.0.10"), SrcPort: 41003, Dst: netip.MustParseAddr("10.99.0.1"), DstPort: 22},
	{Interface: "dmz", Proto: "tcp", Src: netip.MustParseAddr("172.16.20.10"), SrcPort: 41004, Dst: netip.MustParseAddr("10.50.0.10"), DstPort: 3260},
}

func (r *rig) keptVerdicts() []bool {
	var out []bool
	for _, f := range kept {
		out = append(out, r.trace(f).Allowed)
	}
	return out
}

func (r *rig) pushOK(id string) remediate.Proposal {
	r.t.Helper()
	r.approve(id)
	res, err := r.m.Push(context.Background(), id, operator)
	if err != nil {
		r.t.Fatalf("push %s: %v", id, err)
	}
	p := res.Proposal
	if p.State != remediate.StateApplied || len(p.Verification) == 0 {
		r.t.Fatalf("%s: %s with %d traces %q", id, p.State, len(p.Verification), res.Warnings)
	}
	for _, tr := range p.Verification {
		if !tr.OK || tr.Action != "drop" {
			r.t.Errorf("device trace %s", tr)
		}
	}
	return p
}

func fakeFlow(f datapath.Flow, in string) fakeasa.Flow {
	return fakeasa.Flow{Interface: in, Proto: datapath.ProtoName(f.Proto), Src: f.Src, Dst: f.Dst, SrcPort: f.SrcPort + 1, DstPort: f.DstPort}
}

// An inside host's connections to a peer are denied where they enter (the
// inside ACL), live ones are cleared, and the outside deny is kept.
func TestExfiltrationBlockDropsTheHostsFlows(t *testing.T) {
	r := newRig(t, rigOpts{})
	live := fakeasa.Flow{Interface: "inside", Proto: "tcp", Src: exfilHost, SrcPort: 54326, Dst: exfilPeer, DstPort: 4444}
	if !r.trace(live).Allowed {
		t.Fatal("the finding's flow is dropped before any change")
	}
	if err := r.srv.Open(live); err != nil {
		t.Fatal(err)
	}
	keep := r.keptVerdicts()
	ps := r.propose(exfil("f1"))
	if len(ps) != 1 || ps[0].Kind != remediate.KindBlock || ps[0].Direction != remediate.DirHost || len(ps[0].Flows) != 1 {
		t.Fatalf("proposals %+v", ps)
	}
	d := r.approve(ps[0].ID)
	if !slices.Contains(d.Lines, "access-list INSIDE_IN line 1 extended deny ip any object-group FIREBREAK_BLOCK") ||
		!slices.Contains(d.ExecLines, "clear conn address 192.0.2.144") {
		t.Errorf("lines %q exec %q", d.Lines, d.ExecLines)
	}
	fe := d.Effect.FindingFlows()
	if len(fe) != 1 || fe[0].Before.Action != datapath.Permit || fe[0].After.Action != datapath.Drop || fe[0].After.Rule.ACL != "INSIDE_IN" {
		t.Fatalf("effect %+v", d.Effect)
	}
	if d.Effect.Checked == 0 || d.Effect.Breaks != "" {
		t.Errorf("protected flows: %d checked, breaks %q", d.Effect.Checked, d.Effect.Breaks)
	}
	p := r.pushOK(ps[0].ID)
	if v := r.trace(fakeFlow(p.Flows[0], "inside")); v.Allowed || v.ACL != "INSIDE_IN" {
		t.Errorf("after: %+v", v)
	}
	if v := r.trace(fakeasa.Flow{Interface: "outside", Proto: "tcp", Src: exfilPeer, SrcPort: 4444, Dst: netip.MustParseAddr("198.51.100.4"), DstPort: 443}); v.Allowed || v.ACL != "OUTSIDE_IN" {
		t.Errorf("the peer's own connections: %+v", v)
	}
	if cs := r.srv.Conns(); len(cs) != 0 {
		t.Errorf("live connections after clear conn: %+v", cs)
	}
	if got := r.keptVerdicts(); !slices.Equal(got, keep) {
		t.Errorf("kept flows %v, before %v", got, keep)
	}
	// Feedback counts hits on the egress deny the flows meet.
	for i := range 3 {
		f := live
		f.SrcPort = uint16(50000 + i)
		if _, err := r.srv.Send(f); err != nil {
			t.Fatal(err)
		}
	}
	fb, err := r.m.Feedback(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fb.ACL != "INSIDE_IN" || fb.Hits != 3 || !fb.HitsKnown || !fb.ConnsKnown || fb.Conns != 0 {
		t.Errorf("feedback %+v", fb)
	}
}

// An interface without an ACL gets one that keeps what its security level
// allowed, and the binding is in the diff.
func TestBlockOnInterfaceWithoutACL(t *testing.T) {
	r := newRig(t, rigOpts{fake: func(c *fakeasa.Config) {
		c.RunningConfig = strings.Replace(c.RunningConfig, "access-group INSIDE_IN in interface inside\n", "", 1)
	}})
	probe := []fakeasa.Flow{
		{Interface: "inside", Proto: "tcp", Src: netip.MustParseAddr("10.20.0.10"), SrcPort: 41000, Dst: netip.MustParseAddr("172.16.20.10"), DstPort: 22},
		{Interface: "inside", Proto: "udp", Src: netip.MustParseAddr("10.20.0.10"), SrcPort: 41000, Dst: netip.MustParseAddr("192.0.2.53"), DstPort: 53},
		{Interface: "inside", Proto: "tcp", Src: netip.MustParseAddr("10.20.0.10"), SrcPort: 41000, Dst: netip.MustParseAddr("10.99.0.10"), DstPort: 22},
		{Interface: "inside", Proto: "tcp", Src: netip.MustParseAddr("10.20.0.10"), SrcPort: 41000, Dst: netip.MustParseAddr("10.30.0.5"), DstPort: 22},
	}
	var before []fakeasa.Verdict
	for _, f := range probe {
		before = append(before, r.trace(f))
	}
	keep := r.keptVerdicts()
	ps := r.propose(exfil("f1"))
	d := r.approve(ps[0].ID)
	if !slices.Contains(d.Lines, "access-group inside_access_in in interface inside") || !strings.Contains(d.Diff, "+access-group inside_access_in in interface inside") {
		t.Errorf("binding not shown: %q\n%s", d.Lines, d.Diff)
	}
	r.pushOK(ps[0].ID)
	if v := r.trace(fakeasa.Flow{Interface: "inside", Proto: "tcp", Src: exfilHost, SrcPort: 1, Dst: exfilPeer, DstPort: 4444}); v.Allowed || v.ACL != "inside_access_in" {
		t.Errorf("after: %+v", v)
	}
	for i, f := range probe {
		if v := r.trace(f); v.Allowed != before[i].Allowed {
			t.Errorf("%+v: allowed %v, before %v", f, v.Allowed, before[i].Allowed)
		}
	}
	if got := r.keptVerdicts(); !slices.Equal(got, keep) {
		t.Errorf("kept flows %v, before %v", got, keep)
	}
}

// A control-plane binding filters traffic to the box only: it is never
// the ACL a block goes into.
func TestControlPlaneBindingIsNotTheInterfaceACL(t *testing.T) {
	r := newRig(t, rigOpts{fake: func(c *fakeasa.Config) {
		c.RunningConfig = strings.Replace(c.RunningConfig, "access-group INSIDE_IN in interface inside\n",
			"access-group INSIDE_IN in interface inside control-plane\n", 1)
	}})
	if v := r.trace(fakeasa.Flow{Interface: "inside", Proto: "tcp", Src: exfilHost, SrcPort: 1, Dst: exfilPeer, DstPort: 4444}); !v.Allowed {
		t.Fatalf("dropped before: %+v", v)
	}
	keep := r.keptVerdicts()
	ps := r.propose(exfil("f1"))
	d := r.approve(ps[0].ID)
	for _, l := range d.Lines {
		if strings.Contains(l, "INSIDE_IN") {
			t.Errorf("plan touches the control-plane ACL: %q", l)
		}
	}
	r.pushOK(ps[0].ID)
	if v := r.trace(fakeasa.Flow{Interface: "inside", Proto: "tcp", Src: exfilHost, SrcPort: 1, Dst: exfilPeer, DstPort: 4444}); v.Allowed {
		t.Errorf("after: %+v", v)
	}
	if got := r.keptVerdicts(); !slices.Equal(got, keep) {
		t.Errorf("kept flows %v, before %v", got, keep)
	}
}

// keptExcept is keptVerdicts for the kept flows that do not involve host
// (a quarantine is meant to change those).
func (r *rig) keptExcept(host netip.Addr) []bool {
	var out []bool
	for _, f := range kept {
		if f.Src != host && f.Dst != host {
			out = append(out, r.trace(f).Allowed)
		}
	}
	return out
}

// A scanner is denied as source on the outside ACL; with use_shun its new
// connections are shunned but, as the command reference says, its live
// connection stays up (a source-only shun does not clear it).
func TestScanBlockAndShunSemantics(t *testing.T) {
	// The public service by its real address (the model has no NAT).
	r := newRig(t, rigOpts{remediation: "  use_shun: true\n  shun_duration: 1h\n", fake: func(c *fakeasa.Config) {
		c.RunningConfig = strings.Replace(c.RunningConfig, "host 198.51.100.4 eq https", "host 172.16.20.11 eq https", 1)
	}})
	scanner := netip.MustParseAddr("203.0.113.7")
	web := fakeasa.Flow{Interface: "outside", Proto: "tcp", Src: scanner, SrcPort: 40500, Dst: netip.MustParseAddr("172.16.20.11"), DstPort: 443}
	if err := r.srv.Open(web); err != nil {
		t.Fatal(err)
	}
	f := scan("f1", scanner.String())
	f.Evidence.Lines = []string{"<162>Mar 02 2026 09:00:00 fw1 : %ASA-2-106001: Inbound TCP connection denied from 203.0.113.7/40600 to 198.51.100.4/8443 flags SYN  on interface outside",
		"<166>Mar 02 2026 09:00:01 fw1 : %ASA-6-302013: Built inbound TCP connection 11 for outside:203.0.113.7/40500 (203.0.113.7/40500) to dmz:172.16.20.11/443 (172.16.20.11/443)"}
	keep := r.keptVerdicts()
	ps := r.propose(f)
	if len(ps) != 1 || ps[0].Direction != remediate.DirPeer || len(ps[0].Flows) == 0 {
		t.Fatalf("proposals %+v", ps)
	}
	d := r.approve(ps[0].ID)
	// One probe is denied already, the connection to the open service is
	// not: the block is effective, it turns that one to dropped.
	opened := 0
	for _, fe := range d.Effect.FindingFlows() {
		if fe.Before.Action == datapath.Permit && fe.After.Action == datapath.Drop {
			opened++
		}
	}
	if opened != 1 || d.Effect.Ineffective != "" {
		t.Errorf("effect %+v", d.Effect)
	}
	if slices.ContainsFunc(d.Lines, func(l string) bool { return strings.Contains(l, "INSIDE_IN") }) || !slices.Contains(d.ExecLines, "shun 203.0.113.7") {
		t.Errorf("lines %q exec %q", d.Lines, d.ExecLines)
	}
	r.pushOK(ps[0].ID)
	again := web
	again.SrcPort = 40501
	if v := r.trace(again); v.Allowed {
		t.Errorf("new connection of the scanner: %+v", v)
	}
	if v := r.trace(web); !v.Allowed || !v.Existing {
		t.Errorf("live connection after a source-only shun: %+v (the command reference keeps it)", v)
	}
	if got := r.keptVerdicts(); !slices.Equal(got, keep) {
		t.Errorf("kept flows %v, before %v", got, keep)
	}
}

// A quarantined DMZ host is denied as source on its ACL and as destination
// on every other, shunned, its live connections cleared; traffic that
// never crosses the ASA is an advisory.
func TestQuarantineIsolatesTheHost(t *testing.T) {
	r := newRig(t, rigOpts{})
	host := netip.MustParseAddr("172.16.20.10")
	out := fakeasa.Flow{Interface: "dmz", Proto: "tcp", Src: host, SrcPort: 40700, Dst: netip.MustParseAddr("10.50.0.10"), DstPort: 3260}
	in := fakeasa.Flow{Interface: "inside", Proto: "tcp", Src: netip.MustParseAddr("10.20.0.10"), SrcPort: 40701, Dst: host, DstPort: 22}
	for _, f := range []fakeasa.Flow{out, in} {
		if !r.trace(f).Allowed {
			t.Fatalf("%+v dropped before", f)
		}
	}
	if err := r.srv.Open(in); err != nil {
		t.Fatal(err)
	}
	keep := r.keptExcept(host)
	f := critical("f1", host.String())
	f.Subject.Peer = netip.MustParseAddr("10.50.0.10")
	ps := r.propose(f)
	if len(ps) != 1 || ps[0].Kind != remediate.KindQuarantine || !strings.Contains(ps[0].Advisory, "VLAN") {
		t.Fatalf("proposals %+v", ps)
	}
	d := r.approve(ps[0].ID)
	for _, want := range []string{"access-list DMZ_IN line 1 extended deny ip host 172.16.20.10 any",
		"access-list INSIDE_IN line 1 extended deny ip any host 172.16.20.10", "access-list OUTSIDE_IN line 1 extended deny ip any host 172.16.20.10"} {
		if !slices.Contains(d.Lines, want) {
			t.Errorf("lines lack %q: %q", want, d.Lines)
		}
	}
	if !slices.Contains(d.ExecLines, "shun 172.16.20.10") || !slices.Contains(d.ExecLines, "clear conn address 172.16.20.10") {
		t.Errorf("exec %q", d.ExecLines)
	}
	r.pushOK(ps[0].ID)
	for _, f := range []fakeasa.Flow{out, in} {
		f.SrcPort++
		if v := r.trace(f); v.Allowed {
			t.Errorf("%+v allowed after the quarantine: %+v", f, v)
		}
	}
	if cs := r.srv.Conns(); len(cs) != 0 {
		t.Errorf("live connections after clear conn: %+v", cs)
	}
	if !slices.Contains(r.srv.Shuns(), host) {
		t.Errorf("shuns %v", r.srv.Shuns())
	}
	// Others are untouched.
	if got := r.keptExcept(host); !slices.Equal(got, keep) {
		t.Errorf("kept flows %v, before %v", got, keep)
	}
}

func sanFinding(client string) detect.Finding {
	f := critical("f1", client)
	f.Key = "san_crossing|" + client
	f.Detector, f.Severity = detect.DetectorSANCrossing, detect.SeverityHigh
	f.Subject.Peer = netip.MustParseAddr("10.50.0.10")
	return f
}

// SAN traffic the policy does not allow is denied where it enters; no
// route is deleted.
func TestSANFlowNotAllowedIsDenied(t *testing.T) {
	r := newRig(t, rigOpts{})
	flow := fakeasa.Flow{Interface: "dmz", Proto: "tcp", Src: netip.MustParseAddr("172.16.20.10"), SrcPort: 40800, Dst: netip.MustParseAddr("10.50.0.10"), DstPort: 3260}
	if !r.trace(flow).Allowed {
		t.Fatal("dropped before")
	}
	keep := r.keptExcept(netip.MustParseAddr("10.50.0.10"))
	f := sanFinding("172.16.20.10")
	f.Subject.Proto, f.Subject.Port = 6, 3260
	ps := r.propose(f)
	if len(ps) != 1 || ps[0].Kind != remediate.KindSANFix {
		t.Fatalf("proposals %+v", ps)
	}
	p := r.pushOK(ps[0].ID)
	if got := r.keptExcept(netip.MustParseAddr("10.50.0.10")); !slices.Equal(got, keep) {
		t.Errorf("kept flows %v, before %v", got, keep)
	}
	flow.SrcPort++
	if v := r.trace(flow); v.Allowed || v.ACL != "DMZ_IN" {
		t.Errorf("after: %+v", v)
	}
	if !strings.Contains(r.srv.Running(), "route outside 10.50.0.0 255.255.255.0 198.51.100.6 1") {
		t.Error("a route was deleted")
	}
	_ = p
}

// SAN traffic the policy allows: without a gateway in the policy only an
// advisory naming the host and the router; with networks[].gateway the
// route is moved to it, and nothing else.
func TestSANAllowedFlowNeedsAGateway(t *testing.T) {
	allow := func(y string) string {
		return strings.Replace(y, "flows:\n", "flows:\n  - {from: dmz, to: san, ports: [tcp/3260]}\n", 1)
	}
	r := newRig(t, rigOpts{policy: allow})
	f := sanFinding("172.16.20.10")
	f.Subject.Proto, f.Subject.Port = 6, 3260
	ps := r.propose(f)
	d := r.approve(ps[0].ID)
	if len(d.Lines) != 0 || !strings.Contains(d.Advisory, "172.16.20.10") || !strings.Contains(d.Advisory, "gateway") {
		t.Errorf("without a gateway: lines %q advisory %q", d.Lines, d.Advisory)
	}

	r2 := newRig(t, rigOpts{policy: sanGateway})
	ps2 := r2.propose(f)
	d2 := r2.approve(ps2[0].ID)
	if !slices.Equal(d2.Lines, []string{"no route outside 10.50.0.0 255.255.255.0 198.51.100.6 1", "route inside 10.50.0.0 255.255.255.0 10.20.0.254 1"}) {
		t.Errorf("with a gateway: %q", d2.Lines)
	}
	res, err := r2.m.Push(context.Background(), ps2[0].ID, operator)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r2.srv.Running(), "route inside 10.50.0.0 255.255.255.0 10.20.0.254 1") {
		t.Error("route not moved")
	}
	// The device's routing table was read before and after: the SAN left
	// the ISP's router for the policy's next hop.
	rc := res.Proposal.RouteCheck
	if rc == nil || rc.Command != "show route 10.50.0.0" || !rc.OK ||
		rc.Before != "10.50.0.0/24 static via 198.51.100.6 (outside)" || rc.After != "10.50.0.0/24 static via 10.20.0.254 (inside)" {
		t.Fatalf("route check %+v", rc)
	}
	if got := r2.get(ps2[0].ID).RouteCheck; got == nil || *got != *rc {
		t.Errorf("stored route check %+v", got)
	}
	audit, err := r2.m.Audit(context.Background(), ps2[0].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(audit, func(e remediate.AuditEntry) bool {
		return e.Action == remediate.ActionVerify && strings.Contains(e.Comment, "show route 10.50.0.0: before 10.50.0.0/24 static via 198.51.100.6 (outside); after 10.50.0.0/24 static via 10.20.0.254 (inside): ok")
	}) {
		t.Errorf("audit lacks the route check: %+v", audit)
	}
}

// sanGateway allows dmz -> san iSCSI and names the SAN's router.
func sanGateway(y string) string {
	y = strings.Replace(y, "flows:\n", "flows:\n  - {from: dmz, to: san, ports: [tcp/3260]}\n", 1)
	return strings.Replace(y, "{name: san, role: san, prefixes: [10.50.0.0/24]}", "{name: san, role: san, prefixes: [10.50.0.0/24], gateway: 10.20.0.254}", 1)
}

// A route change the device does not take (its interface is down, so the
// new route is not installed and the SAN follows the default route) fails
// the route check after the push: it is rolled back and the results are
// kept with the proposal and in the audit log.
func TestSANRouteChangeNotTakenRollsBack(t *testing.T) {
	r := newRig(t, rigOpts{policy: sanGateway})
	f := sanFinding("172.16.20.10")
	f.Subject.Proto, f.Subject.Port = 6, 3260
	ps := r.propose(f)
	r.approve(ps[0].ID)
	r.srv.SetLink("inside", false) // after the approval: the config is unchanged
	res, err := r.m.Push(context.Background(), ps[0].ID, operator)
	if !errors.Is(err, devices.ErrVerify) {
		t.Fatalf("push: %v, want ErrVerify", err)
	}
	p := r.get(ps[0].ID)
	if p.State != remediate.StateFailed || !strings.Contains(p.LastError, "rolled back") || res.Proposal.State != remediate.StateFailed {
		t.Errorf("state %s, last error %q", p.State, p.LastError)
	}
	if r.srv.Running() != r.start {
		t.Errorf("not rolled back:\n%s", r.srv.Running())
	}
	rc := p.RouteCheck
	if rc == nil || rc.OK || rc.Before != "10.50.0.0/24 static via 198.51.100.6 (outside)" || rc.After != "0.0.0.0/0 static via 198.51.100.1 (outside)" ||
		rc.Want != "10.50.0.0/24 via 10.20.0.254 (inside)" {
		t.Fatalf("route check %+v", rc)
	}
	audit, _ := r.m.Audit(context.Background(), ps[0].ID, 0)
	if !slices.ContainsFunc(audit, func(e remediate.AuditEntry) bool {
		return e.Action == remediate.ActionVerify && strings.Contains(e.Comment, "MISMATCH, want 10.50.0.0/24 via 10.20.0.254 (inside)")
	}) {
		t.Errorf("audit lacks the failed route check: %+v", audit)
	}
}

// A change whose flows the model cannot show dropped is stored as
// ineffective with the reason when the device's config is known, and is
// never approved.
func TestIneffectiveChangeIsNeverOffered(t *testing.T) {
	r := newRig(t, rigOpts{})
	f := exfil("f1")
	f.Subject.Peer = netip.MustParseAddr("2001:db8::5")
	f.Evidence.Lines = nil
	cfg, err := asaconfig.Parse([]byte(r.start))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := r.m.Propose(context.Background(), operator, []detect.Finding{f}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].State != remediate.StateRejected || ps[0].Effect == nil || !strings.Contains(ps[0].Refusal, "does not drop") {
		t.Fatalf("proposals %+v", ps)
	}
	audit, _ := r.m.Audit(context.Background(), ps[0].ID, 0)
	if len(audit) == 0 || audit[len(audit)-1].Action != remediate.ActionIneffective {
		t.Errorf("audit %+v", audit)
	}
	// Proposed without the config, the approval's dry run refuses it.
	f.Key += "|again"
	ps = r.propose(f)
	running, _ := r.m.Running(context.Background(), "")
	if _, _, err := r.m.Approve(context.Background(), ps[0].ID, operator, "", running); !errors.Is(err, remediate.ErrIneffective) {
		t.Errorf("approve: %v, want ErrIneffective", err)
	}
}

// A scanner whose probes the ACL already denies gains nothing from a block:
// it is stored as ineffective with the rule that already drops them, and
// is never approvable. (A scanner with a connection to an open service is
// an effective block: TestScanBlockAndShunSemantics.)
func TestScanAlreadyDroppedIsIneffective(t *testing.T) {
	r := newRig(t, rigOpts{})
	f := scan("f1", "203.0.113.7")
	f.Evidence.Lines = []string{
		"<162>Mar 02 2026 09:00:00 fw1 : %ASA-4-106023: Deny tcp src outside:203.0.113.7/40600 dst inside:10.20.0.10/8443 by access-group \"OUTSIDE_IN\" [0x0, 0x0]",
		"<162>Mar 02 2026 09:00:01 fw1 : %ASA-4-106023: Deny tcp src outside:203.0.113.7/40601 dst inside:10.20.0.10/3389 by access-group \"OUTSIDE_IN\" [0x0, 0x0]",
	}
	cfg, err := asaconfig.Parse([]byte(r.start))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := r.m.Propose(context.Background(), operator, []detect.Finding{f}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Kind != remediate.KindBlock || len(ps[0].Flows) != 2 {
		t.Fatalf("proposals %+v", ps)
	}
	p := ps[0]
	want := "all 2 flows already dropped by OUTSIDE_IN line 5; the ACL already stops this peer"
	if p.State != remediate.StateRejected || p.Effect == nil || p.Effect.Ineffective != want || !strings.Contains(p.Refusal, want) {
		t.Fatalf("state %s, effect %+v, refusal %q", p.State, p.Effect, p.Refusal)
	}
	for _, fe := range p.Effect.FindingFlows() {
		if fe.Before.Action != datapath.Drop || fe.Before.Rule == nil || fe.Before.Rule.ACL != "OUTSIDE_IN" {
			t.Errorf("before: %s", fe)
		}
		// The fake agrees: the probe is dropped by the ACL today.
		if v := r.trace(fakeFlow(fe.Flow, "outside")); v.Allowed || v.ACL != "OUTSIDE_IN" {
			t.Errorf("the fake on %s: %+v", fe.Flow, v)
		}
	}
	audit, _ := r.m.Audit(context.Background(), p.ID, 0)
	if len(audit) == 0 || audit[len(audit)-1].Action != remediate.ActionIneffective || !strings.Contains(audit[len(audit)-1].Comment, want) {
		t.Errorf("audit %+v", audit)
	}
	running, _ := r.m.Running(context.Background(), "")
	if _, _, err := r.m.Approve(context.Background(), p.ID, operator, "", running); err == nil {
		t.Error("an ineffective block was approved")
	}
	// Proposed without the device's config, the approval's dry run refuses it.
	f.Key += "|again"
	q := r.propose(f)[0]
	if q.State != remediate.StateProposed {
		t.Fatalf("without config: %s", q.State)
	}
	if _, _, err := r.m.Approve(context.Background(), q.ID, operator, "", running); !errors.Is(err, remediate.ErrIneffective) || !strings.Contains(err.Error(), want) {
		t.Errorf("approve: %v, want ErrIneffective (%s)", err, want)
	}
	if len(configLines(r.srv.Log())) != 0 {
		t.Error("device touched")
	}
}

// A SAN that is a connected subnet of the ASA involves no route: with an
// allowed flow and a gateway in the policy nothing is sent (an advisory
// says where to fix it) and the device's table is unchanged.
func TestSANConnectedSubnetChangesNoRoute(t *testing.T) {
	r := newRig(t, rigOpts{policy: sanGateway, fake: func(c *fakeasa.Config) {
		c.RunningConfig = strings.Replace(c.RunningConfig, "interface Management0/0\n",
			"interface Ethernet0/3\n nameif san\n security-level 90\n ip address 10.50.0.1 255.255.255.0\n!\ninterface Management0/0\n", 1)
		c.RunningConfig = strings.Replace(c.RunningConfig, "route outside 10.50.0.0 255.255.255.0 198.51.100.6 1\n", "", 1)
	}})
	f := sanFinding("172.16.20.10")
	f.Subject.Proto, f.Subject.Port = 6, 3260
	ps := r.propose(f)
	if len(ps) != 1 || ps[0].Kind != remediate.KindSANFix {
		t.Fatalf("proposals %+v", ps)
	}
	d := r.approve(ps[0].ID)
	if len(d.Lines) != 0 || !slices.ContainsFunc(d.Notes, func(n string) bool { return strings.Contains(n, "connected subnet of san") }) || !strings.Contains(d.Advisory, "172.16.20.10") {
		t.Errorf("lines %q notes %q advisory %q", d.Lines, d.Notes, d.Advisory)
	}
	res, err := r.m.Push(context.Background(), ps[0].ID, operator)
	if err != nil {
		t.Fatal(err)
	}
	if res.Proposal.State != remediate.StateApplied || res.Proposal.RouteCheck != nil || r.srv.Running() != r.start {
		t.Errorf("state %s, route check %+v, config changed: %v", res.Proposal.State, res.Proposal.RouteCheck, r.srv.Running() != r.start)
	}
	if len(configLines(r.srv.Log())) != 0 {
		t.Errorf("sent %q", configLines(r.srv.Log()))
	}
}

// Traffic that enters and leaves by one interface (hosts on the inside
// VLAN, or routed by a 2921) never crosses the ASA: a quarantine there is
// stored ineffective with the advice to isolate the host elsewhere.
func TestQuarantineOfTrafficNotCrossingTheASAIsIneffective(t *testing.T) {
	r := newRig(t, rigOpts{})
	f := critical("f1", "10.20.0.33") // 10.20.0.30 is the logging host (protected)
	f.Subject.Peer, f.Subject.Proto, f.Subject.Port = netip.MustParseAddr("10.20.0.40"), 6, 445
	cfg, err := asaconfig.Parse([]byte(r.start))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := r.m.Propose(context.Background(), operator, []detect.Finding{f}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Kind != remediate.KindQuarantine || ps[0].State != remediate.StateRejected ||
		ps[0].Effect == nil || !strings.Contains(ps[0].Effect.Ineffective, "none of its flows crosses the ASA") {
		t.Fatalf("proposals %+v", ps)
	}
	fe := ps[0].Effect.FindingFlows()
	if len(fe) != 1 || fe[0].Before.Ingress != "inside" || fe[0].Before.Egress != "inside" {
		t.Errorf("flows %+v", fe)
	}
}
