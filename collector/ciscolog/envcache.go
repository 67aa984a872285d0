package ciscolog

import "time"

// The envelope cache. Frames from one device within one second carry the same envelope byte
// for byte (`<166>Mar  3 08:15:02 fw-clinic `), and reading it (PRI, stamp, zone, host, time
// arithmetic) costs about as much as typing a connection message. So the Parser remembers the
// last few envelopes it read, keyed on their exact bytes, with what they gave.
//
// The key is the whole envelope, so an entry holds only what is a function of those bytes: the
// header fields and the device's zone (Options.Zone results are cached per host anyway). The
// time of a stamp without a year also depends on the clock; an entry keeps it for the year it
// was computed in and is re-checked against the clock on every use, exactly as resolve would.
//
// IOS envelopes differ on every line (`<190>120332: rtr: *Mar  3 10:00:02.234 CET: `): the
// sequence numbers count up and the stamp has milliseconds. So the digits of the sequence
// numbers and of the stamp's fraction are masked out of the key (a frame matches when it has
// digits there, as many), the entry keeps the per-second time, and a hit reads those digits
// from the frame: the sequence number as scan does and the fraction added to the time. The
// stamp's seconds are masked too (the entry keeps the minute's time): a device that logs less
// than once a second, or a sparse replay, would otherwise miss at nearly every line.

const (
	envCacheWays = 4
	envKeyMax    = 96 // longer envelopes (relay stacks) are read every time
)

type envEntry struct {
	n       int // key length; 0 when the entry is unused
	key     [envKeyMax]byte
	h       header // h.host is empty: the host is env[hostAt : hostAt+hostLen]
	hostAt  int
	hostLen int
	loc     *time.Location
	// fallback: the stamp's zone abbreviation was unknown or ambiguous (counted per frame).
	fallback bool
	// mask: the digit runs left out of the key, in order; seqs of them are sequence numbers
	// and, when frac, the last is the stamp's fraction. h.st.nsec is 0 and t is per second.
	mask  [len(header{}.seqAt) + 2]span
	nmask int
	seqs  int
	sec   int // index in mask of the stamp's seconds; -1: not masked
	frac  bool

	// For a stamp with a year (or without a stamp) t is the time. Otherwise year is the clock's
	// year that t (the stamp in that year) and prev (the year before) were computed for, when
	// hasYear.
	fixed   bool
	hasYear bool
	year    int
	t, prev time.Time
	ahead   time.Time // t minus 31 days: a clock before it puts the stamp in the year before
	hasPrev bool
	// The clock's year in loc (not UTC), valid for clock readings in [cyFrom, cyTo) (Unix
	// seconds), when hasCY: reading it from the clock is a zone lookup per frame.
	hasCY        bool
	cy           int
	cyFrom, cyTo int64
}

type span struct{ a, b uint8 }

type envCache struct {
	e       [envCacheWays]envEntry
	lastHit int // the entry a miss must not evict: the envelope of the current burst
	next    int // round-robin victim
}

func (c *envCache) reset() {
	for i := range c.e {
		c.e[i].n = 0
	}
}

// lookup returns the entry whose key is env, or nil.
func (c *envCache) lookup(env string) *envEntry {
	if e := &c.e[c.lastHit]; e.n == len(env) && e.is(env) {
		return e
	}
	return c.lookupOthers(env)
}

// lookupOthers is lookup past the entry of the current burst.
func (c *envCache) lookupOthers(env string) *envEntry {
	for i := range c.e {
		if e := &c.e[i]; i != c.lastHit && e.n == len(env) && e.is(env) {
			c.lastHit = i
			return e
		}
	}
	return nil
}

// is reports whether the key is env: equal bytes, and digits where the key is masked.
func (e *envEntry) is(env string) bool {
	if e.nmask == 0 {
		return string(e.key[:e.n]) == env
	}
	return e.isMasked(env)
}

