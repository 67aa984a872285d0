package remediate_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/remediate"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestProposeMapping(t *testing.T) {
	r := newRig(t, rigOpts{})
	f := func(det string, sev detect.Severity, host, peer string) detect.Finding {
		s := detect.Subject{}
		if host != "" {
			s.Host = addr(host)
		}
		if peer != "" {
			s.Peer = addr(peer)
		}
		return detect.Finding{ID: det + host + peer, Key: det + "|" + host + "|" + peer, Detector: det, Severity: sev, Subject: s}
	}
	tests := []struct {
		name   string
		f      detect.Finding
		kinds  []remediate.Kind
		target string
	}{
		{"scan", f(detect.DetectorPortScan, detect.SeverityLow, "", "203.0.113.20"), []remediate.Kind{remediate.KindBlock}, "203.0.113.20/32"},
		{"unusual ports", f(detect.DetectorUnusualPorts, detect.SeverityMedium, "10.20.0.40", "203.0.113.21"), []remediate.Kind{remediate.KindBlock}, "203.0.113.21/32"},
		{"exfil", f(detect.DetectorVolumeSpike, detect.SeverityHigh, "10.20.0.41", "203.0.113.22"), []remediate.Kind{remediate.KindBlock}, "203.0.113.22/32"},
		{"external term alone: advisory", f(detect.DetectorSignificantTerms, detect.SeverityLow, "", "203.0.113.23"), []remediate.Kind{remediate.KindAdvisory}, "203.0.113.23/32"},
		{"site volume, no peer", f(detect.DetectorVolumeSpike, detect.SeverityHigh, "10.20.0.41", ""), nil, ""},
		{"internal peer is not blocked", f(detect.DetectorPortScan, detect.SeverityLow, "", "10.20.0.99"), nil, ""},
		{"segment high: advisory", f(detect.DetectorSegmentViolation, detect.SeverityHigh, "10.20.0.42", "10.99.0.10"), []remediate.Kind{remediate.KindAdvisory}, "10.20.0.42/32"},
		{"segment critical: quarantine", f(detect.DetectorSegmentViolation, detect.SeverityCritical, "10.20.0.43", "10.99.0.10"), []remediate.Kind{remediate.KindQuarantine}, "10.20.0.43/32"},
		{"san", f(detect.DetectorSANCrossing, detect.SeverityHigh, "172.16.20.10", "10.50.0.10"), []remediate.Kind{remediate.KindSANFix}, "10.50.0.0/24"},
		{"san critical", f(detect.DetectorSANCrossing, detect.SeverityCritical, "172.16.20.11", "10.50.0.10"), []remediate.Kind{remediate.KindSANFix, remediate.KindQuarantine}, ""},
		{"dns", f(detect.DetectorDNSUnapproved, detect.SeverityMedium, "10.20.0.44", "9.9.9.9"), []remediate.Kind{remediate.KindAdvisory}, "10.20.0.44/32"},
		{"silent", f(detect.DetectorSilentHost, detect.SeverityMedium, "10.20.0.45", ""), nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := r.m.Propose(context.Background(), operator, []detect.Finding{tc.f}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []remediate.Kind
			for _, p := range ps {
				kinds = append(kinds, p.Kind)
				if !slices.ContainsFunc(p.Findings, func(r remediate.FindingRef) bool { return r.Key == tc.f.Key }) {
					t.Errorf("%s not tied to its finding: %+v", p.ID, p.Findings)
				}
			}
			if strings.Join(kindStrings(kinds), ",") != strings.Join(kindStrings(tc.kinds), ",") {
				t.Fatalf("kinds %v, want %v", kinds, tc.kinds)
			}
			if tc.target != "" && ps[0].Target.String() != tc.target {
				t.Errorf("target %v, want %s", ps[0].Target, tc.target)
			}
		})
	}
}

func kindStrings(ks []remediate.Kind) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

