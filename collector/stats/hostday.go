package stats

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tidwall/buntdb"
)

// Host days: everything counted per internal host (its counters, its external peers by server
// port, its ports) lives in one key per host and day: host|h|<ip>|<day> holds one slot per hour
// of that day (kept Retention.Hourly after the day ends), host|d|<ip>|<day> the day's totals in
// one slot (kept Retention.Daily). buntdb costs about 200 bytes and a tree insert per key, so
// the number of keys is what bounds memory and write time: with one key per host-day it grows
// with hosts × days, not with hours, peers or ports.
//
// Value: a format byte (2), then slots: the slot (hour of the day 0-23; 0 in daily keys), the
// host counters (nfHost uvarints), the number of peer entries and the entries, the number of
// port entries and the entries (packed entries, see packed.go).

const hostDayFormat = 2

// hostSlot is one hour (or the whole day) of one host.
type hostSlot struct {
	h     uint8
	c     [nfHost]uint64
	peers []pentry
	ports []pentry
}

type hostDay []hostSlot

// dayFam describes a family kept as one key per subject and day: hosts (peers, ports) and
// deny sources (ports, ACLs). Lists A and B hold entries with nfA and nfB counters, at most
// maxA and maxB distinct ones per hour (twice that per day), the rest in an overflow entry.
type dayFam struct {
	pfx        string
	nfA, nfB   int
	maxA, maxB int
	// fill puts one hour set's pending data into slots, by subject id.
	fill func(hs *hourSet, slot func(id uint32) *hostSlot)
	// pending counts the hour set's pending entries of the family (for FlushStats.Future).
	pending func(hs *hourSet) int
}

func (v hostDay) slot(h uint8) *hostSlot {
	for i := range v {
		if v[i].h == h {
			return &v[i]
		}
	}
	return nil
}

func appendHostDay(b []byte, v hostDay, fam *dayFam) []byte {
	slices.SortFunc(v, func(x, y hostSlot) int { return cmp.Compare(x.h, y.h) })
	b = append(b, hostDayFormat)
	for i := range v {
		s := &v[i]
		b = append(b, s.h)
		for _, c := range s.c {
			b = binary.AppendUvarint(b, c)
		}
		b = binary.AppendUvarint(b, uint64(len(s.peers)))
		b = appendEntryList(b, s.peers, fam.nfA)
		b = binary.AppendUvarint(b, uint64(len(s.ports)))
		b = appendEntryList(b, s.ports, fam.nfB)
	}
	return b
}

var errHostDay = errors.New("malformed host value")

// decodeHostDay appends the slots of val to v (entry slices are freshly allocated: a decoded
// value is merged and re-encoded, or kept).
func decodeHostDay(val string, v hostDay, fam *dayFam) (hostDay, error) {
	return decodeSlots(val, v, fam, false)
}

// decodeForQuery is decodeHostDay for a scan that is done with each value's slots before it
// decodes the next: the entry lists reuse the ones of the slots in v's capacity (the scan
// allocates for its largest value, not for each).
func decodeForQuery(val string, v hostDay, fam *dayFam) (hostDay, error) {
	return decodeSlots(val, v, fam, true)
}

func decodeSlots(val string, v hostDay, fam *dayFam, reuse bool) (hostDay, error) {
	if len(val) == 0 || val[0] != hostDayFormat {
		return v, errHostDay
	}
	old, len0 := v[len(v):cap(v)], len(v) // slots of an earlier decode, each overwritten below
	b := val[1:]
	for len(b) > 0 {
		s, rest, ok := slotHead(b)
		if !ok {
			return v, errHostDay
		}
		b = rest
		var bufs [2][]pentry
		if i := len(v) - len0; reuse && i < len(old) {
			bufs = [2][]pentry{old[i].peers[:0], old[i].ports[:0]}
		}
		for k, nf := range [2]int{fam.nfA, fam.nfB} {
			cnt, n := uvarint(b)
			if n <= 0 || cnt > uint64(len(b)) {
				return v, errHostDay
			}
			b = b[n:]
			es := bufs[k]
			if !reuse || uint64(cap(es)) < cnt {
				es = make([]pentry, 0, cnt)
			}
			for range cnt {
				var err error
				var used int
				es, used, err = decodeEntry(b, nf, es)
				if err != nil {
					return v, errHostDay
				}
				b = b[used:]
			}
			if k == 0 {
				s.peers = es
			} else {
				s.ports = es
			}
		}
		v = append(v, s)
	}
	return v, nil
}

