package policies

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zones resolve the same on every machine `policy check` runs on

	"github.com/robfig/cron/v3"
)

// NamePattern is what device, network, host, building, interface, ACL and object-group names
// must match: they are rendered into device commands and finding keys.
var NamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

var envPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// ParseSchedule parses a cron spec the way the scheduler will (robfig/cron/v3's standard
// parser: five fields or a @descriptor; @every at least 1m) without ever panicking. A TZ= or CRON_TZ= prefix is
// refused: the zone belongs in schedules.timezone, and the v3 parser panics on some of those.
// The returned schedule runs in the zone of the time given to its Next.
func ParseSchedule(spec string) (s cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty cron spec")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("cron spec %q carries a time zone; put the zone in schedules.timezone instead", spec)
	}
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		// cron would turn anything under a second (even a negative interval) into every second.
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil || d < time.Minute {
			return nil, fmt.Errorf("invalid cron spec %q: @every needs an interval of at least 1m", spec)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("invalid cron spec %q", spec)
		}
	}()
	s, err = cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid cron spec %q: %v", spec, err)
	}
	return s, nil
}

// loadZone resolves an IANA zone name; "Local" is refused so a policy means the same on every
// machine.
func loadZone(name string) (*time.Location, error) {
	if name == "" {
		return nil, fmt.Errorf("empty time zone")
	}
	if name == "Local" {
		return nil, fmt.Errorf("time zone \"Local\" depends on the machine; name the zone (e.g. America/Chicago or UTC)")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as America/Chicago)", name)
	}
	return loc, nil
}

// validator normalizes a merged Config and checks it as a whole.
type validator struct {
	cfg  *Config
	loc  *locator
	errs *errorList
}

func (v *validator) errf(path, format string, args ...any) {
	e := v.loc.at(path)
	e.Msg = fmt.Sprintf(format, args...)
	v.errs.add(e)
}

// where is a short "file:line" for pointing at another place from an error message.
func (v *validator) where(path string) string {
	e := v.loc.at(path)
	if e.Line == 0 {
		return filepath.Base(e.File)
	}
	return filepath.Base(e.File) + ":" + strconv.Itoa(e.Line)
}

func idx(list string, i int) string { return list + "[" + strconv.Itoa(i) + "]" }

// normalize applies per-element defaults, resolves zones and relative paths. It runs once,
// after merging, so it sees every file's values.
func (v *validator) normalize() {
	c := v.cfg
	var err error
	if c.loc, err = loadZone(c.Timezone); err != nil {
		v.errf("$.timezone", "%v", err)
		c.loc = time.UTC
	}
	if c.Schedules.Timezone == "" {
		c.Schedules.Timezone, c.Schedules.loc = c.Timezone, c.loc
	} else if c.Schedules.loc, err = loadZone(c.Schedules.Timezone); err != nil {
		v.errf("$.schedules.timezone", "%v", err)
		c.Schedules.loc = time.UTC
	}
	rel := func(path string, p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			if dir := v.loc.dirOf(path); dir != "" {
				*p = filepath.Join(dir, *p)
			}
		}
	}
	rel("$.collector.data_dir", &c.Collector.DataDir)
	rel("$.collector.api_socket", &c.Collector.APISocket)
	for k, f := range map[string]*string{"tls_cert": &c.Collector.HTTP.TLSCert, "tls_key": &c.Collector.HTTP.TLSKey,
		"token_file": &c.Collector.HTTP.TokenFile, "password_file": &c.Collector.HTTP.PasswordFile} {
		rel("$.collector.http."+k, f)
	}
	rel("$.report.out_dir", &c.Report.OutDir)
	for i := range c.Audit.Syslog {
		rel(idx("$.audit.syslog", i)+".ca_file", &c.Audit.Syslog[i].CAFile)
	}
	if c.Report.OutDir == "" && c.Collector.DataDir != "" {
		c.Report.OutDir = filepath.Join(c.Collector.DataDir, "reports")
	}
	for i := range c.Devices {
		d := &c.Devices[i]
		p := idx("$.devices", i)
		deviceDefaults(d)
		if d.Timezone == "" {
			d.Timezone = c.Timezone
			d.loc = c.loc
		} else if d.loc, err = loadZone(d.Timezone); err != nil {
			v.errf(p+".timezone", "%v", err)
			d.loc = time.UTC
		}
		rel(p+".ssh.known_hosts", &d.SSH.KnownHosts)
		rel(p+".ssh.key_file", &d.SSH.KeyFile)
	}
}

