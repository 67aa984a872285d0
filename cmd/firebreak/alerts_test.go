package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// The daemon's scheduled detection alerts: a port scan ingested into the last completed hour
// is found by the detect job the daemon builds (newDaemonJobs) and reaches the policy's
// webhook, a real listener on 127.0.0.1, with its id, detector, subject and severity.
func TestDaemonDetectionAlertsWebhook(t *testing.T) {
	bodies := make(chan string, 8)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
	}))
	defer hook.Close()
	_, dir, _ := cliRig(t, fmt.Sprintf(`collector: {data_dir: data}
detectors: {port_scan: {severity: high}}
findings:
  alerts: {min_severity: high, webhooks: ["%s/hooks/T0K3N"], max_per_hour: 5}
`, hook.URL))
	policy := filepath.Join(dir, "site.yaml")

	// 30 denied ports from one outside address, half an hour before the last completed hour
	// ended (the window the scheduled run covers).
	at := time.Now().UTC().Truncate(time.Hour).Add(-30 * time.Minute)
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "<164>%s fw1 %%ASA-4-106023: Deny tcp src outside:203.0.113.7/%d dst inside:10.20.0.30/%d by access-group \"OUTSIDE_IN\" [0x0, 0x0]\n",
			at.Add(time.Duration(i)*time.Second).Format(time.Stamp), 40000+i, 1000+i)
	}
	logFile := filepath.Join(dir, "scan.log")
	if err := os.WriteFile(logFile, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "", "ingest", "--config", policy, logFile); code != 0 {
		t.Fatalf("ingest: %d %s %s", code, out, errOut)
	}

	cfg, err := policies.Load(policy)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	st, err := stats.Open(ctx, cfg.Collector.DataDir, storeOptions(cfg, time.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	delivered := make(chan error, 8)
	testHookAlertDelivered = func(_ string, _ int, err error) { delivered <- err }
	t.Cleanup(func() { testHookAlertDelivered = nil })
	a := &app{log: slog.New(slog.DiscardHandler), stdout: io.Discard, stderr: io.Discard}
	reg := prometheus.NewRegistry()
	jobs, err := a.newDaemonJobs(cfg, st, a.log, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	if jobs.alerts == nil {
		t.Fatal("findings.alerts configured, no notifier")
	}
	ended := make(chan struct{})
	go func() { defer close(ended); _ = jobs.alerts.Run(ctx) }()
	defer func() { cancel(); <-ended }()

	res, ran, err := jobs.detect.RunOnce(ctx)
	if err != nil || !ran {
		t.Fatalf("scheduled run: ran %v, %v", ran, err)
	}
	var id string
	for _, u := range res.Findings {
		if u.Detector == "port_scan" {
			id = u.ID
		}
	}
	if id == "" {
		t.Fatalf("no port scan found: %+v", res.Findings)
	}
	var body string
	select {
	case body = <-bodies:
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook alert")
	}
	var msg struct{ Text string }
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{id, "port_scan", "peer=203.0.113.7", "high", "new"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("alert lacks %q: %s", want, msg.Text)
		}
	}
	select {
	case err := <-delivered:
		if err != nil {
			t.Errorf("delivery: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery outcome")
	}
	// The same window again stores nothing new: no second alert, and the counter says one.
	if _, ran, _ := jobs.detect.RunOnce(ctx); ran {
		t.Error("the window ran twice")
	}
	cancel()
	<-ended
	if n := testutil.ToFloat64(jobs.alerts.Metrics().WithLabelValues("webhook", "sent")); n != 1 {
		t.Errorf("webhook sent %v, want 1", n)
	}
}
