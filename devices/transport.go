package devices

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scrapli/scrapligo/transport"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshTransport is a scrapligo transport.Implementation over x/crypto/ssh
// that is dialled by DialASA before scrapligo takes it over: the dial is
// context-aware, the host key callback reports typed errors, and abort
// closes the connection from any goroutine to unblock a pending read (how
// context cancellation reaches scrapligo v1, which has no ctx).
type sshTransport struct {
	conn    net.Conn
	client  *ssh.Client
	session *ssh.Session
	stdin   io.WriteCloser
	stdout  io.Reader

	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed by Close: ends the keepalive goroutines

	keepaliveErr atomic.Pointer[error] // set when unanswered keepalives closed the connection
}

// Keepalive defaults: keepalive@openssh.com every 15 s, and the session is
// closed after 3 in a row go unanswered (a dead box or path is noticed in
// about 45 s instead of at the operation timeout, or never while waiting).
const (
	DefaultKeepaliveInterval = 15 * time.Second
	DefaultKeepaliveMax      = 3
)

// startKeepalive sends keepalive@openssh.com every interval (any reply, even
// a refusal, proves the peer alive) and closes the connection when max
// intervals pass without one, so that pending reads fail with ErrKeepalive.
// Its goroutines end when the transport closes.
func (t *sshTransport) startKeepalive(interval time.Duration, max int) {
	var last atomic.Int64 // unix nanos of the last reply (or the start)
	last.Store(time.Now().UnixNano())
	go func() { // the sender: one request at a time
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-t.done:
				return
			case <-tk.C:
			}
			// Blocks while the peer swallows it; Close unblocks it.
			if _, _, err := t.client.SendRequest("keepalive@openssh.com", true, nil); err != nil {
				return
			}
			last.Store(time.Now().UnixNano())
		}
	}()
	go func() { // the watchdog
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-t.done:
				return
			case <-tk.C:
			}
			since := time.Since(time.Unix(0, last.Load()))
			if since > time.Duration(max)*interval+interval/2 {
				err := fmt.Errorf("%w: no reply to %d keepalives (every %s) in %s", ErrKeepalive, max, interval, since.Round(time.Millisecond))
				t.keepaliveErr.Store(&err)
				t.abort()
				return
			}
		}
	}()
}

// deadErr is why keepalives closed the connection, or nil.
func (t *sshTransport) deadErr() error {
	if p := t.keepaliveErr.Load(); p != nil {
		return *p
	}
	return nil
}

var _ transport.Implementation = (*sshTransport)(nil)

// Open is a no-op: the session was opened by dialSSH.
func (t *sshTransport) Open(*transport.Args) error { return nil }

func (t *sshTransport) Close() error {
	t.closeOnce.Do(func() {
		if t.done != nil {
			close(t.done)
		}
		if t.session != nil {
			_ = t.session.Close()
		}
		t.closeErr = t.client.Close()
		_ = t.conn.Close()
	})
	return t.closeErr
}

// abort closes the connection; safe to call concurrently with Read.
func (t *sshTransport) abort() { _ = t.Close() }

func (t *sshTransport) IsAlive() bool { return true }

