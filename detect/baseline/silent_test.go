package baseline

import (
	"testing"
	"time"
)

func TestSilent(t *testing.T) {
	now := time.Date(2026, 6, 17, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		quiet     time.Duration
		active    int
		gap       time.Duration
		cfg       SilentConfig
		silent    bool
		threshold time.Duration
	}{
		{"server quiet 30h", 30 * time.Hour, 7, 2 * time.Hour, SilentConfig{}, true, 24 * time.Hour},
		{"server quiet 20h", 20 * time.Hour, 7, 2 * time.Hour, SilentConfig{}, false, 24 * time.Hour},
		{"exactly the threshold", 24 * time.Hour, 7, 0, SilentConfig{}, false, 24 * time.Hour},
		{"workstation over a weekend", 64 * time.Hour, 5, 64 * time.Hour, SilentConfig{}, false, 192 * time.Hour},
		{"workstation gone 9 days", 200 * time.Hour, 5, 64 * time.Hour, SilentConfig{}, true, 192 * time.Hour},
		{"rarely active host", 100 * time.Hour, 4, 0, SilentConfig{}, false, 24 * time.Hour},
		{"custom quiet", 7 * time.Hour, 6, time.Hour, SilentConfig{Quiet: 6 * time.Hour, MinActiveDays: 6}, true, 6 * time.Hour},
		{"custom gap factor", 7 * time.Hour, 6, 4 * time.Hour, SilentConfig{Quiet: 6 * time.Hour, GapFactor: 2}, false, 8 * time.Hour},
	}
	for _, tt := range tests {
		r := Silent(now.Add(-tt.quiet), now, tt.active, tt.gap, tt.cfg)
		if r.Silent != tt.silent || r.Threshold != tt.threshold || r.Quiet != tt.quiet {
			t.Errorf("%s: %+v, want silent %v threshold %v", tt.name, r, tt.silent, tt.threshold)
		}
	}
	if r := Silent(time.Time{}, now, 7, 0, SilentConfig{}); r.Silent {
		t.Errorf("never-seen host silent: %+v", r)
	}
}

func TestActivityOf(t *testing.T) {
	loc := mustLoad(t, "America/Chicago")
	now := time.Date(2026, 6, 17, 12, 20, 0, 0, loc)
	stop := time.Date(2026, 6, 16, 6, 0, 0, 0, loc) // quiet from 06:00 yesterday
	first := time.Date(2026, 5, 28, 12, 0, 0, 0, loc)
	h := makeHours(first.AddDate(0, 0, -5), now.Add(time.Hour), loc, func(t time.Time) float64 {
		switch {
		case t.Before(first), !t.Before(stop):
			return 0
		case t.Month() == 6 && t.Day() == 10 && t.Hour() >= 1 && t.Hour() < 6:
			return 0 // a 5-hour maintenance gap
		}
		return 40
	})
	a := ActivityOf(h.series, now, loc, 30*24*time.Hour, 100)
	if !a.FirstSeen.Equal(first) || !a.LastSeen.Equal(stop) {
		t.Errorf("first %v last %v, want %v %v", a.FirstSeen.In(loc), a.LastSeen.In(loc), first, stop)
	}
	// 15 June 00:00–06:00 has 6·40 = 240 ≥ 100: the seven days up to it are all active.
	if a.ActiveDays != 7 || a.LongestGap != 5*time.Hour {
		t.Errorf("active days %d, longest gap %v; want 7 and 5h", a.ActiveDays, a.LongestGap)
	}
	r := Silent(a.LastSeen, now, a.ActiveDays, a.LongestGap, SilentConfig{})
	if !r.Silent || r.Quiet != now.Sub(stop) {
		t.Errorf("silent %+v", r)
	}
	// A host that never sent anything.
	zero := makeHours(now.AddDate(0, 0, -3), now, loc, func(time.Time) float64 { return 0 })
	if a := ActivityOf(zero.series, now, loc, 72*time.Hour, 1); !a.LastSeen.IsZero() || a.ActiveDays != 0 {
		t.Errorf("idle host activity %+v", a)
	}
}
