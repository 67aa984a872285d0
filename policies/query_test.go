package policies_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
)

func mustAddr(t testing.TB, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func example(t testing.TB) *policies.Config {
	return mustLoad(t, filepath.Join(fixtures, "example.yaml"))
}

func tcp(n uint16) policies.Port { return policies.Port{Proto: policies.ProtoTCP, Num: n} }
func udp(n uint16) policies.Port { return policies.Port{Proto: policies.ProtoUDP, Num: n} }

func TestClassifyMostSpecificWins(t *testing.T) {
	c := example(t)
	for _, tc := range []struct{ addr, want string }{
		{"10.1.10.10", "dcs"},        // /32 inside servers /24
		{"10.1.10.99", "servers"},    // the /24 itself
		{"10.1.10.33", "termsrv"},    // /27 inside the /24
		{"10.1.10.20", "printsrv"},   // /32
		{"::ffff:10.1.10.10", "dcs"}, // mapped IPv6 is unmapped
		{"10.1.21.200", "ws-b1"},     // /23
		{"10.20.0.7", "mgmt"},        // the second prefix of mgmt
		{"10.20.0.8", ""},            // just outside it
		{"8.8.8.8", ""},
		{"2001:db8::1", ""},
	} {
		n, ok := c.Classify(mustAddr(t, tc.addr))
		got := ""
		if ok {
			got = n.Name
		}
		if got != tc.want {
			t.Errorf("Classify(%s) = %q; want %q", tc.addr, got, tc.want)
		}
	}
	if _, ok := c.Classify(netip.Addr{}); ok {
		t.Error("Classify(zero Addr) found a network")
	}
}

func TestInternalSegmentProtected(t *testing.T) {
	c := example(t)
	for _, tc := range []struct {
		addr              string
		internal, protect bool
		segment           string
	}{
		{"10.1.10.70", true, false, "servers"},
		{"10.5.5.5", true, false, ""},    // in `internal`, no network
		{"192.168.1.1", true, false, ""}, // in `internal`
		{"8.8.8.8", false, false, policies.Internet},
		{"10.1.10.5", true, true, "servers"},               // listed: the collector
		{"10.10.0.77", true, true, "mgmt"},                 // management network
		{"10.1.10.11", true, true, "dcs"},                  // approved resolver
		{"10.20.0.2", true, true, "mgmt"},                  // a device's syslog source
		{"198.51.100.7", false, true, policies.Internet},   // inside a protected /28
		{"198.51.100.16", false, false, policies.Internet}, // just past it
		{"203.0.113.10", false, true, policies.Internet},
	} {
		a := mustAddr(t, tc.addr)
		if got := c.IsInternal(a); got != tc.internal {
			t.Errorf("IsInternal(%s) = %v; want %v", tc.addr, got, tc.internal)
		}
		if got := c.IsProtected(a); got != tc.protect {
			t.Errorf("IsProtected(%s) = %v; want %v", tc.addr, got, tc.protect)
		}
		seg, _ := c.Segment(a)
		if seg != tc.segment {
			t.Errorf("Segment(%s) = %q; want %q", tc.addr, seg, tc.segment)
		}
	}
	for _, tc := range []struct {
		p    string
		want bool
	}{
		{"198.51.100.0/24", true}, // holds a protected /28
		{"10.1.10.5/32", true},
		{"203.0.113.0/24", true},
		{"203.0.114.0/24", false},
		{"::ffff:203.0.113.0/120", true},
	} {
		if got := c.ProtectedOverlaps(netip.MustParsePrefix(tc.p)); got != tc.want {
			t.Errorf("ProtectedOverlaps(%s) = %v; want %v", tc.p, got, tc.want)
		}
	}
}

func TestFlowAllowed(t *testing.T) {
	c := example(t)
	for _, tc := range []struct {
		from, to string
		port     policies.Port
		want     bool
	}{
		{"ws-b1", "servers", tcp(8080), true},  // rule without ports
		{"servers", "ws-b1", tcp(8080), false}, // rules have a direction
		{"ws-b1", "termsrv", tcp(3389), true},
		{"ws-b1", "termsrv", tcp(22), false},
		{"ws-b1", "ws-b1", tcp(445), true},    // within a segment
		{"printers-b1", "dcs", udp(53), true}, // any -> dcs
		{"printers-b1", "dcs", tcp(3389), false},
		{policies.Internet, "dcs", udp(53), false}, // any never means internet
		{"mgmt", "san", tcp(22), true},             // mgmt -> any
		{"mgmt", policies.Internet, tcp(22), false},
		{"ws-b2", policies.Internet, udp(443), true},
		{"ws-b2", policies.Internet, tcp(25), false},
		{policies.Internet, "dmz", tcp(443), true},
		{policies.Internet, "dmz", tcp(22), false},
		{"servers", "san", tcp(3260), true},
		{"printers-b1", policies.Internet, tcp(443), false},
		{policies.Internet, policies.Internet, tcp(443), false},
		{policies.Any, policies.Any, tcp(443), false}, // "any" is not a segment
		{"nowhere", "nowhere", tcp(443), false},       // nor is an unknown name
		{"ws-b1", policies.Any, tcp(443), false},
	} {
		if got := c.FlowAllowed(tc.from, tc.to, tc.port); got != tc.want {
			t.Errorf("FlowAllowed(%s, %s, %s) = %v; want %v", tc.from, tc.to, tc.port, got, tc.want)
		}
	}
}

func TestConventionalPort(t *testing.T) {
	c := example(t)
	icmp := policies.Port{Proto: policies.ProtoICMP}
	for _, tc := range []struct {
		role string
		port policies.Port
		want bool
	}{
		{policies.RolePrinters, tcp(9100), true},
		{policies.RolePrinters, tcp(443), true}, // from default
		{policies.RoleServers, tcp(9100), false},
		{policies.RoleServers, tcp(443), true},
		{"", tcp(993), true},
		{"nonsense", udp(53), true},
		{policies.RoleDMZ, tcp(8443), true},
		{policies.RoleDMZ, udp(8443), false},
		{"", icmp, false},
	} {
		if got := c.ConventionalPort(tc.role, tc.port); got != tc.want {
			t.Errorf("ConventionalPort(%q, %s) = %v; want %v", tc.role, tc.port, got, tc.want)
		}
	}
	v6 := mustLoad(t, filepath.Join(fixtures, "good", "ipv6-and-scalars.yaml"))
	if !v6.FlowAllowed("srv6", policies.Internet, policies.Port{Proto: policies.ProtoICMP, Num: 8}) {
		t.Error("an icmp flow rule does not match an ICMP port")
	}
}

func TestDevicesResolversSilence(t *testing.T) {
	c := example(t)
	d, ok := c.DeviceBySource(mustAddr(t, "10.20.0.2"))
	if !ok || d.Name != "rtr-b2" || d.Location().String() != "UTC" {
		t.Errorf("DeviceBySource(10.20.0.2) = %+v, %v; want rtr-b2 in UTC", d, ok)
	}
	if d, ok := c.DeviceBySource(mustAddr(t, "::ffff:10.10.0.1")); !ok || d.Name != "asa1" || d.Location().String() != "America/Chicago" {
		t.Errorf("DeviceBySource(mapped 10.10.0.1) = %+v, %v", d, ok)
	}
	if _, ok := c.DeviceBySource(mustAddr(t, "10.10.0.2")); ok {
		t.Error("DeviceBySource accepted an unknown source")
	}
	if d, ok := c.DeviceByName("asa1"); !ok || !d.Manageable() || d.SSH.PasswordEnv != "FIREBREAK_ASA_PASSWORD" {
		t.Errorf("DeviceByName(asa1) = %+v, %v", d, ok)
	}
	if !c.ApprovedResolver(mustAddr(t, "10.1.10.10")) || c.ApprovedResolver(mustAddr(t, "8.8.8.8")) {
		t.Error("ApprovedResolver is wrong")
	}
	for _, tc := range []struct {
		addr string
		want time.Duration
		ok   bool
	}{
		{"10.1.10.71", 2 * time.Hour, true},  // named host with its own hours
		{"10.1.10.70", 24 * time.Hour, true}, // named host: detectors.silent_host.hours
		{"10.1.10.11", time.Hour, true},      // network dcs expects 1h
		{"10.1.11.9", 6 * time.Hour, true},   // vm-hosts network
		{"10.1.10.99", 0, false},             // servers network does not watch every host
	} {
		got, ok := c.SilentAfter(mustAddr(t, tc.addr))
		if got != tc.want || ok != tc.ok {
			t.Errorf("SilentAfter(%s) = %v, %v; want %v, %v", tc.addr, got, ok, tc.want, tc.ok)
		}
	}
	if n := len(c.NetworksByRole(policies.RoleWorkstations)); n != 2 {
		t.Errorf("NetworksByRole(workstations) has %d; want 2", n)
	}
}

var sink bool

func BenchmarkClassify(b *testing.B) {
	c := example(b)
	addrs := []netip.Addr{mustAddr(b, "10.1.10.10"), mustAddr(b, "10.2.21.9"), mustAddr(b, "8.8.8.8"), mustAddr(b, "10.1.50.3")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, sink = c.Classify(addrs[i%len(addrs)])
	}
}

func BenchmarkIsProtected(b *testing.B) {
	c := example(b)
	addrs := []netip.Addr{mustAddr(b, "10.1.10.10"), mustAddr(b, "203.0.113.99"), mustAddr(b, "8.8.8.8")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sink = c.IsProtected(addrs[i%len(addrs)])
	}
}

func BenchmarkFlowAllowed(b *testing.B) {
	c := example(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		sink = c.FlowAllowed("printers-b1", "dcs", udp(uint16(50+i%8)))
	}
}

func BenchmarkLoadExample(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policies.Load(filepath.Join(fixtures, "example.yaml")); err != nil {
			b.Fatal(err)
		}
	}
}

// Queries run from many goroutines at once (run with -race).
func TestQueriesConcurrently(t *testing.T) {
	c := example(t)
	a := mustAddr(t, "10.1.10.10")
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			ok := true
			for i := 0; i < 200; i++ {
				n, found := c.Classify(a)
				ok = ok && found && n.Name == "dcs" && c.IsProtected(a) &&
					c.FlowAllowed("ws-b1", "dcs", udp(53)) && c.ConventionalPort("printers", tcp(9100))
			}
			done <- ok
		}()
	}
	for g := 0; g < 4; g++ {
		if !<-done {
			t.Error("a concurrent query gave a wrong answer")
		}
	}
}

// A policy with 2,000 networks: loading must stay linear in its size.
func BenchmarkParseLarge(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("site: big\nnetworks:\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&sb, "  - {name: n%d, role: servers, prefixes: [10.%d.%d.0/25, 10.%d.%d.128/25]}\n", i, i/250, i%250, i/250, i%250)
	}
	doc := []byte(sb.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policies.Parse("big.yaml", doc); err != nil {
			b.Fatal(err)
		}
	}
}
