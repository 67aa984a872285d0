package esout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/esout"
	"github.com/firebreak-dev/firebreak/policies"
)

// TestRealCluster sends events to a real cluster named by FIREBREAK_TEST_ES_URL or
// FIREBREAK_TEST_OPENSEARCH_URL (e.g. http://127.0.0.1:9200, security off; README "Keep
// Kibana" starts one in a container) and reads them back by id; it skips otherwise. Each run
// writes a fresh data stream namespace, and sends everything twice: the second time every
// document must be a 409, none created again.
func TestRealCluster(t *testing.T) {
	for _, env := range []string{"FIREBREAK_TEST_ES_URL", "FIREBREAK_TEST_OPENSEARCH_URL"} {
		t.Run(env, func(t *testing.T) {
			url := os.Getenv(env)
			if url == "" {
				t.Skip(env + " not set: no real cluster")
			}
			ns := fmt.Sprintf("fbtest%d", time.Now().UnixNano())
			po := policies.Output{Name: "real", URLs: []string{url}, QueueMaxBytes: 64 << 20, BatchBytes: 1 << 20,
				Namespace: ns, Retention: policies.Duration(24 * time.Hour),
				Streams: policies.OutputStreams{ASA: "logs-cisco_asa.log-" + ns, IOS: "logs-cisco_ios.log-" + ns,
					Findings: "logs-firebreak.findings-" + ns, Proposals: "logs-firebreak.proposals-" + ns}}
			// es setup first (twice: the second run must be accepted as it is), so the
			// documents below go through firebreak's own templates and mappings.
			c, err := esout.NewClient(po, nil)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				res, err := esout.Setup(context.Background(), c, esout.SetupOptions{Output: po})
				if err != nil {
					t.Fatalf("es setup: %v", err)
				}
				t.Logf("%s %s: %d steps", res.Cluster.Flavour, res.Cluster.Version, len(res.Steps))
			}
			for round := range 2 {
				o := newOutput(t, t.TempDir(), po)
				want := addEvents(o, 0, 500)
				stop := run(t, o)
				waitAcked(t, o)
				stop()
				// Refresh, then count the documents of the stream.
				post(t, url+"/"+po.Streams.ASA+"/_refresh", "")
				var cnt struct {
					Count int `json:"count"`
				}
				if err := json.Unmarshal(post(t, url+"/"+po.Streams.ASA+"/_count", ""), &cnt); err != nil {
					t.Fatal(err)
				}
				if cnt.Count != len(want) {
					t.Errorf("round %d: cluster holds %d documents, want %d (once each)", round, cnt.Count, len(want))
				}
			}
			// terms --backend es on what was sent: the runtime fields' scripts must run.
			cl, err := esout.Detect(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			ans, err := esout.SignificantTerms(context.Background(), c, esout.TermsQuery{Index: po.Streams.ASA, Field: "destination.ip",
				From: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 3, 23, 0, 0, 0, time.UTC),
				MinDoc: 1, Size: 5, Flavour: cl.Flavour})
			if err != nil || ans.DocCount != 500 {
				t.Errorf("significant_terms: %+v, %v (want 500 foreground documents)", ans, err)
			}
			req, _ := http.NewRequest(http.MethodDelete, url+"/_data_stream/"+po.Streams.ASA, nil)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
}

func post(t *testing.T, url, body string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}
