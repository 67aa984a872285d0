package ciscolog

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The project's own line for every id and mnemonic the templates type, written from the
// formats of Cisco's ASA and IOS message guides (addresses from the documentation ranges).
type covCase struct {
	tag, body string
	want      f
}

var asaCoverage = map[uint32]covCase{
	106002: {"ASA-2", "udp Connection denied by outbound list acl-out src 10.20.1.15 dest 203.0.113.9", f{"action": "deny", "dir": "outbound", "acl": "acl-out", "src": "10.20.1.15", "dst": "203.0.113.9", "proto": "17"}},
	106012: {"ASA-6", "Deny IP from 192.0.2.10 to 10.20.1.15, IP options: \"Router Alert\"", f{"action": "deny", "src": "192.0.2.10", "dst": "10.20.1.15", "reason": "IP options: \"Router Alert\""}},
	106013: {"ASA-2", "Dropping echo request from 192.0.2.11 to PAT address 198.51.100.7", f{"action": "drop", "proto": "1", "dir": "inbound", "src": "192.0.2.11", "dst": "198.51.100.7"}},
	106016: {"ASA-2", "Deny IP spoof from (10.20.1.99) to 198.51.100.7 on interface outside", f{"action": "deny", "src": "outside:10.20.1.99", "dst": "198.51.100.7"}},
	106017: {"ASA-2", "Deny IP due to Land Attack from 198.51.100.7 to 198.51.100.7", f{"action": "deny", "src": "198.51.100.7", "dst": "198.51.100.7"}},
	106018: {"ASA-2", "ICMP packet type 8 denied by inbound list outside_in src 192.0.2.12 dest 198.51.100.7", f{"action": "deny", "proto": "1", "icmp": "8/-1", "acl": "outside_in", "src": "192.0.2.12"}},
	106020: {"ASA-2", "Deny IP teardrop fragment (size = 1480, offset = 0) from 192.0.2.13 to 10.20.1.15", f{"action": "deny", "src": "192.0.2.13", "dst": "10.20.1.15"}},
	106022: {"ASA-2", "Deny TCP connection spoof from 192.0.2.14 to 10.20.1.15 on interface outside", f{"action": "deny", "proto": "6", "src": "outside:192.0.2.14"}},
	106027: {"ASA-4", `Deny src 192.0.2.15 dst 10.20.1.15 by access-group "outside_in"`, f{"action": "deny", "acl": "outside_in", "src": "192.0.2.15", "dst": "10.20.1.15"}},
	106102: {"ASA-6", "access-list vpn_filter permitted tcp for user dr.lee outside/192.0.2.16(50001) -> inside/10.20.1.30(3389) hit-cnt 1 first hit [0x1, 0x0]", f{"action": "permit", "user": "dr.lee", "src": "outside:192.0.2.16/50001", "dst": "inside:10.20.1.30/3389"}},
	106103: {"ASA-4", "access-list vpn_filter denied udp for user dr.lee outside/192.0.2.16(50002) -> inside/10.20.1.30(161) hit-cnt 1 first hit [0x1, 0x0]", f{"action": "deny", "proto": "17", "dst": "inside:10.20.1.30/161"}},
	106101: {"ASA-1", "Number of cached deny-flows for ACL log has reached limit (4096).", f{"action": "info", "reason": "4096"}},
	109001: {"ASA-6", "Auth start for user dr.lee from 10.20.1.15/52200 to 192.0.2.140/80", f{"action": "info", "user": "dr.lee", "src": "10.20.1.15/52200", "dst": "192.0.2.140/80"}},
	109002: {"ASA-6", "Auth from 10.20.1.15/52201 to 192.0.2.140/80 failed (server 10.20.0.10 failed) on interface inside.", f{"action": "login-failed", "reason": "server 10.20.0.10 failed", "src": "inside:10.20.1.15/52201"}},
	109003: {"ASA-6", "Auth from 10.20.1.15 to 192.0.2.140/80 failed (all servers failed) on interface inside, so marking all servers ACTIVE again.", f{"action": "login-failed", "reason": "all servers failed", "src": "inside:10.20.1.15"}},
	109005: {"ASA-6", "Authentication succeeded for user dr.lee from 10.20.1.15/52202 to 192.0.2.140/443 on interface inside.", f{"action": "login", "user": "dr.lee", "src": "inside:10.20.1.15/52202", "dst": "192.0.2.140/443"}},
	109006: {"ASA-6", "Authentication failed for user admin from 10.20.1.16/52203 to 192.0.2.140/443 on interface inside.", f{"action": "login-failed", "user": "admin", "src": "inside:10.20.1.16/52203"}},
	109007: {"ASA-6", "Authorization permitted for user dr.lee from 10.20.1.15/52204 to 192.0.2.141/443 on interface inside.", f{"action": "permit", "user": "dr.lee", "dst": "192.0.2.141/443"}},
	109008: {"ASA-6", "Authorization denied for user guest from 192.0.2.142/40000 to 10.20.1.30/3389 on interface outside.", f{"action": "deny", "user": "guest", "src": "outside:192.0.2.142/40000", "dst": "10.20.1.30/3389"}},
	109011: {"ASA-2", "Authen Session Start: user 'dr.lee', sid 17", f{"action": "session-start", "user": "dr.lee"}},
	109012: {"ASA-5", "Authen Session End: user 'dr.lee', sid 17, elapsed 3600 seconds", f{"action": "session-end", "user": "dr.lee"}},
	109017: {"ASA-4", "User at 10.20.1.17 exceeded auth proxy connection limit (16)", f{"action": "drop", "src": "10.20.1.17", "reason": "16"}},
	109025: {"ASA-6", "Authorization denied (acl=#ACSACL#-IP-web-5a1b) for user 'guest' from 10.20.1.18/52205 to 192.0.2.143/22 on interface inside using TCP", f{"action": "deny", "acl": "#ACSACL#-IP-web-5a1b", "user": "guest", "proto": "6", "dst": "192.0.2.143/22"}},
	109201: {"ASA-5", "UAUTH: Session=0x12ab, User=dr.lee, Assigned IP=10.99.10.30, Succeeded adding entry.", f{"action": "info", "user": "dr.lee", "src": "- nat=10.99.10.30/0", "reason": "Succeeded adding entry"}},
	109207: {"ASA-5", "UAUTH: Session=0x12ab, User=dr.lee, Assigned IP=10.99.10.30, Succeeded updating entry.", f{"action": "info", "user": "dr.lee"}},
	109210: {"ASA-3", "UAUTH: Session=0x12ab, User=dr.lee, Assigned IP=10.99.10.30, Error adding dynamic ACL for user.", f{"action": "info", "reason": "Error adding dynamic ACL for user"}},
	110002: {"ASA-6", "Failed to locate egress interface for UDP from inside:10.20.1.15/5353 to 192.0.2.200/5353", f{"action": "drop", "reason": "Failed to locate egress interface", "src": "inside:10.20.1.15/5353", "dst": "192.0.2.200/5353"}},
	110003: {"ASA-6", "Routing failed to locate next hop for TCP from inside:10.20.1.15/5000 to outside:192.0.2.201/443", f{"action": "drop", "dst": "outside:192.0.2.201/443"}},
	111004: {"ASA-5", "10.20.0.50 end configuration: OK", f{"action": "config", "src": "10.20.0.50", "reason": "OK"}},
	111005: {"ASA-5", "10.20.0.50 end configuration: FAILED", f{"action": "config", "reason": "FAILED"}},
	111007: {"ASA-5", "Begin configuration: 10.20.0.50 reading from http [POST]", f{"action": "config", "src": "10.20.0.50", "reason": "reading from http [POST]"}},
	111009: {"ASA-7", "User 'netadmin' executed cmd: show running-config", f{"action": "config", "user": "netadmin", "reason": "show running-config"}},
	111010: {"ASA-5", "User 'netadmin', running 'CLI' from IP 10.20.0.50, executed 'write memory'", f{"action": "config", "user": "netadmin", "src": "10.20.0.50", "reason": "write memory"}},
	113008: {"ASA-6", "AAA transaction status ACCEPT : user = dr.lee", f{"action": "login", "user": "dr.lee"}},
	113009: {"ASA-6", "AAA retrieved default group policy (DfltGrpPolicy) for user = dr.lee", f{"action": "login", "user": "dr.lee"}},
	113010: {"ASA-6", "AAA challenge received for user dr.lee from server 10.20.0.10", f{"action": "info", "user": "dr.lee", "dst": "10.20.0.10"}},
	113011: {"ASA-6", "AAA retrieved user specific group policy (Staff) for user dr.lee", f{"action": "login", "user": "dr.lee"}},
	113012: {"ASA-6", "AAA user authentication Successful : local database : user = netadmin", f{"action": "login", "user": "netadmin"}},
	113013: {"ASA-6", "AAA unable to complete the request Error : reason = Server unavailable : user = dr.lee", f{"action": "login-failed", "reason": "Server unavailable", "user": "dr.lee"}},
	113014: {"ASA-6", "AAA authentication server not accessible : server = 10.20.0.10 : user = dr.lee", f{"action": "login-failed", "dst": "10.20.0.10", "user": "dr.lee"}},
	113015: {"ASA-6", "AAA user authentication Rejected : reason = Invalid password : local database : user = admin : user IP = 192.0.2.120", f{"action": "login-failed", "user": "admin", "src": "192.0.2.120", "reason": "Invalid password"}},
	113016: {"ASA-6", "AAA credentials rejected : reason = Invalid password : server = 10.20.0.10 : user = admin : user IP = 192.0.2.121", f{"action": "login-failed", "src": "192.0.2.121", "dst": "10.20.0.10"}},
	113017: {"ASA-6", "AAA credentials rejected : reason = Unspecified : local database : user = admin : user IP = 192.0.2.122", f{"action": "login-failed", "src": "192.0.2.122"}},
	113020: {"ASA-3", "Kerberos error : Clock skew with server 10.20.0.11 greater than 300 seconds", f{"action": "info", "dst": "10.20.0.11"}},
	113021: {"ASA-3", "Attempted console login failed. User guest did NOT have appropriate Admin Rights.", f{"action": "login-failed", "user": "guest"}},
	113022: {"ASA-2", "AAA Marking RADIUS server 10.20.0.10 in aaa-server group RAD as FAILED", f{"action": "info", "dst": "10.20.0.10"}},
	113023: {"ASA-2", "AAA Marking RADIUS server 10.20.0.10 in aaa-server group RAD as ACTIVE", f{"action": "info", "dst": "10.20.0.10"}},
	113029: {"ASA-4", "Group <Staff> User <dr.lee> IP <192.0.2.123> Session could not be established: session limit of 2 reached.", f{"action": "login-failed", "user": "dr.lee", "src": "192.0.2.123", "reason": "Session could not be established: session limit of 2 reached"}},
	113030: {"ASA-4", "Group <Staff> User <dr.lee> IP <192.0.2.123> User not allowed to connect (interface is not allowed)", f{"action": "login-failed", "src": "192.0.2.123"}},
	113031: {"ASA-4", "Group <Staff> User <dr.lee> IP <192.0.2.123> AnyConnect vpn-filter acl-x is an IPv6 ACL; ACL not applied.", f{"action": "login-failed", "user": "dr.lee"}},
	113032: {"ASA-4", "Group <Staff> User <dr.lee> IP <192.0.2.123> AnyConnect ipv6-vpn-filter acl-y is an IPv4 ACL; ACL not applied.", f{"action": "login-failed", "user": "dr.lee"}},
	113033: {"ASA-6", "Group <Staff> User <dr.lee> IP <192.0.2.123> AnyConnect session not allowed. ACL parse error.", f{"action": "login-failed"}},
	113034: {"ASA-4", "Group <Staff> User <dr.lee> IP <192.0.2.123> User ACL acl-z from AAA ignored, AV-PAIR ACL used instead.", f{"action": "login-failed"}},
	113035: {"ASA-4", "Group <Staff> User <dr.lee> IP <192.0.2.123> Session terminated: AnyConnect not enabled or invalid AnyConnect image on the ASA.", f{"action": "login-failed"}},
	113036: {"ASA-4", "Group <Staff> User <dr.lee> IP <192.0.2.123> AAA parameter x value invalid.", f{"action": "login-failed"}},
	113037: {"ASA-6", "Reboot pending, new sessions disabled. Denied user dr.lee login.", f{"action": "login-failed", "user": "dr.lee"}},
	113038: {"ASA-4", "Group <Staff> User <dr.lee> IP <192.0.2.123> Unable to create AnyConnect parent session.", f{"action": "login-failed"}},
	113039: {"ASA-6", "Group <Staff> User <dr.lee> IP <192.0.2.123> AnyConnect parent session started.", f{"action": "session-start", "user": "dr.lee", "src": "192.0.2.123"}},
	113040: {"ASA-4", "Group <Staff> User <dr.lee> IP <192.0.2.123> Terminating the VPN connection attempt from <Guests>. Reason: This connection is group locked to <Staff>.", f{"action": "login-failed", "user": "dr.lee", "reason": "<Guests>"}},
	302010: {"ASA-6", "37 in use, 1204 most used", f{"action": "info"}},
	302012: {"ASA-6", "Pre-allocate H225 Call Signalling Connection for faddr outside:192.0.2.30/1720 to laddr inside:10.20.1.40", f{"action": "info", "src": "inside:10.20.1.40", "dst": "outside:192.0.2.30/1720"}},
	302022: {"ASA-6", "Built director stub TCP connection for outside:192.0.2.31/51000 (192.0.2.31/51000) to inside:10.20.1.41/443 (198.51.100.7/443)", f{"action": "built", "proto": "6", "dst": "inside:10.20.1.41/443 nat=198.51.100.7/443"}},
	302023: {"ASA-6", "Teardown stub TCP connection for outside:192.0.2.31/51000 to inside:10.20.1.41/443 duration 0:00:05 forwarded bytes 1440 Cluster flow with CLU closed on owner", f{"action": "teardown", "bytes": "1440", "dur": "5s"}},
	302024: {"ASA-6", "Built backup stub UDP connection for outside:192.0.2.32/5060 (192.0.2.32/5060) to inside:10.20.1.42/5060 (198.51.100.7/5060)", f{"action": "built", "proto": "17"}},
	302025: {"ASA-6", "Teardown stub UDP connection for outside:192.0.2.32/5060 to inside:10.20.1.42/5060 duration 0:01:00 forwarded bytes 900 Flow closed by inspection", f{"action": "teardown", "bytes": "900"}},
	302026: {"ASA-6", "Built director stub ICMP connection for outside:192.0.2.33/0 (192.0.2.33/0) to inside:10.20.1.43/0 (198.51.100.7/0)", f{"action": "built", "proto": "1"}},
	302027: {"ASA-6", "Teardown stub ICMP connection for outside:192.0.2.33/0 to inside:10.20.1.43/0 duration 0:00:02 forwarded bytes 84", f{"action": "teardown", "bytes": "84"}},
	302017: {"ASA-6", "Built outbound GRE connection 2637 from outside:192.0.2.40 (192.0.2.40) to inside:10.20.1.50/1723 (198.51.100.7/1723) (dr.lee)", f{"action": "built", "proto": "47", "conn": "2637", "init": "dst", "dst": "inside:10.20.1.50/1723 nat=198.51.100.7/1723"}},
	302018: {"ASA-6", "Teardown GRE connection 2637 from outside:192.0.2.40 (192.0.2.40) to inside:10.20.1.50/1723 (198.51.100.7/1723) duration 0:10:02 bytes 83412", f{"action": "teardown", "proto": "47", "bytes": "83412", "dur": "10m2s"}},
	302033: {"ASA-6", "Pre-allocated H323 GUP Connection for faddr outside:192.0.2.34/1719 to laddr inside:10.20.1.44/1719", f{"action": "info", "src": "inside:10.20.1.44/1719"}},
	302303: {"ASA-6", "Built TCP state-bypass connection 8812 from inside:10.20.1.45/51111 (198.51.100.7/51111) to outside:192.0.2.35/443 (192.0.2.35/443)", f{"action": "built", "conn": "8812", "src": "inside:10.20.1.45/51111 nat=198.51.100.7/51111"}},
	302304: {"ASA-6", "Teardown TCP state-bypass connection 8812 from inside:10.20.1.45/51111 to outside:192.0.2.35/443 duration 0:00:09 bytes 6120 TCP FINs", f{"action": "teardown", "conn": "8812", "bytes": "6120", "reason": "TCP FINs"}},
	302305: {"ASA-6", "Built SCTP state-bypass connection 8813 for outside:192.0.2.36/2905 (192.0.2.36/2905) to inside:10.20.1.46/2905 (198.51.100.7/2905)", f{"action": "built", "proto": "132", "conn": "8813"}},
	302306: {"ASA-6", "Teardown SCTP state-bypass connection 8813 for outside:192.0.2.36/2905 to inside:10.20.1.46/2905 duration 0:01:09 bytes 4096 Flow closed by inspection", f{"action": "teardown", "proto": "132", "bytes": "4096", "reason": "Flow closed by inspection"}},
	303002: {"ASA-6", "FTP connection from inside:10.20.1.46/50100 to outside:192.0.2.36/21, user anonymous Retrieved file /pub/list.txt", f{"action": "access", "user": "anonymous", "reason": "/pub/list.txt", "dst": "outside:192.0.2.36/21"}},
	304001: {"ASA-5", "nurse@10.20.1.47 Accessed URL 192.0.2.37:http://intranet.example/", f{"action": "access", "user": "nurse", "src": "10.20.1.47", "dst": "192.0.2.37", "reason": "http://intranet.example/"}},
	304002: {"ASA-5", "Access denied URL http://bad.example/x SRC 10.20.1.48 DEST 192.0.2.38 on interface inside", f{"action": "deny", "src": "inside:10.20.1.48", "dst": "192.0.2.38", "reason": "http://bad.example/x"}},
	305005: {"ASA-3", "No translation group found for tcp src inside:10.20.1.49/5000 dst outside:192.0.2.39/80", f{"action": "drop", "src": "inside:10.20.1.49/5000"}},
	305006: {"ASA-3", "regular translation creation failed for icmp src inside:10.20.1.50 dst outside:192.0.2.40 (type 8, code 0)", f{"action": "drop", "proto": "1"}},
	305009: {"ASA-6", "Built dynamic translation from inside:10.20.1.51 to outside:198.51.100.7", f{"action": "translate", "src": "inside:10.20.1.51 nat=198.51.100.7/0", "dst": "outside:-"}},
	305010: {"ASA-6", "Teardown static translation from inside:10.20.1.51 to outside:198.51.100.7 duration 1:00:00", f{"action": "translate-end", "dur": "1h0m0s"}},
	305013: {"ASA-5", "Asymmetric NAT rules matched for forward and reverse flows; Connection tcp src outside:192.0.2.41/5000 dst inside:10.20.1.52/80 denied due to NAT reverse path failure.", f{"action": "drop", "src": "outside:192.0.2.41/5000"}},
	313008: {"ASA-3", "Denied IPv6-ICMP type=134, code=0 from 2001:db8::1 on interface outside", f{"action": "deny", "proto": "58", "icmp": "134/0", "src": "outside:2001:db8::1"}},
	313009: {"ASA-4", "Denied invalid ICMP code 9, for inside:10.20.1.53/0 (198.51.100.7/0) to outside:192.0.2.42/0 (192.0.2.42/0), ICMP id 1, ICMP type 8", f{"action": "deny", "icmp": "-1/9"}},
	315011: {"ASA-6", "SSH session from 10.20.0.50 on interface inside for user netadmin disconnected by SSH server, reason: Time-out activated", f{"action": "logout", "user": "netadmin", "src": "inside:10.20.0.50", "reason": "Time-out activated"}},
	322001: {"ASA-3", "Deny MAC address 0011.2233.4455, possible spoof attempt on interface inside", f{"action": "deny", "src": "inside:-"}},
	322002: {"ASA-3", "ARP inspection check failed for arp request received from host 0011.2233.4456 on interface inside. This host is advertising MAC Address 0011.2233.4456 for IP Address 10.20.1.54, which is statically bound to MAC Address 0011.2233.4457", f{"action": "deny"}},
	338001: {"ASA-4", "Dynamic Filter monitored blacklisted TCP traffic from outside:192.0.2.50/80 (192.0.2.50/80) to inside:10.20.1.55/51000 (198.51.100.7/51000), source 192.0.2.50 resolved from dynamic list: bad.example, threat-level: high, category: Malware", f{"action": "alert", "acl": "dynamic", "reason": "bad.example"}},
	338002: {"ASA-4", "Dynamic Filter monitored blacklisted TCP traffic from inside:10.20.1.55/51000 (198.51.100.7/51000) to outside:192.0.2.50/80 (192.0.2.50/80), destination 192.0.2.50 resolved from dynamic list: bad.example", f{"action": "alert", "proto": "6", "src": "inside:10.20.1.55/51000 nat=198.51.100.7/51000"}},
	338003: {"ASA-4", "Dynamic Filter monitored blacklisted UDP traffic from outside:192.0.2.51/53 (192.0.2.51/53) to inside:10.20.1.56/5000 (198.51.100.7/5000), source 192.0.2.51 resolved from local list: 192.0.2.51, threat-level: very-high, category: Botnet", f{"action": "alert", "proto": "17"}},
	338004: {"ASA-4", "Dynamic Filter monitored blacklisted TCP traffic from inside:10.20.1.56/5000 (198.51.100.7/5000) to outside:192.0.2.51/443 (192.0.2.51/443), destination 192.0.2.51 resolved from local list: 192.0.2.0/24, threat-level: high, category: Botnet", f{"action": "alert"}},
	338005: {"ASA-4", "Dynamic Filter dropped blacklisted TCP traffic from outside:192.0.2.52/80 (192.0.2.52/80) to inside:10.20.1.57/51000 (198.51.100.7/51000), source 192.0.2.52 resolved from dynamic list: c2.example, threat-level: high, category: Malware", f{"action": "drop", "reason": "c2.example"}},
	338006: {"ASA-4", "Dynamic Filter dropped blacklisted TCP traffic from inside:10.20.1.57/51000 (198.51.100.7/51000) to outside:192.0.2.52/80 (192.0.2.52/80), destination 192.0.2.52 resolved from dynamic list: c2.example, threat-level: high, category: Malware", f{"action": "drop"}},
	338007: {"ASA-4", "Dynamic Filter dropped blacklisted UDP traffic from outside:192.0.2.53/53 (192.0.2.53/53) to inside:10.20.1.58/5000 (198.51.100.7/5000), source 192.0.2.53 resolved from local list: 192.0.2.53, threat-level: high, category: Botnet", f{"action": "drop"}},
	338008: {"ASA-4", "Dynamic Filter dropped blacklisted TCP traffic from inside:10.20.1.58/5000 (198.51.100.7/5000) to outside:192.0.2.53/443 (192.0.2.53/443), destination 192.0.2.53 resolved from local list: 192.0.2.53, threat-level: high, category: Botnet", f{"action": "drop"}},
	338101: {"ASA-4", "Dynamic Filter action whitelisted TCP traffic from outside:192.0.2.54/80 (192.0.2.54/80) to inside:10.20.1.59/51000 (198.51.100.7/51000), source 192.0.2.54 resolved from local list: good.example", f{"action": "permit"}},
	338102: {"ASA-4", "Dynamic Filter action whitelisted TCP traffic from inside:10.20.1.59/51000 (198.51.100.7/51000) to outside:192.0.2.54/80 (192.0.2.54/80), destination 192.0.2.54 resolved from local list: good.example", f{"action": "permit"}},
	338103: {"ASA-4", "Dynamic Filter action whitelisted TCP traffic from outside:192.0.2.54/80 (192.0.2.54/80) to inside:10.20.1.59/51000 (198.51.100.7/51000), source 192.0.2.54 resolved from local list: 192.0.2.54", f{"action": "permit"}},
	338104: {"ASA-4", "Dynamic Filter action whitelisted TCP traffic from inside:10.20.1.59/51000 (198.51.100.7/51000) to outside:192.0.2.54/80 (192.0.2.54/80), destination 192.0.2.54 resolved from local list: 192.0.2.54", f{"action": "permit"}},
	338201: {"ASA-4", "Dynamic Filter monitored greylisted TCP traffic from outside:192.0.2.55/80 (192.0.2.55/80) to inside:10.20.1.60/51000 (198.51.100.7/51000), source 192.0.2.55 resolved from dynamic list: grey.example, threat-level: low, category: Ads", f{"action": "alert"}},
	338202: {"ASA-4", "Dynamic Filter monitored greylisted TCP traffic from inside:10.20.1.60/51000 (198.51.100.7/51000) to outside:192.0.2.55/80 (192.0.2.55/80), destination 192.0.2.55 resolved from dynamic list: grey.example, threat-level: low, category: Ads", f{"action": "alert"}},
	338203: {"ASA-4", "Dynamic Filter dropped greylisted TCP traffic from outside:192.0.2.55/80 (192.0.2.55/80) to inside:10.20.1.60/51000 (198.51.100.7/51000), source 192.0.2.55 resolved from dynamic list: grey.example, threat-level: low, category: Ads", f{"action": "drop"}},
	338204: {"ASA-4", "Dynamic Filter dropped greylisted TCP traffic from inside:10.20.1.60/51000 (198.51.100.7/51000) to outside:192.0.2.55/80 (192.0.2.55/80), destination 192.0.2.55 resolved from dynamic list: grey.example, threat-level: low, category: Ads", f{"action": "drop"}},
	338301: {"ASA-4", "Intercepted DNS reply for domain bad.example from outside:192.0.2.56/53 to inside:10.20.1.61/5353, matched blacklist", f{"action": "alert", "reason": "bad.example", "acl": "blacklist"}},
	401004: {"ASA-4", "Shunned packet: 192.0.2.57 ==> 198.51.100.7 on interface outside", f{"action": "drop", "src": "outside:192.0.2.57", "dst": "198.51.100.7"}},
	402117: {"ASA-4", "IPSEC: Received a non-IPSec (ESP) packet from 192.0.2.58 to 198.51.100.7.", f{"action": "drop", "src": "192.0.2.58", "dst": "198.51.100.7"}},
	402119: {"ASA-4", "IPSEC: Received an ESP packet (SPI= 0x1A2B3C4D, sequence number= 0x10) from 192.0.2.59 (user= 192.0.2.59) to 198.51.100.7 that failed anti-replay checking.", f{"action": "drop", "user": "192.0.2.59", "dst": "198.51.100.7"}},
	405001: {"ASA-4", "Received ARP request collision from 10.20.1.62/0011.2233.4458 on interface inside with existing ARP entry 10.20.1.62/0011.2233.4459", f{"action": "alert", "src": "inside:10.20.1.62"}},
	406002: {"ASA-4", "FTP port command different address: 10.20.1.63(192.0.2.60) on interface inside", f{"action": "drop", "src": "inside:10.20.1.63", "dst": "192.0.2.60"}},
	410001: {"ASA-4", "Dropped UDP DNS reply from outside:192.0.2.61/53 to inside:10.20.1.64/5353; packet length 2000 bytes exceeds configured limit of 512 bytes", f{"action": "drop", "src": "outside:192.0.2.61/53"}},
	419001: {"ASA-4", "Dropping TCP packet from outside:192.0.2.62/5000 to inside:10.20.1.65/80, reason: MSS exceeded, MSS 1380, data 1460", f{"action": "drop", "reason": "MSS exceeded, MSS 1380, data 1460"}},
	419002: {"ASA-4", "Received duplicate TCP SYN from outside:192.0.2.63/5000 to inside:10.20.1.66/80 with different initial sequence number", f{"action": "info", "proto": "6", "reason": "Received duplicate TCP SYN"}},
	420002: {"ASA-4", "IPS requested to drop ICMP packet from outside:192.0.2.64/0 to inside:10.20.1.67/0", f{"action": "drop", "proto": "1"}},
	421001: {"ASA-3", "TCP flow from outside:192.0.2.65/5000 to inside:10.20.1.68/25 is dropped because application has failed.", f{"action": "drop", "reason": "application has failed."}},
	425005: {"ASA-5", "Interface GigabitEthernet0/1 become active in redundant interface Redundant1", f{"action": "info", "src": "GigabitEthernet0/1:-", "dst": "Redundant1:-"}},
	434002: {"ASA-4", "SFR requested to drop TCP packet from outside:192.0.2.66/5000 to inside:10.20.1.69/80", f{"action": "drop"}},
	434004: {"ASA-5", "SFR requested ASA to bypass further packet redirection and process TCP flow from inside:10.20.1.70/5000 to outside:192.0.2.67/443 locally", f{"action": "info"}},
	500004: {"ASA-4", "Invalid transport field for protocol=UDP, from 192.0.2.68/0 to 10.20.1.71/0", f{"action": "drop", "proto": "17"}},
	502103: {"ASA-5", "User priv level changed: Uname: netadmin From: 1 To: 15", f{"action": "config", "user": "netadmin", "reason": "15"}},
	507001: {"ASA-5", "Terminating TCP-Proxy connection from outside:192.0.2.69/5000 to inside:10.20.1.72/80 - reassembly limit of 8192 bytes exceeded", f{"action": "drop"}},
	507003: {"ASA-3", "tcp flow from outside:192.0.2.70/5000 to inside:10.20.1.73/80 terminated by inspection engine, reason - invalid TCP option", f{"action": "drop", "reason": "invalid TCP option"}},
	602303: {"ASA-6", "IPSEC: An outbound LAN-to-LAN SA (SPI= 0x1234) between 198.51.100.7 and 192.0.2.71 (user= 192.0.2.71) has been created.", f{"action": "info", "dir": "outbound", "src": "198.51.100.7", "dst": "192.0.2.71"}},
	602304: {"ASA-6", "IPSEC: An inbound LAN-to-LAN SA (SPI= 0x1235) between 192.0.2.71 and 198.51.100.7 (user= 192.0.2.71) has been deleted.", f{"action": "info", "dir": "inbound"}},
	607001: {"ASA-6", "Pre-allocate SIP UDP secondary channel for inside:10.20.1.74/5060 to outside:192.0.2.72 from INVITE message", f{"action": "info", "proto": "17", "reason": "INVITE"}},
	609001: {"ASA-7", "Built local-host inside:10.20.1.75", f{"action": "info", "src": "inside:10.20.1.75"}},
	609002: {"ASA-7", "Teardown local-host inside:10.20.1.75 duration 0:01:30", f{"action": "info", "dur": "1m30s"}},
	611101: {"ASA-6", "User authentication succeeded: IP address: 10.20.0.50, Uname: netadmin", f{"action": "login", "src": "10.20.0.50", "user": "netadmin"}},
	611102: {"ASA-6", "User authentication failed: IP address: 192.0.2.73, Uname: admin", f{"action": "login-failed", "src": "192.0.2.73", "user": "admin"}},
	611103: {"ASA-5", "User logged out: Uname: netadmin", f{"action": "logout", "user": "netadmin"}},
	620001: {"ASA-6", "Pre-allocate CTIQBE RTP secondary channel for inside:10.20.1.76/2748 to outside:192.0.2.74 from CTIQBE message", f{"action": "info"}},
	710001: {"ASA-7", "TCP access requested from 10.20.0.50/51000 to inside:10.20.1.1/https", f{"action": "info", "src": "10.20.0.50/51000", "dst": "inside:10.20.1.1/443"}},
	710002: {"ASA-7", "TCP access permitted from 10.20.0.50/51000 to inside:10.20.1.1/ssh", f{"action": "permit", "dst": "inside:10.20.1.1/22"}},
	710006: {"ASA-7", "ESP request discarded from 192.0.2.75 to outside:198.51.100.7", f{"action": "drop", "proto": "50", "src": "192.0.2.75"}},
	710007: {"ASA-7", "NAT-T keepalive received from 192.0.2.76/4500 to outside:198.51.100.7/4500", f{"action": "info", "src": "192.0.2.76/4500"}},
	716003: {"ASA-6", "Group <Staff> User <dr.lee> IP <192.0.2.77> WebVPN access GRANTED: http://intranet.example/", f{"action": "access", "user": "dr.lee", "reason": "http://intranet.example/"}},
	716004: {"ASA-6", "Group <Staff> User <dr.lee> IP <192.0.2.77> WebVPN access DENIED to specified location: http://hr.example/", f{"action": "deny", "src": "192.0.2.77"}},
	716038: {"ASA-6", "Group <Staff> User <dr.lee> IP <192.0.2.77> Authentication: successful, Session Type: WebVPN.", f{"action": "login", "reason": "WebVPN"}},
	716039: {"ASA-6", "Group <Staff> User <dr.lee> IP <192.0.2.77> Authentication: rejected, Session Type: WebVPN.", f{"action": "login-failed", "user": "dr.lee", "src": "192.0.2.77"}},
	716058: {"ASA-6", "Group <Staff> User <dr.lee> IP <192.0.2.77> AnyConnect session lost connection. Waiting to resume.", f{"action": "session-end"}},
	716059: {"ASA-6", "Group <Staff> User <dr.lee> IP <10.99.10.21> AnyConnect session resumed connection from IP <192.0.2.78>.", f{"action": "session-start", "src": "192.0.2.78", "dst": "10.99.10.21", "user": "dr.lee"}},
	721016: {"ASA-6", "(WebVPN-Primary) WebVPN session for client user dr.lee, IP 192.0.2.79 has been created.", f{"action": "session-start", "user": "dr.lee", "src": "192.0.2.79"}},
	721018: {"ASA-6", "(WebVPN-Primary) WebVPN session for client user dr.lee, IP 192.0.2.79 has been deleted.", f{"action": "session-end", "src": "192.0.2.79"}},
	725001: {"ASA-6", "Starting SSL handshake with client outside:192.0.2.80/51000 to 198.51.100.7/443 for TLSv1.2 session", f{"action": "info", "src": "outside:192.0.2.80/51000", "dst": "198.51.100.7/443", "reason": "TLSv1.2"}},
	725002: {"ASA-6", "Device completed SSL handshake with client outside:192.0.2.80/51000 to 198.51.100.7/443 for TLSv1.2 session", f{"action": "info"}},
	725006: {"ASA-6", "Device failed SSL handshake with client outside:192.0.2.80/51000 to 198.51.100.7/443", f{"action": "info"}},
	725007: {"ASA-6", "SSL session with client outside:192.0.2.80/51000 to 198.51.100.7/443 terminated", f{"action": "info"}},
	725016: {"ASA-6", "Device selects trust-point ASDM_TrustPoint0 for client outside:192.0.2.80/51000 to 198.51.100.7/443", f{"action": "info", "reason": "ASDM_TrustPoint0"}},
	733101: {"ASA-4", "Host 192.0.2.81 is attacking. Current burst rate is 200 per second, max configured rate is 0; Current average rate is 150 per second, max configured rate is 0; Cumulative total count is 9000", f{"action": "threat", "src": "192.0.2.81", "reason": "attacking"}},
	733102: {"ASA-4", "Threat-detection adds host 192.0.2.81 to shun list", f{"action": "threat", "src": "192.0.2.81"}},
	733103: {"ASA-4", "Threat-detection removes host 192.0.2.81 from shun list", f{"action": "info"}},
	734001: {"ASA-6", "DAP: User dr.lee, Addr 192.0.2.82, Connection AnyConnect: The following DAP records were selected for this connection: Staff, Default", f{"action": "login", "user": "dr.lee", "src": "192.0.2.82", "reason": "AnyConnect"}},
	321007: {"ASA-3", "System is low on free memory blocks of size 1550 (12 CNT out of 1400 MAX)", f{"action": "info", "reason": "1550"}},
	717022: {"ASA-6", "Certificate was successfully validated. serial number: 5A3F11, subject name: CN=vpn.clinic.example,O=Clinic.", f{"action": "info", "reason": "CN=vpn.clinic.example,O=Clinic"}},
	805001: {"ASA-6", "Offloaded TCP Flow for connection 9901 from inside:10.20.1.77/5000 (198.51.100.7/5000) to outside:192.0.2.83/443 (192.0.2.83/443)", f{"action": "info", "conn": "9901"}},
	805002: {"ASA-6", "TCP Flow is no longer offloaded for connection 9901 from inside:10.20.1.77/5000 (198.51.100.7/5000) to outside:192.0.2.83/443 (192.0.2.83/443)", f{"action": "info", "conn": "9901"}},
}

