package stats

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
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
	pfxDeny = "deny"
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

type flusher struct {
	tx   *buntdb.Tx
	st   *Store
	now  int64
	fs   FlushStats
	kbuf []byte
	vbuf []byte
	n    int
	ctx  context.Context
	ents []pentry
	// The held host days (held.go): what this Write adds, merges after its commit, wrote and
	// let go, wrote and keeps; the newest hour and the first day still open.
	newHeld      map[string]*heldDay
	deferred     []heldMerge
	written      map[string]bool
	cleaned      []string
	newest       int32
	closedBefore int32
}

func (f *flusher) check() error {
	f.n++
	if f.n&4095 == 0 {
		return f.ctx.Err()
	}
	return nil
}

// set writes key=val. expAt (unix seconds, checked by the callers) is not given to buntdb:
// Prune deletes by the time in the key or value (retention.go).
func (f *flusher) set(key, val string, _ int64) error {
	_, _, err := f.tx.Set(key, val, nil)
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	f.fs.Keys++
	return nil
}

// addCounters adds v to the counters stored at key.
// fresh reports whether no key of bucket t can be in the store yet (see Store.written), so
// that writes need not read first.
func (f *flusher) fresh(t int32, daily bool) bool {
	return f.st.written.fresh(t, daily)
}

