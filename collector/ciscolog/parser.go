package ciscolog

import (
	"net/netip"
	"strings"
	"time"
	"unsafe"
)

// Options configure a Parser.
type Options struct {
	// Now is the clock that gives yearless timestamps their year. Required.
	Now func() time.Time
	// Zone returns the time zone of a device, by the host name or address its frames carry,
	// for timestamps that state no zone. Nil, or a nil result, means UTC. Results are cached
	// per host inside the Parser. A stamp whose zone abbreviation is unknown (a device's own
	// summer-time name) or ambiguous (IST, CST, BST ...) is read in this zone too, when it
	// gives one other than UTC; see Parser.ZoneFallbacks.
	Zone func(host string) *time.Location
	// MaxFrame is the collector's maximum frame length: a frame at least this long was cut by
	// the collector, so it is marked Truncated and its body is not typed. 0: no limit.
	MaxFrame int
}

// zoneCacheMax bounds the per-host zone cache: hosts come from attacker-controlled frames.
const zoneCacheMax = 4096

// Parser turns frames into Events. It is not safe for concurrent use: give each goroutine its
// own Parser (they are cheap, about 1.5 KB). The zero value is not usable; call NewParser.
//
// A Parser remembers the last few envelopes (the text before the tag) it has read, with their
// header fields and time, so that a stream from one device, whose frames share the envelope
// within a second, does not read it again; see envcache.go. The results do not depend on it.
type Parser struct {
	now   func() time.Time
	zone  func(string) *time.Location
	zones map[string]*time.Location
	// zoneFallbacks counts stamps read in the device's zone (or the abbreviation's usual
	// meaning) because their zone abbreviation was unknown or ambiguous.
	zoneFallbacks uint64
	maxFrame      int

	// The last UTC midnight computed, to skip time.Date for the next stamp of the same day.
	dayKey  int // year<<9 | month<<5 | day; 0 when unset
	dayBase time.Time
	// The UTC year of the clock, valid for clock readings in [yearFrom, yearTo) (Unix seconds).
	year             int
	yearFrom, yearTo int64

	env envCache
}

// NewParser returns a Parser. It panics if opts.Now is nil, because a parser that guessed the
// year from the wall clock would make replays and tests depend on the day they run.
func NewParser(opts Options) *Parser {
	if opts.Now == nil {
		panic("ciscolog: Options.Now is required")
	}
	return &Parser{now: opts.Now, zone: opts.Zone, zones: make(map[string]*time.Location), maxFrame: opts.MaxFrame}
}

// ZoneFallbacks returns how many stamps so far carried a zone abbreviation that is unknown
// (read in the device's zone from Options.Zone, else UTC) or ambiguous (read in the device's
// zone when it has one other than UTC, else in the abbreviation's most common meaning).
func (p *Parser) ZoneFallbacks() uint64 { return p.zoneFallbacks }

// Parse parses one frame into *ev, which it resets first. It never fails: a frame it does not
// understand becomes a KindUnparsed event that keeps Raw. Parse does not allocate on the common
// ASA and IOS messages.
//
// Ownership: every string in *ev aliases frame (no copy is made). The caller must not modify
// frame while it uses *ev; use Event.Clone to keep an event longer.
func (p *Parser) Parse(frame []byte, ev *Event) {
	p.ParseString(unsafe.String(unsafe.SliceData(frame), len(frame)), ev)
}

