package baseline

import (
	"math"
	"testing"
	"time"
)

func TestDailyFromHourlyDST(t *testing.T) {
	loc := mustLoad(t, "America/Chicago")
	h := makeHours(time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 31, 0, 0, 0, 0, loc), loc,
		func(time.Time) float64 { return 1 })
	daily := DailyFromHourly(h.series, loc)
	tests := []struct {
		day  time.Time
		want float64
	}{
		{time.Date(2026, 3, 8, 15, 0, 0, 0, loc), 23}, // spring forward
		{time.Date(2026, 3, 9, 0, 0, 0, 0, loc), 24},
		{time.Date(2026, 11, 1, 23, 59, 0, 0, loc), 25}, // fall back
	}
	for _, tt := range tests {
		if v, ok := daily(tt.day); !ok || v != tt.want {
			t.Errorf("day of %v: %v %v, want %v", tt.day, v, ok, tt.want)
		}
	}
	if _, ok := daily(time.Date(2025, 12, 30, 0, 0, 0, 0, loc)); ok {
		t.Error("a day before the series has data")
	}
	// A half-hour zone: each local day still sums exactly 24 buckets.
	kol := mustLoad(t, "Asia/Kolkata")
	hk := makeHours(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), kol,
		func(time.Time) float64 { return 1 })
	if v, ok := DailyFromHourly(hk.series, kol)(time.Date(2026, 1, 10, 12, 0, 0, 0, kol)); !ok || v != 24 {
		t.Errorf("Kolkata day: %v %v, want 24", v, ok)
	}
}

func TestEvaluateDay(t *testing.T) {
	loc := mustLoad(t, "America/Chicago")
	end := time.Date(2026, 6, 22, 0, 0, 0, 0, loc) // a Monday
	h := makeHours(end.AddDate(0, 0, -60), end.AddDate(0, 0, 1), loc, office(nil, 0))
	daily := DailyFromHourly(h.series, loc)
	// Weekday total: 10·1000 + 14·50 = 10700; weekend: 24·30 = 720.
	cfg := Config{Location: loc, MinExcess: 5000, AbsFloor: 100}
	r := EvaluateDay(daily, end.Add(13*time.Hour), 10700, cfg)
	if r.Method != MethodSameWeekday || r.N != 6 || r.Median != 10700 || r.Candidate || !r.Start.Equal(end) {
		t.Errorf("ordinary Monday: %+v", r)
	}
	// A Saturday with a weekday's traffic is a candidate against Saturdays.
	sat := end.AddDate(0, 0, -2)
	if r := EvaluateDay(daily, sat, 10700, cfg); r.Method != MethodSameWeekday || r.Median != 720 || !r.Candidate {
		t.Errorf("busy Saturday: %+v", r)
	}
	// Ten days of history: fewer than 3 past Mondays, fall back on the last
	// 7 days (5 weekdays and 2 weekend days: median 10700).
	short := makeHours(end.AddDate(0, 0, -10), end.AddDate(0, 0, 1), loc, office(nil, 0))
	r = EvaluateDay(DailyFromHourly(short.series, loc), end, 40000, cfg)
	if r.Method != MethodRecentDays || r.N != 7 || r.Median != 10700 || !r.Candidate {
		t.Errorf("short history: %+v", r)
	}
	// A busy Monday that already alerted is left out of later judgements.
	h.set(end.AddDate(0, 0, -7).Add(10*time.Hour), 1e6)
	cfg.Exclude = ExcludeDays([]time.Time{end.AddDate(0, 0, -7).Add(23 * time.Hour)}, loc)
	if r := EvaluateDay(daily, end, 10700, cfg); r.N != 5 || r.Median != 10700 {
		t.Errorf("Monday after an excluded Monday: %+v", r)
	}
	cfg.Exclude = nil
	two := makeHours(end.AddDate(0, 0, -2), end.AddDate(0, 0, 1), loc, office(nil, 0))
	if r := EvaluateDay(DailyFromHourly(two.series, loc), end, 40000, cfg); r.Method != MethodNone || r.N != 2 || r.Candidate {
		t.Errorf("two days: %+v", r)
	}
}

func TestEWMA(t *testing.T) {
	e := NewEWMA(3) // α = 0.5
	if e.Alpha != 0.5 {
		t.Fatalf("alpha %v", e.Alpha)
	}
	e.Update(10)
	if e.Mean != 10 || e.Var != 0 || e.N != 1 {
		t.Fatalf("after 10: %+v", e)
	}
	e.Update(20) // δ 10: mean 15, var 0.5·(0 + 0.5·100) = 25
	if e.Mean != 15 || e.Var != 25 {
		t.Fatalf("after 20: %+v", e)
	}
	e.Update(20) // δ 5: mean 17.5, var 0.5·(25 + 0.5·25) = 18.75
	if e.Mean != 17.5 || e.Var != 18.75 || e.N != 3 {
		t.Fatalf("after 20, 20: %+v", e)
	}
	e.Update(math.NaN())
	if e.N != 3 {
		t.Errorf("NaN counted")
	}
	if z := e.Z(17.5+2*math.Sqrt(18.75), 0); math.Abs(z-2) > 1e-12 {
		t.Errorf("Z = %v, want 2", z)
	}
	// The floor keeps a flat history from dividing by zero.
	flat := NewEWMA(7)
	for range 10 {
		flat.Update(0)
	}
	if z := flat.Z(5, 1); z != 5 {
		t.Errorf("flat Z = %v, want 5", z)
	}
	if z := flat.Z(5, 0); z != 0 {
		t.Errorf("flat Z without floor = %v, want 0", z)
	}
}

func TestEWMADays(t *testing.T) {
	loc := mustLoad(t, "Europe/Paris")
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 30)
	// Daily totals drift from 100 to 200 halfway through.
	days := Series(func(d time.Time) (float64, bool) {
		if d.Day() == 10 {
			return 0, false // missing day: skipped
		}
		if d.Before(from.AddDate(0, 0, 15)) {
			return 100, true
		}
		return 200, true
	})
	e := EWMADays(days, from, to, loc, 7, nil)
	if e.N != 29 || e.Mean < 195 || e.Mean > 200 {
		t.Errorf("drifted EWMA %+v", e)
	}
	early := EWMADays(days, from, from.AddDate(0, 0, 15), loc, 7, nil)
	if early.Mean != 100 || early.Var != 0 || early.N != 14 {
		t.Errorf("flat EWMA %+v", early)
	}
	if z := early.Z(200, 1); z != 10 {
		t.Errorf("drift z = %v, want 10 (0.1·mean floor)", z)
	}
	ex := EWMADays(days, from, to, loc, 7, func(d time.Time) bool { return d.Day() >= 16 })
	if ex.Mean != 100 {
		t.Errorf("excluded days still counted: %+v", ex)
	}
}
