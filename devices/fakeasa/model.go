package fakeasa

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

type itemKind int

const (
	itemVerbatim itemKind = iota
	itemHostname
	itemGroups
	itemACLs
	itemAccessGroups
	itemRoutes
)

// item is one place in the running config: either verbatim lines (a top
// level line and its indented children) or a managed section rendered from
// the model.
type item struct {
	kind  itemKind
	lines []string
}

type objGroup struct {
	kind     string // network, service, protocol, ...
	suffix   string // e.g. "tcp" in "object-group service NAME tcp"
	name     string
	desc     string
	children []string // canonical member lines without the leading space
}

// members returns the prefixes of a network group's members, nested groups
// expanded, with the text "show access-list" prints for each.
func (m *model) members(g *objGroup) (texts []string, prefixes []netip.Prefix) {
	return m.membersSeen(g, map[string]bool{})
}

func (m *model) membersSeen(g *objGroup, seen map[string]bool) (texts []string, prefixes []netip.Prefix) {
	if seen[g.name] {
		return nil, nil
	}
	seen[g.name] = true
	for _, c := range g.children {
		f := strings.Fields(c)
		if len(f) == 2 && f[0] == "group-object" {
			if sub := m.groups[f[1]]; sub != nil {
				t, p := m.membersSeen(sub, seen)
				texts, prefixes = append(texts, t...), append(prefixes, p...)
			}
			continue
		}
		if len(f) == 2 && f[0] == "network-object" {
			// IPv6 "network-object 2001:db8::/64".
			if p, err := netip.ParsePrefix(f[1]); err == nil {
				texts = append(texts, p.String())
				prefixes = append(prefixes, p.Masked())
			}
			continue
		}
		if len(f) != 3 || f[0] != "network-object" {
			continue
		}
		switch {
		case f[1] == "host":
			a, ok := m.names[f[2]]
			if !ok {
				var err error
				if a, err = netip.ParseAddr(f[2]); err != nil {
					continue
				}
			}
			texts = append(texts, "host "+f[2])
			prefixes = append(prefixes, netip.PrefixFrom(a, a.BitLen()))
		case f[1] == "object":
			if p, ok := m.objects[f[2]]; ok {
				texts = append(texts, objectText(p))
				prefixes = append(prefixes, p)
			}
		default:
			a, ok := m.names[f[1]]
			if !ok {
				var err error
				if a, err = netip.ParseAddr(f[1]); err != nil {
					continue
				}
			}
			if bits, ok := parseMask(f[2]); ok {
				texts = append(texts, f[1]+" "+f[2])
				prefixes = append(prefixes, netip.PrefixFrom(a, bits))
			}
		}
	}
	return texts, prefixes
}

func objectText(p netip.Prefix) string {
	if p.Bits() == 32 {
		return "host " + p.Addr().String()
	}
	return p.Addr().String() + " " + maskString(p.Bits())
}

type accessList struct {
	name    string
	entries []*ace
}

type route struct {
	ifname, dest, mask, gw string
	dist                   int
}

func (r route) String() string {
	return fmt.Sprintf("route %s %s %s %s %d", r.ifname, r.dest, r.mask, r.gw, r.dist)
}

type iface struct {
	nameif string
	addr   netip.Prefix
}

// model is the device state. It is guarded by Server.mu.
type model struct {
	hostname     string
	items        []item
	groups       map[string]*objGroup
	groupOrder   []string
	acls         map[string]*accessList
	aclOrder     []string
	accessGroups []string
	routes       []route
	ifaces       []iface
	shuns        []netip.Addr
	startup      string
	// names and objects are read from the saved config ("name A NAME",
	// "object network NAME" with host/subnet) and resolved in rules.
	names   map[string]netip.Addr
	objects map[string]netip.Prefix
	// linkDown are the nameifs whose link is down (a cable, the peer
	// switch): state, not configuration.
	linkDown map[string]bool
}

func newModel() *model {
	return &model{
		groups: map[string]*objGroup{}, acls: map[string]*accessList{},
		names: map[string]netip.Addr{}, objects: map[string]netip.Prefix{},
	}
}

