package collector

import (
	"fmt"
	"time"
)

// Health is the daemon's answer to /healthz: whether statistics reach the database.
type Health struct {
	OK            bool      `json:"ok"`
	Reason        string    `json:"reason,omitempty"`
	LastFlush     time.Time `json:"last_flush,omitzero"`
	LastFlushAge  string    `json:"last_flush_age,omitempty"`
	FlushErrors   int64     `json:"flush_errors"`
	FramesTyped   int64     `json:"frames_typed"`
	FramesOther   int64     `json:"frames_header_or_unparsed"`
	UptimeSeconds int64     `json:"uptime_seconds"`
}

// HealthAt judges the pipeline status at now for a daemon started at started that flushes
// every interval: unhealthy when no flush has succeeded for three intervals (a full or
// read-only disk, a stuck transaction), so a supervisor or a monitoring probe can tell.
// Silence from the devices is not unhealthy here: the per-device metric shows it.
func (s PipelineStatus) HealthAt(now, started time.Time, every time.Duration) Health {
	h := Health{OK: true, LastFlush: s.LastFlush, FlushErrors: s.FlushErrors, FramesTyped: s.Typed,
		FramesOther: s.Header + s.Unparsed, UptimeSeconds: int64(now.Sub(started) / time.Second)}
	since := started
	if !s.LastFlush.IsZero() {
		since = s.LastFlush
		h.LastFlushAge = now.Sub(s.LastFlush).Round(time.Second).String()
	}
	if every > 0 && now.Sub(since) > 3*every {
		h.OK = false
		if s.LastFlush.IsZero() {
			h.Reason = fmt.Sprintf("no flush has succeeded in %s since start (flush interval %s, %d failed)", now.Sub(started).Round(time.Second), every, s.FlushErrors)
		} else {
			h.Reason = fmt.Sprintf("the last successful flush was %s ago (flush interval %s, %d failed)", h.LastFlushAge, every, s.FlushErrors)
		}
	}
	return h
}
