package fakeasa

import (
	"crypto/md5"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Device texts come from the reference notes (asa-cli.md §1.3). These are
// unconfirmed on a real ASA and may differ in wording or prefix: the
// duplicate-ACE line ("ERROR: access-list X: ACE not added. Possible
// duplicate entry"), "doesn't pair", shun replies ("Shun A added in
// context: single_vf", "ERROR: Shun A already exists", "ERROR: Unable to
// find shun A", "shun (outside) A 0.0.0.0 0 0 0"), "specified object <X>
// not found", the object-group type clash, and silence on removing an
// absent ACE or route.
type mode int

const (
	modeExec mode = iota
	modePriv
	modeConfig
	modeNetGroup
	modeTimeRange // timerange.go
)

// cliSession is the per-SSH-session CLI state; the device model it edits is
// shared and guarded by Server.mu.
type cliSession struct {
	srv       *Server
	mode      mode
	group     string
	timeRange string // the range being edited in modeTimeRange
	pager     int
	width     int
	context   string     // multiple-context mode: "system" or the context name
	conn      *connState // the SSH connection (nil in unit tests of commands)
}

func (s *cliSession) prompt() string {
	s.srv.mu.Lock()
	h := s.srv.m.hostname
	s.srv.mu.Unlock()
	if s.context != "" && s.context != "system" {
		h += "/" + s.context
	}
	switch s.mode {
	case modeExec:
		return h + "> "
	case modePriv:
		return h + "# "
	case modeConfig:
		return h + "(config)# "
	case modeTimeRange:
		return h + "(config-time-range)# "
	default:
		return h + "(config-network-object-group)# "
	}
}

func (s *cliSession) inConfig() bool {
	return s.mode == modeConfig || s.mode == modeNetGroup || s.mode == modeTimeRange
}

// result is the reply to one command line.
type result struct {
	out   string
	close bool
	// enable asks the session to read a secret with echo off.
	enable bool
	// delay is how long the box takes before replying (write memory).
	delay time.Duration
}

func render(line string, err *cliError) string {
	if err.caret < 0 {
		return err.text + "\n"
	}
	return line + "\n" + strings.Repeat(" ", err.caret) + "^\n" + err.text + "\n"
}

// renderIOS words errors like IOS: no "ERROR:" and the caret placed under
// the echoed line (after the prompt) instead of under a reprint.
func renderIOS(promptLen int, err *cliError) string {
	text := strings.TrimPrefix(err.text, "ERROR: ")
	if text == "% Incomplete command" {
		text += "."
	}
	if err.caret < 0 {
		return text + "\n"
	}
	return strings.Repeat(" ", promptLen+err.caret) + "^\n" + text + "\n"
}

// run executes one command line; the caller holds no lock.
func (s *cliSession) run(line string) result {
	line = strings.TrimRight(line, " \t")
	toks := tokenize(line)
	if len(toks) == 0 {
		return result{}
	}
	promptLen := len(s.prompt())
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if r, ok := s.srv.cfg.Replies[line]; ok && s.mode != modeExec {
		return result{out: r}
	}
	out, err := s.dispatch(line, toks)
	if err != nil {
		if s.srv.cfg.IOS {
			out.out += renderIOS(promptLen, err)
		} else {
			out.out += render(line, err)
		}
	}
	return out
}

func (s *cliSession) dispatch(line string, toks []token) (result, *cliError) {
	w := toks[0].s
	switch s.mode {
	case modeExec:
		switch w {
		case "enable":
			return result{enable: true}, nil
		case "exit", "logout", "quit":
			return result{close: true}, nil
		case "terminal":
			return s.terminal(toks, false)
		}
		return result{}, invalidAt(toks[0].pos)
	case modeNetGroup:
		if r, handled, err := s.groupCmd(line, toks); handled {
			return r, err
		}
		// A global command typed in a sub-mode leaves the sub-mode.
		s.mode, s.group = modeConfig, ""
		return s.configCmd(line, toks)
	case modeTimeRange:
		if r, handled, err := s.timeRangeCmd(line, toks); handled {
			return r, err
		}
		s.mode, s.timeRange = modeConfig, ""
		return s.configCmd(line, toks)
	case modeConfig:
		return s.configCmd(line, toks)
	}
	return s.privCmd(line, toks)
}

func (s *cliSession) privCmd(line string, toks []token) (result, *cliError) {
	m := s.srv.m
	w := toks[0].s
	args := words(toks[1:])
	switch w {
	case "show":
		return s.show(toks)
	case "configure":
		if len(args) == 1 && strings.HasPrefix("terminal", args[0]) {
			s.mode = modeConfig
			if s.srv.role == "standby" {
				return result{out: standbyWarning}, nil
			}
			return result{}, nil
		}
		if len(args) == 0 {
			return result{}, incomplete()
		}
		return result{}, invalidAt(toks[1].pos)
	case "enable":
		return result{}, nil
	case "disable":
		s.mode = modeExec
		return result{}, nil
	case "exit", "logout", "quit":
		return result{close: true}, nil
	case "terminal":
		return s.terminal(toks, false)
	case "write":
		if len(args) == 1 && (args[0] == "memory" || args[0] == "mem") {
			return s.writeMemory(), nil
		}
		return result{}, invalidAt(toks[len(toks)-1].pos)
	case "shun":
		return s.shunCmd(toks) // conns.go
	case "changeto":
		return s.changeto(toks)
	case "packet-tracer":
		return s.packetTracer(toks) // tracer.go
	case "no":
		if len(toks) >= 3 && toks[1].s == "shun" {
			a, err := netip.ParseAddr(toks[2].s)
			if err != nil || !a.Is4() {
				return result{}, invalidAt(toks[2].pos)
			}
			i := slices.Index(m.shuns, a)
			if i < 0 {
				return result{}, devErr("ERROR: Unable to find shun %s", a)
			}
			m.shuns = slices.Delete(m.shuns, i, i+1)
			return result{}, nil
		}
		return result{}, invalidAt(toks[0].pos)
	case "clear":
		if len(args) == 1 && args[0] == "shun" {
			m.shuns = nil
			return result{}, nil
		}
		if len(args) >= 1 && args[0] == "conn" {
			return s.clearConn(toks) // conns.go
		}
		if len(args) == 3 && args[0] == "access-list" && args[2] == "counters" {
			a := m.acls[args[1]]
			if a == nil {
				return result{}, devErr("ERROR: access-list <%s> does not exist", args[1])
			}
			for _, e := range a.entries {
				clear(e.hits)
			}
			return result{}, nil
		}
		return result{}, invalidAt(toks[len(toks)-1].pos)
	}
	return result{}, invalidAt(toks[0].pos)
}

func words(toks []token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.s
	}
	return out
}

