package detect

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// BenchmarkDetect30Days runs every detector over the last day of the shared 30-day scenario
// store (without storing findings).
func BenchmarkDetect30Days(b *testing.B) {
	f := loadScenario(b)
	benchRun(b, f.env(), f.truth.End)
}

// BenchmarkDetectMeasureDir is the same over FIREBREAK_MEASURE_DIR/data (a default-volume
// `firebreak gen` run filled by TestIngestForMeasurement), at FIREBREAK_MEASURE_AT (RFC 3339).
func BenchmarkDetectMeasureDir(b *testing.B) {
	dir, atS := os.Getenv("FIREBREAK_MEASURE_DIR"), os.Getenv("FIREBREAK_MEASURE_AT")
	if dir == "" || atS == "" {
		b.Skip("FIREBREAK_MEASURE_DIR and FIREBREAK_MEASURE_AT not set")
	}
	at, err := time.Parse(time.RFC3339, atS)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := policies.Load(filepath.Join(dir, "site.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	st, err := stats.Open(b.Context(), filepath.Join(dir, "data"), stats.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchRun(b, &Env{Stats: st, Policy: cfg}, at)
}

func benchRun(b *testing.B, env *Env, at time.Time) {
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		res, err := Run(b.Context(), env, at, 24*time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		n = len(res.Findings)
	}
	b.ReportMetric(float64(n), "findings")
}
