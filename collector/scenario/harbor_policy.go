package scenario

import (
	"bytes"
	"fmt"
)

// harborPolicy is the harbor site's policy: what its admin would write once, including the
// known services, the scheduled bulk transfers and the mobile carrier its roaming user uses.
func harborPolicy() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`# Site policy of the generated scenario "harbor" (written by firebreak gen --profile harbor).
site: harbor
timezone: Europe/Berlin

# fw-hq's outside subnet (its own address is the PAT address and the AnyConnect headend).
internal: [185.90.12.0/28]

collector:
  data_dir: data

devices:
  - name: fw-hq
    kind: asa
    syslog_sources: [172.20.250.1, 127.0.0.1, "::1"]
    timezone: Europe/Berlin
    ssh:
      address: 172.20.250.1
      port: 22
      known_hosts: known_hosts
      user: firebreak
      password_env: FIREBREAK_ASA_PASSWORD
      enable_password_env: FIREBREAK_ASA_ENABLE
    outside_interface: outside
    outside_acl: outside_access_in
    inside_interface: inside
    inside_acl: inside_access_in
    addresses: [185.90.12.2, 172.20.250.1]
    outside_subnet: 185.90.12.0/28
  - name: gw-north
    kind: ios
    syslog_sources: [172.20.250.2]
    timezone: Europe/Berlin

networks:
  - {name: dcs, role: domain-controllers, prefixes: [172.20.10.10/31]}
  - {name: printsrv, role: print-servers, prefixes: [172.20.10.50/32]}
  - {name: backup, role: servers, description: "backup server", prefixes: [172.20.10.40/32]}
  - {name: servers, role: servers, prefixes: [172.20.10.0/24]}
  - name: esx
    role: vm-hosts
    prefixes: [172.20.11.0/27]
    expected_silent_hours: 4
    hosts:
`)
	for i := range 6 {
		p("      - {name: esx%02d, address: 172.20.11.%d}\n", i+1, i+1)
	}
	p(`  - {name: san, role: san, prefixes: [172.20.50.0/24]}
  - {name: printers, role: printers, prefixes: [172.20.30.0/24]}
  - {name: floor1, role: workstations, building: hq, prefixes: [172.20.100.0/24]}
  - {name: floor2, role: workstations, building: hq, prefixes: [172.20.110.0/24]}
  - {name: vpn, role: vpn-pool, prefixes: [172.20.99.0/24]}
  - {name: mgmt, role: management, prefixes: [172.20.250.0/24]}

flows:
`)
	for _, f := range []string{"floor1", "floor2"} {
		p("  - {from: %s, to: servers, ports: [tcp/445, tcp/443, tcp/3389, tcp/80]}\n", f)
		p("  - {from: %s, to: dcs}\n", f)
		p("  - {from: %s, to: printsrv, ports: [tcp/445]}\n", f)
		p("  - {from: %s, to: printers, ports: [tcp/9100, tcp/443]}\n", f)
		p("  - {from: %s, to: internet, ports: [tcp/80, tcp/443]}\n", f)
	}
	p(`  - {from: servers, to: internet, ports: [tcp/443, tcp/80]}
  - {from: backup, to: internet, ports: [tcp/22], description: "offsite backup"}
  - {from: backup, to: esx}
  - {from: dcs, to: internet, ports: [udp/53, tcp/53, udp/123]}
  - {from: esx, to: internet, ports: [tcp/443]}
  - {from: esx, to: san}
  - {from: printers, to: internet, ports: [tcp/443], description: "vendor call-home of the managed printers"}
  - {from: printsrv, to: printers, ports: [tcp/9100, udp/161]}
  - {from: vpn, to: servers, ports: [tcp/3389, tcp/445, tcp/443]}
  - {from: vpn, to: dcs}
  - {from: mgmt, to: any}

dns:
  approved_resolvers: [172.20.10.10, 172.20.10.11, 9.9.9.9, 149.112.112.112]

ports:
  default: [tcp/22, tcp/25, tcp/53, udp/53, tcp/80, udp/123, tcp/443, tcp/587, tcp/993]
  printers: [tcp/443, tcp/80]
  san: [tcp/3260, tcp/2049]

protected:
  - 172.20.250.0/24
  - 172.20.10.10/31
  - 9.9.9.9
  - 149.112.112.112

# Known services: never blocked, never counted as exfiltration.
services:
  - {name: os-updates, description: "Windows and vendor update CDN", prefixes: [23.50.120.0/24]}
  - {name: microsoft-365, prefixes: [52.97.0.0/16]}
  - {name: ehr-cloud, description: "the EHR vendor's hosted service", prefixes: [91.198.40.0/24]}
  - {name: vmware, prefixes: [104.18.60.0/24]}
  - {name: google, prefixes: [142.250.0.0/15]}
  - {name: printer-vendor, description: "managed printers' call-home", prefixes: [62.116.130.0/24]}
  - {name: offsite-backup, prefixes: [88.99.10.20/32]}

schedules:
  bulk:
    - {name: offsite-backup, days: [sun], from: "00:30", to: "05:00", services: [offsite-backup]}
    - {name: patch-day, days: [tue], nth: 2, from: "08:00", to: "18:00", services: [os-updates]}

vpn:
  carriers:
    - {name: telekom-mobile, prefixes: [80.187.0.0/16]}

detectors:
  printer_egress:
    max_bytes_per_week: 50MB
    max_bytes_per_week_by_role: {print-servers: 50KB}
  silent_host: {hours: 4}
`)
	return b.Bytes()
}