func (t *sshTransport) Read(n int) ([]byte, error) {
	b := make([]byte, n)
	n, err := t.stdout.Read(b)
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

func (t *sshTransport) Write(b []byte) error {
	_, err := t.stdin.Write(b)
	return err
}

// sshDialConfig is what dialSSH needs besides the context.
type sshDialConfig struct {
	host, knownHosts string
	port             int
	user             string
	auth             []ssh.AuthMethod
	legacy           bool
	timeout          time.Duration
	termWidth        int
	// keepalive is the interval of keepalive@openssh.com requests and
	// keepaliveMax how many may go unanswered (0: the defaults; a negative
	// interval turns them off).
	keepalive    time.Duration
	keepaliveMax int
}

// legacyAlgorithms returns x/crypto's defaults plus what ASA 8.x images
// offer. They are added to, not substituted for, the defaults (the
// scrapligo standard transport's Extra* options replace them).
func legacyAlgorithms() (kex, ciphers []string) {
	sup := ssh.SupportedAlgorithms()
	kex = append(sup.KeyExchanges, ssh.InsecureKeyExchangeDH14SHA1, ssh.InsecureKeyExchangeDH1SHA1)
	ciphers = append(sup.Ciphers, ssh.InsecureCipherAES128CBC, ssh.InsecureCipherTripleDESCBC)
	return kex, ciphers
}

// dialSSH connects, verifies the host key against known_hosts, logs in and
// starts an interactive shell with a pty.
func dialSSH(ctx context.Context, c sshDialConfig) (*sshTransport, error) {
	addr := net.JoinHostPort(c.host, strconv.Itoa(c.port))
	check, err := knownhosts.New(c.knownHosts)
	if err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w", c.knownHosts, err)
	}
	// Written by the handshake goroutine, read after NewClientConn.
	var (
		mu         sync.Mutex
		hostKeyErr error
		hostKeyOK  bool
	)
	cfg := &ssh.ClientConfig{
		User: c.user,
		Auth: c.auth,
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			err := check(hostname, remote, key)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				hostKeyOK = true
				return nil
			}
			hostKeyErr = hostKeyError(hostname, c.knownHosts, key, err)
			return hostKeyErr
		},
		Timeout: c.timeout,
	}
	if c.legacy {
		cfg.KeyExchanges, cfg.Ciphers = legacyAlgorithms()
	}
	// Offer only the host key types pinned for this host, so a box with
	// several keys presents the pinned one instead of failing as changed.
	var smallRSA int
	cfg.HostKeyAlgorithms, smallRSA = pinnedAlgorithms(check, addr, c.legacy)
	if smallRSA > 0 && !rsaSmallAllowed(smallRSA) {
		// Offer the other pinned types; with none, say why before dialling.
		cfg.HostKeyAlgorithms = slices.DeleteFunc(cfg.HostKeyAlgorithms, func(a string) bool {
			return a == ssh.KeyAlgoRSA || a == ssh.KeyAlgoRSASHA256 || a == ssh.KeyAlgoRSASHA512
		})
		if len(cfg.HostKeyAlgorithms) == 0 {
			return nil, rsaTooSmall(addr, smallRSA, "pinned in "+c.knownHosts)
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w: %w", addr, ErrConnection, err)
	}
	// The handshake has no ctx: bound it by a deadline and by closing the
	// connection when ctx ends.
	deadline := time.Now().Add(c.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		_ = conn.Close()
		var neg *ssh.AlgorithmNegotiationError
		mu.Lock()
		defer mu.Unlock()
		switch {
		case hostKeyErr != nil:
			return nil, hostKeyErr
		case ctx.Err() != nil:
			return nil, fmt.Errorf("ssh handshake with %s: %w: %w", addr, ErrConnection, context.Cause(ctx))
		case strings.Contains(err.Error(), "crypto/rsa: ") && strings.Contains(err.Error(), "-bit keys are insecure"):
			// The host key's signature is checked before known_hosts.
			return nil, fmt.Errorf("%w (%w)", rsaTooSmall(addr, 0, "presented"), err)
		case errors.As(err, &neg):
			return nil, fmt.Errorf("ssh handshake with %s (for ASA 8.x enable legacy algorithms): %w: %w", addr, ErrNoCommonAlgorithm, err)
		case hostKeyOK:
			// The host key is checked before authentication, so a failure
			// after a good key is the login.
			return nil, fmt.Errorf("ssh login to %s as %q: %w: %w", addr, c.user, ErrAuth, err)
		}
		return nil, fmt.Errorf("ssh handshake with %s: %w: %w", addr, ErrConnection, err)
	}
	t := &sshTransport{conn: conn, client: ssh.NewClient(sc, chans, reqs), done: make(chan struct{})}
	fail := func(step string, err error) (*sshTransport, error) {
		_ = t.Close()
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return nil, fmt.Errorf("ssh %s on %s: %w: %w", step, addr, ErrConnection, err)
	}
	if t.session, err = t.client.NewSession(); err != nil {
		return fail("session", err)
	}
	modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 115200, ssh.TTY_OP_OSPEED: 115200}
	if err = t.session.RequestPty("vt100", 24, c.termWidth, modes); err != nil {
		return fail("pty", err)
	}
	if t.stdin, err = t.session.StdinPipe(); err != nil {
		return fail("stdin", err)
	}
	if t.stdout, err = t.session.StdoutPipe(); err != nil {
		return fail("stdout", err)
	}
	if err = t.session.Shell(); err != nil {
		return fail("shell", err)
	}
	_ = conn.SetDeadline(time.Time{})
	if c.keepalive >= 0 {
		iv, max := c.keepalive, c.keepaliveMax
		if iv == 0 {
			iv = DefaultKeepaliveInterval
		}
		if max <= 0 {
			max = DefaultKeepaliveMax
		}
		t.startKeepalive(iv, max)
	}
	return t, nil
}

