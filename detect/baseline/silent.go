package baseline

import "time"

// SilentConfig sets the silent-host rule of detection.md §3.2. The zero value
// uses the defaults in the field comments.
type SilentConfig struct {
	// MinActiveDays of the last 7 days must have had traffic for the host
	// to be expected at all; default 5.
	MinActiveDays int
	// Quiet is the least silence that fires; default 24h.
	Quiet time.Duration
	// GapFactor times the host's longest historical gap is also required,
	// so hosts with natural long gaps (weekends) do not fire; default 3.
	GapFactor float64
}

func (c SilentConfig) withDefaults() SilentConfig {
	if c.MinActiveDays <= 0 {
		c.MinActiveDays = 5
	}
	if c.Quiet <= 0 {
		c.Quiet = 24 * time.Hour
	}
	if c.GapFactor <= 0 {
		c.GapFactor = 3
	}
	return c
}

// SilentResult explains a Silent verdict.
type SilentResult struct {
	Silent bool
	// Expected: the host was active on at least MinActiveDays days.
	Expected bool
	// Quiet is now − lastSeen; Threshold is the silence needed to fire.
	Quiet, Threshold time.Duration
}

// Silent applies the silent-host rule: a host that had traffic on at least
// MinActiveDays of the last 7 days (activeDays, see ActivityOf) and has been
// quiet for longer than max(Quiet, GapFactor·longestGap). detection.md says
// "> H hours (or > 3× its longest historical gap)"; taking the larger of the
// two keeps a Monday-to-Friday workstation quiet over its weekend. A zero
// lastSeen (never seen) is never silent; pass longestGap 0 when unknown.
func Silent(lastSeen, now time.Time, activeDays int, longestGap time.Duration, cfg SilentConfig) SilentResult {
	c := cfg.withDefaults()
	r := SilentResult{
		Expected:  activeDays >= c.MinActiveDays,
		Threshold: max(c.Quiet, time.Duration(c.GapFactor*float64(longestGap))),
	}
	if lastSeen.IsZero() {
		return r
	}
	r.Quiet = now.Sub(lastSeen)
	r.Silent = r.Expected && r.Quiet > r.Threshold
	return r
}

// Activity summarises an hourly series for Silent.
type Activity struct {
	// FirstSeen is the start and LastSeen the end of the first and last
	// hourly buckets with a value > 0 in the lookback; zero if none.
	FirstSeen, LastSeen time.Time
	// ActiveDays counts the 7 local days ending with LastSeen's day on
	// which the host's total reached the minimum.
	ActiveDays int
	// LongestGap is the longest run of hours without traffic (0 or no
	// data) between FirstSeen and LastSeen.
	LongestGap time.Duration
}

// ActivityOf scans the hourly buckets of the lookback before now (including
// the bucket containing now) and summarises them for Silent; minPerDay is the
// daily total a day needs to count as active (k events/day). LastSeen is the
// end of the last bucket with traffic, so the silence it implies is
// understated by at most an hour and Silent never fires early. Active days
// are counted up to LastSeen, not now, so a host that has just gone quiet is
// still "expected". Buckets without data inside the span count as gap, which
// lengthens LongestGap and errs toward not firing.
func ActivityOf(hourly Series, now time.Time, loc *time.Location, lookback time.Duration, minPerDay float64) Activity {
	if loc == nil {
		loc = time.UTC
	}
	var a Activity
	end := now.Truncate(time.Hour)
	begin := now.Add(-lookback).Truncate(time.Hour)
	var run, longest time.Duration
	for t := begin; !t.After(end); t = t.Add(time.Hour) {
		v, ok := hourly(t)
		if ok && v > 0 {
			if a.FirstSeen.IsZero() {
				a.FirstSeen = t
			} else {
				longest = max(longest, run)
			}
			run = 0
			a.LastSeen = t.Add(time.Hour)
			continue
		}
		if !a.FirstSeen.IsZero() {
			run += time.Hour
		}
	}
	a.LongestGap = longest
	if a.LastSeen.IsZero() {
		return a
	}
	daily := DailyFromHourly(hourly, loc)
	last := localMidnight(a.LastSeen.Add(-time.Hour), loc)
	y, m, d := last.Date()
	for i := 0; i < 7; i++ {
		day := time.Date(y, m, d-i, 0, 0, 0, 0, loc)
		if v, ok := daily(day); ok && v >= minPerDay && v > 0 {
			a.ActiveDays++
		}
	}
	return a
}
