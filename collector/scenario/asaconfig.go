package scenario

import (
	"bytes"
	"fmt"
)

// ASAConfig returns a running configuration of asa1 (ASA 9.1 style) that matches the site
// policy and the generated traffic: interfaces outside (the PAT address 203.0.113.1), inside,
// dmz and management (10.10.0.1, the syslog source), the outside ACL with the DMZ services, the
// inside and DMZ ACLs, routes to the buildings, and the logging, NTP, DNS, AAA and SSH lines
// that make some addresses off-limits for blocking. The demo's fake ASA starts from it.
func (s Site) ASAConfig() []byte {
	var b bytes.Buffer
	p := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	p(": Saved\n:\nASA Version 9.1(7)\n!\nhostname asa1\n")
	p("enable password 8Ry2YjIyt7RRXU24 encrypted\n!\n")
	iface := func(hw, name string, level int, addr, mask string, extra string) {
		p("interface %s\n nameif %s\n security-level %d\n ip address %s %s\n%s!\n", hw, name, level, addr, mask, extra)
	}
	iface("Ethernet0/0", "outside", 0, "203.0.113.1", "255.255.255.240", "")
	iface("Ethernet0/1", "inside", 100, "10.1.1.1", "255.255.255.0", "")
	iface("Ethernet0/2", "dmz", 50, "10.1.20.1", "255.255.255.0", "")
	iface("Management0/0", "management", 100, "10.10.0.1", "255.255.255.0", " management-only\n")
	p("dns domain-lookup inside\ndns server-group DefaultDNS\n name-server 10.1.10.10\n")
	p("object-group network ADMINS\n description IT staff workstations\n network-object 10.10.0.0 255.255.255.0\n")
	p("access-list outside_access_in remark public services in the DMZ\n")
	p("access-list outside_access_in extended permit tcp any host 10.1.20.10 eq smtp\n")
	p("access-list outside_access_in extended permit tcp any host 10.1.20.11 eq https\n")
	p("access-list outside_access_in extended permit tcp any host 10.1.20.12 eq https\n")
	p("access-list outside_access_in extended deny ip any any log\n")
	p("access-list inside_access_in extended permit ip 10.0.0.0 255.0.0.0 any\n")
	p("access-list dmz_access_in extended permit ip 10.1.20.0 255.255.255.0 any\n")
	p("access-list management_access_in extended permit ip object-group ADMINS any\n")
	p("pager lines 24\nlogging enable\nlogging timestamp\nlogging trap informational\n")
	p("logging host management 10.10.0.50\n")
	p("mtu outside 1500\nmtu inside 1500\nmtu dmz 1500\nmtu management 1500\n")
	p("access-group outside_access_in in interface outside\n")
	p("access-group inside_access_in in interface inside\n")
	p("access-group dmz_access_in in interface dmz\n")
	p("access-group management_access_in in interface management\n")
	p("route outside 0.0.0.0 0.0.0.0 203.0.113.14 1\n")
	p("route inside 10.1.0.0 255.255.0.0 10.1.1.254 1\n")
	p("route inside 10.2.0.0 255.255.0.0 10.1.1.254 1\n")
	p("route inside 10.3.0.0 255.255.0.0 10.1.1.254 1\n")
	p("aaa-server RADIUS protocol radius\naaa-server RADIUS (inside) host 10.1.10.11\n key *****\n")
	p("ssh 10.10.0.0 255.255.255.0 management\nssh timeout 30\n")
	p("ntp server 10.1.10.10 source inside prefer\n")
	p("Cryptochecksum:5d1e0c3a9b7f2e4d6c8a0b1f3e5d7c9a\n: end\n")
	return b.Bytes()
}
