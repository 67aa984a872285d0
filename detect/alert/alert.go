// Package alert tells people about findings as they are stored: a mail (the report's SMTP
// settings) and a JSON POST to each webhook, for every new, updated (found again after the
// detector's suppression window), reopened or escalated finding at or above the policy's
// findings.alerts.min_severity. Silent updates and suppressed findings never alert.
//
// Delivery is off the detection path: Notify only puts alerts on a bounded queue per
// destination and never blocks (a full queue drops the alert, counted and logged). Each
// destination has one goroutine, owned by Run, that sends with retries and back-off, at most
// max_per_hour messages in any hour; alerts beyond that are held and sent as one digest
// listing them when the hour allows the next message.
//
// The webhook body is {"text": "..."} (FormatText): Slack and Mattermost incoming webhooks and
// Microsoft Teams' Office 365 "Incoming Webhook" connectors accept it as is. Teams webhooks made
// with Workflows (Power Automate), which replace those connectors, take Adaptive Cards only:
// FormatTeams posts the message as one. A webhook URL is a secret (it carries the token): only
// its host is logged.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/detect/report"
)

// Channels, as metric labels.
const (
	ChannelMail    = "mail"
	ChannelWebhook = "webhook"
)

// Webhook formats.
const (
	FormatText  = "text"  // {"text": ...}: Slack, Mattermost, Teams Office 365 connectors
	FormatTeams = "teams" // a message with one Adaptive Card: Teams Workflows webhooks
)

// Defaults.
const (
	DefaultQueue    = 256
	DefaultAttempts = 4
	DefaultBackoff  = 5 * time.Second
	DefaultTimeout  = 30 * time.Second
	// maxHeld bounds the alerts held for one digest; beyond it only a count is kept.
	maxHeld = 500
	// digestLines is how many held alerts a digest lists one by one.
	digestLines = 100
)

// Options configures a Notifier.
type Options struct {
	Site string // shown in every message
	// MinSeverity: findings at or above it alert (detect's severities).
	MinSeverity detect.Severity
	// MaxPerHour caps the messages each destination gets in any hour (default 10).
	MaxPerHour int
	Mail       *report.MailConfig // nil: no mail
	Webhooks   []string           // http(s) URLs
	// WebhookFormat is FormatText (default) or FormatTeams.
	WebhookFormat string
	HTTP          *http.Client // default: a client without a timeout of its own (Timeout bounds each attempt)
	Log           *slog.Logger
	// Registerer gets the metrics (nil: not registered).
	Registerer prometheus.Registerer
	Now        func() time.Time // default time.Now
	// Wait is the timer that releases a digest (default time.After); tests drive it.
	Wait      func(time.Duration) <-chan time.Time
	Attempts  int           // tries per message (default 4)
	Backoff   time.Duration // before the second try, doubling after (default 5s)
	Timeout   time.Duration // per try (default 30s)
	QueueSize int           // alerts waiting per destination (default 256)
	// Delivered, if set, is called on the destination's goroutine after each message's last
	// try: alerts is how many findings it carried, err nil when it was accepted.
	Delivered func(channel string, alerts int, err error)
}

// Alert is one finding to tell people about. Every field is display text.
type Alert struct {
	ID       string
	Detector string
	Severity detect.Severity
	Change   detect.Change
	Subject  string
	Title    string
	Summary  string
	At       time.Time
}

// Notifier queues and delivers alerts. Notify is safe for concurrent use.
type Notifier struct {
	o     Options
	min   int
	dests []*dest
	m     *prometheus.CounterVec
}

type message struct {
	subject string
	text    string
	alerts  int
}

// dest is one destination: its queue and what only its goroutine touches.
type dest struct {
	n       *Notifier
	channel string
	name    string // for logs (a webhook's host, never its URL)
	send    func(ctx context.Context, m message) error
	q       chan Alert
	sent    []time.Time // message times within the last hour, oldest first
	held    []Alert
	more    int // held beyond maxHeld
}