// decodeCounters appends the slots of val to v with their counters only: the entry lists are
// skipped without being decoded (host series read six weeks of host days per detection).
func decodeCounters(val string, v hostDay, fam *dayFam) (hostDay, error) {
	if len(val) == 0 || val[0] != hostDayFormat {
		return v, errHostDay
	}
	b := val[1:]
	for len(b) > 0 {
		s, rest, ok := slotHead(b)
		if !ok {
			return v, errHostDay
		}
		b = rest
		for _, nf := range [2]int{fam.nfA, fam.nfB} {
			cnt, n := uvarint(b)
			if n <= 0 || cnt > uint64(len(b)) {
				return v, errHostDay
			}
			b = b[n:]
			for range cnt {
				used, err := skipEntry(b, nf)
				if err != nil {
					return v, errHostDay
				}
				b = b[used:]
			}
		}
		v = append(v, s)
	}
	return v, nil
}

// slotHead reads a slot's hour and counters from the start of b and returns the rest.
func slotHead(b string) (hostSlot, string, bool) {
	var s hostSlot
	s.h = b[0]
	b = b[1:]
	for i := range s.c {
		x, n := uvarint(b)
		if n <= 0 {
			return s, b, false
		}
		s.c[i] = x
		b = b[n:]
	}
	return s, b, true
}

// skipEntry returns the length of the packed entry at the start of b (see decodeEntry).
func skipEntry(b string, nf int) (int, error) {
	start := len(b)
	if len(b) < 1 {
		return 0, errPacked
	}
	fl := b[0]
	b = b[1:]
	switch fl & 3 {
	case 1:
		if len(b) < 4 {
			return 0, errPacked
		}
		b = b[4:]
	case 2:
		if len(b) < 16 {
			return 0, errPacked
		}
		b = b[16:]
	}
	if fl&(1<<5) != 0 {
		n, w := uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return 0, errPacked
		}
		b = b[w+int(n):]
	}
	if len(b) < 3 {
		return 0, errPacked
	}
	b = b[3:]
	for range nf {
		_, n := uvarint(b)
		if n <= 0 {
			return 0, errPacked
		}
		b = b[n:]
	}
	return start - len(b), nil
}

// decodeEntry decodes one packed entry at the start of b.
func decodeEntry(b string, nf int, es []pentry) ([]pentry, int, error) {
	var e pentry
	start := len(b)
	if len(b) < 1 {
		return es, 0, errPacked
	}
	fl := b[0]
	b = b[1:]
	e.rs = fl >> 2 & 7
	switch fl & 3 {
	case 1:
		if len(b) < 4 {
			return es, 0, errPacked
		}
		e.addr = netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
		b = b[4:]
	case 2:
		if len(b) < 16 {
			return es, 0, errPacked
		}
		var a [16]byte
		copy(a[:], b)
		e.addr = netip.AddrFrom16(a)
		b = b[16:]
	}
	if fl&(1<<5) != 0 {
		n, w := uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return es, 0, errPacked
		}
		e.user = b[w : w+int(n)]
		b = b[w+int(n):]
	}
	if len(b) < 3 {
		return es, 0, errPacked
	}
	e.proto, e.port = b[0], uint16(b[1])<<8|uint16(b[2])
	b = b[3:]
	for j := range nf {
		x, n := uvarint(b)
		if n <= 0 {
			return es, 0, errPacked
		}
		e.v[j] = x
		b = b[n:]
	}
	return append(es, e), start - len(b), nil
}

