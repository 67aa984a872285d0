// Package baseline judges hourly and daily traffic figures against robust
// seasonal baselines: the median and MAD of the same hour of the week over the
// last weeks, with named fallbacks when history is short, an absolute floor on
// the scale so flat or zero baselines do not turn noise into alerts, and
// persistence rules so that one noisy hour does not page anyone. It also has
// an EWMA for slow drift of daily totals and the silent-host rule of
// detection.md §3.2.
//
// The package is pure computation over a Series the caller supplies: no I/O,
// no clock (every function takes the instant to judge), no shared state.
// Functions are safe for concurrent use as long as the Series and the
// Config.Exclude function are.
//
// # Buckets, missing data and zeros
//
// An hourly bucket is identified by its start, t.Truncate(time.Hour) (an
// absolute hour, aligned to UTC). Its hour of the week is the weekday and
// wall-clock hour of that start in the site's Location, so "Monday 09:00"
// means 09:00 on the local clock in both winter and summer time. A Series
// must report ok=false only for buckets with no data at all — before the
// host was first seen, after retention dropped it, or during a collector
// outage the store knows about — and ok=true with 0 for an hour in which a
// known host sent nothing. Missing buckets are skipped (they are not history
// points); zeros are history points and pull the baseline down, as they
// should for a host that is idle at night.
package baseline

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Series returns the value of the bucket that starts at start (an hour start
// for hourly use, a local midnight for daily use) and whether the bucket has
// any data; see the package documentation for ok=false against 0.
type Series func(start time.Time) (v float64, ok bool)

// Method names the reference set a Result was judged against.
type Method uint8

// Methods, from the preferred to the last resort.
const (
	// MethodNone: too little history to judge; Candidate is always false.
	MethodNone Method = iota
	// MethodHourOfWeek: same local weekday and hour over the last Weeks weeks.
	MethodHourOfWeek
	// MethodHourOfDay: same local hour over the last Days days, only days of
	// the same kind (weekday or weekend) as the judged hour.
	MethodHourOfDay
	// MethodRecentHours: every hour of the last RecentHours hours.
	MethodRecentHours
	// MethodSameWeekday: daily totals of the same local weekday over the
	// last Weeks weeks (EvaluateDay).
	MethodSameWeekday
	// MethodRecentDays: daily totals of the last RecentDays days
	// (EvaluateDay fallback).
	MethodRecentDays
	// MethodWindowSum: a sum over a window of hours against the sum of
	// their baselines (Persistence.Decide).
	MethodWindowSum
)

var methodNames = [...]string{
	MethodNone:        "none",
	MethodHourOfWeek:  "hour-of-week",
	MethodHourOfDay:   "hour-of-day",
	MethodRecentHours: "recent-hours",
	MethodSameWeekday: "same-weekday",
	MethodRecentDays:  "recent-days",
	MethodWindowSum:   "window-sum",
}

// String returns the method's name, e.g. "hour-of-week".
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("method(%d)", uint8(m))
}

// MarshalText makes a Method read as its name in JSON findings.
func (m Method) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// Scale factor that makes the MAD of normal data estimate its standard
// deviation.
const madScale = 1.4826

// Limits on Config depths; they bound the stack buffer Evaluate uses.
const (
	MaxWeeks       = 52
	MaxDays        = 56
	MaxRecentHours = 168
	maxRef         = MaxRecentHours
)

