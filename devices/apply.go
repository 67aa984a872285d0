package devices

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Step is one configuration line and the line that undoes it.
type Step struct {
	// Mode is the sub-mode header Do and Undo are typed under (for example
	// "object-group network BLOCK"); zero for global configuration.
	Mode Command
	Do   Command
	// Undo reverses Do; zero when there is nothing to undo (for example
	// entering an existing object-group).
	Undo Command
}

// Configurer is what Apply needs from a session; *ASA implements it.
type Configurer interface {
	Configure(ctx context.Context, lines []Command) (Result, error)
	RunningConfig(ctx context.Context) (string, error)
	WriteMemory(ctx context.Context) error
}

var _ Configurer = (*ASA)(nil)

// Plan is a change to push. Order the steps so that every prefix is safe
// (create a group, add members, then reference it).
type Plan struct {
	Steps []Step
	// Before is the running configuration (as RunningConfig returns it) the
	// plan was made against, typically read when the change was approved.
	// When set, Apply first reads the device's configuration and stops with
	// ErrConfigChanged, sending nothing, if it differs (under StableConfig).
	// When empty, Apply reads it. A rollback must restore this text.
	Before string
	// Verify checks the running configuration read back after the steps;
	// an error triggers the rollback. Nil skips verification.
	Verify func(running string) error
	// Check runs after Verify passed, in the same session and before the
	// save, with show running read-only commands on the device (Show's
	// allow-list: packet-tracer, show conn, ...): a post-push test of what
	// the device does. An error triggers the rollback, as for Verify. A
	// device that cannot run show commands fails the check.
	Check func(ctx context.Context, show func(ctx context.Context, cmd string) (string, error)) error
	// Save runs "write memory" after a verified push. Before sending
	// anything Apply then compares the running and startup checksums (when
	// the device can tell them, see Checksummer): if they differ, someone's
	// unsaved work would be saved with ours, and Apply stops with ErrUnsaved
	// unless AllowUnsaved, which pushes and reports a warning.
	Save         bool
	AllowUnsaved bool
}

// ErrUnsaved: the device's running configuration differs from its startup
// configuration before the push (someone's unsaved changes); nothing was sent.
var ErrUnsaved = errors.New("running configuration has unsaved changes")

// Checksummer is a device that reports the checksums of its running and
// startup configurations ("show checksum", the startup's Cryptochecksum
// line); *ASA implements it.
type Checksummer interface {
	Checksums(ctx context.Context) (running, startup string, err error)
}

// shower is a device that runs read-only commands (ASA.Show).
type shower interface {
	Show(ctx context.Context, cmd string) (string, error)
}

// Report says what Apply did.
type Report struct {
	// Applied are the steps the device accepted, in order (they were undone
	// again when RolledBack is true).
	Applied []Step
	// InFlight is the step whose line was being sent when the connection
	// broke: it may or may not be applied.
	InFlight *Step
	// RolledBack is true when the inverse ran and the configuration equals
	// Before again (compared with StableConfig).
	RolledBack bool
	Saved      bool
	// Verified is true once the read-back passed Verify and Check: from
	// then on nothing undoes the change (a lost save reply is recovered by
	// PushASA, not rolled back).
	Verified bool
	// Warnings are conditions that did not stop the push (unsaved foreign
	// changes allowed by the policy, a save recovered after a lost reply).
	Warnings []string
	// Suspicious are lines answered with an unknown warning: taken as
	// applied (they are in Applied and undone by a rollback) and judged by
	// Verify; without Verify they fail the push.
	Suspicious []Reply
	// Before and After are the running configurations before the push and
	// at the end (After is empty when it could not be read).
	Before, After string
	// Transcript is the redacted session transcript (set by PushASA).
	Transcript string
}

// render turns steps into CLI lines, entering sub-modes as needed; owner
// maps each line to its step (-1 for mode headers).
func render(steps []Step, undo bool) (lines []Command, owner []int) {
	var cur Command
	first := true
	for i, s := range steps {
		c := s.Do
		if undo {
			c = s.Undo
		}
		if c.IsZero() {
			continue
		}
		if first || s.Mode != cur {
			if !s.Mode.IsZero() {
				lines, owner = append(lines, s.Mode), append(owner, -1)
			} else if !first {
				lines, owner = append(lines, MustCommand("exit")), append(owner, -1)
			}
			cur, first = s.Mode, false
		}
		lines, owner = append(lines, c), append(owner, i)
		if s.Mode.IsZero() && entersSubMode(c) {
			// A header enters its sub-mode; steps under it follow directly.
			cur = c
		}
	}
	return lines, owner
}

