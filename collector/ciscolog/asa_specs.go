package ciscolog

import (
	"net/netip"
	"strings"
)

// The ASA/FTD ids read by templates (see template.go), in the formats of Cisco's ASA syslog
// message guide. Src and Dst follow the conventions documented on Event: the message's own
// order for traffic (`from A to B`: Src is A), the remote user's address in Src for VPN, AAA
// and login messages (the ASA or the server in Dst).

var asaSpecs = map[uint32]*spec{
	// 1xxxxx: ACL, spoofing and attack denies.
	106101: mk(ActionInfo, "Number of cached deny-flows for ACL log has reached limit ({reason})."),
	106002: mk(ActionDeny, "{proto} Connection denied by {dir} list {acl} src {src} dest {dst}"),
	106012: mk(ActionDeny, "Deny IP from {src} to {dst}, {reason}"),
	106013: withProto(mk(ActionDrop, "Dropping echo request from {src} to PAT address {dst}"), ProtoICMP, DirectionInbound),
	106016: mk(ActionDeny, "Deny IP spoof from ({src}) to {dst} on interface {sif}"),
	106017: mk(ActionDeny, "Deny IP due to Land Attack from {src} to {dst}"),
	106018: mk(ActionDeny, "{proto} packet type {icmpt} denied by {dir} list {acl} src {src} dest {dst}"),
	106020: mk(ActionDeny, "Deny IP teardrop fragment (size = {_}, offset = {_}) from {src} to {dst}"),
	106022: mk(ActionDeny, "Deny {proto} connection spoof from {src} to {dst} on interface {sif}"),
	106027: mk(ActionDeny, `Deny src {src} dst {dst} by access-group "{acl}"`, `{_} Deny src {src} dst {dst} by access-group "{acl}"`),
	106102: mk(ActionNone, "access-list {acl} {verb} {proto} for user {user} {sif}/{src}({sport}){_}-> {dif}/{dst}({dport}){_}"),
	106103: mk(ActionDeny, "access-list {acl} denied {proto} for user {user} {sif}/{src}({sport}){_}-> {dif}/{dst}({dport}){_}"),
	// 109xxx: cut-through proxy authentication and authorization (uauth). The user's host is
	// Src (the inside address), the server reached is Dst.
	109001: mk(ActionInfo, "Auth start for user {user} from {srcap} to {dstap}"),
	109002: mk(ActionLoginFailed, "Auth from {srcap} to {dstap} failed ({reason}) on interface {sif}."),
	109003: mk(ActionLoginFailed, "Auth from {srcap} to {dstap} failed ({reason}) on interface {sif}, so marking all servers ACTIVE again."),
	109005: mk(ActionLogin, "Authentication succeeded for user {user} from {srcap} to {dstap} on interface {sif}."),
	109006: mk(ActionLoginFailed, "Authentication failed for user {user} from {srcap} to {dstap} on interface {sif}."),
	109007: mk(ActionPermit, "Authorization permitted for user {user} from {srcap} to {dstap} on interface {sif}."),
	109008: mk(ActionDeny, "Authorization denied for user {user} from {srcap} to {dstap} on interface {sif}."),
	109011: mk(ActionSessionStart, "Authen Session Start: user {user}, sid {_}"),
	109012: mk(ActionSessionEnd, "Authen Session End: user {user}, sid {_}, elapsed {_} seconds"),
	109017: mk(ActionDrop, "User at {src} exceeded auth proxy connection limit ({reason})"),
	109025: mk(ActionDeny, "Authorization denied (acl={acl}) for user {user} from {srcap} to {dstap} on interface {sif} using {proto}"),
	109201: uauth(), 109207: uauth(), 109210: uauth(),
	110002: mk(ActionDrop, "{reason} for {proto} from {srcif} to {dstap}"),
	110003: mk(ActionDrop, "{reason} for {proto} from {srcif} to {dstif}"),

	// 111xxx: configuration.
	111004: mk(ActionConfig, "{src} end configuration: {reason}"),
	111005: mk(ActionConfig, "{src} end configuration: {reason}"),
	111007: mk(ActionConfig, "Begin configuration: {src} {reason}"),
	111009: mk(ActionConfig, "User '{user}' executed cmd: {reason}", "User '{user}' executed {_} {reason}"),
	111010: mk(ActionConfig, "User '{user}', running '{_}' from IP {src}, executed '{reason}'"),

	// 113xxx: AAA.
	113008: mk(ActionLogin, "AAA transaction status ACCEPT{_}: user = {user}"),
	113009: mk(ActionLogin, "AAA retrieved default group policy ({group}) for user = {user}",
		"AAA retrieved default group policy {group} for user {user}"),
	113010: mk(ActionInfo, "AAA challenge received for user {user} from server {dst}"),
	113011: mk(ActionLogin, "AAA retrieved user specific group policy ({group}) for user {user}"),
	113012: mk(ActionLogin, "AAA user authentication Successful{_}: local database{_}: user = {user}",
		"AAA user authentication Successful{_}: local database{_}: User = {user}"),
	113013: mk(ActionLoginFailed, "AAA unable to complete the request Error{_}: reason = {reason} : user = {user}"),
	113014: mk(ActionLoginFailed, "AAA authentication server not accessible{_}: server = {dst} : user = {user}"),
	113015: mk(ActionLoginFailed, "AAA user authentication Rejected{_}: reason = {reason} : local database{_}: user = {user} : user IP = {src}",
		"AAA user authentication Rejected{_}: reason = {reason} : local database{_}: User = {user} : User IP = {src}"),
	113016: mk(ActionLoginFailed, "AAA credentials rejected{_}: reason = {reason} : server = {dst} : user = {user} : user IP = {src}"),
	113017: mk(ActionLoginFailed, "AAA credentials rejected{_}: reason = {reason} : local database{_}: user = {user} : user IP = {src}"),
	113020: mk(ActionInfo, "Kerberos error : Clock skew with server {dst} greater than {reason}"),
	113021: mk(ActionLoginFailed, "Attempted console login failed. User {user} did NOT have appropriate Admin Rights."),
	113022: mk(ActionInfo, "AAA Marking {proto?} server {dst} in aaa-server group {group} as FAILED"),
	113023: mk(ActionInfo, "AAA Marking {proto?} server {dst} in aaa-server group {group} as ACTIVE"),
	113029: vpnReason(ActionLoginFailed),
	113030: vpnReason(ActionLoginFailed),
	113031: vpnReason(ActionLoginFailed),
	113032: vpnReason(ActionLoginFailed),
	113033: vpnReason(ActionLoginFailed),
	113034: vpnReason(ActionLoginFailed),
	113035: vpnReason(ActionLoginFailed),
	113036: vpnReason(ActionLoginFailed),
	113037: mk(ActionLoginFailed, "Reboot pending, new sessions disabled. Denied user {user} login.",
		"Reboot pending, new sessions disabled. Denied user login."),
	113038: vpnReason(ActionLoginFailed),
	113039: vpnReason(ActionSessionStart),
	113040: withVPN(mk(ActionLoginFailed, "Terminating the VPN connection attempt from {reason}. Reason: {_}")),

	// 302xxx: connections other than the common TCP/UDP/ICMP ones.
	302010: mk(ActionInfo, "{_} in use, {_} most used"),
	302012: mk(ActionInfo, "Pre-allocate H225 Call Signalling Connection for faddr {dstif} to laddr {srcif}"),
	302022: mk(ActionBuilt, "Built {_} stub {proto} connection for {srcif} to {dstif}"),
	302023: mk(ActionTeardown, "Teardown stub {proto} connection for {srcif} to {dstif} duration {dur} forwarded bytes {bytes} {reason}",
		"Teardown stub {proto} connection for {srcif} to {dstif} duration {dur} forwarded bytes {bytes}"),
	302024: mk(ActionBuilt, "Built {_} stub {proto} connection for {srcif} to {dstif}"),
	302025: mk(ActionTeardown, "Teardown stub {proto} connection for {srcif} to {dstif} duration {dur} forwarded bytes {bytes} {reason}",
		"Teardown stub {proto} connection for {srcif} to {dstif} duration {dur} forwarded bytes {bytes}"),
	302026: mk(ActionBuilt, "Built {_} stub {proto} connection for {srcif} to {dstif}"),
	302027: mk(ActionTeardown, "Teardown stub {proto} connection for {srcif} to {dstif} duration {dur} forwarded bytes {bytes} {reason}",
		"Teardown stub {proto} connection for {srcif} to {dstif} duration {dur} forwarded bytes {bytes}"),
	// GRE (PPTP) connections: `from` the outside endpoint, whose call id is the port.
	302017: withPost(withProto(mk(ActionBuilt, "Built {dir} GRE connection {conn} from {srcif} to {dstif}"), ProtoGRE, DirectionUnknown), builtInitiator),
	302018: withProto(mk(ActionTeardown, "Teardown GRE connection {conn} from {srcif} to {dstif} duration {dur} bytes {bytes} ({user})",
		"Teardown GRE connection {conn} from {srcif} to {dstif} duration {dur} bytes {bytes}"), ProtoGRE, DirectionUnknown),
	302033: mk(ActionInfo, "Pre-allocated H323 GUP Connection for faddr {dstif} to laddr {srcif}"),
	302303: mk(ActionBuilt, "Built {proto} state-bypass connection {conn} from {srcif} to {dstif}"),
	302304: mk(ActionTeardown, "Teardown {proto} state-bypass connection {conn} from {srcif} to {dstif} duration {dur} bytes {bytes} {reason}",
		"Teardown {proto} state-bypass connection {conn} from {srcif} to {dstif} duration {dur} bytes {bytes}"),
	302305: mk(ActionBuilt, "Built {proto} state-bypass connection {conn} for {srcif} to {dstif}", "Built {proto} state-bypass connection {conn} from {srcif} to {dstif}"),
	302306: mk(ActionTeardown, "Teardown {proto} state-bypass connection {conn} for {srcif} to {dstif} duration {dur} bytes {bytes} {reason}",
		"Teardown {proto} state-bypass connection {conn} for {srcif} to {dstif} duration {dur} bytes {bytes}",
		"Teardown {proto} state-bypass connection {conn} from {srcif} to {dstif} duration {dur} bytes {bytes} {reason}",
		"Teardown {proto} state-bypass connection {conn} from {srcif} to {dstif} duration {dur} bytes {bytes}"),

	// 303xxx, 304xxx: FTP and URL filtering.
	303002: mk(ActionAccess, "{proto?} connection from {srcif} to {dstif}, user {user} {_} file {reason}"),
	304001: mk(ActionAccess, "{srcat} Accessed URL {dst}:{reason}", "{srcat} Accessed JAVA URL {dst}:{reason}"),
	304002: mk(ActionDeny, "Access denied URL {reason} SRC {src} DEST {dst} on interface {sif}"),

	// 305xxx: NAT.
	305005: mk(ActionDrop, "No translation group found for {proto} src {srcif} dst {dstif}"),
	305006: mk(ActionDrop, "{_} translation creation failed for {proto} src {srcif} dst {dstif}"),
	305009: xlate(mk(ActionTranslate, "Built {_} translation from {srcif} to {dstif}")),
	305010: xlate(mk(ActionTranslateEnd, "Teardown {_} translation from {srcif} to {dstif} duration {dur}")),
	305013: mk(ActionDrop, "Asymmetric NAT rules matched for forward and reverse flows; Connection {proto} src {srcif} dst {dstif} denied due to NAT reverse path failure."),

	// 313xxx: ICMP.
	313008: mk(ActionDeny, "Denied {proto} type={icmpt}, code={icmpc} from {src} on interface {sif}"),
	313009: mk(ActionDeny, "Denied invalid {proto} code {icmpc}, for {srcif} to {dstif}"),

	// 315xxx, 322xxx.
	315011: mk(ActionLogout, `SSH session from {src} on interface {sif} for user "{user}" disconnected by SSH server, reason: {reason}`,
		"SSH session from {src} on interface {sif} for user {user} disconnected by SSH server, reason: {reason}",
		`SSH session from {src} on interface {sif} for user "{user}" {reason}`,
		"SSH session from {src} on interface {sif} for user {user} {reason}",
		`SSH session from on interface {sif} for user "{user}" disconnected by SSH server, reason: {reason}`,
		`SSH session from on interface {sif} for user "{user}" {reason}`),
	322001: mk(ActionDeny, "Deny MAC address {mac}, possible spoof attempt on interface {sif}"),
	322002: mk(ActionDeny, "ARP inspection check failed for arp {_} received from host {mac} on interface {sif}. {reason}"),

	// 338xxx: botnet traffic filter (dynamic filter).
	338001: dynFilter(ActionAlert), 338002: dynFilter(ActionAlert), 338003: dynFilter(ActionAlert), 338004: dynFilter(ActionAlert),
	338005: dynFilter(ActionDrop), 338006: dynFilter(ActionDrop), 338007: dynFilter(ActionDrop), 338008: dynFilter(ActionDrop),
	338101: dynFilter(ActionPermit), 338102: dynFilter(ActionPermit), 338103: dynFilter(ActionPermit), 338104: dynFilter(ActionPermit),
	338201: dynFilter(ActionAlert), 338202: dynFilter(ActionAlert), 338203: dynFilter(ActionDrop), 338204: dynFilter(ActionDrop),
	338301: mk(ActionAlert, "Intercepted DNS reply for domain {reason} from {srcif} to {dstif}, matched {acl}"),

	// 321xxx: resources.
	321007: mk(ActionInfo, "System is low on free memory blocks of size {reason} ({_} CNT out of {_} MAX)"),

	// 4xxxxx: IPS, threat detection, inspection.
	401004: mk(ActionDrop, "Shunned packet: {src} ==> {dst} on interface {sif}"),
	402117: mk(ActionDrop, "IPSEC: Received a non-{_} packet ({_}) from {src} to {dst}.", "IPSEC: Received a non-{_} packet from {src} to {dst}."),
	402119: mk(ActionDrop, "IPSEC: Received an {_} packet ({_}) from {src} (user= {user}) to {dst} that failed anti-replay checking."),
	405001: mk(ActionAlert, "Received ARP {_} collision from {src}/{mac} on interface {sif} with existing ARP entry {_}"),
	406002: mk(ActionDrop, "FTP port command different address: {src}({dst}) on interface {sif}"),
	410001: mk(ActionDrop, "Dropped UDP DNS {_} from {srcif} to {dstif}; {reason}"),
	419001: mk(ActionDrop, "Dropping {proto} packet from {srcif} to {dstif}, reason: {reason}"),
	419002: withProto(mk(ActionInfo, "{reason} from {srcif} to {dstif} with {_}"), ProtoTCP, DirectionUnknown),
	420002: mk(ActionDrop, "IPS requested to drop {proto?} packet from {srcif} to {dstif}"),
	421001: mk(ActionDrop, "{proto} flow from {srcif} to {dstif} is dropped because {reason}"),
	425005: mk(ActionInfo, "Interface {sif} become active in redundant interface {dif}"),
	434002: mk(ActionDrop, "SFR requested to drop {proto} packet from {srcif} to {dstif}"),
	434004: mk(ActionInfo, "SFR requested {_} to bypass further packet redirection and process {proto} flow from {srcif} to {dstif} locally"),

	// 5xxxxx.
	500004: mk(ActionDrop, "Invalid transport field for protocol={proto}, from {src}/{sport} to {dst}/{dport}"),
	502103: mk(ActionConfig, "User priv level changed: Uname: {user} From: {_} To: {reason}"),
	507001: mk(ActionDrop, "Terminating TCP-Proxy connection from {srcif} to {dstif} - {reason}"),
	507003: mk(ActionDrop, "{proto} flow from {srcif} to {dstif} terminated by inspection engine, reason - {reason}"),

	// 6xxxxx.
	602303: mk(ActionInfo, "{_}: An {dir} {_} SA (SPI= {_}) between {src} and {dst} (user= {user}) has been created."),
	602304: mk(ActionInfo, "{_}: An {dir} {_} SA (SPI= {_}) between {src} and {dst} (user= {user}) has been deleted."),
	607001: mk(ActionInfo, "Pre-allocate SIP {proto?} secondary channel for {dstif} to {srcif} from {reason} message"),
	609001: mk(ActionInfo, "Built local-host {srcif}"),
	609002: mk(ActionInfo, "Teardown local-host {srcif} duration {dur}"),
	611101: mk(ActionLogin, "User authentication succeeded: IP address: {src}, Uname: {user}", "User authentication succeeded: Uname: {user}"),
	611102: mk(ActionLoginFailed, "User authentication failed: IP address: {src}, Uname: {user}", "User authentication failed: Uname: {user}"),
	611103: mk(ActionLogout, "User logged out: Uname: {user}"),
	620001: mk(ActionInfo, "Pre-allocate CTIQBE {proto?} secondary channel for {dstif} to {srcif} from {reason} message"),

	// 7xxxxx.
	710001: mk(ActionInfo, "{proto} access requested from {srcap} to {dstif}"),
	710002: mk(ActionPermit, "{proto} access permitted from {srcap} to {dstif}"),
	710006: mk(ActionDrop, "{proto?} request discarded from {src} to {dstif}"),
	710007: mk(ActionInfo, "NAT-T keepalive received from {srcap} to {dstif}"),
	716003: withVPN(mk(ActionAccess, "WebVPN access GRANTED: {reason}")),
	716004: withVPN(mk(ActionDeny, "WebVPN access DENIED to specified location: {reason}")),
	716038: withVPN(mk(ActionLogin, "Authentication: successful, Session Type: {reason}.")),
	716039: withVPN(mk(ActionLoginFailed, "Authentication: rejected, Session Type: {reason}.",
		"Authentication: rejected, group = {group} user = {user} , Session Type: {reason}")),
	716058: vpnReason(ActionSessionEnd),
	716059: withPost(withVPN(mk(ActionSessionStart, "AnyConnect session resumed connection from IP <{dst}>.",
		"AnyConnect session resumed. Connection from IP <{dst}>.", "AnyConnect session resumed. Connection from <{dst}>.",
		"AnyConnect session resumed connection from IP {dst}.", "AnyConnect session resumed. Connection from {dst}.")), swapSides),
	717022: mk(ActionInfo, "Certificate was successfully validated. serial number: {_}, subject name: {reason}."),
	721016: mk(ActionSessionStart, "({_}) WebVPN session for client user {user}, IP{_} {src} has been created."),
	721018: mk(ActionSessionEnd, "({_}) WebVPN session for client user {user}, IP{_} {src} has been deleted."),
	725001: mk(ActionInfo, "Starting SSL handshake with {_} {srcif} to {dstap} for {reason} session", "Starting SSL handshake with {_} {srcif} for {reason} session"),
	725002: mk(ActionInfo, "Device completed SSL handshake with {_} {srcif} to {dstap} for {reason} session",
		"Device completed SSL handshake with {_} {srcif} to {dstap} for {reason}", "Device completed SSL handshake with {_} {srcif}"),
	725006: mk(ActionInfo, "Device failed SSL handshake with {_} {srcif} to {dstap}", "Device failed SSL handshake with {_} {srcif}"),
	725007: mk(ActionInfo, "SSL session with {_} {srcif} to {dstap} terminated", "SSL session with {_} {srcif} terminated"),
	725016: mk(ActionInfo, "Device selects trust-point {reason} for {_} {srcif} to {dstap}", "Device selects trust-point {reason} for {_} {srcif}"),
	733101: mk(ActionThreat, "{_} {src} is {reason}. Current burst rate is {_}"),
	733102: mk(ActionThreat, "Threat-detection adds host {src} to shun list"),
	733103: mk(ActionInfo, "Threat-detection removes host {src} from shun list"),
	734001: mk(ActionLogin, "DAP: User {user}, Addr {src}, Connection {reason}: The following DAP records were selected for this connection: {_}"),
	805001: mk(ActionInfo, "Offloaded {proto} Flow for connection {conn} from {srcif} to {dstif}"),
	805002: mk(ActionInfo, "{proto} Flow is no longer offloaded for connection {conn} from {srcif} to {dstif}"),
}

