package remediate_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// forgedPolicy is a small site whose detectors are critical (as example.yaml suggests), so
// that forged lines would ask for quarantines too.
const forgedPolicy = `site: forged
devices:
  - {name: asa1, kind: asa, syslog_sources: [10.10.0.1], addresses: [185.90.12.2], outside_subnet: 185.90.12.0/28}
  - {name: rtr1, kind: ios, syslog_sources: [10.10.0.2]}
networks:
  - {name: ws, role: workstations, prefixes: [10.3.100.0/24]}
  - {name: web, role: dmz, prefixes: [10.1.20.0/24]}
  - {name: vm, role: vm-hosts, prefixes: [10.1.11.0/26]}
  - {name: dental, role: servers, prefixes: [10.1.10.50/32]}
  - {name: printsrv, role: print-servers, prefixes: [10.1.10.20/32]}
  - {name: vpn, role: vpn-pool, prefixes: [10.1.99.0/24]}
  - {name: mgmt, role: management, prefixes: [10.10.0.0/24]}
flows:
  - {from: ws, to: internet, ports: [tcp/443]}
dns:
  approved_resolvers: [8.8.8.8]
protected: [10.10.0.0/24]
detectors:
  segment_violation: {severity: critical}
  san_crossing: {severity: critical}
  unusual_ports: {severity: critical}
  volume: {severity: critical}
`