// ErrPermanent marks a delivery error that retrying cannot fix (a 4xx answer).
var ErrPermanent = errors.New("permanent delivery error")

// New checks the options and builds the destinations.
func New(o Options) (*Notifier, error) {
	if o.MinSeverity.Rank() <= 0 {
		return nil, fmt.Errorf("alert: min severity %q", o.MinSeverity)
	}
	if o.MaxPerHour <= 0 {
		o.MaxPerHour = 10
	}
	switch o.WebhookFormat {
	case "":
		o.WebhookFormat = FormatText
	case FormatText, FormatTeams:
	default:
		return nil, fmt.Errorf("alert: webhook format %q (text or teams)", o.WebhookFormat)
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Wait == nil {
		o.Wait = time.After
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueue
	}
	n := &Notifier{o: o, min: o.MinSeverity.Rank(),
		m: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_alerts_total",
			Help: "Alerts by channel and result: sent and failed count messages (a digest is one), suppressed counts alerts held for a digest by the rate limit, dropped alerts lost to a full queue."},
			[]string{"channel", "result"})}
	if o.Mail != nil {
		mc := *o.Mail
		n.dests = append(n.dests, &dest{channel: ChannelMail, name: "mail " + mc.Host, send: func(ctx context.Context, m message) error {
			return report.SendMail(ctx, mc, report.Message{Subject: m.subject, Text: []byte(m.text), Date: n.o.Now()})
		}})
	}
	for _, raw := range o.Webhooks {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("alert: webhook %d is not an http(s) URL", len(n.dests))
		}
		n.dests = append(n.dests, &dest{channel: ChannelWebhook, name: "webhook " + u.Host, send: func(ctx context.Context, m message) error {
			return n.post(ctx, raw, m)
		}})
	}
	for _, d := range n.dests {
		d.n = n
		d.q = make(chan Alert, o.QueueSize)
	}
	for _, c := range []string{ChannelMail, ChannelWebhook} {
		for _, r := range []string{"sent", "failed", "suppressed", "dropped"} {
			n.m.WithLabelValues(c, r)
		}
	}
	if o.Registerer != nil {
		if err := o.Registerer.Register(n.m); err != nil {
			return nil, fmt.Errorf("alert metrics: %w", err)
		}
	}
	return n, nil
}

// Metrics is the alerts counter (firebreak_alerts_total{channel,result}).
func (n *Notifier) Metrics() *prometheus.CounterVec { return n.m }

// Alerts returns the alerts the stored findings raise: every change but silent, not
// suppressed, at or above the minimum severity.
func (n *Notifier) Alerts(stored []detect.Upserted) []Alert {
	var out []Alert
	for _, u := range stored {
		if u.Change == detect.ChangeSilent || u.Status == detect.StatusSuppressed || u.Severity.Rank() < n.min {
			continue
		}
		out = append(out, Alert{ID: u.ID, Detector: u.Detector, Severity: u.Severity, Change: u.Change,
			Subject: subject(u.Subject), Title: u.Title, Summary: u.Evidence.Summary, At: u.LastSeen})
	}
	return out
}

// Notify queues the alerts of stored findings for every destination and returns how many
// alerts it queued (per destination). It never blocks: an alert that finds a destination's
// queue full is dropped there, counted and logged.
func (n *Notifier) Notify(stored []detect.Upserted) int {
	as := n.Alerts(stored)
	for _, d := range n.dests {
		dropped := 0
		for _, a := range as {
			select {
			case d.q <- a:
			default:
				dropped++
			}
		}
		if dropped > 0 {
			n.m.WithLabelValues(d.channel, "dropped").Add(float64(dropped))
			n.o.Log.Warn("alert queue full: alerts dropped", "dest", d.name, "dropped", dropped)
		}
	}
	return len(as)
}