// ParseString is Parse for a frame held in a string; the strings in *ev alias line.
func (p *Parser) ParseString(line string, ev *Event) {
	*ev = Event{} // (cheaper than assigning a composite literal, which goes through a copy)
	ev.Priority, ev.Severity, ev.ICMPType, ev.ICMPCode, ev.Count, ev.Raw = -1, -1, -1, -1, 1, line
	s := trimRight(line)
	var h header
	t, ok, msgAt := p.head(s, &h, &ev.Time)
	ev.Priority = h.pri
	if h.pri >= 0 {
		ev.Severity = int8(h.pri & 7)
	}
	ev.Seq = h.seq
	ev.Host = h.host
	if h.count > 1 {
		ev.Count = h.count
	}
	if !ok {
		return
	}
	ev.Kind = KindHeader
	ev.Family = t.family
	ev.Facility = t.facility
	ev.Class = t.class
	ev.Mnemonic = t.mnemonic
	ev.MsgID = t.id
	if t.sev >= 0 {
		ev.Severity = t.sev
	}
	body := s[skipSpaces(s, t.end):]
	if msgAt >= 0 {
		body = s[msgAt:]
	}
	if len(body) > 0 && body[0] == 'm' {
		if n, inner, ok := repeated(body); ok {
			ev.Count = n
			body = inner
		}
	}
	body = trimRight(body)
	if len(body) > 0 && h.count > 1 && body[len(body)-1] == ']' {
		body = trimRight(body[:len(body)-1])
	}
	if len(body) > 0 && body[len(body)-1] == ')' {
		if n, rest, ok := repeatedNote(body); ok {
			ev.Count, body = n, rest
		}
	}
	ev.Text = body
	if p.maxFrame > 0 && len(line) >= p.maxFrame {
		ev.Truncated = true // cut by the collector: whatever the body ends with may be cut
		return
	}
	typable := p.parseBody(body, ev)
	if typable && ev.Kind == KindHeader && strings.Contains(body, "  ") {
		// Doubled spaces trip the fixed patterns. Retry on a collapsed copy: this rare path
		// allocates, and the body strings then point into that copy instead of the frame.
		ev.Truncated = false
		p.parseBody(collapseSpaces(body), ev)
		ev.Text = body
	}
}

// Stamp returns the time Parse gives the frame's event (zero when the frame states none)
// without reading the message: what a replay of several files merges their lines by. It
// costs a fraction of Parse (the envelope cache serves both) and keeps nothing of frame.
func (p *Parser) Stamp(frame []byte) time.Time {
	var h header
	var ts time.Time
	p.head(trimRight(unsafe.String(unsafe.SliceData(frame), len(frame))), &h, &ts)
	return ts
}

// head finds the Cisco tag of s (ok false: none) and reads the header before it into *h and
// its time into *ts; msgAt is where an RFC 5424 frame's MSG starts (-1: not one).
func (p *Parser) head(s string, h *header, ts *time.Time) (t tag, ok bool, msgAt int) {
	t, ok = findTag(s)
	msgAt = -1
	if len(s) > 8 && s[0] == '<' {
		// rsyslog's RFC 5424 templates put the Cisco tag in APP-NAME and the body in MSG.
		if t2, at, ok2 := rfc5424AppTag(s); ok2 && (!ok || t2.start <= t.start) {
			t, ok, msgAt = t2, true, at
		}
	}
	if ok {
		*ts = p.envelope(s[:t.start], h)
	} else {
		h.scan(s, true)
		if h.hasStamp {
			*ts = p.resolve(&h.st, p.zoneOf(h))
		}
	}
	return t, ok, msgAt
}

// parseBody types the body and reports whether the message is one it knows how to type.
func (p *Parser) parseBody(body string, ev *Event) bool {
	switch ev.Family {
	case FamilyASA:
		return parseASA(body, ev)
	case FamilyIOS:
		return parseIOS(body, ev)
	}
	return false
}

// collapseSpaces replaces each run of spaces in s by one space.
func collapseSpaces(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is never written again
}

// resolve is stamp.resolve with a one-day cache for stamps read in UTC or at a fixed offset
// (a local zone may change its offset within a day, so those always take the full path).
func (p *Parser) resolve(st *stamp, loc *time.Location) time.Time {
	if loc != time.UTC {
		return st.resolve(p.now(), loc)
	}
	if st.year != 0 {
		return p.fromDay(st.year, st)
	}
	now := p.now()
	y := p.yearOf(now)
	t := p.fromDay(y, st)
	if t.Sub(now) > 31*24*time.Hour {
		t = p.fromDay(y-1, st)
	}
	return t
}

