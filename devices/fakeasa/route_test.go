package fakeasa

import (
	"strings"
	"testing"
	"time"
)

// show route answers from the fake's own routing table, in the format of
// the ASA configuration guide.
func TestShowRouteFromTheTable(t *testing.T) {
	s, sess := newPathServer(t, time.Now())
	cfg := &cliSession{srv: s, mode: modeConfig}
	for _, l := range []string{
		"route inside 10.1.60.0 255.255.255.0 10.1.1.250 1",
		"route inside 10.1.60.0 255.255.255.0 10.1.1.251 1", // equal cost: both used
		"route outside 10.1.70.0 255.255.255.0 203.0.113.13 1",
		"route dmz 10.1.70.0 255.255.255.0 10.1.20.254 5", // floating: not installed
	} {
		if r := cfg.run(l); r.out != "" {
			t.Fatalf("%q: %q", l, r.out)
		}
	}
	table := sess.run("show route").out
	for _, want := range []string{
		"Codes: C - connected, S - static,",
		"Gateway of last resort is 203.0.113.14 to network 0.0.0.0\n",
		"S    10.1.60.0 255.255.255.0 [1/0] via 10.1.1.250, inside\n",
		"S    10.1.60.0 255.255.255.0 [1/0] via 10.1.1.251, inside\n",
		"S    10.1.70.0 255.255.255.0 [1/0] via 203.0.113.13, outside\n",
		"C    10.1.1.0 255.255.255.0 is directly connected, inside\n",
		"S*   0.0.0.0 0.0.0.0 [1/0] via 203.0.113.14, outside\n",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("show route lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "10.1.20.254") {
		t.Errorf("a floating static route is in the table:\n%s", table)
	}
	cases := []struct{ cmd, want, not string }{
		{"show route 10.1.60.7", "Routing entry for 10.1.60.0 255.255.255.0\n  Known via \"static\", distance 1, metric 0\n  Routing Descriptor Blocks:\n" +
			"  * 10.1.1.250, via inside\n      Route metric is 0, traffic share count is 1\n    10.1.1.251, via inside\n", ""},
		{"show route 10.1.60.0 255.255.255.0", "Routing entry for 10.1.60.0 255.255.255.0\n", ""},
		{"show route 10.1.0.0 255.255.255.0", "% Subnet not in table", "Routing entry"},
		{"show route 10.1.1.9", "Known via \"connected\", distance 0, metric 0 (connected, via interface)\n  Routing Descriptor Blocks:\n  * directly connected, via inside\n", ""},
		{"show route 10.1.99.1", "Routing entry for 10.1.0.0 255.255.0.0", ""},
		{"show route 192.0.2.1", "Routing entry for 0.0.0.0 0.0.0.0\n", ""},
		{"show route dmz 10.1.70.1", "% Network not in table", ""},
		{"show route inside 10.1.60.1", "via inside", "outside"},
		{"show route 10.1.60", "ERROR: % Invalid input detected", ""},
	}
	for _, c := range cases {
		got := sess.run(c.cmd).out
		if !strings.Contains(got, c.want) || c.not != "" && strings.Contains(got, c.not) {
			t.Errorf("%s:\n%s\nwant %q", c.cmd, got, c.want)
		}
	}
	// The floating route takes over when the better one goes; a down
	// link takes its interface's routes (and subnet) out of the table.
	if r := cfg.run("no route outside 10.1.70.0 255.255.255.0 203.0.113.13 1"); r.out != "" {
		t.Fatal(r.out)
	}
	if got := sess.run("show route 10.1.70.1").out; !strings.Contains(got, "* 10.1.20.254, via dmz") || !strings.Contains(got, "distance 5") {
		t.Errorf("floating route after the primary is gone:\n%s", got)
	}
	s.SetLink("inside", false)
	if got := sess.run("show route 10.1.60.7").out; !strings.Contains(got, "Routing entry for 0.0.0.0 0.0.0.0") {
		t.Errorf("inside down, 10.1.60.7 should follow the default route:\n%s", got)
	}
	if v, _ := s.Trace(tcpFlow("dmz", "10.1.20.5", 40000, "10.1.60.7", 22)); v.Allowed && v.Egress == "inside" {
		t.Errorf("a packet left by a down interface: %+v", v)
	}
	if !strings.Contains(s.Running(), "route inside 10.1.60.0 255.255.255.0 10.1.1.250 1") {
		t.Error("a link state changed the configuration")
	}
	s.SetLink("inside", true)
	if got := sess.run("show route 10.1.60.7").out; !strings.Contains(got, "* 10.1.1.250, via inside") {
		t.Errorf("inside up again:\n%s", got)
	}
}