// Config sets the reference sets and the candidate gates. The zero value is
// usable: every zero field takes the default named in its comment. Thresholds
// are in the unit of the series, so MinExcess and AbsFloor must be chosen per
// metric (bytes, connections, ...).
type Config struct {
	// Location is the site's time zone for hours of the week and days;
	// nil means UTC.
	Location *time.Location
	// Weeks is how many past weeks feed the hour-of-week (and same-weekday)
	// reference set; default 6, at most MaxWeeks.
	Weeks int
	// MinWeeks is the least number of those points to use them; with
	// fewer the hour-of-day fallback is tried. Default 3 (Elastic's
	// "three weeks for periodic data").
	MinWeeks int
	// Days is how many past days feed the hour-of-day fallback; default 14,
	// at most MaxDays.
	Days int
	// MinDays is the least number of same-kind days for the hour-of-day
	// fallback (and of days for the recent-days daily fallback); default 3.
	MinDays int
	// RecentHours is how many past hours feed the last-resort fallback;
	// default 72, at most MaxRecentHours.
	RecentHours int
	// MinRecent is the least number of hours the last resort needs;
	// default 6. With fewer, the Method is MethodNone.
	MinRecent int
	// RecentDays is how many past days EvaluateDay falls back on; default 7.
	RecentDays int

	// Z is the least robust z-score of a candidate; default 6.
	Z float64
	// Ratio is the least x/median of a candidate; default 3.
	Ratio float64
	// MinExcess is the least x − median of a candidate; default 0, but set
	// it: it is what keeps near-zero baselines quiet.
	MinExcess float64
	// AbsFloor is the least scale σ̂ (σ̂ = max(1.4826·MAD, 0.1·median,
	// AbsFloor)); default 1 so that z is always finite.
	AbsFloor float64

	// Exclude, if set, reports buckets to leave out of every reference set,
	// typically ones that already alerted, so an incident does not become
	// its own baseline. It receives each reference bucket's start: an hour
	// start from Evaluate (see ExcludeHours), a local midnight from
	// EvaluateDay (see ExcludeDays), so hourly and daily judgements need
	// separate Configs.
	Exclude func(start time.Time) bool
}

// Validate reports out-of-range fields. Evaluate does not call it; it
// applies defaults to zero fields and clamps the rest.
func (c Config) Validate() error {
	checks := []struct {
		name      string
		v, lo, hi int
	}{
		{"weeks", c.Weeks, 0, MaxWeeks},
		{"min_weeks", c.MinWeeks, 0, MaxWeeks},
		{"days", c.Days, 0, MaxDays},
		{"min_days", c.MinDays, 0, MaxDays},
		{"recent_hours", c.RecentHours, 0, MaxRecentHours},
		{"min_recent", c.MinRecent, 0, MaxRecentHours},
		{"recent_days", c.RecentDays, 0, MaxDays},
	}
	for _, k := range checks {
		if k.v < k.lo || k.v > k.hi {
			return fmt.Errorf("baseline: %s = %d, want %d..%d", k.name, k.v, k.lo, k.hi)
		}
	}
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	pairs := []struct {
		lo, hi         string
		loVal, hiValue int
	}{
		{"min_weeks", "weeks", def(c.MinWeeks, 3), def(c.Weeks, 6)},
		{"min_days", "days", def(c.MinDays, 3), def(c.Days, 14)},
		{"min_recent", "recent_hours", def(c.MinRecent, 6), def(c.RecentHours, 72)},
	}
	for _, p := range pairs {
		if p.loVal > p.hiValue {
			return fmt.Errorf("baseline: %s %d > %s %d", p.lo, p.loVal, p.hi, p.hiValue)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"z", c.Z}, {"ratio", c.Ratio}, {"min_excess", c.MinExcess}, {"abs_floor", c.AbsFloor}} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("baseline: %s = %v, want a finite value ≥ 0", f.name, f.v)
		}
	}
	return nil
}

func clamp(v, def, hi int) int {
	if v <= 0 {
		return def
	}
	return min(v, hi)
}

func orDefault(v, def float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return def
	}
	return v
}

