package collector

import (
	"strings"
	"testing"
	"time"
)

func TestHealthAt(t *testing.T) {
	start := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	every := time.Minute
	for _, tc := range []struct {
		name string
		s    PipelineStatus
		now  time.Time
		ok   bool
		say  string
	}{
		{"just started", PipelineStatus{}, start.Add(30 * time.Second), true, ""},
		{"flushing", PipelineStatus{LastFlush: start.Add(9 * time.Minute)}, start.Add(10 * time.Minute), true, ""},
		{"never flushed", PipelineStatus{FlushErrors: 4}, start.Add(4 * time.Minute), false, "no flush has succeeded in 4m0s since start"},
		{"stalled", PipelineStatus{LastFlush: start.Add(time.Minute), FlushErrors: 7}, start.Add(10 * time.Minute), false, "last successful flush was 9m0s ago"},
	} {
		h := tc.s.HealthAt(tc.now, start, every)
		if h.OK != tc.ok || !strings.Contains(h.Reason, tc.say) {
			t.Errorf("%s: ok %v %q, want %v %q", tc.name, h.OK, h.Reason, tc.ok, tc.say)
		}
	}
}
