//go:build unix

package scenario

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// BenchmarkGenerate measures generation of one busy weekday (500,000 lines) on one goroutine,
// to memory (counted and dropped) and to files.
func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Seed: 1, Days: 1, LinesPerDay: 500_000}
	b.Run("discard", func(b *testing.B) {
		benchGenerate(b, cfg, func(b *testing.B) (Writers, func()) {
			return Writers{ASA: io.Discard, Routers: io.Discard}, func() {}
		})
	})
	b.Run("file", func(b *testing.B) {
		dir := b.TempDir()
		benchGenerate(b, cfg, func(b *testing.B) (Writers, func()) {
			a, err := os.Create(filepath.Join(dir, FileASA))
			if err != nil {
				b.Fatal(err)
			}
			r, err := os.Create(filepath.Join(dir, FileRouters))
			if err != nil {
				b.Fatal(err)
			}
			return Writers{ASA: a, Routers: r}, func() { a.Close(); r.Close() }
		})
	})
}

func benchGenerate(b *testing.B, cfg Config, open func(*testing.B) (Writers, func())) {
	var lines int64
	cpu0 := cpuTime(b)
	b.ReportAllocs()
	for b.Loop() {
		w, done := open(b)
		cw := &countWriter{}
		w.ASA = io.MultiWriter(w.ASA, cw)
		w.Routers = io.MultiWriter(w.Routers, cw)
		tr, err := Generate(context.Background(), cfg, w)
		done()
		if err != nil {
			b.Fatal(err)
		}
		lines += tr.Lines[0] + tr.Lines[1]
		b.SetBytes(cw.n)
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
	// The machine may be shared: lines per second of this process's CPU time is the figure
	// that does not depend on what else runs.
	b.ReportMetric(float64(lines)/(cpuTime(b)-cpu0).Seconds(), "lines/cpu-s")
	b.ReportMetric(0, "ns/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
