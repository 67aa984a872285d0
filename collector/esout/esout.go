// Package esout ships firebreak's events, findings and proposals to an Elasticsearch or
// OpenSearch cluster: every parsed event as the ECS document `firebreak parse` writes, into
// data streams named by Elastic's conventions (logs-cisco_asa.log-<namespace>), through a
// bounded on-disk queue in the data folder (queue.go) so that the collector never waits for
// the cluster and an outage loses nothing up to the queue's bound.
//
// One client for both clusters: github.com/opensearch-project/opensearch-go/v4. The _bulk
// contract firebreak uses (create actions with _index and _id, NDJSON, per-item results, 409
// for an id already there, 429 and 413) is the same on Elasticsearch 7/8 and OpenSearch 1/2.
// The Elasticsearch client (go-elasticsearch/v8) refuses any server that does not answer with
// Elasticsearch's product header, so it cannot talk to OpenSearch; the OpenSearch client has
// no such check, and its transport (node list, TLS, basic auth, headers for an ApiKey) works
// against either. Its retries are disabled: the queue decides (back-off on 429, 5xx and
// dropped connections; splitting on 413; per-item errors).
//
// Delivery is at least once from the queue; document ids are derived from the device and the
// raw line (sha256), and documents are created with op_type create, so a retry or a replay
// never duplicates: the cluster answers 409 for an id it has, which counts as delivered. Two
// identical lines from one device (same text, same timestamp) are one document.
package esout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchtransport"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/policies"
)

// Options configure New.
type Options struct {
	Output  policies.Output
	DataDir string // the queue is <DataDir>/esout/<name>
	Log     *slog.Logger
	Metrics *Metrics
	// Transport replaces the HTTP transport (tests); nil builds one from the policy's TLS.
	Transport http.RoundTripper
	// Backoff bounds the retry delays; zero means 250ms .. 30s.
	MinBackoff, MaxBackoff time.Duration
	// Backlog is the number of blocks held in memory between the parse workers and the queue
	// writer; when it is full a block is dropped and counted (the collector never waits).
	Backlog int
}

// Output is one cluster: its queue and its sender. Run sends; Add and the writers queue.
type Output struct {
	name    string
	q       *Queue
	client  *opensearch.Client
	streams [numStreams]string
	batch   int
	log     *slog.Logger
	m       *Metrics
	minB    time.Duration
	maxB    time.Duration

	blocks  chan block
	pool    sync.Pool
	bodies  sync.Pool // *[]byte: _bulk bodies, one per request in flight
	workers int
	oldest  atomic.Int64 // unix nanos of the oldest record in flight; 0 when none
}

type block struct {
	b    []byte
	n    int
	done chan struct{} // a Sync marker: closed when the writer reaches it
}

// New opens the output's queue and builds its client.
func New(o Options) (*Output, error) {
	po := o.Output
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	if o.Backlog <= 0 {
		o.Backlog = 256
	}
	client, err := NewClient(po, o.Transport)
	if err != nil {
		return nil, err
	}
	q, err := OpenQueue(filepath.Join(o.DataDir, "esout", po.Name), int64(po.QueueMaxBytes))
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", po.Name, err)
	}
	out := &Output{
		name: po.Name, q: q, client: client, batch: int(po.BatchBytes), log: o.Log, m: o.Metrics,
		minB: o.MinBackoff, maxB: o.MaxBackoff, blocks: make(chan block, o.Backlog), workers: max(1, po.Workers),
		streams: [numStreams]string{po.Streams.ASA, po.Streams.IOS, po.Streams.Findings, po.Streams.Proposals},
	}
	out.bodies.New = func() any { b := make([]byte, 0, out.batch+out.batch/8); return &b }
	out.m.register(out)
	return out, nil
}

