package baseline

import (
	"math/rand/v2"
	"testing"
	"time"
)

// hours is a slice-backed hourly Series: vals[i] is the bucket first+i·h;
// buckets outside the slice have no data.
type hours struct {
	first time.Time
	vals  []float64
}

func (h *hours) series(t time.Time) (float64, bool) {
	if t.Before(h.first) {
		return 0, false
	}
	i := int(t.Sub(h.first) / time.Hour)
	if i >= len(h.vals) {
		return 0, false
	}
	return h.vals[i], true
}

// set overrides the bucket containing t.
func (h *hours) set(t time.Time, v float64) {
	h.vals[int(t.Truncate(time.Hour).Sub(h.first)/time.Hour)] = v
}

// makeHours fills [from, to) from f, which receives each bucket's start in loc.
func makeHours(from, to time.Time, loc *time.Location, f func(local time.Time) float64) *hours {
	from = from.Truncate(time.Hour)
	h := &hours{first: from}
	for t := from; t.Before(to); t = t.Add(time.Hour) {
		h.vals = append(h.vals, f(t.In(loc)))
	}
	return h
}

// office is a working-hours pattern: weekdays 08–18 busy, nights low,
// weekends quieter still. jitter is a relative noise amplitude.
func office(rng *rand.Rand, jitter float64) func(time.Time) float64 {
	return func(t time.Time) float64 {
		v := 50.0
		switch {
		case weekend(t.Weekday()):
			v = 30
		case t.Hour() >= 8 && t.Hour() < 18:
			v = 1000
		}
		if rng != nil {
			v *= 1 + jitter*(2*rng.Float64()-1)
		}
		return v
	}
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}