func (e *envEntry) isMasked(env string) bool {
	at := 0
	for _, m := range e.mask[:e.nmask] {
		a, b := int(m.a), int(m.b)
		if string(e.key[at:a]) != env[at:a] {
			return false
		}
		for k := a; k < b; k++ {
			if !isDigit(env[k]) {
				return false
			}
		}
		at = b
	}
	// The bytes around a run are compared as key bytes, and the key's are not digits: a run
	// of the frame has the extent of the key's.
	return string(e.key[at:e.n]) == env[at:]
}

// setMask masks the sequence numbers and the stamp's fraction of h, read from env, out of the
// entry's key; nothing when scan saw more sequence numbers than it kept.
func (e *envEntry) setMask(env string, h *header) {
	none := func() { e.nmask, e.seqs, e.sec, e.frac = 0, 0, -1, false }
	none()
	if int(h.nseq) > len(h.seqAt) {
		return
	}
	for _, at := range h.seqAt[:h.nseq] {
		b := int(at)
		for b < len(env) && isDigit(env[b]) {
			b++
		}
		// Only a token of its own (`120332: `) keeps its meaning whatever its digits: glued to
		// a clock (`23:59:99:`, no stamp, read as a number) other digits make it a stamp.
		if (at > 0 && env[at-1] != ' ' && env[at-1] != '>') || b >= len(env) || env[b] != ':' ||
			(b+1 < len(env) && isDigit(env[b+1])) {
			none()
			return
		}
		e.mask[e.nmask] = span{at, uint8(b)}
		e.nmask++
	}
	e.seqs = e.nmask
	if !h.hasStamp {
		return
	}
	// The stamp comes after the sequence numbers in IOS envelopes; keep the runs in order.
	after := func(m span) bool {
		for _, x := range e.mask[:e.nmask] {
			if x.b > m.a {
				return false
			}
		}
		return true
	}
	if at := h.st.secAt; at > 0 && int(at)+2 <= len(env) {
		m := span{at, at + 2}
		if !after(m) {
			none()
			return
		}
		e.sec = e.nmask
		e.mask[e.nmask] = m
		e.nmask++
	}
	if h.st.fracEnd > h.st.fracAt {
		m := span{h.st.fracAt, h.st.fracEnd}
		if !after(m) {
			none()
			return
		}
		e.mask[e.nmask] = m
		e.nmask++
		e.frac = true
	}
}

// replay reads the masked digits of env into h and returns what to add to the entry's time
// (the seconds and the fraction); ok is false when the seconds are out of range (60 is a leap
// second), which scan would not read as a stamp.
func (e *envEntry) replay(env string, h *header) (add time.Duration, ok bool) {
	if e.seqs > 0 {
		h.seq = 0
		for _, m := range e.mask[:e.seqs] {
			h.seq = seqValue(env[m.a:m.b], h.seq)
		}
	}
	if e.sec >= 0 {
		m := e.mask[e.sec]
		sec := int(env[m.a]-'0')*10 + int(env[m.a+1]-'0')
		if sec > 60 {
			return 0, false
		}
		h.st.sec = sec
		add = time.Duration(sec) * time.Second
	}
	if e.frac {
		m := e.mask[e.nmask-1]
		h.st.nsec = fracNanos(env[m.a:m.b])
		add += time.Duration(h.st.nsec)
	}
	return add, true
}

// victim returns the entry to overwrite for a new envelope, which becomes the one to look at
// first.
func (c *envCache) victim() *envEntry {
	c.next = (c.next + 1) % envCacheWays
	if c.next == c.lastHit {
		c.next = (c.next + 1) % envCacheWays
	}
	c.lastHit = c.next
	return &c.e[c.next]
}