// yearOf returns now's UTC year, cached: the clock is read for every frame but the year
// changes once a year.
func (p *Parser) yearOf(now time.Time) int {
	u := now.Unix()
	if p.yearTo == 0 || u < p.yearFrom || u >= p.yearTo {
		y := now.UTC().Year()
		p.year = y
		p.yearFrom = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		p.yearTo = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	}
	return p.year
}

func (p *Parser) fromDay(year int, st *stamp) time.Time {
	key := year<<9 | int(st.month)<<5 | st.day
	if key != p.dayKey {
		p.dayKey, p.dayBase = key, time.Date(year, st.month, st.day, 0, 0, 0, 0, time.UTC)
	}
	t := p.dayBase.Add(time.Duration(st.hour)*time.Hour + time.Duration(st.min)*time.Minute +
		time.Duration(st.sec)*time.Second + time.Duration(st.nsec))
	if st.zone == zoneOffset {
		t = t.Add(-time.Duration(st.off) * time.Second)
	}
	return t
}

// zoneOf returns the zone to read h's stamp in, settling an unknown or ambiguous abbreviation
// (counted in zoneFallbacks): an ambiguous one is read in the device's zone when Options.Zone
// gives one other than UTC, else at its usual offset; an unknown one in the device's zone.
func (p *Parser) zoneOf(h *header) *time.Location {
	switch h.st.zone {
	case zoneAmbiguous:
		p.zoneFallbacks++
		if loc := p.location(h.host, zoneNone); loc != time.UTC {
			h.st.zone = zoneNone
			return loc
		}
		h.st.zone = zoneOffset
		return time.UTC
	case zoneUnknown:
		p.zoneFallbacks++
	}
	return p.location(h.host, h.st.zone)
}

// location returns the zone to read a stamp in; a stamp with its own offset needs none.
func (p *Parser) location(host string, z zoneKind) *time.Location {
	if z == zoneOffset || p.zone == nil {
		return time.UTC
	}
	if loc, ok := p.zones[host]; ok {
		return loc
	}
	loc := p.zone(host)
	if loc == nil {
		loc = time.UTC
	}
	if len(p.zones) >= zoneCacheMax {
		clear(p.zones)
		p.env.reset() // its entries hold zones from the map
	}
	p.zones[strings.Clone(host)] = loc
	return loc
}

func trimRight(s string) string {
	for len(s) > 0 {
		switch s[len(s)-1] {
		case ' ', '\t', '\r', '\n', 0:
			s = s[:len(s)-1]
			continue
		}
		break
	}
	return s
}

// repeatedNote recognises a trailing ` (Message repeated N times)` annotation and returns N and
// the body without it.
func repeatedNote(s string) (uint32, string, bool) {
	k := strings.LastIndexByte(s, '(')
	if k < 0 || len(s)-k > 40 {
		return 0, s, false
	}
	in := s[k+1 : len(s)-1]
	if len(in) > 8 && (in[0] == 'm' || in[0] == 'M') && in[1:8] == "essage " {
		in = in[8:]
	}
	in, ok := strings.CutPrefix(in, "repeated ")
	if !ok {
		return 0, s, false
	}
	n, j, ok := digits(in, 0, 1, 9)
	if !ok || (in[j:] != " times" && in[j:] != " time") || n < 1 {
		return 0, s, false
	}
	return uint32(n), trimRight(s[:k]), true
}

