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
	// ReplyDelay is waited before every reply.
	ReplyDelay time.Duration
	// DenyPrefixes makes commands starting with any prefix fail with
	// "Command authorization failed", as with AAA command authorization.
	DenyPrefixes []string
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
	s := &Server{cfg: cfg, m: m, faults: cfg.Faults, conns: map[net.Conn]struct{}{}, done: make(chan struct{}), now: cfg.Now}
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
		sc.KeyExchanges = []string{ssh.InsecureKeyExchangeDH1SHA1}
		sc.Ciphers = []string{ssh.InsecureCipherAES128CBC, ssh.InsecureCipherTripleDESCBC}
		sc.MACs = []string{ssh.HMACSHA1}
	}
	sc.AddHostKey(s.signer)
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
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ssh.DiscardRequests(reqs)
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
			s.serveSession(sc, ch, creqs)
		}()
	}
}

func (s *Server) serveSession(sc *ssh.ServerConn, ch ssh.Channel, reqs <-chan *ssh.Request) {
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
					s.shell(ch)
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

// shell is the CLI line discipline: echo of every typed byte, CRLF line
// endings, a prompt after each command, no echo at "Password:".
func (s *Server) shell(ch ssh.Channel) {
	sess := &cliSession{srv: s, mode: modeExec, width: 80, pager: 24}
	var (
		line     []byte
		secret   bool
		lastCR   bool
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
	)
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
			switch {
			case b == '\r' || b == '\n':
				out = append(out, "\r\n"...)
				if !writeOut() {
					return
				}
				text := string(line)
				line = line[:0]
				var reply string
				var closeConn bool
				if secret {
					secret = false
					reply = s.enable(sess, text)
				} else {
					var r result
					r, closeConn = s.command(sess, text)
					if closeConn {
						return
					}
					reply = r.out
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
				if !s.delay() {
					return
				}
				out = append(out, strings.ReplaceAll(reply, "\n", "\r\n")...)
				if !secret {
					out = append(out, sess.prompt()...)
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

func (s *Server) delay() bool {
	s.mu.Lock()
	d := s.faults.ReplyDelay
	s.mu.Unlock()
	if d <= 0 {
		return true
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
	return sess.run(text), false
}
