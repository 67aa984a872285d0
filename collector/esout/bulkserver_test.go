package esout_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// bulkServer is a strict _bulk endpoint on 127.0.0.1: every request is checked against the
// contract firebreak relies on (POST /_bulk, x-ndjson, a create action line with _index and
// _id before each JSON document, a final newline) and answered in the cluster's real shapes.
// Faults are scripted per request.
type bulkServer struct {
	t       *testing.T
	srv     *httptest.Server
	streams map[string]bool

	mu       sync.Mutex
	docs     map[string][]byte // id -> document, as an index with op_type create keeps it
	index    map[string]string // id -> _index
	creates  map[string]int    // id -> 201 answers (must end at 1)
	requests int
	script   []fault        // consumed one per request
	maxBody  int            // > 0: bodies larger are answered 413
	itemFail map[string]int // id -> per-item status to answer once
	// down answers 503 to everything (a cluster that is away).
	down bool
	// hold, when set, makes the server sit on a request once it returns true for the number
	// stored: held is closed and the request waits for gate.
	hold       func(stored int) bool
	gate, held chan struct{}
	seen       chan int // receives the count of documents stored after each request (non-blocking)
}

type fault int

const (
	ok fault = iota
	drop
	status429
	status500
	status503
)

func newBulkServer(t *testing.T, streams ...string) *bulkServer {
	s := &bulkServer{t: t, streams: map[string]bool{}, docs: map[string][]byte{}, index: map[string]string{},
		creates: map[string]int{}, itemFail: map[string]int{}, seen: make(chan int, 1024)}
	for _, n := range streams {
		s.streams[n] = true
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *bulkServer) URL() string { return s.srv.URL }

func (s *bulkServer) fail(w http.ResponseWriter, format string, args ...any) {
	s.t.Errorf("bulk contract: "+format, args...)
	http.Error(w, `{"error":{"type":"illegal_argument_exception","reason":"contract"},"status":400}`, 400)
}

func (s *bulkServer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// The client went away mid-body (an output stopped while sending): it never reads
		// an answer, and the documents stay queued; anything else is a broken request.
		if !errors.Is(err, io.ErrUnexpectedEOF) && r.Context().Err() == nil {
			s.t.Errorf("read body: %v", err)
		}
		return
	}
	s.mu.Lock()
	if s.hold != nil && s.hold(len(s.docs)) {
		s.hold = nil
		close(s.held)
		s.mu.Unlock()
		<-s.gate
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	defer func() { // every answer, good or not, is told to a waiting test
		select {
		case s.seen <- len(s.docs):
		default:
		}
	}()
	s.requests++
	if r.Method != http.MethodPost || r.URL.Path != "/_bulk" {
		s.fail(w, "%s %s, want POST /_bulk", r.Method, r.URL.Path)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" && ct != "application/json" {
		s.fail(w, "Content-Type %q", ct)
		return
	}
	if len(body) == 0 || body[len(body)-1] != '\n' {
		s.fail(w, "body must end with a newline")
		return
	}
	f := ok
	if len(s.script) > 0 {
		f, s.script = s.script[0], s.script[1:]
	}
	if s.down {
		f = status503
	}
	switch f {
	case drop:
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close() // a dropped connection: no answer at all
		}
		return
	case status429:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"}],"type":"es_rejected_execution_exception","reason":"rejected execution of coordinating operation"},"status":429}`)
		return
	case status500, status503:
		code := map[fault]int{status500: 500, status503: 503}[f]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"root_cause":[{"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/2/no master];"}],"type":"cluster_block_exception","reason":"blocked by: [SERVICE_UNAVAILABLE/2/no master];"},"status":%d}`, code)
		return
	}
	if s.maxBody > 0 && len(body) > s.maxBody {
		w.WriteHeader(413) // Elasticsearch answers an over-long body with an empty 413
		return
	}
	type action struct {
		Index string `json:"_index"`
		ID    string `json:"_id"`
	}
	var items []string
	errorsSeen := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var act map[string]json.RawMessage
		if err := json.Unmarshal(line, &act); err != nil || len(act) != 1 {
			s.fail(w, "action line %q is not one JSON object with one key", line)
			return
		}
		raw, isCreate := act["create"]
		if !isCreate {
			s.fail(w, "action %q: data streams take only create", line)
			return
		}
		var a action
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil || a.ID == "" || a.Index == "" {
			s.fail(w, "action %q: want _index and _id only", line)
			return
		}
		if !s.streams[a.Index] {
			s.fail(w, "unexpected _index %q", a.Index)
			return
		}
		if !sc.Scan() {
			s.fail(w, "action without a document")
			return
		}
		doc := sc.Bytes()
		var d map[string]any
		if err := json.Unmarshal(doc, &d); err != nil {
			s.fail(w, "document %q: %v", doc, err)
			return
		}
		if _, ok := d["@timestamp"]; !ok {
			s.fail(w, "document without @timestamp (a data stream refuses it): %s", doc)
			return
		}
		if st, ok := s.itemFail[a.ID]; ok {
			delete(s.itemFail, a.ID)
			errorsSeen = true
			typ := map[int]string{429: "es_rejected_execution_exception", 400: "document_parsing_exception", 500: "node_not_connected_exception"}[st]
			items = append(items, fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"status":%d,"error":{"type":%q,"reason":"injected"}}}`, a.Index, a.ID, st, typ))
			continue
		}
		if _, had := s.docs[a.ID]; had {
			errorsSeen = true
			items = append(items, fmt.Sprintf(`{"create":{"_index":%q,"_id":%q,"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[%s]: version conflict, document already exists (current version [1])","index":%q}}}`, a.Index, a.ID, a.ID, a.Index))
			continue
		}
		s.docs[a.ID] = append([]byte(nil), doc...)
		s.index[a.ID] = a.Index
		s.creates[a.ID]++
		items = append(items, fmt.Sprintf(`{"create":{"_index":".ds-%s-2026.12.03-000001","_id":%q,"_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},"_seq_no":%d,"_primary_term":1,"status":201}}`, a.Index, a.ID, len(s.docs)))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	fmt.Fprintf(w, `{"took":3,"errors":%t,"items":[%s]}`, errorsSeen, strings.Join(items, ","))
}

func (s *bulkServer) stored() (map[string][]byte, map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := make(map[string][]byte, len(s.docs))
	for k, v := range s.docs {
		d[k] = v
	}
	c := make(map[string]int, len(s.creates))
	for k, v := range s.creates {
		c[k] = v
	}
	return d, c
}
