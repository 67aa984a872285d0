package scenario

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// Policy returns the site policy (YAML, the policies package's schema) that describes this
// site: its devices and syslog sources, networks and roles, allowed flows, approved resolvers,
// conventional ports and protected addresses. Later commands run on a generated scenario with
// it, unedited. The planted incidents are exactly what this policy does not allow.
func (s Site) Policy() ([]byte, error) {
	l, err := buildLayout(s)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	list := func(idx []uint32) string {
		parts := make([]string, len(idx))
		for i, x := range idx {
			parts[i] = netip.PrefixFrom(l.addr(x), 32).String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}

	p("# Site policy of the generated scenario %q (written by firebreak gen).\n", s.Name)
	p("site: %s\ntimezone: %s\n\n", s.Name, s.Timezone)
	p("# The ASA's own public addresses (PAT and static NAT of the DMZ servers).\n")
	p("internal: [203.0.113.0/28]\n\n")
	p("# The database, raw archive and API socket, beside this file.\ncollector:\n  data_dir: data\n\n")

	p("devices:\n")
	p("  - name: %s\n    kind: asa\n", deviceNames[devASA])
	p("    # Loopback too: `firebreak gen --send` replays the scenario from this machine.\n")
	p("    syslog_sources: [%s, 127.0.0.1, \"::1\"]\n    timezone: %s\n", deviceAddrs[devASA], s.Timezone)
	p("    ssh:\n      address: %s\n      port: 22\n      known_hosts: known_hosts\n      user: firebreak\n", deviceAddrs[devASA])
	p("      password_env: FIREBREAK_ASA_PASSWORD\n      enable_password_env: FIREBREAK_ASA_ENABLE\n      legacy_algorithms: true\n")
	p("    outside_interface: outside\n    outside_acl: outside_access_in\n    inside_interface: inside\n    inside_acl: inside_access_in\n")
	for _, d := range []int{devRtrB2, devRtrB3} {
		p("  - name: %s\n    kind: ios\n    syslog_sources: [%s]\n    timezone: UTC\n", deviceNames[d], deviceAddrs[d])
	}

	p("\nnetworks:\n")
	p("  - {name: dcs, role: domain-controllers, prefixes: %s}\n", list(l.dcs))
	p("  - {name: printsrv, role: print-servers, prefixes: %s}\n", list(l.printSrv))
	p("  - {name: terminal, role: terminal-servers, description: \"clinical terminal servers\", prefixes: %s}\n", list(l.terminals))
	if len(l.dental) > 0 {
		p("  - {name: dental, role: servers, description: \"dental practice server\", prefixes: %s}\n", list(l.dental))
	}
	p("  - {name: servers, role: servers, prefixes: [10.1.10.0/24]}\n")
	p("  - {name: testsrv, role: test-servers, prefixes: [10.1.12.0/24]}\n")
	p("  - name: vmhosts\n    role: vm-hosts\n    prefixes: [10.1.11.0/26]\n    expected_silent_hours: 6\n    hosts:\n")
	for i, h := range l.vmHosts {
		p("      - {name: vmh%02d, address: %s}\n", i+1, l.addr(h))
	}
	p("  - {name: dmz, role: dmz, description: \"mail, web and patient portal\", prefixes: [10.1.20.0/24]}\n")
	p("  - {name: san, role: san, prefixes: [10.1.50.0/24]}\n")
	p("  - {name: printers, role: printers, prefixes: [10.1.30.0/23, 10.2.30.0/23, 10.3.30.0/23]}\n")
	p("  - {name: vpn, role: vpn-pool, prefixes: [10.1.99.0/24]}\n")
	for b := 1; b <= 3; b++ {
		p("  - {name: ws-b%d, role: workstations, building: b%d, prefixes: [10.%d.100.0/22]}\n", b, b, b)
	}
	p("  - {name: mgmt, role: management, prefixes: [10.10.0.0/24]}\n")

	p("\nflows:\n")
	for b := 1; b <= 3; b++ {
		for _, to := range []string{"dcs", "printsrv", "terminal", "servers", "testsrv"} {
			p("  - {from: ws-b%d, to: %s}\n", b, to)
		}
		if len(l.dental) > 0 {
			p("  - {from: ws-b%d, to: dental}\n", b)
		}
		p("  - {from: ws-b%d, to: printers, ports: [tcp/9100, tcp/443, tcp/80]}\n", b)
		p("  - {from: ws-b%d, to: dmz, ports: [tcp/443]}\n", b)
		p("  - {from: ws-b%d, to: internet, ports: [tcp/80, tcp/443]}\n", b)
	}
	p("  - {from: printsrv, to: printers, ports: [tcp/9100, tcp/515, udp/161]}\n")
	p("  - {from: vpn, to: terminal, ports: [tcp/3389]}\n")
	p("  - {from: vpn, to: servers, ports: [tcp/443]}\n")
	p("  - {from: vpn, to: dcs}\n")
	p("  - {from: dcs, to: internet, ports: [udp/53, tcp/53, udp/123]}\n")
	for _, from := range []string{"servers", "terminal", "testsrv"} {
		p("  - {from: %s, to: internet, ports: [tcp/80, tcp/443]}\n", from)
	}
	if len(l.dental) > 0 {
		p("  - {from: dental, to: internet, ports: [tcp/80, tcp/443]}\n")
	}
	p("  - {from: vmhosts, to: internet, ports: [tcp/443, udp/123]}\n")
	p("  - {from: vmhosts, to: san, description: \"iSCSI on the storage network\"}\n")
	p("  - {from: dmz, to: internet, ports: [tcp/25]}\n")
	p("  - {from: internet, to: dmz, ports: [tcp/25, tcp/443]}\n")
	p("  - {from: mgmt, to: any}\n")

	p("\ndns:\n  approved_resolvers: [")
	var res []string
	for _, x := range l.dcs {
		res = append(res, l.addr(x).String())
	}
	for _, x := range l.approvedResolvers {
		res = append(res, l.addr(x).String())
	}
	p("%s]\n", strings.Join(res, ", "))

	p("\nports:\n")
	p("  default: [tcp/22, tcp/25, tcp/53, udp/53, tcp/80, udp/123, tcp/443, tcp/465, tcp/587, tcp/993, tcp/3389]\n")
	p("  printers: [tcp/443, tcp/80, udp/161]\n")
	p("  san: [tcp/3260]\n")

	p("\nprotected:\n  - 10.10.0.0/24\n  - 203.0.113.0/28\n")
	for _, x := range l.dcs {
		p("  - %s\n", l.addr(x))
	}

	p("\ndetectors:\n")
	p("  printer_egress: {max_bytes_per_week: 100KB}\n")
	p("  silent_host: {hours: 6}\n")
	// Patient data: traffic between segments that no flow allows is critical, and a
	// critical segment violation asks for a quarantine of the host (workstations and
	// printers only, unless remediation.quarantine_roles opts a role in).
	p("  segment_violation: {severity: critical}\n")
	return b.Bytes(), nil
}
