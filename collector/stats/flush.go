package stats

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/tidwall/buntdb"
)

// FlushStats describe one Flush.
type FlushStats struct {
	Keys      int // keys set (counters, seen records, exemplars)
	Hourly    int // hourly bucket keys among them
	Daily     int // daily bucket keys among them
	Seen      int // first/last-seen records among them
	Exemplars int // exemplar lines among them
	Expired   int // pending entries not written because their retention had already passed
	Future    int // pending buckets more than a day ahead of the store's clock, not written
	Forced    bool
	Duration  time.Duration
}

// Family prefixes (see the package doc).
const (
	pfxHost = "host"
	pfxPeer = "peer"
	pfxPort = "port"
	pfxDeny = "deny"
	pfxDACL = "dacl"
	pfxIfc  = "ifc"
	pfxSite = "site"
	pfxTerm = "term"
	pfxVPN  = "vpn"
	pfxPair = "pair"
	pfxDNS  = "dns"
	pfxSeen = "seen"
	pfxEx   = "ex"
)

// Number of persisted fields per counter family.
const (
	nfHost = 6
	nfPeer = 4
	nfPort = 2
	nfDeny = 1
	nfDACL = 1
	nfIfc  = 5
	nfSite = 5
	nfTerm = 1
)

type bucketed[K any] interface {
	comparable
	bucket() int32
	withBucket(int32) K
}

type flusher struct {
	tx   *buntdb.Tx
	st   *Store
	now  int64
	fs   FlushStats
	kbuf []byte
	vbuf []byte
	n    int
	ctx  context.Context
}

func (f *flusher) check() error {
	f.n++
	if f.n&4095 == 0 {
		return f.ctx.Err()
	}
	return nil
}

// set writes key=val with an absolute expiry (unix seconds).
func (f *flusher) set(key, val string, expAt int64) error {
	_, _, err := f.tx.Set(key, val, &buntdb.SetOptions{Expires: true, TTL: time.Duration(expAt-f.now) * time.Second})
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	f.fs.Keys++
	return nil
}

// addCounters adds v to the counters stored at key.
func (f *flusher) addCounters(key []byte, v []uint64, expAt int64) error {
	k := string(key)
	var sum [8]uint64
	copy(sum[:], v)
	if old, err := f.tx.Get(k); err == nil {
		var prev [8]uint64
		parseVals(old, prev[:len(v)])
		for i := range v {
			sum[i] += prev[i]
		}
	} else if !errors.Is(err, buntdb.ErrNotFound) {
		return fmt.Errorf("get %s: %w", k, err)
	}
	f.vbuf = appendVals(f.vbuf[:0], sum[:len(v)])
	return f.set(k, string(f.vbuf), expAt)
}

// mergeSpan merges a first/last-seen record into key; the record lives for Seen after its
// last sighting.
func (f *flusher) mergeSpan(key []byte, s span, ncounts int) error {
	k := string(key)
	if old, err := f.tx.Get(k); err == nil {
		var prev [4]uint64
		parseVals(old, prev[:2+ncounts])
		if p := int64(prev[0]); p != 0 && p < s.first {
			s.first = p
		}
		if p := int64(prev[1]); p > s.last {
			s.last = p
		}
		for i := range ncounts {
			s.n[i] += prev[2+i]
		}
	} else if !errors.Is(err, buntdb.ErrNotFound) {
		return fmt.Errorf("get %s: %w", k, err)
	}
	expAt := s.last + int64(f.st.opts.Retention.Seen/time.Second)
	if expAt <= f.now {
		f.fs.Expired++
		return nil
	}
	vals := [4]uint64{uint64(s.first), uint64(s.last), s.n[0], s.n[1]}
	f.vbuf = appendVals(f.vbuf[:0], vals[:2+ncounts])
	f.fs.Seen++
	return f.set(k, string(f.vbuf), expAt)
}

