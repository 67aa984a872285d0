package ciscolog

import "strings"

// IOS messages read by templates (template.go), keyed by mnemonic and then facility, in the
// formats of Cisco's IOS system message guide. Login and session messages put the remote
// address in Src and the device's local port in Dst.Port.

type iosSpec struct {
	facility string
	sp       *spec
}

var iosSpecs = map[string][]iosSpec{
	// SEC_LOGIN: login enhancements (login block-for, quiet mode).
	"LOGIN_SUCCESS": {{"SEC_LOGIN", mk(ActionLogin,
		"Login Success [user: {user}] [Source: {src}] [localport: {dport}] at {_}",
		"Login Success [user: {user}] [Source: {src}] [localport: {dport}]")}},
	"LOGIN_FAILED": {{"SEC_LOGIN", mk(ActionLoginFailed,
		"Login failed [user: {user}] [Source: {src}] [localport: {dport}] [Reason: {reason}] at {_}",
		"Login failed [user: {user}] [Source: {src}] [localport: {dport}] [Reason: {reason}]",
		"Login failed [user: {user}] [Source: {src}] [localport: {dport}] at {_}")}},
	"QUIET_MODE_ON": {{"SEC_LOGIN", mk(ActionThreat,
		"Still timeleft for watching failures is {_} secs, [user: {user}] [Source: {src}] [localport: {dport}] [Reason: {reason}] [ACL: {acl}] at {_}",
		"Still timeleft for watching failures is {_} secs, [user: {user}] [Source: {src}] [localport: {dport}] [Reason: {reason}] at {_}")}},
	"QUIET_MODE_OFF": {{"SEC_LOGIN", mk(ActionInfo, "Quiet Mode is OFF, because {reason} at {_}", "Quiet Mode is OFF{reason}")}},

	// SSH.
	"SSH2_SESSION": {{"SSH", mk(ActionInfo,
		"SSH2 Session request from {src} (tty = {_}) using crypto cipher '{_}', hmac '{_}' {reason}",
		"SSH2 Session request from {src} (tty = {_}) using crypto cipher '{_}', hmac '{_}'{_}")}},
	"SSH2_USERAUTH": {{"SSH", mk(ActionNone,
		"User '{user}' authentication for SSH2 Session from {src} (tty = {_}) using crypto cipher '{_}', hmac '{_}' {auth}",
		"User '{user}' authentication for SSH2 Session from {src} (tty = {_}) {_} {auth}")}},
	"SSH2_CLOSE": {{"SSH", mk(ActionLogout,
		"SSH2 Session from {src} (tty = {_}) for user '{user}' using crypto cipher '{_}', hmac '{_}' closed",
		"SSH2 Session from {src} (tty = {_}) for user '{user}' {_}")}},
	"SSH_SESSION": {{"SSH", mk(ActionInfo,
		"SSH Session request from {src} (tty = {_}) using crypto cipher '{_}' {reason}")}},
	"SSH_USERAUTH": {{"SSH", mk(ActionNone,
		"User '{user}' authentication for SSH Session from {src} (tty = {_}) using crypto cipher '{_}' {auth}")}},
	"SSH_CLOSE": {{"SSH", mk(ActionLogout,
		"SSH Session from {src} (tty = {_}) for user '{user}' using crypto cipher '{_}' closed")}},
	"ENABLED":  {{"SSH", mk(ActionInfo, "SSH {reason} has been enabled")}},
	"DISABLED": {{"SSH", mk(ActionInfo, "SSH {reason} has been disabled")}},

	// SYS: configuration, privilege, sessions, logging.
	"CONFIG_I": {{"SYS", mk(ActionConfig, "Configured from {reason} by {user} on {_} ({src})",
		"Configured from {reason} by {_} ({src})", "Configured from {reason} by console")}},
	"PRIV_AUTH_PASS": {{"SYS", mk(ActionLogin,
		"Privilege level set to {_} by {user} on {_} ({src})", "Privilege level set to {_} by {user} on console")}},
	"PRIV_AUTH_FAIL": {{"SYS", mk(ActionLoginFailed,
		"Authentication to Privilege level {_} failed by {user} on {_} ({src})",
		"Authentication to Privilege level {_} failed by {user} on console")}},
	"LOGOUT":                {{"SYS", mk(ActionLogout, "User {user} has exited tty session {_}({src})")}},
	"LOGGINGHOST_STARTSTOP": {{"SYS", mk(ActionInfo, "Logging to host {dst} port {dport} {reason}", "Logging to host {dst} {reason}")}},

	// PARSER: the configuration change logger.
	"CFGLOG_LOGGEDCMD": {{"PARSER", mk(ActionConfig, "User:{user} logged command:{reason}")}},

	// AAA.
	"USER_LOCKED":   {{"AAA", mk(ActionLoginFailed, "User {user} locked out on authentication failure")}},
	"USER_UNLOCKED": {{"AAA", mk(ActionInfo, "User {user} unlocked by {_}")}},
	"USER_RESET":    {{"AAA", mk(ActionInfo, "User {user} failed attempts reset by {_}")}},

	// IPS (IOS IPS signatures).
	"SIGNATURE": {{"IPS", mk(ActionAlert,
		"Sig:{rule} Subsig:{_} Sev:{_} {reason} [{src}:{sport} -> {dst}:{dport}]{_}",
		"Sig:{rule} Subsig:{_} Sev:{_} {reason} [{src} -> {dst}]{_}")}},

	// 802.1X and MAC authentication bypass.
	"FAIL": {{"DOT1X", dot1x(ActionLoginFailed, "failed")}, {"MAB", dot1x(ActionLoginFailed, "failed")}},
	"SUCCESS": {{"DOT1X", dot1x(ActionLogin, "successful")}, {"MAB", dot1x(ActionLogin, "successful")},
		{"SESSION_MGR", dot1x(ActionLogin, "successful")}},

	// Port security.
	"PSECURE_VIOLATION": {{"PORT_SECURITY", mk(ActionDeny,
		"Security violation occurred, caused by MAC address {mac} on port {sif}.", "Security violation occurred, caused by MAC address {mac} on port {sif}")}},
	"PSECURE_VIOLATION_VLAN": {{"PORT_SECURITY", mk(ActionDeny,
		"Security violation on port {sif} due to MAC address {mac} on VLAN {_}")}},

	// Interface state.
	"UPDOWN": {{"LINK", mk(ActionStateChange, "Interface {sif}, changed state to {reason}")},
		{"LINEPROTO", mk(ActionStateChange, "Line protocol on Interface {sif}, changed state to {reason}")}},
	"CHANGED": {{"LINK", mk(ActionStateChange, "Interface {sif}, changed state to {reason}")}},

	// DHCP snooping.
	"DHCP_SNOOPING_UNTRUSTED_PORT": {{"DHCP_SNOOPING", mk(ActionDrop,
		"DHCP_SNOOPING drop message on untrusted port, message type: {reason}, MAC sa: {mac}")}},
	"DHCP_SNOOPING_MATCH_MAC_FAIL": {{"DHCP_SNOOPING", mk(ActionDrop,
		"DHCP_SNOOPING drop message because the chaddr doesn't match source mac, message type: {reason}, chaddr: {_}, MAC sa: {mac}")}},
	"DHCP_SNOOPING_DENY_INVALID_RELEASE_OR_DECLINE_PKT": {{"DHCP_SNOOPING", mk(ActionDrop,
		"DHCP_SNOOPING drop message with mismatched source interface, the binding is not updated, message type: {reason}, MAC sa: {mac}")}},

	// Duplicate address.
	"DUPADDR": {{"IP", mk(ActionAlert, "Duplicate address {src} on {sif}, sourced by {mac}")}},

	// TCP MD5 authentication (BGP peers).
	"BADAUTH": {{"TCP", mk(ActionDeny, "{reason} from {src}({sport}) to {dst}({dport}){_}",
		"{reason} from {srccp} to {dstcp} {_}", "{reason} from {srccp} to {dstcp}")}},

	// SNMP (AUTH_FAIL is IOS XR's %SNMP-SNMP-3-AUTH_FAIL; INFO is NX-OS's snmpd).
	"AUTHFAIL":  {{"SNMP", mk(ActionLoginFailed, "Authentication failure for SNMP req from host {src}", "Authentication failure for SNMP request from host {src}")}},
	"AUTH_FAIL": {{"SNMP", mk(ActionLoginFailed, "Received snmp request on unknown community from {src}")}},
	"INFO":      {{"SNMPD", mk(ActionInfo, "SNMP log {_} : {reason}")}},

	// AAAA: a weak password type entered into the configuration.
	"CLI_DEPRECATED": {{"AAAA", mk(ActionConfig,
		"WARNING: Command has been added to the configuration using a {reason}. However, {_}")}},

	// SYS: clock, logging and restart.
	"CLOCKUPDATE": {{"SYS", mk(ActionConfig,
		"System clock has been updated from {_} to {_}, configured from {reason} by {_}.")}},
	"LOG_CONFIG_CHANGE": {{"SYS", mk(ActionConfig, "{_} logging: {reason}", "{_} logging {reason}")}},
	"RESTART":           {{"SYS", mk(ActionInfo, "System restarted --{reason}")}},
	"TTY_EXPIRE_TIMER": {{"SYS", mk(ActionLogout,
		"(exec timer expired, tty {_} ({src})), user {user}", "(exec timer expired, tty {_}), user {user}")}},

	// AUTHMGR: a new MAC address on a port already authorised for another.
	"SECURITY_VIOLATION": {{"AUTHMGR", mk(ActionDeny,
		"Security violation on the interface {sif}, new MAC address ({mac}) is seen.AuditSessionID {_}",
		"Security violation on the interface {sif}, new MAC address ({mac}) is seen")}},

	// DOT1X on wireless controllers: an EAPOL key with a replayed counter.
	"INVALID_REPLAY_CTR": {{"DOT1X", mk(ActionAlert, "{_} Invalid replay counter from client {mac} - got {_}, expected {_}")}},

	// Duplicate address on Cisco small-business switches (%IPADTBL-N-IPDUPLICATE).
	"IPDUPLICATE": {{"IPADTBL", mk(ActionAlert, "Duplicate IP address {src} from MAC {mac} was detected on VLAN {_}, port {sif}")}},

	// Interfaces, port channels, power over Ethernet, transceivers.
	"COMPATIBLE":      {{"EC", mk(ActionStateChange, "{sif} is compatible with port-channel members")}},
	"CANNOT_BUNDLE2":  {{"EC", mk(ActionStateChange, "{sif} is not compatible with {dif} and will be suspended ({reason})")}},
	"POWER_GRANTED":   {{"ILPOWER", mk(ActionStateChange, "Interface {sif}: Power granted")}},
	"IEEE_DISCONNECT": {{"ILPOWER", mk(ActionStateChange, "Interface {sif}: PD removed")}},
	"SENSE_POWER_INVALID": {{"ILPOWER", mk(ActionInfo,
		"Interface {sif}: invalid power sense {reason} current {_}")}},
	"TRANSCEIVERINSERTED": {{"PHY", mk(ActionStateChange, "{sif}: Transceiver has been inserted")}},
	"LATECOLLISION":       {{"MV64340_ETHERNET", mk(ActionInfo, "{sif}, late collision error")}},
	"NATIVE_VLAN_MISMATCH": {{"CDP", mk(ActionInfo,
		"Native VLAN mismatch discovered on {sif} ({_}), with {_} {dif} ({_}).", "Native VLAN mismatch discovered on {sif}.")}},

	// Routing protocols.
	"NOVALIDKEY":          {{"OSPF", mk(ActionInfo, "No valid authentication {_}key is available on interface {sif}")}},
	"INVALID_RP_JOIN":     {{"PIM", mk(ActionInfo, "Received {reason} Join from {src} for invalid RP {dst}")}},
	"EXTENDED_SYSID":      {{"SPANTREE", mk(ActionInfo, "Extended SysId {reason} for type {_}")}},
	"TOPOTRAP":            {{"SPANTREE", mk(ActionStateChange, "Topology Change Trap for {reason}")}},
	"VTP_DOMAIN_NAME_CHG": {{"SW_VLAN", mk(ActionConfig, "VTP domain name changed to {reason}.")}},

	// Platform, plug and play, voice, certificates, EEM, NetFlow.
	"MEDIA_RJ45":            {{"USB_CONSOLE", mk(ActionInfo, "Console media-type is {reason}.")}},
	"PNP_DISCOVERY_STARTED": {{"PNP", mk(ActionInfo, "PnP Discovery {reason}")}},
	"PNP_DISCOVERY_STOPPED": {{"PNP", mk(ActionInfo, "PnP Discovery stopped ({reason})")}},
	"PNP_CDP_UPDATE":        {{"PNP", mk(ActionInfo, "Device UDI [{reason}] identified for CDP")}},
	"PNP_BEST_UDI_UPDATE":   {{"PNP", mk(ActionInfo, "Best UDI [{reason}] identified via ({_})")}},
	"CALL_PRESERVED": {{"CCH323", mk(ActionInfo,
		"{_}: H.323 call preserved due to socket closure or error, Call Id = {reason}, fd = {_}")}},
	"CERTIFICATE_INVALID_EXPIRED": {{"PKI", mk(ActionInfo,
		"Certificate chain validation has failed. The certificate (SN: {reason}) has expired. Validity period ended on {_}")}},
	"LOG":                      {{"HA_EM", mk(ActionInfo, "{rule}: {reason}")}},
	"INFO_CACHE_SIZE_EXCEEDED": {{"MGBL", mk(ActionInfo, "Cache size of {_} for monitor {reason} has been exceeded")}},
	"SHUTDOWN_START":           {{"SYSMGR", mk(ActionInfo, "The System Manager has started the shutdown procedure.")}},
	// IOS XE platform messages carry the zone-based firewall's (%FW-6-...) from the data plane.
	"PLATFORM": {{"IOSXE", withPost(mk(ActionInfo,
		"{_}: cpp_cp: {_} %FW-6-DROP_PKT: Dropping {proto} pkt from {sif} {srccp} => {dstcp}(target:class)-({acl}) due to {reason} with ip ident {_}",
		"{_}: cpp_cp: {_} %FW-6-SESS_AUDIT_TRAIL: (target:class) ({acl}):{_} {proto?} session: initiator ({srccp}) sent {sbytes} bytes -- responder ({dstcp}) sent {dbytes} bytes, from {sif}",
		"{_}: cpp_cp: {_} %FW-6-SESS_AUDIT_TRAIL: (target:class) ({acl}):{_} {proto?} session: initiator ({srccp}) sent {sbytes} bytes -- responder ({dstcp}) sent {dbytes} bytes",
		"{_}: {_}: {reason}"), zbfAction)}},
}

