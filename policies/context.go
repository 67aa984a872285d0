package policies

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Service is a known external service the site relies on: an update CDN, a SaaS, the EHR
// vendor, the offsite backup. Its prefixes are never blocked and traffic with them is never
// counted as exfiltration.
type Service struct {
	Name        string         `yaml:"name"`
	Description string         `yaml:"description"`
	Prefixes    []netip.Prefix `yaml:"prefixes"`
}

// VPN is what the policy knows about remote access users' sources.
type VPN struct {
	// Carriers are mobile carriers' (CGNAT) ranges: every address in one carrier's range is
	// one source per user, so roaming users are not new every session.
	Carriers []Carrier `yaml:"carriers"`
}

// Carrier is one mobile carrier's address ranges.
type Carrier struct {
	Name     string         `yaml:"name"`
	Prefixes []netip.Prefix `yaml:"prefixes"`
}

// Bulk is a scheduled bulk transfer: on Days (mon..sun; empty: every day), optionally only
// the Nth such weekday of the month (patch Tuesday is days [tue], nth 2), between From and To
// (HH:MM in the schedules' zone; To before From runs past midnight), with the named services.
type Bulk struct {
	Name     string   `yaml:"name"`
	Days     []string `yaml:"days"`
	Nth      int      `yaml:"nth"`
	From     string   `yaml:"from"`
	To       string   `yaml:"to"`
	Services []string `yaml:"services"`

	from, to int // minutes of the day
	days     uint8
}

// SegmentViolation ICMP settings.
const (
	ICMPDiagnostics = "diagnostics"
	ICMPStrict      = "strict"
)

type contextTables struct {
	services prefixTable[*Service]
	carriers prefixTable[*Carrier]
	devAddr  map[netip.Addr]*Device
	outside  []netip.Prefix
	quar     map[string]bool
}

func buildContext(c *Config) *contextTables {
	t := &contextTables{devAddr: map[netip.Addr]*Device{}, quar: map[string]bool{RoleWorkstations: true, RolePrinters: true}}
	for i := range c.Services {
		for _, p := range c.Services[i].Prefixes {
			t.services.add(p, &c.Services[i])
		}
	}
	for i := range c.VPN.Carriers {
		for _, p := range c.VPN.Carriers[i].Prefixes {
			t.carriers.add(p, &c.VPN.Carriers[i])
		}
	}
	for i := range c.Devices {
		d := &c.Devices[i]
		for _, a := range d.Addresses {
			t.devAddr[a.Unmap()] = d
		}
		if d.OutsideSubnet.IsValid() {
			t.outside = append(t.outside, d.OutsideSubnet.Masked())
		}
	}
	for _, r := range c.Remediation.QuarantineRoles {
		t.quar[r] = true
	}
	t.services.build()
	t.carriers.build()
	return t
}

// Service returns the known service holding addr.
func (c *Config) Service(addr netip.Addr) (*Service, bool) {
	if c.tables == nil || c.tables.ctx == nil {
		return nil, false
	}
	return c.tables.ctx.services.lookup(addr.Unmap().WithZone(""))
}

// ServiceOverlaps returns a known service any of whose prefixes overlaps p.
func (c *Config) ServiceOverlaps(p netip.Prefix) (*Service, bool) {
	p = unmapPrefix(p)
	for i := range c.Services {
		for _, q := range c.Services[i].Prefixes {
			if q.Overlaps(p) {
				return &c.Services[i], true
			}
		}
	}
	return nil, false
}

// Carrier returns the mobile carrier whose range holds addr.
func (c *Config) Carrier(addr netip.Addr) (*Carrier, bool) {
	if c.tables == nil || c.tables.ctx == nil {
		return nil, false
	}
	return c.tables.ctx.carriers.lookup(addr.Unmap().WithZone(""))
}

// DeviceAddress returns the device that owns addr (devices[].addresses).
func (c *Config) DeviceAddress(addr netip.Addr) (*Device, bool) {
	if c.tables == nil || c.tables.ctx == nil {
		return nil, false
	}
	d, ok := c.tables.ctx.devAddr[addr.Unmap().WithZone("")]
	return d, ok
}

// OutsideSubnets are the devices' outside connected subnets.
func (c *Config) OutsideSubnets() []netip.Prefix {
	if c.tables == nil || c.tables.ctx == nil {
		return nil
	}
	return slices.Clone(c.tables.ctx.outside)
}

// QuarantineAllowed says whether hosts of role may be quarantined: workstations and printers
// always, any other role only when remediation.quarantine_roles lists it.
func (c *Config) QuarantineAllowed(role string) bool {
	if c.tables == nil || c.tables.ctx == nil {
		return role == RoleWorkstations || role == RolePrinters
	}
	return c.tables.ctx.quar[role]
}

// ICMPDiagnosticsAllowed says whether ICMP between internal segments is diagnostics rather
// than a segment violation (detectors.segment_violation.icmp, default diagnostics).
func (c *Config) ICMPDiagnosticsAllowed() bool {
	return c.Detectors.SegmentViolation.ICMP != ICMPStrict
}

// PrinterLimit is the weekly external byte limit of role (printer_egress).
func (c *Config) PrinterLimit(role string) ByteSize {
	if v, ok := c.Detectors.PrinterEgress.MaxBytesPerWeekByRole[role]; ok {
		return v
	}
	return c.Detectors.PrinterEgress.MaxBytesPerWeek
}