// Families read by one spec for a range of ids.
var (
	ipsSpec = mk(ActionAlert, "IPS:{rule} {reason} from {src} to {dst} on interface {sif}")
	// IKE (713xxx): `Group = G, Username = U, IP = A, text`, `Group = G, IP = A, text`, `IP = A, text`.
	ikeSpec = withPost(mk(ActionInfo, "Group = {group}, Username = {user}, IP = {src}, {reason}",
		"Group = {group}, IP = {src}, {reason}", "IP = {src}, {reason}", "Group = {group}, {reason}"), ikeAction)
	// IKE messages without the prefix (the debug texts of 713900-713906, `All IPSec SA
	// proposals found unacceptable!`) are free text: the reason.
	ikeTextSpec = mk(ActionInfo, "{reason}")
	svcSpec     = withPost(vpnReason(ActionInfo), svcAction)
	ipaaSpec    = mk(ActionInfo, "IPAA: Session={_}, Client assigned {assigned} from local pool {group}",
		"IPAA: Session={_}, Freeing local pool {group} address {assigned}",
		"IPAA: Session={_}, {_} for tunnel-group {group}", "IPAA: Session={_}, {reason}",
		"IPAA: Client assigned {assigned} from local pool {group}", "IPAA: {_} for tunnel-group {group}", "IPAA: {reason}")
	// IKEv2 (750xxx, 751xxx): Local is the ASA, Remote the peer: the peer is Src.
	ikev2Spec = mk(ActionInfo, "Local:{dstcp} Remote:{srccp} Username:{user} {reason}",
		"Local: {dstcp} Remote: {srccp} Username: {user} {reason}",
		"Local:{dstcp} Remote:{srccp} Username:{user}", "Local: {dstcp} Remote: {srccp} Username: {user}")
)

