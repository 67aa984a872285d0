package ciscolog

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

	// SNMP.
	"AUTHFAIL": {{"SNMP", mk(ActionLoginFailed, "Authentication failure for SNMP req from host {src}", "Authentication failure for SNMP request from host {src}")}},
}

// dot1x reads `Authentication <verb> for client (<mac>) on Interface <if> [AuditSessionID <id>]`.
func dot1x(a Action, verb string) *spec {
	return mk(a, "Authentication "+verb+" for client ({mac}) on Interface {sif} AuditSessionID {_}",
		"Authentication "+verb+" for client ({mac}) on Interface {sif}")
}

// iosTemplate types an IOS message read by templates; it reports whether it knows the message.
func iosTemplate(body string, ev *Event) bool {
	for _, e := range iosSpecs[ev.Mnemonic] {
		if e.facility == ev.Facility {
			finishBody(ev, e.sp.run(body, ev))
			return true
		}
	}
	return false
}
