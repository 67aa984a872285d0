package auditsyslog

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// message is a strictly parsed RFC 5424 message.
type message struct {
	pri, version                            int
	timestamp                               time.Time
	hostname, app, procID, msgID, sdID, msg string
	params                                  map[string]string
	order                                   []string
}

var reTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$`)

// parse5424 checks b against the RFC 5424 grammar (one SD-ELEMENT expected) and fails on
// anything it does not allow, including an SD value with an unescaped ']' or a backslash
// before anything but '"', '\' or ']'.
func parse5424(b []byte) (message, error) {
	var m message
	s := string(b)
	if !utf8.ValidString(s) {
		return m, fmt.Errorf("not UTF-8")
	}
	if !strings.HasPrefix(s, "<") {
		return m, fmt.Errorf("no PRI")
	}
	end := strings.IndexByte(s, '>')
	if end < 2 || end > 4 {
		return m, fmt.Errorf("bad PRI")
	}
	pri, err := strconv.Atoi(s[1:end])
	if err != nil || pri > 191 || (len(s[1:end]) > 1 && s[1] == '0') {
		return m, fmt.Errorf("bad PRI %q", s[1:end])
	}
	m.pri = pri
	s = s[end+1:]
	field := func(max int, what string) (string, error) {
		i := strings.IndexByte(s, ' ')
		if i < 1 || i > max {
			return "", fmt.Errorf("bad %s in %q", what, s)
		}
		f := s[:i]
		for j := 0; j < len(f); j++ {
			if f[j] < 33 || f[j] > 126 {
				return "", fmt.Errorf("%s %q is not PRINTUSASCII", what, f)
			}
		}
		s = s[i+1:]
		return f, nil
	}
	v, err := field(3, "VERSION")
	if err != nil {
		return m, err
	}
	if m.version, err = strconv.Atoi(v); err != nil || v[0] == '0' {
		return m, fmt.Errorf("bad VERSION %q", v)
	}
	ts, err := field(64, "TIMESTAMP")
	if err != nil {
		return m, err
	}
	if !reTimestamp.MatchString(ts) {
		return m, fmt.Errorf("bad TIMESTAMP %q", ts)
	}
	if m.timestamp, err = time.Parse(time.RFC3339Nano, ts); err != nil {
		return m, err
	}
	if m.hostname, err = field(255, "HOSTNAME"); err != nil {
		return m, err
	}
	if m.app, err = field(48, "APP-NAME"); err != nil {
		return m, err
	}
	if m.procID, err = field(128, "PROCID"); err != nil {
		return m, err
	}
	if m.msgID, err = field(32, "MSGID"); err != nil {
		return m, err
	}
	// STRUCTURED-DATA: one SD-ELEMENT.
	if !strings.HasPrefix(s, "[") {
		return m, fmt.Errorf("no SD-ELEMENT in %q", s)
	}
	s = s[1:]
	name := func() (string, error) {
		i := 0
		for i < len(s) && s[i] > 32 && s[i] < 127 && s[i] != '=' && s[i] != ']' && s[i] != '"' {
			i++
		}
		if i < 1 || i > 32 {
			return "", fmt.Errorf("bad SD-NAME at %q", s)
		}
		n := s[:i]
		s = s[i:]
		return n, nil
	}
	if m.sdID, err = name(); err != nil {
		return m, err
	}
	m.params = map[string]string{}
	for strings.HasPrefix(s, " ") {
		s = s[1:]
		n, err := name()
		if err != nil {
			return m, err
		}
		if !strings.HasPrefix(s, `="`) {
			return m, fmt.Errorf("param %s: no =\"", n)
		}
		s = s[2:]
		var val strings.Builder
		closed := false
		for len(s) > 0 && !closed {
			c := s[0]
			switch c {
			case '\\':
				if len(s) < 2 || (s[1] != '"' && s[1] != '\\' && s[1] != ']') {
					return m, fmt.Errorf("param %s: bad escape at %q", n, s)
				}
				val.WriteByte(s[1])
				s = s[2:]
			case ']':
				return m, fmt.Errorf("param %s: unescaped ]", n)
			case '"':
				closed = true
				s = s[1:]
			default:
				val.WriteByte(c)
				s = s[1:]
			}
		}
		if !closed {
			return m, fmt.Errorf("param %s: unterminated", n)
		}
		if _, dup := m.params[n]; dup {
			return m, fmt.Errorf("param %s twice", n)
		}
		m.params[n] = val.String()
		m.order = append(m.order, n)
	}
	if !strings.HasPrefix(s, "]") {
		return m, fmt.Errorf("SD-ELEMENT not closed at %q", s)
	}
	s = s[1:]
	if s != "" {
		if s[0] != ' ' {
			return m, fmt.Errorf("no SP before MSG")
		}
		m.msg = s[1:]
	}
	return m, nil
}