// Lines for the id ranges read by one template family.
var asaRangeCoverage = []covCase{
	{"ASA-4-400013", "IPS:2003 ICMP redirect from 192.0.2.90 to 10.20.1.1 on interface outside", f{"action": "alert", "src": "outside:192.0.2.90", "dst": "10.20.1.1", "reason": "ICMP redirect"}},
	{"ASA-5-713049", "Group = 192.0.2.91, IP = 192.0.2.91, Security negotiation complete for LAN-to-LAN Group (192.0.2.91)  Initiator, Inbound SPI = 0x1, Outbound SPI = 0x2", f{"action": "session-start", "src": "192.0.2.91"}},
	{"ASA-3-713902", "Group = Staff, Username = dr.lee, IP = 192.0.2.92, Removing peer from correlator table failed", f{"action": "info", "user": "dr.lee", "src": "192.0.2.92"}},
	{"ASA-6-302035", "Built inbound SCTP connection 9001 for outside:192.0.2.37/2905 (192.0.2.37/2905) to dmz:10.30.0.8/2905 (198.51.100.9/2905)", f{"action": "built", "proto": "132", "conn": "9001", "init": "src", "src": "outside:192.0.2.37/2905 nat=192.0.2.37/2905"}},
	{"ASA-6-302036", "Teardown SCTP connection 9001 for outside:192.0.2.37/2905 to dmz:10.30.0.8/2905 duration 0:05:00 bytes 12000 SCTP ABORT", f{"action": "teardown", "proto": "132", "bytes": "12000", "dur": "5m0s"}},
	{"ASA-6-713904", "All IPSec SA proposals found unacceptable!", f{"action": "info", "reason": "All IPSec SA proposals found unacceptable!"}},
	{"ASA-6-716059", "Group <Staff> User IP <192.0.2.97> AnyConnect session resumed connection from IP <192.0.2.98>.", f{"action": "session-start", "user": "", "src": "192.0.2.98", "dst": "192.0.2.97"}},
	{"ASA-4-722032", "Group <Staff> User <dr.lee> IP <192.0.2.93> New UDP SVC connection replacing old connection.", f{"action": "session-start", "user": "dr.lee"}},
	{"ASA-5-722033", "Group <Staff> User <dr.lee> IP <192.0.2.93> First TCP SVC connection established for SVC session.", f{"action": "session-start", "proto": "6"}},
	{"ASA-5-722037", "Group <Staff> User <dr.lee> IP <192.0.2.93> SVC closing connection: DPD failure.", f{"action": "session-end", "reason": "SVC closing connection: DPD failure"}},
	{"ASA-6-737026", "IPAA: Session=0x0001, Client assigned 10.99.10.22 from local pool VPN-POOL", f{"action": "info", "src": "- nat=10.99.10.22/0"}},
	{"ASA-5-737003", "IPAA: Session=0x0001, DHCP configured, no viable servers found for tunnel-group Staff", f{"action": "info"}},
	{"ASA-5-750002", "Local:198.51.100.7:500 Remote:192.0.2.94:500 Username:Unknown IKEv2 Received a IKE_INIT_SA request", f{"action": "info", "src": "192.0.2.94/500", "dst": "198.51.100.7/500"}},
	{"ASA-6-751025", "Local:2001:db8::7:4500 Remote:2001:db8::94:50470 Username:dr.lee IKEv2 Group:Staff IPv4 Address=10.99.10.23 assigned to session", f{"action": "info", "src": "2001:db8::94/50470", "user": "dr.lee"}},
	{"FTD-1-430003", "EventPriority: Low, SrcIP: 10.20.1.78, DstIP: 192.0.2.95, SrcPort: 51000, DstPort: 443, Protocol: tcp, IngressInterface: inside, EgressInterface: outside, AccessControlRuleAction: Block with reset, AccessControlRuleName: No-Social, InitiatorBytes: 74, ResponderBytes: 0", f{"action": "deny", "acl": "No-Social", "src": "inside:10.20.1.78/51000"}},
	{"NGIPS-1-430005", "SrcIP: 192.0.2.96, DstIP: 10.20.1.79, SrcPort: 80, DstPort: 51001, Protocol: tcp, FileName: a.exe, ThreatName: Win.Trojan", f{"action": "alert", "reason": "Win.Trojan", "family": "asa"}},
}