// Run delivers queued alerts until ctx ends, then returns when every destination's goroutine
// has stopped. Alerts still queued or held then are not sent (logged with their count).
func (n *Notifier) Run(ctx context.Context) error {
	done := make(chan struct{}, len(n.dests))
	for _, d := range n.dests {
		go func() {
			defer func() { done <- struct{}{} }()
			d.run(ctx)
		}()
	}
	for range n.dests {
		<-done
	}
	return nil
}

func (d *dest) run(ctx context.Context) {
	n := d.n
	var release <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if left := len(d.q) + len(d.held) + d.more; left > 0 {
				n.o.Log.Warn("alerts not delivered at shutdown", "dest", d.name, "alerts", left)
			}
			return
		case a := <-d.q:
			now := n.o.Now()
			d.prune(now)
			if len(d.held) == 0 && len(d.sent) < n.o.MaxPerHour {
				d.deliver(ctx, now, one(n.o.Site, a))
				continue
			}
			d.hold(a)
			if release == nil {
				release = n.o.Wait(d.sent[0].Add(time.Hour).Sub(now))
			}
		case <-release:
			release = nil
			// Alerts queued meanwhile join the digest: it lists everything held so far.
			for drained := false; !drained; {
				select {
				case a := <-d.q:
					d.hold(a)
				default:
					drained = true
				}
			}
			now := n.o.Now()
			d.prune(now)
			if len(d.sent) >= n.o.MaxPerHour {
				release = n.o.Wait(d.sent[0].Add(time.Hour).Sub(now))
				continue
			}
			m := digest(n.o.Site, d.held, d.more)
			d.held, d.more = nil, 0
			d.deliver(ctx, now, m)
		}
	}
}

// prune forgets the messages sent more than an hour before now.
func (d *dest) prune(now time.Time) {
	i := 0
	for i < len(d.sent) && !now.Before(d.sent[i].Add(time.Hour)) {
		i++
	}
	d.sent = d.sent[i:]
}

func (d *dest) hold(a Alert) {
	d.n.m.WithLabelValues(d.channel, "suppressed").Inc()
	if len(d.held) < maxHeld {
		d.held = append(d.held, a)
		return
	}
	d.more++
}

// deliver sends m with retries and back-off; the message counts against the hour's limit
// whether or not it got through (a failing destination is not hammered).
func (d *dest) deliver(ctx context.Context, now time.Time, m message) {
	n := d.n
	d.sent = append(d.sent, now)
	var err error
	wait := n.o.Backoff
	for try := 1; try <= n.o.Attempts; try++ {
		tctx, cancel := context.WithTimeout(ctx, n.o.Timeout)
		err = d.send(tctx, m)
		cancel()
		if err == nil || errors.Is(err, ErrPermanent) || ctx.Err() != nil || try == n.o.Attempts {
			break
		}
		n.o.Log.Debug("alert delivery failed, retrying", "dest", d.name, "try", try, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait *= 2
	}
	if err != nil {
		n.m.WithLabelValues(d.channel, "failed").Inc()
		n.o.Log.Error("alert not delivered", "dest", d.name, "alerts", m.alerts, "err", err)
	} else {
		n.m.WithLabelValues(d.channel, "sent").Inc()
	}
	if n.o.Delivered != nil {
		n.o.Delivered(d.channel, m.alerts, err)
	}
}

// post sends m as {"text": ...}; a 2xx answer is success, 429 and 5xx are retried, any
// other status is permanent. Errors never contain the URL (its token).
func (n *Notifier) post(ctx context.Context, raw string, m message) error {
	body, err := webhookBody(n.o.WebhookFormat, m)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook: bad request URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "firebreak-alerts")
	resp, err := n.o.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error repeats the URL
		}
		return fmt.Errorf("webhook %s: %w", req.URL.Host, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("webhook %s: %s", req.URL.Host, resp.Status)
	default:
		return fmt.Errorf("webhook %s: %s: %w", req.URL.Host, resp.Status, ErrPermanent)
	}
}

