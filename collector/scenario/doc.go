// Package scenario generates a synthetic medical facility's syslog (one Cisco ASA 5510, asa1,
// with interfaces outside, inside and dmz, and two Cisco 2921 routers, rtr-b2 and rtr-b3, joining
// three buildings) with planted incidents, the ground truth that names them, and the site policy
// that describes the site. Output is deterministic for a seed: the same Config gives the same
// bytes.
//
// # Address plan (default sizes)
//
//	10.1.10.10-11    domain controllers (RADIUS for the VPN, DNS forwarders)
//	10.1.10.20       print server
//	10.1.10.30-37    clinical terminal servers
//	10.1.10.50       dental server
//	10.1.10.60-97    other servers (EHR, PACS, files)
//	10.1.11.1-11     VM hosts
//	10.1.12.10-14    test servers
//	10.1.20.10-12    DMZ: mail, web, patient portal (static NAT 203.0.113.10-12)
//	10.1.50.10-13    SAN arrays
//	10.B.30.0/23     printers of building B (Xerox and HP; 15 call their vendor)
//	10.B.100.0/22    workstations of building B (160, 100, 80)
//	10.1.99.0/24     AnyConnect pool (20 users)
//	10.10.0.1-3      management addresses of asa1, rtr-b2, rtr-b3 (their syslog sources)
//	203.0.113.1      the ASA's PAT address
//
// The internet side is text only: documentation ranges (192.0.2.0/24 for the update CDN, mail
// peers, printer vendors and NTP; 198.51.100.0/24 and 203.0.113.40-229 for web sites, patients
// and background noise; 198.51.100.200-249 for VPN users' homes) and the public resolvers
// 8.8.8.8, 8.8.4.4, 1.1.1.1 (approved) and 9.9.9.9 (not approved). Nothing is ever sent to
// them; Send delivers lines to loopback listeners only.
//
// # Traffic
//
// Scaled traffic (Config.LinesPerDay) follows working hours on weekdays and is quiet at night
// and on weekends: web browsing through PAT, DNS forwarding, server updates, patients reaching
// the portal, mail, VPN sessions with RDP to the terminal servers, background denies on
// conventional ports, and inter-building ACL logs on the 2921s. Fixed traffic does not scale:
// VM host heartbeats every 15 minutes, NTP, printers and the print server calling their vendor.
//
// # Incidents
//
// Each is listed in Truth with its window, hosts, peers and the detector that must find it:
// exfiltration (volume_spike), SAN through the firewall (san_crossing), printer egress
// (printer_egress), DNS to an unapproved resolver (dns_unapproved), a silent VM host
// (silent_host), a VPN login from a new source (new_vpn_source), unconventional ports outbound
// and repeatedly denied inbound (unusual_ports), workstations of two buildings talking directly
// (segment_violation) and a port scan (port_scan). Incident days are placed relative to
// Config.Days: after three weeks of history in a 30-day run, and all inside a 3-day run.
package scenario