// rfc5424AppTag finds a Cisco tag written as the APP-NAME of an RFC 5424 frame
// (`<166>1 TS HOST %ASA-6-302013 - - - MSG`, as rsyslog's RFC 5424 templates write it) and
// where MSG starts.
func rfc5424AppTag(s string) (tag, int, bool) {
	_, i, ok := parsePRI(s, 0)
	if !ok || i+2 >= len(s) || s[i] != '1' || s[i+1] != ' ' {
		return tag{}, 0, false
	}
	i += 2
	field := func() (int, int) {
		i = skipSpaces(s, i)
		a := i
		for i < len(s) && s[i] != ' ' {
			i++
		}
		return a, i
	}
	field() // TIMESTAMP
	field() // HOSTNAME
	a, b := field()
	if b-a < 6 || s[a] != '%' {
		return tag{}, 0, false
	}
	t, ok := parseTagBare(s[:b], a+1)
	if !ok || t.end != b {
		return tag{}, 0, false
	}
	t.start = a
	field() // PROCID
	field() // MSGID
	i = skipSpaces(s, i)
	if i < len(s) && s[i] == '[' {
		for i < len(s) && s[i] == '[' {
			for i < len(s) && s[i] != ']' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			i++
		}
	} else if i < len(s) && s[i] == '-' {
		i++
	}
	if i > len(s) {
		i = len(s)
	}
	return t, skipSpaces(s, i), true
}

// repeated recognises rsyslog's `message repeated N times: [ msg]` and returns N and msg.
func repeated(s string) (uint32, string, bool) {
	const pre = "message repeated "
	if !strings.HasPrefix(s, pre) {
		return 0, s, false
	}
	n, j, ok := digits(s, len(pre), 1, 9)
	if !ok || !strings.HasPrefix(s[j:], " times: [") {
		return 0, s, false
	}
	inner := s[j+len(" times: ["):]
	inner = trimRight(inner)
	if len(inner) > 0 && inner[len(inner)-1] == ']' {
		inner = inner[:len(inner)-1]
	}
	return uint32(n), strings.TrimLeft(inner, " "), true
}

// tag is a parsed Cisco message tag: %ASA-6-302013: or %SEC-6-IPACCESSLOGP:.
type tag struct {
	start, end int // end is just past the tag and its colon
	family     Family
	facility   string
	class      string
	mnemonic   string
	id         uint32
	sev        int8
}

// findTag finds the first well-formed Cisco tag in s. A tag without '%' is accepted only for
// ASA/FTD/PIX at the very start of s (some relays strip the '%').
func findTag(s string) (tag, bool) {
	for from := 0; from < len(s); {
		k := strings.IndexByte(s[from:], '%')
		if k < 0 {
			break
		}
		i := from + k
		if t, ok := parseTag(s, i+1); ok {
			t.start = i
			return t, true
		}
		from = i + 1
	}
	if len(s) > 4 && (strings.HasPrefix(s, "ASA-") || strings.HasPrefix(s, "FTD-") || strings.HasPrefix(s, "PIX-") ||
		strings.HasPrefix(s, "FWSM-") || strings.HasPrefix(s, "NGIPS-")) {
		if t, ok := parseTag(s, 0); ok && t.family == FamilyASA {
			t.start = 0
			return t, true
		}
	}
	return tag{}, false
}

func isTagChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '_'
}

// parseTag parses FAC[-SUB...]-SEV-MNEMONIC at s[i:] (after the '%').
func parseTag(s string, i int) (t tag, ok bool) { return parseTagEnd(s, i, false) }

// parseTagBare is parseTag for a tag that ends s without its colon (an RFC 5424 APP-NAME).
func parseTagBare(s string, i int) (t tag, ok bool) { return parseTagEnd(s, i, true) }

