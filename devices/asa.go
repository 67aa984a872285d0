package devices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/scrapli/scrapligo/channel"
	"github.com/scrapli/scrapligo/driver/network"
	"github.com/scrapli/scrapligo/driver/options"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// DefaultTimeout bounds each device operation when Target.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Credentials say where secrets come from; the values themselves are never
// stored in configuration, logs or transcripts.
type Credentials struct {
	// PasswordEnv names the environment variable holding the login
	// password (password and keyboard-interactive authentication).
	PasswordEnv string
	// KeyFile is a private key file; KeyPassphraseEnv names the variable
	// holding its passphrase, if any.
	KeyFile          string
	KeyPassphraseEnv string
	// Agent uses the ssh-agent at $SSH_AUTH_SOCK.
	Agent bool
	// EnableSecretEnv names the variable holding the enable secret; empty
	// means the account lands in privileged EXEC (auto-enable).
	EnableSecretEnv string
}

// Target is one device to dial.
type Target struct {
	Name    string // for logs and errors
	Address string // host name or IP address
	Port    int    // 22 when zero
	User    string
	Auth    Credentials
	// KnownHostsFile is required: host keys are always verified against
	// it, unknown and changed keys are refused.
	KnownHostsFile string
	// LegacyAlgorithms adds diffie-hellman-group1/14-sha1, aes128-cbc and
	// 3des-cbc to the defaults, for ASA 8.x images.
	LegacyAlgorithms bool
	// Timeout bounds each operation (DefaultTimeout when zero); a context
	// deadline that is earlier wins.
	Timeout time.Duration
	// Hostname, when set, must equal the hostname in the device prompt
	// (ErrWrongDevice otherwise), so a moved address cannot redirect a push.
	Hostname string
	// Context is the security context of a multiple-context ASA
	// ("changeto context NAME" at every dial). A multiple-context device
	// without it, or a single-context one with it, is ErrWrongDevice.
	Context string
	// KeepaliveInterval is how often keepalive@openssh.com is sent
	// (DefaultKeepaliveInterval when zero, off when negative);
	// KeepaliveMax how many may go unanswered before the session is closed
	// with ErrKeepalive (DefaultKeepaliveMax when zero).
	KeepaliveInterval time.Duration
	KeepaliveMax      int
}

// ASA is an open privileged session on a Cisco ASA. Methods are serialised
// by an internal mutex. After an ErrConnection the value is unusable: Close
// it and dial again.
type ASA struct {
	plat       *platform
	name       string
	log        *slog.Logger
	timeout    time.Duration
	transcript *Transcript

	mu      sync.Mutex
	widthOK bool // "show terminal" said width 511, or it was set
	tr      *sshTransport
	d       *network.Driver
	broken  error
	closer  []func() error
}

func getenv(name, what string) (string, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return "", fmt.Errorf("%s: environment variable %s is not set: %w", what, name, ErrCredentials)
	}
	return v, nil
}

