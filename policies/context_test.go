package policies_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
)

const contextYAML = `site: s
timezone: Europe/Berlin
devices:
  - {name: fw, kind: asa, syslog_sources: [10.0.0.1], addresses: [198.51.100.2], outside_subnet: 198.51.100.0/28}
networks:
  - {name: ws, role: workstations, prefixes: [10.1.0.0/16]}
  - {name: srv, role: servers, prefixes: [10.2.0.0/16]}
services:
  - {name: updates, prefixes: [23.50.120.0/24]}
  - {name: backup, prefixes: [88.99.10.20/32]}
schedules:
  bulk:
    - {name: patch, days: [tue], nth: 2, from: "08:00", to: "18:00", services: [updates]}
    - {name: night, days: [sun], from: "23:00", to: "03:00", services: [backup]}
vpn:
  carriers: [{name: mobile, prefixes: [80.187.0.0/16]}]
detectors:
  printer_egress: {max_bytes_per_week: 50MB, max_bytes_per_week_by_role: {print-servers: 50KB}}
remediation:
  quarantine_roles: [servers]
`

func TestContextQueries(t *testing.T) {
	c, err := policies.Parse("p.yaml", []byte(contextYAML))
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	if s, ok := c.Service(a("23.50.120.9")); !ok || s.Name != "updates" {
		t.Errorf("Service(23.50.120.9) = %v, %v", s, ok)
	}
	if _, ok := c.Service(a("::ffff:88.99.10.20")); !ok {
		t.Error("mapped form of a service address is not the service")
	}
	if _, ok := c.Service(a("88.99.10.21")); ok {
		t.Error("88.99.10.21 is no service")
	}
	if _, ok := c.Carrier(a("80.187.3.4")); !ok {
		t.Error("carrier range not found")
	}
	if d, ok := c.DeviceAddress(a("198.51.100.2")); !ok || d.Name != "fw" {
		t.Error("device address not found")
	}
	if got := c.OutsideSubnets(); len(got) != 1 || got[0] != netip.MustParsePrefix("198.51.100.0/28") {
		t.Errorf("OutsideSubnets = %v", got)
	}
	if c.PrinterLimit(policies.RolePrintServers) != 50e3 || c.PrinterLimit(policies.RolePrinters) != 50e6 {
		t.Errorf("printer limits %v %v", c.PrinterLimit(policies.RolePrintServers), c.PrinterLimit(policies.RolePrinters))
	}
	if !c.QuarantineAllowed(policies.RoleWorkstations) || !c.QuarantineAllowed(policies.RoleServers) || c.QuarantineAllowed(policies.RoleDMZ) {
		t.Error("quarantine roles")
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, tc := range []struct {
		at      time.Time
		service string
		want    bool
	}{
		{time.Date(2026, 9, 8, 10, 0, 0, 0, berlin), "updates", true},  // second Tuesday
		{time.Date(2026, 9, 1, 10, 0, 0, 0, berlin), "updates", false}, // first Tuesday
		{time.Date(2026, 9, 8, 18, 0, 0, 0, berlin), "updates", false}, // end is exclusive
		{time.Date(2026, 9, 13, 23, 30, 0, 0, berlin), "backup", true}, // Sunday night
		{time.Date(2026, 9, 14, 2, 59, 0, 0, berlin), "backup", true},  // past midnight, began Sunday
		{time.Date(2026, 9, 15, 2, 0, 0, 0, berlin), "backup", false},  // Monday night
		{time.Date(2026, 9, 8, 10, 0, 0, 0, berlin), "backup", false},  // other service
	} {
		if _, got := c.BulkAt(tc.at, tc.service); got != tc.want {
			t.Errorf("BulkAt(%v, %q) = %v, want %v", tc.at, tc.service, got, tc.want)
		}
	}
}

func TestContextErrorsNamePlace(t *testing.T) {
	for _, tc := range []struct{ edit, want string }{
		{`services:
  - {name: x, prefixes: [10.1.2.0/24]}`, "p.yaml:2:"},
		{`services:
  - {name: x, prefixes: [10.1.2.0/24]}`, "services[0].prefixes[0]"},
		{`schedules:
  bulk: [{name: b, days: [tuesday], from: "08:00", to: "18:00"}]`, "schedules.bulk[0].days[0]"},
		{`schedules:
  bulk: [{name: b, from: "8", to: "18:00"}]`, "schedules.bulk[0].from"},
		{`schedules:
  bulk: [{name: b, from: "08:00", to: "18:00", services: [nope]}]`, `unknown service "nope"`},
		{`detectors:
  segment_violation: {icmp: sometimes}`, "detectors.segment_violation.icmp"},
		{`remediation:
  quarantine_roles: [kitchen]`, "remediation.quarantine_roles[0]"},
	} {
		src := "site: s\nnetworks:\n  - {name: ws, role: workstations, prefixes: [10.1.0.0/16]}\n" + tc.edit + "\n"
		// Line numbers: put the edit first so "p.yaml:2" is its first item.
		if strings.HasPrefix(tc.want, "p.yaml:") {
			src = tc.edit + "\nsite: s\nnetworks:\n  - {name: ws, role: workstations, prefixes: [10.1.0.0/16]}\n"
		}
		_, err := policies.Parse("p.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n-> %v, want it to contain %q", tc.edit, err, tc.want)
		}
	}
}
