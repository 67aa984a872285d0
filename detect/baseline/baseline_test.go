package baseline

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var officeCfg = Config{MinExcess: 500, AbsFloor: 10}

func TestSpikeIsTheOnlyCandidate(t *testing.T) {
	loc := mustLoad(t, "America/Chicago")
	from := time.Date(2026, 4, 6, 0, 0, 0, 0, loc) // a Monday, after the DST change
	to := from.AddDate(0, 0, 7*8)
	h := makeHours(from, to, loc, office(rand.New(rand.NewPCG(1, 2)), 0.05))
	spike := time.Date(2026, 5, 27, 14, 0, 0, 0, loc) // Wednesday afternoon of the last week
	x, _ := h.series(spike.Truncate(time.Hour))
	h.set(spike, 3*x)

	cfg := officeCfg
	cfg.Location = loc
	cfg.Ratio = 2.5 // a 3× spike against a median that noise puts near 1000
	var got []time.Time
	rs := EvaluateRange(h.series, to.AddDate(0, 0, -14), to, cfg)
	if len(rs) != 14*24 {
		t.Fatalf("EvaluateRange returned %d results, want %d", len(rs), 14*24)
	}
	for _, r := range rs {
		if r.Method != MethodHourOfWeek || r.N != 6 {
			t.Fatalf("%v: method %v N %d, want hour-of-week with 6 points", r.Start.In(loc), r.Method, r.N)
		}
		if r.Candidate {
			got = append(got, r.Start)
		}
	}
	if len(got) != 1 || !got[0].Equal(spike) {
		t.Fatalf("candidates %v, want only %v", got, spike)
	}
	r := Evaluate(h.series, spike.Add(30*time.Minute), 3*x, cfg)
	if !r.Candidate || r.Z < 6 || r.Ratio < 2.5 || r.Excess < 500 || math.Abs(r.Median-1000) > 50 {
		t.Errorf("spike result %+v", r)
	}
	// A 2× hour fails the default Ratio 3 gate although its z is large.
	if r := Evaluate(h.series, spike, 2*x, Config{Location: loc, MinExcess: 500, AbsFloor: 10}); r.Candidate {
		t.Errorf("2× hour is a candidate under Ratio 3: %+v", r)
	}
}

func TestPersistence(t *testing.T) {
	loc := mustLoad(t, "America/Chicago")
	from := time.Date(2026, 4, 6, 0, 0, 0, 0, loc)
	to := from.AddDate(0, 0, 7*7)
	h := makeHours(from, to, loc, office(rand.New(rand.NewPCG(3, 4)), 0.05))
	cfg := officeCfg
	cfg.Location = loc
	cfg.Ratio = 2.5
	var p Persistence

	// One noisy hour: a candidate, but no decision fires.
	noisy := time.Date(2026, 5, 19, 15, 0, 0, 0, loc) // Tuesday
	h.set(noisy, 3200)
	// Three hot hours in a row on Thursday: fires on the second.
	for i := range 3 {
		h.set(time.Date(2026, 5, 21, 10+i, 0, 0, 0, loc), 3300)
	}
	// A quiet exfiltration: nights at 4× (200 instead of 50) for 12 hours,
	// each hour under MinExcess, the sum well over it.
	for i := range 12 {
		h.set(time.Date(2026, 5, 20, 19, 0, 0, 0, loc).Add(time.Duration(i)*time.Hour), 200)
	}

	start := time.Date(2026, 5, 18, 0, 0, 0, 0, loc)
	rs := EvaluateRange(h.series, start, to, cfg)
	type fire struct {
		at   string
		rule Rule
	}
	var fires []fire
	var cands []string
	for i := range rs {
		if rs[i].Candidate {
			cands = append(cands, rs[i].Start.In(loc).Format("Mon 15"))
		}
		if d := p.Decide(rs[:i+1], cfg); d.Fire {
			fires = append(fires, fire{rs[i].Start.In(loc).Format("Mon 15"), d.Rule})
		}
	}
	wantCands := "Tue 15,Thu 10,Thu 11,Thu 12"
	if got := strings.Join(cands, ","); got != wantCands {
		t.Errorf("candidates %s, want %s", got, wantCands)
	}
	// k-of-m fires on Thu 11 and 12 (2 and 3 of the last 3) and Thu 13
	// (Thu 11 and 12 still in the last 3). The night window fires by Thu 06,
	// when the window holds all 12 raised night hours; later hours may fire
	// too while the window still holds enough of them, so only these are
	// pinned down.
	got := map[string]Rule{}
	for _, f := range fires {
		got[f.at] = f.rule
	}
	if _, ok := got["Tue 15"]; ok {
		t.Errorf("one noisy hour fired: %v", fires)
	}
	for _, at := range []string{"Thu 11", "Thu 12", "Thu 13"} {
		if got[at] != RuleKOfM {
			t.Errorf("%s: rule %v, want k-of-m (fires %v)", at, got[at], fires)
		}
	}
	if got["Thu 10"] != RuleNone {
		t.Errorf("first hot hour fired alone: %v", got["Thu 10"])
	}
	if got["Thu 06"] != RuleWindow {
		t.Errorf("night exfiltration: Thu 06 rule %v, want window (fires %v)", got["Thu 06"], fires)
	}
	if got["Wed 23"] != RuleNone {
		t.Errorf("window fired before it held the excess: %v", got["Wed 23"])
	}

	// Window details for the night.
	end := 0
	for i, r := range rs {
		if r.Start.Equal(time.Date(2026, 5, 21, 6, 0, 0, 0, loc)) {
			end = i
		}
	}
	d := p.Decide(rs[:end+1], cfg)
	w := d.Window
	if w.Method != MethodWindowSum || w.N != 12 || math.Abs(w.X-2400) > 1e-9 || w.Median > 700 || !w.Candidate {
		t.Errorf("night window %+v", w)
	}
	// The window rule can be disabled.
	if d := (Persistence{Window: -1}).Decide(rs[:end+1], cfg); d.Fire || d.Window.Method != MethodNone {
		t.Errorf("disabled window still decided: %+v", d)
	}
	// A window with an hour lacking a baseline is not judged.
	part := append([]Result(nil), rs[end-11:end+1]...)
	part[3] = Result{Start: part[3].Start}
	if w := WindowSum(part, cfg); w.Method != MethodNone || w.Candidate {
		t.Errorf("window with a gap judged: %+v", w)
	}
}

