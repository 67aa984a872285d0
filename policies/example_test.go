package policies_test

import (
	"fmt"
	"net/netip"

	"github.com/firebreak-dev/firebreak/policies"
)

func ExampleParse() {
	c, err := policies.Parse("site.yaml", []byte(`
site: clinic
networks:
  - {name: servers, role: servers, prefixes: [10.1.10.0/24]}
  - {name: dcs, role: domain-controllers, prefixes: [10.1.10.10, 10.1.10.11]}
  - {name: ws, role: workstations, prefixes: [10.2.0.0/16]}
flows:
  - {from: ws, to: dcs, ports: [udp/53, tcp/88]}
  - {from: ws, to: internet, ports: [tcp/443]}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	n, _ := c.Classify(netip.MustParseAddr("10.1.10.10"))
	fmt.Println(n.Name, n.Role)
	fmt.Println(c.FlowAllowed("ws", "dcs", policies.Port{Proto: policies.ProtoUDP, Num: 53}))
	fmt.Println(c.FlowAllowed("ws", "servers", policies.Port{Proto: policies.ProtoTCP, Num: 445}))
	seg, _ := c.Segment(netip.MustParseAddr("93.184.216.34"))
	fmt.Println(seg)
	// Output:
	// dcs domain-controllers
	// true
	// false
	// internet
}

func ExampleParse_errors() {
	_, err := policies.Parse("site.yaml", []byte(`
site: clinic
networks:
  - {name: ws, role: workstation, prefixes: [10.2.0.5/16]}
devices:
  - name: asa1
    kind: asa
    syslog_sources: [10.0.0.1]
    ssh: {address: 10.0.0.1, user: fb, password: hunter2}
`))
	fmt.Println(err)
	// Output:
	// site.yaml:4:46: networks[0].prefixes[0]: prefix "10.2.0.5/16" has host bits set; write 10.2.0.0/16 (the network) or 10.2.0.5/32 (one host)
	// site.yaml:9:40: devices[0].ssh.password: plaintext secrets are not allowed in a policy; set password_env to the name of an environment variable that holds it
}
