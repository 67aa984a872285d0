package detect

import (
	"cmp"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
)

// maxActiveDays bounds Finding.ActiveDays.
const maxActiveDays = 60

// strengthCount is the evidence figure that measures each detector's finding.
var strengthCount = map[string]string{
	DetectorVolumeSpike: "bytes", DetectorPrinterEgress: "bytes_week", DetectorUnusualPorts: "connections",
	DetectorPortScan: "distinct_ports", DetectorSignificantTerms: "score", DetectorSegmentViolation: "permitted",
	DetectorSANCrossing: "permitted", DetectorSilentHost: "quiet_hours", DetectorDNSUnapproved: "queries_total",
	DetectorNewVPNSource: "logins_from_source",
}

// Strength is how strong a finding's evidence is, in its detector's own unit.
func Strength(f *Finding) float64 {
	c := f.Evidence.Counts
	if v, ok := c[strengthCount[f.Detector]]; ok {
		return v
	}
	if v, ok := c["denies"]; ok {
		return v
	}
	return 1
}

// situate folds a new window's finding f into the stored one (nil when new): the days it was
// active, its trend, and which window speaks for it. The subject and evidence stay with the
// strongest window: a weaker later window (an ordinary hour the day after an exfiltration)
// must not rename the peer a block would target; its summary goes to Latest.
func situate(f *Finding, old *Finding) {
	f.Strength = Strength(f)
	day := f.LastSeen.UTC().Format(time.DateOnly)
	if old == nil {
		f.ActiveDays = []string{day}
		f.DaysActive, f.Trend, f.PeakStrength = 1, "new", f.Strength
		return
	}
	f.ActiveDays = slices.Clone(old.ActiveDays)
	if !slices.Contains(f.ActiveDays, day) {
		f.ActiveDays = append(f.ActiveDays, day)
		slices.Sort(f.ActiveDays)
		if len(f.ActiveDays) > maxActiveDays {
			f.ActiveDays = f.ActiveDays[len(f.ActiveDays)-maxActiveDays:]
		}
	}
	f.DaysActive = max(old.DaysActive, len(f.ActiveDays))
	switch prev := old.Strength; {
	case f.Strength > 1.25*prev:
		f.Trend = "rising"
	case f.Strength < 0.8*prev:
		f.Trend = "falling"
	default:
		f.Trend = "steady"
	}
	f.PeakStrength = max(old.PeakStrength, f.Strength)
	if old.PeakStrength > f.Strength {
		f.Latest = f.Evidence.Summary
		f.Subject, f.Evidence, f.Title = old.Subject, old.Evidence, old.Title
		f.Severity = maxSeverity(old.Severity, f.Severity)
		f.Protected = old.Protected
	}
}

func maxSeverity(a, b Severity) Severity {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

// serverRoles are roles whose hosts matter more when a finding names them.
var serverRoles = map[string]bool{policies.RoleServers: true, policies.RoleDomainControllers: true,
	policies.RoleDMZ: true, policies.RoleSAN: true, policies.RoleVMHosts: true, policies.RoleTerminalServers: true}

// evidenceSeverity raises the policy's severity by what the evidence shows: a gigabyte to one
// external peer, a server role involved; a significant term on its own stays low. It never
// makes a finding critical: only the policy does (critical may ask for a quarantine).
func evidenceSeverity(cfg *policies.Config, f *Finding) {
	sev := f.Severity
	raise := func() {
		if sev.Rank() < SeverityHigh.Rank() {
			sev = map[int]Severity{1: SeverityLow, 2: SeverityMedium, 3: SeverityHigh}[sev.Rank()]
		}
	}
	switch f.Detector {
	case DetectorSignificantTerms:
		if sev.Rank() > SeverityLow.Rank() && sev != SeverityCritical {
			sev = SeverityLow
		}
	case DetectorVolumeSpike:
		if f.Subject.Peer.IsValid() && f.Evidence.Counts["top_peer_bytes"] >= 1e9 {
			raise()
		}
	}
	if f.Detector != DetectorSignificantTerms && f.Subject.Host.IsValid() && serverRoles[role(cfg, f.Subject.Host)] {
		raise()
	}
	f.Severity = sev
}

// Priority orders findings for a person's attention (the digest): severity, then how many
// days the situation has been active, then the most recent.
func Priority(a, b Finding) int {
	return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), cmp.Compare(b.DaysActive, a.DaysActive),
		b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.ID, b.ID))
}