// TestForgedLinesProposeNothingHarmful is issue 13's second case: forged syslog naming a VPN
// user's home address (45 logins), the NAT64 and IPv6 forms of a protected resolver, CGNAT
// and benchmarking space, the outside subnet's neighbour, and with critical severities
// asking for quarantines of a DMZ server, a VM host, the dental server, the print server and
// a VPN-pool address. No block or quarantine may come of it; each refused one says why.
func TestForgedLinesProposeNothingHarmful(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	line := func(at time.Time, host, msg string, args ...any) {
		fmt.Fprintf(&b, "<166>1 %s %s - - - - %s\n", at.Format("2006-01-02T15:04:05Z"), host, fmt.Sprintf(msg, args...))
	}
	home := "84.150.7.9"
	for i := range 45 { // a VPN user's home, over the ten days before
		line(day.Add(-time.Duration(240-5*i)*time.Hour), "asa1", "%%ASA-6-722022: Group <Staff> User <alice> IP <%s> TCP SVC connection established without compression", home)
	}
	ws := "10.3.100.15"
	peers := []string{home, "64:ff9b::808:808", "2001:4860:4860::8888", "100.64.1.2", "198.18.0.5", "185.90.12.3", "::ffff:8.8.8.8"}
	id := 100
	for k, p := range peers {
		for j := range 3 {
			id++
			at := day.Add(time.Duration(9+k)*time.Hour + time.Duration(j)*time.Minute)
			port := 4440 + k // one unusual-port finding per peer
			line(at, "asa1", "%%ASA-6-302013: Built outbound TCP connection %d for outside:%s/%d (%s/%d) to inside:%s/5%04d (185.90.12.2/4%04d)", id, p, port, p, port, ws, id, id)
			line(at.Add(time.Second), "asa1", "%%ASA-6-302014: Teardown TCP connection %d for outside:%s/%d to inside:%s/5%04d duration 0:00:01 bytes 5000 TCP FINs", id, p, port, ws, id)
		}
	}
	servers := []string{"10.1.20.11", "10.1.11.7", "10.1.10.50", "10.1.10.20", "10.1.99.14"}
	for k, s := range servers { // router logs: each server opens SMB to a workstation
		at := day.Add(time.Duration(10+k) * time.Hour)
		fmt.Fprintf(&b, "<190>%d: rtr1: %s: %%SEC-6-IPACCESSLOGP: list LAN-IN permitted tcp %s(51%03d) -> %s(445), 5 packets\n",
			k+1, at.Format("Jan _2 15:04:05.000 UTC"), s, k, "10.3.100.40")
	}
	cfg, err := policies.Parse("forged.yaml", []byte(forgedPolicy))
	if err != nil {
		t.Fatal(err)
	}
	end := day.Add(24 * time.Hour)
	now := func() time.Time { return end }
	st, err := stats.Open(ctx, filepath.Join(t.TempDir(), "data"), stats.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	feedLines(t, cfg, st, now, b.String())
	res, err := detect.Run(ctx, &detect.Env{Stats: st, Policy: cfg}, end, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var fs []detect.Finding
	for _, u := range res.Findings {
		fs = append(fs, u.Finding)
	}
	m := remediate.New(st, cfg, remediate.Options{Now: now})
	if _, err := m.Propose(ctx, "test", fs, nil); err != nil {
		t.Fatal(err)
	}
	props, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	targets := map[netip.Addr]bool{}
	for _, a := range append(peers, servers...) {
		targets[netip.MustParseAddr(a).Unmap()] = true
	}
	asked := map[netip.Addr]string{}
	for _, p := range props {
		a := p.Target.Addr().Unmap()
		if p.Kind != remediate.KindBlock && p.Kind != remediate.KindQuarantine {
			if p.Kind == remediate.KindAdvisory && targets[a] && strings.HasPrefix(p.Reason, "not blocked") {
				asked[a] = p.Reason
			}
			continue
		}
		if p.State != remediate.StateRejected {
			t.Errorf("%s %s %s is %s, want refused", p.ID, p.Kind, p.Target, p.State)
			continue
		}
		asked[a] = p.Refusal
	}
	want := map[string]string{
		home: "not new", "64:ff9b::808:808": "NAT64", "2001:4860:4860::8888": "another form",
		"100.64.1.2": "shared address space", "198.18.0.5": "benchmarking", "185.90.12.3": "outside interface",
		"10.1.20.11": "dmz host", "10.1.11.7": "vm-hosts host", "10.1.10.50": "servers host",
		"10.1.10.20": "print-servers host", "10.1.99.14": "vpn-pool host",
	}
	for a, why := range want {
		got, ok := asked[netip.MustParseAddr(a)]
		if !ok {
			t.Errorf("%s: no refused proposal (findings %v)", a, fs)
			continue
		}
		if !strings.Contains(got, why) {
			t.Errorf("%s: refusal %q, want it to say %q", a, got, why)
		}
	}
}

type forgedCls struct{ c *policies.Config }

func (c forgedCls) Internal(a netip.Addr) bool { return c.c.IsInternal(a) }
func (c forgedCls) Segment(a netip.Addr) string {
	s, _ := c.c.Segment(a)
	return s
}

func feedLines(t *testing.T, cfg *policies.Config, st *stats.Store, now func() time.Time, text string) {
	t.Helper()
	agg := stats.NewAggregator(forgedCls{cfg}, stats.AggOptions{Now: now})
	pr := ciscolog.NewParser(ciscolog.Options{Now: now})
	var ev ciscolog.Event
	for l := range bytes.SplitSeq([]byte(text), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		pr.Parse(l, &ev)
		if ev.Kind != ciscolog.KindTyped {
			t.Fatalf("untyped: %s", l)
		}
		agg.Add(&ev)
	}
	if _, err := agg.Flush(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

// TestOutsideSubnetFromRunningConfig: with the device's config, its outside interface's
// connected subnet is protected even when the policy does not name it.
func TestOutsideSubnetFromRunningConfig(t *testing.T) {
	ctx := context.Background()
	cfg, err := policies.Parse("p.yaml", []byte("site: s\ndevices:\n  - {name: asa1, kind: asa, syslog_sources: [10.10.0.1]}\nnetworks:\n  - {name: mgmt, role: management, prefixes: [10.10.0.0/24]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	running, err := asaconfig.Parse([]byte("hostname asa1\ninterface Ethernet0/0\n nameif outside\n security-level 0\n ip address 192.0.2.34 255.255.255.240\n!\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	st, err := stats.Open(ctx, filepath.Join(t.TempDir(), "data"), stats.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := remediate.New(st, cfg, remediate.Options{Now: func() time.Time { return now }})
	scanOf := func(peer string) detect.Finding {
		return detect.Finding{ID: peer, Key: "port_scan|" + peer, Detector: detect.DetectorPortScan, Severity: detect.SeverityMedium,
			Subject: detect.Subject{Peer: netip.MustParseAddr(peer)}, Status: "open", FirstSeen: now.Add(-time.Hour), LastSeen: now}
	}
	ps, err := m.Propose(ctx, "test", []detect.Finding{scanOf("192.0.2.35"), scanOf("192.0.2.77")}, running)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]remediate.Proposal{}
	for _, p := range ps {
		got[p.Target.Addr().String()] = p
	}
	if p := got["192.0.2.35"]; p.State != remediate.StateRejected || !strings.Contains(p.Refusal, "outside interface") {
		t.Errorf("neighbour 192.0.2.35: %s %q; want refused as the outside subnet", p.State, p.Refusal)
	}
	if p := got["192.0.2.77"]; p.State == remediate.StateRejected && strings.Contains(p.Refusal, "outside interface") {
		t.Errorf("192.0.2.77 is outside the subnet but refused: %q", p.Refusal)
	}
}
