package baseline_test

import (
	"fmt"
	"time"

	"github.com/firebreak-dev/firebreak/detect/baseline"
)

func ExampleEvaluate() {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Six weeks of a host that sends 100 MB every hour.
	at := time.Date(2026, 6, 17, 14, 0, 0, 0, loc)
	first := at.AddDate(0, 0, -42)
	series := func(start time.Time) (float64, bool) {
		if start.Before(first) || !start.Before(at) {
			return 0, false // no data: before first seen, or not yet in
		}
		return 100e6, true
	}
	cfg := baseline.Config{Location: loc, MinExcess: 200e6, AbsFloor: 1e6}
	r := baseline.Evaluate(series, at, 900e6, cfg)
	fmt.Printf("%v N=%d median=%.0f z=%.0f candidate=%v\n", r.Method, r.N, r.Median, r.Z, r.Candidate)
	// Output: hour-of-week N=6 median=100000000 z=80 candidate=true
}
