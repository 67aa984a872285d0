package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/esout"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/remediate"
)

// checkDocMapped: every top-level key of a findings/proposals document is mapped for its
// stream, the dynamic object aside; and each member of it that the mapping types is there
// with a value of that type.
func checkDocMapped(t *testing.T, s esout.Stream, doc []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	fields := esout.Fields(s)
	dyn := esout.DynamicObjects(s)
	for k := range m {
		if _, ok := fields[k]; !ok && (len(dyn) == 0 || k != dyn[0]) {
			t.Errorf("document key %q is not mapped", k)
		}
	}
	obj, _ := m[dyn[0]].(map[string]any)
	if obj == nil {
		t.Fatalf("no %s in %s", dyn[0], doc)
	}
	for k, typ := range fields {
		member, ok := strings.CutPrefix(k, dyn[0]+".")
		if !ok {
			continue
		}
		v, ok := obj[member]
		if !ok {
			t.Errorf("mapped %s: the document has no %q", k, member)
			continue
		}
		okType := false
		switch typ {
		case "keyword", "text":
			_, okType = v.(string)
		case "date":
			s, _ := v.(string)
			_, err := time.Parse(time.RFC3339Nano, s)
			okType = err == nil
		case "long", "double":
			_, okType = v.(float64)
		case "boolean":
			_, okType = v.(bool)
		}
		if !okType {
			t.Errorf("mapped %s %s: the document has %#v", k, typ, v)
		}
	}
}

func TestFindingAndProposalDocsAreMapped(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	f := detect.Finding{ID: "f-1", Key: "port_scan|198.51.100.7", Detector: "port_scan", Severity: detect.SeverityHigh,
		Title: "scan", FirstSeen: at, LastSeen: at, Count: 1, Status: detect.StatusOpen, Trend: "new", Strength: 2.5, Protected: true}
	doc, err := findingDoc(f)
	if err != nil {
		t.Fatal(err)
	}
	checkDocMapped(t, esout.StreamFindings, doc)
	p := remediate.Proposal{ID: "p-0001", Kind: "block", State: "pending", Device: "asa1",
		Target: netip.MustParsePrefix("198.51.100.7/32"), UpdatedAt: at, Reason: "scan"}
	doc, err = proposalDoc(p)
	if err != nil {
		t.Fatal(err)
	}
	checkDocMapped(t, esout.StreamProposals, doc)
}