var iosCoverage = map[string]covCase{
	"SEC_LOGIN-LOGIN_SUCCESS":                    {"SEC_LOGIN-5-LOGIN_SUCCESS", "Login Success [user: netadmin] [Source: 10.20.0.50] [localport: 22] at 10:00:01 CET Tue Mar 3 2026", f{"action": "login", "user": "netadmin", "src": "10.20.0.50", "dst": "-/22"}},
	"SEC_LOGIN-LOGIN_FAILED":                     {"SEC_LOGIN-4-LOGIN_FAILED", "Login failed [user: admin] [Source: 192.0.2.60] [localport: 23] [Reason: Login Authentication Failed] at 10:00:02 CET Tue Mar 3 2026", f{"action": "login-failed", "user": "admin", "reason": "Login Authentication Failed"}},
	"SEC_LOGIN-QUIET_MODE_ON":                    {"SEC_LOGIN-1-QUIET_MODE_ON", "Still timeleft for watching failures is 158 secs, [user: admin] [Source: 192.0.2.60] [localport: 22] [Reason: Login Authentication Failed] [ACL: sl_def_acl] at 10:00:03 CET Tue Mar 3 2026", f{"action": "threat", "acl": "sl_def_acl", "src": "192.0.2.60"}},
	"SEC_LOGIN-QUIET_MODE_OFF":                   {"SEC_LOGIN-5-QUIET_MODE_OFF", "Quiet Mode is OFF, because block period timed out at 10:05:00 CET Tue Mar 3 2026", f{"action": "info"}},
	"SSH-SSH2_SESSION":                           {"SSH-5-SSH2_SESSION", "SSH2 Session request from 10.20.0.50 (tty = 0) using crypto cipher 'aes256-ctr', hmac 'hmac-sha2-256' Succeeded", f{"action": "info", "src": "10.20.0.50", "reason": "Succeeded"}},
	"SSH-SSH2_USERAUTH":                          {"SSH-5-SSH2_USERAUTH", "User 'admin' authentication for SSH2 Session from 192.0.2.60 (tty = 0) using crypto cipher 'aes256-ctr', hmac 'hmac-sha2-256' Failed", f{"action": "login-failed", "user": "admin", "src": "192.0.2.60"}},
	"SSH-SSH2_CLOSE":                             {"SSH-5-SSH2_CLOSE", "SSH2 Session from 10.20.0.50 (tty = 0) for user 'netadmin' using crypto cipher 'aes256-ctr', hmac 'hmac-sha2-256' closed", f{"action": "logout", "user": "netadmin"}},
	"SSH-SSH_SESSION":                            {"SSH-5-SSH_SESSION", "SSH Session request from 10.20.0.51 (tty = 1) using crypto cipher '3des-cbc' Failed", f{"action": "info", "src": "10.20.0.51"}},
	"SSH-SSH_USERAUTH":                           {"SSH-5-SSH_USERAUTH", "User 'netadmin' authentication for SSH Session from 10.20.0.51 (tty = 1) using crypto cipher '3des-cbc' Succeeded", f{"action": "login", "user": "netadmin"}},
	"SSH-SSH_CLOSE":                              {"SSH-5-SSH_CLOSE", "SSH Session from 10.20.0.51 (tty = 1) for user 'netadmin' using crypto cipher '3des-cbc' closed", f{"action": "logout"}},
	"SSH-ENABLED":                                {"SSH-5-ENABLED", "SSH 2.0 has been enabled", f{"action": "info", "reason": "2.0"}},
	"SSH-DISABLED":                               {"SSH-5-DISABLED", "SSH 2.0 has been disabled", f{"action": "info"}},
	"SYS-CONFIG_I":                               {"SYS-5-CONFIG_I", "Configured from console by vty0 (10.20.0.52)", f{"action": "config", "src": "10.20.0.52", "user": ""}},
	"SYS-PRIV_AUTH_PASS":                         {"SYS-5-PRIV_AUTH_PASS", "Privilege level set to 15 by netadmin on vty0 (10.20.0.50)", f{"action": "login", "user": "netadmin", "src": "10.20.0.50"}},
	"SYS-PRIV_AUTH_FAIL":                         {"SYS-5-PRIV_AUTH_FAIL", "Authentication to Privilege level 15 failed by admin on vty1 (192.0.2.61)", f{"action": "login-failed", "user": "admin", "src": "192.0.2.61"}},
	"SYS-LOGOUT":                                 {"SYS-6-LOGOUT", "User netadmin has exited tty session 2(10.20.0.50)", f{"action": "logout", "user": "netadmin", "src": "10.20.0.50"}},
	"SYS-LOGGINGHOST_STARTSTOP":                  {"SYS-6-LOGGINGHOST_STARTSTOP", "Logging to host 10.20.0.60 port 514 started - CLI initiated", f{"action": "info", "dst": "10.20.0.60/514"}},
	"PARSER-CFGLOG_LOGGEDCMD":                    {"PARSER-5-CFGLOG_LOGGEDCMD", "User:netadmin  logged command:ip access-list extended INTERNET-IN", f{"action": "config", "user": "netadmin", "reason": "ip access-list extended INTERNET-IN"}},
	"AAA-USER_LOCKED":                            {"AAA-5-USER_LOCKED", "User admin locked out on authentication failure", f{"action": "login-failed", "user": "admin"}},
	"AAA-USER_UNLOCKED":                          {"AAA-5-USER_UNLOCKED", "User admin unlocked by netadmin", f{"action": "info", "user": "admin"}},
	"AAA-USER_RESET":                             {"AAA-5-USER_RESET", "User admin failed attempts reset by netadmin", f{"action": "info", "user": "admin"}},
	"IPS-SIGNATURE":                              {"IPS-4-SIGNATURE", "Sig:3050 Subsig:1 Sev:4 TCP SYN/FIN Packet [192.0.2.62:44123 -> 198.51.100.1:80]", f{"action": "alert", "reason": "TCP SYN/FIN Packet", "src": "192.0.2.62/44123", "dst": "198.51.100.1/80"}},
	"DOT1X-FAIL":                                 {"DOT1X-5-FAIL", "Authentication failed for client (0011.2233.4460) on Interface Gi1/0/3 AuditSessionID 0A14000100000FA1", f{"action": "login-failed", "src": "Gi1/0/3:-"}},
	"MAB-FAIL":                                   {"MAB-5-FAIL", "Authentication failed for client (0011.2233.4461) on Interface Gi1/0/4 AuditSessionID 0A14000100000FA2", f{"action": "login-failed"}},
	"DOT1X-SUCCESS":                              {"DOT1X-5-SUCCESS", "Authentication successful for client (0011.2233.4462) on Interface Gi1/0/5 AuditSessionID 0A14000100000FA3", f{"action": "login"}},
	"MAB-SUCCESS":                                {"MAB-5-SUCCESS", "Authentication successful for client (0011.2233.4463) on Interface Gi1/0/6", f{"action": "login"}},
	"SESSION_MGR-SUCCESS":                        {"SESSION_MGR-5-SUCCESS", "Authentication successful for client (0011.2233.4464) on Interface Gi1/0/7 AuditSessionID 0A14000100000FA4", f{"action": "login"}},
	"PORT_SECURITY-PSECURE_VIOLATION":            {"PORT_SECURITY-2-PSECURE_VIOLATION", "Security violation occurred, caused by MAC address 0011.2233.4465 on port GigabitEthernet1/0/8.", f{"action": "deny", "src": "GigabitEthernet1/0/8:-"}},
	"PORT_SECURITY-PSECURE_VIOLATION_VLAN":       {"PORT_SECURITY-2-PSECURE_VIOLATION_VLAN", "Security violation on port GigabitEthernet1/0/9 due to MAC address 0011.2233.4466 on VLAN 20", f{"action": "deny"}},
	"LINK-UPDOWN":                                {"LINK-3-UPDOWN", "Interface GigabitEthernet0/1, changed state to up", f{"action": "state-change", "reason": "up", "src": "GigabitEthernet0/1:-"}},
	"LINEPROTO-UPDOWN":                           {"LINEPROTO-5-UPDOWN", "Line protocol on Interface GigabitEthernet0/1, changed state to down", f{"action": "state-change", "reason": "down"}},
	"LINK-CHANGED":                               {"LINK-5-CHANGED", "Interface GigabitEthernet0/2, changed state to administratively down", f{"action": "state-change", "reason": "administratively down"}},
	"DHCP_SNOOPING-DHCP_SNOOPING_UNTRUSTED_PORT": {"DHCP_SNOOPING-5-DHCP_SNOOPING_UNTRUSTED_PORT", "DHCP_SNOOPING drop message on untrusted port, message type: DHCPOFFER, MAC sa: 0011.2233.4467", f{"action": "drop", "reason": "DHCPOFFER"}},
	"DHCP_SNOOPING-DHCP_SNOOPING_MATCH_MAC_FAIL": {"DHCP_SNOOPING-4-DHCP_SNOOPING_MATCH_MAC_FAIL", "DHCP_SNOOPING drop message because the chaddr doesn't match source mac, message type: DHCPDISCOVER, chaddr: 0011.2233.4468, MAC sa: 0011.2233.4469", f{"action": "drop"}},
	"DHCP_SNOOPING-DHCP_SNOOPING_DENY_INVALID_RELEASE_OR_DECLINE_PKT": {"DHCP_SNOOPING-4-DHCP_SNOOPING_DENY_INVALID_RELEASE_OR_DECLINE_PKT", "DHCP_SNOOPING drop message with mismatched source interface, the binding is not updated, message type: DHCPRELEASE, MAC sa: 0011.2233.4470", f{"action": "drop"}},
	"IP-DUPADDR":    {"IP-4-DUPADDR", "Duplicate address 10.20.1.1 on Vlan10, sourced by 0011.2233.4471", f{"action": "alert", "src": "Vlan10:10.20.1.1"}},
	"TCP-BADAUTH":   {"TCP-6-BADAUTH", "No MD5 digest from 192.0.2.63(179) to 198.51.100.1(11023) (RST) tableid - 0", f{"action": "deny", "src": "192.0.2.63/179", "dst": "198.51.100.1/11023", "reason": "No MD5 digest"}},
	"SNMP-AUTHFAIL": {"SNMP-3-AUTHFAIL", "Authentication failure for SNMP req from host 192.0.2.64", f{"action": "login-failed", "src": "192.0.2.64"}},

	"SNMP-AUTH_FAIL":                  {"SNMP-SNMP-3-AUTH_FAIL", "Received snmp request on unknown community from 192.0.2.65", f{"action": "login-failed", "src": "192.0.2.65", "fac": "SNMP-SNMP"}},
	"SNMPD-INFO":                      {"SNMPD-6-INFO", "SNMP log informational : Unknown community string from 192.0.2.66", f{"action": "info", "reason": "Unknown community string from 192.0.2.66"}},
	"AAAA-CLI_DEPRECATED":             {"AAAA-4-CLI_DEPRECATED", "WARNING: Command has been added to the configuration using a type 7 password. However, type 7 passwords will soon be deprecated. Migrate to a supported password type", f{"action": "config", "reason": "type 7 password"}},
	"SYS-CLOCKUPDATE":                 {"SYS-6-CLOCKUPDATE", "System clock has been updated from 10:00:00 CET Tue Mar 3 2026 to 10:00:05 CET Tue Mar 3 2026, configured from NTP by 192.0.2.123.", f{"action": "config", "reason": "NTP"}},
	"SYS-LOG_CONFIG_CHANGE":           {"SYS-5-LOG_CONFIG_CHANGE", "Buffer logging: level debugging, xml disabled, filtering disabled, size (8192)", f{"action": "config", "reason": "level debugging, xml disabled, filtering disabled, size (8192)"}},
	"SYS-RESTART":                     {"SYS-5-RESTART", "System restarted --", f{"action": "info"}},
	"SYS-TTY_EXPIRE_TIMER":            {"SYS-6-TTY_EXPIRE_TIMER", "(exec timer expired, tty 2 (10.20.0.50)), user netadmin", f{"action": "logout", "src": "10.20.0.50", "user": "netadmin"}},
	"AUTHMGR-SECURITY_VIOLATION":      {"AUTHMGR-5-SECURITY_VIOLATION", "Security violation on the interface GigabitEthernet1/0/10, new MAC address (0011.2233.4472) is seen.AuditSessionID 0A14000100000FA5", f{"action": "deny", "src": "GigabitEthernet1/0/10:-"}},
	"DOT1X-INVALID_REPLAY_CTR":        {"DOT1X-3-INVALID_REPLAY_CTR", "1x_eapkey.c:460 Invalid replay counter from client 00:11:22:33:44:73 - got 00 00 00 00 00 00 00 02, expected 00 00 00 00 00 00 00 03", f{"action": "alert"}},
	"IPADTBL-IPDUPLICATE":             {"IPADTBL-N-IPDUPLICATE", "Duplicate IP address 10.20.1.20 from MAC 00:11:22:33:44:74 was detected on VLAN 10, port gi12", f{"action": "alert", "src": "gi12:10.20.1.20"}},
	"EC-COMPATIBLE":                   {"EC-5-COMPATIBLE", "Gi1/0/11 is compatible with port-channel members", f{"action": "state-change", "src": "Gi1/0/11:-"}},
	"EC-CANNOT_BUNDLE2":               {"EC-5-CANNOT_BUNDLE2", "Gi1/0/11 is not compatible with Gi1/0/12 and will be suspended (duplex of Gi1/0/11 is half, Gi1/0/12 is full)", f{"action": "state-change", "src": "Gi1/0/11:-", "dst": "Gi1/0/12:-", "reason": "duplex of Gi1/0/11 is half, Gi1/0/12 is full"}},
	"ILPOWER-POWER_GRANTED":           {"ILPOWER-5-POWER_GRANTED", "Interface Gi1/0/14: Power granted", f{"action": "state-change", "src": "Gi1/0/14:-"}},
	"ILPOWER-IEEE_DISCONNECT":         {"ILPOWER-5-IEEE_DISCONNECT", "Interface Gi1/0/14: PD removed", f{"action": "state-change", "src": "Gi1/0/14:-"}},
	"ILPOWER-SENSE_POWER_INVALID":     {"ILPOWER-5-SENSE_POWER_INVALID", "Interface Gi1/0/15: invalid power sense 31000 milliwatts current 600 mA voltage 52000 mV", f{"action": "info", "src": "Gi1/0/15:-", "reason": "31000 milliwatts"}},
	"PHY-TRANSCEIVERINSERTED":         {"PHY-5-TRANSCEIVERINSERTED", "Slot=2 Port=1: Transceiver has been inserted", f{"action": "state-change", "src": "Slot=2 Port=1:-"}},
	"MV64340_ETHERNET-LATECOLLISION":  {"MV64340_ETHERNET-5-LATECOLLISION", "FastEthernet0/0, late collision error", f{"action": "info", "src": "FastEthernet0/0:-"}},
	"CDP-NATIVE_VLAN_MISMATCH":        {"CDP-4-NATIVE_VLAN_MISMATCH", "Native VLAN mismatch discovered on GigabitEthernet1/0/24 (1), with sw-core GigabitEthernet0/2 (20).", f{"action": "info", "src": "GigabitEthernet1/0/24:-", "dst": "GigabitEthernet0/2:-"}},
	"OSPF-NOVALIDKEY":                 {"OSPF-4-NOVALIDKEY", "No valid authentication key is available on interface GigabitEthernet0/3", f{"action": "info", "src": "GigabitEthernet0/3:-"}},
	"PIM-INVALID_RP_JOIN":             {"PIM-6-INVALID_RP_JOIN", "Received (10.20.1.15, 239.1.1.1) Join from 10.20.0.2 for invalid RP 10.20.0.9", f{"action": "info", "src": "10.20.0.2", "dst": "10.20.0.9", "reason": "(10.20.1.15, 239.1.1.1)"}},
	"SPANTREE-EXTENDED_SYSID":         {"SPANTREE-5-EXTENDED_SYSID", "Extended SysId disabled for type vlan", f{"action": "info", "reason": "disabled"}},
	"SPANTREE-TOPOTRAP":               {"SPANTREE-5-TOPOTRAP", "Topology Change Trap for vlan 20", f{"action": "state-change", "reason": "vlan 20"}},
	"SW_VLAN-VTP_DOMAIN_NAME_CHG":     {"SW_VLAN-6-VTP_DOMAIN_NAME_CHG", "VTP domain name changed to clinic.", f{"action": "config", "reason": "clinic"}},
	"USB_CONSOLE-MEDIA_RJ45":          {"USB_CONSOLE-6-MEDIA_RJ45", "Console media-type is RJ45.", f{"action": "info", "reason": "RJ45"}},
	"PNP-PNP_DISCOVERY_STARTED":       {"PNP-6-PNP_DISCOVERY_STARTED", "PnP Discovery started", f{"action": "info"}},
	"PNP-PNP_DISCOVERY_STOPPED":       {"PNP-6-PNP_DISCOVERY_STOPPED", "PnP Discovery stopped (Config Wr)", f{"action": "info", "reason": "Config Wr"}},
	"PNP-PNP_CDP_UPDATE":              {"PNP-6-PNP_CDP_UPDATE", "Device UDI [PID:C9200L-24P-4G,VID:V01,SN:JAE00000001] identified for CDP", f{"action": "info", "reason": "PID:C9200L-24P-4G,VID:V01,SN:JAE00000001"}},
	"PNP-PNP_BEST_UDI_UPDATE":         {"PNP-6-PNP_BEST_UDI_UPDATE", "Best UDI [PID:C9200L-24P-4G,VID:V01,SN:JAE00000001] identified via (entity-mib)", f{"action": "info"}},
	"CCH323-CALL_PRESERVED":           {"CCH323-6-CALL_PRESERVED", "cch323_h225_handle_conn_loss: H.323 call preserved due to socket closure or error, Call Id = 42, fd = 7", f{"action": "info", "reason": "42"}},
	"PKI-CERTIFICATE_INVALID_EXPIRED": {"PKI-3-CERTIFICATE_INVALID_EXPIRED", "Certificate chain validation has failed. The certificate (SN: 1A2B3C) has expired. Validity period ended on 2026-01-31T00:00:00Z", f{"action": "info", "reason": "1A2B3C"}},
	"HA_EM-LOG":                       {"HA_EM-6-LOG", "wan_watch: WAN link lost, running backup", f{"action": "info", "reason": "WAN link lost, running backup"}},
	"MGBL-INFO_CACHE_SIZE_EXCEEDED":   {"MGBL-NETFLOW-6-INFO_CACHE_SIZE_EXCEEDED", "Cache size of 65535 for monitor FM-EDGE has been exceeded", f{"action": "info", "reason": "FM-EDGE"}},
	"SYSMGR-SHUTDOWN_START":           {"SYSMGR-STANDBY-3-SHUTDOWN_START", "The System Manager has started the shutdown procedure.", f{"action": "info"}},
	"IOSXE-PLATFORM":                  {"IOSXE-6-PLATFORM", "R0/0: cpp_cp: QFP:0.0 Thread:002 TS:00000000000000000001 %FW-6-DROP_PKT: Dropping udp pkt from GigabitEthernet0/0/1 192.0.2.70:5060 => 198.51.100.1:5060(target:class)-(ZP_OUT_IN:class-default) due to Policy drop:classify result with ip ident 4242", f{"action": "deny", "proto": "17", "src": "GigabitEthernet0/0/1:192.0.2.70/5060", "dst": "198.51.100.1/5060", "acl": "ZP_OUT_IN:class-default", "reason": "Policy drop:classify result"}},
}

