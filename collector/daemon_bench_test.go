package collector

import (
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
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
	// Before the archiver, this ran on the dispatch goroutine: its thread's CPU is what
	// archiving cost dispatch.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, th0 := cpuTime(), threadCPUTime()
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
	b.ReportMetric(float64(threadCPUTime()-th0)/float64(i), "dispatch-cpu-ns/frame")
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

// BenchmarkUDPReceive is the receive side alone, per datagram: the socket is filled with 4096
// datagrams outside the timer, then drained one recvfrom per datagram (what the receiver did
// first), 64 per recvmmsg through x/net's ipv4.ReadBatch (a *net.UDPAddr allocated per
// datagram; what it did next) or 64 per recvmmsg of newBatchReader (what it does now).
func BenchmarkUDPReceive(b *testing.B) {
	c, err := ListenUDP(b.Context(), "127.0.0.1:0", 16<<20)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s, err := net.DialUDP("udp", nil, c.LocalAddr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	msg := []byte(line(1))
	const fill = 4096
	refill := func() {
		for range fill {
			if _, err := s.Write(msg); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("recvfrom", func(b *testing.B) {
		buf := make([]byte, 2049)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			if n%fill == 0 {
				b.StopTimer()
				refill()
				b.StartTimer()
			}
			if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
				b.Fatal(err)
			}
			n++
		}
	})
	b.Run("reader", func(b *testing.B) {
		bufs := make([][]byte, udpBatch)
		for i := range bufs {
			bufs[i] = make([]byte, 2049)
		}
		rd, err := newBatchReader(c, bufs)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		got := 0
		for b.Loop() {
			if got == 0 {
				b.StopTimer()
				refill()
				b.StartTimer()
				got = fill
			}
			if got%udpBatch == 0 {
				k, err := rd.Read(time.Time{})
				if err != nil || k != udpBatch {
					b.Fatalf("read %d, %v", k, err)
				}
				if n, src := rd.Datagram(k - 1); n != len(msg) || src != netip.AddrFrom4([4]byte{127, 0, 0, 1}) {
					b.Fatalf("datagram of %d bytes from %s", n, src)
				}
			}
			got--
		}
	})
	b.Run("xnet", func(b *testing.B) {
		pc := ipv4.NewPacketConn(c)
		ms := make([]ipv4.Message, udpBatch)
		for i := range ms {
			ms[i].Buffers = [][]byte{make([]byte, 2049)}
		}
		b.ReportAllocs()
		got := 0
		for b.Loop() {
			if got == 0 {
				b.StopTimer()
				refill()
				b.StartTimer()
				got = fill
			}
			// One op is one datagram: a call returning k datagrams covers k ops.
			if got%udpBatch == 0 {
				k, err := pc.ReadBatch(ms, 0)
				if err != nil {
					b.Fatal(err)
				}
				_ = k
			}
			got--
		}
	})
}

// BenchmarkArchiveDispatch is what archiving costs the dispatch goroutine per frame now: a
// copy into the archiver's chunk (ns/op), while compression runs on the archiver's goroutine
// (cpu-ns/frame is both). Before, the dispatch goroutine paid Archive.Write (see
// BenchmarkArchiveWrite).
func BenchmarkArchiveDispatch(b *testing.B) {
	a, err := OpenArchive(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	p := &Pipeline{archive: a, metrics: NewMetrics(nil), log: slog.New(slog.DiscardHandler)}
	w := startArchiver(p)
	pool := newBatchPool()
	batch := pool.get()
	for i := range batchFrames {
		batch.add([]byte(line(i)), netip.Addr{})
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	frames := 0
	// The dispatch goroutine's own CPU: its thread's, the time it waits for a free chunk
	// (when the archiver is behind) not counted.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0, th0 := cpuTime(), threadCPUTime()
	for b.Loop() {
		w.add(now, batch)
		if frames += batchFrames; frames%(8*batchFrames) == 0 {
			w.flush()
		}
	}
	th := threadCPUTime() - th0
	w.stop()
	a.Close()
	b.ReportMetric(float64(th)/float64(frames), "dispatch-cpu-ns/frame")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(frames), "cpu-ns/frame")
}

// threadCPUTime is the calling OS thread's user+system CPU time in nanoseconds.
func threadCPUTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
