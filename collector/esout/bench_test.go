package esout_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

// fastBulk checks the framing (action line, document line, final newline) and answers each
// item created, without decoding documents: the benchmark measures the output, not a
// cluster.
func fastBulk(b *testing.B) (*httptest.Server, *atomic.Int64) { return fastBulkDelay(b, 0) }

func fastBulkDelay(b *testing.B, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	var docs atomic.Int64
	// Request and answer buffers are reused: a server allocating a body per request (5 MiB,
	// cleared) cost more CPU than the output it measures.
	var bufs sync.Pool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bb, _ := bufs.Get().(*[2]bytes.Buffer)
		if bb == nil {
			bb = new([2]bytes.Buffer)
		}
		defer bufs.Put(bb)
		in, out := &bb[0], &bb[1]
		in.Reset()
		out.Reset()
		if r.ContentLength > 0 {
			in.Grow(int(r.ContentLength))
		}
		if _, err := in.ReadFrom(r.Body); err != nil {
			return // the client gave up mid-request (the benchmark stopping the output)
		}
		body := in.Bytes()
		if len(body) == 0 || body[len(body)-1] != '\n' {
			b.Error("body without final newline")
			return
		}
		out.WriteString(`{"took":1,"errors":false,"items":[`)
		n := 0
		for len(body) > 0 {
			action, rest, _ := bytes.Cut(body, []byte{'\n'})
			doc, rest, ok := bytes.Cut(rest, []byte{'\n'})
			if !bytes.HasPrefix(action, []byte(`{"create":{"_index":"`)) || !ok || len(doc) == 0 || doc[0] != '{' {
				b.Error("bad pair")
				return
			}
			body = rest
			if n > 0 {
				out.WriteByte(',')
			}
			n++
			out.WriteString(`{"create":{"_index":"x","_id":"y","_version":1,"result":"created","status":201}}`)
		}
		out.WriteString("]}")
		docs.Add(int64(n))
		if delay > 0 {
			time.Sleep(delay)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out.Bytes())
	}))
	b.Cleanup(srv.Close)
	return srv, &docs
}

// BenchmarkOutput: events rendered as ECS, queued on disk and sent in _bulk requests to a
// server on 127.0.0.1, until the server has acknowledged every one.
func BenchmarkOutput(b *testing.B) {
	srv, docs := fastBulk(b)
	o := newOutput(b, b.TempDir(), testOutput(srv.URL, 4<<30, 5<<20))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	lines := make([][]byte, 4096)
	for i := range lines {
		lines[i] = []byte(asaLine(i))
	}
	p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }})
	w := o.NewEventWriter()
	var ev ciscolog.Event
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		p.Parse(lines[i%len(lines)], &ev)
		// A distinct device per lap keeps the ids distinct, as distinct lines would.
		w.Add(&ev, fmt.Sprint("fw", i/len(lines)))
	}
	w.Flush()
	if err := o.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	for o.Queue().Stats().Queued > 0 {
		<-o.Queue().Acked()
	}
	el := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if docs.Load() < int64(b.N) {
		b.Fatalf("server acknowledged %d of %d", docs.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
}

// BenchmarkIngestWithOutput is the collector's replay rate with the output attached (the
// queue writer and sender running against the server), beside BenchmarkIngestNoOutput.
func BenchmarkIngestWithOutput(b *testing.B) {
	srv, _ := fastBulk(b)
	o := newOutput(b, b.TempDir(), testOutput(srv.URL, 4<<30, 5<<20))
	stop := run(b, o)
	defer stop()
	n := max(b.N, 1000)
	b.ReportAllocs()
	_, el := ingestThrough(b, o, n)
	b.ReportMetric(float64(n)/el.Seconds(), "events/s")
}

func BenchmarkIngestNoOutput(b *testing.B) {
	n := max(b.N, 1000)
	b.ReportAllocs()
	_, el := ingestThrough(b, nil, n)
	b.ReportMetric(float64(n)/el.Seconds(), "events/s")
}

// BenchmarkOutputLatency is BenchmarkOutput against a cluster that takes 20ms to answer each
// _bulk request (a real cluster's indexing time, emulated: the only sleep here, and it is
// the cluster's, not a synchronisation), by the number of requests in flight: with one, a
// batch's round trip bounds the rate; with several, the cluster's latency overlaps.
func BenchmarkOutputLatency(b *testing.B) {
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			srv, docs := fastBulkDelay(b, 20*time.Millisecond)
			po := testOutput(srv.URL, 4<<30, 1<<20)
			po.Workers = workers
			o := newOutput(b, b.TempDir(), po)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- o.Run(ctx) }()
			p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }})
			w := o.NewEventWriter()
			var ev ciscolog.Event
			lines := make([][]byte, 4096)
			for i := range lines {
				lines[i] = []byte(asaLine(i))
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				p.Parse(lines[i%len(lines)], &ev)
				w.Add(&ev, fmt.Sprint("fw", i/len(lines)))
			}
			w.Flush()
			if err := o.Sync(ctx); err != nil {
				b.Fatal(err)
			}
			for o.Queue().Stats().Queued > 0 {
				<-o.Queue().Acked()
			}
			el := time.Since(start)
			b.StopTimer()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			if docs.Load() < int64(b.N) {
				b.Fatalf("server acknowledged %d of %d", docs.Load(), b.N)
			}
			b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
		})
	}
}
