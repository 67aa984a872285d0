package main

import (
	"encoding/json"
	"net/netip"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/remediate"
)

// block → approve → push over SSH to the fake ASA drops the address both ways; unblock →
// approve → push permits it again; protected and malformed targets are refused.
func TestBlockUnblockCLIOverSSH(t *testing.T) {
	srv, dir, base := cliRig(t, "")
	cli := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runCLI(t, "", append(append([]string{}, base...), args...)...)
		if code != wantCode {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errOut)
		}
		return out, errOut
	}
	addr := netip.MustParseAddr("192.0.2.77")
	outbound := fakeasa.Flow{Interface: "inside", Proto: "tcp", Src: netip.MustParseAddr("10.20.0.30"), SrcPort: 41000, Dst: addr, DstPort: 443}
	inbound := fakeasa.Flow{Interface: "outside", Proto: "tcp", Src: addr, SrcPort: 41000, Dst: netip.MustParseAddr("10.20.0.30"), DstPort: 22}
	trace := func(f fakeasa.Flow) fakeasa.Verdict {
		t.Helper()
		v, err := srv.Trace(f)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if !trace(outbound).Allowed {
		t.Fatal("the inside host cannot reach the address before the block")
	}
	before := trace(inbound)

	out, _ := cli(0, "block", "192.0.2.77", "--for", "2h", "--reason", "phishing landing page, ticket 4471")
	if !strings.Contains(out, "p-0001: block 192.0.2.77/32 on fw1 for 2h0m0s") {
		t.Errorf("block:\n%s", out)
	}
	if out, _ := cli(0, "block", "192.0.2.77", "--reason", "again"); !strings.Contains(out, "p-0001 already blocks 192.0.2.77/32 (proposed)") {
		t.Errorf("second block:\n%s", out)
	}
	list := func(target string) []remediate.Proposal {
		t.Helper()
		out, _ := cli(0, "proposals", "list", "--json", "--target", target)
		var ps []remediate.Proposal
		if err := json.Unmarshal([]byte(out), &ps); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	ps := list("192.0.2.0/24")
	if len(ps) != 1 || ps[0].Origin != remediate.OriginManual || ps[0].Duration.Hours() != 2 || len(ps[0].Flows) == 0 {
		t.Fatalf("list --target 192.0.2.0/24: %+v", ps)
	}
	if ps := list("203.0.113.1"); len(ps) != 0 {
		t.Errorf("list --target 203.0.113.1: %+v", ps)
	}
	cli(2, "proposals", "list", "--target", "192.0.2.300")

	diff, _ := cli(0, "proposals", "diff", "p-0001")
	for _, want := range []string{"access-list OUTSIDE_IN line", "deny ip host 192.0.2.77 any", "access-list INSIDE_IN line", "deny ip any host 192.0.2.77",
		"192.0.2.77 -> 10.20.0.10 tcp/443", "10.20.0.10 -> 192.0.2.77 tcp/443: permitted"} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	cli(0, "proposals", "approve", "p-0001", "--comment", "confirmed")
	if out, _ := cli(0, "proposals", "push", "p-0001"); !strings.Contains(out, "applied, verified and saved") {
		t.Errorf("push:\n%s", out)
	}
	if v := trace(outbound); v.Allowed || v.ACL != "INSIDE_IN" {
		t.Errorf("after the block, inside -> address: %+v, want dropped by INSIDE_IN", v)
	}
	if v := trace(inbound); v.Allowed || v.ACL != "OUTSIDE_IN" || v.Line == before.Line {
		t.Errorf("after the block, address -> inside: %+v, want dropped by the block's OUTSIDE_IN entry (before: line %d)", v, before.Line)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	audit, _ := cli(0, "proposals", "audit", "p-0001")
	if !strings.Contains(audit, me.Username) || !strings.Contains(audit, "manual block: phishing landing page") {
		t.Errorf("audit does not name the proposer %s and the reason:\n%s", me.Username, audit)
	}

	// Shell completion offers the applied block's address.
	if out, _ := cli(0, "__complete", "unblock", ""); !strings.Contains(out, "192.0.2.77\tp-0001 manual block: phishing") {
		t.Errorf("completion of unblock:\n%s", out)
	}
	cli(2, "unblock", "192.0.2.77/24") // host bits
	if _, errOut := cli(1, "unblock", "192.0.2.0/24"); !strings.Contains(errOut, "no applied block") || !strings.Contains(errOut, "p-0001 blocks 192.0.2.77/32") {
		t.Errorf("unblock of a wider prefix: %s", errOut)
	}
	out, _ = cli(0, "unblock", "192.0.2.77", "--comment", "false positive")
	if !strings.Contains(out, "p-0002: removal of p-0001") {
		t.Errorf("unblock:\n%s", out)
	}
	if ps := list("192.0.2.77"); len(ps) != 2 || ps[1].Kind != remediate.KindRemoval {
		t.Errorf("list --target after unblock: %+v", ps)
	}
	cli(0, "proposals", "approve", "p-0002", "--comment", "ok")
	cli(0, "proposals", "push", "p-0002")
	if srv.Running() != proposalsASA {
		t.Errorf("unblock left:\n%s", srv.Running())
	}
	if !trace(outbound).Allowed {
		t.Error("the address is still dropped after the unblock")
	}
	if show, _ := cli(0, "proposals", "show", "p-0001"); !strings.Contains(show, "state      reverted") || !strings.Contains(show, "origin     manual") {
		t.Errorf("show p-0001:\n%s", show)
	}
	if _, errOut := cli(1, "unblock", "192.0.2.77"); !strings.Contains(errOut, "no applied block") {
		t.Errorf("second unblock: %s", errOut)
	}

	// Refusals name the class and are recorded as rejected proposals.
	for _, c := range []struct{ addr, want string }{
		{"10.20.0.5", "protected"},
		{"10.20.0.1", "device fw1"},
		{"100.64.1.1", "shared address space"},
		{"10.20.0.77", "site's network servers"},
		{"192.0.0.0/8", "broader than"},
	} {
		_, errOut := cli(1, "block", c.addr, "--reason", "test")
		if !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "refused") {
			t.Errorf("block %s: %s, want a refusal naming %q", c.addr, errOut, c.want)
		}
	}
	// The outside interface's subnet is the device's: known at once with --running.
	saved := filepath.Join(dir, "fw1.cfg")
	write(t, saved, srv.Running())
	if _, errOut := cli(1, "block", "198.51.100.3", "--reason", "test", "--running", saved); !strings.Contains(errOut, "outside interface's connected subnet") {
		t.Errorf("block of the ISP gateway's neighbour: %s", errOut)
	}
	if ps := list("10.20.0.5"); len(ps) != 1 || ps[0].State != remediate.StateRejected || ps[0].Refusal == "" {
		t.Errorf("refused block not recorded: %+v", ps)
	}
	for _, args := range [][]string{
		{"block", "192.0.2.9"},                                   // no reason
		{"block", "192.0.2.9/24", "--reason", "x"},               // host bits
		{"block", "192.0.2", "--reason", "x"},                    // not an address
		{"block", "::ffff:192.0.2.9", "--reason", "x"},           // mapped form
		{"block", "192.0.2.9", "--for", "soon", "--reason", "x"}, // bad duration
	} {
		cli(2, args...)
	}
}
