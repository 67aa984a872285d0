package asaconfig_test

import (
	"fmt"
	"net/netip"

	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

func Example() {
	running := []byte(`hostname fw
interface Ethernet0/0
 nameif outside
 security-level 0
 ip address 198.51.100.2 255.255.255.248
access-list OUTSIDE_IN remark management
access-list OUTSIDE_IN extended permit tcp host 192.0.2.50 host 198.51.100.2 eq ssh
access-list OUTSIDE_IN remark web server
access-list OUTSIDE_IN extended permit tcp any host 198.51.100.4 eq https
access-group OUTSIDE_IN in interface outside
route outside 0.0.0.0 0.0.0.0 198.51.100.1 1
`)
	cfg, err := asaconfig.Parse(running)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The deny goes after the management remark's entries (lines 1-2).
	plan, err := cfg.PlanBlock(asaconfig.Block{
		ProposalID: "p-42",
		Target:     netip.MustParsePrefix("203.0.113.66/32"),
		Group:      "FIREBREAK-BLOCK",
		Interface:  "outside",
	}, asaconfig.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	lines, _ := asaconfig.RenderAll(plan.Changes)
	for _, l := range lines {
		fmt.Println(l)
	}
	after, _ := cfg.Apply(plan.Changes)
	n, _ := after.ElementCount("OUTSIDE_IN")
	fmt.Println("elements:", n)

	_, err = cfg.PlanBlock(asaconfig.Block{
		ProposalID: "p-43",
		Target:     netip.MustParsePrefix("198.51.100.1/32"),
		Group:      "FIREBREAK-BLOCK",
		Interface:  "outside",
	}, asaconfig.Limits{})
	fmt.Println(err)
	// Output:
	// object-group network FIREBREAK-BLOCK
	// description firebreak p-42 managed
	// exit
	// object-group network FIREBREAK-BLOCK
	// network-object host 203.0.113.66
	// exit
	// access-list OUTSIDE_IN line 3 extended deny ip object-group FIREBREAK-BLOCK any
	// access-list OUTSIDE_IN line 3 remark firebreak p-42 block
	// elements: 3
	// 198.51.100.1/32 is protected by 198.51.100.1/32 (default gateway via outside)
}
