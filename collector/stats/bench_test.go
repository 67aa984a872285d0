package stats

import (
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

func BenchmarkAdd(b *testing.B) {
	evs := mixedEvents(100_000)
	a := NewAggregator(siteCls{}, AggOptions{})
	for i := range evs {
		a.Add(&evs[i])
	}
	b.ReportAllocs()
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		a.Add(&evs[i])
		i++
		if i == len(evs) {
			i = 0
		}
	}
	// The machine is shared: process CPU time per event is steadier than wall time.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkFlush flushes an aggregator holding about 50,000 pending keys into a store that
// already holds the same keys (the steady state: read, add, write).
func BenchmarkFlush(b *testing.B) {
	st := openStore(b, b.TempDir(), t0.Add(24*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{MaxPendingKeys: 1 << 20})
	evs := mixedEvents(200_000)
	fill := func() {
		for i := range evs {
			a.Add(&evs[i])
		}
	}
	fill()
	keys := a.Pending()
	flush(b, a, st)
	b.ReportAllocs()
	var written int
	var cpu int64
	for b.Loop() {
		b.StopTimer()
		fill()
		b.StartTimer()
		c := cpuTime()
		fs := flush(b, a, st)
		cpu += cpuTime() - c
		written = fs.Keys
	}
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(written), "cpu-ns/key")
	b.ReportMetric(float64(keys), "pending-keys")
	b.ReportMetric(float64(written), "keys-written")
}

// BenchmarkQuery30Days400Hosts reads what the detectors read over 30 days of 400 hosts, each
// active every hour with two external peers and two ports.
func BenchmarkQuery30Days400Hosts(b *testing.B) {
	ctx := context.Background()
	end := t0
	start := end.Add(-30 * 24 * time.Hour)
	st := openStore(b, b.TempDir(), end)
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{MaxPendingKeys: 1 << 22})
	for h := start; h.Before(end); h = h.Add(time.Hour) {
		for i := range 400 {
			host := ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{10, 2, byte(i / 200), byte(i % 200)}), Port: 50000, Iface: "inside"}
			for j := range 2 {
				peer := ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte((i + j) % 40)}), Port: []uint16{443, 25}[j], Iface: "outside"}
				ev := built(h.Add(time.Duration(i)*time.Second), host, peer)
				a.Add(&ev)
				ev = teardown(h.Add(time.Duration(i)*time.Second), host, peer, 1000)
				a.Add(&ev)
			}
		}
		if h.Hour() == 23 {
			flush(b, a, st)
		}
	}
	flush(b, a, st)
	w := Window{From: start, To: end}
	b.Run("all-host-series", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			series, err := st.AllHostSeries(ctx, w, Hourly)
			if err != nil || len(series) != 400 || len(series[ip("10.2.0.5")]) != 30*24 {
				b.Fatalf("AllHostSeries: %d hosts, %v", len(series), err)
			}
		}
	})
	b.Run("one-host-series", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if s, err := st.HostSeries(ctx, ip("10.2.0.5"), w, Hourly); err != nil || len(s) != 30*24 {
				b.Fatalf("HostSeries: %d, %v", len(s), err)
			}
		}
	})
	b.Run("site", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := st.SiteSeries(ctx, w, Hourly); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("peers-all-hosts", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p, err := st.Peers(ctx, netip.Addr{}, w, Daily); err != nil || len(p) != 800 {
				b.Fatalf("Peers = %d, %v", len(p), err)
			}
		}
	})
	b.Run("terms-fg-bg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range Fields {
				if _, err := st.Terms(ctx, f, Last(end, 24*time.Hour), Hourly); err != nil {
					b.Fatal(err)
				}
				if _, err := st.BackgroundTerms(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	m := st.Metrics()
	b.Logf("db: %d keys, %.1f MiB", m.Keys, float64(m.FileSize)/(1<<20))
}

// BenchmarkAddAndFlush is the collector's path without parsing: 1M mixed events (28 hours of
// traffic) added and flushed every 100,000 events; it reports events per second of CPU.
func BenchmarkAddAndFlush(b *testing.B) {
	evs := mixedEvents(1_000_000)
	b.ReportAllocs()
	var cpu int64
	for b.Loop() {
		b.StopTimer()
		st := openStore(b, b.TempDir(), t0.Add(48*time.Hour))
		a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0.Add(48 * time.Hour))})
		b.StartTimer()
		c := cpuTime()
		for i := range evs {
			a.Add(&evs[i])
			if i%100_000 == 99_999 {
				flush(b, a, st)
			}
		}
		flush(b, a, st)
		if err := st.Close(); err != nil { // writes what is still held open (held.go)
			b.Fatal(err)
		}
		cpu += cpuTime() - c
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/(float64(cpu)/1e9), "events/cpu-s")
}