// zbfAction: a zone-based firewall drop is a deny of its zone pair's policy, an audit trail
// the start or end of a session. A data-plane (cpp_cp) message always carries its own tag
// after the `QFP:… Thread:… TS:…` header: one without a whole tag, or a drop or audit trail
// that only the generic template read, was cut, and is not typed.
func zbfAction(ev *Event) {
	if ev.Src.Addr.IsValid() {
		switch {
		case strings.Contains(ev.Text, "%FW-6-DROP_PKT: "):
			ev.Action = ActionDeny
		case strings.Contains(ev.Text, "):Start "):
			ev.Action = ActionBuilt
		case strings.Contains(ev.Text, "):Stop "):
			ev.Action = ActionTeardown
		}
		return
	}
	k := strings.Index(ev.Text, ": cpp_cp: ")
	if k < 0 {
		return
	}
	inner := ev.Text[k:]
	if _, ok := findTag(inner); !ok || strings.Contains(inner, "%FW-6-DROP_PKT:") || strings.Contains(inner, "%FW-6-SESS_AUDIT_TRAIL:") {
		ev.Truncated = true
	}
}

// dot1x reads `Authentication <verb> for client (<mac>) on Interface <if> [AuditSessionID <id>]`.
func dot1x(a Action, verb string) *spec {
	return mk(a, "Authentication "+verb+" for client ({mac}) on Interface {sif} AuditSessionID {_}",
		"Authentication "+verb+" for client ({mac}) on Interface {sif}")
}

// iosTemplate types an IOS message read by templates; it reports whether it knows the message.
func iosTemplate(body string, ev *Event) bool {
	for _, e := range iosSpecs[ev.Mnemonic] {
		// A facility may carry a subfacility or stack member (%PIM-SW1-6-, %SNMP-SNMP-3-,
		// %SYSMGR-STANDBY-3-, %MGBL-NETFLOW-6-).
		if f := ev.Facility; f == e.facility || (len(f) > len(e.facility) && f[len(e.facility)] == '-' && f[:len(e.facility)] == e.facility) {
			finishBody(ev, e.sp.run(body, ev))
			return true
		}
	}
	return false
}