func hostKeyError(host, file string, key ssh.PublicKey, err error) error {
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		// Revoked keys and malformed files land here.
		return fmt.Errorf("host key for %s: %w: %w", host, ErrHostKeyMismatch, err)
	}
	e := &HostKeyError{Host: host, KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key), KnownHostsFile: file, Err: ErrHostKeyUnknown}
	if len(ke.Want) > 0 {
		e.Err = ErrHostKeyMismatch
		for _, w := range ke.Want {
			e.Known = append(e.Known, fmt.Sprintf("%s %s (%s:%d)", w.Key.Type(), ssh.FingerprintSHA256(w.Key), w.Filename, w.Line))
		}
	}
	return e
}

// pinnedAlgorithms lists the host key algorithms for the key types
// known_hosts pins for addr (nil: x/crypto's defaults, and the unknown key is
// refused by the callback). An RSA key allows rsa-sha2-512/256, and the
// SHA-1 "ssh-rsa" signature only with legacy algorithms (ASA 8.x).
//
// smallRSA is the size in bits of the smallest pinned RSA key when every
// pinned RSA key is under 1024 bits (0: none is, or no RSA key is pinned).
func pinnedAlgorithms(check ssh.HostKeyCallback, addr string, legacy bool) (algos []string, smallRSA int) {
	// Asking about a key that cannot be pinned makes the callback list the
	// pinned ones.
	_, probe, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, 0
	}
	pk, err := ssh.NewPublicKey(probe.Public())
	if err != nil {
		return nil, 0
	}
	tcp, _ := net.ResolveTCPAddr("tcp", addr)
	var ke *knownhosts.KeyError
	if err := check(addr, tcp, pk); !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil, 0
	}
	var out []string
	add := func(a ...string) {
		for _, x := range a {
			if !slices.Contains(out, x) {
				out = append(out, x)
			}
		}
	}
	bigRSA := false
	defer func() {
		if bigRSA {
			smallRSA = 0
		}
	}()
	for _, w := range ke.Want {
		switch t := w.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			n := 1024
			if ck, ok := w.Key.(ssh.CryptoPublicKey); ok {
				if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok {
					n = rk.N.BitLen()
				}
			}
			if n >= 1024 {
				bigRSA = true
			} else if smallRSA == 0 || n < smallRSA {
				smallRSA = n
			}
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
			if legacy {
				add(ssh.KeyAlgoRSA)
			}
		default:
			add(t)
		}
	}
	return out, smallRSA
}

// rsaSmallAllowed reports whether crypto/rsa accepts a key of bits bits here:
// since Go 1.24 it refuses keys under 1024 bits unless GODEBUG=rsa1024min=0
// (set in the environment or by a //go:debug directive). A junk signature
// tells the two apart: refused keys fail on size, allowed ones on the value.
func rsaSmallAllowed(bits int) bool {
	k := &rsa.PublicKey{N: new(big.Int).SetBit(big.NewInt(1), bits-1, 1), E: 65537}
	k.N.SetBit(k.N, 0, 1)
	sig := make([]byte, k.Size())
	err := rsa.VerifyPKCS1v15(k, crypto.SHA256, make([]byte, 32), sig)
	return errors.Is(err, rsa.ErrVerification)
}

func rsaTooSmall(addr string, bits int, how string) error {
	size := "under 1024 bits"
	if bits > 0 {
		size = fmt.Sprintf("of %d bits", bits)
	}
	return fmt.Errorf("host %s: the RSA host key %s is %s, which Go refuses since 1.24 (old ASA 5510s): "+
		"generate a 2048-bit key on the box (crypto key generate rsa modulus 2048) and pin it again, "+
		"or run firebreak with the environment GODEBUG=rsa1024min=0 to accept it: %w", addr, how, size, ErrRSAKeyTooSmall)
}