// authMethods builds the SSH authentication methods and lists the secrets
// to redact.
func (c Credentials) authMethods() (methods []ssh.AuthMethod, secrets []string, closers []func() error, err error) {
	if c.Agent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return nil, nil, nil, fmt.Errorf("ssh-agent: SSH_AUTH_SOCK is not set: %w", ErrCredentials)
		}
		conn, derr := net.Dial("unix", sock)
		if derr != nil {
			return nil, nil, nil, fmt.Errorf("ssh-agent: %w: %w", ErrCredentials, derr)
		}
		closers = append(closers, conn.Close)
		methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	if c.KeyFile != "" {
		pem, rerr := os.ReadFile(c.KeyFile)
		if rerr != nil {
			return nil, nil, closers, fmt.Errorf("key file: %w: %w", ErrCredentials, rerr)
		}
		var signer ssh.Signer
		if c.KeyPassphraseEnv != "" {
			pass, perr := getenv(c.KeyPassphraseEnv, "key passphrase")
			if perr != nil {
				return nil, nil, closers, perr
			}
			secrets = append(secrets, pass)
			signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(pass))
		} else {
			signer, err = ssh.ParsePrivateKey(pem)
		}
		if err != nil {
			return nil, nil, closers, fmt.Errorf("key file %s: %w: %w", c.KeyFile, ErrCredentials, err)
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if c.PasswordEnv != "" {
		pw, perr := getenv(c.PasswordEnv, "login password")
		if perr != nil {
			return nil, nil, closers, perr
		}
		secrets = append(secrets, pw)
		methods = append(methods, ssh.Password(pw), ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		return nil, nil, closers, fmt.Errorf("no password, key file or agent configured: %w", ErrCredentials)
	}
	return methods, secrets, closers, nil
}

// DialASA connects to t, verifies the host key, logs in, enters privileged
// EXEC with the enable secret, turns the pager off when "show pager" says it
// is on, checks which box it reached (the prompt's hostname against
// t.Hostname, "show mode" and "changeto context" against t.Context, and
// "show failover": this unit must be Active or failover off, ErrStandby
// otherwise). It never enters configuration mode: the first Configure sets
// "terminal width 511" when "show terminal" says it is needed, so read-only
// sessions stay read-only. log may be nil.
func DialASA(ctx context.Context, t Target, log *slog.Logger) (*ASA, error) {
	return dial(ctx, t, log, asaPlatform)
}

func dial(ctx context.Context, t Target, log *slog.Logger, plat *platform) (*ASA, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if t.Name == "" {
		t.Name = t.Address
	}
	if t.Address == "" || t.User == "" {
		return nil, fmt.Errorf("device %s: address and user are required: %w", t.Name, ErrCredentials)
	}
	if t.KnownHostsFile == "" {
		return nil, fmt.Errorf("device %s: a known_hosts file is required (host keys are always verified): %w", t.Name, ErrHostKeyUnknown)
	}
	if t.Port == 0 {
		t.Port = 22
	}
	if t.Timeout <= 0 {
		t.Timeout = DefaultTimeout
	}
	methods, secrets, closers, err := t.Auth.authMethods()
	closeAll := func() {
		for _, c := range closers {
			_ = c()
		}
	}
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("device %s: %w", t.Name, err)
	}
	enableSecret := ""
	if t.Auth.EnableSecretEnv != "" {
		if enableSecret, err = getenv(t.Auth.EnableSecretEnv, "enable secret"); err != nil {
			closeAll()
			return nil, fmt.Errorf("device %s: %w", t.Name, err)
		}
		secrets = append(secrets, enableSecret)
	}
	tr, err := dialSSH(ctx, sshDialConfig{
		host: t.Address, port: t.Port, knownHosts: t.KnownHostsFile, user: t.User,
		auth: methods, legacy: t.LegacyAlgorithms, timeout: t.Timeout, termWidth: MaxCommandLen,
		keepalive: t.KeepaliveInterval, keepaliveMax: t.KeepaliveMax,
	})
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("device %s: %w", t.Name, err)
	}
	a := &ASA{
		name: t.Name, log: log.With("device", t.Name, "platform", plat.name), timeout: t.Timeout, plat: plat,
		transcript: newTranscript(secrets...), tr: tr, closer: closers,
	}
	a.d, err = network.NewDriver(t.Address,
		options.WithCustomTransport(tr),
		options.WithPort(t.Port),
		options.WithAuthUsername(t.User),
		options.WithPrivilegeLevels(privilegeLevels()),
		options.WithDefaultDesiredPriv(privPrivExec),
		options.WithFailedWhenContains(failedMarkers),
		options.WithTimeoutOps(t.Timeout),
		options.WithTermWidth(MaxCommandLen),
	)
	if err != nil {
		_ = tr.Close()
		closeAll()
		return nil, fmt.Errorf("device %s: driver: %w", t.Name, err)
	}
	if err := a.open(ctx, enableSecret, t.Hostname, t.Context); err != nil {
		_ = a.Close()
		return nil, fmt.Errorf("device %s: %w", t.Name, err)
	}
	a.log.Info("device session open", "address", t.Address, "port", t.Port)
	return a, nil
}

func (a *ASA) open(ctx context.Context, enableSecret, hostname, context string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.guard(ctx, a.d.Open); err != nil {
		return err
	}
	if err := a.enable(ctx, enableSecret, hostname); err != nil {
		return err
	}
	if a.plat != asaPlatform {
		for _, c := range a.plat.execSetup {
			if _, err := a.execLocked(ctx, MustCommand(c), checkConfigOutput); err != nil {
				return err
			}
		}
		return nil
	}
	pager, err := a.execLocked(ctx, MustCommand("show pager"), func(_, out string) error { return checkExecOutput(out) })
	if err != nil {
		return err
	}
	if p := strings.TrimSpace(pager); p != "no pager" && p != "pager lines 0" {
		if _, err := a.execLocked(ctx, MustCommand("terminal pager 0"), checkConfigOutput); err != nil {
			return err
		}
	}
	if err := a.selectContext(ctx, context); err != nil {
		return err
	}
	fo, err := a.execLocked(ctx, MustCommand("show failover"), func(_, out string) error { return checkExecOutput(out) })
	if err != nil {
		return err
	}
	return failoverActive(fo)
}

