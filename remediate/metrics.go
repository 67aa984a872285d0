package remediate

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics describes remediation from its durable records at each scrape: proposals by state
// (what waits for a person), and audit actions by kind (pushes, failed pushes and rollbacks,
// refusals, expiries). Reading the records rather than counting in-process means a push made
// by a CLI process, not the daemon, is counted too, and a restart does not reset the totals.
//
// It is safe for concurrent scrapes; each scrape reads only the audit entries after the last
// one it saw.
type Metrics struct {
	m       *Manager
	timeout time.Duration

	proposals *prometheus.Desc
	actions   *prometheus.Desc
	errors    *prometheus.Desc
	drift     *prometheus.Desc
	reconcile *prometheus.Desc
	skew      *prometheus.Desc

	mu      sync.Mutex
	lastSeq uint64
	counts  map[string]float64
	failed  float64
}

// NewMetrics returns a collector over m's store; register it with a prometheus.Registerer.
func NewMetrics(m *Manager) *Metrics {
	return &Metrics{
		m: m, timeout: 5 * time.Second, counts: map[string]float64{},
		proposals: prometheus.NewDesc("firebreak_proposals", "Proposals by state (proposed: waiting for a person).", []string{"state"}, nil),
		actions: prometheus.NewDesc("firebreak_audit_actions_total",
			"Audit log entries by action: push, push-failed (verify failed or rolled back), push-refused, approve, expire, ...",
			[]string{"action"}, nil),
		errors: prometheus.NewDesc("firebreak_remediation_metrics_errors_total", "Scrapes that could not read the proposal records.", nil, nil),
		drift: prometheus.NewDesc("firebreak_remediation_drift",
			"Applied proposals whose device differs from them at the last reconciliation, not repaired (config: entries gone; shun: a lost shun that could not be placed again).",
			[]string{"kind"}, nil),
		reconcile: prometheus.NewDesc("firebreak_remediation_reconcile_timestamp_seconds", "When the last reconciliation with the devices ran (0: never).", nil, nil),
		skew: prometheus.NewDesc("firebreak_device_clock_skew_seconds",
			"The device's clock minus firebreak's at the last reconciliation (show clock, by its clock timezone); time-ranges end off by as much.",
			[]string{"device"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.proposals
	ch <- c.actions
	ch <- c.errors
	ch <- c.drift
	ch <- c.reconcile
	ch <- c.skew
}

// Collect implements prometheus.Collector.
func (c *Metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.mu.Lock()
	defer c.mu.Unlock()

	drift := map[string]float64{DriftConfig: 0, DriftShun: 0}
	byState := map[State]float64{}
	for s := range Transitions {
		byState[s] = 0
	}
	ps, err := c.m.List(ctx)
	if err == nil {
		for _, p := range ps {
			byState[p.State]++
			if p.State == StateApplied {
				for _, d := range p.OpenDrift() {
					drift[d.Kind]++
				}
			}
		}
		err = c.m.st.ListLog(ctx, NSAudit, c.lastSeq, func(seq uint64, raw []byte) error {
			var e struct {
				Action string `json:"action"`
			}
			if json.Unmarshal(raw, &e) == nil {
				c.counts[e.Action]++
			}
			c.lastSeq = seq
			return nil
		})
	}
	if err != nil {
		c.failed++
	}
	for s, n := range byState {
		ch <- prometheus.MustNewConstMetric(c.proposals, prometheus.GaugeValue, n, string(s))
	}
	for _, a := range []string{ActionPush, ActionPushFailed, ActionPushRefused} {
		if _, ok := c.counts[a]; !ok {
			c.counts[a] = 0 // shown before the first push
		}
	}
	for a, n := range c.counts {
		ch <- prometheus.MustNewConstMetric(c.actions, prometheus.CounterValue, n, a)
	}
	for k, n := range drift {
		ch <- prometheus.MustNewConstMetric(c.drift, prometheus.GaugeValue, n, k)
	}
	last := 0.0
	if rep, ok, err := c.m.LastReconcile(ctx); err == nil && ok {
		last = float64(rep.At.UnixNano()) / 1e9
		for _, k := range rep.Clocks {
			ch <- prometheus.MustNewConstMetric(c.skew, prometheus.GaugeValue, k.SkewSeconds, k.Device)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.reconcile, prometheus.GaugeValue, last)
	ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, c.failed)
}
