package collector

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// BenchmarkIngest measures the whole replay path on generated files: read, parse, aggregate and
// flush to a real buntdb file, with the policy's flush interval as `firebreak ingest` uses it.
// Besides wall-clock lines/s it reports lines per CPU second (the machine is shared).
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
	var cpu int64
	for b.Loop() {
		st, err := stats.Open(b.Context(), filepath.Join(b.TempDir(), "data"), stats.Options{Now: func() time.Time { return files.Result.End }})
		if err != nil {
			b.Fatal(err)
		}
		p := NewPipeline(PipelineOptions{Config: cfg, Store: st, Now: func() time.Time { return files.Result.End }, FlushEvery: benchFlush(cfg)})
		began, cpu0 := time.Now(), cpuTime()
		res, err := Ingest(b.Context(), []string{files.ASA, files.Routers}, nil, p, nil)
		total += time.Since(began)
		cpu += cpuTime() - cpu0
		if err != nil || res.Lines != lines {
			b.Fatalf("ingested %d of %d lines: %v", res.Lines, lines, err)
		}
		m := st.Metrics()
		b.Logf("lines %d, flushes %d, keys written %d, keys %d, pipeline %+v", lines, m.Flushes, m.KeysWritten, m.Keys, p.Status().Agg)
		st.Close()
	}
	b.ReportMetric(float64(lines)*float64(b.N)/total.Seconds(), "lines/s")
	b.ReportMetric(float64(lines)*float64(b.N)/(float64(cpu)/1e9), "lines/cpu-s")
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkIngestDir ingests the generator's files in FIREBREAK_INGEST_DIR (site.yaml,
// asa1.log, routers.log) into a fresh store, for measurements on larger runs than
// BenchmarkIngest's. It reports lines/s, lines per CPU second and the keys in the store.
func BenchmarkIngestDir(b *testing.B) {
	dir := os.Getenv("FIREBREAK_INGEST_DIR")
	if dir == "" {
		b.Skip("set FIREBREAK_INGEST_DIR to a folder written by firebreak gen")
	}
	cfg, err := policies.Load(filepath.Join(dir, "site.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		st, err := stats.Open(b.Context(), filepath.Join(b.TempDir(), "data"), stats.Options{})
		if err != nil {
			b.Fatal(err)
		}
		p := NewPipeline(PipelineOptions{Config: cfg, Store: st, FlushEvery: time.Duration(cfg.Collector.FlushInterval)})
		began, cpu0 := time.Now(), cpuTime()
		res, err := Ingest(b.Context(), []string{filepath.Join(dir, "asa1.log"), filepath.Join(dir, "routers.log")}, nil, p, nil)
		el, cpu := time.Since(began), cpuTime()-cpu0
		if err != nil {
			b.Fatal(err)
		}
		m := st.Metrics()
		b.ReportMetric(float64(res.Lines)/el.Seconds(), "lines/s")
		b.ReportMetric(float64(res.Lines)/(float64(cpu)/1e9), "lines/cpu-s")
		b.ReportMetric(float64(m.Keys), "keys")
		b.Logf("%d lines, %d flushes, %d keys written, %d keys, file %d bytes", res.Lines, m.Flushes, m.KeysWritten, m.Keys, m.FileSize)
		if name := os.Getenv("FIREBREAK_HEAP_PROFILE"); name != "" { // what stays live with the store open
			runtime.GC()
			f, err := os.Create(name)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.WriteHeapProfile(f); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
		st.Close()
	}
}

// benchFlush is the flush interval of the ingest benchmarks: the policy's, or
// FIREBREAK_FLUSH_EVERY.
func benchFlush(cfg *policies.Config) time.Duration {
	if d, err := time.ParseDuration(os.Getenv("FIREBREAK_FLUSH_EVERY")); err == nil {
		return d
	}
	return time.Duration(cfg.Collector.FlushInterval)
}
