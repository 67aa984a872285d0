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