// parseRunningConfig builds the model from a saved configuration text.
func parseRunningConfig(text string) (*model, error) {
	m := newModel()
	m.hostname = "asa"
	lines := strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1]
	}
	seen := map[itemKind]bool{}
	var curGroup *objGroup
	var curIface *item
	curObject := ""
	section := func(k itemKind) {
		if !seen[k] {
			seen[k] = true
			m.items = append(m.items, item{kind: k})
		}
	}
	for i, ln := range lines {
		fail := func(err error) error { return fmt.Errorf("running config line %d %q: %w", i+1, ln, err) }
		if strings.HasPrefix(ln, " ") && ln != " " {
			switch {
			case curGroup != nil:
				child := strings.TrimSpace(ln)
				if d, ok := strings.CutPrefix(child, "description "); ok {
					curGroup.desc = d
				} else {
					curGroup.children = append(curGroup.children, child)
				}
			case len(m.items) > 0 && m.items[len(m.items)-1].kind == itemVerbatim:
				last := &m.items[len(m.items)-1]
				last.lines = append(last.lines, ln)
				if curIface != nil {
					m.parseIfaceLine(ln)
				}
				if curObject != "" {
					m.parseObjectLine(curObject, ln)
				}
			default:
				return nil, fail(fmt.Errorf("indented line outside a block"))
			}
			continue
		}
		curGroup, curIface, curObject = nil, nil, ""
		f := strings.Fields(ln)
		first := ""
		if len(f) > 0 {
			first = f[0]
		}
		switch first {
		case "hostname":
			if len(f) != 2 {
				return nil, fail(fmt.Errorf("bad hostname"))
			}
			m.hostname = f[1]
			m.items = append(m.items, item{kind: itemHostname})
		case "object-group":
			if len(f) < 3 {
				return nil, fail(fmt.Errorf("bad object-group"))
			}
			section(itemGroups)
			g := &objGroup{kind: f[1], name: f[2]}
			if len(f) > 3 {
				g.suffix = strings.Join(f[3:], " ")
			}
			m.groups[g.name] = g
			m.groupOrder = append(m.groupOrder, g.name)
			curGroup = g
		case "access-list":
			section(itemACLs)
			if cerr := m.addACE(ln, false); cerr != nil {
				return nil, fail(cerr)
			}
		case "access-group":
			section(itemAccessGroups)
			m.accessGroups = append(m.accessGroups, strings.Join(f, " "))
		case "route":
			section(itemRoutes)
			r, cerr := parseRoute(tokenize(ln)[1:])
			if cerr != nil {
				return nil, fail(cerr)
			}
			m.routes = append(m.routes, r)
		default:
			m.items = append(m.items, item{kind: itemVerbatim, lines: []string{ln}})
			switch {
			case first == "interface":
				curIface = &m.items[len(m.items)-1]
				m.ifaces = append(m.ifaces, iface{})
			case first == "object" && len(f) == 3 && f[1] == "network":
				curObject = f[2]
			case first == "name" && len(f) >= 3:
				if a, err := netip.ParseAddr(f[1]); err == nil {
					m.names[f[2]] = a
				}
			}
		}
	}
	// Place sections a config lacked where the ASA prints them.
	order := []itemKind{itemGroups, itemACLs, itemAccessGroups, itemRoutes}
	for idx, k := range order {
		if seen[k] {
			continue
		}
		pos := -1
		for _, later := range order[idx+1:] {
			if pos = m.indexOf(later); pos >= 0 {
				break
			}
		}
		if pos < 0 {
			for j := idx - 1; j >= 0 && pos < 0; j-- {
				if p := m.indexOf(order[j]); p >= 0 {
					pos = p + 1
				}
			}
		}
		if pos < 0 {
			pos = len(m.items)
			for pos > 0 && m.items[pos-1].kind == itemVerbatim && isTrailer(m.items[pos-1].lines[0]) {
				pos--
			}
		}
		m.items = slices.Insert(m.items, pos, item{kind: k})
	}
	// Drop interfaces without a nameif.
	m.ifaces = slices.DeleteFunc(m.ifaces, func(i iface) bool { return i.nameif == "" })
	m.startup = m.render()
	return m, nil
}

func isTrailer(l string) bool {
	return strings.HasPrefix(l, ": end") || strings.HasPrefix(l, "Cryptochecksum:")
}

func (m *model) indexOf(k itemKind) int {
	for i, it := range m.items {
		if it.kind == k {
			return i
		}
	}
	return -1
}

