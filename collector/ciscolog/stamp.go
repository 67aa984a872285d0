package ciscolog

import "time"

// stamp is a timestamp as it appears in a frame, before a zone and a year are chosen.
type stamp struct {
	year                      int // 0 when the stamp has none
	month                     time.Month
	day, hour, min, sec, nsec int
	zone                      zoneKind
	off                       int // seconds east of UTC when zone == zoneOffset
	// fracAt, fracEnd: where the fraction's digits lie in the scanned text (equal: none, and
	// past 255, beyond any envelope the cache keeps).
	fracAt, fracEnd uint8
	// secAt: where the two digits of the seconds lie (0: not known, as past 255).
	secAt uint8
}

type zoneKind uint8

const (
	zoneNone    zoneKind = iota // no zone in the stamp: use the device's zone
	zoneOffset                  // a known abbreviation or a numeric offset
	zoneUnknown                 // an abbreviation we do not know: treated like zoneNone
	// zoneAmbiguous: an abbreviation with more than one meaning (IST: India, Israel or
	// Ireland); off holds its most common one. Parser.zoneOf decides.
	zoneAmbiguous
)

// ambiguousZone reports whether an abbreviation abbrevOffset knows has other meanings too.
func ambiguousZone(s string) bool {
	if len(s) != 3 {
		return false
	}
	switch string([]byte{s[0] &^ 0x20, s[1] &^ 0x20, s[2] &^ 0x20}) {
	case "IST", "CST", "CDT", "BST", "AST", "ADT", "EST", "MST":
		return true
	}
	return false
}

// abbrevOffset returns the UTC offset in seconds of a time-zone abbreviation as Cisco devices print
// it (`clock timezone`), case-insensitively. Ambiguous abbreviations take their most common meaning
// among Cisco installations (IST is India, CST is US Central).
func abbrevOffset(s string) (int, bool) {
	if len(s) < 1 || len(s) > 6 {
		return 0, false
	}
	var b [6]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b[i] = c
	}
	const h = 3600
	switch string(b[:len(s)]) {
	case "UTC", "GMT", "UT", "Z", "WET", "ZULU":
		return 0, true
	case "BST", "WEST", "CET", "MET", "MEZ", "WAT":
		return 1 * h, true
	case "CEST", "MEST", "METDST", "MESZ", "EET", "SAST", "CAT":
		return 2 * h, true
	case "EEST", "MSK", "EAT", "TRT", "AST":
		return 3 * h, true
	case "IST":
		return 5*h + 30*60, true
	case "SGT", "HKT", "AWST", "WITA", "PHT":
		return 8 * h, true
	case "JST", "KST":
		return 9 * h, true
	case "ACST":
		return 9*h + 30*60, true
	case "AEST":
		return 10 * h, true
	case "ACDT":
		return 10*h + 30*60, true
	case "AEDT":
		return 11 * h, true
	case "NZST":
		return 12 * h, true
	case "NZDT":
		return 13 * h, true
	case "HST":
		return -10 * h, true
	case "AKST":
		return -9 * h, true
	case "AKDT", "PST":
		return -8 * h, true
	case "PDT", "MST":
		return -7 * h, true
	case "MDT", "CST":
		return -6 * h, true
	case "CDT", "EST":
		return -5 * h, true
	case "EDT":
		return -4 * h, true
	case "ADT":
		return -3 * h, true
	case "NST":
		return -3*h - 30*60, true
	case "BRT":
		return -3 * h, true
	}
	return 0, false
}