func (v *validator) validate() {
	c := v.cfg
	v.name("$.site", c.Site, true)
	v.collector()
	v.devices()
	v.networks()
	v.flows()
	v.ports()
	for i, r := range c.DNS.ApprovedResolvers {
		if !r.IsValid() {
			v.errf(idx("$.dns.approved_resolvers", i), "empty address")
		}
	}
	v.prefixList("$.internal", c.Internal)
	v.prefixList("$.protected", c.Protected)
	if len(c.Protected) == 0 {
		for i := range c.Devices {
			if c.Devices[i].Manageable() {
				v.errf(idx("$.devices", i)+".ssh", "this device can be changed over SSH but protected is empty; list at least the collector's own address and the hosts that must never be blocked")
				break
			}
		}
	}
	v.detectors()
	v.context()
	v.schedules()
	v.retention()
	v.remediation()
	v.people()
	v.audit()
	v.report()
	v.findings()
	v.outputs()
}

func (v *validator) name(path, s string, required bool) {
	if s == "" {
		if required {
			v.errf(path, "required")
		}
		return
	}
	if !NamePattern.MatchString(s) {
		v.errf(path, "name %q must be 1-64 letters, digits, '_', '.' or '-'", s)
	}
}

func (v *validator) env(path, s string) {
	if s != "" && !envPattern.MatchString(s) {
		v.errf(path, "%q is not an environment variable name", s)
	}
}

func (v *validator) between(path string, n, lo, hi int) {
	if n < lo || n > hi {
		v.errf(path, "%d is out of range %d-%d", n, lo, hi)
	}
}

func (v *validator) durBetween(path string, d Duration, lo, hi time.Duration) {
	if time.Duration(d) < lo || time.Duration(d) > hi {
		v.errf(path, "%s is out of range %s-%s", d, Duration(lo), Duration(hi))
	}
}

func (v *validator) listen(path, s string, required bool) {
	if s == Off {
		return
	}
	if s == "" {
		if required {
			v.errf(path, "required (host:port, or %q)", Off)
		} else {
			v.errf(path, "empty listen address; write %q to disable", Off)
		}
		return
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		v.errf(path, "invalid listen address %q (want host:port, e.g. :5140 or 127.0.0.1:8080)", s)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.errf(path, "invalid port in listen address %q", s)
	}
	if host != "" && host != "localhost" {
		if _, err := netip.ParseAddr(host); err != nil {
			v.errf(path, "listen host %q must be an IP address, localhost or empty", host)
		}
	}
}

func (v *validator) collector() {
	c := &v.cfg.Collector
	const p = "$.collector."
	v.listen(p+"udp_listen", c.UDPListen, false)
	v.listen(p+"tcp_listen", c.TCPListen, false)
	v.listen(p+"http_listen", c.HTTPListen, false)
	v.httpAccess()
	v.between(p+"max_hosts_per_hour", c.MaxHostsPerHour, 100, 10_000_000)
	v.durBetween(p+"max_lateness", c.MaxLateness, 5*time.Minute, 30*24*time.Hour)
	if c.UDPListen == Off && c.TCPListen == Off {
		v.errf(p+"udp_listen", "both udp_listen and tcp_listen are off; the collector would receive nothing")
	}
	if c.DataDir == "" {
		v.errf(p+"data_dir", "required")
	}
	v.durBetween(p+"flush_interval", c.FlushInterval, 10*time.Millisecond, time.Minute)
	v.between(p+"queue_size", c.QueueSize, 1, 1<<24)
	v.between(p+"workers", c.Workers, 0, 256)
	if c.MaxMessageSize < 480 || c.MaxMessageSize > 64<<10 {
		v.errf(p+"max_message_size", "%s is out of range 480B-64KiB", c.MaxMessageSize)
	}
	if c.UDPReadBuffer < 0 || c.UDPReadBuffer > 1<<30 {
		v.errf(p+"udp_read_buffer", "%s is out of range 0-1GiB", c.UDPReadBuffer)
	}
	v.between(p+"tcp_max_conns", c.TCPMaxConns, 1, 10000)
	v.durBetween(p+"tcp_idle_timeout", c.TCPIdleTimeout, time.Second, 24*time.Hour)
	v.between(p+"tcp_max_conns_per_source", c.TCPMaxConnsPerSource, 1, 10000)
	v.durBetween(p+"tcp_frame_timeout", c.TCPFrameTimeout, 10*time.Millisecond, time.Hour)
}

