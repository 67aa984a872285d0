package devices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// PushASA is a whole push to one device: it holds l's lock for t.Name
// (l may be nil), dials, runs Apply and closes. When the connection breaks
// mid-push it dials once more and rolls back the applied steps plus the
// in-flight one (whose undo the device may refuse if it never landed; the
// comparison with Before decides). rep.Transcript holds every session's
// redacted transcript.
func PushASA(ctx context.Context, l *Locker, t Target, p Plan, log *slog.Logger) (rep Report, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if l != nil {
		unlock, lerr := l.Lock(ctx, t.Name)
		if lerr != nil {
			return rep, lerr
		}
		defer unlock()
	}
	var transcripts []string
	defer func() { rep.Transcript = strings.Join(transcripts, "") }()
	a, err := DialASA(ctx, t, log)
	if err != nil {
		return rep, err
	}
	rep, err = Apply(ctx, a, p)
	transcripts = append(transcripts, a.Transcript().String())
	_ = a.Close()
	if err != nil && rep.Verified {
		// The change is live and verified; only the save failed. Never undo it.
		return recoverSave(ctx, t, p, rep, err, &transcripts, log)
	}
	if err == nil || !errors.Is(err, ErrConnection) || (len(rep.Applied) == 0 && rep.InFlight == nil) {
		return rep, err
	}
	log.Warn("connection lost during push, reconnecting to roll back", "device", t.Name, "applied", len(rep.Applied))
	undo := append([]Step(nil), rep.Applied...)
	if rep.InFlight != nil {
		undo = append(undo, *rep.InFlight)
	}
	b, derr := DialASA(ctx, t, log)
	if derr != nil {
		return rep, errors.Join(err, fmt.Errorf("%w: reconnect: %w", ErrRollback, derr))
	}
	defer b.Close()
	rerr := Rollback(ctx, b, undo, rep.Before)
	transcripts = append(transcripts, "--- reconnected for rollback\n", b.Transcript().String())
	rep.RolledBack = rerr == nil
	if after, aerr := b.RunningConfig(ctx); aerr == nil {
		rep.After = after
	}
	return rep, errors.Join(err, rerr)
}

// recoverSave handles a verified push whose "write memory" reply was lost
// or failed: it dials again, checks that the running configuration still
// passes p.Verify, compares the running and startup checksums and saves
// again when they differ. It never rolls back. When it cannot confirm the
// save the error wraps ErrWriteMemory (the change is live, unsaved).
func recoverSave(ctx context.Context, t Target, p Plan, rep Report, werr error, transcripts *[]string, log *slog.Logger) (Report, error) {
	log.Warn("save not confirmed after a verified push, reconnecting to check", "device", t.Name, "err", werr)
	fail := func(err error) (Report, error) {
		if !errors.Is(err, ErrWriteMemory) {
			err = fmt.Errorf("%w: %w", ErrWriteMemory, err)
		}
		return rep, errors.Join(fmt.Errorf("%w: save after the verified change: %w", ErrWriteMemory, werr), err)
	}
	b, err := DialASA(ctx, t, log)
	if err != nil {
		return fail(fmt.Errorf("reconnect: %w", err))
	}
	defer func() {
		*transcripts = append(*transcripts, "--- reconnected to confirm the save\n", b.Transcript().String())
		_ = b.Close()
	}()
	running, err := b.RunningConfig(ctx)
	if err != nil {
		return fail(err)
	}
	rep.After = running
	if p.Verify != nil {
		if verr := p.Verify(running); verr != nil {
			// Someone changed it since; still not ours to undo.
			return fail(fmt.Errorf("running configuration no longer verifies: %w", verr))
		}
	}
	run, start, err := b.Checksums(ctx)
	if err != nil {
		return fail(err)
	}
	if run != start {
		if err := b.WriteMemory(ctx); err != nil {
			return fail(err)
		}
		if run, start, err = b.Checksums(ctx); err != nil {
			return fail(err)
		}
		if run != start {
			return fail(fmt.Errorf("startup checksum %.8s still differs from running %.8s after saving again", start, run))
		}
		rep.Warnings = append(rep.Warnings, "write memory reply lost; saved again after reconnecting (checksums now equal)")
	} else {
		rep.Warnings = append(rep.Warnings, "write memory reply lost; after reconnecting the startup checksum equals the running one (saved)")
	}
	rep.Saved = true
	return rep, nil
}
