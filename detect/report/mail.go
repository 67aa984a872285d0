package report

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// MailConfig is where and how SendMail delivers. Password is a secret: it is sent only over
// TLS, never logged, and never part of an error.
type MailConfig struct {
	Host     string
	Port     int // default 587
	From     string
	To       []string
	User     string // empty: no AUTH
	Password string
	StartTLS bool // upgrade with STARTTLS (required before AUTH)
	// TLSConfig overrides the TLS settings (RootCAs in tests); ServerName defaults to Host.
	TLSConfig *tls.Config
	Log       *slog.Logger
}

// Message is a report mail: a text body with an HTML alternative, and the HTML again as an
// attachment (mail clients that strip styles still get the file). With neither HTML nor
// FileName it is a plain text mail (alerts).
type Message struct {
	Subject  string
	Text     []byte
	HTML     []byte
	FileName string // attachment name, e.g. report-clinic-20260428T0700.html
	Date     time.Time
}

var (
	errMailConfig = errors.New("invalid mail settings")
	// ErrAuthWithoutTLS refuses to send a password over a connection that is not encrypted.
	ErrAuthWithoutTLS = errors.New("refusing SMTP AUTH without TLS")
)

// SendMail delivers msg over SMTP: connect (bounded by ctx), EHLO, STARTTLS when configured
// (the server must offer it), AUTH PLAIN when a user is set (only over TLS), MAIL, RCPT,
// DATA. Cancelling ctx closes the connection.
func SendMail(ctx context.Context, c MailConfig, msg Message) error {
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return fmt.Errorf("%w: from %q: %w", errMailConfig, c.From, err)
	}
	if len(c.To) == 0 {
		return fmt.Errorf("%w: no recipients", errMailConfig)
	}
	var to []*mail.Address
	for _, t := range c.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return fmt.Errorf("%w: to %q: %w", errMailConfig, t, err)
		}
		to = append(to, a)
	}
	if c.User != "" && !c.StartTLS {
		return ErrAuthWithoutTLS
	}
	body, err := buildMessage(from, to, msg)
	if err != nil {
		return err
	}
	port := c.Port
	if port == 0 {
		port = 587
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mail report: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // unblocks every read and write
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	log.Debug("smtp connected", "addr", addr)
	var cl *smtp.Client
	if c.StartTLS {
		tc := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
		if c.TLSConfig != nil {
			tc = c.TLSConfig.Clone()
			if tc.ServerName == "" {
				tc.ServerName = c.Host
			}
		}
		cl, err = smtp.NewClientStartTLS(conn, tc)
		if err != nil {
			conn.Close()
			return fmt.Errorf("mail report: starttls with %s: %w", addr, ctxErr(ctx, err))
		}
		log.Debug("smtp starttls done")
	} else {
		cl = smtp.NewClient(conn)
		if err := cl.Hello("localhost"); err != nil {
			cl.Close()
			return fmt.Errorf("mail report: hello %s: %w", addr, ctxErr(ctx, err))
		}
	}
	defer cl.Close()
	if c.User != "" {
		if _, ok := cl.TLSConnectionState(); !ok {
			return ErrAuthWithoutTLS
		}
		if err := cl.Auth(sasl.NewPlainClient("", c.User, c.Password)); err != nil {
			return fmt.Errorf("mail report: auth as %s: %w", c.User, ctxErr(ctx, err))
		}
		log.Debug("smtp authenticated", "user", c.User)
	}
	rcpts := make([]string, len(to))
	for i, a := range to {
		rcpts[i] = a.Address
	}
	if err := cl.SendMail(from.Address, rcpts, bytes.NewReader(body)); err != nil {
		return fmt.Errorf("mail report: send: %w", ctxErr(ctx, err))
	}
	if err := cl.Quit(); err != nil {
		log.Debug("smtp quit", "err", err) // the message was accepted already
	}
	return nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// buildMessage writes the MIME message: multipart/mixed holding multipart/alternative (text,
// HTML) and the HTML file as an attachment. Header values are encoded, so nothing in the
// subject can add a header.
func buildMessage(from *mail.Address, to []*mail.Address, msg Message) ([]byte, error) {
	if len(msg.HTML) == 0 && msg.FileName == "" {
		return buildText(from, to, msg)
	}
	// The alternative part is written first, so its boundary is known for the mixed part.
	var altBuf bytes.Buffer
	alt := multipart.NewWriter(&altBuf)
	for _, p := range []struct {
		ctype string
		body  []byte
	}{{"text/plain; charset=utf-8", msg.Text}, {"text/html; charset=utf-8", msg.HTML}} {
		w, err := alt.CreatePart(textproto.MIMEHeader{"Content-Type": {p.ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, fmt.Errorf("mail message: %w", err)
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(p.body); err != nil {
			return nil, fmt.Errorf("mail message: %w", err)
		}
		if err := qp.Close(); err != nil {
			return nil, fmt.Errorf("mail message: %w", err)
		}
	}
	if err := alt.Close(); err != nil {
		return nil, fmt.Errorf("mail message: %w", err)
	}

	var b bytes.Buffer
	mixed := multipart.NewWriter(&b)
	writeHeader(&b, from, to, msg, `multipart/mixed; boundary="`+mixed.Boundary()+`"`, "")

	altPart, err := mixed.CreatePart(textproto.MIMEHeader{"Content-Type": {`multipart/alternative; boundary="` + alt.Boundary() + `"`}})
	if err != nil {
		return nil, fmt.Errorf("mail message: %w", err)
	}
	if _, err := altPart.Write(altBuf.Bytes()); err != nil {
		return nil, fmt.Errorf("mail message: %w", err)
	}
	if msg.FileName != "" {
		w, err := mixed.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType("text/html", map[string]string{"charset": "utf-8", "name": msg.FileName})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": msg.FileName})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, fmt.Errorf("mail message: %w", err)
		}
		enc := base64.StdEncoding.EncodeToString(msg.HTML)
		for len(enc) > 76 {
			fmt.Fprintf(w, "%s\r\n", enc[:76])
			enc = enc[76:]
		}
		fmt.Fprintf(w, "%s\r\n", enc)
	}
	if err := mixed.Close(); err != nil {
		return nil, fmt.Errorf("mail message: %w", err)
	}
	return b.Bytes(), nil
}

// buildText writes a single text/plain part, quoted-printable.
func buildText(from *mail.Address, to []*mail.Address, msg Message) ([]byte, error) {
	var b bytes.Buffer
	writeHeader(&b, from, to, msg, "text/plain; charset=utf-8", "quoted-printable")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write(msg.Text); err != nil {
		return nil, fmt.Errorf("mail message: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("mail message: %w", err)
	}
	return b.Bytes(), nil
}

// writeHeader writes the header block and the blank line after it. Values are encoded or
// made one line, so nothing in the subject can add a header.
func writeHeader(b *bytes.Buffer, from *mail.Address, to []*mail.Address, msg Message, ctype, cte string) {
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = a.String()
	}
	date := msg.Date
	if date.IsZero() {
		date = time.Unix(0, 0)
	}
	hdr := []struct{ k, v string }{
		{"From", from.String()},
		{"To", strings.Join(tos, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", oneLine(msg.Subject))},
		{"Date", date.Format(time.RFC1123Z)},
		{"Message-ID", "<" + hex.EncodeToString(rnd[:]) + "@firebreak>"},
		{"MIME-Version", "1.0"},
		{"Content-Type", ctype},
	}
	if cte != "" {
		hdr = append(hdr, struct{ k, v string }{"Content-Transfer-Encoding", cte})
	}
	for _, h := range hdr {
		fmt.Fprintf(b, "%s: %s\r\n", h.k, h.v)
	}
	b.WriteString("\r\n")
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