func (v *validator) devices() {
	names := map[string]int{}
	sources := map[netip.Addr]int{}
	for i := range v.cfg.Devices {
		d := &v.cfg.Devices[i]
		p := idx("$.devices", i)
		v.name(p+".name", d.Name, true)
		if j, dup := names[d.Name]; dup && d.Name != "" {
			v.errf(p+".name", "duplicate device name %q (also at %s)", d.Name, v.where(idx("$.devices", j)+".name"))
		}
		names[d.Name] = i
		if d.Kind != KindASA && d.Kind != KindIOS {
			v.errf(p+".kind", "kind %q must be %q or %q", d.Kind, KindASA, KindIOS)
		}
		if len(d.SyslogSources) == 0 {
			v.errf(p+".syslog_sources", "required: the addresses this device's syslog comes from")
		}
		for k, a := range d.SyslogSources {
			if !a.IsValid() {
				v.errf(idx(p+".syslog_sources", k), "empty address")
				continue
			}
			if !usableHost(a) {
				v.errf(idx(p+".syslog_sources", k), "%s cannot be a device's address", a)
			}
			if j, dup := sources[a]; dup {
				v.errf(idx(p+".syslog_sources", k), "syslog source %s is also listed for device %q (at %s)", a, v.cfg.Devices[j].Name, v.where(idx("$.devices", j)))
				continue
			}
			sources[a] = i
		}
		for _, f := range []struct{ path, val string }{
			{".outside_interface", d.OutsideInterface}, {".outside_acl", d.OutsideACL},
			{".inside_interface", d.InsideInterface}, {".inside_acl", d.InsideACL},
			{".object_group", d.ObjectGroup},
		} {
			v.name(p+f.path, f.val, true)
		}
		v.ssh(p+".ssh", &d.SSH)
	}
}

func (v *validator) ssh(p string, s *SSH) {
	v.env(p+".password_env", s.PasswordEnv)
	v.env(p+".enable_password_env", s.EnablePasswordEnv)
	v.between(p+".port", s.Port, 1, 65535)
	v.durBetween(p+".timeout", s.Timeout, time.Second, 10*time.Minute)
	v.durBetween(p+".keepalive", s.Keepalive, time.Second, 10*time.Minute)
	v.between(p+".keepalive_max", s.KeepaliveMax, 1, 100)
	v.name(p+".hostname", s.Hostname, false)
	v.name(p+".context", s.Context, false)
	if !s.Address.IsValid() {
		if s.KnownHosts != "" || s.User != "" || s.PasswordEnv != "" || s.EnablePasswordEnv != "" ||
			s.KeyFile != "" || s.Agent {
			v.errf(p+".address", "required when other ssh settings are given")
		}
		return
	}
	if !usableHost(s.Address) {
		v.errf(p+".address", "%s cannot be a device's address", s.Address)
	}
	if s.KnownHosts == "" {
		v.errf(p+".known_hosts", "required: host keys are always verified")
	}
	if s.User == "" {
		v.errf(p+".user", "required")
	} else if strings.ContainsFunc(s.User, func(r rune) bool { return r <= ' ' || r == 0x7f }) || len(s.User) > 64 {
		v.errf(p+".user", "user name must be 1-64 characters without spaces or control characters")
	}
	if s.PasswordEnv == "" && s.KeyFile == "" && !s.Agent {
		v.errf(p, "no credentials: set password_env, key_file or agent")
	}
}