// es setup against a cluster on 127.0.0.1 that answers as Elasticsearch 8: it prints each
// step, and without a kibana_url writes the saved objects to the file.
func TestESSetupCommand(t *testing.T) {
	var mu sync.Mutex
	var puts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet && r.URL.Path == "/" {
			fmt.Fprint(w, `{"name":"es1","cluster_name":"fb","version":{"number":"8.19.7","build_flavor":"default"},"tagline":"You Know, for Search"}`)
			return
		}
		if r.Method != http.MethodPut || !json.Valid(b) {
			t.Errorf("unexpected %s %s %s", r.Method, r.URL.Path, b)
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		puts = append(puts, r.URL.Path)
		mu.Unlock()
		fmt.Fprint(w, `{"acknowledged":true}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	policy := filepath.Join(dir, "site.yaml")
	os.WriteFile(policy, []byte(`site: tiny
devices:
  - {name: fw, kind: asa, syslog_sources: [192.0.2.1]}
networks:
  - {name: printers, role: printers, prefixes: [10.9.30.0/24]}
outputs:
  - {name: central, urls: ["`+srv.URL+`"], namespace: tiny, retention: 14d}
`), 0o600)
	out := filepath.Join(dir, "kibana.ndjson")
	code, stdout, stderr := runCLI(t, "", "es", "setup", "--config", policy, "--data-dir", dir, "--kibana-out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	for _, want := range []string{"elasticsearch 8.19.7", "PUT  /_ilm/policy/firebreak-tiny", "delete after 14d",
		"/_index_template/firebreak-tiny-cisco_asa", "written to " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if len(puts) != 9 { // ILM, 4 component templates, 4 index templates
		t.Errorf("PUTs %v", puts)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `10.9.30.0/24`) || !strings.Contains(string(b), `"title":"logs-cisco_asa.log-tiny,logs-cisco_ios.log-tiny"`) {
		t.Errorf("saved objects not filled from the policy")
	}
	// --json: the same steps as one object, and the file it wrote.
	out2 := filepath.Join(dir, "kibana2.ndjson")
	code, stdout, stderr = runCLI(t, "", "es", "setup", "--config", policy, "--data-dir", dir, "--kibana-out", out2, "--json")
	if code != 0 {
		t.Fatalf("--json: exit %d: %s %s", code, stdout, stderr)
	}
	var js struct {
		Output, Flavour, Version, KibanaFile string
		Steps                                []struct{ Method, Path string }
		KibanaObjects                        int `json:"kibana_objects"`
	}
	if err := json.Unmarshal([]byte(stdout), &js); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if js.Output != "central" || js.Version != "8.19.7" || len(js.Steps) != 9 || js.Steps[0].Method != "PUT" || js.KibanaObjects == 0 {
		t.Errorf("--json: %+v", js)
	}
	if b2, err := os.ReadFile(out2); err != nil || !bytes.Equal(b2, b) {
		t.Errorf("--json wrote other saved objects to %s (%v)", out2, err)
	}
	if code, _, stderr := runCLI(t, "", "es", "setup", "--config", policy, "--data-dir", dir, "--output", "nope"); code != 2 || !strings.Contains(stderr, "central") {
		t.Errorf("unknown output: exit %d %s", code, stderr)
	}
}

// terms --backend es asks the output's cluster and prints its answer in the local format;
// --backend both prints the two side by side.
func TestTermsBackendES(t *testing.T) {
	var mu sync.Mutex
	var asked []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet && r.URL.Path == "/" {
			fmt.Fprint(w, `{"name":"es1","cluster_name":"fb","version":{"number":"8.19.7"},"tagline":"You Know, for Search"}`)
			return
		}
		var body map[string]any
		if r.Method != http.MethodPost || r.URL.Path != "/logs-cisco_asa.log-tiny/_search" || json.NewDecoder(r.Body).Decode(&body) != nil {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		asked = append(asked, body)
		mu.Unlock()
		fmt.Fprint(w, `{"took":3,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},`+
			`"hits":{"total":{"value":812,"relation":"eq"},"max_score":null,"hits":[]},`+
			`"aggregations":{"firebreak_terms":{"doc_count":812,"bg_count":20411,"buckets":[`+
			`{"key":"203.0.113.66","doc_count":57,"score":3.71,"bg_count":61},{"key":"198.51.100.4","doc_count":9,"score":0.42,"bg_count":30}]}}}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	policy := filepath.Join(dir, "site.yaml")
	os.WriteFile(policy, []byte(`site: tiny
devices:
  - {name: fw, kind: asa, syslog_sources: [192.0.2.1]}
outputs:
  - {name: central, urls: ["`+srv.URL+`"], namespace: tiny}
`), 0o600)
	base := []string{"terms", "--config", policy, "--data-dir", dir, "--field", "destination.ip", "--since", "24h", "--at", "2026-12-03T12:00:00Z"}
	code, stdout, stderr := runCLI(t, "", append(base, "--backend", "es")...)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, stderr)
	}
	for _, want := range []string{"812 documents; background 20411 documents", "cluster: elasticsearch 8.19.7, index logs-cisco_asa.log-tiny, field firebreak.server.ip",
		"203.0.113.66                             3.71         57           61"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if len(asked) != 1 || dig(asked[0], "aggs", "firebreak_terms", "significant_terms", "field") != "firebreak.server.ip" {
		t.Fatalf("asked %v", asked)
	}
	code, stdout, stderr = runCLI(t, "", append(base, "--backend", "both")...)
	if code != 0 {
		t.Fatalf("both: exit %d: %s %s", code, stdout, stderr)
	}
	// An empty local store ranks nothing: the cluster's terms stand alone on their rows.
	if !strings.Contains(stdout, "LOCAL SCORE") || !strings.Contains(stdout, "203.0.113.66                                -        -          - |         3.71       57         61") {
		t.Errorf("side by side:\n%s", stdout)
	}
	if code, _, stderr := runCLI(t, "", "terms", "--config", policy, "--data-dir", dir, "--field", "user.source", "--backend", "es"); code != 2 {
		t.Errorf("user.source on the cluster: exit %d %s", code, stderr)
	}
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}