func TestFallbacks(t *testing.T) {
	loc := mustLoad(t, "Europe/Paris")
	tue := time.Date(2026, 6, 16, 10, 0, 0, 0, loc) // Tuesday 10:00
	sat := time.Date(2026, 6, 20, 10, 0, 0, 0, loc) // Saturday 10:00
	pattern := office(nil, 0)
	tests := []struct {
		name    string
		first   time.Time // history starts here (local)
		at      time.Time
		method  Method
		n       int
		median  float64
		maxBack int
	}{
		{"ten weeks", tue.AddDate(0, 0, -70), tue, MethodHourOfWeek, 6, 1000, 0},
		{"two weeks: weekday hours", tue.AddDate(0, 0, -16), tue, MethodHourOfDay, 10, 1000, 0},
		{"two weeks: weekend hours", sat.AddDate(0, 0, -16), sat, MethodHourOfDay, 4, 30, 0},
		// Monday and Tuesday 00:00–09:00 of history: 2 same-hour weekdays, so
		// every hour of the (up to 72) past hours: 34 of them.
		{"two days", time.Date(2026, 6, 15, 0, 0, 0, 0, loc), time.Date(2026, 6, 16, 10, 0, 0, 0, loc).Add(24 * time.Hour), MethodRecentHours, 58, 50, 0},
		{"three hours", tue.Add(-3 * time.Hour), tue, MethodNone, 3, 0, 0},
		{"nothing", tue, tue, MethodNone, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := makeHours(tt.first, tt.at, loc, pattern)
			r := Evaluate(h.series, tt.at, 1e9, Config{Location: loc, MinExcess: 500, AbsFloor: 10})
			if r.Method != tt.method || r.N != tt.n || r.Median != tt.median {
				t.Fatalf("got method %v N %d median %v, want %v %d %v", r.Method, r.N, r.Median, tt.method, tt.n, tt.median)
			}
			if r.Candidate != (tt.method != MethodNone) {
				t.Errorf("candidate %v for a huge x under %v", r.Candidate, r.Method)
			}
		})
	}
	names := []string{}
	for m := MethodNone; m <= MethodWindowSum+1; m++ {
		names = append(names, m.String())
	}
	want := "none,hour-of-week,hour-of-day,recent-hours,same-weekday,recent-days,window-sum,method(7)"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("method names %s, want %s", got, want)
	}
	b, err := json.Marshal(struct{ M Method }{MethodHourOfDay})
	if err != nil || string(b) != `{"M":"hour-of-day"}` {
		t.Errorf("json %s %v", b, err)
	}
}

