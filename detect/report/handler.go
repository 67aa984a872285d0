package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/firebreak-dev/firebreak/display"
)

// DashboardOptions configure Handler.
type DashboardOptions struct {
	Sources Sources
	// MaxAge is how long a built front page is served before the next request rebuilds it;
	// default 15s, and every page says how old its data is. ?refresh=1 rebuilds sooner, but
	// not more often than MinRefresh (default 2s), so reloading cannot keep the store busy.
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
	cache map[string]*built
}

// built is one front page's data, by its query.
type built struct {
	at   time.Time
	data *Data
}

// maxCached bounds the cached front pages (one per range and filter asked for).
const maxCached = 32

// Handler serves the read-only dashboard: "/" the report of a window (HTML, or ?format=json),
// "/findings", "/proposals", "/blocks" and "/denied" (the denied-traffic panels and the
// interface counters) as HTML tables or ?format=json, and "/window" the
// drill-down of a window (its hosts, external peers, denies and raw archived lines, page by
// page). Every page takes range=24h|7d|30d|custom (custom: from= and to=, YYYY-MM-DD or
// YYYY-MM-DDTHH:MM in the site's zone, or RFC 3339) and the filters detector=, severity=
// (that and above), host= and device=; its links keep them. A query it does not understand
// gets 400 saying why. Only GET and HEAD are answered (405 otherwise); there are no forms and
// nothing changes state: approvals stay on the CLI. Every response carries
// ContentSecurityPolicy and related headers. The caller decides the listen address
// (127.0.0.1 by default in the policy). Safe for concurrent use.
func Handler(o DashboardOptions) http.Handler {
	if o.MaxAge <= 0 {
		o.MaxAge = 15 * time.Second
	}
	if o.MinRefresh <= 0 {
		o.MinRefresh = 2 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &dashboard{o: o, log: o.Log, cache: map[string]*built{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", d.report)
	mux.HandleFunc("/findings", d.findings)
	mux.HandleFunc("/proposals", d.proposals)
	mux.HandleFunc("/blocks", d.blocks)
	mux.HandleFunc("/window", d.window)
	mux.HandleFunc("/denied", d.denied)
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

// view parses the request's range and filters; on a bad query it answers 400 and returns false.
func (d *dashboard) view(w http.ResponseWriter, r *http.Request, path string) (*navView, bool) {
	loc := time.UTC
	cfg := d.o.Sources.Config
	if cfg != nil {
		loc = cfg.Location()
	}
	v, err := parseView(r.URL.Query(), d.o.Now(), loc)
	if err == nil && v.Filter.Device != "" && cfg != nil {
		if _, ok := cfg.DeviceByName(v.Filter.Device); !ok {
			err = fmt.Errorf("%w: device %q is not in the policy", errQuery, v.Filter.Device)
		}
	}
	if err != nil {
		http.Error(w, display.Text(err.Error()), http.StatusBadRequest)
		return nil, false
	}
	return &navView{v: v, path: path}, true
}

func (d *dashboard) report(w http.ResponseWriter, r *http.Request) {
	nav, ok := d.view(w, r, "./")
	if !ok {
		return
	}
	data, at, err := d.latest(r.Context(), nav.v, r.URL.Query().Get("refresh") != "")
	if err != nil {
		d.fail(w, "report", err)
		return
	}
	if wantJSON(r) {
		var jb bytes.Buffer
		if err := data.WriteJSON(&jb); err != nil {
			d.fail(w, "report", err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(jb.Bytes())
		return
	}
	nav.AsOf, nav.Age = at, max(d.o.Now().Sub(at), 0)
	var hb bytes.Buffer
	if err := data.writeHTML(&hb, nav); err != nil {
		d.fail(w, "report", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(hb.Bytes())
}

// latest returns the report of v, built at most MaxAge ago (MinRefresh when refresh is asked
// for), and when it was built.
func (d *dashboard) latest(ctx context.Context, v view, refresh bool) (*Data, time.Time, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.o.Now()
	key := v.values().Encode()
	if c := d.cache[key]; c != nil {
		if age := now.Sub(c.at); age < d.o.MaxAge && (!refresh || age < d.o.MinRefresh) {
			return c.data, c.at, nil
		}
	}
	data, err := BuildFiltered(ctx, d.o.Sources, v.Window(), v.Filter)
	if err != nil {
		return nil, time.Time{}, err
	}
	if len(d.cache) >= maxCached {
		var oldest string
		for k, c := range d.cache {
			if oldest == "" || c.at.Before(d.cache[oldest].at) {
				oldest = k
			}
		}
		delete(d.cache, oldest)
	}
	d.cache[key] = &built{at: now, data: data}
	return data, now, nil
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
	p.Nav.AsOf = p.At
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
	nav, ok := d.view(w, r, "findings")
	if !ok {
		return
	}
	s := nav.v.Filter.findings(buildFindings(r.Context(), d.o.Sources.Findings, nav.v.Window(), d.log))
	title := "Findings of " + nav.Span()
	if f := nav.v.describe(); f != "" {
		title += " (" + f + ")"
	}
	d.page(w, r, page{Kind: "findings", Title: title, Note: s.Note, Findings: s, Nav: nav}, s)
}

func (d *dashboard) proposals(w http.ResponseWriter, r *http.Request) {
	nav, ok := d.view(w, r, "proposals")
	if !ok {
		return
	}
	s := buildProposals(r.Context(), d.o.Sources.Proposals, d.o.Now(), d.log)
	d.page(w, r, page{Kind: "proposals", Title: "Pending proposals", Note: s.Note, Proposals: s.Pending, Nav: nav}, s)
}

func (d *dashboard) blocks(w http.ResponseWriter, r *http.Request) {
	nav, ok := d.view(w, r, "blocks")
	if !ok {
		return
	}
	s := buildBlocks(r.Context(), d.o.Sources.Blocks, d.o.Now(), d.log)
	d.page(w, r, page{Kind: "blocks", Title: "Active blocks", Note: s.Note, Blocks: s.Active, Nav: nav}, s)
}

// window is the drill-down of a window; it is built for each request (the raw lines are
// read page by page, one archive scan at a time).
func (d *dashboard) window(w http.ResponseWriter, r *http.Request) {
	nav, ok := d.view(w, r, "window")
	if !ok {
		return
	}
	src := d.o.Sources
	src.Now = d.o.Now
	data, err := BuildWindow(r.Context(), src, nav.v.Window(), nav.v.Filter, nav.v.Page)
	if err != nil {
		d.fail(w, "window", err)
		return
	}
	if wantJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(data); err != nil {
			d.log.Debug("dashboard write", "err", err)
		}
		return
	}
	nav.AsOf = data.GeneratedAt
	var b bytes.Buffer
	if err := data.writeHTML(&b, nav); err != nil {
		d.fail(w, "window", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func (d *dashboard) denied(w http.ResponseWriter, r *http.Request) {
	nav, ok := d.view(w, r, "denied")
	if !ok {
		return
	}
	src := d.o.Sources
	if src.Store == nil || src.Config == nil {
		d.fail(w, "denied", errNoStore)
		return
	}
	win := nav.v.Window()
	res := resolution(src.Config, win, d.o.Now())
	den, err := buildDenied(r.Context(), src.Store, win, nav.v.Filter, res)
	if err != nil {
		d.fail(w, "denied", err)
		return
	}
	ifc, err := buildInterfaces(r.Context(), src.Store, win, nav.v.Filter, res)
	if err != nil {
		d.fail(w, "denied", err)
		return
	}
	title := "Denied traffic of " + nav.Span()
	v := struct {
		Window     Window            `json:"window"`
		Denied     DeniedSection     `json:"denied"`
		Interfaces InterfacesSection `json:"interfaces"`
	}{win, den, ifc}
	d.page(w, r, page{Kind: "denied", Title: title, Nav: nav, Denied: den, Interfaces: ifc}, v)
}