// withDefaults fills zero fields and clamps depths to the buffer size.
func (c Config) withDefaults() Config {
	if c.Location == nil {
		c.Location = time.UTC
	}
	c.Weeks = clamp(c.Weeks, 6, MaxWeeks)
	c.MinWeeks = min(clamp(c.MinWeeks, 3, MaxWeeks), c.Weeks)
	c.Days = clamp(c.Days, 14, MaxDays)
	c.MinDays = min(clamp(c.MinDays, 3, MaxDays), c.Days)
	c.RecentHours = clamp(c.RecentHours, 72, MaxRecentHours)
	c.MinRecent = min(clamp(c.MinRecent, 6, MaxRecentHours), c.RecentHours)
	c.RecentDays = clamp(c.RecentDays, 7, MaxDays)
	c.Z = orDefault(c.Z, 6)
	c.Ratio = orDefault(c.Ratio, 3)
	if c.MinExcess < 0 || math.IsNaN(c.MinExcess) {
		c.MinExcess = 0
	}
	c.AbsFloor = orDefault(c.AbsFloor, 1)
	return c
}

// Result is the judgement of one figure against its baseline.
type Result struct {
	// Start is the start of the judged bucket.
	Start time.Time
	// X is the judged figure.
	X float64
	// Median and MAD describe the reference set; Sigma is the floored
	// scale max(1.4826·MAD, 0.1·Median, AbsFloor).
	Median, MAD, Sigma float64
	// Z is (X − Median)/Sigma.
	Z float64
	// Ratio is X / max(Median, AbsFloor), finite even on a zero baseline
	// (the candidate gate itself compares X with Ratio·Median).
	Ratio float64
	// Excess is X − Median.
	Excess float64
	// Method names the reference set; N is how many points it had. With
	// MethodNone only Start, X and N are set.
	Method Method
	N      int
	// Candidate: Z ≥ cfg.Z, X ≥ cfg.Ratio·Median and Excess ≥ MinExcess,
	// with a Method other than MethodNone.
	Candidate bool
}

// judge fills the statistics of r from the reference values ref (which it
// reorders) and applies the gates.
func judge(r *Result, ref []float64, c *Config) {
	r.N = len(ref)
	med := median(ref)
	for i, v := range ref {
		ref[i] = math.Abs(v - med)
	}
	mad := median(ref)
	r.Median, r.MAD = med, mad
	r.Sigma = max(madScale*mad, 0.1*med, c.AbsFloor)
	gate(r, c)
}

// gate computes the derived figures and the candidate flag from X, Median
// and Sigma.
func gate(r *Result, c *Config) {
	r.Excess = r.X - r.Median
	r.Z = r.Excess / r.Sigma
	r.Ratio = r.X / max(r.Median, c.AbsFloor)
	r.Candidate = r.Method != MethodNone &&
		r.Z >= c.Z && r.X >= c.Ratio*r.Median && r.Excess >= c.MinExcess
}

