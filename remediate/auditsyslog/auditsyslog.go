// Package auditsyslog sends audit log entries to syslog receivers as RFC 5424 messages: over
// UDP (RFC 5426, one message a datagram), TCP (RFC 6587 octet counting) or TLS (RFC 5425), so
// that a copy of the log, with each entry's chain hash, lives outside the data folder.
//
// Sending never blocks the writer of the log: each receiver has a bounded queue and its own
// goroutine; when the queue is full (a dead or slow receiver) the entry is dropped for that
// receiver and counted (firebreak_audit_syslog_dropped_total).
package auditsyslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// SDID is the structured data element of every message. 32473 is the enterprise number
// reserved for documentation (RFC 5612): firebreak has none of its own.
const SDID = "firebreak@32473"

// Facility 13 (log audit), severity 5 (notice).
const pri = 13*8 + 5

// QueueLen is how many entries wait for one receiver before new ones are dropped.
const QueueLen = 1024

// Options configures a Sender. Zero values take the defaults shown.
type Options struct {
	Hostname    string        // default os.Hostname
	DialTimeout time.Duration // default 5s; also bounds each write
	Retry       time.Duration // wait after a failed dial or write, default 2s
	Logger      *slog.Logger  // default discard
	// TLSConfig, when set, replaces the one built from the policy (tests).
	TLSConfig *tls.Config
}

// Sender delivers log records to the receivers. Record is safe for concurrent use.
type Sender struct {
	mu      sync.RWMutex // Record holds it to read, Close to stop the queues
	closed  bool
	rcv     []*receiver
	host    string
	procID  string
	log     *slog.Logger
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	dropped *prometheus.CounterVec
	sent    *prometheus.CounterVec
}

type receiver struct {
	cfg     policies.AuditSyslog
	q       chan []byte
	tls     *tls.Config
	dropped atomic.Uint64
}

// New starts one goroutine per receiver; Close ends them.
func New(receivers []policies.AuditSyslog, o Options) (*Sender, error) {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	s := &Sender{
		host: headerField(o.Hostname, 255), procID: strconv.Itoa(os.Getpid()), log: o.Logger,
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_audit_syslog_dropped_total",
			Help: "Audit entries not sent to a syslog receiver (its queue was full: the receiver is down or slow)."}, []string{"receiver"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_audit_syslog_sent_total",
			Help: "Audit entries written to a syslog receiver."}, []string{"receiver"}),
	}
	for _, c := range receivers {
		r := &receiver{cfg: c, q: make(chan []byte, QueueLen)}
		if c.Transport == policies.SyslogTLS {
			r.tls = o.TLSConfig
			if r.tls == nil {
				var err error
				if r.tls, err = tlsConfig(c); err != nil {
					return nil, fmt.Errorf("audit syslog %s: %w", c.Address, err)
				}
			}
		}
		s.rcv = append(s.rcv, r)
		s.dropped.WithLabelValues(label(c))
		s.sent.WithLabelValues(label(c))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, r := range s.rcv {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.run(ctx, r, o)
		}()
	}
	return s, nil
}

func label(c policies.AuditSyslog) string { return c.Transport + "://" + c.Address }

func tlsConfig(c policies.AuditSyslog) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(c.Address)
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", c.CAFile)
		}
	}
	return cfg, nil
}

// Record queues r for every receiver without blocking; a full queue drops it (counted).
// It has the signature of stats.Store.OnLog; after Close it does nothing.
func (s *Sender) Record(r stats.LogRecord) {
	msg := s.Format(r, time.Now())
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	for _, rc := range s.rcv {
		select {
		case rc.q <- msg:
		default:
			if rc.dropped.Add(1) == 1 {
				s.log.Warn("audit syslog queue full: dropping entries", "receiver", label(rc.cfg))
			}
			s.dropped.WithLabelValues(label(rc.cfg)).Inc()
		}
	}
}

// Dropped is how many entries were dropped for all receivers.
func (s *Sender) Dropped() uint64 {
	var n uint64
	for _, r := range s.rcv {
		n += r.dropped.Load()
	}
	return n
}

// Describe and Collect make the Sender a prometheus.Collector of its counters.
func (s *Sender) Describe(ch chan<- *prometheus.Desc) { s.dropped.Describe(ch); s.sent.Describe(ch) }
func (s *Sender) Collect(ch chan<- prometheus.Metric) { s.dropped.Collect(ch); s.sent.Collect(ch) }

// Close sends what is queued until ctx ends, then stops every goroutine.
func (s *Sender) Close(ctx context.Context) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, r := range s.rcv {
		close(r.q) // run drains and returns
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		<-done
	}
	s.cancel()
}

