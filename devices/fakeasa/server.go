// Package fakeasa is a stateful fake Cisco ASA command line served over real
// SSH (golang.org/x/crypto/ssh) on 127.0.0.1, for tests and the demo.
//
// It models modes and prompts, the enable secret, object-groups,
// access-lists with line numbers and remarks, access-groups, routes, shun,
// "show running-config ...", "show access-list" with hit and element counts,
// "write memory" and the device's error strings, a data path of its own
// (packet-tracer in text and xml, the connection table with show conn and
// clear conn, shun semantics, time-ranges enforced by its clock, show route:
// netview.go, tracer.go, conns.go, timerange.go), plus fault hooks (fail the
// Nth configuration command, drop the connection, slow replies, legacy-only
// algorithms). Error texts not confirmed on a real ASA are marked in the code.
package fakeasa

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Faults are the failure hooks. Counted commands are configuration-mode
// commands other than exit, end, show and terminal; counting restarts at
// every SetFaults.
type Faults struct {
	// FailNth makes the Nth counted command fail without effect, replying
	// FailOutput (for example "Command authorization failed").
	FailNth    int
	FailOutput string
	// DropAfter closes the connection when the counted command after the
	// first DropAfter ones arrives (that command is not applied); it fires
	// once, so a reconnect works. 0 is off.
	DropAfter int
	// HangAfter makes the session stop answering when the counted command
	// after the first HangAfter ones arrives (that command is not applied):
	// no reply, no more output, and the connection's SSH global requests
	// (keepalives) go unanswered, like a box or path that died silently. It
	// fires once, so a reconnect works. 0 is off.
	HangAfter int
	// ReplyDelay is waited before every reply.
	ReplyDelay time.Duration
	// DenyPrefixes makes commands starting with any prefix fail with
	// "Command authorization failed", as with AAA command authorization.
	DenyPrefixes []string
	// WarnNth applies the Nth counted command and then answers WarnOutput
	// (for example an unknown "WARNING: ..."), as a box does when a line
	// takes effect with a caveat.
	WarnNth    int
	WarnOutput string
	// DropWriteReply makes the next "write memory" save the configuration
	// and then close the connection before its reply ([OK] is lost); it
	// fires once.
	DropWriteReply bool
}

// Config configures a Server.
type Config struct {
	// RunningConfig is the initial configuration; hostname, interfaces,
	// object-groups, access-lists, access-groups and routes are modelled and
	// every other line is kept verbatim.
	RunningConfig string
	User          string
	Password      string
	// EnableSecret answers the "Password:" prompt of "enable".
	EnableSecret string
	// AuthorizedKeys may log in with public-key authentication.
	AuthorizedKeys []ssh.PublicKey
	// HostKey is the server key; a fresh ed25519 key when nil.
	HostKey ssh.Signer
	// ExtraHostKeys are offered besides HostKey (a box with RSA and ECDSA
	// keys); the client's algorithm preference picks one.
	ExtraHostKeys []ssh.Signer
	// LegacyAlgorithmsOnly offers only diffie-hellman-group1-sha1,
	// aes128-cbc/3des-cbc and hmac-sha1, like an ASA 8.x.
	LegacyAlgorithmsOnly bool
	Faults               Faults
	// IOS makes the fake answer like a Cisco IOS router for the read-only
	// IOS driver: "terminal length/width" in EXEC, IOS error texts (no
	// "ERROR:", caret under the echo), "% Bad secrets" for a wrong enable.
	IOS bool
	// Replies are canned outputs for exact privileged commands (checked
	// before the model), e.g. "show ip access-lists" for the IOS flavour.
	Replies map[string]string
	// Logger receives connection-level events; nil discards them.
	Logger *slog.Logger
	// Now is the box's clock (time-ranges, show clock); time.Now when nil.
	Now func() time.Time
	// Banner is printed after login, before "Type help or '?' for a list
	// of available commands." (like "banner motd").
	Banner string
	// PagerLines is the session's pager length at login: the ASA default
	// of 24 when zero, no paging when negative. Longer replies stop at
	// "<--- More --->" until a key is pressed ("terminal pager 0" ends it).
	PagerLines int
	// Failover is this unit's role: "" (failover off), "active" or
	// "standby"; SetFailover changes it.
	Failover string
	// Contexts, when set, puts the box in multiple-context mode: sessions
	// start in the system context and "changeto context NAME" selects one
	// of these (all share the one modelled configuration).
	Contexts []string
	// WriteDelay is how long "write memory" takes before its reply (a real
	// box takes seconds). It is waited with Sleep.
	WriteDelay time.Duration
	// Sleep waits d, returning false when the server closes first; a timer
	// when nil. Tests pass a recorder so delays cost no wall-clock time.
	Sleep func(d time.Duration, done <-chan struct{}) bool
}