func TestProposeDedupes(t *testing.T) {
	r := newRig(t, rigOpts{})
	first := r.propose(scan("f1", "203.0.113.7"))
	again := r.propose(scan("f1", "203.0.113.7"))
	if len(again) != 0 {
		t.Errorf("the same finding again changed %v", again)
	}
	other := scan("f2", "203.0.113.7")
	other.Key = "unusual_ports|203.0.113.7"
	upd := r.propose(other)
	if len(upd) != 1 || upd[0].ID != first[0].ID || len(upd[0].Findings) != 2 {
		t.Fatalf("update = %+v, want %s with two findings", upd, first[0].ID)
	}
	all, _ := r.m.List(context.Background())
	if len(all) != 1 {
		t.Errorf("%d proposals, want 1", len(all))
	}
	// A rejected proposal is not proposed again for the same finding.
	if _, err := r.m.Reject(context.Background(), first[0].ID, operator, "known scanner, harmless"); err != nil {
		t.Fatal(err)
	}
	if ps := r.propose(scan("f1", "203.0.113.7")); len(ps) != 0 {
		t.Errorf("re-proposed after rejection: %+v", ps)
	}
}

// Protected hosts are never blocked: the policy's list, what the policy
// implies, and what the device's running config shows.
func TestProtectedNeverBlocked(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	running, err := asaconfig.Parse([]byte(r.start))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{
		"203.0.113.10": "policy protected",
		"192.0.2.123":  "NTP server",
		"192.0.2.200":  "logging host",
		"198.51.100.1": "gateway",
		"198.51.100.2": "interface address",
		"192.0.2.50":   "management permit",
		"127.0.0.1":    "device ssh address",
	}
	quarantines := map[string]string{
		"10.20.0.5":  "policy protected",
		"10.20.0.10": "DNS and NTP",
		"10.20.0.15": "AAA",
		"10.20.0.30": "logging host",
		"10.20.0.1":  "interface address",
		"10.99.0.10": "management network",
	}
	var fs []detect.Finding
	for a := range blocks {
		fs = append(fs, scan("b"+a, a))
	}
	for a := range quarantines {
		fs = append(fs, critical("q"+a, a))
	}
	ps, err := r.m.Propose(ctx, operator, fs, running)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.State != remediate.StateRejected || p.Refusal == "" {
			t.Errorf("%s %v: state %s refusal %q, want refused", p.Kind, p.Target, p.State, p.Refusal)
		}
	}
	// 127.0.0.1 is not an external address (not proposed at all); all others are refused.
	if want := len(blocks) - 1 + len(quarantines); len(ps) != want {
		t.Errorf("%d proposals, want %d", len(ps), want)
	}
	audit, _ := r.m.Audit(ctx, "", 0)
	for _, e := range audit {
		if e.Action != remediate.ActionRefuse || !strings.Contains(e.Comment, "protected") {
			t.Errorf("audit %+v, want a recorded refusal", e)
		}
	}
	// Proposed without the running config, a self-protected target is
	// still refused at the dry run and approval.
	f := scan("x", "192.0.2.123")
	f.Key = "unusual_ports|192.0.2.123"
	p := r.propose(f)[0]
	if p.State != remediate.StateProposed {
		t.Fatalf("state %s", p.State)
	}
	if _, err := r.m.Diff(ctx, p.ID, r.start); !errors.Is(err, asaconfig.ErrProtected) {
		t.Errorf("diff: %v, want ErrProtected", err)
	}
	if _, _, err := r.m.Approve(ctx, p.ID, operator, "", r.start); !errors.Is(err, asaconfig.ErrProtected) {
		t.Errorf("approve: %v, want ErrProtected", err)
	}
	if len(configLines(r.srv.Log())) != 0 {
		t.Error("device touched")
	}
}