// run owns one receiver's connection: it dials on demand, writes each queued message and
// redials after a failure (the message that failed is dropped and counted).
func (s *Sender) run(ctx context.Context, r *receiver, o Options) {
	var conn net.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	for msg := range r.q {
		if ctx.Err() != nil {
			return
		}
		if conn == nil {
			var err error
			if conn, err = s.dial(ctx, r, o.DialTimeout); err != nil {
				s.fail(ctx, r, o.Retry, "dial", err)
				continue
			}
		}
		frame := msg
		if r.cfg.Transport != policies.SyslogUDP {
			frame = append(strconv.AppendInt(nil, int64(len(msg)), 10), ' ')
			frame = append(frame, msg...)
		}
		_ = conn.SetWriteDeadline(time.Now().Add(o.DialTimeout))
		if _, err := conn.Write(frame); err != nil {
			_ = conn.Close()
			conn = nil
			s.fail(ctx, r, o.Retry, "write", err)
			continue
		}
		s.sent.WithLabelValues(label(r.cfg)).Inc()
	}
}

func (s *Sender) fail(ctx context.Context, r *receiver, retry time.Duration, what string, err error) {
	r.dropped.Add(1)
	s.dropped.WithLabelValues(label(r.cfg)).Inc()
	s.log.Warn("audit syslog "+what+" failed", "receiver", label(r.cfg), "err", err)
	t := time.NewTimer(retry)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (s *Sender) dial(ctx context.Context, r *receiver, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch r.cfg.Transport {
	case policies.SyslogTLS:
		d := tls.Dialer{Config: r.tls}
		return d.DialContext(ctx, "tcp", r.cfg.Address)
	case policies.SyslogTCP:
		var d net.Dialer
		return d.DialContext(ctx, "tcp", r.cfg.Address)
	default:
		var d net.Dialer
		return d.DialContext(ctx, "udp", r.cfg.Address)
	}
}

// maxValue bounds each structured-data value and the free-text part, so that a message fits
// the 2048 bytes every UDP receiver should take (RFC 5426) in the common case.
const maxValue = 512

// Format renders r as one RFC 5424 message (without transport framing): the header, one
// SD-ELEMENT [firebreak@32473 ...] with the log, sequence number, chain hashes and every
// scalar field of the entry, and a short text. The timestamp is the entry's "at" field when
// it has one, else now.
func (s *Sender) Format(r stats.LogRecord, now time.Time) []byte {
	var fields map[string]any
	_ = json.Unmarshal(r.Payload, &fields)
	at := now
	if v, ok := fields["at"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			at = t
		}
	}
	b := make([]byte, 0, 512)
	b = append(b, '<')
	b = strconv.AppendInt(b, pri, 10)
	b = append(b, ">1 "...)
	b = append(b, at.UTC().Format("2006-01-02T15:04:05.000000Z")...)
	b = append(b, ' ')
	b = append(b, s.host...)
	b = append(b, " firebreak "...)
	b = append(b, s.procID...)
	b = append(b, ' ')
	b = append(b, headerField(r.NS, 32)...)
	b = append(b, " ["...)
	b = append(b, SDID...)
	param := func(name, val string) {
		b = append(b, ' ')
		b = append(b, name...)
		b = append(b, `="`...)
		b = appendParamValue(b, val)
		b = append(b, '"')
	}
	param("log", r.NS)
	param("seq", strconv.FormatUint(r.Seq, 10))
	param("hash", r.Hash)
	param("prev", r.Prev)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := paramName(k)
		if name == "" || name == "log" || name == "seq" || name == "hash" || name == "prev" {
			continue
		}
		switch v := fields[k].(type) {
		case string:
			param(name, v)
		case float64:
			param(name, strconv.FormatFloat(v, 'f', -1, 64))
		case bool:
			param(name, strconv.FormatBool(v))
		}
	}
	b = append(b, "] "...)
	text := r.NS + " " + strconv.FormatUint(r.Seq, 10)
	for _, k := range []string{"who", "action", "proposal", "finding", "comment"} {
		if v, ok := fields[k].(string); ok && v != "" {
			text += " " + k + "=" + v
		}
	}
	b = append(b, cleanText(text)...)
	return b
}

// headerField makes s a header field: 1-max printable US-ASCII characters ('-': none).
func headerField(s string, max int) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(out) < max; i++ {
		if c := s[i]; c > ' ' && c < 0x7f {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}

// paramName makes k an SD-NAME: 1-32 printable US-ASCII characters other than '=', ' ', ']'
// and '"'; "" when nothing is left.
func paramName(k string) string {
	out := make([]byte, 0, len(k))
	for i := 0; i < len(k) && len(out) < 32; i++ {
		if c := k[i]; c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"' {
			out = append(out, c)
		}
	}
	return string(out)
}

// appendParamValue appends v as a PARAM-VALUE: valid UTF-8, '"', '\' and ']' escaped with a
// backslash, control characters as spaces, at most maxValue bytes.
func appendParamValue(b []byte, v string) []byte {
	v = strings.ToValidUTF8(v, "\uFFFD")
	n := 0
	for _, r := range v {
		if n += utf8.RuneLen(r); n > maxValue {
			break
		}
		switch {
		case r == '"' || r == '\\' || r == ']':
			b = append(b, '\\', byte(r))
		case r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0:
			b = append(b, ' ')
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// cleanText is the free-text part: valid UTF-8 without control characters, bounded.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		if b.Len()+utf8.RuneLen(r) > maxValue {
			break
		}
		if r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

var _ prometheus.Collector = (*Sender)(nil)