// Packet is a simulated flow matched against an access-list by Match.
type Packet struct {
	Src, Dst         netip.Addr
	Proto            string // ip, tcp, udp or icmp
	SrcPort, DstPort uint16
}

// Server is a fake ASA. Its methods are safe for concurrent use; each SSH
// session has its own mode while the device model is shared.
type Server struct {
	cfg    Config
	log    *slog.Logger
	sshCfg *ssh.ServerConfig
	signer ssh.Signer

	mu      sync.Mutex
	m       *model
	flows   []*conn // the data path's connection table (conns.go)
	flowSeq int
	now     func() time.Time
	faults  Faults
	counted int
	cmdLog  []string
	role    string    // failover role, see Config.Failover
	changed time.Time // last configuration change, for show version
	ln      net.Listener
	conns   map[net.Conn]struct{}
	closed  bool
	done    chan struct{}
	wg      sync.WaitGroup
}

// New parses cfg.RunningConfig and prepares the SSH server; Start listens.
func New(cfg Config) (*Server, error) {
	m, err := parseRunningConfig(cfg.RunningConfig)
	if err != nil {
		return nil, fmt.Errorf("fakeasa: %w", err)
	}
	s := &Server{cfg: cfg, m: m, faults: cfg.Faults, conns: map[net.Conn]struct{}{}, done: make(chan struct{}), now: cfg.Now, role: cfg.Failover}
	s.log = cfg.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.signer = cfg.HostKey
	if s.signer == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("fakeasa: host key: %w", err)
		}
		if s.signer, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("fakeasa: host key: %w", err)
		}
	}
	sc := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if cfg.Password != "" && c.User() == cfg.User && subtle.ConstantTimeCompare(pw, []byte(cfg.Password)) == 1 {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("fakeasa: bad password")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			for _, a := range cfg.AuthorizedKeys {
				if c.User() == cfg.User && string(a.Marshal()) == string(k.Marshal()) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, errors.New("fakeasa: key not authorized")
		},
		ServerVersion: "SSH-2.0-Cisco-1.25",
	}
	if cfg.LegacyAlgorithmsOnly {
		// An 8.x box signs with an RSA key and SHA-1 ("ssh-rsa") only.
		if cfg.HostKey == nil {
			rk, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, fmt.Errorf("fakeasa: rsa host key: %w", err)
			}
			if s.signer, err = ssh.NewSignerFromKey(rk); err != nil {
				return nil, fmt.Errorf("fakeasa: host key: %w", err)
			}
		}
		if as, ok := s.signer.(ssh.AlgorithmSigner); ok && s.signer.PublicKey().Type() == ssh.KeyAlgoRSA {
			if ls, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSA}); err == nil {
				s.signer = ls
			}
		}
		sc.KeyExchanges = []string{ssh.InsecureKeyExchangeDH1SHA1}
		sc.Ciphers = []string{ssh.InsecureCipherAES128CBC, ssh.InsecureCipherTripleDESCBC}
		sc.MACs = []string{ssh.HMACSHA1}
	}
	sc.AddHostKey(s.signer)
	for _, k := range cfg.ExtraHostKeys {
		sc.AddHostKey(k)
	}
	s.sshCfg = sc
	return s, nil
}

// Start listens on 127.0.0.1 on a free port and serves until Close; it
// returns the "host:port" address.
func (s *Server) Start() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("fakeasa: listen: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go s.accept(ln)
	return ln.Addr().String(), nil
}

// Addr is the listening address, or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops listening, closes every connection and waits for all the
// server's goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// HostKey is the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.signer.PublicKey() }

