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

	// For a stamp with a year (or without a stamp) t is the time. Otherwise year is the clock's
	// year that t (the stamp in that year) and prev (the year before) were computed for, when
	// hasYear.
	fixed   bool
	hasYear bool
	year    int
	t, prev time.Time
	ahead   time.Time // t minus 31 days: a clock before it puts the stamp in the year before
	hasPrev bool
}

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
	for i := range c.e {
		if e := &c.e[i]; i != c.lastHit && e.n == len(env) && e.is(env) {
			c.lastHit = i
			return e
		}
	}
	return nil
}

// is reports whether the key is env.
func (e *envEntry) is(env string) bool {
	return string(e.key[:e.n]) == env
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
	if e != nil {
		*h = e.h
		h.host = env[e.hostAt : e.hostAt+e.hostLen]
		if e.fallback {
			p.zoneFallbacks++
		}
	} else {
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
		e.fixed = !h.hasStamp || h.st.year != 0
		e.hasYear, e.hasPrev, e.t = false, false, time.Time{}
		if h.hasStamp && e.fixed {
			e.t = p.resolve(&h.st, loc)
		}
	}
	if e.fixed {
		return e.t
	}
	return p.envTime(e)
}

// envTime is resolve for a cached yearless stamp: the stamp in the clock's year, or in the year
// before when that would lie more than about a month ahead of the clock.
func (p *Parser) envTime(e *envEntry) time.Time {
	now := p.now()
	var y int
	if e.loc == time.UTC {
		y = p.yearOf(now)
	} else {
		y = now.In(e.loc).Year()
	}
	if !e.hasYear || y != e.year {
		e.hasYear, e.year, e.t, e.hasPrev = true, y, p.stampIn(y, &e.h.st, e.loc), false
		e.ahead = e.t.Add(-31 * 24 * time.Hour)
	}
	if now.Before(e.ahead) { // e.t.Sub(now) > 31 days, without Sub's saturating arithmetic
		if !e.hasPrev {
			e.prev, e.hasPrev = p.stampIn(y-1, &e.h.st, e.loc), true
		}
		return e.prev
	}
	return e.t
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