// selectContext checks "show mode" against the wanted context and changes
// to it.
func (a *ASA) selectContext(ctx context.Context, want string) error {
	mode, err := a.execLocked(ctx, MustCommand("show mode"), func(_, out string) error { return checkExecOutput(out) })
	if err != nil {
		return err
	}
	multiple := strings.Contains(mode, "multiple")
	switch {
	case !multiple && want == "":
		return nil
	case !multiple:
		return fmt.Errorf("policy names context %q but the device is in single-context mode: %w", want, ErrWrongDevice)
	case want == "":
		return fmt.Errorf("device is in multiple-context mode and the policy names no context (ssh.context): %w", ErrWrongDevice)
	}
	c, err := NewCommand("changeto context " + want)
	if err != nil {
		return err
	}
	if _, err := a.execLocked(ctx, c, func(_, out string) error { return checkExecOutput(out) }); err != nil {
		return err
	}
	var prompt string
	if err := a.guard(ctx, func() error {
		p, err := a.d.GetPrompt()
		prompt = p
		return err
	}); err != nil {
		return err
	}
	if got := promptContext(prompt); got != want {
		return fmt.Errorf("after changeto the prompt %q names context %q, expected %q: %w", strings.TrimSpace(prompt), got, want, ErrWrongDevice)
	}
	return nil
}

var reThisHost = regexp.MustCompile(`(?m)^\s*This host:\s*\S+\s*-\s*(.+?)\s*$`)

// failoverActive accepts "Failover Off" and a unit whose "This host:" line
// says Active; anything else (Standby Ready, Failed, Cold Standby, an
// unreadable reply) is ErrStandby.
func failoverActive(out string) error {
	if strings.Contains(out, "Failover Off") {
		return nil
	}
	m := reThisHost.FindStringSubmatch(out)
	switch {
	case m == nil:
		return fmt.Errorf("show failover names no state for this unit: %w", ErrStandby)
	case m[1] != "Active":
		return fmt.Errorf("this unit is %q, not Active; changes go to the active unit: %w", m[1], ErrStandby)
	}
	return nil
}

// guard runs f, which talks to the device, bounded by the operation timeout
// and ctx: when ctx ends first the connection is closed, which unblocks
// scrapligo's reads. Any failure of f leaves the session broken.
func (a *ASA) guard(ctx context.Context, f func() error) error {
	if a.broken != nil || a.d == nil {
		return fmt.Errorf("%w: %w", ErrConnection, a.broken)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrConnection, context.Cause(ctx))
	}
	timeout := a.timeout
	if dl, ok := ctx.Deadline(); ok {
		if r := time.Until(dl); r < timeout {
			timeout = r
		}
	}
	if timeout <= 0 {
		return fmt.Errorf("%w: %w", ErrConnection, context.DeadlineExceeded)
	}
	a.d.Channel.TimeoutOps = timeout
	stop := context.AfterFunc(ctx, a.tr.abort)
	err := f()
	if !stop() || ctx.Err() != nil {
		a.broken = context.Cause(ctx)
		a.tr.abort()
		return fmt.Errorf("%w: %w", ErrConnection, a.broken)
	}
	if err != nil {
		if kerr := a.tr.deadErr(); kerr != nil {
			err = kerr // the read failed because keepalives closed the connection
		}
		a.broken = err
		a.tr.abort()
		return fmt.Errorf("%w: %w", ErrConnection, err)
	}
	return nil
}

func (a *ASA) usable() error {
	if a.broken != nil || a.d == nil {
		return fmt.Errorf("%w: %w", ErrConnection, a.broken)
	}
	return nil
}

// sendLocked sends one line at the current privilege level and returns the
// reply without echo and prompt.
func (a *ASA) sendLocked(ctx context.Context, line string) (string, error) {
	var out string
	err := a.guard(ctx, func() error {
		r, err := a.d.Driver.SendCommand(line)
		if err != nil {
			return err
		}
		out = r.Result
		return nil
	})
	if err != nil {
		a.transcript.add(line, "", err)
	}
	return out, err
}