// flushFamily writes the hourly entries of t and their daily roll-up.
func flushFamily[K bucketed[K]](f *flusher, t *table[K, cnt], nf int, key func(b []byte, k K, daily bool) []byte) error {
	hourTTL := int64(f.st.opts.Retention.Hourly / time.Second)
	dayTTL := int64(f.st.opts.Retention.Daily / time.Second)
	future := f.now + 86400
	days := make(map[K]cnt)
	for i, k := range t.keys {
		if err := f.check(); err != nil {
			return err
		}
		h := int64(k.bucket())
		if h*3600 > future {
			f.fs.Future++
			continue
		}
		v := t.vals[i]
		dk := k.withBucket(int32(h / 24))
		d := days[dk]
		for j := range nf {
			d[j] += v[j]
		}
		days[dk] = d
		expAt := (h+1)*3600 + hourTTL
		if expAt <= f.now {
			f.fs.Expired++
			continue
		}
		f.kbuf = key(f.kbuf[:0], k, false)
		if err := f.addCounters(f.kbuf, v[:nf], expAt); err != nil {
			return err
		}
		f.fs.Hourly++
	}
	for k, v := range days {
		if err := f.check(); err != nil {
			return err
		}
		expAt := (int64(k.bucket())+1)*86400 + dayTTL
		if expAt <= f.now {
			f.fs.Expired++
			continue
		}
		f.kbuf = key(f.kbuf[:0], k, true)
		if err := f.addCounters(f.kbuf, v[:nf], expAt); err != nil {
			return err
		}
		f.fs.Daily++
	}
	return nil
}

func res(daily bool) byte {
	if daily {
		return 'd'
	}
	return 'h'
}

func famPrefix(b []byte, pfx string, daily bool) []byte {
	b = append(b, pfx...)
	return append(b, sep, res(daily), sep)
}

func keyHost(b []byte, k hostKey, daily bool) []byte {
	b = famPrefix(b, pfxHost, daily)
	b = appendAddr(b, k.host)
	b = append(b, sep)
	return appendBucket(b, k.t, daily)
}

func keyPeer(b []byte, k peerKey, daily bool) []byte {
	b = famPrefix(b, pfxPeer, daily)
	b = appendAddr(b, k.host)
	b = append(b, sep)
	b = appendBucket(b, k.t, daily)
	b = append(b, sep)
	return appendAddr(b, k.peer)
}

func roleScope(r Role, ext bool) string {
	switch {
	case r == RoleClient && ext:
		return "ce"
	case r == RoleClient:
		return "ci"
	case ext:
		return "se"
	}
	return "si"
}

func appendProtoPort(b []byte, proto uint8, port uint16, c byte) []byte {
	b = strconv.AppendUint(b, uint64(proto), 10)
	b = append(b, c)
	return strconv.AppendUint(b, uint64(port), 10)
}

func keyPort(b []byte, k portKey, daily bool) []byte {
	b = famPrefix(b, pfxPort, daily)
	b = appendAddr(b, k.host)
	b = append(b, sep)
	b = appendBucket(b, k.t, daily)
	b = append(b, sep)
	b = append(b, roleScope(k.role, k.ext)...)
	b = append(b, sep)
	return appendProtoPort(b, k.proto, k.port, sep)
}

func keyDeny(b []byte, k denyKey, daily bool) []byte {
	b = famPrefix(b, pfxDeny, daily)
	b = appendAddr(b, k.src)
	b = append(b, sep)
	b = appendBucket(b, k.t, daily)
	b = append(b, sep)
	return appendProtoPort(b, k.proto, k.port, sep)
}

func (a *Aggregator) keyDACL(b []byte, k daclKey, daily bool) []byte {
	b = famPrefix(b, pfxDACL, daily)
	b = appendAddr(b, k.src)
	b = append(b, sep)
	b = appendBucket(b, k.t, daily)
	b = append(b, sep)
	return appendEsc(b, a.acls.strs[k.acl])
}

