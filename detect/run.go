package detect

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// RunResult is what one run found, per finding what the store made of it.
type RunResult struct {
	Window    TimeRange     `json:"window"`
	Detectors []string      `json:"detectors"`
	Findings  []Upserted    `json:"findings"`
	Errors    []DetectError `json:"errors,omitempty"`
	Took      time.Duration `json:"took"`
}

// DetectError is a detector that failed (an error or a panic); the others still ran.
type DetectError struct {
	Detector string `json:"detector"`
	Err      string `json:"error"`
}

// ErrDetectors is returned (wrapped) by Run when at least one detector failed; the result
// still holds every other detector's findings.
var ErrDetectors = errors.New("detectors failed")

// Run runs env's detectors over the window of the given length ending at at, stores their
// findings in env.Findings (when set) and returns them. A detector that fails or panics is
// reported in RunResult.Errors and Run returns ErrDetectors with the other findings stored.
// The same at and window give the same findings: detectors judge the window, not the clock.
func Run(ctx context.Context, env *Env, at time.Time, window time.Duration) (RunResult, error) {
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	began := now()
	renv := *env
	renv.Stats = &runStats{Stats: env.Stats}
	env = &renv
	dets := env.Detectors
	if dets == nil {
		dets = Enabled(env.Policy)
	}
	w := TimeRange{From: at.Add(-window), To: at}
	res := RunResult{Window: w}
	// The detectors only read the statistics: they run side by side, as many at a time as
	// there are CPUs, and their results are taken in their order.
	type result struct {
		fs  []Finding
		err error
	}
	results := make([]result, len(dets))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for _, i := range heaviestFirst(dets) {
		d := dets[i]
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i].fs, results[i].err = runOne(ctx, env, d, w)
		})
	}
	wg.Wait()
	var found []Finding
	for i, d := range dets {
		res.Detectors = append(res.Detectors, d.Name())
		fs, err := results[i].fs, results[i].err
		if err != nil {
			env.log().Warn("detector failed", "detector", d.Name(), "err", err)
			res.Errors = append(res.Errors, DetectError{Detector: d.Name(), Err: err.Error()})
		}
		for i := range fs {
			fs[i].Detector = d.Name()
		}
		found = append(found, fs...)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	found = foldTerms(found)
	for i := range found {
		evidenceSeverity(env.Policy, &found[i])
		// A policy rule's suppression rides on the finding into Upsert, which keeps it.
		found[i].Suppressed = policySuppression(env.Policy, &found[i], w.To)
	}
	if env.Findings != nil {
		ups, err := env.Findings.Upsert(ctx, res.Detectors, w, found, func(det string) time.Duration {
			return time.Duration(settings(env.Policy, det).Suppress)
		}, began)
		if err != nil {
			return res, err
		}
		res.Findings = ups
	} else {
		for _, f := range found {
			f.ID = shortID(f.Key, 8)
			f.Count, f.Status = 1, StatusOpen
			if f.Suppressed != nil {
				f.Status = StatusSuppressed
			}
			res.Findings = append(res.Findings, Upserted{Finding: f, Change: ChangeNew})
		}
	}
	slices.SortStableFunc(res.Findings, func(a, b Upserted) int {
		if c := b.Severity.Rank() - a.Severity.Rank(); c != 0 {
			return c
		}
		if a.Detector != b.Detector {
			if a.Detector < b.Detector {
				return -1
			}
			return 1
		}
		if a.Key < b.Key {
			return -1
		}
		if a.Key > b.Key {
			return 1
		}
		return 0
	})
	res.Took = now().Sub(began)
	if len(res.Errors) > 0 {
		return res, fmt.Errorf("%d of %d: %w", len(res.Errors), len(dets), ErrDetectors)
	}
	return res, nil
}

// heavy are the detectors that read the most (weeks of every host's hours, a day of every
// host's peers): started first, they do not leave one CPU busy at the end of a run.
var heavy = map[string]bool{DetectorVolumeSpike: true, DetectorUnusualPorts: true}

// heaviestFirst returns the indexes of dets, the heavy ones first, the rest in order.
func heaviestFirst(dets []Detector) []int {
	order := make([]int, 0, len(dets))
	for pass := range 2 {
		for i, d := range dets {
			if heavy[d.Name()] == (pass == 0) {
				order = append(order, i)
			}
		}
	}
	return order
}

// runOne runs d, turning a panic into an error so one broken detector cannot stop the rest.
func runOne(ctx context.Context, env *Env, d Detector, w TimeRange) (fs []Finding, err error) {
	defer func() {
		if r := recover(); r != nil {
			env.log().Error("detector panicked", "detector", d.Name(), "panic", r, "stack", string(debug.Stack()))
			fs, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return d.Run(ctx, env, w)
}

// foldTerms drops significant-terms findings whose term another detector's finding of the run
// already names (its host, peer or port): one situation, one finding; the specific detector's
// evidence is what a person acts on.
func foldTerms(fs []Finding) []Finding {
	named := map[netip.Addr]bool{}
	ports := map[[2]uint16]bool{}
	for _, f := range fs {
		if f.Detector == DetectorSignificantTerms {
			continue
		}
		named[f.Subject.Host], named[f.Subject.Peer] = true, true
		for _, r := range f.Evidence.TopHosts {
			if a, err := netip.ParseAddr(r.Key); err == nil {
				named[a] = true
			}
		}
		if f.Subject.Port != 0 {
			ports[[2]uint16{uint16(f.Subject.Proto), f.Subject.Port}] = true
		}
		for _, r := range f.Evidence.TopPorts {
			if p, err := policies.ParsePort(r.Key); err == nil {
				ports[[2]uint16{uint16(p.Proto), p.Num}] = true
			}
		}
	}
	delete(named, netip.Addr{})
	out := fs[:0]
	for _, f := range fs {
		if f.Detector == DetectorSignificantTerms {
			s := f.Subject
			if named[s.Host] || named[s.Peer] || (s.Port != 0 && !s.Host.IsValid() && !s.Peer.IsValid() && ports[[2]uint16{uint16(s.Proto), s.Port}]) {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// runStats is one Run's view of the statistics: the pairs, which two detectors read for the
// same window (a scan of every pair record), are read once. The detectors only read what it
// returns. Each Run has its own; its detectors share it from their goroutines (the first to ask
// reads the pairs, the others wait for them).
type runStats struct {
	Stats
	mu         sync.Mutex
	pairsSince time.Time
	pairs      []stats.Pair
	hasPairs   bool
}

func (r *runStats) Pairs(ctx context.Context, since time.Time) ([]stats.Pair, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hasPairs && r.pairsSince.Equal(since) {
		return r.pairs, nil
	}
	p, err := r.Stats.Pairs(ctx, since)
	if err != nil {
		return nil, err
	}
	r.pairs, r.pairsSince, r.hasPairs = p, since, true
	return p, nil
}