var reEnableDone = regexp.MustCompile(`(?m)^(?:[\w./:-]{1,63}[>#]|[Pp]assword:)\s?$`)

// enable reaches privileged EXEC. The secret is typed once: a refusal
// returns ErrEnable at once instead of scrapligo's retry loop.
func (a *ASA) enable(ctx context.Context, secret, hostname string) error {
	var prompt string
	if err := a.guard(ctx, func() error {
		p, err := a.d.GetPrompt()
		prompt = p
		return err
	}); err != nil {
		return err
	}
	if got := promptHost(prompt); hostname != "" && got != hostname {
		return fmt.Errorf("device prompt names %q, expected %q: %w", got, hostname, ErrWrongDevice)
	}
	switch {
	case rePrivExec.MatchString(prompt):
		a.d.CurrentPriv = privPrivExec
		return nil
	case reConfig.MatchString(prompt):
		a.d.CurrentPriv = privConfig
		return a.guard(ctx, func() error { return a.d.AcquirePriv(privPrivExec) })
	case !reExec.MatchString(prompt):
		return fmt.Errorf("unrecognised prompt %q: %w", prompt, ErrEnable)
	}
	if secret == "" {
		return fmt.Errorf("device is in user EXEC and no enable secret is configured: %w", ErrEnable)
	}
	var out []byte
	err := a.guard(ctx, func() error {
		var err error
		out, err = a.d.Channel.SendInteractive([]*channel.SendInteractiveEvent{
			{ChannelInput: "enable", ChannelResponse: rePassword.String()},
			{ChannelInput: secret, ChannelResponse: reEnableDone.String(), HideInput: true},
		})
		return err
	})
	reply := strings.TrimSpace(string(out))
	a.transcript.add("enable", "Password:", nil)
	if err != nil {
		a.transcript.add(redactedText, "", err)
		return err
	}
	lines := strings.Split(reply, "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if !rePrivExec.MatchString(last) {
		a.transcript.add(redactedText, reply, ErrEnable)
		return fmt.Errorf("enable secret refused (device answered %q): %w", strings.TrimSpace(strings.Join(lines[:len(lines)-1], " ")), ErrEnable)
	}
	a.transcript.add(redactedText, "", nil)
	a.d.CurrentPriv = privPrivExec
	return nil
}

// promptHost is the hostname part of a prompt ("fw1(config)# " → "fw1",
// "fw1/ctx# " → "fw1").
func promptHost(p string) string {
	p = strings.TrimSpace(p)
	p = strings.TrimRight(p, ">#")
	if i := strings.IndexByte(p, '('); i >= 0 {
		p = p[:i]
	}
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[:i]
	}
	return p
}

// promptContext is the context part of a prompt ("fw1/ctx# " → "ctx").
func promptContext(p string) string {
	p = strings.TrimRight(strings.TrimSpace(p), ">#")
	if i := strings.IndexByte(p, '('); i >= 0 {
		p = p[:i]
	}
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return ""
}

// execLocked sends line in privileged EXEC and checks the reply.
func (a *ASA) execLocked(ctx context.Context, c Command, check func(cmd, out string) error) (string, error) {
	if err := a.usable(); err != nil {
		return "", err
	}
	if a.d.CurrentPriv != privPrivExec {
		if err := a.guard(ctx, func() error { return a.d.AcquirePriv(privPrivExec) }); err != nil {
			return "", err
		}
	}
	a.log.Debug("exec", "command", c.String())
	out, err := a.sendLocked(ctx, c.String())
	if err != nil {
		return "", err
	}
	if cerr := check(c.String(), out); cerr != nil {
		e := &CommandError{Command: c.String(), Output: a.transcript.redact(out), Err: cerr}
		a.transcript.add(c.String(), out, e)
		return out, e
	}
	a.transcript.add(c.String(), out, nil)
	return out, nil
}

// Result reports what Configure applied.
type Result struct {
	// Applied are the lines the device accepted, in order.
	Applied []Command
	// InFlight is the line being sent when the connection broke; the device
	// may or may not have applied it.
	InFlight Command
	// Suspicious are lines the device answered with an unknown warning or
	// other unrecognised text: taken as applied (they are in Applied, so a
	// rollback undoes them) and left to verification to judge.
	Suspicious []Reply
}

// Reply is a line and the device's answer to it.
type Reply struct {
	Command Command
	Output  string // redacted
}