// Transport is the HTTP transport for an output's cluster (and its Kibana): TLS with the
// policy's CA file and client certificate.
func Transport(po policies.Output) (http.RoundTripper, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if po.CAFile != "" {
		pem, err := os.ReadFile(po.CAFile)
		if err != nil {
			return nil, fmt.Errorf("output %s: ca_file: %w", po.Name, err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("output %s: ca_file %s holds no PEM certificate", po.Name, po.CAFile)
		}
	}
	if po.ClientCert != "" {
		c, err := tls.LoadX509KeyPair(po.ClientCert, po.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("output %s: client_cert: %w", po.Name, err)
		}
		tc.Certificates = []tls.Certificate{c}
	}
	ht := http.DefaultTransport.(*http.Transport).Clone()
	ht.TLSClientConfig = tc
	ht.MaxIdleConnsPerHost = 4
	return ht, nil
}

// NewClient builds the cluster client of an output (tr nil: Transport(po)) with the policy's
// credentials, its own retries and background probes off. It opens no queue: es setup and
// terms use it beside a running daemon.
func NewClient(po policies.Output, tr http.RoundTripper) (*opensearch.Client, error) {
	sec, err := po.Secrets()
	if err != nil {
		return nil, err
	}
	if tr == nil {
		if tr, err = Transport(po); err != nil {
			return nil, err
		}
	}
	hdr := http.Header{}
	if sec.APIKey != "" {
		hdr.Set("Authorization", "ApiKey "+sec.APIKey)
	}
	var urls []*url.URL
	for _, s := range po.URLs {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", po.Name, err)
		}
		urls = append(urls, u)
	}
	// The transport is built directly so that its background probes (health checks, node
	// stats polling) stay off: the queue's back-off is the only retry, and every request the
	// cluster sees is one firebreak means.
	tp, err := opensearchtransport.New(opensearchtransport.Config{
		URLs: urls, Username: sec.User, Password: sec.Password, Header: hdr, Transport: tr,
		DisableRetry: true, RequestTimeout: time.Minute, HealthCheckMaxRetries: -1, NodeStatsInterval: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", po.Name, err)
	}
	return &opensearch.Client{Transport: tp}, nil
}

// Queue is the output's queue (for tests and status).
func (o *Output) Queue() *Queue { return o.q }

// Client is the cluster client (es setup and terms use it too).
func (o *Output) Client() *opensearch.Client { return o.client }

// Name is the policy's name of the output.
func (o *Output) Name() string { return o.name }

// DocID is the document id of a raw line from a device: 128 bits of sha256(device NUL raw),
// base64url. The same line from the same device always gets the same id.
func DocID(device, raw string) string {
	h := sha256.New()
	h.Write([]byte(device))
	h.Write([]byte{0})
	h.Write([]byte(raw))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(h.Sum(sum[:0])[:16])
}

// Add queues one document of a stream (findings, proposals) without waiting; false when the
// backlog was full and it was dropped.
func (o *Output) Add(s Stream, id string, at time.Time, doc []byte) bool {
	b := AppendRecord(nil, s, id, at, doc)
	return o.offer(block{b: b, n: 1})
}

func (o *Output) offer(b block) bool {
	select {
	case o.blocks <- b:
		return true
	default:
		o.m.dropped.WithLabelValues(o.name, "backlog").Add(float64(b.n))
		return false
	}
}

// EventWriter renders one parse worker's events into a block for the queue. Not safe for
// concurrent use: each worker has its own (NewEventWriter).
type EventWriter struct {
	o     *Output
	b     []byte
	doc   []byte
	n     int
	now   func() time.Time
	at    time.Time
	idsrc []byte
}

// NewEventWriter returns a writer for one parse worker.
func (o *Output) NewEventWriter() *EventWriter {
	return &EventWriter{o: o, now: time.Now}
}

// Add renders ev (as `firebreak parse` does) with its id; device names the device it came
// from (the policy's name, or the sender's address when unknown).
func (w *EventWriter) Add(ev *ciscolog.Event, device string) {
	if len(w.b) == 0 {
		if w.b == nil {
			if p, ok := w.o.pool.Get().(*[]byte); ok {
				w.b = (*p)[:0]
			} else {
				w.b = make([]byte, 0, blockBytes+16<<10)
			}
		}
		// One clock read per block: "queued at" is when its block began (the age of the
		// oldest queued event errs by at most one block's filling time, on the old side).
		w.at = w.now()
	}
	s := StreamASA
	if ev.Family == ciscolog.FamilyIOS {
		s = StreamIOS
	}
	w.doc = ciscolog.AppendECS(w.doc[:0], ev)
	// DocID without its allocations: the same bytes (tested), hashed from a reused buffer.
	w.idsrc = append(append(append(w.idsrc[:0], device...), 0), ev.Raw...)
	sum := sha256.Sum256(w.idsrc)
	var id [22]byte
	base64.RawURLEncoding.Encode(id[:], sum[:16])
	w.b = appendRecord(w.b, s, id[:], w.at, w.doc)
	w.n++
	if len(w.b) >= blockBytes {
		w.Flush()
	}
}

// blockBytes bounds one block: the queue drops whole segments of whole blocks when full, so
// this keeps what it drops at once small.
const blockBytes = 64 << 10

// Flush hands the events added since the last Flush to the queue writer without waiting.
func (w *EventWriter) Flush() {
	if w.n == 0 {
		return
	}
	w.o.offer(block{b: w.b, n: w.n})
	w.b, w.n = nil, 0
}

// Run writes queued blocks to the disk queue and sends the queue to the cluster until ctx
// ends; what is not yet acknowledged stays in the queue for the next start. It closes the
// queue before returning.
func (o *Output) Run(ctx context.Context) error {
	wdone := make(chan struct{})
	wctx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	go func() { // the queue writer: ends when stopWriter is called, after draining
		defer close(wdone)
		o.write(wctx)
	}()
	err := o.send(ctx)
	stopWriter()
	<-wdone
	if cerr := o.q.Close(); err == nil {
		err = cerr
	}
	return err
}

func (o *Output) write(ctx context.Context) {
	put := func(b block) {
		if b.done != nil {
			close(b.done)
			return
		}
		if err := o.q.Append(b.b, b.n); err != nil {
			o.m.dropped.WithLabelValues(o.name, "queue_error").Add(float64(b.n))
			o.log.Error("output queue append", "output", o.name, "err", err)
		}
		b.b = b.b[:0]
		o.pool.Put(&b.b)
	}
	for {
		select {
		case b := <-o.blocks:
			put(b)
		case <-ctx.Done():
			for {
				select {
				case b := <-o.blocks:
					put(b)
				default:
					return
				}
			}
		}
	}
}

// Sync returns when every block handed over before it is in the on-disk queue (ingest
// before it exits, and tests), or when ctx ends; Run must be running.
func (o *Output) Sync(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case o.blocks <- block{done: done}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// batch is one _bulk request's records in flight, with the buffer they point into.
type batch struct {
	recs []Record
	buf  []byte
	next Pos
	done chan error
}

// send reads the queue in batches and keeps up to o.workers of them in flight at once (the
// cluster's latency, not firebreak, then bounds a batch's turn), acknowledging them in queue
// order as each is settled: the cursor never passes a batch still being sent. Every delivery
// goroutine ends before send returns.
func (o *Output) send(ctx context.Context) error {
	pos := o.q.Cursor()
	var inflight []*batch // oldest first
	var free []*batch
	defer func() {
		for _, b := range inflight {
			<-b.done // ends with ctx
		}
	}()
	settle := func() error { // wait for the oldest batch, then move the cursor past it
		b := inflight[0]
		if err := <-b.done; err != nil {
			inflight = inflight[1:]
			return err
		}
		inflight = inflight[1:]
		if err := o.q.Ack(b.next, len(b.recs)); err != nil {
			return err
		}
		if len(inflight) > 0 {
			o.oldest.Store(inflight[0].recs[0].At.UnixNano())
		} else {
			o.oldest.Store(0)
		}
		free = append(free, b)
		return nil
	}
	for {
		var b *batch
		if n := len(free); n > 0 {
			b, free = free[n-1], free[:n-1]
		} else {
			b = &batch{}
		}
		var err error
		b.recs, b.next, b.buf, err = o.q.ReadBuf(pos, o.batch, b.buf, b.recs)
		if err != nil {
			return err
		}
		if len(b.recs) == 0 {
			free = append(free, b)
			if len(inflight) > 0 {
				if err := settle(); err != nil {
					return o.stopped(ctx, err)
				}
				continue
			}
			o.oldest.Store(0)
			select {
			case <-ctx.Done():
				return nil
			case <-o.q.Notify():
				continue
			}
		}
		if len(inflight) == 0 {
			o.oldest.Store(b.recs[0].At.UnixNano())
		}
		b.done = make(chan error, 1)
		go func(b *batch) { b.done <- o.deliver(ctx, b.recs) }(b)
		inflight = append(inflight, b)
		pos = b.next
		if len(inflight) >= o.workers {
			if err := settle(); err != nil {
				return o.stopped(ctx, err)
			}
		}
	}
}

// stopped: a delivery that ended because ctx did leaves its records queued (nil error).
func (o *Output) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// deliver sends recs until every one is created, already there, or rejected for good,
// retrying the rest with back-off; it returns only when ctx ends or everything is settled.
func (o *Output) deliver(ctx context.Context, recs []Record) error {
	attempt := 0
	pending := recs
	for len(pending) > 0 {
		retry, err := o.bulk(ctx, pending)
		if err != nil {
			return err
		}
		if len(retry) == 0 {
			return nil
		}
		o.m.retried.WithLabelValues(o.name).Add(float64(len(retry)))
		pending = retry
		attempt++
		if err := o.wait(ctx, attempt); err != nil {
			return err
		}
	}
	return nil
}

func (o *Output) wait(ctx context.Context, attempt int) error {
	d := o.minB << min(attempt-1, 16)
	d = min(d, o.maxB)
	d = d/2 + rand.N(d/2+1) // jitter: many collectors must not retry in step
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrTooLarge is a single document the cluster refuses with 413.
var ErrTooLarge = errors.New("document larger than the cluster accepts")

// bulk sends one _bulk request (splitting it on 413) and returns the records to retry.
func (o *Output) bulk(ctx context.Context, recs []Record) ([]Record, error) {
	bp := o.bodies.Get().(*[]byte)
	defer o.bodies.Put(bp)
	*bp = o.body((*bp)[:0], recs)
	body := *bp
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "/_bulk", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bulk request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := o.client.Stream(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		o.m.errors.WithLabelValues(o.name, "connection").Inc()
		o.logRetry("bulk request failed", err)
		return recs, nil
	}
	defer resp.Body.Close()
	rb, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	switch {
	case resp.StatusCode == http.StatusRequestEntityTooLarge:
		o.m.errors.WithLabelValues(o.name, "413").Inc()
		if len(recs) == 1 {
			o.m.dropped.WithLabelValues(o.name, "too_large").Inc()
			o.log.Warn("document dropped: the cluster refuses it as too large", "output", o.name, "id", recs[0].ID, "bytes", len(recs[0].Doc))
			return nil, nil
		}
		h := len(recs) / 2
		r1, err := o.bulk(ctx, recs[:h])
		if err != nil {
			return nil, err
		}
		r2, err := o.bulk(ctx, recs[h:])
		if err != nil {
			return nil, err
		}
		return append(r1, r2...), nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		o.m.errors.WithLabelValues(o.name, fmt.Sprint(resp.StatusCode)).Inc()
		o.logRetry("cluster busy or failing", fmt.Errorf("status %d", resp.StatusCode))
		return recs, nil
	case resp.StatusCode != http.StatusOK || rerr != nil:
		// 401, 403, 404, 400: nothing in the batch can succeed until a person fixes the
		// cluster or the policy; keep it queued and retry slowly.
		o.m.errors.WithLabelValues(o.name, fmt.Sprint(resp.StatusCode)).Inc()
		o.logRetry("bulk refused", fmt.Errorf("status %d: %s", resp.StatusCode, firstLine(rb)))
		return recs, nil
	}
	return o.items(recs, rb)
}

func (o *Output) logRetry(msg string, err error) {
	o.log.Warn(msg+"; retrying with back-off", "output", o.name, "err", err)
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b[:min(len(b), 300)]), "\n")
	return s
}

func (o *Output) body(b []byte, recs []Record) []byte {
	n := 0
	for i := range recs {
		n += 64 + len(recs[i].ID) + len(recs[i].Doc)
	}
	b = slices.Grow(b, n)
	for i := range recs {
		r := &recs[i]
		b = append(b, `{"create":{"_index":"`...)
		b = append(b, o.streams[min(r.Stream, numStreams-1)]...)
		b = append(b, `","_id":"`...)
		b = append(b, r.ID...) // base64url or a project-made id: nothing to escape
		b = append(b, "\"}}\n"...)
		b = append(b, r.Doc...)
		b = append(b, '\n')
	}
	return b
}

// bulkResponse is the part of a _bulk answer firebreak reads.
type bulkResponse struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		ID     string `json:"_id"`
		Status int    `json:"status"`
		Error  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

// allCreated reports, without decoding the items, an answer of n items that all succeeded:
// "errors":false at the top (Elasticsearch and OpenSearch write it before the items; it is
// false only when no item failed, a 409 included) and one status per item. Anything else is
// decoded item by item.
func allCreated(rb []byte, n int) bool {
	head := rb[:min(len(rb), 64)]
	i := bytes.Index(head, []byte(`"errors":`))
	if i < 0 || !bytes.HasPrefix(bytes.TrimLeft(head[i+len(`"errors":`):], " "), []byte("false")) {
		return false
	}
	return bytes.Count(rb, []byte(`"status":`)) == n
}

// items settles each record by its item's status: 201/200 sent, 409 already there (sent),
// 429 and 5xx retried, any other error rejected for good (dropped, counted, logged).
func (o *Output) items(recs []Record, rb []byte) ([]Record, error) {
	if allCreated(rb, len(recs)) {
		o.m.sent.WithLabelValues(o.name).Add(float64(len(recs)))
		return nil, nil
	}
	var br bulkResponse
	if err := json.Unmarshal(rb, &br); err != nil || len(br.Items) != len(recs) {
		o.m.errors.WithLabelValues(o.name, "bad_response").Inc()
		o.logRetry("bulk answer not understood", fmt.Errorf("%d items for %d documents: %v", len(br.Items), len(recs), err))
		return recs, nil
	}
	var retry []Record
	var sent, dup, rejected int
	for i, it := range br.Items {
		for _, r := range it { // one key: the action
			switch {
			case r.Status == 200 || r.Status == 201:
				sent++
			case r.Status == http.StatusConflict:
				dup++
			case r.Status == http.StatusTooManyRequests || r.Status >= 500:
				retry = append(retry, recs[i])
			default:
				rejected++
				if rejected <= 3 {
					var typ, reason string
					if r.Error != nil {
						typ, reason = r.Error.Type, r.Error.Reason
					}
					o.log.Warn("document rejected by the cluster", "output", o.name, "id", recs[i].ID,
						"status", r.Status, "type", typ, "reason", reason)
				}
			}
		}
	}
	o.m.sent.WithLabelValues(o.name).Add(float64(sent + dup))
	o.m.duplicates.WithLabelValues(o.name).Add(float64(dup))
	if rejected > 0 {
		o.m.dropped.WithLabelValues(o.name, "rejected").Add(float64(rejected))
	}
	return retry, nil
}

// Metrics are the outputs' Prometheus metrics, labelled by output.
type Metrics struct {
	reg                       prometheus.Registerer
	sent, retried, duplicates *prometheus.CounterVec
	dropped, errors           *prometheus.CounterVec
}

// NewMetrics registers the output metrics on reg (nil: a private registry).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{reg: reg,
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_output_sent_total",
			Help: "Documents the cluster acknowledged (created, or already there)."}, []string{"output"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_output_duplicates_total",
			Help: "Documents the cluster already had (409): retries and replays."}, []string{"output"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_output_retried_total",
			Help: "Documents sent again after a 429, 5xx, dropped connection or per-item failure."}, []string{"output"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_output_dropped_total",
			Help: "Documents never delivered, by reason (queue_full: oldest dropped at the bound; backlog: the queue writer fell behind; rejected; too_large)."},
			[]string{"output", "reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_output_errors_total",
			Help: "Failed bulk requests by status or kind."}, []string{"output", "kind"}),
	}
	reg.MustRegister(m.sent, m.duplicates, m.retried, m.dropped, m.errors)
	return m
}

func (m *Metrics) register(o *Output) {
	l := prometheus.Labels{"output": o.name}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "firebreak_output_queued", ConstLabels: l,
			Help: "Documents in the on-disk queue not yet acknowledged."}, func() float64 { return float64(o.q.Stats().Queued) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "firebreak_output_queue_bytes", ConstLabels: l,
			Help: "Bytes of the on-disk queue."}, func() float64 { return float64(o.q.Stats().Bytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "firebreak_output_queue_dropped_total", ConstLabels: l,
			Help: "Documents dropped from the oldest end of the full queue."}, func() float64 { return float64(o.q.Stats().Dropped) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "firebreak_output_oldest_queued_seconds", ConstLabels: l,
			Help: "Age of the oldest document not yet acknowledged (0 when the queue is empty)."}, func() float64 { return o.OldestAge(time.Now()).Seconds() }),
	)
}

// OldestAge is the age of the oldest unacknowledged document (0 when none is in flight).
func (o *Output) OldestAge(now time.Time) time.Duration {
	t := o.oldest.Load()
	if t == 0 {
		return 0
	}
	return now.Sub(time.Unix(0, t))
}

// Stats are an output's counters for tests and status.
type Stats struct {
	QueueStats
	Sent, Duplicates, Retried int64
}