func parseTagEnd(s string, i int, bare bool) (t tag, ok bool) {
	// Fast path for what nearly every ASA frame carries, `ASA-6-302013:`; the loop below
	// gives the same tag for it.
	if i+13 <= len(s) && s[i+3] == '-' && s[i+5] == '-' && s[i+12] == ':' && s[i+4] >= '0' && s[i+4] <= '7' {
		if f := s[i : i+3]; f == "ASA" || f == "FTD" || f == "PIX" {
			if id, ok := sixDigits(s[i+6 : i+12]); ok {
				return tag{end: i + 13, family: FamilyASA, facility: f, id: id, sev: int8(s[i+4] - '0')}, true
			}
		}
	}
	j := i
	// Segment boundaries: at most 8 dashes matter.
	var dash [8]int
	nd := 0
	for j < len(s) {
		c := s[j]
		if c == '-' {
			if j == i || s[j-1] == '-' || nd == len(dash) {
				return t, false
			}
			dash[nd] = j
			nd++
		} else if !isTagChar(c) {
			break
		}
		j++
	}
	if nd < 2 || s[j-1] == '-' {
		return t, false
	}
	sevAt := dash[nd-2] + 1
	if dash[nd-1] != sevAt+1 {
		return t, false // severity must be one character
	}
	t.sev = sevValue(s[sevAt])
	if t.sev < 0 {
		return t, false
	}
	t.mnemonic = s[dash[nd-1]+1 : j]
	t.facility = s[i:dash[0]]
	// Terminator: ':' or ' :' always; ASA also allows a space or the end (`%ASA-6-302016 Teardown`).
	end := j
	switch {
	case end < len(s) && s[end] == ':':
		end++
	case end+1 < len(s) && s[end] == ' ' && s[end+1] == ':':
		end += 2
	default:
		if !(end == len(s) || s[end] == ' ') {
			return t, false
		}
	}
	t.end = end
	switch t.facility {
	case "ASA", "FTD", "PIX", "FWSM", "NGIPS":
		if len(t.mnemonic) != 6 || !isDigit(s[sevAt]) || nd > 3 {
			return t, false
		}
		id, _, ok := digits(t.mnemonic, 0, 6, 6)
		if !ok {
			return t, false
		}
		if nd == 3 {
			t.class = s[dash[0]+1 : dash[1]]
		}
		t.family, t.id, t.mnemonic = FamilyASA, uint32(id), ""
		return t, true
	}
	if j == end && !(bare && end == len(s)) { // IOS tags always end in a colon
		return t, false
	}
	t.facility = s[i : sevAt-1]
	t.family = FamilyIOS
	return t, true
}

