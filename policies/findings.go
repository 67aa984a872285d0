package policies

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Findings configures what happens to findings after detection.
type Findings struct {
	// Suppress rules keep known, accepted situations quiet: a finding of Detector whose
	// subject matches every field given is stored as suppressed (no alert, shown as such in
	// reports) until Until, if set.
	Suppress []SuppressRule `yaml:"suppress"`
	// Alerts sends mail and webhooks for new or escalated findings (see alerts in cmd).
	Alerts Alerts `yaml:"alerts"`
}

// SuppressRule matches findings by detector and subject. At least one subject field is
// required: to silence a whole detector, disable it.
type SuppressRule struct {
	Detector string       `yaml:"detector"`
	Host     netip.Prefix `yaml:"host"`    // Subject.Host within this prefix (a bare address is one host)
	Peer     netip.Prefix `yaml:"peer"`    // Subject.Peer within this prefix
	Port     int          `yaml:"port"`    // Subject.Port (1-65535)
	Segment  string       `yaml:"segment"` // Subject.Segment, exactly
	User     string       `yaml:"user"`    // Subject.User, exactly
	Until    string       `yaml:"until"`   // YYYY-MM-DD (through that day, site zone) or RFC 3339; empty: no end
	Reason   string       `yaml:"reason"`  // required: why this is accepted

	until time.Time
	where string // "file:line" of the rule, for people reading why a finding is quiet
}

// Expires is the end of the rule (zero: none).
func (r *SuppressRule) Expires() time.Time { return r.until }

// Where is the rule's place in the policy ("site.yaml:42").
func (r *SuppressRule) Where() string { return r.where }

// Matches reports whether the rule covers a finding of detector about these subject values
// at time at.
func (r *SuppressRule) Matches(detector string, host, peer netip.Addr, port uint16, segment, user string, at time.Time) bool {
	if r.Detector != detector || (!r.until.IsZero() && !at.Before(r.until)) {
		return false
	}
	return (!r.Host.IsValid() || (host.IsValid() && r.Host.Contains(host))) &&
		(!r.Peer.IsValid() || (peer.IsValid() && r.Peer.Contains(peer))) &&
		(r.Port == 0 || r.Port == int(port)) &&
		(r.Segment == "" || r.Segment == segment) &&
		(r.User == "" || r.User == user)
}

// Alerts configures immediate notification of findings.
type Alerts struct {
	// MinSeverity: findings at or above it alert (low, medium, high, critical); empty: no alerts.
	MinSeverity string `yaml:"min_severity"`
	Mail        bool   `yaml:"mail"` // mail report.smtp's recipients
	// Webhooks receive a JSON POST {"text": ...} (Slack, Mattermost and Teams incoming webhooks).
	Webhooks []string `yaml:"webhooks"`
	// WebhookFormat: text (default; {"text": ...}) or teams (an Adaptive Card, which Teams
	// Workflows webhooks need).
	WebhookFormat string `yaml:"webhook_format"`
	// MaxPerHour caps alert messages per channel per hour; the rest go into one digest sent
	// when the hour ends. Default 10.
	MaxPerHour int `yaml:"max_per_hour"`
}

// FindingDetectors are the detector names findings can have (detect's detectors and
// remediation's proposal budget).
var FindingDetectors = []string{
	"significant_terms", "volume_spike", "unusual_ports", "port_scan", "new_vpn_source",
	"segment_violation", "san_crossing", "printer_egress", "silent_host", "dns_unapproved",
	"proposal_budget",
}

func (v *validator) findings() {
	c := v.cfg
	for i := range c.Findings.Suppress {
		r := &c.Findings.Suppress[i]
		p := idx("$.findings.suppress", i)
		r.where = v.where(p)
		if !slices.Contains(FindingDetectors, r.Detector) {
			v.errf(p+".detector", "unknown detector %q (one of: %s)", r.Detector, strings.Join(FindingDetectors, ", "))
		}
		if !r.Host.IsValid() && !r.Peer.IsValid() && r.Port == 0 && r.Segment == "" && r.User == "" {
			v.errf(p, "give at least one of host, peer, port, segment, user (to silence the whole detector, set its enabled: false)")
		}
		if r.Port != 0 {
			v.between(p+".port", r.Port, 1, 65535)
		}
		if strings.TrimSpace(r.Reason) == "" {
			v.errf(p+".reason", "required: say why this finding is accepted")
		}
		if r.Until != "" {
			t, err := parseUntil(r.Until, c.loc)
			if err != nil {
				v.errf(p+".until", "%v", err)
			}
			r.until = t
		}
	}
	a := &c.Findings.Alerts
	const ap = "$.findings.alerts."
	switch a.MinSeverity {
	case "", SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
	default:
		v.errf(ap+"min_severity", "severity %q must be low, medium, high or critical", a.MinSeverity)
	}
	switch a.WebhookFormat {
	case "", "text", "teams":
	default:
		v.errf(ap+"webhook_format", "webhook format %q must be text or teams", a.WebhookFormat)
	}
	if a.MaxPerHour == 0 {
		a.MaxPerHour = 10
	}
	v.between(ap+"max_per_hour", a.MaxPerHour, 1, 1000)
	if a.Mail && c.Report.SMTP.Host == "" {
		v.errf(ap+"mail", "mail alerts need report.smtp")
	}
	for i, u := range a.Webhooks {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			v.errf(idx(ap+"webhooks", i), "webhook %q must be an http(s) URL", u)
		}
	}
}

// parseUntil reads a date (through the end of that day in loc) or an RFC 3339 time.
func parseUntil(s string, loc *time.Location) (time.Time, error) {
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return d.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("until %q must be a date (2026-12-31) or an RFC 3339 time", s)
}