// parseMonth reads a three-letter English month name at s[i:], any case.
func parseMonth(s string, i int) (time.Month, bool) {
	if i+3 > len(s) {
		return 0, false
	}
	switch uint32(lower(s[i]))<<16 | uint32(lower(s[i+1]))<<8 | uint32(lower(s[i+2])) {
	case 'j'<<16 | 'a'<<8 | 'n':
		return time.January, true
	case 'f'<<16 | 'e'<<8 | 'b':
		return time.February, true
	case 'm'<<16 | 'a'<<8 | 'r':
		return time.March, true
	case 'a'<<16 | 'p'<<8 | 'r':
		return time.April, true
	case 'm'<<16 | 'a'<<8 | 'y':
		return time.May, true
	case 'j'<<16 | 'u'<<8 | 'n':
		return time.June, true
	case 'j'<<16 | 'u'<<8 | 'l':
		return time.July, true
	case 'a'<<16 | 'u'<<8 | 'g':
		return time.August, true
	case 's'<<16 | 'e'<<8 | 'p':
		return time.September, true
	case 'o'<<16 | 'c'<<8 | 't':
		return time.October, true
	case 'n'<<16 | 'o'<<8 | 'v':
		return time.November, true
	case 'd'<<16 | 'e'<<8 | 'c':
		return time.December, true
	}
	return 0, false
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

// digits reads between min and max decimal digits at s[i:].
func digits(s string, i, min, max int) (v, end int, ok bool) {
	j := i
	for j < len(s) && j-i < max && isDigit(s[j]) {
		v = v*10 + int(s[j]-'0')
		j++
	}
	if j-i < min {
		return 0, i, false
	}
	return v, j, true
}

// parseStamp reads a timestamp at s[i:] in one of the forms Cisco devices and relays write:
//
//	Mmm dd hh:mm:ss[.frac][ TZ]         (RFC 3164, IOS)
//	Mmm dd yyyy hh:mm:ss[.frac][ TZ]    (ASA, IOS with `service timestamps ... year`)
//	yyyy Mmm dd hh:mm:ss[.frac][ TZ]    (IOS year-first)
//	yyyy-mm-ddThh:mm:ss[.frac](Z|±hh:mm) (RFC 5424, ISO)
//
// It returns the index just past the stamp (a trailing ':' is not consumed).
func parseStamp(s string, i int) (st stamp, end int, ok bool) {
	if i >= len(s) {
		return st, i, false
	}
	if isDigit(s[i]) {
		y, j, ok := digits(s, i, 4, 4)
		if !ok || j >= len(s) {
			return st, i, false
		}
		if s[j] == '-' {
			return parseISO(s, i)
		}
		if s[j] != ' ' {
			return st, i, false
		}
		st, end, ok = parseMonthStamp(s, j+1, false)
		if !ok {
			return st, i, false
		}
		st.year = y
		return st, end, true
	}
	return parseMonthStamp(s, i, true)
}

func parseMonthStamp(s string, i int, yearAllowed bool) (st stamp, end int, ok bool) {
	m, ok := parseMonth(s, i)
	if !ok {
		return st, i, false
	}
	j := i + 3
	if j >= len(s) || s[j] != ' ' {
		return st, i, false
	}
	j = skipSpaces(s, j)
	d, j, ok := digits(s, j, 1, 2)
	if !ok || d < 1 || d > 31 || j >= len(s) || s[j] != ' ' {
		return st, i, false
	}
	j = skipSpaces(s, j)
	st.month, st.day = m, d
	if yearAllowed {
		if y, k, ok := digits(s, j, 4, 4); ok && k < len(s) && s[k] == ' ' {
			st.year = y
			j = skipSpaces(s, k)
		}
	}
	j, ok = parseClock(s, j, &st)
	if !ok {
		return st, i, false
	}
	// Optional zone: " TZ" directly followed by ':' or the end, or any known abbreviation.
	if j+1 < len(s) && s[j] == ' ' && isAlpha(s[j+1]) {
		k := j + 1
		for k < len(s) && isAlpha(s[k]) {
			k++
		}
		name := s[j+1 : k]
		off, known := abbrevOffset(name)
		k2, extra, hasExtra := parseOffset(s, k)
		next := k
		if hasExtra {
			next = k2
		}
		term := next >= len(s) || s[next] == ':'
		// An unknown word is a zone only in capitals (`AUSEST:`); `fw01:` or `edge:` is a host.
		if (term && (known || (len(name) >= 3 && len(name) <= 6 && isUpper(name)))) ||
			(known && (next >= len(s) || s[next] == ' ')) {
			switch {
			case known && !hasExtra && ambiguousZone(name):
				st.zone, st.off = zoneAmbiguous, off
			case known:
				st.zone, st.off = zoneOffset, off+extra
			case hasExtra && (name == "GMT" || name == "gmt"):
				st.zone, st.off = zoneOffset, extra
			default:
				st.zone = zoneUnknown
			}
			j = next
		}
	}
	return st, j, true
}

// parseOffset reads [+-]h[h][[:]mm] at s[i:].
func parseOffset(s string, i int) (end, off int, ok bool) {
	if i >= len(s) || (s[i] != '+' && s[i] != '-') {
		return i, 0, false
	}
	sign := 1
	if s[i] == '-' {
		sign = -1
	}
	h, j, ok := digits(s, i+1, 1, 2)
	if !ok || h > 14 {
		return i, 0, false
	}
	m := 0
	if j < len(s) && s[j] == ':' {
		if mm, k, ok := digits(s, j+1, 2, 2); ok && mm < 60 {
			m, j = mm, k
		}
	} else if mm, k, ok := digits(s, j, 2, 2); ok && mm < 60 && j-i == 3 {
		m, j = mm, k
	}
	return j, sign * (h*3600 + m*60), true
}

// parseClock reads hh:mm:ss[.frac] at s[i:].
func parseClock(s string, i int, st *stamp) (int, bool) {
	h, j, ok := digits(s, i, 1, 2)
	if !ok || h > 23 || j >= len(s) || s[j] != ':' {
		return i, false
	}
	mi, j, ok := digits(s, j+1, 2, 2)
	if !ok || mi > 59 || j >= len(s) || s[j] != ':' {
		return i, false
	}
	se, j, ok := digits(s, j+1, 2, 2)
	if !ok || se > 60 {
		return i, false
	}
	st.hour, st.min, st.sec = h, mi, se
	if j-2 < 256 {
		st.secAt = uint8(j - 2)
	}
	if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		ns := fracNanos(s[j+1 : k])
		st.nsec = ns
		if k < 256 {
			st.fracAt, st.fracEnd = uint8(j+1), uint8(k)
		}
		j = k
	}
	return j, true
}