// mergeSlot adds add into cur.
func mergeSlot(cur, add *hostSlot, fam *dayFam, scale int) {
	for i := range cur.c {
		cur.c[i] += add.c[i]
	}
	cur.peers = mergePacked(cur.peers, add.peers, fam.nfA, 1<<30)
	cur.ports = mergePacked(cur.ports, add.ports, fam.nfB, 1<<30)
}

// mergeHostDay adds the slots of add into cur; scale multiplies the caps (2 for days). It
// takes add's entry lists: a slot cur lacks (an hour new to the day) moves in as it is, so add
// must not be used afterwards.
func mergeHostDay(cur, add hostDay, fam *dayFam, scale int) hostDay {
	for i := range add {
		s := cur.slot(add[i].h)
		if s == nil {
			cur = append(cur, add[i])
			continue
		}
		mergeSlot(s, &add[i], fam, scale)
	}
	return cur
}

type hostDayKey struct {
	host uint32
	day  int32
}

// hostDays gathers the batch's data of family fam by subject and day: hourly slots and the
// daily totals.
func (b *Batch) hostDays(hours []*hourSet, future int64, fam *dayFam) (hourly, daily map[hostDayKey]hostDay, futureN int) {
	hourly = make(map[hostDayKey]hostDay)
	daily = make(map[hostDayKey]hostDay)
	days := make(map[hostDayKey]*dayAcc)
	for _, hs := range hours {
		if int64(hs.t)*3600 > future {
			futureN += fam.pending(hs)
			continue
		}
		day, h := hs.t/24, uint8(hs.t%24)
		slots := make(map[uint32]*hostSlot)
		fam.fill(hs, func(id uint32) *hostSlot {
			s := slots[id]
			if s == nil {
				s = &hostSlot{h: h}
				slots[id] = s
			}
			return s
		})
		for host, s := range slots {
			k := hostDayKey{host, day}
			hourly[k] = append(hourly[k], *s) // one slot per hour set: h is new in k
			d := days[k]
			if d == nil {
				d = &dayAcc{peers: newEntryIndex(0), ports: newEntryIndex(0)}
				days[k] = d
			}
			for i := range d.s.c {
				d.s.c[i] += s.c[i]
			}
			d.s.peers = d.add(d.s.peers, &d.peers, s.peers, fam.nfA, 1<<30)
			d.s.ports = d.add(d.s.ports, &d.ports, s.ports, fam.nfB, 1<<30)
		}
	}
	for k, d := range days {
		daily[k] = hostDay{d.s}
	}
	return hourly, daily, futureN
}

// hostFam is the host family of the batch: counters, peers, ports.
func (b *Batch) hostFam() *dayFam {
	return &dayFam{pfx: pfxHost, nfA: nfPeer, nfB: nfPort, maxA: b.keepPeers, maxB: b.keepPorts,
		fill: func(hs *hourSet, slot func(uint32) *hostSlot) {
			for i, host := range hs.host.keys {
				copy(slot(host).c[:], hs.host.vals[i][:nfHost])
			}
			// Each host's lists are cut from one array per list, made to size (appends to
			// lists of their own grew each from nothing).
			peers := make([]pentry, len(hs.peer.keys))
			ports := make([]pentry, len(hs.port.keys))
			cut := func(es []pentry, keys []uint64, shift uint, set func(*hostSlot, []pentry)) {
				n := make(map[uint32]int, len(hs.host.keys))
				for _, k := range keys {
					n[uint32(k>>shift)]++
				}
				off := 0
				for host, c := range n {
					set(slot(host), es[off:off:off+c])
					off += c
				}
			}
			cut(peers, hs.peer.keys, 40, func(s *hostSlot, es []pentry) { s.peers = es })
			cut(ports, hs.port.keys, 32, func(s *hostSlot, es []pentry) { s.ports = es })
			for i, k := range hs.peer.keys {
				host, e := b.peerEntry(k)
				copy(e.v[:], hs.peer.vals[i][:])
				s := slot(host)
				s.peers = append(s.peers, e)
			}
			for i, k := range hs.port.keys {
				host, e := portEntry(k)
				copy(e.v[:], hs.port.vals[i][:])
				s := slot(host)
				s.ports = append(s.ports, e)
			}
		},
		pending: func(hs *hourSet) int { return len(hs.host.keys) + len(hs.peer.keys) + len(hs.port.keys) },
	}
}

