package datapath

import (
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// TestScenarioConfig runs the generated clinic's flows through the demo's
// ASA config: what the issue calls the "outbound blocks on an ACL that
// cannot stop them" starts here.
func TestScenarioConfig(t *testing.T) {
	cfg, err := asaconfig.Parse(scenario.DefaultSite().ASAConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := New(cfg, Options{})
	if w := m.Warnings(); len(w) > 0 {
		t.Errorf("warnings on the scenario config: %v", w)
	}
	at := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		f    Flow
		want string
	}{
		// Host-initiated: enters by inside, the outside ACL never sees it.
		{Flow{Proto: TCP, Src: a("10.1.100.33"), SrcPort: 50000, Dst: a("203.0.113.233"), DstPort: 443}, "permitted (inside_access_in line 1)"},
		{Flow{Proto: TCP, Src: a("10.3.100.15"), SrcPort: 50000, Dst: a("192.0.2.144"), DstPort: 4444}, "permitted (inside_access_in line 1)"},
		// Peer-initiated: the outside ACL decides.
		{Flow{Proto: TCP, Src: a("203.0.113.250"), SrcPort: 50000, Dst: a("10.1.20.11"), DstPort: 22}, "dropped (outside_access_in line 5)"},
		{Flow{Proto: TCP, Src: a("203.0.113.250"), SrcPort: 50000, Dst: a("10.1.20.11"), DstPort: 443}, "permitted (outside_access_in line 3)"},
		// SAN through the firewall: dmz to inside, permitted by the DMZ ACL.
		{Flow{Proto: TCP, Src: a("10.1.20.12"), SrcPort: 50000, Dst: a("10.1.50.10"), DstPort: 3260}, "permitted (dmz_access_in line 1)"},
		// Management is management-only: no transit.
		{Flow{Proto: TCP, Src: a("10.10.0.20"), SrcPort: 50000, Dst: a("10.1.10.10"), DstPort: 3389}, "dropped (management-only interface management)"},
		{Flow{Proto: TCP, Src: a("10.10.0.20"), SrcPort: 50000, Dst: a("10.10.0.1"), DstPort: 22}, "permitted (ssh 10.10.0.0/24 management)"},
	} {
		if got := m.Decide(tc.f, at, nil).String(); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.f, got, tc.want)
		}
	}
}
