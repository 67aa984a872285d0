package baseline

import (
	"math"
	"time"
)

// localMidnight returns the start of the local day containing t.
func localMidnight(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// EvaluateDay judges x, the total of the local day containing day, against
// daily totals from days, a Series keyed by local midnight (see
// DailyFromHourly). The reference set is the same weekday over the last Weeks
// weeks (MethodSameWeekday, at least MinWeeks points), else every day of the
// last RecentDays days (MethodRecentDays, at least MinDays points), else
// MethodNone. Gates and floors are those of Evaluate, in the unit of a day's
// total, so a daily Config usually needs larger MinExcess and AbsFloor than
// an hourly one.
func EvaluateDay(days Series, day time.Time, x float64, cfg Config) Result {
	c := cfg.withDefaults()
	start := localMidnight(day, c.Location)
	r := Result{Start: start, X: x}
	y, m, d := start.Date()
	var k collector
	for w := 1; w <= c.Weeks; w++ {
		k.add(days, time.Date(y, m, d-7*w, 0, 0, 0, 0, c.Location), &c)
	}
	if k.n >= c.MinWeeks {
		r.Method = MethodSameWeekday
		judge(&r, k.values(), &c)
		return r
	}
	k.n = 0
	for i := 1; i <= c.RecentDays; i++ {
		k.add(days, time.Date(y, m, d-i, 0, 0, 0, 0, c.Location), &c)
	}
	if k.n >= c.MinDays {
		r.Method = MethodRecentDays
		judge(&r, k.values(), &c)
		return r
	}
	r.N = k.n
	return r
}

// DailyFromHourly returns a daily Series over loc's days: the value of a day
// is the sum of the hourly buckets that start on that local day (23, 24 or
// 25 of them around daylight-saving changes), ok when at least one of them
// has data. Any instant within the day may be passed as the key.
func DailyFromHourly(hourly Series, loc *time.Location) Series {
	if loc == nil {
		loc = time.UTC
	}
	return func(day time.Time) (float64, bool) {
		start := localMidnight(day, loc)
		y, m, d := start.Date()
		end := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		var sum float64
		seen := false
		for t := start.Truncate(time.Hour); t.Before(end); t = t.Add(time.Hour) {
			if t.Before(start) {
				continue // a half-hour zone: this bucket starts on the day before
			}
			if v, ok := hourly(t); ok && !math.IsNaN(v) {
				sum += v
				seen = true
			}
		}
		return sum, seen
	}
}
