// Package detect turns the collector's statistics into findings: scheduled and on-demand
// detectors over the store, significant terms, baselines, and the findings store.
//
// A Detector (one file each: terms, volume, ports, vpn, segment, printer, silent, dns) reads
// the statistics of a window through the narrow Stats interface and returns findings with a
// stable Key (detector + subject). Run runs the enabled detectors over the window ending at a
// given instant, recovering panics, and upserts the findings in a Store (records "finding" in
// the statistics database): the same key updates its finding, Count is the number of distinct
// windows it was found in, and a run record per (detector set, window end) makes a rerun of the
// same window change nothing but evidence. Scheduler runs Run on the policy's cron schedule,
// aligned to the last completed hour and checkpointed in the database.
//
// Detectors judge the window, never the wall clock, so a past window is judged the same way
// whenever it is run (within the store's retention).
package detect

import (
	"net/netip"
	"time"
)

// Severity orders findings for people: info < low < medium < high < critical.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Detector names, as the ground truth of the scenario generator and the policy use them.
const (
	DetectorSignificantTerms = "significant_terms"
	DetectorVolumeSpike      = "volume_spike"
	DetectorUnusualPorts     = "unusual_ports"
	DetectorPortScan         = "port_scan"
	DetectorNewVPNSource     = "new_vpn_source"
	DetectorSegmentViolation = "segment_violation"
	DetectorSANCrossing      = "san_crossing"
	DetectorPrinterEgress    = "printer_egress"
	DetectorSilentHost       = "silent_host"
	DetectorDNSUnapproved    = "dns_unapproved"
)

// Subject is what a finding is about. Only typed values: addresses, ports, a user name as the
// log gave it (never rendered into a device command; remediation uses the addresses only).
type Subject struct {
	Host  netip.Addr `json:"host,omitzero"`  // internal host
	Peer  netip.Addr `json:"peer,omitzero"`  // external or other-side address
	Proto uint8      `json:"proto,omitzero"` // IP protocol number of Port
	Port  uint16     `json:"port,omitzero"`
	User  string     `json:"user,omitempty"`
	// Segment names the network(s) involved, e.g. "ws-b2->ws-b3".
	Segment string `json:"segment,omitempty"`
}

// Evidence is what a person checks before acting: figures, the windows they cover, the
// baseline against the observation, top peers and ports, and a few raw lines.
type Evidence struct {
	Summary  string             `json:"summary"`          // one line a person reads first
	Window   TimeRange          `json:"window"`           // what the figures cover
	Counts   map[string]float64 `json:"counts,omitempty"` // named figures: bytes, denies, distinct_ports, score...
	Baseline *Comparison        `json:"baseline,omitempty"`
	TopPeers []Ranked           `json:"top_peers,omitempty"`
	TopPorts []Ranked           `json:"top_ports,omitempty"`
	TopHosts []Ranked           `json:"top_hosts,omitempty"` // internal hosts behind a site-wide figure
	Lines    []string           `json:"lines,omitempty"`     // raw syslog exemplars (untrusted text: display only)
}

// TimeRange is a half-open interval [From, To).
type TimeRange struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Comparison is an observation against its baseline.
type Comparison struct {
	Observed float64 `json:"observed"`
	Expected float64 `json:"expected"` // median of the reference set
	Z        float64 `json:"z"`
	Ratio    float64 `json:"ratio"`
	Method   string  `json:"method"` // which reference set (hour-of-week, ...)
	Unit     string  `json:"unit"`   // bytes, connections, ...
}

// Ranked is one row of a top list ("203.0.113.9", 1.2e9).
type Ranked struct {
	Key   string  `json:"key"`
	Value float64 `json:"value"`
}

// Finding is one situation a detector found. Key is stable: finding the same situation again
// updates the finding (LastSeen, Count, Evidence) instead of adding another.
type Finding struct {
	ID        string    `json:"id"`  // short stable id derived from Key, for the CLI
	Key       string    `json:"key"` // detector + subject identity
	Detector  string    `json:"detector"`
	Severity  Severity  `json:"severity"`
	Title     string    `json:"title"`
	Subject   Subject   `json:"subject"`
	Evidence  Evidence  `json:"evidence"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int       `json:"count"` // how many distinct windows found it (reruns of a window do not count)
	// SuppressUntil: runs before this time update the finding silently (no new alert).
	SuppressUntil time.Time `json:"suppress_until,omitzero"`
	// Status: open, acknowledged, resolved, suppressed (set by people, policy rules or by
	// remediation feedback; see lifecycle.go).
	Status string `json:"status"`
	// Suppressed says who keeps the finding quiet, why and until when (status suppressed).
	Suppressed *Suppression `json:"suppressed,omitempty"`
	// Comment is the last comment a person gave with a lifecycle action.
	Comment string `json:"comment,omitempty"`
	// One situation over time (see situation.go): the days it was active (UTC dates, the
	// last maxActiveDays kept), how its strength moves, and the strongest window's figure.
	DaysActive   int      `json:"days_active,omitempty"`
	ActiveDays   []string `json:"active_days,omitempty"`
	Trend        string   `json:"trend,omitempty"` // new, rising, steady, falling
	Strength     float64  `json:"strength,omitempty"`
	PeakStrength float64  `json:"peak_strength,omitempty"`
	// Latest is the newest window's summary when Evidence (and Subject) stay with a stronger
	// earlier window.
	Latest string `json:"latest,omitempty"`
	// Protected: the address remediation would act on (Subject.Peer for external subjects,
	// else Subject.Host) is protected by the policy; never propose blocking it.
	Protected bool `json:"protected,omitempty"`
}

// Finding statuses.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)