func (m *model) parseIfaceLine(ln string) {
	cur := &m.ifaces[len(m.ifaces)-1]
	f := strings.Fields(ln)
	switch {
	case len(f) == 2 && f[0] == "nameif":
		cur.nameif = f[1]
	case len(f) >= 4 && f[0] == "ip" && f[1] == "address":
		a, err := netip.ParseAddr(f[2])
		bits, ok := parseMask(f[3])
		if err == nil && ok {
			cur.addr = netip.PrefixFrom(a, bits)
		}
	}
}

func (m *model) parseObjectLine(name, ln string) {
	f := strings.Fields(ln)
	switch {
	case len(f) == 2 && f[0] == "host":
		if a, err := netip.ParseAddr(f[1]); err == nil {
			m.objects[name] = netip.PrefixFrom(a, 32)
		}
	case len(f) == 3 && f[0] == "subnet":
		a, err := netip.ParseAddr(f[1])
		if bits, ok := parseMask(f[2]); err == nil && ok {
			m.objects[name] = netip.PrefixFrom(a, bits)
		}
	}
}

func (m *model) hasNameif(n string) bool {
	for _, i := range m.ifaces {
		if i.nameif == n {
			return true
		}
	}
	return false
}

// render returns the canonical running configuration, lines joined by "\n"
// with a trailing newline.
func (m *model) render() string {
	var b strings.Builder
	for _, it := range m.items {
		for _, l := range m.renderItem(it) {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func (m *model) renderItem(it item) []string {
	switch it.kind {
	case itemHostname:
		return []string{"hostname " + m.hostname}
	case itemGroups:
		var out []string
		for _, n := range m.groupOrder {
			out = append(out, m.renderGroup(m.groups[n])...)
		}
		return out
	case itemACLs:
		var out []string
		for _, n := range m.aclOrder {
			out = append(out, m.renderACL(m.acls[n])...)
		}
		return out
	case itemAccessGroups:
		return slices.Clone(m.accessGroups)
	case itemRoutes:
		out := make([]string, 0, len(m.routes))
		for _, r := range m.routes {
			out = append(out, r.String())
		}
		return out
	default:
		return it.lines
	}
}

func (m *model) renderGroup(g *objGroup) []string {
	head := "object-group " + g.kind + " " + g.name
	if g.suffix != "" {
		head += " " + g.suffix
	}
	out := []string{head}
	if g.desc != "" {
		out = append(out, " description "+g.desc)
	}
	for _, c := range g.children {
		out = append(out, " "+c)
	}
	return out
}

func (m *model) renderACL(a *accessList) []string {
	out := make([]string, 0, len(a.entries))
	for _, e := range a.entries {
		out = append(out, "access-list "+a.name+" "+e.body())
	}
	return out
}

// showRunning renders "show running-config [what ...]".
func (m *model) showRunning(args []string) string {
	if len(args) == 0 {
		return m.render()
	}
	var out []string
	switch args[0] {
	case "object-group":
		for _, n := range m.groupOrder {
			g := m.groups[n]
			if len(args) >= 3 && args[1] == "id" && args[2] != n {
				continue
			}
			if len(args) == 2 && args[1] != g.kind {
				continue
			}
			out = append(out, m.renderGroup(g)...)
		}
	case "access-list":
		for _, n := range m.aclOrder {
			if len(args) >= 2 && args[1] != n {
				continue
			}
			out = append(out, m.renderACL(m.acls[n])...)
		}
	case "access-group":
		out = slices.Clone(m.accessGroups)
	case "route":
		out = m.renderItem(item{kind: itemRoutes})
	case "hostname":
		out = []string{"hostname " + m.hostname}
	default:
		for _, it := range m.items {
			if it.kind == itemVerbatim && strings.HasPrefix(it.lines[0], args[0]) {
				out = append(out, it.lines...)
			}
		}
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// element is one expanded line of an ACE (an ACE without groups is its own
// single element).
type element struct {
	key          string // text after "access-list NAME line N "
	src, dst     netip.Prefix
	anySrc       bool
	anyDst       bool
	sport, dport portSpec
}

func (m *model) expandAddr(a addrSpec) (texts []string, prefixes []netip.Prefix, anyAddr []bool, grouped bool) {
	switch a.kind {
	case "any", "any4":
		return []string{a.String()}, []netip.Prefix{{}}, []bool{true}, false
	case "host":
		return []string{a.String()}, []netip.Prefix{netip.PrefixFrom(a.addr, 32)}, []bool{false}, false
	case "net":
		return []string{a.String()}, []netip.Prefix{a.prefix}, []bool{false}, false
	case "object":
		// The ASA shows objects expanded to their address in elements.
		p, ok := m.objects[a.group]
		if !ok {
			return []string{a.String()}, []netip.Prefix{{}}, []bool{false}, false
		}
		return []string{objectText(p)}, []netip.Prefix{p}, []bool{false}, true
	}
	g := m.groups[a.group]
	if g == nil || g.kind != "network" {
		return []string{a.String()}, []netip.Prefix{{}}, []bool{true}, false
	}
	texts, prefixes = m.members(g)
	anyAddr = make([]bool, len(texts))
	return texts, prefixes, anyAddr, true
}

func maskString(bits int) string {
	v := ^uint32(0) << (32 - bits)
	if bits == 0 {
		v = 0
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

// expandPorts expands a service object-group port operand into its
// port-object entries; other operands are their own single entry.
func (m *model) expandPorts(p portSpec) (specs []portSpec, grouped bool) {
	if p.op != "object-group" {
		return []portSpec{p}, false
	}
	g := m.groups[p.group]
	if g == nil {
		return []portSpec{p}, false
	}
	for _, c := range g.children {
		f := strings.Fields(c)
		// "port-object eq www", "port-object range 1 2", and the 9.x
		// "service-object tcp destination eq 443" form.
		for len(f) > 0 && f[0] != "eq" && f[0] != "range" && f[0] != "lt" && f[0] != "gt" && f[0] != "neq" {
			f = f[1:]
		}
		if len(f) < 2 {
			continue
		}
		toks := make([]token, len(f))
		for i, w := range f {
			toks[i] = token{s: w}
		}
		pp := &parser{toks: toks, m: m}
		if s, err := pp.port(p.proto); err == nil && s.op != "" {
			specs = append(specs, s)
		}
	}
	return specs, true
}

// elements expands an ACE into its elements; grouped reports whether the
// ACE is shown with indented children.
func (m *model) elements(e *ace) ([]element, bool) {
	st, sp, sa, sg := m.expandAddr(e.src)
	dt, dp, da, dg := m.expandAddr(e.dst)
	sports, spg := m.expandPorts(e.sport)
	dports, dpg := m.expandPorts(e.dport)
	var out []element
	for i := range st {
		for _, spt := range sports {
			for j := range dt {
				for _, dpt := range dports {
					out = append(out, element{
						key: e.bodyWith(st[i], spt.String(), dt[j], dpt.String()),
						src: sp[i], dst: dp[j], anySrc: sa[i], anyDst: da[j], sport: spt, dport: dpt,
					})
				}
			}
		}
	}
	return out, sg || dg || spg || dpg
}

// showAccessList renders "show access-list [NAME]".
func (m *model) showAccessList(name string) (string, *cliError) {
	var b strings.Builder
	if name != "" && m.acls[name] == nil {
		return "", devErr("ERROR: access-list <%s> does not exist", name)
	}
	b.WriteString("access-list cached ACL log flows: total 0, denied 0 (deny-flow-max 4096)\n")
	b.WriteString("            alert-interval 300\n")
	for _, n := range m.aclOrder {
		if name != "" && n != name {
			continue
		}
		a := m.acls[n]
		total := 0
		var lines []string
		for i, e := range a.entries {
			prefix := "access-list " + n + " line " + strconv.Itoa(i+1) + " "
			if e.isRemark {
				lines = append(lines, prefix+e.body())
				continue
			}
			els, grouped := m.elements(e)
			total += len(els)
			var sum uint64
			for _, el := range els {
				sum += e.hits[el.key]
			}
			inactive := ""
			if e.inactive() {
				inactive = " (inactive)"
			}
			lines = append(lines, fmt.Sprintf("%s%s (hitcnt=%d)%s 0x%08x", prefix, e.body(), sum, inactive, hash32(n+e.body())))
			if !grouped {
				continue
			}
			for _, el := range els {
				lines = append(lines, fmt.Sprintf("  %s%s (hitcnt=%d)%s 0x%08x", prefix, el.key, e.hits[el.key], inactive, hash32(n+el.key)))
			}
		}
		fmt.Fprintf(&b, "access-list %s; %d elements; name hash: 0x%08x\n", n, total, hash32(n))
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

// groupInUse reports whether any ACE or group references the group.
func (m *model) groupInUse(name string) bool {
	for _, a := range m.acls {
		for _, e := range a.entries {
			if e.src.kind == "group" && e.src.group == name || e.dst.kind == "group" && e.dst.group == name ||
				e.sport.group == name || e.dport.group == name {
				return true
			}
		}
	}
	for _, g := range m.groups {
		if slices.Contains(g.children, "group-object "+name) {
			return true
		}
	}
	return false
}

// addACE applies "access-list NAME [line N] ..." (raw is the whole line).
func (m *model) addACE(raw string, strict bool) *cliError {
	p := &parser{toks: tokenize(raw), m: m, strict: strict}
	p.i = 1
	nameTok, err := p.next()
	if err != nil {
		return err
	}
	if !validName(nameTok.s) {
		return invalidAt(nameTok.pos)
	}
	line := 0
	if p.peek() == "line" {
		p.i++
		lt, err := p.next()
		if err != nil {
			return err
		}
		n, convErr := strconv.Atoi(lt.s)
		if convErr != nil || n < 1 {
			return invalidAt(lt.pos)
		}
		line = n
	}
	e, err := parseACE(p, raw)
	if err != nil {
		return err
	}
	a := m.acls[nameTok.s]
	if a != nil && !e.isRemark {
		for _, x := range a.entries {
			if x.body() == e.body() {
				return devErr("ERROR: access-list %s: ACE not added. Possible duplicate entry", nameTok.s)
			}
		}
	}
	if a == nil {
		a = &accessList{name: nameTok.s}
		m.acls[a.name] = a
		m.aclOrder = append(m.aclOrder, a.name)
	}
	if line > len(a.entries)+1 {
		// Unconfirmed wording; the ASA refuses a line past the end.
		return devErr("ERROR: access-list %s: line %d is beyond the end of the list (%d entries)", nameTok.s, line, len(a.entries))
	}
	if line == 0 || line > len(a.entries) {
		a.entries = append(a.entries, e)
	} else {
		a.entries = slices.Insert(a.entries, line-1, e)
	}
	return nil
}

// removeACE applies "no access-list NAME [line N] ...": the entry is found by
// content, as on the ASA.
func (m *model) removeACE(raw string) *cliError {
	p := &parser{toks: tokenize(raw), m: m}
	p.i = 2
	nameTok, err := p.next()
	if err != nil {
		return err
	}
	a := m.acls[nameTok.s]
	if a == nil {
		return devErr("ERROR: access-list <%s> does not exist", nameTok.s)
	}
	if p.peek() == "line" {
		p.i++
		if _, err := p.next(); err != nil {
			return err
		}
	}
	if !p.more() {
		return incomplete()
	}
	e, err := parseACE(p, raw)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(a.entries, func(x *ace) bool { return x.body() == e.body() })
	if i < 0 {
		// Unconfirmed wording; the ASA refuses to remove an absent entry.
		return devErr("ERROR: access-list %s: specified entry does not exist", nameTok.s)
	}
	a.entries = slices.Delete(a.entries, i, i+1)
	if len(a.entries) == 0 {
		m.deleteACL(a.name)
	}
	return nil
}

func (m *model) deleteACL(name string) {
	delete(m.acls, name)
	m.aclOrder = slices.DeleteFunc(m.aclOrder, func(s string) bool { return s == name })
}

func parseRoute(toks []token) (route, *cliError) {
	p := &parser{toks: toks}
	var r route
	ift, err := p.next()
	if err != nil {
		return r, err
	}
	r.ifname = ift.s
	dt, err := p.next()
	if err != nil {
		return r, err
	}
	mt, err := p.next()
	if err != nil {
		return r, err
	}
	pre, cerr := parseAddrMask(dt, mt)
	if cerr != nil {
		return r, cerr
	}
	r.dest, r.mask = pre.Addr().String(), mt.s
	gt, err := p.next()
	if err != nil {
		return r, err
	}
	gw, perr := netip.ParseAddr(gt.s)
	if perr != nil || !gw.Is4() {
		return r, invalidAt(gt.pos)
	}
	r.gw = gw.String()
	r.dist = 1
	if p.more() {
		d, _ := p.next()
		n, convErr := strconv.Atoi(d.s)
		if convErr != nil || n < 1 || n > 255 {
			return r, invalidAt(d.pos)
		}
		r.dist = n
	}
	if p.more() {
		return r, invalidAt(p.toks[p.i].pos)
	}
	return r, nil
}

// validName follows the ASA object naming rules (letters, digits and a few
// punctuation characters, at most 64).
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune(".!@#$%^&()-_{}", c):
		default:
			return false
		}
	}
	return true
}
