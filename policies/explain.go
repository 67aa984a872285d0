package policies

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Explain is the human summary `firebreak policy check` prints: devices, networks by role,
// flows, protected addresses, detectors and thresholds, and the schedules with their next two
// runs after now in the schedules' zone. c must come from Load, Parse or Embedded.
func Explain(c *Config, now time.Time) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }

	p("Policy %q, time zone %s, from %s\n", c.Site, c.Timezone, strings.Join(c.files, ", "))

	co := c.Collector
	p("\nCollector\n")
	p("  listen\tudp %s, tcp %s; metrics and dashboard http %s\n", co.UDPListen, co.TCPListen, co.HTTPListen)
	p("  data dir\t%s (api socket %s)\n", co.DataDir, co.APISocketPath())
	p("  pipeline\tflush every %s, queue %d frames, max message %s, workers %s\n",
		co.FlushInterval, co.QueueSize, co.MaxMessageSize, workers(co.Workers))

	p("\nDevices (%d)\n", len(c.Devices))
	for i := range c.Devices {
		d := &c.Devices[i]
		p("  %s\t%s\tsyslog from %s\tzone %s\n", d.Name, d.Kind, joinAddrs(d.SyslogSources), d.Timezone)
		if !d.Manageable() {
			p("  \t\tnot managed (no ssh address): findings only\n")
			continue
		}
		s := d.SSH
		var creds []string
		if s.PasswordEnv != "" {
			creds = append(creds, "password from $"+s.PasswordEnv)
		}
		if s.KeyFile != "" {
			creds = append(creds, "key "+s.KeyFile)
		}
		if s.Agent {
			creds = append(creds, "ssh-agent")
		}
		if s.EnablePasswordEnv != "" {
			creds = append(creds, "enable from $"+s.EnablePasswordEnv)
		}
		legacy := ""
		if s.LegacyAlgorithms {
			legacy = ", legacy algorithms allowed"
		}
		p("  \t\tssh %s@%s (%s; host keys from %s%s)\n", s.User, netip.AddrPortFrom(s.Address, uint16(s.Port)),
			strings.Join(creds, ", "), s.KnownHosts, legacy)
		if d.Kind == KindASA {
			p("  \t\tblocks: object-group %s, ACL %s on %s; quarantines: ACL %s on %s\n",
				d.ObjectGroup, d.OutsideACL, d.OutsideInterface, d.InsideACL, d.InsideInterface)
		}
	}

	nprefix := 0
	for i := range c.Networks {
		nprefix += len(c.Networks[i].Prefixes)
	}
	p("\nNetworks (%d networks, %d prefixes; the most specific prefix decides)\n", len(c.Networks), nprefix)
	for _, role := range Roles {
		for i, n := range c.NetworksByRole(role) {
			label := ""
			if i == 0 {
				label = role
			}
			extra := ""
			if n.Building != "" {
				extra += " building " + n.Building
			}
			if n.ExpectedSilentHours > 0 {
				extra += fmt.Sprintf(" silent after %dh", n.ExpectedSilentHours)
			}
			if len(n.Hosts) > 0 {
				extra += fmt.Sprintf(" %d named hosts", len(n.Hosts))
			}
			ps := joinPrefixes(n.Prefixes[:min(len(n.Prefixes), 4)])
			if len(n.Prefixes) > 4 {
				ps += fmt.Sprintf(" (+%d more)", len(n.Prefixes)-4)
			}
			p("  %s\t%s\t%s\t%s\n", label, n.Name, ps, strings.TrimSpace(extra+inside(c, n)))
		}
	}
	if len(c.Internal) > 0 {
		p("  internal, no role\t%s\n", joinPrefixes(c.Internal))
	}

	p("\nFlows (%d; anything else between segments is a violation)\n", len(c.Flows))
	for _, f := range c.Flows {
		ports := "every port"
		if len(f.Ports) > 0 {
			ports = joinPorts(f.Ports)
		}
		p("  %s -> %s\t%s\t%s\n", f.From, f.To, ports, f.Description)
	}

	p("\nDNS resolvers\t%s\n", orNone(joinAddrs(c.DNS.ApprovedResolvers)))
	p("\nConventional ports\n")
	roles := make([]string, 0, len(c.Ports))
	for r := range c.Ports {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	for _, r := range roles {
		p("  %s\t%s\n", r, orNone(joinPorts(c.Ports[r])))
	}

	p("\nProtected (never blocked)\t%s\n", orNone(joinPrefixes(c.Protected)))
	p("  and implicitly\tmanagement networks, approved resolvers, device syslog and ssh addresses\n")

	d := c.Detectors
	p("\nDetectors\n")
	det := func(name string, x Detector, settings string) {
		state := "off"
		if x.Enabled {
			state = "on"
		}
		p("  %s\t%s\t%s\tsuppress %s\t%s\n", name, state, x.Severity, x.Suppress, settings)
	}
	st := d.SignificantTerms
	det("significant_terms", st.Detector, fmt.Sprintf("heuristic %s, min_doc_count %d, window %s, size %d", st.Heuristic, st.MinDocCount, st.Window, st.Size))
	vo := d.Volume
	det("volume", vo.Detector, fmt.Sprintf("z >= %g, ratio >= %g, excess >= %s, persistence %d of 3h, min history %dd", vo.Z, vo.Ratio, vo.MinExcessBytes, vo.Persistence, vo.MinHistoryDays))
	det("unusual_ports", d.UnusualPorts.Detector, fmt.Sprintf("min_denies %d in %s", d.UnusualPorts.MinDenies, d.UnusualPorts.Window))
	det("port_scan", d.PortScan.Detector, fmt.Sprintf("%d distinct ports in %s", d.PortScan.DistinctPorts, d.PortScan.Window))
	det("new_vpn_source", d.NewVPNSource.Detector, fmt.Sprintf("learning %dd", d.NewVPNSource.LearningDays))
	det("segment_violation", d.SegmentViolation.Detector, "")
	det("san_crossing", d.SANCrossing.Detector, "")
	det("printer_egress", d.PrinterEgress.Detector, fmt.Sprintf("max %s per week", d.PrinterEgress.MaxBytesPerWeek))
	det("silent_host", d.SilentHost.Detector, fmt.Sprintf("named hosts silent after %dh", d.SilentHost.Hours))
	det("dns_unapproved", d.DNSUnapproved.Detector, "")

	s := c.Schedules
	p("\nSchedules (zone %s)\n", s.Timezone)
	for _, job := range []struct{ name, spec string }{{"detect", s.Detect}, {"report", s.Report}} {
		p("  %s\t%s\tnext %s\n", job.name, job.spec, nextRuns(job.spec, s.loc, now))
	}

	r := c.Retention
	p("\nRetention\thourly %s, daily %s, raw archive %s, findings %s\n", r.Hourly, r.Daily, r.Raw, r.Findings)
	re := c.Remediation
	p("Remediation\tblock %s, quarantine %s, broadest block /%d (IPv4) /%d (IPv6)\n",
		forever(re.BlockDuration.Block), forever(re.BlockDuration.Quarantine), re.MaxPrefixLenV4, re.MaxPrefixLenV6)
	p("  \tremove on expiry %s, push on approve %s, shun %s\n", yesNo(re.AutoRemoveOnExpiry), yesNo(re.PushOnApprove), shun(re))
	p("People\t%s\n", people(c.People))
	mailTo := "no mail"
	if c.Report.SMTP.Host != "" {
		mailTo = fmt.Sprintf("mail %s via %s:%d", strings.Join(c.Report.SMTP.To, ", "), c.Report.SMTP.Host, c.Report.SMTP.Port)
	}
	p("Report\tto %s, %s\n", c.Report.OutDir, mailTo)
	p("Alerts\t%s\n", alertsLine(c.Findings.Alerts))
	tw.Flush()
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// alertsLine says who gets alerts; webhooks are counted, not shown (their URLs are secrets).
func alertsLine(a Alerts) string {
	var to []string
	if a.Mail {
		to = append(to, "mail")
	}
	if n := len(a.Webhooks); n > 0 {
		to = append(to, fmt.Sprintf("%d webhook(s)", n))
	}
	if a.MinSeverity == "" || len(to) == 0 {
		return "none (findings.alerts)"
	}
	return fmt.Sprintf("%s and above to %s, at most %d messages an hour each, then a digest", a.MinSeverity, strings.Join(to, " and "), a.MaxPerHour)
}

func nextRuns(spec string, loc *time.Location, now time.Time) string {
	sched, err := ParseSchedule(spec)
	if err != nil || loc == nil {
		return "(invalid)"
	}
	t1 := sched.Next(now.In(loc))
	t2 := sched.Next(t1)
	const layout = "2006-01-02 15:04 MST"
	return t1.Format(layout) + ", then " + t2.Format(layout)
}

// inside names the networks whose broader prefixes contain this network's prefixes.
func inside(c *Config, n *Network) string {
	var outer []string
	for i := range c.Networks {
		o := &c.Networks[i]
		if o == n {
			continue
		}
	next:
		for _, op := range o.Prefixes {
			for _, np := range n.Prefixes {
				if op.Bits() < np.Bits() && op.Contains(np.Addr()) {
					outer = append(outer, o.Name)
					break next
				}
			}
		}
	}
	if len(outer) == 0 {
		return ""
	}
	return " (inside " + strings.Join(outer, ", ") + ")"
}

func workers(n int) string {
	if n == 0 {
		return "one per CPU"
	}
	return fmt.Sprint(n)
}

func forever(d Duration) string {
	if d == 0 {
		return "until removed"
	}
	return d.String()
}

func people(pp People) string {
	sock := "socket for the daemon's user only (0600)"
	if pp.AdminGroup != "" {
		sock = "socket for group " + pp.AdminGroup + " (0660)"
	}
	who := "anyone may approve"
	if len(pp.Approvers) > 0 {
		who = "approvers " + strings.Join(pp.Approvers, ", ")
	}
	for _, k := range ApprovalKinds {
		if l, ok := pp.ApproversByKind[k]; ok {
			who += "; " + k + ": " + strings.Join(l, ", ")
		}
	}
	if pp.ProposerCannotApprove {
		who += "; the proposer cannot approve"
	}
	if len(pp.TwoPerson) > 0 {
		who += "; two approvers for " + strings.Join(pp.TwoPerson, ", ")
	}
	return sock + ", " + who
}

func shun(r Remediation) string {
	if !r.UseShun {
		return "no"
	}
	return "for " + r.ShunDuration.String()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		if p.IsSingleIP() {
			s[i] = p.Addr().String()
		} else {
			s[i] = p.String()
		}
	}
	return strings.Join(s, ", ")
}

func joinPorts(ps []Port) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