// harborASAConfig is fw-hq's running configuration (ASA 9.8 style), for offline dry runs.
func harborASAConfig() []byte {
	return []byte(`: Saved
:
ASA Version 9.8(4)
!
hostname fw-hq
enable password 8Ry2YjIyt7RRXU24 encrypted
!
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 185.90.12.2 255.255.255.240
!
interface GigabitEthernet0/1
 nameif inside
 security-level 100
 ip address 172.20.1.1 255.255.255.0
!
interface GigabitEthernet0/2
 nameif storage
 security-level 90
 ip address 172.20.50.1 255.255.255.0
!
interface Management0/0
 nameif mgmt
 security-level 100
 ip address 172.20.250.1 255.255.255.0
 management-only
!
dns domain-lookup inside
dns server-group DefaultDNS
 name-server 172.20.10.10
access-list outside_access_in extended deny ip any any log
access-list inside_access_in extended deny udp any any eq 443 log
access-list inside_access_in extended permit ip 172.20.0.0 255.255.0.0 any
access-list storage_access_in extended permit ip 172.20.50.0 255.255.255.0 any
pager lines 24
logging enable
logging timestamp
logging trap informational
logging host mgmt 172.20.250.40
mtu outside 1500
mtu inside 1500
mtu storage 9000
mtu mgmt 1500
access-group outside_access_in in interface outside
access-group inside_access_in in interface inside
access-group storage_access_in in interface storage
route outside 0.0.0.0 0.0.0.0 185.90.12.1 1
route inside 172.20.110.0 255.255.255.0 172.20.1.254 1
aaa-server RADIUS protocol radius
aaa-server RADIUS (inside) host 172.20.10.10
 key *****
ssh 172.20.250.0 255.255.255.0 mgmt
ssh timeout 30
ntp server 172.20.10.10 source inside prefer
Cryptochecksum:7a1e0c3a9b7f2e4d6c8a0b1f3e5d7c11
: end
`)
}

// PolicyFor returns the site policy of cfg's profile: the harbor's, or the clinic's for
// cfg.Site (DefaultSite when zero).
func PolicyFor(cfg Config) ([]byte, error) {
	if cfg.Profile == ProfileHarbor {
		return harborPolicy(), nil
	}
	return cfg.withDefaults().Site.Policy()
}
