package collector

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// BenchmarkIngest measures the whole replay path on generated files: read, parse, aggregate and
// flush to a real buntdb file.
var ingestFlush = 10 * time.Second

func BenchmarkIngest(b *testing.B) {
	dir := b.TempDir()
	files, err := scenario.WriteDir(b.Context(), scenario.Config{Seed: 3, Days: 2, LinesPerDay: 200_000}, dir)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := policies.Load(files.Policy)
	if err != nil {
		b.Fatal(err)
	}
	lines := files.Result.Lines[0] + files.Result.Lines[1]
	b.ReportAllocs()
	var total time.Duration
	for b.Loop() {
		st, err := stats.Open(b.Context(), filepath.Join(b.TempDir(), "data"), stats.Options{Now: func() time.Time { return files.Result.End }})
		if err != nil {
			b.Fatal(err)
		}
		p := NewPipeline(PipelineOptions{Config: cfg, Store: st, Now: func() time.Time { return files.Result.End }, FlushEvery: ingestFlush})
		began := time.Now()
		res, err := Ingest(b.Context(), []string{files.ASA, files.Routers}, nil, p, nil)
		total += time.Since(began)
		if err != nil || res.Lines != lines {
			b.Fatalf("ingested %d of %d lines: %v", res.Lines, lines, err)
		}
		m := st.Metrics()
		b.Logf("flushes %d, keys written %d, keys %d, pipeline %+v", m.Flushes, m.KeysWritten, m.Keys, p.Status().Agg)
		st.Close()
	}
	b.ReportMetric(float64(lines)*float64(b.N)/total.Seconds(), "lines/s")
}