// KnownHostsLine is the known_hosts line pinning the host key for the
// listening address.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, s.HostKey())
}

// WriteKnownHosts writes KnownHostsLine to path (mode 0600).
func (s *Server) WriteKnownHosts(path string) error {
	return os.WriteFile(path, []byte(s.KnownHostsLine()+"\n"), 0o600)
}

// Running is the canonical running configuration, exactly what
// "show running-config" prints (lines end in "\n").
func (s *Server) Running() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.render()
}

// Startup is the configuration saved by the last "write memory" (the
// initial configuration before any).
func (s *Server) Startup() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.startup
}

// Shuns lists the active shuns.
func (s *Server) Shuns() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.m.shuns)
}

// SetFaults replaces the fault hooks and restarts command counting.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.counted = f, 0
}

// SetFailover sets this unit's failover role ("" off, "active",
// "standby").
func (s *Server) SetFailover(role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.role = role
}

// Reload restarts the box: the running configuration becomes the saved
// one and shuns and connections are gone (they are not saved).
func (s *Server) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := parseRunningConfig(s.m.startup)
	if err != nil {
		return fmt.Errorf("fakeasa: reload: %w", err)
	}
	m.startup, m.linkDown = s.m.startup, s.m.linkDown
	s.m, s.flows, s.changed = m, nil, time.Time{}
	return nil
}

// SetLink sets the link of interface nameif up or down, as a cable or the
// switch port would; the configuration is unchanged. As Cisco documents,
// the static routes through a down interface leave the routing table (and
// return when it comes up); packets entering it are dropped.
func (s *Server) SetLink(nameif string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if up {
		delete(s.m.linkDown, nameif)
		return
	}
	if s.m.linkDown == nil {
		s.m.linkDown = map[string]bool{}
	}
	s.m.linkDown[nameif] = true
}

// FailOver is a failover to the peer unit, which then answers at this
// address: the configuration was replicated, shuns and connections were not.
func (s *Server) FailOver() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.shuns, s.flows = nil, nil
}

// ChangeRunning applies configuration lines as another administrator
// would (not saved), for tests of unsaved foreign changes.
func (s *Server) ChangeRunning(lines ...string) error {
	sess := &cliSession{srv: s, mode: modeConfig}
	for _, l := range lines {
		r := sess.run(l)
		if strings.Contains(r.out, "ERROR") {
			return fmt.Errorf("fakeasa: %q: %s", l, strings.TrimSpace(r.out))
		}
	}
	return nil
}

// Log returns the commands received so far as "MODE: command" (modes exec,
// priv, config, group). Secrets typed at "Password:" are never recorded.
func (s *Server) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cmdLog)
}

// SetHits sets the hit count of ACE number line (1-based, as in
// "show access-list") of acl; for object-group ACEs every element gets n.
func (s *Server) SetHits(acl string, line int, n uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.m.acls[acl]
	if a == nil || line < 1 || line > len(a.entries) || a.entries[line-1].isRemark {
		return fmt.Errorf("fakeasa: no rule %s line %d", acl, line)
	}
	e := a.entries[line-1]
	els, _ := s.m.elements(e)
	for _, el := range els {
		e.hits[el.key] = n
	}
	return nil
}

// Match runs p through acl like the data plane: the first matching active
// element gets one more hit. It returns the ACE's line number and action;
// ok is false when nothing matched (the implicit deny).
func (s *Server) Match(acl string, p Packet) (line int, action string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.m.acls[acl]
	if a == nil {
		return 0, "", false
	}
	for i, e := range a.entries {
		if e.isRemark || e.inactive() {
			continue
		}
		if e.proto != "ip" && e.proto != p.Proto {
			continue
		}
		ports := e.proto == "tcp" || e.proto == "udp"
		els, _ := s.m.elements(e)
		for _, el := range els {
			if ports && (!el.sport.match(p.SrcPort) || !el.dport.match(p.DstPort)) {
				continue
			}
			if (el.anySrc || el.src.Contains(p.Src)) && (el.anyDst || el.dst.Contains(p.Dst)) {
				e.hits[el.key]++
				return i + 1, e.action, true
			}
		}
	}
	return 0, "", false
}

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Warn("fakeasa accept", "err", err)
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *Server) forget(c net.Conn) {
	_ = c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer s.forget(c)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	sc, chans, reqs, err := ssh.NewServerConn(c, s.sshCfg)
	if err != nil {
		s.log.Debug("fakeasa handshake", "err", err)
		return
	}
	_ = c.SetDeadline(time.Time{})
	defer sc.Close()
	cs := &connState{done: make(chan struct{})}
	defer close(cs.done)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		// Refuse global requests (keepalive@openssh.com gets a "failure"
		// reply, which still proves the box alive) until the session hangs.
		for req := range reqs {
			if req.WantReply && !cs.hung.Load() {
				_ = req.Reply(false, nil)
			}
		}
	}()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveSession(sc, ch, creqs, cs)
		}()
	}
}

