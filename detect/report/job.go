package report

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
)

// WriteFile writes name through a temporary file in the same folder, synced and renamed, so a
// reader (the dashboard, a mail client picking up the folder) never sees half a report.
func WriteFile(name string, fn func(io.Writer) error) (err error) {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("report folder: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fn(f); err != nil {
		return err
	}
	if err = f.Chmod(0o640); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err = os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// JobOptions configure NewJob.
type JobOptions struct {
	// Sources are the report's sources (Sources.Now stamps GeneratedAt).
	Sources Sources
	// Since is the window length; default the policy's significant-terms window (24h).
	Since time.Duration
	// OutDir is the reports folder; default the policy's report.out_dir, else
	// <data_dir>/reports.
	OutDir string
	// Getenv looks up the SMTP password variable the policy names; default os.Getenv.
	Getenv func(string) string
	// TLSConfig, if set, is used for STARTTLS (tests give their own root CAs); ServerName
	// defaults to the SMTP host.
	TLSConfig *tls.Config
	Log       *slog.Logger // nil: discard
}

// Job builds the report of the window ending at a given time, writes it to the reports folder
// as HTML and JSON, and mails it when the policy configures SMTP. The daemon runs it on the
// policy's report schedule; Run may be called from any goroutine, but the scheduler is
// expected not to overlap runs (they would write the same files).
type Job struct {
	o   JobOptions
	cfg *policies.Config
	log *slog.Logger
}

// NewJob checks the options and returns a job. Sources.Store and Sources.Config are required.
func NewJob(o JobOptions) (*Job, error) {
	if o.Sources.Store == nil || o.Sources.Config == nil {
		return nil, errNoStore
	}
	cfg := o.Sources.Config
	if o.Since <= 0 {
		o.Since = time.Duration(cfg.Detectors.SignificantTerms.Window)
		if o.Since <= 0 {
			o.Since = 24 * time.Hour
		}
	}
	if o.OutDir == "" {
		o.OutDir = cfg.Report.OutDir
	}
	if o.OutDir == "" {
		o.OutDir = filepath.Join(cfg.Collector.DataDir, "reports")
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Job{o: o, cfg: cfg, log: log}, nil // the caller names the component
}

// OutDir is the folder the job writes to.
func (j *Job) OutDir() string { return j.o.OutDir }

// FileName is the report's base name for a window ending at end, without extension:
// "report-<site>-20260428T0700" in the site's zone.
func FileName(site string, end time.Time, loc *time.Location) string {
	s := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, site)
	if s == "" {
		s = "site"
	}
	return "report-" + s + "-" + end.In(loc).Format("20060102T1504")
}

// Run builds the report of the window ending at at, writes <name>.html and <name>.json into
// the reports folder and mails the HTML when SMTP is configured. A mail failure is returned
// after the files are written.
func (j *Job) Run(ctx context.Context, at time.Time) error {
	d, err := Build(ctx, j.o.Sources, Last(at, j.o.Since))
	if err != nil {
		return err
	}
	base := filepath.Join(j.o.OutDir, FileName(d.Site, at, j.cfg.Location()))
	var html, text bytes.Buffer
	if err := d.WriteHTML(&html); err != nil {
		return err
	}
	if err := WriteFile(base+".html", func(w io.Writer) error { _, err := w.Write(html.Bytes()); return err }); err != nil {
		return err
	}
	if err := WriteFile(base+".json", d.WriteJSON); err != nil {
		return err
	}
	j.log.Info("report written", "file", base+".html", "window_end", at)
	sm := j.cfg.Report.SMTP
	if sm.Host == "" {
		return nil
	}
	if err := d.WriteText(&text); err != nil {
		return err
	}
	m := MailConfig{
		Host: sm.Host, Port: sm.Port, From: sm.From, To: sm.To, User: sm.User,
		StartTLS: sm.StartTLS, TLSConfig: j.o.TLSConfig, Log: j.log,
	}
	if sm.PasswordEnv != "" {
		m.Password = j.o.Getenv(sm.PasswordEnv)
		if m.Password == "" {
			return fmt.Errorf("mail report: %w: $%s is empty", errNoPassword, sm.PasswordEnv)
		}
	}
	msg := Message{
		Subject:  fmt.Sprintf("firebreak report %s, %s: %d new findings", d.Site, at.In(j.cfg.Location()).Format("2006-01-02 15:04"), len(d.Findings.New)),
		Text:     text.Bytes(),
		HTML:     html.Bytes(),
		FileName: filepath.Base(base) + ".html",
		Date:     d.GeneratedAt,
	}
	if err := SendMail(ctx, m, msg); err != nil {
		return err
	}
	j.log.Info("report mailed", "to", strings.Join(sm.To, ","), "host", sm.Host)
	return nil
}

var errNoPassword = errors.New("the SMTP password variable is not set")