// Configure enters configuration mode (from the top level, so no earlier
// sub-mode leaks in), reads and classifies the reply to "configure
// terminal" (a standby unit's replication warning is ErrStandby, any other
// text is refused before a line is sent), sets "terminal width 511" if
// "show terminal" says it is needed, then sends the lines one by one. Each
// reply is in one of three classes: an error marker (ERROR:, %, the known
// refusals) means refused and stops the push (a *CommandError wrapping
// ErrRejected); empty, INFO: and the known harmless warnings mean applied;
// anything else, an unknown WARNING: first of all, means applied and
// suspicious (Result.Suspicious; verification decides). It always tries to
// return to privileged EXEC. It does not roll back; see Apply.
func (a *ASA) Configure(ctx context.Context, lines []Command) (Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.configureLocked(ctx, lines)
}

// standbyMarker is in a standby unit's reply to "configure terminal".
const standbyMarker = "Configuration Replication is NOT performed"

func (a *ASA) configureLocked(ctx context.Context, lines []Command) (Result, error) {
	var res Result
	for _, l := range lines {
		if l.IsZero() {
			return res, fmt.Errorf("zero command: %w", ErrBadCommand)
		}
	}
	if err := a.usable(); err != nil {
		return res, err
	}
	// Leave any sub-mode first: scrapligo's configuration level also
	// matches sub-mode prompts.
	if a.d.CurrentPriv != privPrivExec {
		if err := a.guard(ctx, func() error { return a.d.AcquirePriv(privPrivExec) }); err != nil {
			return res, err
		}
	}
	out, err := a.sendLocked(ctx, "configure terminal")
	if err != nil {
		return res, err
	}
	a.d.CurrentPriv = privConfig
	if cerr := checkConfigureTerminal(out); cerr != nil {
		e := &CommandError{Command: "configure terminal", Output: a.transcript.redact(out), Err: cerr}
		a.transcript.add("configure terminal", out, e)
		return res, errors.Join(e, a.endLocked(ctx))
	}
	a.transcript.add("configure terminal", out, nil)
	if !a.widthOK && a.plat == asaPlatform {
		if err := a.setWidthLocked(ctx); err != nil {
			return res, errors.Join(err, a.endLocked(ctx))
		}
	}
	var failure error
	for _, l := range lines {
		a.log.Debug("configure", "command", l.String())
		out, err := a.sendLocked(ctx, l.String())
		if err != nil {
			res.InFlight = l
			return res, err
		}
		switch class, cerr := classifyConfigOutput(l.String(), out); class {
		case replyRefused:
			failure = &CommandError{Command: l.String(), Output: a.transcript.redact(out), Err: cerr}
			a.transcript.add(l.String(), out, failure)
		case replySuspicious:
			res.Suspicious = append(res.Suspicious, Reply{Command: l, Output: a.transcript.redact(out)})
			a.transcript.add(l.String(), out, fmt.Errorf("suspicious reply, taken as applied: %w", cerr))
			a.log.Warn("suspicious device reply, taken as applied", "command", l.String(), "reply", a.transcript.redact(out))
		default:
			a.transcript.add(l.String(), out, nil)
		}
		if failure != nil {
			break
		}
		res.Applied = append(res.Applied, l)
	}
	return res, errors.Join(failure, a.endLocked(ctx))
}

// endLocked returns from configuration mode to privileged EXEC.
func (a *ASA) endLocked(ctx context.Context) error {
	if err := a.guard(ctx, func() error { return a.d.AcquirePriv(privPrivExec) }); err != nil {
		return err
	}
	a.transcript.add("end", "", nil)
	return nil
}

var reWidth = regexp.MustCompile(`Width\s*=\s*(\d+)`)

// setWidthLocked sends "terminal width 511" (config mode) unless "show
// terminal" already says 511.
func (a *ASA) setWidthLocked(ctx context.Context) error {
	out, err := a.sendLocked(ctx, "show terminal")
	if err != nil {
		return err
	}
	a.transcript.add("show terminal", out, nil)
	if m := reWidth.FindStringSubmatch(out); m != nil && m[1] == fmt.Sprint(MaxCommandLen) {
		a.widthOK = true
		return nil
	}
	c := MustCommand(fmt.Sprintf("terminal width %d", MaxCommandLen))
	out, err = a.sendLocked(ctx, c.String())
	if err != nil {
		return err
	}
	if cerr := checkConfigOutput(c.String(), out); cerr != nil {
		e := &CommandError{Command: c.String(), Output: a.transcript.redact(out), Err: cerr}
		a.transcript.add(c.String(), out, e)
		return e
	}
	a.transcript.add(c.String(), out, nil)
	a.widthOK = true
	return nil
}