func TestZeroBaselinePrinter(t *testing.T) {
	at := time.Date(2026, 6, 17, 14, 0, 0, 0, time.UTC)
	h := makeHours(at.AddDate(0, 0, -42), at, time.UTC, func(time.Time) float64 { return 0 })
	const tiny = 5000 // bytes: a status page, a firmware ping
	tests := []struct {
		name string
		cfg  Config
		cand bool
	}{
		{"abs floor 1 MiB", Config{AbsFloor: 1 << 20}, false},
		{"min excess 200 MB", Config{MinExcess: 200e6}, false},
		{"both", Config{AbsFloor: 1 << 20, MinExcess: 200e6}, false},
		// Without either, the zero baseline turns 5 kB into a 5000σ event:
		// this is what the floors are for.
		{"no floors", Config{}, true},
	}
	for _, tt := range tests {
		r := Evaluate(h.series, at, tiny, tt.cfg)
		if r.Candidate != tt.cand || r.Median != 0 || r.MAD != 0 || math.IsInf(r.Z, 0) || math.IsInf(r.Ratio, 0) {
			t.Errorf("%s: %+v, want candidate %v with finite Z and Ratio", tt.name, r, tt.cand)
		}
	}
	// 300 MB against the same baseline does pass every gate.
	if r := Evaluate(h.series, at, 300e6, Config{AbsFloor: 1 << 20, MinExcess: 200e6}); !r.Candidate {
		t.Errorf("300 MB from a silent printer not a candidate: %+v", r)
	}
}

// TestDSTChicago checks that references follow the local wall clock across
// both 2026 changes in America/Chicago (8 March, 1 November): a sharp 08:00
// step would be a 20× "spike" if hours were matched 168 UTC hours apart.
func TestDSTChicago(t *testing.T) {
	loc := mustLoad(t, "America/Chicago")
	pattern := office(nil, 0)
	cfg := Config{Location: loc, MinExcess: 100, AbsFloor: 10}

	check := func(t *testing.T, weekStart time.Time) {
		h := makeHours(weekStart.AddDate(0, 0, -7*7), weekStart.AddDate(0, 0, 8), loc, pattern)
		n := 0
		for _, r := range EvaluateRange(h.series, weekStart, weekStart.AddDate(0, 0, 7), cfg) {
			n++
			local := r.Start.In(loc)
			if r.Candidate || r.Median != pattern(local) || r.Method != MethodHourOfWeek {
				t.Errorf("%v: %+v, want median %v and no candidate", local, r, pattern(local))
			}
		}
		if want := int(weekStart.AddDate(0, 0, 7).Sub(weekStart) / time.Hour); n != want {
			t.Errorf("evaluated %d hours", n)
		}
	}
	t.Run("spring forward week", func(t *testing.T) { check(t, time.Date(2026, 3, 8, 0, 0, 0, 0, loc)) })
	t.Run("week after", func(t *testing.T) { check(t, time.Date(2026, 3, 9, 0, 0, 0, 0, loc)) })
	t.Run("fall back week", func(t *testing.T) { check(t, time.Date(2026, 11, 1, 0, 0, 0, 0, loc)) })
	t.Run("week after fall back", func(t *testing.T) { check(t, time.Date(2026, 11, 2, 0, 0, 0, 0, loc)) })

	h := makeHours(time.Date(2026, 1, 1, 0, 0, 0, 0, loc), time.Date(2026, 12, 1, 0, 0, 0, 0, loc), loc, pattern)
	// Sunday 15 March 02:00 CDT: 8 March had no 02:00, so one point fewer.
	if r := Evaluate(h.series, time.Date(2026, 3, 15, 2, 0, 0, 0, loc), 30, cfg); r.N != 5 {
		t.Errorf("15 Mar 02:00: N %d, want 5", r.N)
	}
	// Monday 9 March 08:00 CDT is 13:00 UTC; 168 h earlier is 07:00 CST.
	// Wall-clock matching gives the busy median.
	if r := Evaluate(h.series, time.Date(2026, 3, 9, 8, 0, 0, 0, loc), 1000, cfg); r.Median != 1000 || r.Candidate {
		t.Errorf("9 Mar 08:00: %+v", r)
	}
	// Both 01:00 buckets of 1 November are judged against the same hour.
	first := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC) // 01:00 CDT
	second := first.Add(time.Hour)                        // 01:00 CST
	if first.In(loc).Hour() != 1 || second.In(loc).Hour() != 1 {
		t.Fatalf("test setup: %v %v", first.In(loc), second.In(loc))
	}
	r1 := Evaluate(h.series, first, 30, cfg)
	r2 := Evaluate(h.series, second, 30, cfg)
	if r1.N != 6 || r2.N != 6 || r1.Median != r2.Median {
		t.Errorf("fall-back 01:00 twice: %+v / %+v", r1, r2)
	}
}

