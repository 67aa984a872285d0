package detect

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// RunMetrics counts scheduled detection runs for Prometheus: runs by result, failing detectors,
// run time, the time of the last completed run (alert when it falls behind the schedule), and
// findings by change (new, updated, reopened, escalated, silent). Safe for concurrent use; a
// nil *RunMetrics records nothing.
type RunMetrics struct {
	runs     *prometheus.CounterVec
	failed   *prometheus.CounterVec
	took     prometheus.Histogram
	last     prometheus.Gauge
	findings *prometheus.CounterVec
}

// NewRunMetrics creates the metrics and registers them with reg.
func NewRunMetrics(reg prometheus.Registerer) *RunMetrics {
	m := &RunMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_detect_runs_total",
			Help: "Scheduled detection runs by result: ok, detector-errors (some detectors failed, the rest stored), failed (nothing stored), skipped (window already done)."},
			[]string{"result"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_detect_detector_errors_total",
			Help: "Detectors that failed or panicked in a scheduled run."}, []string{"detector"}),
		took: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "firebreak_detect_run_duration_seconds",
			Help: "Time of each scheduled detection run.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "firebreak_detect_last_run_timestamp_seconds",
			Help: "End of the window of the last detection run that stored its findings (unix time)."}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firebreak_detect_findings_total",
			Help: "Findings stored by scheduled runs, by change."}, []string{"change"}),
	}
	for _, r := range []string{"ok", "detector-errors", "failed", "skipped"} {
		m.runs.WithLabelValues(r)
	}
	reg.MustRegister(m.runs, m.failed, m.took, m.last, m.findings)
	return m
}

// observe records one scheduled run as RunOnce returned it.
func (m *RunMetrics) observe(res RunResult, ran bool, err error) {
	if m == nil {
		return
	}
	switch {
	case !ran && err == nil:
		m.runs.WithLabelValues("skipped").Inc()
		return
	case err != nil && !errors.Is(err, ErrDetectors):
		m.runs.WithLabelValues("failed").Inc()
		return
	case err != nil:
		m.runs.WithLabelValues("detector-errors").Inc()
	default:
		m.runs.WithLabelValues("ok").Inc()
	}
	for _, e := range res.Errors {
		m.failed.WithLabelValues(e.Detector).Inc()
	}
	m.took.Observe(res.Took.Seconds())
	m.last.Set(float64(res.Window.To.Unix()))
	for _, u := range res.Findings {
		m.findings.WithLabelValues(string(u.Change)).Inc()
	}
}
