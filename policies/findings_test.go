package policies_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
)

func TestFindingSuppressRules(t *testing.T) {
	doc := `site: s
timezone: UTC
findings:
  suppress:
    - detector: printer_egress
      host: 10.1.30.0/24
      until: 2026-12-31
      reason: vendor telemetry, ticket 4411
    - detector: unusual_ports
      peer: 203.0.113.9
      port: 8443
      reason: partner monitoring
`
	c, err := policies.Parse("site.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	rs := c.Findings.Suppress
	if len(rs) != 2 {
		t.Fatalf("rules = %d; want 2", len(rs))
	}
	if got, want := rs[0].Expires(), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("until 2026-12-31 expires %v; want %v (through that day)", got, want)
	}
	if got := rs[0].Where(); got != "site.yaml:5" {
		t.Errorf("Where() = %q; want site.yaml:5", got)
	}
	a := netip.MustParseAddr
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		rule       int
		det        string
		host, peer string
		port       uint16
		at         time.Time
		want       bool
	}{
		{0, "printer_egress", "10.1.30.7", "", 0, at, true},
		{0, "printer_egress", "10.1.31.7", "", 0, at, false},                                          // other host
		{0, "volume_spike", "10.1.30.7", "", 0, at, false},                                            // other detector
		{0, "printer_egress", "10.1.30.7", "", 0, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), false}, // expired
		{0, "printer_egress", "", "", 0, at, false},                                                   // no host to match
		{1, "unusual_ports", "", "203.0.113.9", 8443, at, true},
		{1, "unusual_ports", "", "203.0.113.9", 443, at, false},
	} {
		var h, p netip.Addr
		if tc.host != "" {
			h = a(tc.host)
		}
		if tc.peer != "" {
			p = a(tc.peer)
		}
		if got := rs[tc.rule].Matches(tc.det, h, p, tc.port, "", "", tc.at); got != tc.want {
			t.Errorf("rule %d Matches(%s %s %s %d %v) = %v; want %v", tc.rule, tc.det, tc.host, tc.peer, tc.port, tc.at, got, tc.want)
		}
	}
}

func TestFindingSuppressRuleErrors(t *testing.T) {
	doc := `site: s
findings:
  suppress:
    - detector: printer_egres
      host: 10.1.30.5
      reason: x
    - detector: printer_egress
      reason: no subject
    - detector: port_scan
      peer: 203.0.113.9
      until: next tuesday
    - detector: port_scan
      port: 70000
      reason: big port
  alerts:
    min_severity: hgih
    webhooks: [ftp://x]
    mail: true
`
	_, err := policies.Parse("site.yaml", []byte(doc))
	if err == nil {
		t.Fatal("Parse accepted bad rules")
	}
	got := err.Error()
	for _, want := range []string{
		`site.yaml:4:`, `findings.suppress[0].detector: unknown detector "printer_egres"`,
		`site.yaml:7:`, `findings.suppress[1]: give at least one of host, peer`,
		`findings.suppress[2].reason: required`,
		`findings.suppress[2].until: until "next tuesday" must be a date`,
		`findings.suppress[3].port`,
		`findings.alerts.min_severity: severity "hgih"`,
		`findings.alerts.webhooks[0]: webhook "ftp://x" must be an http(s) URL`,
		`findings.alerts.mail: mail alerts need report.smtp`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
}
