package baseline

import (
	"math/rand/v2"
	"testing"
	"time"
)

var sinkResult Result

func BenchmarkEvaluate(b *testing.B) {
	loc := mustLoad(b, "America/Chicago")
	at := time.Date(2026, 6, 17, 14, 0, 0, 0, loc)
	cases := []struct {
		name  string
		first time.Time
	}{
		{"hour-of-week", at.AddDate(0, 0, -60)},
		{"hour-of-day", at.AddDate(0, 0, -16)},
		{"recent-hours", at.Add(-60 * time.Hour)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := makeHours(c.first, at, loc, office(rand.New(rand.NewPCG(7, 8)), 0.05))
			cfg := Config{Location: loc, MinExcess: 500, AbsFloor: 10}
			b.ReportAllocs()
			for b.Loop() {
				sinkResult = Evaluate(h.series, at, 3000, cfg)
			}
		})
	}
}

// BenchmarkDetect30Days400Hosts is the volume detector's computation over the
// issue's budget: 400 hosts, every hour of 30 days judged (with 5 weeks of
// history before them) and a persistence decision per hour. One op is the
// whole run; the series are in memory, so store reads are not included.
func BenchmarkDetect30Days400Hosts(b *testing.B) {
	loc := mustLoad(b, "America/Chicago")
	end := time.Date(2026, 6, 29, 0, 0, 0, 0, loc)
	start := end.AddDate(0, 0, -30)
	hosts := make([]*hours, 400)
	for i := range hosts {
		hosts[i] = makeHours(start.AddDate(0, 0, -35), end, loc, office(rand.New(rand.NewPCG(uint64(i), 9)), 0.1))
	}
	cfg := Config{Location: loc, MinExcess: 500, AbsFloor: 10}
	var p Persistence
	b.ReportAllocs()
	fired := 0
	for b.Loop() {
		fired = 0
		for _, h := range hosts {
			rs := EvaluateRange(h.series, start, end, cfg)
			for i := range rs {
				if p.Decide(rs[:i+1], cfg).Fire {
					fired++
				}
			}
		}
	}
	b.ReportMetric(float64(fired), "fired")
}