// uauth reads the 109201-109210 entries of a cut-through proxy user: the address the user was
// assigned is Src's mapping.
func uauth() *spec {
	return mk(ActionInfo, "UAUTH: Session={_}, User={user}, Assigned IP={assigned}, {reason}.", "UAUTH: Session={_}, User={user}, Assigned IP={assigned}, {reason}")
}

// builtInitiator: as for 302013, in `Built outbound` the second endpoint (the inside host)
// opened the connection.
func builtInitiator(ev *Event) {
	if ev.Direction == DirectionOutbound {
		ev.Initiator = SideDst
	}
}

func withProto(s *spec, p Proto, d Direction) *spec { s.proto, s.dir = p, d; return s }
func withVPN(s *spec) *spec                         { s.vpn = true; return s }
func withPost(s *spec, f func(*Event)) *spec        { s.post = f; return s }

// vpnReason reads `Group <G> User <U> IP <A> text`, text as the reason.
func vpnReason(a Action) *spec { return withVPN(&spec{action: a}) }

// xlate moves the mapped side of 305009/305010 to Src.MappedAddr, as asaXlate does.
func xlate(s *spec) *spec {
	s.post = func(ev *Event) {
		ev.Src.MappedAddr, ev.Src.MappedPort = ev.Dst.Addr, ev.Dst.Port
		if !ev.Dst.Addr.IsValid() && ev.Dst.Name != "" {
			ev.Src.MappedPort = 0
		} else {
			ev.Dst.Name = ""
		}
		ev.Dst.Addr, ev.Dst.Port = netip.Addr{}, 0
	}
	return s
}

