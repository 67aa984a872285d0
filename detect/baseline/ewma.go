package baseline

import (
	"math"
	"time"
)

// EWMA is an exponentially weighted mean and variance, for slow drift in
// daily totals where a seasonal median is too coarse. Build one with NewEWMA:
// the zero value has Alpha 0 and keeps its first value forever. Not safe for
// concurrent mutation.
type EWMA struct {
	// Alpha is the weight of each new value, 2/(span+1).
	Alpha float64
	// Mean and Var are the current estimates; N counts updates.
	Mean, Var float64
	N         int
}

// NewEWMA returns an EWMA whose weights correspond to a span of n values
// (Alpha = 2/(n+1)); n < 1 is taken as 1.
func NewEWMA(n int) EWMA {
	return EWMA{Alpha: 2 / float64(max(n, 1)+1)}
}

// Update folds in x. The first value sets the mean with zero variance; later
// ones use the incremental EW mean and variance (Finch 2009):
// δ = x − mean, mean += α·δ, var = (1−α)·(var + α·δ²).
func (e *EWMA) Update(x float64) {
	if math.IsNaN(x) {
		return
	}
	e.N++
	if e.N == 1 {
		e.Mean, e.Var = x, 0
		return
	}
	delta := x - e.Mean
	e.Mean += e.Alpha * delta
	e.Var = (1 - e.Alpha) * (e.Var + e.Alpha*delta*delta)
}

// Std is the EW standard deviation.
func (e EWMA) Std() float64 { return math.Sqrt(e.Var) }

// Z is (x − Mean) / max(Std, floor, 0.1·|Mean|), finite whenever floor > 0.
func (e EWMA) Z(x, floor float64) float64 {
	s := max(e.Std(), floor, 0.1*math.Abs(e.Mean))
	if s == 0 {
		return 0
	}
	return (x - e.Mean) / s
}

// EWMADays folds the daily totals of days (a daily Series, see
// DailyFromHourly) for each local day from the day containing from up to,
// not including, the day containing to; days without data are skipped, and
// so are days for which exclude (if not nil) returns true.
func EWMADays(days Series, from, to time.Time, loc *time.Location, span int, exclude func(day time.Time) bool) EWMA {
	if loc == nil {
		loc = time.UTC
	}
	e := NewEWMA(span)
	start, end := localMidnight(from, loc), localMidnight(to, loc)
	y, m, d := start.Date()
	for i := 0; ; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		if !day.Before(end) {
			break
		}
		if exclude != nil && exclude(day) {
			continue
		}
		if v, ok := days(day); ok {
			e.Update(v)
		}
	}
	return e
}