// connState is what one SSH connection's goroutines share.
type connState struct {
	hung atomic.Bool   // Faults.HangAfter fired on this connection
	done chan struct{} // closed when the connection ends
}

func (s *Server) serveSession(sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request, cs *connState) {
	started := false
	for req := range reqs {
		switch req.Type {
		case "pty-req", "env", "window-change":
			_ = req.Reply(true, nil)
		case "shell":
			_ = req.Reply(!started, nil)
			if !started {
				started = true
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					s.shell(ch, cs)
					_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
					_ = ch.Close()
					_ = sc.Close()
				}()
			}
		default:
			_ = req.Reply(false, nil)
		}
	}
}

// moreText is the ASA pager prompt; eraseMore wipes it before the next page.
const (
	moreText  = "<--- More --->"
	eraseMore = "\r              \r"
)

// shell is the CLI line discipline: the login banner, echo of every typed
// byte, CRLF line endings, a prompt after each command, no echo at
// "Password:", and the pager: a reply longer than the session's pager
// length stops at "<--- More --->" (space: next page, Enter: next line,
// anything else: the rest is dropped).
func (s *Server) shell(ch ssh.Channel, cs *connState) {
	pager := s.cfg.PagerLines
	switch {
	case pager == 0:
		pager = 24
	case pager < 0:
		pager = 0
	}
	sess := &cliSession{srv: s, mode: modeExec, width: 80, pager: pager, conn: cs}
	if len(s.cfg.Contexts) > 0 {
		sess.context = "system"
	}
	var (
		line     []byte
		secret   bool
		lastCR   bool
		more     []string // reply lines held back by the pager
		out      []byte
		buf      = make([]byte, 4096)
		writeOut = func() bool {
			if len(out) == 0 {
				return true
			}
			_, err := ch.Write(out)
			out = out[:0]
			return err == nil
		}
		// emit queues up to n lines of more, then the pager prompt or, when
		// all is shown, the command prompt.
		emit = func(n int) {
			if n > len(more) {
				n = len(more)
			}
			for _, l := range more[:n] {
				out = append(out, l...)
				out = append(out, "\r\n"...)
			}
			more = more[n:]
			if len(more) > 0 {
				out = append(out, moreText...)
				return
			}
			more = nil
			out = append(out, sess.prompt()...)
		}
	)
	if !s.cfg.IOS {
		if s.cfg.Banner != "" {
			out = append(out, strings.ReplaceAll(strings.TrimRight(s.cfg.Banner, "\n")+"\n", "\n", "\r\n")...)
		}
		out = append(out, "Type help or '?' for a list of available commands.\r\n"...)
	}
	out = append(out, sess.prompt()...)
	if !writeOut() {
		return
	}
	for {
		n, err := ch.Read(buf)
		if err != nil {
			return
		}
		for _, b := range buf[:n] {
			if b == '\n' && lastCR {
				lastCR = false
				continue
			}
			lastCR = b == '\r'
			if more != nil {
				out = append(out, eraseMore...)
				switch b {
				case ' ':
					emit(sess.pager - 1)
				case '\r', '\n':
					emit(1)
				default:
					more = more[:0]
					emit(0)
				}
				continue
			}
			switch {
			case b == '\r' || b == '\n':
				out = append(out, "\r\n"...)
				if !writeOut() {
					return
				}
				text := string(line)
				line = line[:0]
				var reply string
				var delay time.Duration
				if secret {
					secret = false
					reply = s.enable(sess, text)
				} else {
					r, closeConn := s.command(sess, text)
					if closeConn {
						return
					}
					if cs.hung.Load() {
						select { // silent until the client or the server gives up
						case <-cs.done:
						case <-s.done:
						}
						return
					}
					reply, delay = r.out, r.delay
					if r.enable {
						secret = true
						reply = "Password: "
					}
					if r.close {
						out = append(out, strings.ReplaceAll(reply, "\n", "\r\n")...)
						writeOut()
						return
					}
				}
				if !s.delay(delay) {
					return
				}
				if secret {
					out = append(out, reply...)
				} else {
					more = nil
					if reply != "" {
						more = strings.Split(strings.TrimSuffix(reply, "\n"), "\n")
					}
					if sess.pager > 0 && len(more) > sess.pager {
						emit(sess.pager - 1)
					} else {
						emit(len(more))
					}
				}
				if !writeOut() {
					return
				}
			case b == 0x7f || b == 0x08:
				if len(line) > 0 {
					line = line[:len(line)-1]
					if !secret {
						out = append(out, "\b \b"...)
					}
				}
			case b == 0x03:
				line = line[:0]
				secret = false
				out = append(out, "^C\r\n"...)
				out = append(out, sess.prompt()...)
			case b >= 0x20 && b < 0x7f:
				line = append(line, b)
				if !secret {
					out = append(out, b)
				}
			}
		}
		if !writeOut() {
			return
		}
	}
}