func TestExcludeHours(t *testing.T) {
	at := time.Date(2026, 6, 17, 14, 0, 0, 0, time.UTC)
	h := makeHours(at.AddDate(0, 0, -42), at, time.UTC, func(time.Time) float64 { return 100 })
	// The same incident two weeks running made two reference points huge.
	alerted := []time.Time{at.AddDate(0, 0, -7).Add(10 * time.Minute), at.AddDate(0, 0, -14)}
	for _, a := range alerted {
		h.set(a, 1e6)
	}
	cfg := Config{MinExcess: 50, Z: 3, Ratio: 2}
	// Two bad weeks of six do not move the median; exclusion just drops them.
	with := Evaluate(h.series, at, 1e6, Config{MinExcess: 50, Z: 3, Ratio: 2, Exclude: ExcludeHours(alerted)})
	without := Evaluate(h.series, at, 1e6, cfg)
	if with.N != 4 || without.N != 6 {
		t.Errorf("N with exclusion %d (want 4), without %d (want 6)", with.N, without.N)
	}
	if with.Median != 100 || with.MAD != 0 || !with.Candidate {
		t.Errorf("with exclusion: %+v", with)
	}
	// Now every reference week had the incident: it has become the baseline.
	for i := 3; i <= 6; i++ {
		h.set(at.AddDate(0, 0, -7*i), 1e6)
	}
	all := []time.Time{}
	for i := 1; i <= 6; i++ {
		all = append(all, at.AddDate(0, 0, -7*i))
	}
	if r := Evaluate(h.series, at, 1e6, cfg); r.Candidate {
		t.Errorf("recurring incident is its own baseline, yet candidate: %+v", r)
	}
	cfg.Exclude = ExcludeHours(all[:5])
	r := Evaluate(h.series, at, 1e6, cfg)
	// Only week 6 is left (1 point): fewer than MinWeeks, so the hour-of-day
	// fallback over the clean weekdays of the last 14 days takes over.
	if r.Method != MethodHourOfDay || r.Median != 100 || !r.Candidate {
		t.Errorf("after excluding the incidents: %+v", r)
	}
}

func TestValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	bad := []struct {
		cfg  Config
		want string
	}{
		{Config{Weeks: -1}, "weeks"},
		{Config{Weeks: MaxWeeks + 1}, "weeks"},
		{Config{Weeks: 4, MinWeeks: 5}, "min_weeks 5 > weeks 4"},
		{Config{Days: 2}, "min_days 3 > days 2"},
		{Config{RecentHours: MaxRecentHours + 1}, "recent_hours"},
		{Config{Z: math.NaN()}, "z ="},
		{Config{MinExcess: -1}, "min_excess"},
	}
	for _, b := range bad {
		err := b.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Validate(%+v) = %v, want error mentioning %q", b.cfg, err, b.want)
		}
	}
}

func TestEvaluateNoAllocs(t *testing.T) {
	loc := mustLoad(t, "America/Chicago")
	at := time.Date(2026, 6, 17, 14, 0, 0, 0, loc)
	h := makeHours(at.AddDate(0, 0, -60), at, loc, office(rand.New(rand.NewPCG(5, 6)), 0.05))
	short := makeHours(at.Add(-40*time.Hour), at, loc, office(nil, 0))
	cfg := Config{Location: loc, MinExcess: 500}
	for _, s := range []Series{h.series, short.series} {
		if a := testing.AllocsPerRun(200, func() { Evaluate(s, at, 3000, cfg) }); a != 0 {
			t.Errorf("Evaluate allocates %v times per call", a)
		}
	}
}