func (a *Aggregator) keyIfc(b []byte, k ifcKey, daily bool) []byte {
	b = famPrefix(b, pfxIfc, daily)
	name := a.ifcs.strs[k.ifc]
	dev, iface := name, name
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			dev, iface = name[:i], name[i+1:]
			break
		}
	}
	b = appendEsc(b, dev)
	b = append(b, sep)
	b = appendEsc(b, iface)
	b = append(b, sep)
	return appendBucket(b, k.t, daily)
}

func keySite(b []byte, k siteKey, daily bool) []byte {
	b = famPrefix(b, pfxSite, daily)
	return appendBucket(b, k.t, daily)
}

func (a *Aggregator) keyTerm(b []byte, k termKey, daily bool) []byte {
	b = famPrefix(b, pfxTerm, daily)
	b = append(b, fieldKeys[k.field]...)
	b = append(b, sep)
	b = appendBucket(b, k.t, daily)
	b = append(b, sep)
	return a.appendTerm(b, k)
}

func (a *Aggregator) appendTerm(b []byte, k termKey) []byte {
	switch k.field {
	case FieldDestinationPort:
		return appendProtoPort(b, k.proto, k.port, '/')
	case FieldUserSource:
		b = appendEsc(b, a.users.strs[k.user])
		b = append(b, sep)
	}
	return appendAddr(b, k.addr)
}

func (a *Aggregator) exSubject(b []byte, k exKey) []byte {
	b = append(b, pfxEx...)
	b = append(b, sep)
	b = append(b, exemplarKeys[k.kind]...)
	b = append(b, sep)
	if k.kind == ExemplarVPN {
		b = appendEsc(b, a.users.strs[k.user])
		b = append(b, sep)
	}
	b = appendAddr(b, k.a)
	if k.b.IsValid() {
		b = append(b, sep)
		b = appendAddr(b, k.b)
	}
	return append(b, sep)
}

