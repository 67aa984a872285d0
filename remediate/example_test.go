package remediate_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

// Example proposes a block for a port scan and computes its dry run against
// a saved running configuration, offline. The block lasts the policy's 24
// hours on the device itself: its deny names a time-range that ends then.
func Example() {
	pol, _ := policies.Parse("site.yaml", []byte(`site: example
internal: [10.0.0.0/8]
devices:
  - {name: fw1, kind: asa, syslog_sources: [10.20.0.1], outside_acl: OUTSIDE_IN}
networks:
  - {name: lan, role: workstations, prefixes: [10.20.0.0/24]}
`))
	dir, _ := os.MkdirTemp("", "remediate-example")
	defer os.RemoveAll(dir)
	now := func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }
	st, _ := stats.Open(context.Background(), dir, stats.Options{Now: now})
	defer st.Close()
	m := remediate.New(st, pol, remediate.Options{Now: now})

	ctx := context.Background()
	ps, _ := m.Propose(ctx, "alice", []detect.Finding{{
		ID: "f1", Key: "port_scan|203.0.113.7", Detector: detect.DetectorPortScan, Severity: detect.SeverityLow,
		Subject: detect.Subject{Peer: netip.MustParseAddr("203.0.113.7")},
	}}, nil)
	fmt.Println(ps[0].String())

	running := `hostname fw1
interface Ethernet0/0
 nameif outside
 security-level 0
 ip address 198.51.100.2 255.255.255.248
access-list OUTSIDE_IN remark management
access-list OUTSIDE_IN extended permit tcp host 192.0.2.50 host 198.51.100.2 eq ssh
access-list OUTSIDE_IN extended deny ip any any
access-group OUTSIDE_IN in interface outside
`
	d, err := m.Diff(ctx, ps[0].ID, running)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range d.Lines {
		fmt.Println(l)
	}
	fmt.Printf("%s: %d -> %d elements\n", d.ACL, d.ElementsBefore, d.ElementsAfter)
	// Output:
	// p-0001 block 203.0.113.7/32 on fw1 [proposed]
	// time-range FIREBREAK-p-0001
	// absolute end 09:59 3 March 2026
	// exit
	// access-list OUTSIDE_IN line 3 extended deny ip host 203.0.113.7 any time-range FIREBREAK-p-0001
	// access-list OUTSIDE_IN line 3 remark firebreak p-0001 block
	// OUTSIDE_IN: 2 -> 3 elements
}