// envelope reads the envelope env (the frame up to its tag) into h and returns the frame's time
// (zero when it has no stamp), using and filling the cache. The strings in h alias env.
func (p *Parser) envelope(env string, h *header) time.Time {
	if len(env) == 0 || len(env) > envKeyMax {
		h.scan(env, false)
		if !h.hasStamp {
			return time.Time{}
		}
		return p.resolve(&h.st, p.zoneOf(h))
	}
	e := p.env.lookup(env)
	var frac time.Duration
	if e != nil {
		*h = e.h
		h.host = env[e.hostAt : e.hostAt+e.hostLen]
		if e.nmask > 0 {
			var ok bool
			if frac, ok = e.replay(env, h); !ok {
				e.n = 0 // scanned again below, as a new envelope
				e = nil
			}
		}
		if e != nil && e.fallback {
			p.zoneFallbacks++
		}
	}
	if e == nil {
		*h = header{}
		h.scan(env, false)
		var loc *time.Location
		fallback := false
		if h.hasStamp {
			n := p.zoneFallbacks
			loc = p.zoneOf(h) // may reset the cache
			fallback = p.zoneFallbacks != n
		}
		e = p.env.victim()
		e.n = len(env)
		copy(e.key[:], env)
		e.h = *h
		e.h.host = "" // the entry must not keep a pointer into the frame
		e.hostAt, e.hostLen = 0, len(h.host)
		if h.host != "" {
			e.hostAt, _ = within(env, h.host)
		}
		e.loc, e.fallback = loc, fallback
		e.setMask(env, h)
		if e.sec >= 0 {
			frac = time.Duration(h.st.sec) * time.Second
			e.h.st.sec = 0
		}
		if e.frac {
			frac += time.Duration(h.st.nsec)
			e.h.st.nsec = 0
		}
		e.fixed = !h.hasStamp || h.st.year != 0
		e.hasYear, e.hasPrev, e.hasCY, e.t = false, false, false, time.Time{}
		if h.hasStamp && e.fixed {
			e.t = p.resolve(&e.h.st, loc)
		}
	}
	if e.fixed {
		if frac != 0 {
			return e.t.Add(frac)
		}
		return e.t
	}
	return p.envTime(e, frac)
}

// envTime is resolve for a cached yearless stamp plus frac (the entry holds its second): the
// stamp in the clock's year, or in the year before when that would lie more than about a month
// ahead of the clock.
func (p *Parser) envTime(e *envEntry, frac time.Duration) time.Time {
	now := p.now()
	var y int
	if e.loc == time.UTC {
		y = p.yearOf(now)
	} else if u := now.Unix(); e.hasCY && u >= e.cyFrom && u < e.cyTo {
		y = e.cy
	} else {
		y = now.In(e.loc).Year()
		e.hasCY, e.cy = true, y
		e.cyFrom = time.Date(y, 1, 1, 0, 0, 0, 0, e.loc).Unix()
		e.cyTo = time.Date(y+1, 1, 1, 0, 0, 0, 0, e.loc).Unix()
	}
	if !e.hasYear || y != e.year {
		e.hasYear, e.year, e.t, e.hasPrev = true, y, p.stampIn(y, &e.h.st, e.loc), false
		e.ahead = e.t.Add(-31 * 24 * time.Hour)
	}
	ahead := e.ahead
	if frac != 0 { // (time.Time.Add is not free: ASA stamps have no fraction)
		ahead = ahead.Add(frac)
	}
	t := e.t
	if now.Before(ahead) { // e.t+frac-now > 31 days, without Sub's saturation
		if !e.hasPrev {
			e.prev, e.hasPrev = p.stampIn(y-1, &e.h.st, e.loc), true
		}
		t = e.prev
	}
	if frac != 0 {
		t = t.Add(frac)
	}
	return t
}

// stampIn returns st in year y, read in loc, in UTC; as resolve and stamp.resolve compute it.
func (p *Parser) stampIn(y int, st *stamp, loc *time.Location) time.Time {
	if loc == time.UTC {
		return p.fromDay(y, st)
	}
	if st.zone == zoneOffset {
		loc = time.UTC
	}
	t := time.Date(y, st.month, st.day, st.hour, st.min, st.sec, st.nsec, loc)
	if st.zone == zoneOffset {
		t = t.Add(-time.Duration(st.off) * time.Second)
	}
	return t.UTC()
}