func (v *validator) prefixList(path string, ps []netip.Prefix) {
	seen := map[netip.Prefix]int{}
	for i, pr := range ps {
		switch {
		case !pr.IsValid():
			v.errf(idx(path, i), "empty prefix")
		case pr.Bits() == 0:
			v.errf(idx(path, i), "prefix %s covers every address; that cannot be right here", pr)
		}
		if j, dup := seen[pr]; dup {
			v.errf(idx(path, i), "%s is listed twice (also [%d])", pr, j)
		}
		seen[pr] = i
	}
}

func isRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

func (v *validator) networks() {
	names := map[string]int{}
	hosts := map[string]string{}
	owner := map[netip.Prefix]int{}
	for i := range v.cfg.Networks {
		n := &v.cfg.Networks[i]
		p := idx("$.networks", i)
		v.name(p+".name", n.Name, true)
		switch {
		case n.Name == Internet || n.Name == Any:
			v.errf(p+".name", "%q is reserved for flows; choose another name", n.Name)
		case n.Name == "":
		default:
			if j, dup := names[n.Name]; dup {
				v.errf(p+".name", "duplicate network name %q (also at %s)", n.Name, v.where(idx("$.networks", j)+".name"))
			}
			names[n.Name] = i
		}
		if !isRole(n.Role) {
			v.errf(p+".role", "unknown role %q (one of: %s)", n.Role, strings.Join(Roles, ", "))
		}
		if n.Building != "" {
			if n.Role != RoleWorkstations {
				v.errf(p+".building", "building applies to workstations only")
			}
			v.name(p+".building", n.Building, false)
		}
		if len(n.Prefixes) == 0 {
			v.errf(p+".prefixes", "required: at least one prefix")
		}
		v.prefixList(p+".prefixes", n.Prefixes)
		for k, pr := range n.Prefixes {
			if j, taken := owner[pr]; taken && j != i {
				v.errf(idx(p+".prefixes", k), "%s is also a prefix of network %q; a prefix belongs to one network", pr, v.cfg.Networks[j].Name)
				continue
			}
			owner[pr] = i
		}
		v.between(p+".expected_silent_hours", n.ExpectedSilentHours, 0, 24*90)
		if g := n.Gateway; g.IsValid() {
			switch {
			case !g.Is4() || g.IsUnspecified() || g.IsLoopback() || g.IsMulticast():
				v.errf(p+".gateway", "%s is not a usable IPv4 next hop", g)
			case containsAny(n.Prefixes, g):
				v.errf(p+".gateway", "%s is inside network %q; the gateway is the router in front of it", g, n.Name)
			}
		}
		for k := range n.Hosts {
			h := &n.Hosts[k]
			hp := idx(p+".hosts", k)
			v.name(hp+".name", h.Name, true)
			if other, dup := hosts[h.Name]; dup && h.Name != "" {
				v.errf(hp+".name", "duplicate host name %q (also in network %q)", h.Name, other)
			}
			hosts[h.Name] = n.Name
			if !h.Address.IsValid() {
				v.errf(hp+".address", "required")
			} else if !containsAny(n.Prefixes, h.Address) {
				v.errf(hp+".address", "%s is not inside network %q", h.Address, n.Name)
			} else if o := v.mostSpecific(h.Address); o != nil && o != n {
				v.errf(hp+".address", "%s is in network %q, whose prefix is more specific; list the host there", h.Address, o.Name)
			}
			v.between(hp+".expected_silent_hours", h.ExpectedSilentHours, 0, 24*90)
		}
	}
}

// mostSpecific is Classify before the tables exist (validation is not on a hot path).
func (v *validator) mostSpecific(a netip.Addr) *Network {
	var best *Network
	bits := -1
	for i := range v.cfg.Networks {
		for _, p := range v.cfg.Networks[i].Prefixes {
			if p.Bits() > bits && p.Contains(a) {
				best, bits = &v.cfg.Networks[i], p.Bits()
			}
		}
	}
	return best
}

