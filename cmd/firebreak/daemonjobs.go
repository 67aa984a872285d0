package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/detect/alert"
	"github.com/firebreak-dev/firebreak/detect/report"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

// daemonJobs are the daemon's scheduled work besides receiving syslog: detections on the
// policy's detect schedule (whose alerting findings become proposals), the report job on the
// report schedule, and the remediation pass (expiry of applied blocks, then reconciliation
// with the devices) at start and hourly.
type daemonJobs struct {
	detect     *detect.Scheduler
	report     *report.Job
	reportSpec cron.Schedule
	cron       *cron.Cron // runs the report job
	m          *remediate.Manager
	alerts     *alert.Notifier // nil: no alerts configured
	log        *slog.Logger
	reports    *prometheus.CounterVec // report runs by result
	reportOK   prometheus.Gauge       // last report written and mailed
}

func (a *app) newDaemonJobs(cfg *policies.Config, st *stats.Store, log *slog.Logger, outs esOutputs, reg prometheus.Registerer) (*daemonJobs, error) {
	m := a.manager(cfg, st)
	env := &detect.Env{Stats: st, Policy: cfg, Log: a.log.With("component", "detect"),
		Findings: detect.NewStore(st, time.Duration(cfg.Retention.Findings))}
	notifier, err := newNotifier(cfg, a.log.With("component", "alerts"), reg)
	if err != nil {
		return nil, err
	}
	var onStored func([]detect.Upserted)
	if notifier != nil {
		onStored = func(us []detect.Upserted) { notifier.Notify(us) }
	}
	sched, err := detect.NewScheduler(detect.SchedulerOptions{
		Env:      env,
		Metrics:  detect.NewRunMetrics(reg),
		OnStored: onStored,
		OnFindings: func(ctx context.Context, fs []detect.Finding) {
			outs.findings(fs)
			// The device is not asked here: the dry run at approval checks its own protections.
			ps, err := m.Propose(ctx, "firebreak-daemon", fs, nil)
			if err != nil {
				log.Error("propose from findings", "err", err)
				return
			}
			for _, p := range ps {
				log.Info("proposal", "id", p.ID, "kind", p.Kind, "state", p.State)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("detect schedule: %w", err)
	}
	job, err := report.NewJob(report.JobOptions{Sources: a.reportSources(cfg, st), Log: a.log.With("component", "report")})
	if err != nil {
		return nil, fmt.Errorf("report job: %w", err)
	}
	spec, err := policies.ParseSchedule(cfg.Schedules.Report)
	if err != nil {
		return nil, fmt.Errorf("report schedule: %w", err)
	}
	cl := cronLogger{a.log.With("component", "report-cron")}
	c := cron.New(cron.WithLocation(cfg.Schedules.Location()), cron.WithLogger(cl),
		cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)))
	reports := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_report_runs_total",
		Help: "Scheduled report runs by result (error: the report or its mail failed; see the log)."}, []string{"result"})
	reports.WithLabelValues("ok")
	reports.WithLabelValues("error")
	reportOK := prometheus.NewGauge(prometheus.GaugeOpts{Name: "firebreak_report_last_success_timestamp_seconds",
		Help: "When the last scheduled report was written (and mailed, when mail is set), unix time."})
	reg.MustRegister(reports, reportOK)
	return &daemonJobs{detect: sched, report: job, reportSpec: spec, cron: c, m: m, alerts: notifier, log: log, reports: reports, reportOK: reportOK}, nil
}

// testHookAlertDelivered, when set (tests only), is called after each alert message's last try.
var testHookAlertDelivered func(channel string, alerts int, err error)

// newNotifier builds the alerts of findings.alerts (nil when none are configured): mail with
// report.smtp's settings and password, and the webhooks.
func newNotifier(cfg *policies.Config, log *slog.Logger, reg prometheus.Registerer) (*alert.Notifier, error) {
	a := cfg.Findings.Alerts
	if a.MinSeverity == "" || (!a.Mail && len(a.Webhooks) == 0) {
		return nil, nil
	}
	o := alert.Options{Site: cfg.Site, MinSeverity: detect.Severity(a.MinSeverity), MaxPerHour: a.MaxPerHour,
		Webhooks: a.Webhooks, WebhookFormat: a.WebhookFormat, Log: log, Registerer: reg, Delivered: testHookAlertDelivered}
	if a.Mail {
		sm := cfg.Report.SMTP
		o.Mail = &report.MailConfig{Host: sm.Host, Port: sm.Port, From: sm.From, To: sm.To, User: sm.User, StartTLS: sm.StartTLS, Log: log}
		if sm.PasswordEnv != "" {
			if o.Mail.Password = os.Getenv(sm.PasswordEnv); o.Mail.Password == "" {
				return nil, fmt.Errorf("mail alerts: $%s (report.smtp.password_env) is empty", sm.PasswordEnv)
			}
		}
	}
	n, err := alert.New(o)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return n, nil
}

// run runs every job until ctx ends and returns when they have stopped.
func (d *daemonJobs) run(ctx context.Context) error {
	d.cron.Schedule(d.reportSpec, cron.FuncJob(func() {
		// The window ends at the last completed hour, like the detections'.
		at := time.Now().Truncate(time.Hour)
		if err := d.report.Run(ctx, at); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.reports.WithLabelValues("error").Inc()
			d.log.Error("report job", "err", err)
			return
		}
		d.reports.WithLabelValues("ok").Inc()
		d.reportOK.SetToCurrentTime()
	}))
	d.cron.Start()
	defer func() { <-d.cron.Stop().Done() }()
	if d.alerts != nil {
		// Delivery has its own goroutines; it stops with ctx, after the detections (which
		// only queue alerts) have.
		ended := make(chan struct{})
		go func() { defer close(ended); _ = d.alerts.Run(ctx) }()
		defer func() { <-ended }()
	}
	errc := make(chan error, 1)
	go func() { errc <- d.detect.Run(ctx) }()
	t := time.NewTicker(remediationEvery)
	defer t.Stop()
	// At start too: blocks that ended while the daemon was down are removed now, and
	// shuns lost while it was down (a reload) are placed again.
	d.remediation(ctx, time.Now())
	for {
		select {
		case <-ctx.Done():
			return <-errc
		case now := <-t.C:
			d.remediation(ctx, now)
		}
	}
}

// remediationEvery is the interval of the remediation pass after the one at start (tests
// shorten it).
var remediationEvery = time.Hour

// testHookRemediationPass, when set (tests only), is called after each remediation pass.
var testHookRemediationPass func()

// remediation expires what ended, then reconciles the applied proposals with the devices.
func (d *daemonJobs) remediation(ctx context.Context, now time.Time) {
	if h := testHookRemediationPass; h != nil {
		defer h()
	}
	res, err := d.m.Expire(ctx, now)
	if err != nil {
		d.log.Error("expire", "err", err) // joins res.Errors
	}
	if n := len(res.Removals) + len(res.Unshunned); n > 0 {
		d.log.Info("expired changes", "removals", len(res.Removals), "unshunned", len(res.Unshunned))
	}
	rep, err := d.m.Reconcile(ctx, now)
	if err != nil {
		d.log.Error("reconcile", "err", err)
	}
	if rep.Drift > 0 || rep.Repaired > 0 {
		d.log.Warn("device drift", "checked", rep.Checked, "drift", rep.Drift, "repaired", rep.Repaired)
	}
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug(msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error(msg, append(kv, "err", err)...)
}
