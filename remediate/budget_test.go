package remediate_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

const budgetPolicy = `site: budget
internal: [10.0.0.0/8]
collector:
  udp_listen: 127.0.0.1:0
  tcp_listen: "off"
  http_listen: "off"
  data_dir: data
devices:
  - {name: fw1, kind: asa, syslog_sources: [127.0.0.1], outside_acl: OUTSIDE_IN, inside_acl: INSIDE_IN}
networks:
  - {name: lan, role: workstations, prefixes: [10.1.0.0/16]}
`

// forgedScans are n port-scan findings from n distinct external sources, as n forged deny
// lines make them.
func forgedScans(n int, at time.Time) []detect.Finding {
	fs := make([]detect.Finding, n)
	for i := range fs {
		peer := netip.AddrFrom4([4]byte{45, byte(i >> 16), byte(i >> 8), byte(i)})
		fs[i] = detect.Finding{ID: fmt.Sprintf("f%05d", i), Key: "port_scan|" + peer.String(), Detector: detect.DetectorPortScan,
			Severity: detect.SeverityLow, Title: "port scan from " + peer.String(), Subject: detect.Subject{Peer: peer},
			FirstSeen: at, LastSeen: at, Status: detect.StatusOpen}
	}
	return fs
}

// TestProposeOverForgedFindingsKeepsTheBudgetAndTheStream runs the real UDP listener and
// pipeline at 2,000 lines/s on loopback while Propose turns 25,000 forged findings into
// proposals: the stream loses nothing, and the proposals stay within the policy's budget,
// with a finding saying the budget was hit. FIREBREAK_BUDGET_FINDINGS changes the count.
func TestProposeOverForgedFindingsKeepsTheBudgetAndTheStream(t *testing.T) {
	n := 25_000
	if s := os.Getenv("FIREBREAK_BUDGET_FINDINGS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	cfg, err := policies.Parse(filepath.Join(dir, "site.yaml"), []byte(budgetPolicy))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	st, err := stats.Open(t.Context(), filepath.Join(dir, "data"), stats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	metrics := collector.NewMetrics(nil)
	p := collector.NewPipeline(collector.PipelineOptions{Config: cfg, Store: st, Metrics: metrics, Log: log,
		FlushEvery: 100 * time.Millisecond, FlushEvents: -1})
	ls, err := collector.Listen(t.Context(), cfg, metrics, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	runDone := make(chan error, 1)
	go func() { runDone <- ls.Run(ctx, p) }()
	conn, err := net.DialUDP("udp", nil, ls.UDPAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// The real stream: 2,000 lines a second until Propose is done.
	stop := make(chan struct{})
	sentc := make(chan int64, 1)
	go func() {
		var sent int64
		start := time.Now()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				sentc <- sent
				return
			case <-tick.C: // pacing the sender, not synchronising
			}
			for owed := int64(2000 * time.Since(start).Seconds()); sent < owed; sent++ {
				line := fmt.Sprintf("<166>%s fw1 : %%ASA-6-302013: Built outbound TCP connection %d for outside:198.51.100.7/443 (198.51.100.7/443) to inside:10.1.1.5/%d (10.1.1.5/%d)",
					time.Now().UTC().Format("Jan _2 2006 15:04:05"), sent, 1024+sent%60000, 1024+sent%60000)
				if _, err := conn.Write([]byte(line)); err != nil {
					t.Errorf("send: %v", err)
				}
			}
		}
	}()

	// What detect does with them: store the findings; then propose over them.
	forged := forgedScans(n, now)
	began := time.Now()
	ups, derr := detect.NewStore(st, 0).Upsert(t.Context(), []string{detect.DetectorPortScan},
		detect.TimeRange{From: now.Add(-time.Hour), To: now}, forged, func(string) time.Duration { return 0 }, now)
	stored := time.Since(began)
	if derr != nil || len(ups) != n {
		t.Fatalf("Upsert: %d stored, %v", len(ups), derr)
	}
	for i, u := range ups {
		forged[i].ID = u.ID
	}
	m := remediate.New(st, cfg, remediate.Options{Now: func() time.Time { return now }})
	began = time.Now()
	out, perr := m.Propose(t.Context(), "alice", forged, nil)
	took := time.Since(began)
	close(stop)
	sent := <-sentc
	if perr != nil {
		t.Fatalf("Propose: %v", perr)
	}

	// Drain: wait until the pipeline has counted every line sent, or stops making progress.
	var parsed int64
	for last, still := int64(-1), 0; still < 40; {
		s := p.Status()
		if parsed = s.Typed + s.Header + s.Unparsed; parsed >= sent {
			break
		}
		if parsed == last {
			still++
		} else {
			still = 0
		}
		last = parsed
		time.Sleep(50 * time.Millisecond) // polling for a condition, bounded
	}
	cancel()
	if err := <-runDone; err != nil {
		t.Fatalf("Run: %v", err)
	}
	lost := sent - parsed
	t.Logf("storing %d forged findings took %s, propose over them %s: %d proposals; real stream sent %d, counted %d, lost %d (%.1f%%)",
		n, stored.Round(time.Millisecond), took.Round(time.Millisecond), len(out), sent, parsed, lost, 100*float64(lost)/float64(max(sent, 1)))
	if lost != 0 {
		t.Errorf("the real stream lost %d of %d lines while propose ran", lost, sent)
	}

	all, err := m.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, q := range all {
		if q.State.Open() {
			open++
		}
	}
	if max := cfg.Remediation.MaxOpenProposals; open > max || len(all) > max {
		t.Errorf("%d proposals stored, %d open; the budget is %d open per kind", len(all), open, max)
	}
	fs, err := detect.NewStore(st, 0).List(t.Context(), detect.Filter{Detector: remediate.DetectorProposalBudget})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Evidence.Counts["not_proposed"] != float64(n-open) {
		t.Errorf("budget findings %+v; want one saying %d findings were not proposed", fs, n-open)
	}
}
