package devices

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; every error returned by this package that falls in one
// of these classes wraps the sentinel (test with errors.Is).
var (
	// ErrHostKeyMismatch: the device presented a key other than the one
	// pinned in known_hosts (possible man-in-the-middle). Never retried.
	ErrHostKeyMismatch = errors.New("host key mismatch")
	// ErrHostKeyUnknown: known_hosts has no key for the device; keys are
	// never trusted on first use, add them to the file out of band.
	ErrHostKeyUnknown = errors.New("host key unknown")
	// ErrNoCommonAlgorithm: SSH algorithm negotiation failed (old ASA 8.x
	// images need Target.LegacyAlgorithms).
	ErrNoCommonAlgorithm = errors.New("no common ssh algorithm")
	// ErrRSAKeyTooSmall: the device's RSA host key has fewer than 1024 bits
	// (old ASA 5510s), which Go refuses unless GODEBUG=rsa1024min=0.
	ErrRSAKeyTooSmall = errors.New("rsa host key under 1024 bits")
	// ErrKeepalive: the device stopped answering SSH keepalives; the
	// session was closed.
	ErrKeepalive = errors.New("ssh keepalives unanswered")
	// ErrAuth: the device refused the login credentials.
	ErrAuth = errors.New("ssh authentication failed")
	// ErrWrongDevice: the prompt names another host than Target.Hostname.
	ErrWrongDevice = errors.New("unexpected device")
	// ErrStandby: the unit is not the active one of a failover pair
	// ("show failover", or the standby's warning on "configure terminal");
	// changes there are not replicated and are lost at the next sync.
	ErrStandby = errors.New("device is not the active failover unit")
	// ErrEnable: the enable secret was refused.
	ErrEnable = errors.New("enable failed")
	// ErrCredentials: a credential could not be read (unset variable,
	// unreadable key file, no agent).
	ErrCredentials = errors.New("credentials unavailable")
	// ErrRejected: the device answered a command with an error.
	ErrRejected = errors.New("command rejected by device")
	// ErrUnexpectedOutput: the device answered a configuration command with
	// output that is not on the allow-list; treated as a failure.
	ErrUnexpectedOutput = errors.New("unexpected device output")
	// ErrNotAllowed: Show was asked for a command outside its allow-list.
	ErrNotAllowed = errors.New("command not allowed")
	// ErrConnection: the session broke (dropped, timed out or aborted by
	// context); the ASA value is unusable afterwards, dial again.
	ErrConnection = errors.New("device connection lost")
	// ErrWriteMemory: "write memory" did not answer [OK].
	ErrWriteMemory = errors.New("write memory failed")
	// ErrRollback: rolling back left the configuration different from
	// before the push.
	ErrRollback = errors.New("rollback incomplete")
	// ErrConfigChanged: the device configuration differs from the one the
	// plan was made against; nothing was sent.
	ErrConfigChanged = errors.New("device configuration changed since the plan was made")
	// ErrVerify: the configuration read back after a push failed the
	// caller's verification.
	ErrVerify = errors.New("verification failed")
)

// HostKeyError details a refused host key. Err is ErrHostKeyMismatch or
// ErrHostKeyUnknown.
type HostKeyError struct {
	Host           string   // address as checked against known_hosts
	KeyType        string   // type of the presented key
	Fingerprint    string   // SHA256 fingerprint of the presented key
	Known          []string // fingerprints pinned for the host (file:line)
	KnownHostsFile string
	Err            error
}

func (e *HostKeyError) Error() string {
	if errors.Is(e.Err, ErrHostKeyMismatch) {
		return fmt.Sprintf("host key for %s changed: device presented %s %s but %s pins %s; refusing to connect (possible man-in-the-middle; if the device was replaced, verify the new key out of band and update the file): %v",
			e.Host, e.KeyType, e.Fingerprint, e.KnownHostsFile, strings.Join(e.Known, ", "), e.Err)
	}
	return fmt.Sprintf("no host key for %s in %s (device presented %s %s); keys are not trusted on first use, add the verified key to the file: %v",
		e.Host, e.KnownHostsFile, e.KeyType, e.Fingerprint, e.Err)
}

func (e *HostKeyError) Unwrap() error { return e.Err }

// CommandError is a command the device did not accept.
type CommandError struct {
	Command string
	Output  string // device reply, redacted
	Err     error  // ErrRejected or ErrUnexpectedOutput
}

func (e *CommandError) Error() string {
	out := strings.TrimSpace(e.Output)
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	return fmt.Sprintf("%q: device answered %q: %v", e.Command, out, e.Err)
}

func (e *CommandError) Unwrap() error { return e.Err }
