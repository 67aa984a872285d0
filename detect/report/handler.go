package report

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DashboardOptions configure Handler.
type DashboardOptions struct {
	Sources Sources
	// Since is the report window; default 24h.
	Since time.Duration
	// MaxAge is how long a built report is served before the next request rebuilds it;
	// default 5m. ?refresh=1 rebuilds sooner, but not more often than MinRefresh (default 10s),
	// so reloading cannot keep the store busy.
	MaxAge, MinRefresh time.Duration
	// AllowedHosts are Host header names accepted besides IP literals and "localhost" (a
	// guard against DNS rebinding: a page on another site cannot read the dashboard through a
	// name that resolves to 127.0.0.1).
	AllowedHosts []string
	Now          func() time.Time // default time.Now
	Log          *slog.Logger     // nil: discard
}

// ContentSecurityPolicy is sent with every dashboard response: nothing but the page's own
// inline styles and data: images may load, and no script runs.
const ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type dashboard struct {
	o   DashboardOptions
	log *slog.Logger

	mu    sync.Mutex // held while building, so concurrent requests share one build
	built time.Time
	html  []byte
	data  []byte // JSON
}

// Handler serves the read-only dashboard: "/" the latest report (HTML, or ?format=json),
// "/findings", "/proposals" and "/blocks" (HTML tables, or ?format=json). Only GET and HEAD
// are answered (405 otherwise); there are no forms and nothing changes state: approvals stay
// on the CLI. Every response carries ContentSecurityPolicy and related headers. The caller
// decides the listen address (127.0.0.1 by default in the policy). Safe for concurrent use.
func Handler(o DashboardOptions) http.Handler {
	if o.Since <= 0 {
		o.Since = 24 * time.Hour
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 5 * time.Minute
	}
	if o.MinRefresh <= 0 {
		o.MinRefresh = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &dashboard{o: o, log: o.Log}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", d.report)
	mux.HandleFunc("/findings", d.findings)
	mux.HandleFunc("/proposals", d.proposals)
	mux.HandleFunc("/blocks", d.blocks)
	return d.guard(mux)
}

func (d *dashboard) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "read-only: approvals are made with the firebreak CLI", http.StatusMethodNotAllowed)
			return
		}
		if !d.hostAllowed(r.Host) {
			http.Error(w, "unknown host name", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (d *dashboard) hostAllowed(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" || strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil {
		return true
	}
	for _, a := range d.o.AllowedHosts {
		if strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

func wantJSON(r *http.Request) bool { return r.URL.Query().Get("format") == "json" }

func (d *dashboard) fail(w http.ResponseWriter, what string, err error) {
	d.log.Error("dashboard", "page", what, "err", err)
	http.Error(w, "could not build the "+what+"; see the daemon's log", http.StatusInternalServerError)
}

func (d *dashboard) report(w http.ResponseWriter, r *http.Request) {
	html, js, err := d.latest(r.Context(), r.URL.Query().Get("refresh") != "")
	if err != nil {
		d.fail(w, "report", err)
		return
	}
	if wantJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(js)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(html)
}

// latest returns the cached report, rebuilding it when older than MaxAge, or than MinRefresh
// when refresh is asked for.
func (d *dashboard) latest(ctx context.Context, refresh bool) (html, js []byte, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Now()
	age := now.Sub(d.built)
	if d.html != nil && age < d.o.MaxAge && (!refresh || age < d.o.MinRefresh) {
		return d.html, d.data, nil
	}
	data, err := Build(ctx, d.o.Sources, Last(now, d.o.Since))
	if err != nil {
		return nil, nil, err
	}
	var hb, jb bytes.Buffer
	if err := data.writeHTML(&hb, true); err != nil {
		return nil, nil, err
	}
	if err := data.WriteJSON(&jb); err != nil {
		return nil, nil, err
	}
	d.html, d.data, d.built = hb.Bytes(), jb.Bytes(), now
	return d.html, d.data, nil
}

func (d *dashboard) page(w http.ResponseWriter, r *http.Request, p page, v any) {
	if wantJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			d.log.Debug("dashboard write", "err", err)
		}
		return
	}
	cfg := d.o.Sources.Config
	p.At = d.o.Now()
	loc := time.UTC
	if cfg != nil {
		p.Site, loc = cfg.Site, cfg.Location()
	}
	var b bytes.Buffer
	if err := writePage(&b, p, loc); err != nil {
		d.fail(w, p.Kind, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func (d *dashboard) findings(w http.ResponseWriter, r *http.Request) {
	now := d.o.Now()
	s := buildFindings(r.Context(), d.o.Sources.Findings, Last(now, d.o.Since), d.log)
	d.page(w, r, page{Kind: "findings", Title: "Findings of the last " + Age(d.o.Since).String(), Note: s.Note, Findings: s}, s)
}

func (d *dashboard) proposals(w http.ResponseWriter, r *http.Request) {
	s := buildProposals(r.Context(), d.o.Sources.Proposals, d.o.Now(), d.log)
	d.page(w, r, page{Kind: "proposals", Title: "Pending proposals", Note: s.Note, Proposals: s.Pending}, s)
}

func (d *dashboard) blocks(w http.ResponseWriter, r *http.Request) {
	s := buildBlocks(r.Context(), d.o.Sources.Blocks, d.o.Now(), d.log)
	d.page(w, r, page{Kind: "blocks", Title: "Active blocks", Note: s.Note, Blocks: s.Active}, s)
}