// dynFilter reads the botnet traffic filter messages: `Dynamic Filter <verb> <list>ed PROTO
// traffic from IF:A/p (m/p) to IF:B/p (m/p), {source|destination} X resolved from L list: D[,
// threat-level: T, category: C]`. The domain (or address) it matched is the reason, the list
// the rule.
func dynFilter(a Action) *spec {
	return mk(a,
		"Dynamic {protolast} traffic from {srcif} to {dstif}, {_} resolved from {acl} list: {reason}, threat-level: {_}",
		"Dynamic {protolast} traffic from {srcif} to {dstif}, {_} resolved from {acl} list: {reason}")
}

// swapSides: 716059 names the session's address first and the address it resumed from last;
// the remote user's (new) address is Src.
func swapSides(ev *Event) {
	ev.Src, ev.Dst = ev.Dst, ev.Src
	ev.Initiator = SideSrc
}

// ikeAction: 713049 (security negotiation complete) starts a session.
func ikeAction(ev *Event) {
	if ev.MsgID == 713049 {
		ev.Action = ActionSessionStart
	}
}

// svcAction gives the AnyConnect SVC messages their session meaning.
func svcAction(ev *Event) {
	switch ev.MsgID {
	case 722032, 722033, 722034:
		ev.Action = ActionSessionStart
	case 722028, 722037:
		ev.Action = ActionSessionEnd
	}
	if ev.MsgID == 722033 || ev.MsgID == 722034 {
		// `First TCP SVC connection established ...`, `New UDP SVC connection ...`.
		_, rest := word(ev.Reason)
		p, _ := word(rest)
		setProto(ev, p)
	}
}