// standbyWarning is what a standby unit prints on "configure terminal".
const standbyWarning = `**** WARNING ****
	Configuration Replication is NOT performed from Standby unit to Active unit.
	Configurations are no longer synchronized.
`

func (s *cliSession) writeMemory() result {
	m := s.srv.m
	m.startup = m.render()
	return result{delay: s.srv.cfg.WriteDelay, out: fmt.Sprintf("Building configuration...\nCryptochecksum: %s \n\n%d bytes copied in 3.280 secs (%d bytes/sec)\n[OK]\n",
		spaced(checksum(m.startup)), len(m.startup), len(m.startup)/3)}
}

// checksum is the box's MD5 over the configuration lines (comment lines
// starting with ":" and the checksum line itself left out).
func checksum(cfg string) string {
	h := md5.New()
	for _, l := range strings.SplitAfter(cfg, "\n") {
		if strings.HasPrefix(l, ":") || strings.HasPrefix(l, "Cryptochecksum:") {
			continue
		}
		h.Write([]byte(l))
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// spaced groups a 32-digit checksum in fours of 8, as "show checksum" does.
func spaced(sum string) string {
	return sum[0:8] + " " + sum[8:16] + " " + sum[16:24] + " " + sum[24:32]
}

// startupText is "show startup-config": the saved text with its checksum
// line before ": end" (at the end when there is none).
func (m *model) startupText() string {
	var b strings.Builder
	sum := "Cryptochecksum:" + checksum(m.startup) + "\n"
	wrote := false
	for _, l := range strings.SplitAfter(m.startup, "\n") {
		if strings.HasPrefix(l, "Cryptochecksum:") {
			continue
		}
		if strings.HasPrefix(l, ": end") && !wrote {
			b.WriteString(sum)
			wrote = true
		}
		b.WriteString(l)
	}
	if !wrote {
		b.WriteString(sum)
	}
	return b.String()
}

// version is the configured software version ("ASA Version 8.2(5)").
func (m *model) version() string {
	for _, it := range m.items {
		if it.kind == itemVerbatim && len(it.lines) > 0 && strings.HasPrefix(it.lines[0], "ASA Version ") {
			return strings.TrimSpace(strings.TrimPrefix(it.lines[0], "ASA Version "))
		}
	}
	return "8.2(5)"
}

func (s *cliSession) showVersion() string {
	srv, m := s.srv, s.srv.m
	var b strings.Builder
	v := m.version()
	fmt.Fprintf(&b, "\nCisco Adaptive Security Appliance Software Version %s\nDevice Manager Version 6.4(5)\n\n", v)
	fmt.Fprintf(&b, "Compiled on Fri 27-May-11 00:59 by builders\nSystem image file is \"disk0:/asa%s-k8.bin\"\nConfig file at boot was \"startup-config\"\n\n",
		strings.NewReplacer("(", "", ")", "", ".", "").Replace(v))
	fmt.Fprintf(&b, "%s up 1 day 2 hours\n", m.hostname)
	if srv.role != "" {
		b.WriteString("failover cluster up 1 day 2 hours\n")
	}
	b.WriteString("\nHardware:   ASA5510, 1024 MB RAM, CPU Pentium 4 Celeron 1600 MHz\n")
	fmt.Fprintf(&b, "\nSerial Number: JMX1234L0AB\nRunning Permanent Activation Key: 0x00000000 0x00000000\nConfiguration register is 0x1\n")
	if srv.changed.IsZero() {
		b.WriteString("Configuration has not been modified since last system restart.\n")
	} else {
		fmt.Fprintf(&b, "Configuration last modified by enable_15 at %s\n", srv.changed.UTC().Format("15:04:05.000 UTC Mon Jan 2 2006"))
	}
	return b.String()
}

func (s *cliSession) showFailover() string {
	switch s.srv.role {
	case "":
		return "Failover Off\nFailover unit Primary\nFailover LAN Interface: not Configured\nReconnect timeout 0:00:00\n" +
			"Unit Poll frequency 1 seconds, holdtime 15 seconds\nInterface Poll frequency 5 seconds, holdtime 25 seconds\n"
	case "standby":
		return "Failover On\nFailover unit Secondary\nFailover LAN Interface: folink Ethernet0/3 (up)\n" +
			"Version: Ours " + s.srv.m.version() + ", Mate " + s.srv.m.version() + "\n" +
			"\tThis host: Secondary - Standby Ready\n\t\tActive time: 0 (sec)\n" +
			"\tOther host: Primary - Active\n\t\tActive time: 93600 (sec)\n"
	}
	return "Failover On\nFailover unit Primary\nFailover LAN Interface: folink Ethernet0/3 (up)\n" +
		"Version: Ours " + s.srv.m.version() + ", Mate " + s.srv.m.version() + "\n" +
		"\tThis host: Primary - Active\n\t\tActive time: 93600 (sec)\n" +
		"\tOther host: Secondary - Standby Ready\n\t\tActive time: 0 (sec)\n"
}

// changeto handles "changeto context NAME" and "changeto system" in
// multiple-context mode.
func (s *cliSession) changeto(toks []token) (result, *cliError) {
	if len(s.srv.cfg.Contexts) == 0 {
		return result{}, invalidAt(toks[0].pos)
	}
	switch {
	case len(toks) == 2 && toks[1].s == "system":
		s.context = "system"
		return result{}, nil
	case len(toks) == 3 && toks[1].s == "context":
		if !slices.Contains(s.srv.cfg.Contexts, toks[2].s) {
			return result{}, devErr("ERROR: Context %s does not exist", toks[2].s) // unconfirmed wording
		}
		s.context = toks[2].s
		return result{}, nil
	}
	return result{}, incomplete()
}

func (s *cliSession) terminal(toks []token, config bool) (result, *cliError) {
	if len(toks) < 2 {
		return result{}, incomplete()
	}
	switch toks[1].s {
	case "pager":
		if s.srv.cfg.IOS {
			return result{}, invalidAt(toks[1].pos)
		}
		// "terminal pager 0" and "terminal pager lines 0".
		rest := toks[2:]
		if len(rest) > 0 && rest[0].s == "lines" {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			return result{}, incomplete()
		}
		n, err := strconv.Atoi(rest[0].s)
		if err != nil || n < 0 || n > 2147483647 {
			return result{}, invalidAt(rest[0].pos)
		}
		s.pager = n
		return result{}, nil
	case "length":
		if !s.srv.cfg.IOS {
			return result{}, invalidAt(toks[1].pos)
		}
		if len(toks) != 3 {
			return result{}, incomplete()
		}
		if n, err := strconv.Atoi(toks[2].s); err != nil || n < 0 || n > 512 {
			return result{}, invalidAt(toks[2].pos)
		}
		return result{}, nil
	case "width":
		if s.srv.cfg.IOS {
			if len(toks) != 3 {
				return result{}, incomplete()
			}
			if n, err := strconv.Atoi(toks[2].s); err != nil || n < 0 || n > 512 {
				return result{}, invalidAt(toks[2].pos)
			}
			return result{}, nil
		}
		if !config {
			// The ASA only takes "terminal width" in configuration mode.
			return result{}, invalidAt(toks[1].pos)
		}
		if len(toks) != 3 {
			return result{}, incomplete()
		}
		n, err := strconv.Atoi(toks[2].s)
		if err != nil || n < 40 || n > 511 {
			return result{}, invalidAt(toks[2].pos)
		}
		s.width = n
		return result{}, nil
	}
	return result{}, invalidAt(toks[1].pos)
}

func (s *cliSession) show(toks []token) (result, *cliError) {
	m := s.srv.m
	if len(toks) < 2 {
		return result{}, incomplete()
	}
	args := words(toks[2:])
	switch toks[1].s {
	case "running-config", "run":
		return result{out: m.showRunning(args)}, nil
	case "access-list":
		name := ""
		if len(args) > 0 {
			name = args[0]
		}
		out, err := m.showAccessList(name)
		return result{out: out}, err
	case "shun":
		return s.showShun(toks[2:]) // conns.go
	case "conn":
		return s.showConn(toks[2:])
	case "route":
		return s.showRoute(toks[2:])
	case "clock", "time-range":
		return s.showClock(toks) // clock.go
	case "hostname":
		return result{out: m.hostname + "\n"}, nil
	case "version":
		return result{out: s.showVersion()}, nil
	case "failover":
		return result{out: s.showFailover()}, nil
	case "mode":
		if len(s.srv.cfg.Contexts) > 0 {
			return result{out: "Security context mode: multiple\n"}, nil
		}
		return result{out: "Security context mode: single\n"}, nil
	case "terminal":
		return result{out: fmt.Sprintf("Width = %d, no monitor\nterminal interactive\n", s.width)}, nil
	case "pager":
		if s.pager == 0 {
			return result{out: "no pager\n"}, nil
		}
		return result{out: fmt.Sprintf("pager lines %d\n", s.pager)}, nil
	case "checksum":
		return result{out: "Cryptochecksum: " + spaced(checksum(m.render())) + " \n"}, nil
	case "startup-config", "start":
		return result{out: m.startupText()}, nil
	}
	return result{}, invalidAt(toks[1].pos)
}

func (s *cliSession) configCmd(line string, toks []token) (result, *cliError) {
	m := s.srv.m
	w := toks[0].s
	switch w {
	case "show":
		return s.show(toks)
	case "exit":
		s.mode = modePriv
		return result{}, nil
	case "end":
		s.mode, s.group = modePriv, ""
		return result{}, nil
	case "terminal":
		return s.terminal(toks, true)
	case "write":
		return s.privCmd(line, toks)
	case "hostname":
		if len(toks) != 2 {
			return result{}, incomplete()
		}
		if !validName(toks[1].s) {
			return result{}, invalidAt(toks[1].pos)
		}
		m.hostname = toks[1].s
		return result{}, nil
	case "object-group":
		if len(toks) < 3 {
			return result{}, incomplete()
		}
		if toks[1].s != "network" {
			return result{}, invalidAt(toks[1].pos)
		}
		name := toks[2].s
		if !validName(name) {
			return result{}, invalidAt(toks[2].pos)
		}
		if len(toks) > 3 {
			return result{}, invalidAt(toks[3].pos)
		}
		if g := m.groups[name]; g != nil && g.kind != "network" {
			return result{}, devErr("ERROR: Object-group %s already exists with a different type", name)
		}
		if m.groups[name] == nil {
			m.groups[name] = &objGroup{kind: "network", name: name}
			m.groupOrder = append(m.groupOrder, name)
		}
		s.mode, s.group = modeNetGroup, name
		return result{}, nil
	case "access-list":
		if err := m.checkTimeRangeRef(toks); err != nil {
			return result{}, err
		}
		return result{}, m.addACE(line, true)
	case "time-range":
		return s.enterTimeRange(toks) // timerange.go
	case "logging":
		// `logging host IFNAME ADDR`, kept verbatim (a syslog host is one
		// of the box's own protected addresses).
		if len(toks) != 4 || toks[1].s != "host" {
			return result{}, invalidAt(toks[min(1, len(toks)-1)].pos)
		}
		if !m.hasNameif(toks[2].s) {
			return result{}, invalidAt(toks[2].pos)
		}
		if _, err := netip.ParseAddr(toks[3].s); err != nil {
			return result{}, invalidAt(toks[3].pos)
		}
		m.items = append(m.items, item{kind: itemVerbatim, lines: []string{strings.Join([]string{"logging host", toks[2].s, toks[3].s}, " ")}})
		return result{}, nil
	case "same-security-traffic":
		return s.sameSecurity(toks, false) // clock.go
	case "packet-tracer":
		return s.packetTracer(toks)
	case "access-group":
		return result{}, s.accessGroup(toks, false)
	case "route":
		r, err := parseRoute(toks[1:])
		if err != nil {
			return result{}, err
		}
		if len(m.ifaces) > 0 && !m.hasNameif(r.ifname) {
			return result{}, invalidAt(toks[1].pos)
		}
		for _, x := range m.routes {
			if x.ifname == r.ifname && x.dest == r.dest && x.mask == r.mask && x.gw == r.gw {
				return result{}, devErr("Route already exists")
			}
		}
		m.routes = append(m.routes, r)
		return result{}, nil
	case "clear":
		if len(toks) == 4 && toks[1].s == "configure" && toks[2].s == "access-list" {
			m.deleteACL(toks[3].s)
			return result{}, nil
		}
		return result{}, invalidAt(toks[len(toks)-1].pos)
	case "no":
		return s.noCmd(line, toks)
	case "shun":
		return result{}, invalidAt(toks[0].pos)
	}
	return result{}, invalidAt(toks[0].pos)
}

func (s *cliSession) noCmd(line string, toks []token) (result, *cliError) {
	m := s.srv.m
	if len(toks) < 2 {
		return result{}, incomplete()
	}
	switch toks[1].s {
	case "time-range":
		return s.removeTimeRange(toks)
	case "same-security-traffic":
		return s.sameSecurity(toks[1:], true)
	case "object-group":
		if len(toks) < 4 {
			return result{}, incomplete()
		}
		name := toks[3].s
		g := m.groups[name]
		if g == nil || g.kind != toks[2].s {
			return result{}, devErr("ERROR: specified object group <%s> not found", name)
		}
		if m.groupInUse(name) {
			return result{}, devErr("Removing object-group (%s) not allowed, it is being used.", name)
		}
		delete(m.groups, name)
		m.groupOrder = slices.DeleteFunc(m.groupOrder, func(n string) bool { return n == name })
		return result{}, nil
	case "access-list":
		if len(toks) < 4 {
			return result{}, incomplete()
		}
		return result{}, m.removeACE(line)
	case "access-group":
		return result{}, s.accessGroup(toks[1:], true)
	case "route":
		r, err := parseRoute(toks[2:])
		if err != nil {
			return result{}, err
		}
		n := len(m.routes)
		m.routes = slices.DeleteFunc(m.routes, func(x route) bool {
			return x.ifname == r.ifname && x.dest == r.dest && x.mask == r.mask && x.gw == r.gw
		})
		if len(m.routes) == n {
			return result{}, devErr("ERROR: Route does not exist") // unconfirmed wording
		}
		return result{}, nil
	}
	return result{}, invalidAt(toks[1].pos)
}

// accessGroup handles "access-group NAME in|out interface IF" (toks start at
// "access-group").
func (s *cliSession) accessGroup(toks []token, remove bool) *cliError {
	m := s.srv.m
	if len(toks) < 5 {
		return incomplete()
	}
	name, dir, kw, ifname := toks[1], toks[2], toks[3], toks[4]
	if dir.s != "in" && dir.s != "out" {
		return invalidAt(dir.pos)
	}
	if kw.s != "interface" {
		return invalidAt(kw.pos)
	}
	if len(m.ifaces) > 0 && !m.hasNameif(ifname.s) {
		return invalidAt(ifname.pos)
	}
	if len(toks) > 5 {
		return invalidAt(toks[5].pos)
	}
	text := strings.Join([]string{"access-group", name.s, dir.s, "interface", ifname.s}, " ")
	if remove {
		n := len(m.accessGroups)
		m.accessGroups = slices.DeleteFunc(m.accessGroups, func(l string) bool { return l == text })
		if len(m.accessGroups) == n {
			return devErr("ERROR: access-group %s is not bound to interface %s", name.s, ifname.s) // unconfirmed wording
		}
		return nil
	}
	if m.acls[name.s] == nil {
		return devErr("ERROR: access-list <%s> does not exist", name.s)
	}
	// One ACL per interface and direction: a new binding replaces the old.
	suffix := " " + dir.s + " interface " + ifname.s
	m.accessGroups = slices.DeleteFunc(m.accessGroups, func(l string) bool { return strings.HasSuffix(l, suffix) })
	m.accessGroups = append(m.accessGroups, text)
	return nil
}

// groupCmd handles object-group sub-mode commands; handled is false for
// commands that belong to global configuration.
func (s *cliSession) groupCmd(line string, toks []token) (r result, handled bool, err *cliError) {
	m := s.srv.m
	g := m.groups[s.group]
	if g == nil {
		s.mode = modeConfig
		return result{}, false, nil
	}
	w := toks[0].s
	neg := false
	if w == "no" && len(toks) > 1 {
		neg = true
		toks = toks[1:]
		w = toks[0].s
	}
	switch w {
	case "exit":
		if neg {
			return result{}, true, invalidAt(toks[0].pos)
		}
		s.mode, s.group = modeConfig, ""
		return result{}, true, nil
	case "end":
		s.mode, s.group = modePriv, ""
		return result{}, true, nil
	case "description":
		if neg {
			g.desc = ""
			return result{}, true, nil
		}
		if len(toks) < 2 {
			return result{}, true, incomplete()
		}
		text := strings.TrimRight(line[toks[1].pos:], " ")
		if len(text) > 200 {
			return result{}, true, invalidAt(toks[1].pos + 200)
		}
		g.desc = text
		return result{}, true, nil
	case "network-object":
		member, cerr := parseMember(toks)
		if cerr != nil {
			return result{}, true, cerr
		}
		i := slices.Index(g.children, member)
		if neg {
			if i < 0 {
				return result{}, true, devErr("obj does not exist in this group")
			}
			if len(g.children) == 1 && m.groupInUse(g.name) {
				return result{}, true, devErr("Removing obj from object-group not allowed; object-group (%s), being used in access-list or threat-detection or NAT, would become empty", g.name)
			}
			g.children = slices.Delete(g.children, i, i+1)
			return result{}, true, nil
		}
		if i >= 0 {
			return result{}, true, devErr("Adding obj (%s) to grp (%s) failed; object already exists", member, g.name)
		}
		g.children = append(g.children, member)
		return result{}, true, nil
	}
	return result{}, false, nil
}

// parseMember parses "network-object host A" or "network-object A MASK"
// into its canonical text.
func parseMember(toks []token) (string, *cliError) {
	if len(toks) < 2 {
		return "", incomplete()
	}
	if toks[1].s == "host" {
		if len(toks) < 3 {
			return "", incomplete()
		}
		a, err := netip.ParseAddr(toks[2].s)
		if err != nil || a.Zone() != "" || a.Is4In6() {
			return "", invalidAt(toks[2].pos)
		}
		if len(toks) > 3 {
			return "", invalidAt(toks[3].pos)
		}
		return "network-object host " + a.String(), nil
	}
	if strings.Contains(toks[1].s, ":") {
		// IPv6 members are written PREFIX/LEN.
		p, err := netip.ParsePrefix(toks[1].s)
		if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() {
			return "", invalidAt(toks[1].pos)
		}
		if len(toks) > 2 {
			return "", invalidAt(toks[2].pos)
		}
		if p.Bits() == 128 {
			return "network-object host " + p.Addr().String(), nil
		}
		return "network-object " + p.Masked().String(), nil
	}
	if len(toks) < 3 {
		return "", incomplete()
	}
	p, cerr := parseAddrMask(toks[1], toks[2])
	if cerr != nil {
		return "", cerr
	}
	if len(toks) > 3 {
		return "", invalidAt(toks[3].pos)
	}
	if p.Bits() == 32 {
		return "network-object host " + p.Addr().String(), nil
	}
	return "network-object " + p.Addr().String() + " " + toks[2].s, nil
}