// sixDigits reads a six-digit decimal number.
func sixDigits(s string) (uint32, bool) {
	if len(s) != 6 {
		return 0, false
	}
	var v uint32
	for i := 0; i < 6; i++ {
		d := uint32(s[i] - '0')
		if d > 9 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// sevValue maps a tag severity (a digit, or the letter some Cisco switches use) to 0..7.
func sevValue(c byte) int8 {
	switch c {
	case '0', '1', '2', '3', '4', '5', '6', '7':
		return int8(c - '0')
	case 'A':
		return 1
	case 'C':
		return 2
	case 'E':
		return 3
	case 'W':
		return 4
	case 'N':
		return 5
	case 'I':
		return 6
	case 'D':
		return 7
	}
	return -1
}

// header holds what the envelope before the tag says.
type header struct {
	pri      int16
	seq      uint32
	host     string
	count    uint32
	st       stamp
	hasStamp bool
	// seqAt holds where the `digits:` tokens read as sequence numbers start, in order (up to
	// len(seqAt); nseq counts them all), so that the envelope cache can key an IOS envelope
	// on everything but its sequence numbers.
	seqAt [3]uint8
	nseq  uint8 // saturates at 255
}

// scan reads the envelope before the tag. Envelopes vary (PRI, RFC 3164/5424 headers, relay
// headers stacked before the device's own, IOS sequence numbers and timestamps, program
// names), so it reads token by token: the last timestamp is the device's, the last host-like
// token is the device, the last `digits:` is its sequence number. strict is for frames without
// a tag: it stops at the first token after the leading PRI, stamp and host.
func (h *header) scan(s string, strict bool) {
	h.pri = -1
	i := 0
	if v, j, ok := parsePRI(s, 0); ok {
		h.pri = int16(v)
		i = j
		if j+2 < len(s) && s[j] == '1' && s[j+1] == ' ' && (isDigit(s[j+2]) || s[j+2] == '-') {
			i = h.rfc5424(s, j+2)
		}
	}
	for i < len(s) {
		c := s[i]
		if c == ' ' || c == ':' || c == '\t' {
			i++
			continue
		}
		if c == '<' {
			if v, j, ok := parsePRI(s, i); ok {
				h.pri = int16(v)
				i = j
				continue
			}
		}
		if c == '*' || c == '.' {
			if st, j, ok := parseStamp(s, i+1); ok {
				h.st, h.hasStamp = st, true
				i = j
				continue
			}
		} else if isAlpha(c) || isDigit(c) {
			if st, j, ok := parseStamp(s, i); ok {
				h.st, h.hasStamp = st, true
				i = j
				continue
			}
			if c == 'm' {
				if n, rest, ok := repeatedHead(s[i:]); ok {
					h.count = n
					i = len(s) - len(rest)
					continue
				}
			}
		}
		// A token runs to the next space; a colon ends it too unless it is an IPv6 address.
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		tok := s[i:j]
		if strings.IndexByte(tok, ':') >= 0 {
			t6 := strings.TrimSuffix(tok, ":")
			if a, ok := parseAddr(t6); ok && a.Is6() {
				h.host = t6
				i = j
				continue
			}
			k := strings.IndexByte(tok, ':')
			tok = tok[:k]
			j = i + k + 1
			if j < len(s) && s[j] != ' ' {
				// `RP/0/RP0/CPU0:Oct 7 ...`, `AP:000b.adc0.ffee:`: a module prefix, not a host.
				i = j
				continue
			}
		}
		switch {
		case allDigits(tok):
			if j <= len(s) && j > 0 && s[j-1] == ':' {
				if int(h.nseq) < len(h.seqAt) { // (positions matter only within envKeyMax)
					h.seqAt[h.nseq] = uint8(i)
				}
				if h.nseq < 255 {
					h.nseq++
				}
				h.seq = seqValue(tok, h.seq)
			}
		case isUptime(tok):
		case isHostToken(tok):
			if strict && (h.host != "" || (!h.hasStamp && (j >= len(s) || s[j-1] != ':') && !strings.HasPrefix(s[j:], " :"))) {
				return
			}
			h.host = tok
		default:
			if strict {
				return
			}
		}
		i = j
	}
}

// seqValue is the sequence number a `digits:` token gives, or prev when it is too long.
func seqValue(tok string, prev uint32) uint32 {
	if v, _, ok := digits(tok, 0, 1, 10); ok && len(tok) <= 10 && uint64(v) <= 1<<32-1 {
		return uint32(v)
	}
	return prev
}

// isUptime matches IOS uptime stamps used instead of a date: 2y10w, 1d02h, 3w4d, 00:12:34.
func isUptime(tok string) bool {
	if tok == "" || !isDigit(tok[0]) {
		return false
	}
	units := 0
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case isDigit(c):
		case c == 'y' || c == 'w' || c == 'd' || c == 'h' || c == 'm' || c == 's':
			units++
		default:
			return false
		}
	}
	return units > 0 && units <= 3 && !isDigit(tok[len(tok)-1])
}

// repeatedHead recognises `message repeated N times: [` before the tag.
func repeatedHead(s string) (uint32, string, bool) {
	const pre = "message repeated "
	if !strings.HasPrefix(s, pre) {
		return 0, s, false
	}
	n, j, ok := digits(s, len(pre), 1, 9)
	if !ok || !strings.HasPrefix(s[j:], " times: [") {
		return 0, s, false
	}
	return uint32(n), s[j+len(" times: ["):], true
}

// rfc5424 reads `TIMESTAMP HOST APP PROCID MSGID SD ` from s[i:] and returns where MSG starts.
func (h *header) rfc5424(s string, i int) int {
	if s[i] != '-' {
		st, j, ok := parseISO(s, i)
		if !ok {
			return i - 2
		}
		h.st, h.hasStamp = st, true
		i = j
	} else {
		i++
	}
	field := func() string {
		i = skipSpaces(s, i)
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		f := s[i:j]
		i = j
		return f
	}
	if host := field(); host != "-" && isHostToken(host) {
		h.host = host
	}
	field() // APP-NAME
	field() // PROCID
	field() // MSGID
	i = skipSpaces(s, i)
	if i < len(s) && s[i] == '[' { // structured data: skip the bracketed elements
		for i < len(s) && s[i] == '[' {
			for i < len(s) && s[i] != ']' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			i++
		}
	} else if i < len(s) && s[i] == '-' {
		i++
	}
	return i
}

