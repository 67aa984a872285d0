package devices

import (
	"errors"
	"regexp"
	"strings"

	"github.com/scrapli/scrapligo/driver/network"
)

// platform is what differs between device kinds; the privilege levels and
// prompts are shared by ASA and IOS. Definitions are Go rather than
// scrapligo YAML (YAML options are type-fragile in v1.4 and cannot carry
// host key policy).
type platform struct {
	name         string
	execSetup    []string // privileged EXEC lines sent after enable
	showPrefixes []string
}

// asaPlatform's terminal setup is conditional (DialASA, Configure).
var asaPlatform = &platform{
	name:         "cisco_asa",
	showPrefixes: asaShowPrefixes,
}

// iosPlatform drives IOS routers such as the 2921 (read-only here).
var iosPlatform = &platform{
	name:      "cisco_ios",
	execSetup: []string{"terminal length 0", "terminal width 512"},
	showPrefixes: []string{
		"show ip access-lists", "show access-lists", "show ip route", "show running-config",
		"show version", "show ip interface brief", "show clock",
	},
}

const (
	privExec     = "exec"
	privPrivExec = "privilege_exec"
	privConfig   = "configuration"
)

var (
	reExec     = regexp.MustCompile(`(?m)^[\w./-]{1,63}>\s?$`)
	rePrivExec = regexp.MustCompile(`(?m)^[\w./:-]{1,63}#\s?$`)
	// Also matches sub-modes such as (config-network-object-group).
	reConfig   = regexp.MustCompile(`(?m)^[\w./:-]{1,63}\([\w.@/:+-]{0,40}\)#\s?$`)
	rePassword = regexp.MustCompile(`(?im)^password:\s?$`)
)

func privilegeLevels() map[string]*network.PrivilegeLevel {
	return map[string]*network.PrivilegeLevel{
		privExec: {
			Name:    privExec,
			Pattern: reExec.String(),
		},
		privPrivExec: {
			Name:         privPrivExec,
			Pattern:      rePrivExec.String(),
			PreviousPriv: privExec,
			Deescalate:   "disable",
			Escalate:     "enable",
			EscalateAuth: true,
			// Enable is done by ASA.enable, not by scrapligo's escalate
			// loop, which retries a wrong secret several times.
			EscalatePrompt: rePassword.String(),
		},
		privConfig: {
			Name:         privConfig,
			Pattern:      reConfig.String(),
			PreviousPriv: privPrivExec,
			Deescalate:   "end",
			Escalate:     "configure terminal",
		},
	}
}

// failedMarkers are device replies that always mean failure (deny-list;
// configuration output is additionally checked against an allow-list).
var failedMarkers = []string{
	"ERROR:",
	"% Invalid input",
	"% Incomplete",
	"% Ambiguous",
	"Command authorization failed",
	"not allowed, it is being used",
	"Possible duplicate entry",
	"object already exists",
	"does not exist in this group",
	"would become empty",
	"Route already exists",
	"Invalid password",
	"% Bad secrets",
	"% Access denied",
}

// harmlessWarnings are WARNING lines accepted for configuration commands
// starting with the key (Netspoc-Approve's list of known warnings).
var harmlessWarnings = map[string][]string{
	"access-list": {"WARNING: Same object-group is used more than once in one config line"},
}

// Reply classes of a configuration line.
const (
	replyApplied    = iota // empty, INFO:, known harmless WARNING:
	replyRefused           // an error marker: not applied
	replySuspicious        // unknown WARNING: or other text: applied, verification decides
)

// classifyConfigOutput puts a reply to cmd in one of the three classes;
// the error says why for refused (ErrRejected) and suspicious
// (ErrUnexpectedOutput) replies.
func classifyConfigOutput(cmd, out string) (int, error) {
	switch err := checkConfigOutput(cmd, out); {
	case err == nil:
		return replyApplied, nil
	case errors.Is(err, ErrRejected):
		return replyRefused, err
	default:
		return replySuspicious, err
	}
}

// checkConfigureTerminal classifies the reply to "configure terminal":
// nothing has changed yet, so anything but silence or INFO: refuses the
// session (the standby warning as ErrStandby).
func checkConfigureTerminal(out string) error {
	if strings.Contains(out, standbyMarker) {
		return ErrStandby
	}
	return checkConfigOutput("configure terminal", out)
}

// checkConfigOutput accepts only an empty reply, INFO: lines and the known
// harmless warnings for the command; anything else is a failure.
func checkConfigOutput(cmd, out string) error {
	for _, m := range failedMarkers {
		if strings.Contains(out, m) {
			return ErrRejected
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "%") {
			return ErrRejected
		}
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "INFO:") {
			continue
		}
		ok := false
		for prefix, warns := range harmlessWarnings {
			if !strings.HasPrefix(cmd, prefix) {
				continue
			}
			for _, w := range warns {
				if strings.HasPrefix(line, w) {
					ok = true
				}
			}
		}
		if !ok {
			return ErrUnexpectedOutput
		}
	}
	return nil
}

// checkExecOutput rejects replies carrying a failure marker; privileged
// EXEC commands (show, shun, write) legitimately print text.
func checkExecOutput(out string) error {
	for _, m := range failedMarkers {
		if strings.Contains(out, m) {
			return ErrRejected
		}
	}
	return nil
}

// asaShowPrefixes are the read-only ASA commands Show accepts.
var asaShowPrefixes = []string{
	"packet-tracer input", // a simulated packet: changes nothing
	"show conn",
	"show running-config",
	"show access-list",
	"show shun",
	"show route",
	"show version",
	"show interface",
	"show nameif",
	"show clock",
	"show hostname",
	"show mode",
	"show failover",
	"show pager",
	"show terminal",
	"show checksum",
	"show startup-config",
	"show memory",
	"show object-group",
	"show conn count",
	"show logging",
	"show ip address",
}

// execPrefixes are the privileged-EXEC commands Exec accepts: shun
// handling and counter resets, nothing that changes mode or reloads.
var execPrefixes = []string{"shun ", "no shun ", "clear shun", "clear access-list ", "clear conn address "}

func execAllowed(cmd string) bool {
	if strings.Contains(cmd, "|") {
		return false
	}
	for _, p := range execPrefixes {
		if strings.HasPrefix(cmd, p) || cmd == strings.TrimSpace(p) {
			return true
		}
	}
	return false
}

// showAllowed checks cmd against the platform's show prefixes; output
// filters and redirections ("|") are refused.
func (pl *platform) showAllowed(cmd string) bool {
	if strings.Contains(cmd, "|") {
		return false
	}
	for _, p := range pl.showPrefixes {
		if cmd == p || strings.HasPrefix(cmd, p+" ") {
			return true
		}
	}
	return false
}
