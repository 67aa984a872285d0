package report

import (
	"io"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/scenario"
)

func BenchmarkBuild(b *testing.B) {
	f := scenarioFixture(b)
	at := dayEnd(f.incident(b, scenario.KindExfiltration).Start, f.cfg.Location())
	src := Sources{Store: f.st, Config: f.cfg}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(b.Context(), src, Last(at, 24*time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteHTML(b *testing.B) {
	f := scenarioFixture(b)
	at := dayEnd(f.incident(b, scenario.KindExfiltration).Start, f.cfg.Location())
	d, err := Build(b.Context(), Sources{Store: f.st, Config: f.cfg}, Last(at, 24*time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.WriteHTML(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