// delay waits the reply delay fault plus extra (a slow command) with the
// configured Sleep; false means the server is closing.
func (s *Server) delay(extra time.Duration) bool {
	s.mu.Lock()
	d := s.faults.ReplyDelay + extra
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	if s.cfg.Sleep != nil {
		return s.cfg.Sleep(d, s.done)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

func (s *Server) enable(sess *cliSession, secret string) string {
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.EnableSecret)) == 1 {
		sess.mode = modePriv
		return ""
	}
	if s.cfg.IOS {
		return "% Bad secrets\n"
	}
	return "Invalid password\n"
}

var modeNames = map[mode]string{modeExec: "exec", modePriv: "priv", modeConfig: "config", modeNetGroup: "group", modeTimeRange: "time-range"}

// command logs and applies the fault hooks to one command line, then runs
// it; drop reports that the connection must be closed without a reply.
func (s *Server) command(sess *cliSession, text string) (r result, drop bool) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return result{}, false
	}
	s.mu.Lock()
	s.cmdLog = append(s.cmdLog, modeNames[sess.mode]+": "+trimmed)
	f := s.faults
	counted := false
	if sess.inConfig() {
		switch strings.Fields(trimmed)[0] {
		case "exit", "end", "show", "terminal":
		default:
			counted = true
			s.counted++
		}
	}
	n := s.counted
	if counted && f.DropAfter > 0 && n > f.DropAfter {
		s.faults.DropAfter = 0
	}
	if counted && f.HangAfter > 0 && n > f.HangAfter {
		s.faults.HangAfter = 0
		if sess.conn != nil {
			sess.conn.hung.Store(true)
		}
		s.mu.Unlock()
		return result{}, false
	}
	s.mu.Unlock()
	for _, p := range f.DenyPrefixes {
		if strings.HasPrefix(trimmed, p) {
			return result{out: "Command authorization failed\n"}, false
		}
	}
	if counted && f.DropAfter > 0 && n > f.DropAfter {
		return result{}, true
	}
	if counted && f.FailNth > 0 && n == f.FailNth {
		return result{out: f.FailOutput + "\n"}, false
	}
	r = sess.run(text)
	if counted && !strings.Contains(r.out, "ERROR") && !strings.Contains(r.out, "% ") {
		s.mu.Lock()
		s.changed = s.clock()
		s.mu.Unlock()
	}
	if counted && f.WarnNth > 0 && n == f.WarnNth {
		r.out += f.WarnOutput + "\n"
	}
	if f.DropWriteReply && strings.HasPrefix(trimmed, "wr") && strings.Contains(r.out, "[OK]") {
		s.mu.Lock()
		s.faults.DropWriteReply = false
		s.mu.Unlock()
		return r, true
	}
	return r, false
}