func parsePRI(s string, i int) (int, int, bool) {
	if i >= len(s) || s[i] != '<' {
		return 0, i, false
	}
	v, j, ok := digits(s, i+1, 1, 3)
	if !ok || j >= len(s) || s[j] != '>' || v > 191 {
		return 0, i, false
	}
	return v, j + 1, true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// isHostToken says whether tok can be a host name or an IPv4 address as a header carries it.
func isHostToken(tok string) bool {
	if len(tok) == 0 || len(tok) > 255 {
		return false
	}
	if !isAlpha(tok[0]) && !isDigit(tok[0]) {
		return false
	}
	letters := false
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case isAlpha(c):
			letters = true
		case isDigit(c), c == '.', c == '-', c == '_':
		default:
			return false
		}
	}
	if !letters {
		_, ok := parseAddr(tok)
		return ok
	}
	if len(tok) <= 6 {
		if _, isZone := abbrevOffset(tok); isZone {
			return false
		}
	}
	return len(tok) != 14 || !isMACDotted(tok)
}

// isMACDotted matches IOS's 0011.2233.4455 MAC notation.
func isMACDotted(s string) bool {
	if len(s) != 14 || s[4] != '.' || s[9] != '.' {
		return false
	}
	for i := 0; i < 14; i++ {
		if i == 4 || i == 9 {
			continue
		}
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return isDigit(c) || ((c|0x20) >= 'a' && (c|0x20) <= 'f') }

// parseAddr parses an IPv4 or IPv6 address without allocating: it screens out text that
// cannot be an address before calling netip (whose errors allocate), and rejects zones.
func parseAddr(s string) (netip.Addr, bool) {
	if len(s) < 2 || len(s) > 45 {
		return netip.Addr{}, false
	}
	if a, ok := parseIPv4Fast(s); ok {
		return a, true
	}
	if a, ok, sure := parseIPv4(s); sure {
		return a, ok
	}
	colon, dot := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
		case c == '.':
			dot = true
		case c == ':':
			colon = true
		case isHex(c):
			if !colon {
				// hex letters are only legal in IPv6; a later ':' must exist
				if strings.IndexByte(s, ':') < 0 {
					return netip.Addr{}, false
				}
				colon = true
			}
		default:
			return netip.Addr{}, false
		}
	}
	if !colon && !dot {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a, true
}

// parseIPv4 parses dotted-quad IPv4 text the way netip does (no leading zeros, no more than
// three digits a field). sure is false when s is not plain IPv4 text and netip must decide.
func parseIPv4(s string) (a netip.Addr, ok, sure bool) {
	var b [4]byte
	field, val, ndig := 0, 0, 0
	bad := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if ndig == 1 && val == 0 {
				bad = true // leading zero
			}
			val = val*10 + int(c-'0')
			ndig++
			if val > 255 {
				bad, val = true, 0
			}
		case c == '.':
			if ndig == 0 || field == 3 {
				bad = true
			} else {
				b[field] = byte(val)
				field++
			}
			val, ndig = 0, 0
		default:
			return a, false, false // ':' (IPv6) or a letter: let netip decide
		}
	}
	if bad || field != 3 || ndig == 0 {
		return a, false, true
	}
	b[3] = byte(val)
	return netip.AddrFrom4(b), true, true
}

// parseIPv4Fast accepts exactly the well-formed dotted quads (what parseIPv4 accepts) in one
// pass; anything else, valid or not, is left to parseIPv4 and netip.
func parseIPv4Fast(s string) (netip.Addr, bool) {
	ip, port, end := scanIPv4Port(s, 0)
	if end != len(s) || port >= 0 {
		return netip.Addr{}, false
	}
	return addrFrom(ip), true
}
