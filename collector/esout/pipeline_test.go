package esout_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/esout"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

type sink struct{ o *esout.Output }

func (s sink) NewEventWriter() collector.EventWriter { return s.o.NewEventWriter() }

// ingestThrough replays n lines through a real pipeline (stats in buntdb) with o as output.
func ingestThrough(t testing.TB, o *esout.Output, n int) (collector.PipelineStatus, time.Duration) {
	t.Helper()
	cfg, err := policies.Load("../../testdata/policies/good/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.(interface{ TempDir() string }).TempDir()
	var b strings.Builder
	for i := range n {
		b.WriteString(asaLine(i))
		b.WriteByte('\n')
	}
	log := filepath.Join(dir, "asa.log")
	if err := os.WriteFile(log, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := stats.Open(ctx, filepath.Join(dir, "db"), stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var sinks []collector.EventSink
	if o != nil {
		sinks = append(sinks, sink{o})
	}
	p := collector.NewPipeline(collector.PipelineOptions{Config: cfg, Store: st, Outputs: sinks,
		Now: func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }})
	if b, ok := t.(*testing.B); ok {
		b.ResetTimer()
	}
	start := time.Now()
	res, err := collector.Ingest(ctx, []string{log}, nil, p, nil)
	el := time.Since(start)
	if b, ok := t.(*testing.B); ok {
		b.StopTimer()
	}
	if err != nil || res.Lines != int64(n) {
		t.Fatalf("ingest: %+v %v", res, err)
	}
	return p.Status(), el
}

// TestClusterDownWholeTime: the cluster answers 503 throughout; the collector counts every
// event (loss 0), and the queue ends at its bound with queued + dropped = every event.
func TestClusterDownWholeTime(t *testing.T) {
	const n, bound = 6000, 1 << 20
	s := newBulkServer(t, testStreams.ASA)
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	data := t.TempDir()
	o := newOutput(t, data, testOutput(s.URL(), bound, 64<<10))
	stop := run(t, o)
	ps, _ := ingestThrough(t, o, n)
	if err := o.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	stop()
	if got := ps.Typed + ps.Header + ps.Unparsed; got != n || ps.Typed != n {
		t.Errorf("collector counted %d events (%d typed), want %d: the output must not cost the collector anything", got, ps.Typed, n)
	}
	st := o.Queue().Stats()
	if st.Queued+st.Dropped != n || st.Dropped == 0 {
		t.Errorf("queue %+v: want queued + dropped = %d with some dropped", st, n)
	}
	// Whole segments are dropped, and a segment takes whole blocks (one parse batch): the
	// queue is below its bound by less than a segment's worth.
	if st.Bytes > bound || st.Bytes < bound*3/4 {
		t.Errorf("queue holds %d bytes, want at its bound %d", st.Bytes, bound)
	}
	if d, _ := s.stored(); len(d) != 0 {
		t.Errorf("a down cluster stored %d", len(d))
	}
	// What is queued is the newest: delivered once the cluster is back. The cluster comes
	// back as a new server: a request the stopped output left in flight (its batch from a
	// segment dropped since) can still reach the old one, which stays down.
	back := newBulkServer(t, testStreams.ASA)
	o2 := newOutput(t, data, testOutput(back.URL(), bound, 64<<10))
	stop = run(t, o2)
	waitStored(t, back, int(st.Queued))
	waitAcked(t, o2)
	stop()
	got, creates := back.stored()
	all := expected(n)
	for id := range got {
		if _, ok := all[id]; !ok || creates[id] != 1 {
			t.Fatalf("stored %s: not an event of the test, or twice", id)
		}
	}
	if int64(len(got)) != st.Queued {
		t.Errorf("stored %d after the outage, want the %d queued", len(got), st.Queued)
	}
}