// ftdEvent reads FTD's security events (430001 intrusion, 430002 connection start, 430003
// connection end, 430004 file, 430005 malware): `Key: value, Key: value, ...`, where a value
// may hold commas (a URL, a user's DN): a field ends only where `, Key: ` follows.
func ftdEvent(s string, ev *Event) bool {
	seen, blocked := false, false
	for s != "" {
		k := strings.Index(s, ": ")
		if k <= 0 {
			break
		}
		key := strings.TrimSpace(s[:k])
		rest := s[k+2:]
		end := len(rest)
		for i := 0; i < len(rest); i++ {
			if rest[i] == ',' && keyFollows(rest[i+1:], ": ") {
				end = i
				break
			}
		}
		val := strings.TrimSpace(rest[:end])
		s = rest[end:]
		if s != "" {
			s = strings.TrimLeft(s[1:], " ")
		}
		switch key {
		case "SrcIP":
			setAddr(&ev.Src, val)
			seen = true
		case "DstIP":
			setAddr(&ev.Dst, val)
		case "SrcPort":
			ev.Src.Port, _ = parsePort(val)
		case "DstPort":
			ev.Dst.Port, _ = parsePort(val)
		case "Protocol":
			setProto(ev, val)
		case "IngressInterface":
			ev.Src.Iface = val
		case "EgressInterface":
			ev.Dst.Iface = val
		case "User":
			if val != "No Authentication Required" && val != "Unknown" {
				ev.User = val
			}
		case "AccessControlRuleName":
			ev.ACL = val
		case "ACPolicy":
			ev.Group = val
		case "AccessControlRuleAction":
			blocked = strings.HasPrefix(val, "Block") || strings.Contains(val, "Block")
		case "InlineResult":
			blocked = blocked || val == "Blocked" || val == "Dropped" || val == "Would be blocked"
		case "InitiatorBytes":
			ev.SrcBytes, _, _ = uintAt(val)
		case "ResponderBytes":
			ev.DstBytes, _, _ = uintAt(val)
		case "ConnectionID":
			ev.ConnID, _, _ = uintAt(val)
		case "Message", "ThreatName", "URL":
			if ev.Reason == "" {
				ev.Reason = val
			}
		case "SID":
			ev.RuleID = val // the Snort rule (GID and revision are not kept)
		}
	}
	if !seen {
		return false
	}
	ev.Bytes = ev.SrcBytes + ev.DstBytes
	switch ev.MsgID {
	case 430002:
		ev.Action = ActionBuilt
		if blocked {
			ev.Action = ActionDeny
		}
	case 430003:
		ev.Action = ActionTeardown
		if blocked {
			ev.Action = ActionDeny
		}
	case 430001:
		ev.Action = ActionAlert
		if blocked {
			ev.Action = ActionDrop
		}
	default:
		ev.Action = ActionAlert
	}
	ev.Initiator = SideSrc
	return true
}
