package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/detect/alert"
	"github.com/firebreak-dev/firebreak/detect/report"
)

// smtpSink is a real go-smtp server on 127.0.0.1 that hands every message's data to msgs.
type smtpSink struct {
	addr string
	msgs chan string
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s}, nil }

type sinkSession struct{ s *smtpSink }

func (*sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.msgs <- string(b)
	return nil
}
func (*sinkSession) Reset()        {}
func (*sinkSession) Logout() error { return nil }

func startSMTP(t *testing.T) *smtpSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := &smtpSink{addr: ln.Addr().String(), msgs: make(chan string, 64)}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return sink
}

func (s *smtpSink) config(t *testing.T) *report.MailConfig {
	host, port, _ := net.SplitHostPort(s.addr)
	var p int
	fmt.Sscan(port, &p)
	return &report.MailConfig{Host: host, Port: p, From: "firebreak@clinic.example", To: []string{"it@clinic.example"}}
}

// hook is a real net/http listener on 127.0.0.1 that hands every body to bodies and answers
// with the next status of codes (200 when they run out).
type hook struct {
	srv    *httptest.Server
	bodies chan string
	mu     sync.Mutex
	codes  []int
}

func startHook(t *testing.T, codes ...int) *hook {
	t.Helper()
	h := &hook{bodies: make(chan string, 64), codes: codes}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("content type %q", r.Header.Get("Content-Type"))
		}
		h.bodies <- string(b)
		h.mu.Lock()
		code := http.StatusOK
		if len(h.codes) > 0 {
			code, h.codes = h.codes[0], h.codes[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// text decodes a webhook body, which must be exactly {"text": ...}.
func text(t *testing.T, body string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("webhook body %q: %v", body, err)
	}
	s, ok := m["text"].(string)
	if !ok || len(m) != 1 {
		t.Fatalf("webhook body %q is not {\"text\": ...}", body)
	}
	return s
}

func recv(t *testing.T, c <-chan string, what string) string {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s", what)
		return ""
	}
}

// delivery is one message's final outcome, from Options.Delivered.
type delivery struct {
	channel string
	alerts  int
	err     error
}

// manualWait is a digest timer the test releases.
type manualWait struct {
	armed chan time.Duration
	fire  chan time.Time
}

func newManualWait() *manualWait {
	return &manualWait{armed: make(chan time.Duration, 8), fire: make(chan time.Time, 1)}
}

func (w *manualWait) Wait(d time.Duration) <-chan time.Time {
	w.armed <- d
	return w.fire
}

type rig struct {
	n    *alert.Notifier
	done chan delivery
	now  *time.Time
	mu   *sync.Mutex
}

func startNotifier(t *testing.T, o alert.Options) *rig {
	t.Helper()
	r := &rig{done: make(chan delivery, 64), mu: &sync.Mutex{}}
	t0 := time.Date(2026, 4, 20, 2, 0, 0, 0, time.UTC)
	r.now = &t0
	if o.Now == nil {
		o.Now = func() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return *r.now }
	}
	o.Site = "clinic"
	o.Backoff = time.Millisecond // real back-off, kept short
	o.Timeout = 10 * time.Second
	o.Delivered = func(ch string, n int, err error) { r.done <- delivery{ch, n, err} }
	if o.MinSeverity == "" {
		o.MinSeverity = detect.SeverityHigh
	}
	n, err := alert.New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.n = n
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	go func() { defer close(ended); _ = n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-ended })
	return r
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	*r.now = r.now.Add(d)
	r.mu.Unlock()
}

func (r *rig) wait(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r.done:
		return d
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery")
		return delivery{}
	}
}

func (r *rig) count(channel, result string) float64 {
	return testutil.ToFloat64(r.n.Metrics().WithLabelValues(channel, result))
}

func upserted(id string, sev detect.Severity, change detect.Change) detect.Upserted {
	return detect.Upserted{Change: change, Finding: detect.Finding{
		ID: id, Key: "port_scan|" + id, Detector: detect.DetectorPortScan, Severity: sev, Status: detect.StatusOpen,
		Title:    "port scan from 203.0.113.7",
		Subject:  detect.Subject{Host: netip.MustParseAddr("10.1.10.20"), Peer: netip.MustParseAddr("203.0.113.7")},
		Evidence: detect.Evidence{Summary: "61 ports in 1h <script>"},
	}}
}