// Apply checks that the device still has p.Before (if set), pushes
// p.Steps through dev, stopping at the first refused line, then reads the
// configuration back and runs p.Verify. On a refusal or a failed
// verification it sends the Undo lines of the applied steps in reverse
// order and checks that the configuration equals the one read before the
// push (ErrRollback otherwise). When the connection breaks (ErrConnection) it
// cannot roll back: the Report says what was applied, and the caller dials
// again and calls Rollback. The returned error joins every failure.
func Apply(ctx context.Context, dev Configurer, p Plan) (Report, error) {
	rep := Report{Before: p.Before}
	before, err := dev.RunningConfig(ctx)
	if err != nil {
		return rep, fmt.Errorf("read config before push: %w", err)
	}
	if p.Before != "" && StableConfig(before) != StableConfig(p.Before) {
		return rep, fmt.Errorf("%w: %s", ErrConfigChanged, firstDiff(StableConfig(p.Before), StableConfig(before)))
	}
	rep.Before = before
	if p.Save {
		if cs, ok := dev.(Checksummer); ok {
			run, start, err := cs.Checksums(ctx)
			if err != nil {
				return rep, fmt.Errorf("read checksums before push: %w", err)
			}
			if run != start {
				if !p.AllowUnsaved {
					return rep, fmt.Errorf("%w: running %.8s, startup %.8s; save or discard them first, or allow it in the policy (remediation.allow_unsaved_changes): nothing sent", ErrUnsaved, run, start)
				}
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("running and startup configurations differed before the push (running %.8s, startup %.8s): write memory saved those unsaved changes too", run, start))
			}
		}
	}
	lines, owner := render(p.Steps, false)
	res, err := dev.Configure(ctx, lines)
	for i := range res.Applied {
		if owner[i] >= 0 {
			rep.Applied = append(rep.Applied, p.Steps[owner[i]])
		}
	}
	rep.Suspicious = res.Suspicious
	if err != nil && errors.Is(err, ErrConnection) {
		if n := len(res.Applied); n < len(owner) && owner[n] >= 0 && !res.InFlight.IsZero() {
			s := p.Steps[owner[n]]
			rep.InFlight = &s
		}
		return rep, fmt.Errorf("push: %w", err)
	}
	var failure error
	switch {
	case err != nil:
		failure = fmt.Errorf("push: %w", err)
	case len(res.Suspicious) > 0 && p.Verify == nil:
		sus := res.Suspicious[0]
		failure = fmt.Errorf("%d line(s) answered with unknown output and nothing verifies them: %w",
			len(res.Suspicious), &CommandError{Command: sus.Command.String(), Output: sus.Output, Err: ErrUnexpectedOutput})
	}
	if err == nil {
		after, rerr := dev.RunningConfig(ctx)
		if rerr != nil {
			return rep, fmt.Errorf("read config after push: %w", rerr)
		}
		rep.After = after
		if failure == nil && p.Verify != nil {
			if verr := p.Verify(after); verr != nil {
				failure = fmt.Errorf("%w: %w", ErrVerify, verr)
			}
		}
		if failure == nil && p.Check != nil {
			sh, ok := dev.(shower)
			switch {
			case !ok:
				failure = fmt.Errorf("%w: the device cannot run checks", ErrVerify)
			default:
				if cerr := p.Check(ctx, sh.Show); cerr != nil {
					failure = fmt.Errorf("%w: %w", ErrVerify, cerr)
				}
			}
		}
	}
	if failure != nil {
		rerr := Rollback(ctx, dev, rep.Applied, rep.Before)
		rep.RolledBack = rerr == nil
		if after, err := dev.RunningConfig(ctx); err == nil {
			rep.After = after
		}
		return rep, errors.Join(failure, rerr)
	}
	rep.Verified = true
	if p.Save {
		if err := dev.WriteMemory(ctx); err != nil {
			return rep, err
		}
		rep.Saved = true
	}
	return rep, nil
}