// Exec sends one privileged-EXEC line from a small allow-list ("shun ...",
// "no shun ...", "clear shun", "clear access-list ...") and returns the
// reply; other lines are ErrNotAllowed, and a reply carrying an error marker
// is a *CommandError wrapping ErrRejected.
func (a *ASA) Exec(ctx context.Context, c Command) (string, error) {
	if c.IsZero() {
		return "", fmt.Errorf("zero command: %w", ErrBadCommand)
	}
	if !execAllowed(c.String()) {
		return "", fmt.Errorf("%q is not an allowed exec command: %w", c.String(), ErrNotAllowed)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.execLocked(ctx, c, func(_, out string) error { return checkExecOutput(out) })
}

// Show runs a read-only command from a fixed allow-list of prefixes (show
// running-config, show access-list, show shun, show route, ...) and returns
// its output (lines without trailing spaces, no echo, no prompt).
func (a *ASA) Show(ctx context.Context, cmd string) (string, error) {
	if !a.plat.showAllowed(cmd) {
		return "", fmt.Errorf("%q is not an allowed show command: %w", cmd, ErrNotAllowed)
	}
	c, err := NewCommand(cmd)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.execLocked(ctx, c, func(_, out string) error {
		// Errors come first; later lines are data (remarks may say anything).
		head := out
		if lines := strings.SplitN(out, "\n", 4); len(lines) > 3 {
			head = strings.Join(lines[:3], "\n")
		}
		return checkExecOutput(head)
	})
}

// RunningConfig returns "show running-config" with every line's trailing
// spaces removed and a final newline.
func (a *ASA) RunningConfig(ctx context.Context) (string, error) {
	out, err := a.Show(ctx, "show running-config")
	if err != nil {
		return "", err
	}
	return out + "\n", nil
}

// WriteMemory saves the running configuration; anything but an [OK] in the
// reply is ErrWriteMemory.
func (a *ASA) WriteMemory(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := a.execLocked(ctx, MustCommand("write memory"), func(_, out string) error {
		if err := checkExecOutput(out); err != nil {
			return err
		}
		if !strings.Contains(out, "[OK]") {
			return ErrWriteMemory
		}
		return nil
	})
	if err != nil && !errors.Is(err, ErrConnection) && !errors.Is(err, ErrWriteMemory) {
		return fmt.Errorf("%w: %w", ErrWriteMemory, err)
	}
	return err
}

var reChecksum = regexp.MustCompile(`(?m)^Cryptochecksum:\s*([0-9a-fA-F ]{32,40}?)\s*$`)

// Checksums returns the checksums of the running ("show checksum") and
// startup (its Cryptochecksum line) configurations, lower-case hex without
// spaces; equal means nothing is unsaved.
func (a *ASA) Checksums(ctx context.Context) (running, startup string, err error) {
	parse := func(cmd, out string) (string, error) {
		m := reChecksum.FindAllStringSubmatch(out, -1)
		if m == nil {
			return "", fmt.Errorf("%s: no Cryptochecksum line: %w", cmd, ErrUnexpectedOutput)
		}
		return strings.ToLower(strings.ReplaceAll(m[len(m)-1][1], " ", "")), nil
	}
	out, err := a.Show(ctx, "show checksum")
	if err != nil {
		return "", "", err
	}
	if running, err = parse("show checksum", out); err != nil {
		return "", "", err
	}
	if out, err = a.Show(ctx, "show startup-config"); err != nil {
		return "", "", err
	}
	if startup, err = parse("show startup-config", out); err != nil {
		return "", "", err
	}
	return running, startup, nil
}

var _ Checksummer = (*ASA)(nil)

// Transcript is the session's redacted transcript (shared, still growing
// while the session is used).
func (a *ASA) Transcript() *Transcript { return a.transcript }

// Name is the device name from the Target.
func (a *ASA) Name() string { return a.name }

// Close ends the session; it is safe to call more than once.
func (a *ASA) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var err error
	if a.d != nil {
		err = a.d.Close()
		a.d = nil
	}
	_ = a.tr.Close()
	for _, c := range a.closer {
		_ = c()
	}
	a.closer = nil
	if a.broken == nil {
		a.broken = errors.New("session closed")
	}
	return err
}