// BulkAt returns the scheduled bulk window active at t that names service (any window when
// service is "").
func (c *Config) BulkAt(t time.Time, service string) (*Bulk, bool) {
	loc := c.Schedules.loc
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	for i := range c.Schedules.Bulk {
		b := &c.Schedules.Bulk[i]
		if service != "" && !slices.Contains(b.Services, service) {
			continue
		}
		if b.active(lt) {
			return b, true
		}
	}
	return nil, false
}

func (b *Bulk) active(lt time.Time) bool {
	m := lt.Hour()*60 + lt.Minute()
	day := lt
	switch {
	case b.from <= b.to:
		if m < b.from || m >= b.to {
			return false
		}
	case m < b.to: // past midnight: the window began the day before
		day = lt.AddDate(0, 0, -1)
	case m < b.from:
		return false
	}
	if b.days != 0 && b.days&(1<<uint(day.Weekday())) == 0 {
		return false
	}
	return b.Nth == 0 || (day.Day()-1)/7+1 == b.Nth
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func clockMinutes(s string) (int, bool) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}

// context validates services, carriers, bulk schedules, device addresses and the per-role
// settings; errors name the file, line and field like every other policy error.
func (v *validator) context() {
	c := v.cfg
	names := map[string]bool{}
	for i := range c.Services {
		s := &c.Services[i]
		p := idx("$.services", i)
		v.name(p+".name", s.Name, true)
		if names[s.Name] {
			v.errf(p+".name", "service %q is listed twice", s.Name)
		}
		names[s.Name] = true
		if len(s.Prefixes) == 0 {
			v.errf(p+".prefixes", "required: the service's address ranges")
		}
		v.prefixList(p+".prefixes", s.Prefixes)
		for k, pf := range s.Prefixes {
			if pf.IsValid() && (pf.Bits() == 0 || c.IsInternalPrefix(pf)) {
				v.errf(idx(p+".prefixes", k), "%s is not an external service range", pf)
			}
		}
	}
	for i := range c.VPN.Carriers {
		cr := &c.VPN.Carriers[i]
		p := idx("$.vpn.carriers", i)
		v.name(p+".name", cr.Name, true)
		if len(cr.Prefixes) == 0 {
			v.errf(p+".prefixes", "required: the carrier's address ranges")
		}
		v.prefixList(p+".prefixes", cr.Prefixes)
	}
	for i := range c.Schedules.Bulk {
		b := &c.Schedules.Bulk[i]
		p := idx("$.schedules.bulk", i)
		v.name(p+".name", b.Name, true)
		var ok bool
		if b.from, ok = clockMinutes(b.From); !ok {
			v.errf(p+".from", "%q is not a time of day (HH:MM)", b.From)
		}
		if b.to, ok = clockMinutes(b.To); !ok {
			v.errf(p+".to", "%q is not a time of day (HH:MM)", b.To)
		}
		for k, d := range b.Days {
			wd, ok := weekdays[strings.ToLower(d)]
			if !ok {
				v.errf(idx(p+".days", k), "%q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", d)
				continue
			}
			b.days |= 1 << uint(wd)
		}
		if b.Nth < 0 || b.Nth > 5 {
			v.errf(p+".nth", "%d is out of range 0-5 (the Nth such weekday of the month)", b.Nth)
		}
		for k, s := range b.Services {
			if !names[s] {
				v.errf(idx(p+".services", k), "unknown service %q (list it under services)", s)
			}
		}
	}
	for i := range c.Devices {
		d := &c.Devices[i]
		for k, a := range d.Addresses {
			if !a.IsValid() || a.IsUnspecified() {
				v.errf(idx(idx("$.devices", i)+".addresses", k), "not a device address")
			}
		}
		if d.OutsideSubnet.IsValid() && d.OutsideSubnet.Bits() < 16 {
			v.errf(idx("$.devices", i)+".outside_subnet", "%s is wider than a connected subnet", d.OutsideSubnet)
		}
	}
	for role := range c.Detectors.PrinterEgress.MaxBytesPerWeekByRole {
		if role != RolePrinters && role != RolePrintServers {
			v.errf("$.detectors.printer_egress.max_bytes_per_week_by_role."+role, "role %q: want %s or %s", role, RolePrinters, RolePrintServers)
		}
	}
	switch c.Detectors.SegmentViolation.ICMP {
	case "", ICMPDiagnostics, ICMPStrict:
	default:
		v.errf("$.detectors.segment_violation.icmp", "%q must be %s or %s", c.Detectors.SegmentViolation.ICMP, ICMPDiagnostics, ICMPStrict)
	}
	for k, r := range c.Remediation.QuarantineRoles {
		if !isRole(r) {
			v.errf(idx("$.remediation.quarantine_roles", k), "unknown role %q (one of: %s)", r, strings.Join(Roles, ", "))
		}
	}
}

// IsInternalPrefix says whether p overlaps the site's networks or internal ranges.
func (c *Config) IsInternalPrefix(p netip.Prefix) bool {
	for i := range c.Networks {
		for _, q := range c.Networks[i].Prefixes {
			if q.Overlaps(p) {
				return true
			}
		}
	}
	for _, q := range c.Internal {
		if q.Overlaps(p) {
			return true
		}
	}
	return false
}