// webhookBody is m in the webhook format.
func webhookBody(format string, m message) ([]byte, error) {
	if format != FormatTeams {
		return json.Marshal(struct {
			Text string `json:"text"`
		}{escape(m.subject + "\n" + m.text)})
	}
	type block struct {
		Type   string `json:"type"`
		Text   string `json:"text"`
		Weight string `json:"weight,omitempty"`
		Wrap   bool   `json:"wrap"`
	}
	type card struct {
		Schema  string  `json:"$schema"`
		Type    string  `json:"type"`
		Version string  `json:"version"`
		Body    []block `json:"body"`
	}
	type attachment struct {
		ContentType string `json:"contentType"`
		Content     card   `json:"content"`
	}
	body := []block{{Type: "TextBlock", Text: m.subject, Weight: "Bolder", Wrap: true}}
	for _, l := range strings.Split(strings.TrimRight(m.text, "\n"), "\n") {
		body = append(body, block{Type: "TextBlock", Text: l, Wrap: true})
	}
	return json.Marshal(struct {
		Type        string       `json:"type"`
		Attachments []attachment `json:"attachments"`
	}{"message", []attachment{{ContentType: "application/vnd.microsoft.card.adaptive",
		Content: card{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4", Body: body}}}})
}

func one(site string, a Alert) message {
	return message{
		subject: clean(fmt.Sprintf("firebreak %s: %s %s %s (%s)", site, a.Severity, a.Detector, a.Subject, a.Change)),
		text:    line(a) + "\n" + clean(a.Summary) + "\n",
		alerts:  1,
	}
}

func digest(site string, held []Alert, more int) message {
	total := len(held) + more
	var b strings.Builder
	fmt.Fprintf(&b, "%d alerts held back by the hourly limit:\n", total)
	for i, a := range held {
		if i == digestLines {
			break
		}
		b.WriteString(line(a))
		b.WriteByte('\n')
	}
	if rest := total - min(len(held), digestLines); rest > 0 {
		fmt.Fprintf(&b, "... and %d more (firebreak findings list)\n", rest)
	}
	return message{subject: fmt.Sprintf("firebreak %s: digest of %d alerts", site, total), text: b.String(), alerts: total}
}

// line is one alert on one line: id, severity, detector, subject, change, title.
func line(a Alert) string {
	return clean(fmt.Sprintf("%s %s %s %s (%s) %s", a.ID, a.Severity, a.Detector, a.Subject, a.Change, a.Title))
}

// clean keeps one line of text: user names and summaries come from logs. It also defangs
// what a chat app would turn into a link an admin might follow (SOC practice): a scheme's
// "://" becomes "[:]//", and Markdown's "](" and "[" + "]" + ":" forms lose their adjacency,
// so Mattermost and Teams (Markdown) and Slack (after escape) render them as plain text.
func clean(s string) string {
	return defang.Replace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s))
}

var defang = strings.NewReplacer("://", "[:]//", "](", "] (", "]:", "] :", "www.", "www[.]")

// escape writes &, < and > as entities, so chat apps read no markup or links from text that
// came from logs (Slack's rule; Mattermost and Teams show the entities as the characters).
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

func subject(s detect.Subject) string {
	var parts []string
	if s.Host.IsValid() {
		parts = append(parts, "host="+s.Host.String())
	}
	if s.Peer.IsValid() {
		parts = append(parts, "peer="+s.Peer.String())
	}
	if s.Port != 0 {
		parts = append(parts, fmt.Sprintf("port=%d", s.Port))
	}
	if s.Segment != "" {
		parts = append(parts, "segment="+s.Segment)
	}
	if s.User != "" {
		parts = append(parts, "user="+s.User)
	}
	if len(parts) == 0 {
		return "site"
	}
	return strings.Join(parts, " ")
}
