package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestDaemonHealthzMetricsAndJSONLogs runs serve with the dashboard port on loopback and JSON
// logs, then reads /healthz and /metrics as a monitoring system would.
func TestDaemonHealthzMetricsAndJSONLogs(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "site.yaml")
	if err := os.WriteFile(policy, []byte(`site: t
collector:
  udp_listen: 127.0.0.1:0
  tcp_listen: "off"
  http_listen: 127.0.0.1:0
  data_dir: data
devices:
  - {name: asa1, kind: asa, syslog_sources: [127.0.0.1]}
networks:
  - {name: lan, role: workstations, prefixes: [10.0.0.0/8]}
protected: [127.0.0.0/8]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	stop := startServe(t, dir, policy, "--log-format", "json")
	_, out, _ := runCLI(t, "", "status", "--config", policy)
	m := regexp.MustCompile(`http (127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("status names no http address:\n%s", out)
	}
	base := "http://" + m[1]

	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		OK     bool   `json:"ok"`
		Reason string `json:"reason"`
	}
	err = json.NewDecoder(res.Body).Decode(&h)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || !h.OK {
		t.Errorf("/healthz: %d %+v %v", res.StatusCode, h, err)
	}

	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		`firebreak_build_info{goversion="go`,
		`firebreak_device_last_received_timestamp_seconds{device="asa1"} 0`,
		`firebreak_proposals{state="proposed"} 0`,
		`firebreak_audit_actions_total{action="push-failed"} 0`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics has no %s", want)
		}
	}
	logs := stop()
	// Every log line is one JSON object, and no key appears twice in one.
	sc := bufio.NewScanner(strings.NewReader(logs))
	lines := 0
	for sc.Scan() {
		lines++
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		keys := map[string]int{}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("log line is not a JSON object: %s", sc.Text())
		}
		for dec.More() {
			k, _ := dec.Token()
			keys[k.(string)]++
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("log line %s: %v", sc.Text(), err)
			}
		}
		for k, n := range keys {
			if n > 1 {
				t.Errorf("key %q %d times in %s", k, n, sc.Text())
			}
		}
	}
	if lines < 2 {
		t.Errorf("%d log lines; want at least started and stopped", lines)
	}
}

// syncBuffer is a bytes.Buffer safe for the daemon goroutine's writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