// Flush writes every pending counter to st in one transaction (one write to the file), adding
// to what is stored, and empties the aggregator. TTLs are computed against st's clock, so data
// replayed from the past gets the expiry it would have had live, and data already past its
// retention is skipped. On error nothing is written and the pending data is kept, so Flush can
// be retried.
func (a *Aggregator) Flush(ctx context.Context, st *Store) (FlushStats, error) {
	if err := ctx.Err(); err != nil {
		return FlushStats{}, err
	}
	start := st.opts.Now()
	f := &flusher{st: st, now: start.Unix(), ctx: ctx}
	f.fs.Forced = a.wantFlush
	err := st.db.Update(func(tx *buntdb.Tx) error {
		f.tx = tx
		steps := []func() error{
			func() error { return flushFamily(f, &a.host, nfHost, keyHost) },
			func() error { return flushFamily(f, &a.peer, nfPeer, keyPeer) },
			func() error { return flushFamily(f, &a.port, nfPort, keyPort) },
			func() error { return flushFamily(f, &a.deny, nfDeny, keyDeny) },
			func() error { return flushFamily(f, &a.dacl, nfDACL, a.keyDACL) },
			func() error { return flushFamily(f, &a.ifc, nfIfc, a.keyIfc) },
			func() error { return flushFamily(f, &a.site, nfSite, keySite) },
			func() error { return flushFamily(f, &a.term, nfTerm, a.keyTerm) },
			a.flushSeen(f),
			a.flushSpans(f),
			a.flushExemplars(f),
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return FlushStats{}, fmt.Errorf("flush to %s: %w", st.path, err)
	}
	a.afterFlush()
	if f.fs.Forced {
		a.stats.ForcedFlushes++
	}
	a.stats.Flushes++
	f.fs.Duration = st.opts.Now().Sub(start)
	st.recordFlush(start, f.fs.Duration, f.fs.Keys)
	return f.fs, nil
}

func (a *Aggregator) flushSeen(f *flusher) func() error {
	return func() error {
		seen := make(map[netip.Addr]span)
		for i, k := range a.host.keys {
			v := &a.host.vals[i]
			s := seen[k.host]
			first, last := int64(v[hFirst]), int64(v[hLast])
			if s.first == 0 || first < s.first {
				s.first = first
			}
			if last > s.last {
				s.last = last
			}
			seen[k.host] = s
		}
		for h, s := range seen {
			if err := f.check(); err != nil {
				return err
			}
			f.kbuf = append(f.kbuf[:0], pfxSeen...)
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = appendAddr(f.kbuf, h)
			if err := f.mergeSpan(f.kbuf, s, 0); err != nil {
				return err
			}
		}
		return nil
	}
}

func (a *Aggregator) flushSpans(f *flusher) func() error {
	return func() error {
		for i, k := range a.vpn.keys {
			f.kbuf = append(f.kbuf[:0], pfxVPN...)
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = appendEsc(f.kbuf, a.users.strs[k.user])
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = appendAddr(f.kbuf, k.src)
			if err := f.mergeSpan(f.kbuf, a.vpn.vals[i], 1); err != nil {
				return err
			}
		}
		for i, k := range a.pair.keys {
			if err := f.check(); err != nil {
				return err
			}
			f.kbuf = append(f.kbuf[:0], pfxPair...)
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = appendAddr(f.kbuf, k.client)
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = appendAddr(f.kbuf, k.server)
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = appendProtoPort(f.kbuf, k.proto, k.port, sep)
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = append(f.kbuf, k.fam.String()...)
			if err := f.mergeSpan(f.kbuf, a.pair.vals[i], 2); err != nil {
				return err
			}
		}
		for i, k := range a.dns.keys {
			if err := f.check(); err != nil {
				return err
			}
			f.kbuf = append(f.kbuf[:0], pfxDNS...)
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = appendAddr(f.kbuf, k.client)
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = appendAddr(f.kbuf, k.resolver)
			if err := f.mergeSpan(f.kbuf, a.dns.vals[i], 1); err != nil {
				return err
			}
		}
		return nil
	}
}

// flushExemplars stores each pending line in the first free slot of its subject.
func (a *Aggregator) flushExemplars(f *flusher) func() error {
	return func() error {
		ttl := int64(f.st.opts.Retention.Exemplars / time.Second)
		for _, l := range a.exLines {
			expAt := l.ts + ttl
			if expAt <= f.now {
				f.fs.Expired++
				continue
			}
			f.kbuf = a.exSubject(f.kbuf[:0], l.key)
			base := len(f.kbuf)
			for slot := range a.opts.Exemplars {
				f.kbuf = strconv.AppendInt(f.kbuf[:base], int64(slot), 10)
				k := string(f.kbuf)
				_, err := f.tx.Get(k)
				if err == nil {
					continue
				}
				if !errors.Is(err, buntdb.ErrNotFound) {
					return fmt.Errorf("get %s: %w", k, err)
				}
				if err := f.set(k, l.raw, expAt); err != nil {
					return err
				}
				f.fs.Exemplars++
				break
			}
		}
		return nil
	}
}

// afterFlush empties the pending tables, keeping their memory, and prunes the per-subject caps
// of hours that can no longer grow.
func (a *Aggregator) afterFlush() {
	a.host.reset()
	a.peer.reset()
	a.port.reset()
	a.deny.reset()
	a.dacl.reset()
	a.ifc.reset()
	a.site.reset()
	a.term.reset()
	a.vpn.reset()
	a.pair.reset()
	a.dns.reset()
	clear(a.exLines)
	a.exLines = a.exLines[:0]
	for k := range a.caps {
		if k.t < a.maxHour-1 {
			delete(a.caps, k)
		}
	}
	a.pending = 0
	a.wantFlush = false
}
