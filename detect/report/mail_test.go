package report

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/policies"
)

const (
	testUser     = "reports@clinic.example"
	testPassword = "s3cret-Pa55word!"
)

// mailServer is a real go-smtp server on 127.0.0.1 with STARTTLS and AUTH PLAIN that keeps
// what it receives.
type mailServer struct {
	addr  string
	roots *x509.CertPool
	mu    sync.Mutex
	msgs  [][]byte
	rcpts []string
	authd []string
	tls   []bool
}

func (m *mailServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &mailSession{srv: m, tls: isTLS, conn: c}, nil
}

type mailSession struct {
	srv  *mailServer
	conn *smtp.Conn
	tls  bool
	user string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != testUser || pass != testPassword {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.user == "" {
		return errors.New("authenticate first")
	}
	s.srv.mu.Lock()
	s.srv.rcpts = append(s.srv.rcpts, to)
	s.srv.mu.Unlock()
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, b)
	s.srv.authd = append(s.srv.authd, s.user)
	s.srv.tls = append(s.srv.tls, isTLS)
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// startMailServer listens on 127.0.0.1:0 with a self-signed certificate for 127.0.0.1.
func startMailServer(t *testing.T) *mailServer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ms := &mailServer{roots: x509.NewCertPool()}
	ms.roots.AddCert(cert)
	s := smtp.NewServer(ms)
	s.Domain = "127.0.0.1"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = l.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(l) }()
	t.Cleanup(func() { s.Close(); <-done })
	return ms
}

func TestJobWritesAndMailsReport(t *testing.T) {
	f := scenarioFixture(t)
	ms := startMailServer(t)
	host, port, _ := net.SplitHostPort(ms.addr)
	// The scenario's policy plus a report section naming the test server.
	orig, err := os.ReadFile(f.files.Policy)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pol := filepath.Join(dir, "site.yaml")
	extra := fmt.Sprintf("\nreport:\n  out_dir: %s\n  smtp:\n    host: %s\n    port: %s\n    from: firebreak@clinic.example\n    to: [it@clinic.example, \"Dr Who <who@clinic.example>\"]\n    user: %s\n    password_env: FIREBREAK_TEST_SMTP\n",
		filepath.Join(dir, "reports"), host, port, testUser)
	if err := os.WriteFile(pol, append(orig, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := policies.Load(pol)
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := map[string]string{"FIREBREAK_TEST_SMTP": testPassword}
	job, err := NewJob(JobOptions{
		Sources:   Sources{Store: f.st, Config: cfg},
		Getenv:    func(k string) string { return env[k] },
		TLSConfig: &tls.Config{RootCAs: ms.roots},
		Log:       log,
	})
	if err != nil {
		t.Fatal(err)
	}
	at := dayEnd(f.incident(t, scenario.KindExfiltration).Start, cfg.Location())
	if err := job.Run(t.Context(), at); err != nil {
		t.Fatalf("Run: %v", err)
	}

	base := filepath.Join(dir, "reports", FileName(cfg.Site, at, cfg.Location()))
	for _, ext := range []string{".html", ".json"} {
		if fi, err := os.Stat(base + ext); err != nil || fi.Size() == 0 {
			t.Errorf("report file %s%s: %v", base, ext, err)
		}
	}
	if len(ms.msgs) != 1 {
		t.Fatalf("server received %d messages; want 1", len(ms.msgs))
	}
	if !ms.tls[0] || ms.authd[0] != testUser {
		t.Errorf("message over TLS %v, authenticated as %q", ms.tls[0], ms.authd[0])
	}
	if got := strings.Join(ms.rcpts, ","); got != "it@clinic.example,who@clinic.example" {
		t.Errorf("recipients %s", got)
	}
	checkMessage(t, ms.msgs[0], filepath.Base(base)+".html")

	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + testUser + "\x00" + testPassword))
	for _, secret := range []string{testPassword, plain} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the password reached the log:\n%s", logs.String())
		}
	}
	if !strings.Contains(logs.String(), "report mailed") {
		t.Errorf("log does not say the report was mailed:\n%s", logs.String())
	}

	// A wrong password is refused by the server, and the error does not carry it either.
	env["FIREBREAK_TEST_SMTP"] = "wrong-" + testPassword
	err = job.Run(t.Context(), at)
	if err == nil || strings.Contains(err.Error(), testPassword) {
		t.Errorf("Run with a wrong password: %v", err)
	}
	delete(env, "FIREBREAK_TEST_SMTP")
	if err := job.Run(t.Context(), at); !errors.Is(err, errNoPassword) {
		t.Errorf("Run without the password variable: %v; want errNoPassword", err)
	}
}

// checkMessage parses the mail: multipart/mixed with a multipart/alternative (text, HTML) and
// the HTML attached.
func checkMessage(t *testing.T, raw []byte, attachment string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || !strings.Contains(subj, "firebreak report clinic") {
		t.Errorf("subject %q: %v", subj, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("content type %s: %v", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	var text, html, att string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, ps, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
		switch ct {
		case "multipart/alternative":
			ar := multipart.NewReader(p, ps["boundary"])
			for {
				ap, err := ar.NextPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				act, _, _ := mime.ParseMediaType(ap.Header.Get("Content-Type"))
				types = append(types, act)
				b, _ := io.ReadAll(ap) // multipart decodes quoted-printable
				if act == "text/plain" {
					text = string(b)
				} else {
					html = string(b)
				}
			}
		case "text/html":
			if p.FileName() != attachment {
				t.Errorf("attachment name %q; want %q", p.FileName(), attachment)
			}
			b, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
			att = string(b)
		}
	}
	if got := strings.Join(types, ","); got != "multipart/alternative,text/plain,text/html,text/html" {
		t.Errorf("parts %s", got)
	}
	if !strings.Contains(text, "Traffic by hour") || !strings.Contains(html, "<svg") || att != strings.ReplaceAll(html, "\r\n", "\n") {
		t.Errorf("bodies: text %d bytes, html %d bytes, attachment %d bytes", len(text), len(html), len(att))
	}
}

func TestSendMailRefusesAuthWithoutTLS(t *testing.T) {
	err := SendMail(t.Context(), MailConfig{Host: "127.0.0.1", Port: 1, From: "a@b.example", To: []string{"c@d.example"}, User: "u", Password: "p"}, Message{})
	if !errors.Is(err, ErrAuthWithoutTLS) {
		t.Errorf("SendMail without STARTTLS = %v; want ErrAuthWithoutTLS", err)
	}
}

func TestBuildMessageHeaderInjection(t *testing.T) {
	from, _ := mail.ParseAddress("a@b.example")
	to, _ := mail.ParseAddress("c@d.example")
	b, err := buildMessage(from, []*mail.Address{to}, Message{Subject: "x\r\nBcc: evil@example.com", Text: []byte("t"), HTML: []byte("<p>h</p>")})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("Bcc") != "" {
		t.Error("the subject added a header")
	}
}