// More lines for mnemonics whose formats have several forms.
var iosMoreCoverage = []covCase{
	{"SYS-5-LOG_CONFIG_CHANGE", "Console logging disabled", f{"action": "config", "reason": "disabled"}},
	{"IOSXE-6-PLATFORM", "R0/0: cpp_cp: QFP:0.0 Thread:003 TS:00000000000000000002 %FW-6-SESS_AUDIT_TRAIL: (target:class) (ZP_IN_OUT:CM_IN_OUT):Stop https session: initiator (10.20.1.15:52001) sent 1200 bytes -- responder (192.0.2.71:443) sent 48000 bytes, from GigabitEthernet0/0/2", f{"action": "teardown", "src": "GigabitEthernet0/0/2:10.20.1.15/52001", "dst": "192.0.2.71/443", "bytes": "49200", "acl": "ZP_IN_OUT:CM_IN_OUT"}},
	{"IOSXE-6-PLATFORM", "R0/0: cpp_cp: QFP:0.0 Thread:003 TS:00000000000000000003 %FW-6-SESS_AUDIT_TRAIL: (target:class) (ZP_IN_OUT:CM_IN_OUT):Start tcp session: initiator (10.20.1.15:52002) sent 0 bytes -- responder (192.0.2.71:22) sent 0 bytes", f{"action": "built", "src": "10.20.1.15/52002", "proto": "6"}},
	{"IOSXE-3-PLATFORM", "R0/0: fman_fp_image: FMFP-3-OBJ_DWNLD_TO_DP_FAILED: object download failed", f{"action": "info", "reason": "FMFP-3-OBJ_DWNLD_TO_DP_FAILED: object download failed"}},
	{"CDP-4-NATIVE_VLAN_MISMATCH", "Native VLAN mismatch discovered on GigabitEthernet1/0/23.", f{"action": "info", "src": "GigabitEthernet1/0/23:-"}},
	{"SYS-6-TTY_EXPIRE_TIMER", "(exec timer expired, tty 0), user operator", f{"action": "logout", "user": "operator"}},
}

