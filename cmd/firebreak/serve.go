package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/firebreak-dev/firebreak/cmd/firebreak/internal/forward"
	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect/report"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

// serveState is what `status` reports about the running daemon.
type serveState struct {
	started   time.Time
	pipeline  *collector.Pipeline
	listeners *collector.Listeners
	registry  *prometheus.Registry
	httpAddr  string
	socket    string
}

func (a *app) serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: receive syslog, keep statistics, serve the local API",
		Long: `serve is the daemon. It receives syslog on UDP and TCP (RFC 6587 newline and
octet-counted framing) from the devices' configured syslog sources only, archives every
frame, keeps the statistics in the database, serves Prometheus metrics over HTTP, and answers
the other firebreak commands over a unix socket in the data folder. SIGINT or SIGTERM flush
everything and stop it cleanly.

It also runs the detections on the policy's detect schedule (their alerting findings become
proposals waiting for approval), writes the report on the report schedule, expires applied
blocks whose time is up, and serves a read-only dashboard (latest report, findings, proposals,
blocks) beside /metrics.

The policy comes from --config, else $FIREBREAK_CONFIG, else /etc/firebreak/site.yaml; with
none it stops with exit status 2 (firebreak demo runs on embedded defaults).`,
		Example: `  firebreak serve --config /etc/firebreak/site.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if a.daemon != nil {
				return errors.New("serve cannot run inside the daemon")
			}
			cfg, err := a.config()
			if err != nil {
				return err
			}
			return a.serve(cmd.Context(), cfg)
		},
	}
	return cmd
}

func (a *app) serve(ctx context.Context, cfg *policies.Config) error {
	log := a.log.With("component", "serve")
	co := cfg.Collector
	st, err := stats.Open(ctx, co.DataDir, storeOptions(cfg, time.Now))
	if err != nil {
		return err // a LockedError names the process that holds the data folder
	}
	defer st.Close()
	auditOut, stopAudit, err := a.startAuditSyslog(cfg, st)
	if err != nil {
		return err
	}
	defer stopAudit()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := collector.NewMetrics(reg)
	ver, rev, gov := buildInfo()
	bi := prometheus.NewGauge(prometheus.GaugeOpts{Name: "firebreak_build_info", Help: "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": ver, "revision": rev, "goversion": gov}})
	bi.Set(1)
	reg.MustRegister(bi, remediate.NewMetrics(a.manager(cfg, st)))
	if auditOut != nil {
		reg.MustRegister(auditOut)
	}
	rawDir := filepath.Join(co.DataDir, "raw")
	archive, err := collector.OpenArchive(rawDir)
	if err != nil {
		return err
	}
	defer archive.Close()
	outs, err := a.openOutputs(cfg, reg, a.log.With("component", "output"))
	if err != nil {
		return err
	}
	p := collector.NewPipeline(collector.PipelineOptions{
		Config: cfg, Store: st, Archive: archive, Metrics: metrics, Log: log, Now: time.Now,
		FlushEvery:  time.Duration(co.FlushInterval),
		FlushEvents: -1, // live: one transaction per flush interval
		// Live lines dated long before their device's clock are back-dated: not counted.
		Agg:     stats.AggOptions{MaxLateness: time.Duration(co.MaxLateness)},
		Outputs: outs.sinks(),
	})
	ls, err := collector.Listen(ctx, cfg, metrics, log)
	if err != nil {
		return err
	}
	state := &serveState{started: time.Now(), pipeline: p, listeners: ls, registry: reg}
	// The HTTP listener is bound before the API socket exists, so a command that finds the
	// socket also finds the dashboard's address (and no goroutine reads state while it is set).
	var (
		hl  net.Listener
		srv *http.Server
	)
	if co.HTTPListen != policies.Off && co.HTTPListen != "" {
		health := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			h := p.Status().HealthAt(time.Now(), state.started, time.Duration(co.FlushInterval))
			w.Header().Set("Content-Type", "application/json")
			if !h.OK {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			_ = json.NewEncoder(w).Encode(h)
		})
		var handler http.Handler
		hl, handler, err = a.httpEndpoint(cfg, st, reg, health)
		if err != nil {
			ls.Close()
			return err
		}
		state.httpAddr = hl.Addr().String()
		srv = &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second,
			ErrorLog: slog.NewLogLogger(a.log.With("component", "http").Handler(), slog.LevelDebug)} // TLS handshake noise
	}
	sock := co.APISocketPath()
	api, err := forward.Listen(sock, cfg.People.AdminGroup, log)
	if err != nil {
		ls.Close()
		if hl != nil {
			hl.Close()
		}
		return err
	}
	defer os.Remove(sock)
	state.socket = sock
	a.daemon = &daemonEnv{cfg: cfg, store: st, serve: state}

	jobs, err := a.newDaemonJobs(cfg, st, log, outs, reg)
	if err != nil {
		ls.Close()
		api.Close()
		if hl != nil {
			hl.Close()
		}
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return jobs.run(ctx) })
	// The outputs stop after the pipeline, so that its last events are queued too.
	outCtx, stopOutputs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOutputs()
	g.Go(func() error {
		defer stopOutputs()
		return ls.Run(ctx, p)
	})
	for _, o := range outs {
		g.Go(func() error { return o.Run(outCtx) })
	}
	g.Go(func() error { return outs.proposals(ctx, jobs.m, log) })
	g.Go(func() error { return forward.Serve(ctx, api, a.forwardHandler(cfg, st, state), log) })
	g.Go(func() error { return pruneArchive(ctx, rawDir, time.Duration(cfg.Retention.Raw), log) })
	if srv != nil {
		g.Go(func() error {
			if err := srv.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
	}
	log.Info("firebreak daemon started", "udp", addrString(ls.UDPAddr()), "tcp", addrString(ls.TCPAddr()),
		"http", state.httpAddr, "api", sock, "data_dir", co.DataDir, "devices", len(cfg.Devices))
	err = g.Wait()
	log.Info("firebreak daemon stopped", "err", err)
	return err
}

// pruneArchive removes raw archive days past their retention at start and then hourly.
func pruneArchive(ctx context.Context, dir string, keep time.Duration, log *slog.Logger) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for now := time.Now(); ; {
		if _, err := collector.PruneArchive(dir, keep, now); err != nil {
			log.Warn("prune raw archive", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case now = <-t.C:
		}
	}
}
func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

// forwardHandler runs a forwarded command line with the daemon's config and store, as the
// calling OS user.
func (a *app) forwardHandler(cfg *policies.Config, st *stats.Store, state *serveState) forward.Handler {
	return func(ctx context.Context, req forward.Request, stdin io.Reader, stdout, stderr io.Writer) int {
		sub := &app{stdin: stdin, stdout: stdout, stderr: stderr, args: req.Args, cwd: req.Cwd, user: req.User,
			daemon: &daemonEnv{cfg: cfg, store: st, serve: state}}
		sub.log = a.log.With("forwarded_for", req.User)
		if err := sub.checkPeer(req); err != nil {
			sub.log.Warn("forwarded command refused", "args", req.Args, "err", err)
			fmt.Fprintf(stderr, "Error: refused: %s\n", display.Text(err.Error()))
			return 1
		}
		return sub.execute(ctx)
	}
}

// httpEndpoint listens for the dashboard and /metrics: TLS when the policy names a
// certificate, and the token or basic auth of collector.http in front of both when set. A
// non-loopback address without TLS and a credential is refused (validation already says so;
// this holds even if a secret resolves empty).
func (a *app) httpEndpoint(cfg *policies.Config, st *stats.Store, reg *prometheus.Registry, health http.Handler) (net.Listener, http.Handler, error) {
	co := cfg.Collector
	creds, err := co.HTTP.Credentials()
	if err != nil {
		return nil, nil, err
	}
	if !policies.IsLoopbackListen(co.HTTPListen) && (co.HTTP.TLSCert == "" || !creds.Any()) {
		return nil, nil, fmt.Errorf("http_listen %s is not loopback: collector.http needs tls_cert, tls_key and a token or basic auth", co.HTTPListen)
	}
	var tlsCfg *tls.Config
	if co.HTTP.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(co.HTTP.TLSCert, co.HTTP.TLSKey)
		if err != nil {
			return nil, nil, fmt.Errorf("http tls: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	src := a.reportSources(cfg, st)
	src.ArchiveDir = filepath.Join(co.DataDir, "raw") // the drill-down's raw lines
	mux.Handle("/", report.Handler(report.DashboardOptions{Sources: src, AllowedHosts: co.HTTP.AllowedHosts,
		Log: a.log.With("component", "dashboard")}))
	var h http.Handler = mux
	if creds.Any() {
		h = report.RequireAuth(mux, creds)
	}
	// /healthz answers without credentials: probes and supervisors have none, and it tells
	// only whether flushes succeed.
	outer := http.NewServeMux()
	outer.Handle("GET /healthz", health)
	outer.Handle("/", h)
	h = outer
	hl, err := net.Listen("tcp", co.HTTPListen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen http %s: %w", co.HTTPListen, err)
	}
	if tlsCfg != nil {
		hl = tls.NewListener(hl, tlsCfg)
	}
	return hl, h, nil
}