// readOctetCounted reads one RFC 6587 octet-counted frame: MSG-LEN SP SYSLOG-MSG.
func readOctetCounted(r *bufio.Reader) ([]byte, error) {
	n := 0
	for digits := 0; ; digits++ {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c == ' ' && digits > 0 {
			break
		}
		if c < '0' || c > '9' || digits == 0 && c == '0' || digits > 6 {
			return nil, fmt.Errorf("bad MSG-LEN byte %q", c)
		}
		n = n*10 + int(c-'0')
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

const hostile = "line one\nsays ] and \" and \\ and ünï"

func TestAuditEntriesReachUDPAndTCPReceivers(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	frames := make(chan []byte, 16)
	tcpErr := make(chan error, 1)
	go func() {
		c, err := tcp.Accept()
		if err != nil {
			tcpErr <- err
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		for range 3 {
			f, err := readOctetCounted(br)
			if err != nil {
				tcpErr <- err
				return
			}
			frames <- f
		}
		tcpErr <- nil
	}()

	st, err := stats.Open(context.Background(), t.TempDir(), stats.Options{Command: "auditsyslog.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snd, err := New([]policies.AuditSyslog{
		{Address: udp.LocalAddr().String(), Transport: policies.SyslogUDP},
		{Address: tcp.Addr().String(), Transport: policies.SyslogTCP},
	}, Options{Hostname: "fb-host"})
	if err != nil {
		t.Fatal(err)
	}
	st.OnLog(snd.Record)
	at := time.Date(2026, 12, 3, 10, 0, 0, 123456000, time.UTC)
	ctx := context.Background()
	for i, e := range []map[string]any{
		{"at": at.Format(time.RFC3339Nano), "who": "alice", "proposal": "p-0001", "action": "approve", "comment": hostile},
		{"at": at.Add(time.Second).Format(time.RFC3339Nano), "who": "bob", "proposal": "p-0001", "action": "push", "from": "approved", "to": "applied"},
	} {
		ns := "audit"
		if i == 1 {
			ns = "finding-audit"
		}
		if _, err := st.AppendLog(ctx, ns, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.AppendLog(ctx, "audit", map[string]any{"at": at.Format(time.RFC3339Nano), "who": "carol", "action": "reject"}); err != nil {
		t.Fatal(err)
	}
	audit, _ := st.VerifyLog(ctx, "audit")

	var udpMsgs [][]byte
	_ = udp.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range 3 {
		buf := make([]byte, 65536)
		n, _, err := udp.ReadFrom(buf)
		if err != nil {
			t.Fatalf("udp: %v", err)
		}
		udpMsgs = append(udpMsgs, buf[:n])
	}
	if err := <-tcpErr; err != nil {
		t.Fatalf("tcp: %v", err)
	}
	close(frames)
	var tcpMsgs [][]byte
	for f := range frames {
		tcpMsgs = append(tcpMsgs, f)
	}
	for name, msgs := range map[string][][]byte{"udp": udpMsgs, "tcp": tcpMsgs} {
		for i, raw := range msgs {
			m, err := parse5424(raw)
			if err != nil {
				t.Fatalf("%s message %d %q: %v", name, i, raw, err)
			}
			if m.pri != 109 || m.version != 1 || m.hostname != "fb-host" || m.app != "firebreak" || m.sdID != SDID {
				t.Errorf("%s message %d header = %+v", name, i, m)
			}
			switch i {
			case 0:
				if m.msgID != "audit" || !m.timestamp.Equal(at) || m.params["seq"] != "1" || m.params["who"] != "alice" ||
					m.params["comment"] != strings.ReplaceAll(hostile, "\n", " ") || m.params["prev"] != stats.LogGenesis ||
					m.params["action"] != "approve" || m.params["proposal"] != "p-0001" || m.params["log"] != "audit" {
					t.Errorf("%s message 0 = %+v", name, m)
				}
				if strings.ContainsAny(m.msg, "\n\r") || !strings.Contains(m.msg, "who=alice") {
					t.Errorf("%s MSG %q", name, m.msg)
				}
			case 1:
				if m.msgID != "finding-audit" || m.params["seq"] != "1" || m.params["from"] != "approved" || m.params["to"] != "applied" {
					t.Errorf("%s message 1 = %+v", name, m)
				}
			case 2:
				// The last audit entry's hash is the log's head: a receiver holds what verification checks.
				if m.params["seq"] != "2" || m.params["hash"] != audit.Head || m.params["who"] != "carol" {
					t.Errorf("%s message 2 = %+v; want seq 2 with hash %s", name, m.params, audit.Head)
				}
			}
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	snd.Close(cctx)
	if snd.Dropped() != 0 {
		t.Errorf("dropped %d", snd.Dropped())
	}
}

// A receiver that refuses connections never holds up the writer of the log: entries beyond
// the queue are dropped and counted, and Close returns when its deadline passes.
func TestDeadReceiverNeverBlocks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	_ = ln.Close()
	st, err := stats.Open(context.Background(), t.TempDir(), stats.Options{Command: "auditsyslog.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	snd, err := New([]policies.AuditSyslog{{Address: dead, Transport: policies.SyslogTCP}}, Options{Retry: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	st.OnLog(snd.Record)
	const n = QueueLen + 200
	start := time.Now()
	for i := range n {
		if _, err := st.AppendLog(context.Background(), "audit", map[string]any{"who": "alice", "n": i}); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("%d appends took %s", n, took)
	}
	if d := snd.Dropped(); d < n-QueueLen {
		t.Errorf("dropped %d; want at least %d", d, n-QueueLen)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(snd)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(fmt.Sprintf(`
# HELP firebreak_audit_syslog_dropped_total Audit entries not sent to a syslog receiver (its queue was full: the receiver is down or slow).
# TYPE firebreak_audit_syslog_dropped_total counter
firebreak_audit_syslog_dropped_total{receiver="tcp://%s"} %d
`, dead, snd.Dropped())), "firebreak_audit_syslog_dropped_total"); err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { snd.Close(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after its deadline")
	}
}

// Over TLS (RFC 5425) the receiver's certificate is checked against ca_file, and frames are
// octet-counted as over TCP.
func TestAuditEntriesOverTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "loghost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		f, err := readOctetCounted(bufio.NewReader(c))
		if err != nil {
			got <- err.Error()
			return
		}
		got <- string(f)
	}()
	snd, err := New([]policies.AuditSyslog{{Address: ln.Addr().String(), Transport: policies.SyslogTLS, CAFile: caFile}}, Options{Hostname: "fb"})
	if err != nil {
		t.Fatal(err)
	}
	snd.Record(stats.LogRecord{NS: "audit", Seq: 7, Prev: stats.LogGenesis, Hash: strings.Repeat("ab", 32), Payload: []byte(`{"who":"dana","action":"revert"}`)})
	raw := <-got
	m, err := parse5424([]byte(raw))
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	if m.params["seq"] != "7" || m.params["who"] != "dana" || m.params["hash"] != strings.Repeat("ab", 32) {
		t.Errorf("over TLS: %+v", m.params)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snd.Close(ctx)
	if snd.Dropped() != 0 {
		t.Errorf("dropped %d", snd.Dropped())
	}
}