func TestCoverageLines(t *testing.T) {
	p := newTestParser()
	check := func(name, line string, want f) {
		t.Helper()
		var ev Event
		p.ParseString(line, &ev)
		got := view(&ev)
		want = maps(want, f{"kind": "typed"})
		sub := f{}
		for k := range want {
			sub[k] = got[k]
		}
		if d := cmp.Diff(want, sub); d != "" {
			t.Errorf("%s: %q (-want +got):\n%s", name, line, d)
		}
		if ev.Truncated {
			t.Errorf("%s: whole line marked truncated", name)
		}
	}
	ids := make([]int, 0, len(asaSpecs))
	for id := range asaSpecs {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	for _, id := range ids {
		c, ok := asaCoverage[uint32(id)]
		if !ok {
			t.Errorf("ASA %d has a template but no test line", id)
			continue
		}
		check(strconv.Itoa(id), fmt.Sprintf("<166>Mar  3 08:15:02 fw-a %%%s-%06d: %s", c.tag, id, c.body), c.want)
	}
	for _, c := range asaRangeCoverage {
		check(c.tag, fmt.Sprintf("<166>Mar  3 08:15:02 fw-a %%%s: %s", c.tag, c.body), c.want)
	}
	for mn, specs := range iosSpecs {
		for _, s := range specs {
			key := s.facility + "-" + mn
			c, ok := iosCoverage[key]
			if !ok {
				t.Errorf("IOS %s has a template but no test line", key)
				continue
			}
			check(key, "<189>1234: rtr-a: Mar  3 10:00:01.123 CET: %"+c.tag+": "+c.body, c.want)
		}
	}
	for _, c := range iosMoreCoverage {
		check(c.tag, "<189>1235: rtr-a: Mar  3 10:00:01.456 CET: %"+c.tag+": "+c.body, c.want)
	}
}

func maps(a, b f) f {
	out := f{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// TestCoverageTable prints the family table of the closing note (go test -v -run
// TestCoverageTable): per family, the ids (or mnemonics) typed and how many ECS fields of the
// message body (beyond the header's) the test line of each writes, with those fields. The test
// lines are the project's own (this file and testdata/syslog). Every typed ASA id must have one.
func TestCoverageTable(t *testing.T) {
	p := newTestParser()
	type row struct {
		ids    []string
		min    int
		max    int
		fields map[string]bool
	}
	fam := map[string]*row{}
	seen := map[string]bool{}
	add := func(line string) {
		var ev Event
		p.ParseString(line, &ev)
		if ev.Kind != KindTyped {
			return
		}
		id, k := ev.Mnemonic, "IOS "+strings.SplitN(ev.Facility, "-", 2)[0]
		if ev.Family == FamilyASA {
			id = strconv.Itoa(int(ev.MsgID))
			k = "ASA " + id[:3] + "xxx"
		}
		if seen[k+" "+id] {
			return
		}
		seen[k+" "+id] = true
		var doc map[string]any
		if err := json.Unmarshal(AppendECS(nil, &ev), &doc); err != nil {
			t.Fatal(err)
		}
		n := 0
		r := fam[k]
		if r == nil {
			r = &row{min: 1 << 30, fields: map[string]bool{}}
			fam[k] = r
		}
		for key := range doc {
			if headerECS[key] || strings.HasPrefix(key, "log.") || strings.HasPrefix(key, "observer.") && !strings.Contains(key, "interface") {
				continue
			}
			n++
			r.fields[key] = true
		}
		r.ids = append(r.ids, id)
		r.min, r.max = min(r.min, n), max(r.max, n)
	}
	for _, file := range []string{"asa-rfc3164.log", "asa-envelopes.log", "ios-acl.log", "ios-envelopes.log"} {
		for _, line := range readLines(t, file)[1:] {
			add(line)
		}
	}
	for id, c := range asaCoverage {
		add(fmt.Sprintf("<166>Mar  3 08:15:02 fw-a %%%s-%06d: %s", c.tag, id, c.body))
	}
	for _, c := range asaRangeCoverage {
		add(fmt.Sprintf("<166>Mar  3 08:15:02 fw-a %%%s: %s", c.tag, c.body))
	}
	for _, c := range iosCoverage {
		add("<189>1234: rtr-a: Mar  3 10:00:01.123 CET: %" + c.tag + ": " + c.body)
	}
	for _, c := range iosMoreCoverage {
		add("<189>1234: rtr-a: Mar  3 10:00:01.123 CET: %" + c.tag + ": " + c.body)
	}
	for _, id := range typedASA {
		if !seen[fmt.Sprintf("ASA %dxxx %d", id/1000, id)] {
			t.Errorf("typed ASA id %d has no test line", id)
		}
	}
	keys := make([]string, 0, len(fam))
	for k := range fam {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	total := 0
	t.Logf("family | ids typed | body fields per id | fields written")
	for _, k := range keys {
		r := fam[k]
		sort.Strings(r.ids)
		total += len(r.ids)
		fs := make([]string, 0, len(r.fields))
		for f := range r.fields {
			fs = append(fs, f)
		}
		sort.Strings(fs)
		t.Logf("%s | %d: %s | %d-%d | %s", k, len(r.ids), strings.Join(r.ids, " "), r.min, r.max, strings.Join(fs, " "))
	}
	t.Logf("%d ids and mnemonics with a test line (ASA id ranges counted by their sample ids)", total)
}

// headerECS are the ECS fields every event with a tag carries, typed or not.
var headerECS = map[string]bool{
	"@timestamp": true, "ecs.version": true, "message": true, "event.original": true, "event.kind": true,
	"event.code": true, "event.severity": true, "event.sequence": true, "related.hosts": true,
	"cisco.ios.facility": true, "event.timezone": true, "tags": true, "host.hostname": true,
}
