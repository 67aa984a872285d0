package esout_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/esout"
	"github.com/firebreak-dev/firebreak/policies"
)

var testStreams = policies.OutputStreams{ASA: "logs-cisco_asa.log-test", IOS: "logs-cisco_ios.log-test",
	Findings: "logs-firebreak.findings-test", Proposals: "logs-firebreak.proposals-test"}

func testOutput(url string, queueMax, batch int64) policies.Output {
	return policies.Output{Name: "t", Kind: policies.OutputElasticsearch, URLs: []string{url},
		Streams: testStreams, QueueMaxBytes: policies.ByteSize(queueMax), BatchBytes: policies.ByteSize(batch)}
}

func newOutput(t testing.TB, dir string, po policies.Output) *esout.Output {
	t.Helper()
	o, err := esout.New(esout.Options{Output: po, DataDir: dir, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Backlog: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// asaLine is a distinct, fully parsed ASA line per i.
func asaLine(i int) string {
	return fmt.Sprintf("<166>Dec 03 2026 10:%02d:%02d fw1 : %%ASA-6-302013: Built outbound TCP connection %d for outside:203.0.113.%d/443 (203.0.113.%d/443) to inside:10.0.0.5/%d (10.0.0.5/%d)",
		i/60%60, i%60, 100000+i, i%250+1, i%250+1, 1024+i%60000, 1024+i%60000)
}

// addEvents parses n lines from first on and hands them to a writer, as a parse worker does.
func addEvents(o *esout.Output, first, n int) map[string][]byte {
	p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }})
	w := o.NewEventWriter()
	want := map[string][]byte{}
	var ev ciscolog.Event
	for i := first; i < first+n; i++ {
		line := asaLine(i)
		p.Parse([]byte(line), &ev)
		w.Add(&ev, "fw1")
		want[esout.DocID("fw1", line)] = ciscolog.AppendECS(nil, &ev)
		if i%100 == 99 {
			w.Flush()
		}
	}
	w.Flush()
	return want
}

// expected is what addEvents(o, 0, n) queues, without an output.
func expected(n int) map[string][]byte {
	p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC) }})
	want := map[string][]byte{}
	var ev ciscolog.Event
	for i := range n {
		line := asaLine(i)
		p.Parse([]byte(line), &ev)
		want[esout.DocID("fw1", line)] = ciscolog.AppendECS(nil, &ev)
	}
	return want
}

// run runs the output until stop is called; stop waits for Run's end.
func run(t testing.TB, o *esout.Output) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// waitStored waits (on the server's notifications, bounded in time) for n stored documents.
func waitStored(t *testing.T, s *bulkServer, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if d, _ := s.stored(); len(d) >= n {
			return
		}
		select {
		case <-s.seen:
		case <-deadline:
			d, _ := s.stored()
			t.Fatalf("server stored %d of %d documents", len(d), n)
		}
	}
}

// waitAcked waits (on the queue's acknowledgements, bounded in time) for an empty queue.
func waitAcked(t *testing.T, o *esout.Output) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for o.Queue().Stats().Queued > 0 {
		select {
		case <-o.Queue().Acked():
		case <-deadline:
			t.Fatalf("queue still holds %+v", o.Queue().Stats())
		}
	}
}

func checkExactlyOnce(t *testing.T, s *bulkServer, want map[string][]byte) {
	t.Helper()
	got, creates := s.stored()
	if len(got) != len(want) {
		t.Errorf("stored %d documents, want %d", len(got), len(want))
	}
	for id, doc := range want {
		if string(got[id]) != string(doc) {
			t.Errorf("document %s = %s, want the ECS of parse: %s", id, got[id], doc)
			break
		}
		if creates[id] != 1 {
			t.Errorf("document %s created %d times", id, creates[id])
		}
	}
}

func TestEventsArriveAsParseECS(t *testing.T) {
	s := newBulkServer(t, testStreams.ASA, testStreams.Findings)
	o := newOutput(t, t.TempDir(), testOutput(s.URL(), 8<<20, 64<<10))
	want := addEvents(o, 0, 2000)
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	if !o.Add(esout.StreamFindings, "f1-open", at, []byte(`{"@timestamp":"2026-12-03T12:00:00.000Z","event.kind":"alert"}`)) {
		t.Fatal("Add refused a finding")
	}
	stop := run(t, o)
	waitStored(t, s, len(want)+1)
	waitAcked(t, o)
	stop()
	got, _ := s.stored()
	if s.index["f1-open"] != testStreams.Findings {
		t.Errorf("finding went to %q", s.index["f1-open"])
	}
	delete(got, "f1-open")
	delete(s.docs, "f1-open")
	checkExactlyOnce(t, s, want)
	if st := o.Queue().Stats(); st.Queued != 0 || st.Dropped != 0 {
		t.Errorf("queue after delivery: %+v", st)
	}
	if s.requests < 2 {
		t.Errorf("%d requests: batch_bytes 64KiB should split 2000 events", s.requests)
	}
}

// TestFaults: a dropped connection, 500, 429, 503, per-item 429/500/400 and 413s on large
// bodies; everything but the document the cluster rejects for good arrives exactly once.
func TestFaults(t *testing.T) {
	s := newBulkServer(t, testStreams.ASA)
	s.script = []fault{drop, status500, status429, ok, status503, drop}
	s.maxBody = 20 << 10 // 413 for most batches: they must be split
	o := newOutput(t, t.TempDir(), testOutput(s.URL(), 8<<20, 256<<10))
	want := addEvents(o, 0, 1500)
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	s.itemFail[ids[0]] = 429
	s.itemFail[ids[1]] = 500
	s.itemFail[ids[2]] = 400 // a mapping error: never accepted, dropped and counted
	delete(want, ids[2])
	stop := run(t, o)
	waitStored(t, s, len(want))
	// The queue acknowledges only after the whole batch is settled: wait for it.
	waitAcked(t, o)
	stop()
	checkExactlyOnce(t, s, want)
	if _, ok := s.docs[ids[2]]; ok {
		t.Error("the rejected document was stored")
	}
	if st := o.Queue().Stats(); st.Queued != 0 {
		t.Errorf("queued after delivery: %+v", st)
	}
}

// TestRestartResendsUnacknowledged: records queued while the cluster is down survive a
// restart; once it is up every one arrives exactly once, including those sent before the
// restart whose acknowledgement was lost (409 counts as delivered).
func TestRestartResendsUnacknowledged(t *testing.T) {
	s := newBulkServer(t, testStreams.ASA)
	dir := t.TempDir()
	o := newOutput(t, dir, testOutput(s.URL(), 8<<20, 32<<10))
	want := addEvents(o, 0, 300)
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	stop := run(t, o)
	<-s.seen // at least one refused request
	stop()
	if st := o.Queue().Stats(); st.Queued != 300 {
		t.Fatalf("queued %d after an outage, want 300", st.Queued)
	}
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()
	o2 := newOutput(t, dir, testOutput(s.URL(), 8<<20, 32<<10))
	for id, d := range addEvents(o2, 300, 200) {
		want[id] = d
	}
	stop = run(t, o2)
	waitStored(t, s, len(want))
	stop()
	checkExactlyOnce(t, s, want)
}
