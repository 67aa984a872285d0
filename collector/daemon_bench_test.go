package collector

import (
	"net"
	"strings"
	"testing"
	"time"
)

// BenchmarkArchiveWrite is the raw archive's cost per frame (copy and gzip), flushed every
// 4096 frames as the pipeline's ticks would.
func BenchmarkArchiveWrite(b *testing.B) {
	a, err := OpenArchive(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	frames := make([][]byte, 1024)
	for i := range frames {
		frames[i] = []byte(line(i))
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.SetBytes(int64(len(frames[0])))
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if err := a.Write(now, frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
		if i++; i%4096 == 0 {
			if err := a.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	// CPU time, not wall-clock, is the figure to compare on a shared machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(i), "cpu-ns/frame")
}

// BenchmarkDaemonUDP is the daemon's CPU per datagram over loopback: the real listeners,
// pipeline, archive and store, fed 512 datagrams per round from one sender (whose sendto
// calls are in the process CPU too; they are the same before and after a change).
func BenchmarkDaemonUDP(b *testing.B) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	d := startDaemonWith(b, now, strings.Replace(testPolicy, "max_message_size: 2KiB", "max_message_size: 2KiB\n  udp_read_buffer: 16MiB", 1))
	c, err := net.DialUDP("udp", nil, d.ls.UDPAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	const round = 512
	frames := make([][]byte, round)
	for i := range frames {
		frames[i] = []byte(line(i))
	}
	b.ReportAllocs()
	sent := int64(0)
	var cpu int64
	for b.Loop() {
		cpu0 := cpuTime()
		for _, f := range frames {
			if _, err := c.Write(f); err != nil {
				b.Fatal(err)
			}
		}
		sent += round
		d.waitParsed(b, sent)
		cpu += cpuTime() - cpu0
	}
	b.StopTimer()
	d.stop(b)
	if s := d.p.Status(); s.Typed != sent {
		b.Fatalf("typed %d of %d", s.Typed, sent)
	}
	b.ReportMetric(float64(cpu)/float64(sent), "cpu-ns/msg")
}
