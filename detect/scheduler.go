package detect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/firebreak-dev/firebreak/policies"
)

// CheckpointJob is the checkpoint name of the scheduled detection.
const CheckpointJob = "detect"

// SchedulerOptions configures a Scheduler.
type SchedulerOptions struct {
	// Env is what detections run against; Env.Findings must be set (the scheduler stores what
	// it finds and its checkpoint there). Env.Policy gives the spec (schedules.detect) and zone.
	Env *Env
	// Window is the length of each run's window; default the significant-terms window (24h).
	Window time.Duration
	// Now is the clock that aligns runs; default time.Now. The cron library keeps its own
	// (real) timers; Now only decides which window a run covers.
	Now func() time.Time
	Log *slog.Logger // default Env.Log, else discard
	// OnFindings, if set, is called after each run that stored findings with those that alert
	// (new, updated after their suppression ended, reopened), on the scheduler's goroutine:
	// remediation proposes changes here. It must return when ctx is done.
	OnFindings func(ctx context.Context, findings []Finding)
	// OnStored, if set, is called after each run with every finding it stored and what the
	// store did with it (alerts pick theirs by change and severity), before OnFindings. It
	// must not block.
	OnStored func(stored []Upserted)
	// Metrics, if set, records every scheduled run.
	Metrics *RunMetrics
}

// Scheduler runs the detectors on the policy's schedule (robfig/cron/v3 in the schedules'
// zone, each run wrapped in panic recovery and skipped while the previous one still runs).
// Every run covers the window ending at the last completed hour and is recorded as a
// checkpoint, so a run for a window already done (a DST repeat, a restart, two ticks in one
// hour) does nothing.
type Scheduler struct {
	o     SchedulerOptions
	spec  string
	sched cron.Schedule
	log   *slog.Logger

	mu     sync.Mutex
	c      *cron.Cron
	cancel context.CancelFunc
}

// NewScheduler checks the options and parses the policy's detect schedule with
// policies.ParseSchedule (which never panics).
func NewScheduler(o SchedulerOptions) (*Scheduler, error) {
	if o.Env == nil || o.Env.Policy == nil || o.Env.Findings == nil || o.Env.Stats == nil {
		return nil, errors.New("detect scheduler: Env with Stats, Policy and Findings is required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = o.Env.log()
	}
	if o.Window <= 0 {
		o.Window = time.Duration(o.Env.Policy.Detectors.SignificantTerms.Window)
		if o.Window <= 0 {
			o.Window = 24 * time.Hour
		}
	}
	spec := o.Env.Policy.Schedules.Detect
	sched, err := policies.ParseSchedule(spec)
	if err != nil {
		return nil, fmt.Errorf("detect scheduler: schedules.detect %q: %w", spec, err)
	}
	return &Scheduler{o: o, spec: spec, sched: sched, log: o.Log}, nil // the caller names the component
}

// Next is when the schedule fires next after t (in the schedules' zone).
func (s *Scheduler) Next(t time.Time) time.Time {
	return s.sched.Next(t.In(s.o.Env.Policy.Schedules.Location()))
}

// Start starts the cron goroutine; runs get a context derived from ctx. Start after Start
// without Stop is an error.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		return errors.New("detect scheduler already started")
	}
	lg := cronLogger{s.log}
	c := cron.New(
		cron.WithLocation(s.o.Env.Policy.Schedules.Location()),
		cron.WithLogger(lg),
		cron.WithChain(cron.Recover(lg), cron.SkipIfStillRunning(lg)),
	)
	jobCtx, cancel := context.WithCancel(ctx)
	c.Schedule(s.sched, cron.FuncJob(func() {
		if _, _, err := s.RunOnce(jobCtx); err != nil && jobCtx.Err() == nil {
			s.log.Error("scheduled detection", "err", err)
		}
	}))
	c.Start()
	s.c, s.cancel = c, cancel
	s.log.Info("detection scheduled", "spec", s.spec, "zone", s.o.Env.Policy.Schedules.Location().String(),
		"next", s.Next(s.o.Now()))
	return nil
}

// Stop stops scheduling, cancels a running detection and waits for it to end.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	c, cancel := s.c, s.cancel
	s.c, s.cancel = nil, nil
	s.mu.Unlock()
	if c == nil {
		return
	}
	done := c.Stop()
	cancel()
	<-done.Done()
}

// Run starts the scheduler and blocks until ctx is done, then stops it and returns nil (or
// the error Start gave).
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	s.Stop()
	return nil
}

// RunOnce is one scheduled run: it detects over the window ending at the last completed hour
// unless the checkpoint says that window is done, stores the findings, advances the
// checkpoint and calls OnFindings. ran is false when the window was already done.
func (s *Scheduler) RunOnce(ctx context.Context) (res RunResult, ran bool, err error) {
	defer func() {
		if ctx.Err() == nil { // a run cut short by shutdown is not a failed run
			s.o.Metrics.observe(res, ran, err)
		}
	}()
	at := s.o.Now().Truncate(time.Hour)
	done, err := s.o.Env.Findings.Checkpoint(ctx, CheckpointJob)
	if err != nil {
		return res, false, fmt.Errorf("read checkpoint: %w", err)
	}
	if !at.After(done) {
		s.log.Debug("window already done", "at", at, "checkpoint", done)
		return res, false, nil
	}
	res, err = Run(ctx, s.o.Env, at, s.o.Window)
	if err != nil && !errors.Is(err, ErrDetectors) {
		return res, true, err
	}
	if err == nil {
		if cerr := s.o.Env.Findings.SetCheckpoint(ctx, CheckpointJob, at); cerr != nil {
			return res, true, fmt.Errorf("write checkpoint: %w", cerr)
		}
	}
	s.log.Info("detection run", "window_end", at, "findings", len(res.Findings), "took", res.Took, "failed", len(res.Errors))
	if s.o.OnStored != nil && len(res.Findings) > 0 {
		s.o.OnStored(res.Findings)
	}
	if s.o.OnFindings != nil {
		var alert []Finding
		for _, u := range res.Findings {
			if u.Change != ChangeSilent {
				alert = append(alert, u.Finding)
			}
		}
		if len(alert) > 0 {
			s.o.OnFindings(ctx, alert)
		}
	}
	return res, true, err
}

// cronLogger adapts slog to cron.Logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
