package detect

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// Detector finds one kind of situation in the statistics of a window. Implementations are
// values without mutable state: Run may be called concurrently for different windows.
// Run returns the findings of w with Key, Detector, Severity, Title, Subject, Evidence,
// FirstSeen and LastSeen set; ID, Count, Status and SuppressUntil belong to the Store.
type Detector interface {
	Name() string
	Run(ctx context.Context, env *Env, w TimeRange) ([]Finding, error)
}

// Stats is the part of the statistics store the detectors read. *stats.Store satisfies it.
type Stats interface {
	Terms(ctx context.Context, field stats.Field, w stats.Window, r stats.Resolution) (stats.TermCounts, error)
	AllHostBytes(ctx context.Context, w stats.Window) (map[netip.Addr][]stats.HourBytes, error)
	HostSeries(ctx context.Context, host netip.Addr, w stats.Window, r stats.Resolution) ([]stats.HostBucket, error)
	SiteSeries(ctx context.Context, w stats.Window, r stats.Resolution) ([]stats.SiteBucket, error)
	Peers(ctx context.Context, host netip.Addr, w stats.Window, r stats.Resolution) ([]stats.PeerCount, error)
	PeerPorts(ctx context.Context, host netip.Addr, w stats.Window, r stats.Resolution) ([]stats.PeerPortCount, error)
	Ports(ctx context.Context, host netip.Addr, w stats.Window, r stats.Resolution) ([]stats.PortCount, error)
	Denies(ctx context.Context, src netip.Addr, w stats.Window, r stats.Resolution) ([]stats.DenySource, error)
	VPNSources(ctx context.Context, user string) ([]stats.VPNSource, error)
	Pairs(ctx context.Context, since time.Time) ([]stats.Pair, error)
	Resolvers(ctx context.Context, host netip.Addr) ([]stats.Resolver, error)
	Hosts(ctx context.Context) ([]stats.HostSeen, error)
	Exemplars(ctx context.Context, k stats.ExemplarKey) ([]string, error)
}

var _ Stats = (*stats.Store)(nil)

// Env is what detectors run against. It is read-only during a run and may be shared by
// concurrent runs.
type Env struct {
	Stats  Stats
	Policy *policies.Config // loaded (its query methods are used)
	Log    *slog.Logger     // nil: discard
	// Findings stores the findings of Run; nil runs without storing (every finding is new).
	Findings *Store
	// Detectors run by Run; nil means Enabled(Policy).
	Detectors []Detector
	// Now is the wall clock, only for the run records (detection uses the window); nil: time.Now.
	Now func() time.Time
}

func (e *Env) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

func (e *Env) loc() *time.Location { return e.Policy.Location() }

// win converts a TimeRange to the store's window type.
func win(w TimeRange) stats.Window { return stats.Window{From: w.From, To: w.To} }

// All returns every detector in a fixed order (the order of the ground truth's names).
func All() []Detector {
	return []Detector{
		SignificantTermsDetector{}, VolumeDetector{}, UnusualPortsDetector{}, PortScanDetector{},
		NewVPNSourceDetector{}, SegmentViolationDetector{}, SANCrossingDetector{},
		PrinterEgressDetector{}, SilentHostDetector{}, DNSUnapprovedDetector{},
	}
}

// Enabled returns the detectors of All that the policy enables.
func Enabled(cfg *policies.Config) []Detector {
	var out []Detector
	for _, d := range All() {
		if settings(cfg, d.Name()).Enabled {
			out = append(out, d)
		}
	}
	return out
}

// ByName returns the detector called name.
func ByName(name string) (Detector, bool) {
	for _, d := range All() {
		if d.Name() == name {
			return d, true
		}
	}
	return nil, false
}

// settings returns the common settings of the named detector in cfg.
func settings(cfg *policies.Config, name string) policies.Detector {
	d := &cfg.Detectors
	switch name {
	case DetectorSignificantTerms:
		return d.SignificantTerms.Detector
	case DetectorVolumeSpike:
		return d.Volume.Detector
	case DetectorUnusualPorts:
		return d.UnusualPorts.Detector
	case DetectorPortScan:
		return d.PortScan.Detector
	case DetectorNewVPNSource:
		return d.NewVPNSource.Detector
	case DetectorSegmentViolation:
		return d.SegmentViolation.Detector
	case DetectorSANCrossing:
		return d.SANCrossing.Detector
	case DetectorPrinterEgress:
		return d.PrinterEgress.Detector
	case DetectorSilentHost:
		return d.SilentHost.Detector
	case DetectorDNSUnapproved:
		return d.DNSUnapproved.Detector
	}
	return policies.Detector{}
}

// severity is the policy's severity for the named detector.
func severity(cfg *policies.Config, name string) Severity {
	if s := settings(cfg, name).Severity; s != "" {
		return Severity(s)
	}
	return SeverityMedium
}

// Rank orders severities, info lowest; unknown values rank below info.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 1
	case SeverityLow:
		return 2
	case SeverityMedium:
		return 3
	case SeverityHigh:
		return 4
	case SeverityCritical:
		return 5
	}
	return 0
}

// ParseSeverity accepts the five severity names.
func ParseSeverity(s string) (Severity, bool) {
	v := Severity(strings.ToLower(s))
	return v, v.Rank() > 0
}

// key joins a detector name and subject parts into a finding key.
func key(detector string, parts ...string) string {
	return detector + "|" + strings.Join(parts, "|")
}

// shortID is the first n hex digits of sha256(key).
func shortID(key string, n int) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:n]
}

func portString(proto uint8, port uint16) string {
	if proto == policies.ProtoICMP {
		return "icmp"
	}
	return fmt.Sprintf("%s/%d", stats.ProtoName(proto), port)
}

// topN sorts m by value (then key) and keeps n rows.
func topN(m map[string]float64, n int) []Ranked {
	out := make([]Ranked, 0, len(m))
	for k, v := range m {
		out = append(out, Ranked{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b Ranked) int {
		if c := cmp.Compare(b.Value, a.Value); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// exemplars returns at most 3 raw lines for k; a failure only costs the evidence.
func exemplars(ctx context.Context, env *Env, k stats.ExemplarKey) []string {
	lines, err := env.Stats.Exemplars(ctx, k)
	if err != nil {
		env.log().Debug("exemplars", "err", err)
		return nil
	}
	if len(lines) > 3 {
		lines = lines[:3]
	}
	return lines
}

// role is the policy role of addr, or "" when it is in no network.
func role(cfg *policies.Config, addr netip.Addr) string {
	if n, ok := cfg.Classify(addr); ok {
		return n.Role
	}
	return ""
}

// segment names addr's segment for evidence: the network name, "internet", or the address.
func segment(cfg *policies.Config, addr netip.Addr) string {
	if s, ok := cfg.Segment(addr); ok {
		return s
	}
	return "internal"
}

// overlaps says whether the seen interval [first, last] touches w.
func overlaps(first, last time.Time, w TimeRange) bool {
	return !last.Before(w.From) && first.Before(w.To)
}

// clampRange returns [max(first, w.From), min(last, w.To)] for evidence times.
func clampRange(first, last time.Time, w TimeRange) (time.Time, time.Time) {
	if first.Before(w.From) {
		first = w.From
	}
	if last.After(w.To) {
		last = w.To
	}
	return first, last
}

func human(b float64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.1f MB", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.1f KB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}

// netipZero is the zero address: "every host" to the store's queries.
var netipZero netip.Addr

const tsFmt = "2006-01-02 15:04Z"