// fracNanos reads the digits of a fraction of a second as nanoseconds (digits past the ninth
// are ignored).
func fracNanos(d string) int {
	ns, scale := 0, 100000000
	for i := 0; i < len(d) && scale > 0; i++ {
		ns += int(d[i]-'0') * scale
		scale /= 10
	}
	return ns
}

func parseISO(s string, i int) (st stamp, end int, ok bool) {
	y, j, ok := digits(s, i, 4, 4)
	if !ok || j >= len(s) || s[j] != '-' {
		return st, i, false
	}
	mo, j, ok := digits(s, j+1, 2, 2)
	if !ok || mo < 1 || mo > 12 || j >= len(s) || s[j] != '-' {
		return st, i, false
	}
	d, j, ok := digits(s, j+1, 2, 2)
	if !ok || d < 1 || d > 31 || j >= len(s) || (s[j] != 'T' && s[j] != ' ') {
		return st, i, false
	}
	st.year, st.month, st.day = y, time.Month(mo), d
	j, ok = parseClock(s, j+1, &st)
	if !ok {
		return st, i, false
	}
	if j < len(s) && (s[j] == 'Z' || s[j] == 'z') {
		st.zone = zoneOffset
		return st, j + 1, true
	}
	if k, off, ok := parseOffset(s, j); ok {
		st.zone, st.off = zoneOffset, off
		return st, k, true
	}
	return st, j, true
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// resolve turns a stamp into a UTC time. A stamp without zone is read in loc; a stamp without
// year takes the year of now in that zone, or the year before when that would put it more than
// about a month in the future (December lines read in January).
func (st *stamp) resolve(now time.Time, loc *time.Location) time.Time {
	if st.zone == zoneOffset {
		loc = time.UTC
	}
	y := st.year
	if y == 0 {
		y = now.In(loc).Year()
		t := time.Date(y, st.month, st.day, st.hour, st.min, st.sec, st.nsec, loc)
		if st.zone == zoneOffset {
			t = t.Add(-time.Duration(st.off) * time.Second)
		}
		if t.Sub(now) > 31*24*time.Hour {
			y--
		} else {
			return t.UTC()
		}
	}
	t := time.Date(y, st.month, st.day, st.hour, st.min, st.sec, st.nsec, loc)
	if st.zone == zoneOffset {
		t = t.Add(-time.Duration(st.off) * time.Second)
	}
	return t.UTC()
}