// Text from syslog (user names, titles, raw lines) and from people
// (comments, actor names) never reaches the device.
func TestInjectionNeverReachesCLI(t *testing.T) {
	// The public service by its real address (the model has no NAT), so
	// the scanner's connection to it is one the block stops.
	r := newRig(t, rigOpts{fake: func(c *fakeasa.Config) {
		c.RunningConfig = strings.Replace(c.RunningConfig, "host 198.51.100.4 eq https", "host 172.16.20.11 eq https", 1)
	}})
	ctx := context.Background()
	evil := "x\nroute outside 0.0.0.0 0.0.0.0 1.2.3.4"
	f := scan("f1\nno access-list OUTSIDE_IN", "203.0.113.7")
	f.Subject.User = evil
	f.Title = evil
	f.Key = "port_scan|" + evil
	f.Evidence = detect.Evidence{Summary: evil, Lines: []string{evil, "%ASA-6-302013: Built inbound TCP connection 11 for outside:203.0.113.7/40500 (203.0.113.7/40500) to dmz:172.16.20.11/443 (172.16.20.11/443)\r\nwrite erase"}}
	ps, err := r.m.Propose(ctx, evil, []detect.Finding{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	running, _ := r.m.Running(ctx, "")
	if _, _, err := r.m.Approve(ctx, p.ID, "bob\nclear configure all", "ok\r\nwrite erase", running); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.Push(ctx, p.ID, "bob\nreload"); err != nil {
		t.Fatal(err)
	}
	for _, l := range r.srv.Log() {
		if strings.Contains(l, "1.2.3.4") || strings.Contains(l, "route") || strings.Contains(l, "erase") ||
			strings.Contains(l, "clear configure") || strings.Contains(l, "reload") || strings.Contains(l, "no access-list") {
			t.Errorf("hostile text reached the device: %q", l)
		}
	}
	if strings.Contains(r.srv.Running(), "1.2.3.4") {
		t.Error("hostile route in the config")
	}
	if got := display.Text(evil); strings.ContainsAny(got, "\n\r") {
		t.Errorf("Display(%q) = %q keeps a line break", evil, got)
	}

	// A tampered store cannot smuggle text in either: the codec is strict
	// and every line is validated before it is sent.
	q := r.propose(scan("f9", "203.0.113.9"))[0]
	r.approve(q.ID)
	tampered := []string{
		`[{"kind":"add-route","route":{"interface":"outside\nroute outside 0.0.0.0 0.0.0.0 1.2.3.4","dest":"10.9.0.0/24","gateway":"198.51.100.1","distance":1}}]`,
		`[{"kind":"add-remark","acl":"OUTSIDE_IN","line":1,"remark":{"proposal_id":"p-1\nreload","kind":"block"}}]`,
		`[{"kind":"add-member","group":"G\u000dreload","member":{"kind":"host","prefix":"203.0.113.9/32"}}]`,
		`[{"kind":"add-member","group":"G reload","member":{"kind":"host","prefix":"203.0.113.9/32"}}]`,
	}
	for _, raw := range tampered {
		err := r.st.Update(ctx, func(tx *stats.RecordTx) error {
			var p remediate.Proposal
			if _, err := tx.Get(remediate.NSProposals, q.ID, &p); err != nil {
				return err
			}
			p.Approval.Changes = json.RawMessage(raw)
			return tx.Put(remediate.NSProposals, q.ID, p, 0)
		})
		if err != nil {
			t.Fatal(err)
		}
		before := len(r.srv.Log())
		if _, err := r.m.Push(ctx, q.ID, operator); err == nil {
			t.Errorf("tampered changes %s pushed", raw)
		}
		if n := len(r.srv.Log()); n != before {
			t.Errorf("tampered changes %s reached the device: %q", raw, r.srv.Log()[before:])
		}
	}
}

func TestExpiryProposesRemoval(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	if _, err := r.m.Push(ctx, p.ID, operator); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(23 * time.Hour)
	res, err := r.m.Expire(ctx, r.clk.Now())
	if err != nil || len(res.Removals) != 0 {
		t.Fatalf("before the end: %+v %v", res, err)
	}
	r.clk.Add(2 * time.Hour)
	res, err = r.m.Expire(ctx, r.clk.Now())
	if err != nil || len(res.Removals) != 1 {
		t.Fatalf("Expire = %+v, %v", res, err)
	}
	rm := res.Removals[0]
	if rm.Kind != remediate.KindRemoval || rm.State != remediate.StateProposed || rm.RemovalOf != p.ID {
		t.Fatalf("removal %+v", rm)
	}
	// Not twice.
	if res, _ := r.m.Expire(ctx, r.clk.Now()); len(res.Removals) != 0 {
		t.Errorf("second Expire created %d removals", len(res.Removals))
	}
	d := r.approve(rm.ID)
	if d.ElementsAfter != d.ElementsBefore-1 {
		t.Errorf("elements %d -> %d", d.ElementsBefore, d.ElementsAfter)
	}
	if _, err := r.m.Push(ctx, rm.ID, operator); err != nil {
		t.Fatal(err)
	}
	if got := r.get(p.ID); got.State != remediate.StateExpired {
		t.Errorf("original %s, want expired", got.State)
	}
	if got := r.srv.Running(); got != r.start {
		t.Errorf("block not removed exactly:\n%s", got)
	}
}

func TestExpiryAutoRemoveAndShun(t *testing.T) {
	r := newRig(t, rigOpts{remediation: "  block_duration: 2h\n  auto_remove_on_expiry: true\n  use_shun: true\n  shun_duration: 30m\n"})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	if !p.Shun {
		t.Fatal("use_shun did not ask for a shun")
	}
	d := r.approve(p.ID)
	if len(d.ExecLines) != 1 || d.ExecLines[0] != "shun 203.0.113.7" {
		t.Errorf("exec lines %q", d.ExecLines)
	}
	if _, err := r.m.Push(ctx, p.ID, operator); err != nil {
		t.Fatal(err)
	}
	if s := r.srv.Shuns(); len(s) != 1 || s[0] != addr("203.0.113.7") {
		t.Fatalf("shuns %v", s)
	}
	r.clk.Add(31 * time.Minute)
	res, err := r.m.Expire(ctx, r.clk.Now())
	if err != nil || len(res.Unshunned) != 1 || len(r.srv.Shuns()) != 0 {
		t.Fatalf("shun not ended: %+v %v %v", res, err, r.srv.Shuns())
	}
	r.clk.Add(2 * time.Hour)
	res, err = r.m.Expire(ctx, r.clk.Now())
	if err != nil || len(res.Removals) != 1 || res.Removals[0].State != remediate.StateApplied {
		t.Fatalf("auto removal: %+v %v", res, err)
	}
	if got := r.get(p.ID); got.State != remediate.StateExpired {
		t.Errorf("original %s", got.State)
	}
	if got := r.srv.Running(); got != r.start {
		t.Errorf("not removed exactly:\n%s", got)
	}
	audit, _ := r.m.Audit(ctx, res.Removals[0].ID, 0)
	if audit[1].Action != remediate.ActionApprove || audit[1].Who != remediate.System {
		t.Errorf("auto removal approval %+v", audit[1])
	}
}

func TestRevertAndTransitions(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	ps := r.propose(critical("f1", "10.20.0.77"), scan("f2", "203.0.113.8"))
	q, b := ps[0], ps[1]
	if _, err := r.m.Revert(ctx, q.ID, operator, ""); !errors.Is(err, remediate.ErrTransition) {
		t.Errorf("revert of a proposed: %v", err)
	}
	r.approve(q.ID)
	if _, err := r.m.Push(ctx, q.ID, operator); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.srv.Running(), "access-list INSIDE_IN extended deny ip host 10.20.0.77 any\n") {
		t.Fatalf("quarantine missing:\n%s", r.srv.Running())
	}
	if _, err := r.m.Reject(ctx, q.ID, operator, "too late"); !errors.Is(err, remediate.ErrTransition) {
		t.Errorf("reject of applied: %v", err)
	}
	res, err := r.m.Revert(ctx, q.ID, operator, "false positive")
	if err != nil {
		t.Fatal(err)
	}
	if res.Proposal.State != remediate.StateApplied || r.get(q.ID).State != remediate.StateReverted {
		t.Errorf("removal %s, original %s", res.Proposal.State, r.get(q.ID).State)
	}
	if r.srv.Running() != r.start {
		t.Errorf("not reverted exactly:\n%s", r.srv.Running())
	}
	if _, err := r.m.Reject(ctx, b.ID, operator, ""); err == nil {
		t.Error("reject without a reason")
	}
	if _, err := r.m.Reject(ctx, b.ID, operator, "no"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.m.Approve(ctx, b.ID, operator, "", r.start); !errors.Is(err, remediate.ErrTransition) {
		t.Errorf("approve of rejected: %v", err)
	}
	for from, tos := range remediate.Transitions {
		for _, to := range tos {
			if !remediate.CanMove(from, to) {
				t.Errorf("CanMove(%s, %s) false", from, to)
			}
		}
	}
}

// The audit log is append-only and complete: every state a proposal went
// through is a chain of entries, and later work never changes earlier ones.
func TestAuditAppendOnlyAndComplete(t *testing.T) {
	r := newRig(t, rigOpts{})
	ctx := context.Background()
	p := r.propose(scan("f1", "203.0.113.7"))[0]
	r.approve(p.ID)
	snap, _ := r.m.Audit(ctx, "", 0)
	if _, err := r.m.Push(ctx, p.ID, operator); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.Revert(ctx, p.ID, "carol", "done"); err != nil {
		t.Fatal(err)
	}
	all, err := r.m.Audit(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range snap {
		if all[i] != e {
			t.Errorf("entry %d changed: %+v -> %+v", i, e, all[i])
		}
	}
	states := map[string]remediate.State{}
	var last uint64
	for _, e := range all {
		if e.Seq <= last {
			t.Errorf("sequence %d after %d", e.Seq, last)
		}
		last = e.Seq
		if e.Who == "" || e.At.IsZero() {
			t.Errorf("entry without who or when: %+v", e)
		}
		if states[e.Proposal] != e.From {
			t.Errorf("%s: entry from %q but state was %q", e.Proposal, e.From, states[e.Proposal])
		}
		states[e.Proposal] = e.To
	}
	ps, _ := r.m.List(ctx)
	for _, p := range ps {
		if states[p.ID] != p.State {
			t.Errorf("%s is %s, audit ends at %s", p.ID, p.State, states[p.ID])
		}
	}
}

// A DMZ host is quarantined on the ACL of the interface it sits behind.
func TestQuarantineUsesTheHostsInterface(t *testing.T) {
	r := newRig(t, rigOpts{})
	f := critical("f1", "172.16.20.11")
	f.Detector = detect.DetectorSANCrossing
	f.Subject.Peer = addr("10.50.0.10")
	ps := r.propose(f)
	if len(ps) != 2 || ps[1].Kind != remediate.KindQuarantine {
		t.Fatalf("proposals %+v", ps)
	}
	d, err := r.m.Diff(context.Background(), ps[1].ID, r.start)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Lines) == 0 || d.Lines[0] != "access-list DMZ_IN line 1 extended deny ip host 172.16.20.11 any" || d.ACL != "DMZ_IN" {
		t.Errorf("lines %q on %s", d.Lines, d.ACL)
	}
	// The policy allows no DMZ -> SAN traffic: the SAN fix denies the flow
	// where it enters the ASA and never deletes the route on its own.
	s, err := r.m.Diff(context.Background(), ps[0].ID, r.start)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Lines) != 2 || s.Lines[0] != "access-list DMZ_IN line 1 extended deny ip host 172.16.20.11 host 10.50.0.10" ||
		!strings.Contains(s.Advisory, "172.16.20.11") || slices.ContainsFunc(s.Lines, func(l string) bool { return strings.HasPrefix(l, "route ") || strings.HasPrefix(l, "no route ") }) {
		t.Errorf("SAN fix lines %q advisory %q", s.Lines, s.Advisory)
	}
}