func TestHighFindingMailAndWebhookLowNothing(t *testing.T) {
	mail, wh := startSMTP(t), startHook(t)
	r := startNotifier(t, alert.Options{Mail: mail.config(t), Webhooks: []string{wh.srv.URL + "/hooks/T0K3N"}})

	// The low one first: each destination is first in, first out, so if it alerted, it
	// would be the first message each server gets.
	if n := r.n.Notify([]detect.Upserted{upserted("aaaa1111", detect.SeverityLow, detect.ChangeNew)}); n != 0 {
		t.Fatalf("low finding queued %d alerts", n)
	}
	if n := r.n.Notify([]detect.Upserted{upserted("bbbb2222", detect.SeverityHigh, detect.ChangeNew)}); n != 1 {
		t.Fatalf("high finding queued %d alerts, want 1", n)
	}
	m := recv(t, mail.msgs, "mail")
	body := text(t, recv(t, wh.bodies, "webhook"))
	for _, want := range []string{"bbbb2222", "port_scan", "peer=203.0.113.7", "host=10.1.10.20", "high"} {
		if !strings.Contains(m, want) {
			t.Errorf("mail lacks %q:\n%s", want, m)
		}
		if !strings.Contains(body, want) {
			t.Errorf("webhook text lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(m, "aaaa1111") || strings.Contains(body, "aaaa1111") {
		t.Error("the low finding alerted")
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("log text not escaped for chat apps: %s", body)
	}
	for range 2 {
		if d := r.wait(t); d.err != nil || d.alerts != 1 {
			t.Errorf("delivery %+v", d)
		}
	}
	if r.count(alert.ChannelMail, "sent") != 1 || r.count(alert.ChannelWebhook, "sent") != 1 {
		t.Errorf("sent: mail %v webhook %v, want 1 and 1", r.count(alert.ChannelMail, "sent"), r.count(alert.ChannelWebhook, "sent"))
	}
	// Silent and suppressed findings never alert, however severe.
	sup := upserted("cccc3333", detect.SeverityCritical, detect.ChangeNew)
	sup.Status = detect.StatusSuppressed
	if n := r.n.Notify([]detect.Upserted{upserted("dddd4444", detect.SeverityCritical, detect.ChangeSilent), sup}); n != 0 {
		t.Errorf("silent or suppressed findings queued %d alerts", n)
	}
}

func TestEscalationAlerts(t *testing.T) {
	t0 := time.Date(2026, 4, 20, 5, 0, 0, 0, time.UTC)
	st, err := stats.Open(t.Context(), filepath.Join(t.TempDir(), "data"), stats.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs := detect.NewStore(st, 0)
	wh := startHook(t)
	r := startNotifier(t, alert.Options{Webhooks: []string{wh.srv.URL}})

	f := upserted("", detect.SeverityLow, "").Finding
	f.FirstSeen, f.LastSeen = t0.Add(-time.Hour), t0
	noSuppress := func(string) time.Duration { return 24 * time.Hour }
	w := detect.TimeRange{From: t0.Add(-24 * time.Hour), To: t0}
	low, err := fs.Upsert(t.Context(), []string{detect.DetectorPortScan}, w, []detect.Finding{f}, noSuppress, t0)
	if err != nil {
		t.Fatal(err)
	}
	if low[0].Change != detect.ChangeNew || r.n.Notify(low) != 0 {
		t.Fatalf("new low finding: change %s, it must not alert", low[0].Change)
	}
	// The next hour finds it again, high: escalated within the suppression window.
	f.Severity, f.LastSeen = detect.SeverityHigh, t0.Add(time.Hour)
	w = detect.TimeRange{From: w.From.Add(time.Hour), To: w.To.Add(time.Hour)}
	high, err := fs.Upsert(t.Context(), []string{detect.DetectorPortScan}, w, []detect.Finding{f}, noSuppress, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if high[0].Change != detect.ChangeEscalated {
		t.Fatalf("change %s, want escalated", high[0].Change)
	}
	if r.n.Notify(high) != 1 {
		t.Fatal("escalation queued no alert")
	}
	body := text(t, recv(t, wh.bodies, "webhook"))
	if !strings.Contains(body, high[0].ID) || !strings.Contains(body, "escalated") || !strings.Contains(body, "high") {
		t.Errorf("escalation alert %q lacks the id, change or severity", body)
	}
}

func TestBurstRateLimitAndDigest(t *testing.T) {
	wh := startHook(t)
	mw := newManualWait()
	r := startNotifier(t, alert.Options{Webhooks: []string{wh.srv.URL}, MaxPerHour: 5, Wait: mw.Wait})
	var burst []detect.Upserted
	for i := range 20 {
		burst = append(burst, upserted(fmt.Sprintf("f%07d", i), detect.SeverityHigh, detect.ChangeNew))
	}
	if n := r.n.Notify(burst); n != 20 {
		t.Fatalf("queued %d, want 20", n)
	}
	for i := range 5 {
		body := text(t, recv(t, wh.bodies, "webhook"))
		if want := fmt.Sprintf("f%07d", i); !strings.Contains(body, want) || strings.Contains(body, "digest") {
			t.Errorf("immediate alert %d: %q, want %s alone", i, body, want)
		}
		r.wait(t)
	}
	// The sixth alert is over the limit: the digest timer is armed for when the hour of the
	// first message ends (the clock has not moved).
	if d := <-mw.armed; d != time.Hour {
		t.Errorf("digest due in %v, want 1h", d)
	}
	select {
	case b := <-wh.bodies:
		t.Fatalf("a message beyond the limit before the hour ended: %s", b)
	default:
	}
	r.advance(time.Hour)
	mw.fire <- time.Time{}
	body := text(t, recv(t, wh.bodies, "digest"))
	if d := r.wait(t); d.alerts != 15 || d.err != nil {
		t.Errorf("digest delivery %+v, want 15 alerts", d)
	}
	if !strings.Contains(body, "digest of 15 alerts") {
		t.Errorf("digest: %s", body)
	}
	for i := range 20 {
		id := fmt.Sprintf("f%07d", i)
		if in := strings.Contains(body, id); in != (i >= 5) {
			t.Errorf("digest lists %s: %v, want %v", id, in, i >= 5)
		}
	}
	if r.count(alert.ChannelWebhook, "sent") != 6 || r.count(alert.ChannelWebhook, "suppressed") != 15 {
		t.Errorf("sent %v suppressed %v, want 6 and 15", r.count(alert.ChannelWebhook, "sent"), r.count(alert.ChannelWebhook, "suppressed"))
	}
}

func TestWebhookRetried(t *testing.T) {
	wh := startHook(t, http.StatusInternalServerError, http.StatusBadGateway)
	r := startNotifier(t, alert.Options{Webhooks: []string{wh.srv.URL}})
	r.n.Notify([]detect.Upserted{upserted("eeee5555", detect.SeverityCritical, detect.ChangeNew)})
	for try := range 3 {
		if b := text(t, recv(t, wh.bodies, "webhook try")); !strings.Contains(b, "eeee5555") {
			t.Errorf("try %d: %s", try, b)
		}
	}
	if d := r.wait(t); d.err != nil {
		t.Errorf("delivered after two 5xx answers: %v", d.err)
	}
	if r.count(alert.ChannelWebhook, "sent") != 1 || r.count(alert.ChannelWebhook, "failed") != 0 {
		t.Error("want 1 sent, 0 failed")
	}

	// A 4xx answer is not retried.
	bad := startHook(t, http.StatusNotFound)
	r = startNotifier(t, alert.Options{Webhooks: []string{bad.srv.URL + "/secret-token"}})
	r.n.Notify([]detect.Upserted{upserted("ffff6666", detect.SeverityCritical, detect.ChangeNew)})
	recv(t, bad.bodies, "webhook")
	d := r.wait(t)
	if !errors.Is(d.err, alert.ErrPermanent) || strings.Contains(d.err.Error(), "secret-token") {
		t.Errorf("404: %v, want a permanent error without the URL's path", d.err)
	}
	if r.count(alert.ChannelWebhook, "failed") != 1 {
		t.Error("want 1 failed")
	}
}

func TestDeadSMTPCountedDetectionGoesOn(t *testing.T) {
	// A port nobody listens on: the listener is closed before the notifier starts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().(*net.TCPAddr)
	ln.Close()
	wh := startHook(t)
	r := startNotifier(t, alert.Options{Attempts: 3, Webhooks: []string{wh.srv.URL},
		Mail: &report.MailConfig{Host: "127.0.0.1", Port: dead.Port, From: "firebreak@clinic.example", To: []string{"it@clinic.example"}}})
	// Notify returns at once however the destinations fare; the webhook is not held up by
	// the mail's retries.
	if n := r.n.Notify([]detect.Upserted{upserted("abcd0001", detect.SeverityHigh, detect.ChangeReopened)}); n != 1 {
		t.Fatalf("queued %d", n)
	}
	recv(t, wh.bodies, "webhook")
	got := map[string]error{}
	for range 2 {
		d := r.wait(t)
		got[d.channel] = d.err
	}
	if got[alert.ChannelMail] == nil || got[alert.ChannelWebhook] != nil {
		t.Errorf("outcomes %v: want the mail failed, the webhook sent", got)
	}
	if r.count(alert.ChannelMail, "failed") != 1 || r.count(alert.ChannelMail, "sent") != 0 {
		t.Error("the dead SMTP server is not counted as one failed message")
	}
}

func TestFullQueueDrops(t *testing.T) {
	// Run is not started: nothing drains the queue of 2.
	n, err := alert.New(alert.Options{MinSeverity: detect.SeverityMedium, QueueSize: 2, Webhooks: []string{"http://127.0.0.1:1/x"}})
	if err != nil {
		t.Fatal(err)
	}
	var fs []detect.Upserted
	for i := range 5 {
		fs = append(fs, upserted(fmt.Sprint(i), detect.SeverityHigh, detect.ChangeNew))
	}
	n.Notify(fs)
	if got := testutil.ToFloat64(n.Metrics().WithLabelValues(alert.ChannelWebhook, "dropped")); got != 3 {
		t.Errorf("dropped %v, want 3", got)
	}
}

func TestTeamsWorkflowsAdaptiveCard(t *testing.T) {
	wh := startHook(t)
	r := startNotifier(t, alert.Options{Webhooks: []string{wh.srv.URL}, WebhookFormat: alert.FormatTeams})
	r.n.Notify([]detect.Upserted{upserted("abcd7777", detect.SeverityHigh, detect.ChangeNew)})
	var msg struct {
		Type        string
		Attachments []struct {
			ContentType string
			Content     struct {
				Type string
				Body []struct{ Type, Text string }
			}
		}
	}
	if err := json.Unmarshal([]byte(recv(t, wh.bodies, "webhook")), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != "message" || len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
		msg.Attachments[0].Content.Type != "AdaptiveCard" {
		t.Fatalf("not a Teams message with an Adaptive Card: %+v", msg)
	}
	var all []string
	for _, b := range msg.Attachments[0].Content.Body {
		all = append(all, b.Text)
	}
	if s := strings.Join(all, "\n"); !strings.Contains(s, "abcd7777") || !strings.Contains(s, "peer=203.0.113.7") {
		t.Errorf("card text: %s", s)
	}
	if _, err := alert.New(alert.Options{MinSeverity: detect.SeverityHigh, WebhookFormat: "slack"}); err == nil {
		t.Error("unknown webhook format accepted")
	}
}

// TestLogTextCannotBecomeALink: a user name or summary from a log line that carries a
// Markdown or Slack link, a bare URL or a line break reaches no webhook format or mail
// subject as something a chat app would render as a link or a new line.
func TestLogTextCannotBecomeALink(t *testing.T) {
	hostile := "[reset your password](https://evil.example/x) <https://evil.example|click> www.evil.example\r\nBcc: x"
	for _, format := range []string{alert.FormatText, alert.FormatTeams} {
		wh := startHook(t)
		r := startNotifier(t, alert.Options{Webhooks: []string{wh.srv.URL}, WebhookFormat: format})
		u := upserted("eeee0001", detect.SeverityHigh, detect.ChangeNew)
		u.Subject.User = hostile
		u.Title = "VPN user " + hostile
		u.Evidence.Summary = hostile
		r.n.Notify([]detect.Upserted{u})
		raw := recv(t, wh.bodies, "webhook")
		var body any
		if err := json.Unmarshal([]byte(raw), &body); err != nil {
			t.Fatal(err)
		}
		var texts []string
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if k == "text" {
						texts = append(texts, fmt.Sprint(e))
					}
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(body)
		all := strings.Join(texts, "\n")
		if !strings.Contains(all, "eeee0001") {
			t.Fatalf("%s: alert text missing: %s", format, all)
		}
		bad := []string{"://", "](", "www.evil", "\r", "\nBcc"}
		if format == alert.FormatText {
			bad = append(bad, "<https") // Slack's own link form
		}
		for _, bad := range bad {
			if strings.Contains(all, bad) {
				t.Errorf("%s: webhook text holds %q: %q", format, bad, all)
			}
		}
	}
}