// denyFam is the deny family of the batch: per external source, the total in c[0], denied
// (proto, port) entries in list A and ACL entries (the name as the entry's user) in list B.
func (b *Batch) denyFam() *dayFam {
	return &dayFam{pfx: pfxDeny, nfA: 1, nfB: 1, maxA: b.maxDenyPorts, maxB: b.maxACLs,
		fill: func(hs *hourSet, slot func(uint32) *hostSlot) {
			for i, k := range hs.deny.keys {
				s := slot(uint32(k >> 32))
				n := hs.deny.vals[i][0]
				s.c[0] += n
				s.peers = append(s.peers, pentry{proto: uint8(k >> 8), port: uint16(k >> 16), v: [4]uint64{n}})
			}
			for i, k := range hs.dacl.keys {
				s := slot(uint32(k >> 32))
				s.ports = append(s.ports, pentry{user: b.acls[uint32(k)], v: [4]uint64{hs.dacl.vals[i][0]}})
			}
		},
		pending: func(hs *hourSet) int { return len(hs.deny.keys) + len(hs.dacl.keys) },
	}
}

// dayAcc sums one host's hours into its day, with indexes of the entries.
type dayAcc struct {
	s            hostSlot
	peers, ports entryIndex
}

// add adds entries es into cur (indexed by idx); beyond max distinct entries they go to the
// overflow entry of their scope.
func (d *dayAcc) add(cur []pentry, idx *entryIndex, es []pentry, nf, max int) []pentry {
	for i := range es {
		e := &es[i]
		j, ok := idx.get(e)
		if !ok && len(cur) >= max {
			of := pentry{rs: e.rs}
			j, ok = idx.get(&of)
			e = &of
		}
		if !ok {
			j = len(cur)
			idx.put(e, j)
			cur = append(cur, pentry{addr: e.addr, user: e.user, rs: e.rs, proto: e.proto, port: e.port})
		}
		for x := range nf {
			cur[j].v[x] += es[i].v[x]
		}
	}
	return cur
}

// flushDays writes the batch's data of family fam, one key per subject and day.
func (f *flusher) flushDays(b *Batch, fam *dayFam) error {
	hourly, daily, fut := b.hostDays(b.hourList, f.now+86400, fam)
	f.fs.Future += fut
	for i, m := range [2]map[hostDayKey]hostDay{hourly, daily} {
		isDaily := i == 1
		ttl, scale := int64(f.st.opts.Retention.Hourly/time.Second), 1
		if isDaily {
			ttl, scale = int64(f.st.opts.Retention.Daily/time.Second), 2
		}
		for k, v := range m {
			if err := f.check(); err != nil {
				return err
			}
			expAt := (int64(k.day)+1)*86400 + ttl
			if expAt <= f.now {
				f.fs.Expired += len(v)
				continue
			}
			f.kbuf = famPrefix(f.kbuf[:0], fam.pfx, isDaily)
			f.kbuf = appendAddr(f.kbuf, b.addrOf(k.host))
			f.kbuf = append(f.kbuf, sep)
			f.kbuf = appendBucket(f.kbuf, k.day, true)
			key := string(f.kbuf)
			closed := k.day < f.closedBefore
			h := f.st.held.m[key]
			if h != nil && !closed {
				// Held open: merged into the held value once this Write has committed.
				f.deferred = append(f.deferred, heldMerge{key: key, v: v, fam: fam, scale: scale})
				f.fs.Keys++
				if isDaily {
					f.fs.Daily++
				} else {
					f.fs.Hourly++
				}
				continue
			}
			if h != nil {
				v = mergeHostDay(cloneHostDay(h.v), v, fam, scale) // late data of a day now closing
			} else if !f.fresh(k.day, true) {
				old, err := f.tx.Get(key)
				if err == nil {
					if cur, derr := decodeHostDay(old, nil, fam); derr == nil { // a damaged value is replaced
						v = mergeHostDay(cur, v, fam, scale)
					}
				} else if !errors.Is(err, buntdb.ErrNotFound) {
					return fmt.Errorf("get %s: %w", key, err)
				}
			}
			for j := range v {
				v[j].peers = trimTop(v[j].peers, fam.nfA, scale*fam.maxA)
				v[j].ports = trimTop(v[j].ports, fam.nfB, scale*fam.maxB)
			}
			if closed {
				f.vbuf = appendHostDay(f.vbuf[:0], v, fam)
				if err := f.set(key, string(f.vbuf), expAt); err != nil {
					return err
				}
				if h != nil {
					f.written[key] = true // the held value is let go at commit
				}
			} else {
				// Written when its day closes, at HoldOpen, or before a query (held.go).
				f.newHeld[key] = &heldDay{v: v, fam: fam.codec(), day: k.day, dirty: true, since: f.now}
				f.fs.Keys++
			}
			if isDaily {
				f.fs.Daily++
			} else {
				f.fs.Hourly++
			}
		}
	}
	return nil
}