// usableHost refuses the unspecified, multicast and broadcast addresses.
func usableHost(a netip.Addr) bool {
	return !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

func containsAny(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (v *validator) segment(path, s string) {
	if s == Internet || s == Any {
		return
	}
	if s == "" {
		v.errf(path, "required: a network name, %q or %q", Internet, Any)
		return
	}
	for i := range v.cfg.Networks {
		if v.cfg.Networks[i].Name == s {
			return
		}
	}
	v.errf(path, "unknown network %q", s)
}

func (v *validator) flows() {
	for i, f := range v.cfg.Flows {
		p := idx("$.flows", i)
		v.segment(p+".from", f.From)
		v.segment(p+".to", f.To)
		switch {
		case f.From == Any && f.To == Any:
			v.errf(p, "flow from any to any would allow everything; name the segments")
		case f.From == Internet && f.To == Internet:
			v.errf(p, "flow from internet to internet means nothing here")
		case len(f.Ports) == 0 && (f.From == Any && f.To == Internet || f.From == Internet && f.To == Any):
			v.errf(p+".ports", "flow from %s to %s on every port is any to any in effect; list the ports or name the segments", f.From, f.To)
		}
	}
}

func (v *validator) ports() {
	for role := range v.cfg.Ports {
		if role != "default" && !isRole(role) {
			v.errf("$.ports."+role, "unknown role %q (use \"default\" or one of: %s)", role, strings.Join(Roles, ", "))
		}
	}
}

func (v *validator) detector(p string, d Detector) {
	switch d.Severity {
	case SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical:
	default:
		v.errf(p+".severity", "severity %q must be low, medium, high or critical", d.Severity)
	}
	v.durBetween(p+".suppress", d.Suppress, 0, 90*24*time.Hour)
}

func (v *validator) detectors() {
	d := &v.cfg.Detectors
	const p = "$.detectors."
	hourly := time.Duration(v.cfg.Retention.Hourly)

	st := d.SignificantTerms
	v.detector(p+"significant_terms", st.Detector)
	switch st.Heuristic {
	case HeuristicJLH, HeuristicMutualInformation, HeuristicChiSquare, HeuristicGND, HeuristicPercentage:
	default:
		v.errf(p+"significant_terms.heuristic", "heuristic %q must be one of jlh, mutual_information, chi_square, gnd, percentage", st.Heuristic)
	}
	v.between(p+"significant_terms.min_doc_count", st.MinDocCount, 1, 1000000)
	v.between(p+"significant_terms.size", st.Size, 1, 1000)
	v.durBetween(p+"significant_terms.window", st.Window, time.Hour, 30*24*time.Hour)
	if time.Duration(st.Window) >= hourly {
		v.errf(p+"significant_terms.window", "window %s must be shorter than retention.hourly (%s), which is its background", st.Window, v.cfg.Retention.Hourly)
	}

	vo := d.Volume
	v.detector(p+"volume", vo.Detector)
	if !(vo.Z > 0 && vo.Z <= 100) {
		v.errf(p+"volume.z", "%g is out of range (0-100]", vo.Z)
	}
	if !(vo.Ratio >= 1 && vo.Ratio <= 1000) {
		v.errf(p+"volume.ratio", "%g is out of range 1-1000", vo.Ratio)
	}
	if vo.MinExcessBytes < 0 {
		v.errf(p+"volume.min_excess_bytes", "must not be negative")
	}
	v.between(p+"volume.persistence", vo.Persistence, 1, 3)
	v.between(p+"volume.min_history_days", vo.MinHistoryDays, 1, 60)
	if time.Duration(vo.MinHistoryDays)*24*time.Hour > hourly {
		v.errf(p+"volume.min_history_days", "%d days is more history than retention.hourly (%s) keeps", vo.MinHistoryDays, v.cfg.Retention.Hourly)
	}

	v.detector(p+"unusual_ports", d.UnusualPorts.Detector)
	v.between(p+"unusual_ports.min_denies", d.UnusualPorts.MinDenies, 1, 1000000)
	v.durBetween(p+"unusual_ports.window", d.UnusualPorts.Window, time.Minute, 7*24*time.Hour)

	v.detector(p+"port_scan", d.PortScan.Detector)
	v.between(p+"port_scan.distinct_ports", d.PortScan.DistinctPorts, 2, 65535)
	v.durBetween(p+"port_scan.window", d.PortScan.Window, time.Minute, 24*time.Hour)

	v.detector(p+"new_vpn_source", d.NewVPNSource.Detector)
	v.between(p+"new_vpn_source.learning_days", d.NewVPNSource.LearningDays, 0, 365)

	v.detector(p+"segment_violation", d.SegmentViolation.Detector)
	v.detector(p+"san_crossing", d.SANCrossing.Detector)

	v.detector(p+"printer_egress", d.PrinterEgress.Detector)
	if d.PrinterEgress.MaxBytesPerWeek < 0 {
		v.errf(p+"printer_egress.max_bytes_per_week", "must not be negative")
	}

	v.detector(p+"silent_host", d.SilentHost.Detector)
	v.between(p+"silent_host.hours", d.SilentHost.Hours, 1, 24*90)

	v.detector(p+"dns_unapproved", d.DNSUnapproved.Detector)
}

func (v *validator) schedules() {
	if _, err := ParseSchedule(v.cfg.Schedules.Detect); err != nil {
		v.errf("$.schedules.detect", "%v", err)
	}
	if _, err := ParseSchedule(v.cfg.Schedules.Report); err != nil {
		v.errf("$.schedules.report", "%v", err)
	}
}

func (v *validator) retention() {
	r := v.cfg.Retention
	const p = "$.retention."
	day := 24 * time.Hour
	v.durBetween(p+"hourly", r.Hourly, 2*day, 400*day)
	v.durBetween(p+"daily", r.Daily, day, 10*365*day)
	v.durBetween(p+"raw", r.Raw, 0, 10*365*day)
	v.durBetween(p+"findings", r.Findings, day, 10*365*day)
	if r.Daily < r.Hourly {
		v.errf(p+"daily", "daily (%s) must be at least hourly (%s)", r.Daily, r.Hourly)
	}
}

func (v *validator) remediation() {
	r := v.cfg.Remediation
	const p = "$.remediation."
	v.durBetween(p+"block_duration.block", r.BlockDuration.Block, 0, 365*24*time.Hour)
	v.durBetween(p+"block_duration.quarantine", r.BlockDuration.Quarantine, 0, 365*24*time.Hour)
	v.between(p+"max_prefix_len_v4", r.MaxPrefixLenV4, 8, 32)
	v.between(p+"max_prefix_len_v6", r.MaxPrefixLenV6, 16, 128)
	v.between(p+"max_open_proposals", r.MaxOpenProposals, 1, 100_000)
	v.between(p+"max_new_proposals_per_day", r.MaxNewProposalsPerDay, 1, 100_000)
	if r.UseShun {
		v.durBetween(p+"shun_duration", r.ShunDuration, time.Minute, 7*24*time.Hour)
	}
}

func (v *validator) report() {
	s := v.cfg.Report.SMTP
	const p = "$.report.smtp."
	v.env(p+"password_env", s.PasswordEnv)
	if s.Host == "" {
		if s.From != "" || len(s.To) > 0 || s.User != "" || s.PasswordEnv != "" {
			v.errf(p+"host", "required when other smtp settings are given")
		}
		return
	}
	if strings.ContainsAny(s.Host, " \t\r\n/:@") {
		v.errf(p+"host", "%q is not a host name", s.Host)
	}
	v.between(p+"port", s.Port, 1, 65535)
	v.mailAddr(p+"from", s.From)
	if len(s.To) == 0 {
		v.errf(p+"to", "required: at least one recipient")
	}
	for i, to := range s.To {
		v.mailAddr(idx(p+"to", i), to)
	}
	if (s.User == "") != (s.PasswordEnv == "") {
		v.errf(p+"user", "user and password_env go together")
	}
}

func (v *validator) mailAddr(path, s string) {
	if s == "" {
		v.errf(path, "required")
		return
	}
	if strings.ContainsAny(s, "\r\n") {
		v.errf(path, "mail address must be one line")
		return
	}
	if _, err := mail.ParseAddress(s); err != nil {
		v.errf(path, "invalid mail address %q", s)
	}
}
