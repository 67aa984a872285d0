package datapath

import (
	"testing"
	"time"
)

// BenchmarkDecide is one verdict on the test config (about 20 entries
// before the implicit deny, a global ACL after it).
func BenchmarkDecide(b *testing.B) {
	m := mustModel(b, testConfig)
	at := time.Date(2025, 3, 12, 16, 0, 0, 0, time.UTC)
	f := tcp("outside", "198.51.100.8", "10.1.20.40", 6667)
	b.ReportAllocs()
	for b.Loop() {
		if v := m.Decide(f, at, nil); v.Action != Drop {
			b.Fatal(v)
		}
	}
}

// BenchmarkNew compiles the test config.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		mustModel(b, testConfig)
	}
}