func (f *flusher) addCounters(key []byte, v []uint64, expAt int64, fresh bool) error {
	k := string(key)
	var sum [8]uint64
	copy(sum[:], v)
	if fresh {
		// Nothing stored for this bucket yet.
	} else if old, err := f.tx.Get(k); err == nil {
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

type dayKey[K comparable] struct {
	d int32
	k K
}

// flushFamily writes the hourly entries of one family and their daily roll-up. get picks the
// family's table out of an hour set; key renders a key.
func flushFamily[K comparable](f *flusher, hours []*hourSet, get func(*hourSet) *table[K, cnt], nf int,
	key func(b []byte, k K, t int32, daily bool) []byte) error {
	hourTTL := int64(f.st.opts.Retention.Hourly / time.Second)
	dayTTL := int64(f.st.opts.Retention.Daily / time.Second)
	future := f.now + 86400
	days := make(map[dayKey[K]]cnt)
	for _, hs := range hours {
		t := get(hs)
		h := int64(hs.t)
		if h*3600 > future {
			f.fs.Future += len(t.keys)
			continue
		}
		expAt := (h+1)*3600 + hourTTL
		fresh := f.fresh(hs.t, false)
		for i, k := range t.keys {
			if err := f.check(); err != nil {
				return err
			}
			v := t.vals[i]
			dk := dayKey[K]{int32(h / 24), k}
			d := days[dk]
			for j := range nf {
				d[j] += v[j]
			}
			days[dk] = d
			if expAt <= f.now {
				f.fs.Expired++
				continue
			}
			f.kbuf = key(f.kbuf[:0], k, hs.t, false)
			if err := f.addCounters(f.kbuf, v[:nf], expAt, fresh); err != nil {
				return err
			}
			f.fs.Hourly++
		}
	}
	for dk, v := range days {
		if err := f.check(); err != nil {
			return err
		}
		expAt := (int64(dk.d)+1)*86400 + dayTTL
		if expAt <= f.now {
			f.fs.Expired++
			continue
		}
		f.kbuf = key(f.kbuf[:0], dk.k, dk.d, true)
		if err := f.addCounters(f.kbuf, v[:nf], expAt, f.fresh(dk.d, true)); err != nil {
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

func (b *Batch) addrOf(id uint32) netip.Addr { return b.addrs[id].addr }

func appendProtoPort(b []byte, proto uint8, port uint16, c byte) []byte {
	b = strconv.AppendUint(b, uint64(proto), 10)
	b = append(b, c)
	return strconv.AppendUint(b, uint64(port), 10)
}

func (b *Batch) keyIfc(k []byte, x uint32, t int32, daily bool) []byte {
	k = famPrefix(k, pfxIfc, daily)
	dev, iface, _ := strings.Cut(b.ifcs[x], "\x00")
	k = appendEsc(k, dev)
	k = append(k, sep)
	k = appendEsc(k, iface)
	k = append(k, sep)
	return appendBucket(k, t, daily)
}

func (b *Batch) keySite(k []byte, _ uint8, t int32, daily bool) []byte {
	k = famPrefix(k, pfxSite, daily)
	return appendBucket(k, t, daily)
}

func (b *Batch) exSubject(k []byte, x exKey) []byte {
	k = append(k, pfxEx...)
	k = append(k, sep)
	k = append(k, exemplarKeys[x.kind]...)
	k = append(k, sep)
	if x.kind == ExemplarVPN {
		k = appendEsc(k, b.users[x.u])
		k = append(k, sep)
	}
	k = appendAddr(k, b.addrOf(x.a))
	if x.b != 0 {
		k = append(k, sep)
		k = appendAddr(k, b.addrOf(x.b))
	}
	return append(k, sep)
}

// Batch is pending data taken out of an Aggregator, ready to be written. It does not share
// mutable state with the aggregator: one goroutine may Write it while another keeps calling
// Add. A Batch is used by one goroutine at a time.
type Batch struct {
	set          *pendingSet
	addrs        []addrInfo
	users        []string
	acls         []string
	ifcs         []string
	exemplars    int
	forced       bool
	recycle      chan *pendingSet
	maxPeers     int // per host and bucket in packed values
	maxPorts     int
	maxTerms     int
	keepPeers    int
	keepPorts    int
	maxDenyPorts int
	maxACLs      int
	hourList     []*hourSet
}

// Keys is the number of pending keys in the batch.
func (b *Batch) Keys() int { return b.set.keys }

// take moves the pending set into a Batch and gives the aggregator an empty one.
func (a *Aggregator) take() *Batch {
	b := &Batch{
		set:          a.cur,
		addrs:        a.addrs[:len(a.addrs):len(a.addrs)],
		users:        a.users.strs[:len(a.users.strs):len(a.users.strs)],
		acls:         a.acls.strs[:len(a.acls.strs):len(a.acls.strs)],
		ifcs:         a.ifcs.strs[:len(a.ifcs.strs):len(a.ifcs.strs)],
		exemplars:    a.opts.Exemplars,
		maxPeers:     a.opts.MaxPeersPerHost,
		maxPorts:     a.opts.MaxPortsPerHost,
		maxTerms:     a.opts.KeepTermsPerHour,
		keepPeers:    a.opts.KeepPeersPerHour,
		keepPorts:    a.opts.KeepPortsPerHour,
		maxDenyPorts: a.opts.MaxPortsPerSource,
		maxACLs:      a.opts.MaxNames,
		forced:       a.wantFlush,
		recycle:      a.recycle,
	}
	select {
	case s := <-a.recycle:
		a.cur = s
	default:
		a.cur = newPendingSet()
	}
	for t := range a.caps {
		if t < a.maxHour-1 {
			delete(a.caps, t)
		}
	}
	for t := range a.hostsByHour {
		if t < a.maxHour-1 {
			delete(a.hostsByHour, t)
		}
	}
	a.hostsLast = nil
	a.capLast = nil
	a.wantFlush = false
	a.setHorizon()
	a.stats.Flushes++
	if b.forced {
		a.stats.ForcedFlushes++
	}
	return b
}

// Take moves every pending counter into a Batch and leaves the aggregator empty, so that Add
// can go on while the batch is written (buntdb blocks writers while it fsyncs, which can take
// a few hundred milliseconds on a slow disk).
func (a *Aggregator) Take() *Batch {
	b := a.take()
	if len(a.addrs) >= a.opts.MaxPendingKeys {
		a.resetAddrs()
	}
	a.renewNames()
	return b
}

// Flush writes every pending counter to st (Take, then Batch.Write and Release on the calling
// goroutine). On error nothing is written and the pending data stays in the aggregator, so
// Flush can be retried.
func (a *Aggregator) Flush(ctx context.Context, st *Store) (FlushStats, error) {
	b := a.take()
	fs, err := b.Write(ctx, st)
	if err != nil {
		// Nothing was added since take: put the data back.
		spare := a.cur
		a.cur, a.wantFlush = b.set, b.forced
		a.stats.Flushes--
		if b.forced {
			a.stats.ForcedFlushes--
		}
		select {
		case a.recycle <- spare:
		default:
		}
		return fs, err
	}
	b.Release()
	if len(a.addrs) >= a.opts.MaxPendingKeys {
		a.resetAddrs()
	}
	a.renewNames()
	return fs, nil
}

// Release empties the batch and hands its memory back to the aggregator for reuse. The batch
// must not be used afterwards.
func (b *Batch) Release() {
	if b.set == nil {
		return
	}
	b.set.reset()
	select {
	case b.recycle <- b.set:
	default:
	}
	b.set = nil
}

// Write adds the batch's counters to st in one transaction (one write to the file). TTLs are
// computed against st's clock, so data replayed from the past gets the expiry it would have
// had live, and data already past its retention is skipped. On error nothing is written and
// the batch is unchanged: Write may be retried.
func (b *Batch) Write(ctx context.Context, st *Store) (FlushStats, error) {
	if err := ctx.Err(); err != nil {
		return FlushStats{}, err
	}
	if err := st.writable(); err != nil {
		return FlushStats{}, err
	}
	start := st.opts.Now()
	f := &flusher{st: st, now: start.Unix(), ctx: ctx}
	f.fs.Forced = b.forced
	hours := make([]*hourSet, 0, len(b.set.hours))
	for _, hs := range b.set.hours {
		hours = append(hours, hs)
	}
	b.hourList = hours
	// The site totals are a one-key table per hour.
	sites := make([]table[uint8, cnt], len(hours))
	siteOf := make(map[*hourSet]*table[uint8, cnt], len(hours))
	for i, hs := range hours {
		sites[i] = table[uint8, cnt]{keys: []uint8{0}, vals: []cnt{hs.site}}
		siteOf[hs] = &sites[i]
	}
	var bucketHours []int32
	for _, hs := range hours {
		if int64(hs.t)*3600 <= f.now+86400 {
			bucketHours = append(bucketHours, hs.t)
		}
	}
	st.heldMu.Lock()
	defer st.heldMu.Unlock()
	f.beginHeld(bucketHours)
	err := st.db.Update(func(tx *buntdb.Tx) error {
		f.tx = tx
		steps := []func() error{
			// Site totals first: Open learns from them which buckets the file holds, and a
			// write torn by a crash keeps a prefix of the transaction.
			func() error {
				return flushFamily(f, hours, func(h *hourSet) *table[uint8, cnt] { return siteOf[h] }, nfSite, b.keySite)
			},
			func() error { return f.flushDays(b, b.hostFam()) },
			func() error { return f.flushDays(b, b.denyFam()) },
			func() error {
				return flushFamily(f, hours, func(h *hourSet) *table[uint32, cnt] { return &h.ifc }, nfIfc, b.keyIfc)
			},
			func() error { return f.flushTerms(b, b.maxTerms) },
			func() error { return b.writeSeen(f) },
			func() error { return b.writeSpans(f) },
			func() error { return b.writeExemplars(f) },
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		if err := f.writeHeld(false); err != nil {
			return err
		}
		for _, hs := range hours {
			if int64(hs.t)*3600 <= f.now+86400 {
				st.written.mark(hs.t)
			}
		}
		return nil
	})
	if err != nil {
		// The transaction is rolled back, or its commit failed: forget what it took.
		clear(st.exUsed)
		return FlushStats{}, fmt.Errorf("flush to %s: %w", st.path, err)
	}
	f.commitHeld()
	f.fs.Duration = st.opts.Now().Sub(start)
	st.recordFlush(start, f.fs.Duration, f.fs.Keys)
	if st.pruneDue() {
		// What is past retention goes after the flush; a failure here loses nothing.
		if _, err := st.Prune(ctx); err != nil {
			st.log.Warn("prune of statistics past retention failed", "err", err)
		}
	}
	return f.fs, nil
}

func (b *Batch) writeSeen(f *flusher) error {
	seen := make(map[uint32]span)
	for _, hs := range b.set.hours {
		if int64(hs.t)*3600 > f.now+86400 {
			continue // refused as future by flushFamily
		}
		for i, h := range hs.host.keys {
			v := &hs.host.vals[i]
			s := seen[h]
			first, last := int64(v[hFirst]), int64(v[hLast])
			if s.first == 0 || first < s.first {
				s.first = first
			}
			if last > s.last {
				s.last = last
			}
			seen[h] = s
		}
	}
	for h, s := range seen {
		if err := f.check(); err != nil {
			return err
		}
		f.kbuf = append(f.kbuf[:0], pfxSeen...)
		f.kbuf = append(f.kbuf, sep)
		f.kbuf = appendAddr(f.kbuf, b.addrOf(h))
		if err := f.mergeSpan(f.kbuf, s, 0); err != nil {
			return err
		}
	}
	return nil
}

func (b *Batch) writeSpans(f *flusher) error {
	p := b.set
	for i, k := range p.vpn.keys {
		f.kbuf = append(f.kbuf[:0], pfxVPN...)
		f.kbuf = append(f.kbuf, sep)
		f.kbuf = appendEsc(f.kbuf, b.users[k.user])
		f.kbuf = append(f.kbuf, sep)
		f.kbuf = appendAddr(f.kbuf, b.addrOf(k.src))
		if err := f.mergeSpan(f.kbuf, p.vpn.vals[i], 1); err != nil {
			return err
		}
	}
	for i, k := range p.pair.keys {
		if err := f.check(); err != nil {
			return err
		}
		f.kbuf = append(f.kbuf[:0], pfxPair...)
		f.kbuf = append(f.kbuf, sep)
		f.kbuf = appendAddr(f.kbuf, b.addrOf(k.c))
		f.kbuf = append(f.kbuf, sep)
		f.kbuf = appendAddr(f.kbuf, b.addrOf(k.s))
		f.kbuf = append(f.kbuf, sep)
		f.kbuf = appendProtoPort(f.kbuf, k.proto, k.port, sep)
		f.kbuf = append(f.kbuf, sep)
		f.kbuf = append(f.kbuf, k.fam.String()...)
		if err := f.mergeSpan(f.kbuf, p.pair.vals[i], 2); err != nil {
			return err
		}
	}
	for i, k := range p.dns.keys {
		if err := f.check(); err != nil {
			return err
		}
		f.kbuf = append(f.kbuf[:0], pfxDNS...)
		f.kbuf = append(f.kbuf, sep)
		f.kbuf = appendAddr(f.kbuf, b.addrOf(k.c))
		f.kbuf = append(f.kbuf, sep)
		f.kbuf = appendAddr(f.kbuf, b.addrOf(k.r))
		if err := f.mergeSpan(f.kbuf, p.dns.vals[i], 1); err != nil {
			return err
		}
	}
	return nil
}

// maxExMemo bounds Store.exUsed (subjects); past it the memo starts over.
const maxExMemo = 1 << 20

// writeExemplars stores each pending line in the first free slot of its subject.
func (b *Batch) writeExemplars(f *flusher) error {
	ttl := int64(f.st.opts.Retention.Exemplars / time.Second)
	for _, l := range b.set.ex {
		expAt := l.ts + ttl
		if expAt <= f.now {
			f.fs.Expired++
			continue
		}
		f.kbuf = b.exSubject(f.kbuf[:0], l.key)
		base := len(f.kbuf)
		used := f.st.exUsed[string(f.kbuf)] // no allocation for the lookup
		if int(used) >= b.exemplars {
			continue
		}
		if len(f.st.exUsed) >= maxExMemo {
			clear(f.st.exUsed)
		}
		f.st.exUsed[string(f.kbuf)] = uint8(b.exemplars) // full unless a free slot is found
		for slot := int(used); slot < b.exemplars; slot++ {
			f.kbuf = strconv.AppendInt(f.kbuf[:base], int64(slot), 10)
			k := string(f.kbuf)
			_, err := f.tx.Get(k)
			if err == nil {
				continue
			}
			if !errors.Is(err, buntdb.ErrNotFound) {
				return fmt.Errorf("get %s: %w", k, err)
			}
			f.vbuf = exemplarValue(f.vbuf[:0], l.ts, l.raw)
			if err := f.set(k, string(f.vbuf), expAt); err != nil {
				return err
			}
			f.st.exUsed[k[:base]] = uint8(slot + 1)
			f.fs.Exemplars++
			break
		}
	}
	return nil
}
