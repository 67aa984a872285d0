package remediate

import (
	"context"
	"net/netip"
	"testing"

	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// The route check passes only when every next hop of the entry a packet
// to the SAN uses is the policy's gateway on the planned interface.
func TestRouteCheckJudgesEveryNextHop(t *testing.T) {
	want := asaconfig.Route{Interface: "inside", Dest: netip.MustParsePrefix("10.50.0.0/24"), Gateway: netip.MustParseAddr("10.20.0.254"), Distance: 1}
	entry := "\nRouting entry for 10.50.0.0 255.255.255.0\n  Known via \"static\", distance 1, metric 0\n  Routing Descriptor Blocks:\n"
	hop := func(mark, gw, ifc string) string {
		return "  " + mark + gw + ", via " + ifc + "\n      Route metric is 0, traffic share count is 1\n"
	}
	cases := []struct {
		name, out string
		ok        bool
	}{
		{"the gateway", entry + hop("* ", "10.20.0.254", "inside"), true},
		{"equal cost with another router", entry + hop("* ", "10.20.0.254", "inside") + hop("  ", "10.20.0.253", "inside"), false},
		{"another interface", entry + hop("* ", "10.20.0.254", "dmz"), false},
		{"connected", "Routing entry for 10.50.0.0 255.255.255.0\n  Known via \"connected\", distance 0, metric 0 (connected, via interface)\n  Routing Descriptor Blocks:\n  * directly connected, via inside\n", false},
		{"not in the table", "% Network not in table\n", false},
		{"garbage", "ERROR: % Invalid input detected at '^' marker.\n", false},
	}
	for _, c := range cases {
		rc, err := newRouteCheck(want)
		if err != nil {
			t.Fatal(err)
		}
		var asked string
		err = rc.judgeAfter(context.Background(), func(_ context.Context, cmd string) (string, error) { asked = cmd; return c.out, nil }, want)
		if asked != "show route 10.50.0.0" || rc.OK != c.ok || (err == nil) != c.ok {
			t.Errorf("%s: asked %q, ok %v, err %v (%+v)", c.name, asked, rc.OK, err, rc)
		}
	}
}