// Rollback sends the Undo lines of applied in reverse order. A refused undo
// line is recorded and the rest still sent. Then, when before is not empty,
// the running configuration must equal it under StableConfig (ErrRollback
// otherwise, naming the first differing line); when it does, refused lines
// are not errors: their step never took effect (the in-flight step of a
// dropped connection, a suspicious reply), which the device says by
// refusing to remove an absent entry. Without before every refusal is an
// ErrRollback.
func Rollback(ctx context.Context, dev Configurer, applied []Step, before string) error {
	rev := slices.Clone(applied)
	slices.Reverse(rev)
	lines, _ := render(rev, true)
	var errs []error
	for len(lines) > 0 {
		res, err := dev.Configure(ctx, lines)
		if err == nil {
			break
		}
		errs = append(errs, err)
		if errors.Is(err, ErrConnection) {
			return fmt.Errorf("%w: %w", ErrRollback, errors.Join(errs...))
		}
		// Skip the refused line; re-enter its sub-mode for what follows.
		next := len(res.Applied) + 1
		if next >= len(lines) {
			break
		}
		rest := lines[next:]
		if mode := modeBefore(lines, next); !mode.IsZero() && !isModeLine(rest[0]) {
			rest = append([]Command{mode}, rest...)
		}
		lines = rest
	}
	if before != "" {
		after, err := dev.RunningConfig(ctx)
		if err != nil {
			return fmt.Errorf("%w: read config: %w", ErrRollback, errors.Join(append(errs, err)...))
		}
		if StableConfig(after) != StableConfig(before) {
			errs = append(errs, fmt.Errorf("configuration differs from before the push: %s", firstDiff(StableConfig(before), StableConfig(after))))
		} else {
			return nil
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrRollback, errors.Join(errs...))
	}
	return nil
}

// StableConfig drops the lines of a running configuration that change
// without a configuration change (": Saved", ": Written by ...",
// "Cryptochecksum:" and the other ":" comment lines), so two texts can be
// compared for equality of configuration.
func StableConfig(running string) string {
	var b strings.Builder
	b.Grow(len(running))
	for _, l := range strings.SplitAfter(running, "\n") {
		if strings.HasPrefix(l, ":") || strings.HasPrefix(l, "Cryptochecksum:") {
			continue
		}
		b.WriteString(l)
	}
	return b.String()
}

func isModeLine(c Command) bool {
	return entersSubMode(c) || c.String() == "exit"
}

// entersSubMode reports whether a global line opens a sub-mode
// (object-group NAME, time-range NAME).
func entersSubMode(c Command) bool {
	return strings.HasPrefix(c.String(), "object-group ") || strings.HasPrefix(c.String(), "time-range ")
}

// modeBefore is the sub-mode in effect at lines[i].
func modeBefore(lines []Command, i int) Command {
	for j := i - 1; j >= 0; j-- {
		if c := lines[j]; c.String() == "exit" {
			return Command{}
		} else if entersSubMode(c) {
			return c
		}
	}
	return Command{}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: want %q, have %q", i+1, x, y)
		}
	}
	return "no difference"
}

// Locker serialises pushes per device name within this process: Lock
// blocks while another holder has the same device. It does not coordinate
// separate processes (firebreak pushes from one process at a time). The
// zero value is ready to use.
type Locker struct {
	mu   sync.Mutex
	sems map[string]chan struct{}
}

// Lock waits for device's lock or ctx; the returned unlock must be called
// exactly once.
func (l *Locker) Lock(ctx context.Context, device string) (unlock func(), err error) {
	l.mu.Lock()
	if l.sems == nil {
		l.sems = map[string]chan struct{}{}
	}
	sem := l.sems[device]
	if sem == nil {
		sem = make(chan struct{}, 1)
		l.sems[device] = sem
	}
	l.mu.Unlock()
	var once sync.Once
	release := func() { once.Do(func() { <-sem }) }
	// Try first, so a free lock is taken even with a done ctx.
	select {
	case sem <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case sem <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for device %s lock: %w", device, context.Cause(ctx))
	}
}