// scanHostDays scans the host days of host (every host when invalid) that overlap buckets
// [lo, hi) of resolution r, calling fn with each slot in range and its bucket. fn must not
// keep the slot's entry lists: the next value is decoded into them.
func (s *Store) scanHostDays(ctx context.Context, fam *dayFam, host netip.Addr, w Window, r Resolution,
	fn func(h netip.Addr, bucket int64, slot *hostSlot)) error {
	return s.scanHostDaysWith(ctx, fam, host, w, r, decodeForQuery, fn)
}

// scanHostDaysWith is scanHostDays with the given value decoder (decodeCounters when only the
// counters are read).
func (s *Store) scanHostDaysWith(ctx context.Context, fam *dayFam, host netip.Addr, w Window, r Resolution,
	decode func(string, hostDay, *dayFam) (hostDay, error), fn func(h netip.Addr, bucket int64, slot *hostSlot)) error {
	lo, hi := w.buckets(r)
	dlo, dhi := lo, hi
	if !r.daily() {
		dlo, dhi = lo/24, (hi+23)/24
	}
	p := hostPrefix(fam.pfx, r, host)
	ge, lt := p, prefixEnd(p)
	if host.IsValid() {
		ge = string(appendBucket([]byte(p), int32(dlo), true))
		lt = string(appendBucket([]byte(p), int32(min(dhi, 1<<31-1)), true))
	}
	var ac addrCache
	var parts [6]string
	var v hostDay
	return s.scanRange(ctx, ge, lt, func(key, val string) bool {
		f := splitKey(key, parts[:0]) // host|r|ip|day
		if len(f) != 4 {
			return true
		}
		day := atoi64(f[3])
		if day < dlo || day >= dhi {
			return true
		}
		var err error
		if v, err = decode(val, v[:0], fam); err != nil {
			return true
		}
		h := ac.parse(f[2])
		for i := range v {
			b := day
			if !r.daily() {
				b = day*24 + int64(v[i].h)
			}
			if b >= lo && b < hi {
				fn(h, b, &v[i])
			}
		}
		return true
	})
}

// codec is the family's value layout without the batch (held values outlive it).
func (fam *dayFam) codec() *dayFam {
	if fam.pfx == pfxDeny {
		return denyCodec
	}
	return hostCodec
}

// The families' codecs for queries (the caps only matter when writing).
var (
	hostCodec = &dayFam{pfx: pfxHost, nfA: nfPeer, nfB: nfPort}
	denyCodec = &dayFam{pfx: pfxDeny, nfA: 1, nfB: 1}
)