// median of a small slice, which it sorts in place; 0 for an empty slice.
func median(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return 0
	}
	slices.Sort(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// collector gathers reference values into a fixed buffer.
type collector struct {
	buf [maxRef]float64
	n   int
}

func (k *collector) add(s Series, start time.Time, c *Config) {
	if k.n == len(k.buf) {
		return
	}
	if c.Exclude != nil && c.Exclude(start) {
		return
	}
	v, ok := s(start)
	if !ok || math.IsNaN(v) {
		return
	}
	k.buf[k.n] = v
	k.n++
}

func (k *collector) values() []float64 { return k.buf[:k.n] }

// weekend reports whether a local weekday is Saturday or Sunday.
func weekend(d time.Weekday) bool { return d == time.Saturday || d == time.Sunday }

// sameWallHour returns the bucket on local date (y, m, d+dayOffset) at the
// wall-clock hour and minute of the judged bucket, and false when that wall
// time does not exist there (a spring-forward gap).
func sameWallHour(y int, m time.Month, d, dayOffset, hour, minute int, loc *time.Location) (time.Time, bool) {
	t := time.Date(y, m, d+dayOffset, hour, minute, 0, 0, loc)
	if t.Hour() != hour {
		return time.Time{}, false
	}
	return t.Truncate(time.Hour), true
}

// Evaluate judges x, the value of the hourly bucket containing at, against
// the reference set chosen as follows (the first with enough points wins):
//
//  1. MethodHourOfWeek: the same local weekday and hour in each of the last
//     Weeks weeks, if at least MinWeeks of them have data;
//  2. MethodHourOfDay: the same local hour on each of the last Days days of
//     the same kind (weekday or weekend), if at least MinDays have data;
//  3. MethodRecentHours: every hour of the last RecentHours hours, if at
//     least MinRecent have data;
//  4. MethodNone otherwise (Candidate false).
//
// Reference buckets are found by local wall-clock time, so they stay on the
// same working hour across a daylight-saving change; a wall hour that does
// not exist on a reference day (spring forward) is skipped. The judged
// bucket itself is never part of its reference set. Evaluate does not
// allocate.
func Evaluate(series Series, at time.Time, x float64, cfg Config) Result {
	c := cfg.withDefaults()
	start := at.Truncate(time.Hour)
	r := Result{Start: start, X: x}
	local := start.In(c.Location)
	y, mo, d := local.Date()
	hh, mm := local.Hour(), local.Minute()

	var k collector
	for w := 1; w <= c.Weeks; w++ {
		if t, ok := sameWallHour(y, mo, d, -7*w, hh, mm, c.Location); ok {
			k.add(series, t, &c)
		}
	}
	if k.n >= c.MinWeeks {
		r.Method = MethodHourOfWeek
		judge(&r, k.values(), &c)
		return r
	}

	k.n = 0
	wkend := weekend(local.Weekday())
	for i := 1; i <= c.Days; i++ {
		t, ok := sameWallHour(y, mo, d, -i, hh, mm, c.Location)
		if !ok || weekend(t.Weekday()) != wkend {
			continue
		}
		k.add(series, t, &c)
	}
	if k.n >= c.MinDays {
		r.Method = MethodHourOfDay
		judge(&r, k.values(), &c)
		return r
	}

	k.n = 0
	for i := 1; i <= c.RecentHours; i++ {
		k.add(series, start.Add(-time.Duration(i)*time.Hour), &c)
	}
	if k.n >= c.MinRecent {
		r.Method = MethodRecentHours
		judge(&r, k.values(), &c)
		return r
	}
	r.N = k.n
	return r
}

// EvaluateRange evaluates every hourly bucket in [from, to), oldest first,
// taking each bucket's value from series itself. A bucket without data is
// returned with X 0 and MethodNone, so the slice always has one Result per
// hour, which is what Persistence.Decide expects.
func EvaluateRange(series Series, from, to time.Time, cfg Config) []Result {
	from = from.Truncate(time.Hour)
	if !to.After(from) {
		return nil
	}
	out := make([]Result, 0, int(to.Sub(from)/time.Hour)+1)
	for t := from; t.Before(to); t = t.Add(time.Hour) {
		x, ok := series(t)
		if !ok {
			out = append(out, Result{Start: t})
			continue
		}
		out = append(out, Evaluate(series, t, x, cfg))
	}
	return out
}

// ExcludeHours returns a Config.Exclude function that leaves out the hourly
// buckets containing the given instants (e.g. hours that already alerted).
// The returned function only reads its own copy and is safe for concurrent
// use.
func ExcludeHours(hours []time.Time) func(time.Time) bool {
	set := make(map[int64]struct{}, len(hours))
	for _, h := range hours {
		set[h.Truncate(time.Hour).Unix()] = struct{}{}
	}
	return func(t time.Time) bool {
		_, ok := set[t.Truncate(time.Hour).Unix()]
		return ok
	}
}

// ExcludeDays returns a Config.Exclude function for EvaluateDay that leaves
// out the local days (in loc; nil means UTC) containing the given instants.
// It is safe for concurrent use.
func ExcludeDays(days []time.Time, loc *time.Location) func(time.Time) bool {
	if loc == nil {
		loc = time.UTC
	}
	type date struct {
		y int
		m time.Month
		d int
	}
	set := make(map[date]struct{}, len(days))
	for _, t := range days {
		y, m, d := t.In(loc).Date()
		set[date{y, m, d}] = struct{}{}
	}
	return func(t time.Time) bool {
		y, m, d := t.In(loc).Date()
		_, ok := set[date{y, m, d}]
		return ok
	}
}
