package stats

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tidwall/buntdb"
)

// Packed families (peer, port) keep one key per internal host and bucket whose value lists
// every (peer, proto, port) or (role, proto, port) entry of that host and bucket. A host talks
// to dozens of peers an hour; one key per host-hour instead of one per peer keeps the number of
// keys (buntdb's memory and write cost are per key) at the number of active host-hours.
//
// Value: a format byte (1), then entries: a flags byte (bits 0-1: address kind 0 none, 1 IPv4,
// 2 IPv6; bits 2-4: role scope; bit 5: a user name follows), the address (0, 4 or 16 bytes),
// the user (uvarint length, bytes), proto (1 byte), port (2 bytes, big endian), then the
// family's counters as uvarints.

const packedFormat = 1

// pentry is one entry of a packed value.
type pentry struct {
	addr  netip.Addr
	rs    uint8 // port family: role<<1 | external
	proto uint8
	port  uint16
	user  string // term family (user.source)
	v     [4]uint64
}

func (e *pentry) same(o *pentry) bool {
	return e.addr == o.addr && e.rs == o.rs && e.proto == o.proto && e.port == o.port && e.user == o.user
}

func appendPacked(b []byte, es []pentry, nf int) []byte {
	return appendEntryList(append(b, packedFormat), es, nf)
}

// appendEntryList appends the entries (without a format byte).
func appendEntryList(b []byte, es []pentry, nf int) []byte {
	for i := range es {
		e := &es[i]
		fl := e.rs << 2
		switch {
		case e.addr.Is4():
			fl |= 1
		case e.addr.IsValid():
			fl |= 2
		}
		if e.user != "" {
			fl |= 1 << 5
		}
		b = append(b, fl)
		switch fl & 3 {
		case 1:
			a := e.addr.As4()
			b = append(b, a[:]...)
		case 2:
			a := e.addr.As16()
			b = append(b, a[:]...)
		}
		if e.user != "" {
			b = binary.AppendUvarint(b, uint64(len(e.user)))
			b = append(b, e.user...)
		}
		b = append(b, e.proto, byte(e.port>>8), byte(e.port))
		for j := range nf {
			b = binary.AppendUvarint(b, e.v[j])
		}
	}
	return b
}

var errPacked = errors.New("malformed packed value")

// decodePacked appends the entries of val to es.
func decodePacked(val string, nf int, es []pentry) ([]pentry, error) {
	if len(val) == 0 || val[0] != packedFormat {
		return es, errPacked
	}
	b := val[1:]
	for len(b) > 0 {
		var n int
		var err error
		if es, n, err = decodeEntry(b, nf, es); err != nil {
			return es, err
		}
		b = b[n:]
	}
	return es, nil
}

// uvarint is binary.Uvarint over a string (no copy).
func uvarint(s string) (uint64, int) {
	var x uint64
	var sh uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<sh, i + 1
		}
		x |= uint64(c&0x7f) << sh
		sh += 7
	}
	return 0, 0
}

// ekey is an entry's identity.
type ekey struct {
	addr      netip.Addr
	user      string
	rs, proto uint8
	port      uint16
}

func (e *pentry) key() ekey { return ekey{e.addr, e.user, e.rs, e.proto, e.port} }

// entryIndex finds entries by identity, as an index into a list. Most entries (an IPv4
// address or none, no user) pack into a uint64, which hashes several times cheaper than ekey
// (an Addr and a string); the others go by ekey.
type entryIndex struct {
	packed map[uint64]int
	other  map[ekey]int
}

func newEntryIndex(n int) entryIndex { return entryIndex{packed: make(map[uint64]int, n)} }

// pack returns e's identity as a uint64 when it fits one.
func (e *pentry) pack() (uint64, bool) {
	if e.user != "" || e.rs > 7 {
		return 0, false
	}
	var a uint64
	switch {
	case !e.addr.IsValid():
	case e.addr.Is4():
		a = 1<<32 | uint64(addr4Bits(e.addr))
	default:
		return 0, false
	}
	return a<<27 | uint64(e.proto)<<19 | uint64(e.port)<<3 | uint64(e.rs), true
}

func (x *entryIndex) get(e *pentry) (int, bool) {
	if k, ok := e.pack(); ok {
		i, found := x.packed[k]
		return i, found
	}
	i, found := x.other[e.key()]
	return i, found
}

func (x *entryIndex) put(e *pentry, i int) {
	if k, ok := e.pack(); ok {
		x.packed[k] = i
		return
	}
	if x.other == nil {
		x.other = make(map[ekey]int)
	}
	x.other[e.key()] = i
}

// mergePacked adds add into cur (entries of one key). Entries beyond max distinct ones go to
// the overflow entry of their role scope (no address, proto 0, port 0), so a value never
// grows past max+scopes entries, however many flushes add to it.
func mergePacked(cur, add []pentry, nf, max int) []pentry {
	var idx entryIndex
	if len(cur)*len(add) > 256 { // linear search is cheaper for the usual handful
		idx = newEntryIndex(len(cur) + len(add))
		for i := range cur {
			idx.put(&cur[i], i)
		}
	}
	find := func(e *pentry) int {
		if idx.packed == nil {
			return findEntry(cur, e)
		}
		if j, ok := idx.get(e); ok {
			return j
		}
		return -1
	}
	for i := range add {
		e := &add[i]
		j := find(e)
		if j < 0 && len(cur) >= max {
			of := pentry{rs: e.rs}
			if j = find(&of); j < 0 {
				cur = append(cur, of)
				j = len(cur) - 1
				if idx.packed != nil {
					idx.put(&of, j)
				}
			}
		}
		if j < 0 {
			cur = append(cur, pentry{addr: e.addr, user: e.user, rs: e.rs, proto: e.proto, port: e.port})
			j = len(cur) - 1
			if idx.packed != nil {
				idx.put(e, j)
			}
		}
		for k := range nf {
			cur[j].v[k] += e.v[k]
		}
	}
	return cur
}

// trimTop keeps the max heaviest entries of es (the sum of their counters: bytes dominate for
// peers and ports, documents for terms) and folds the others into the overflow entry of their
// role scope (no address, proto 0, port 0), so totals stay exact while a value stays small:
// the entries a person looks at (the biggest peers, the most frequent terms) keep their names.
func trimTop(es []pentry, nf, max int) []pentry {
	isOverflow := func(e *pentry) bool { return !e.addr.IsValid() && e.proto == 0 && e.port == 0 && e.user == "" }
	named := 0
	for i := range es {
		if !isOverflow(&es[i]) {
			named++
		}
	}
	if named <= max {
		return es
	}
	weight := func(e *pentry) uint64 {
		var w uint64
		for j := range nf {
			w += e.v[j]
		}
		return w
	}
	slices.SortStableFunc(es, func(a, b pentry) int {
		if oa, ob := isOverflow(&a), isOverflow(&b); oa != ob {
			if oa {
				return 1
			}
			return -1
		}
		return cmp.Compare(weight(&b), weight(&a))
	})
	kept := es[:max:max] // appending the overflow entries must not overwrite es[max:]
	var of [8]int        // index+1 in kept of the overflow entry per role scope
	for i := max; i < len(es); i++ {
		e := &es[i]
		sc := e.rs & 7
		if of[sc] == 0 {
			kept = append(kept, pentry{rs: e.rs})
			of[sc] = len(kept)
		}
		for j := range nf {
			kept[of[sc]-1].v[j] += e.v[j]
		}
	}
	return kept
}

func findEntry(es []pentry, e *pentry) int {
	for i := range es {
		if es[i].same(e) {
			return i
		}
	}
	return -1
}

// packedGroup is the pending entries of one key: a host (or a term field and shard) in one
// bucket.
type packedGroup struct {
	host uint32
	t    int32
	es   []pentry
}

// writePacked stores groups (hourly when daily is false) of family pfx, merging each with the
// stored value of its key.
func (f *flusher) writePacked(groups []packedGroup, nf, max int, daily bool, key func(k []byte, g *packedGroup, daily bool) []byte) error {
	ttl := int64(f.st.opts.Retention.Hourly / time.Second)
	sec := int64(3600)
	if daily {
		ttl, sec = int64(f.st.opts.Retention.Daily/time.Second), 86400
	}
	for gi := range groups {
		g := &groups[gi]
		if err := f.check(); err != nil {
			return err
		}
		expAt := (int64(g.t)+1)*sec + ttl
		if expAt <= f.now {
			f.fs.Expired += len(g.es)
			continue
		}
		f.kbuf = key(f.kbuf[:0], g, daily)
		k := string(f.kbuf)
		cur := f.ents[:0]
		if f.fresh(g.t, daily) {
			// Nothing stored for this bucket yet.
		} else if old, err := f.tx.Get(k); err == nil {
			cur, _ = decodePacked(old, nf, cur) // a damaged value is replaced by what is new
		} else if !errors.Is(err, buntdb.ErrNotFound) {
			return fmt.Errorf("get %s: %w", k, err)
		}
		cur = trimTop(mergePacked(cur, g.es, nf, 1<<30), nf, max)
		f.ents = cur
		f.vbuf = appendPacked(f.vbuf[:0], cur, nf)
		if err := f.set(k, string(f.vbuf), expAt); err != nil {
			return err
		}
		if daily {
			f.fs.Daily++
		} else {
			f.fs.Hourly++
		}
	}
	return nil
}

type dayHost struct {
	d    int32
	host uint32
}

// packGroups groups one packed family's pending entries by host and hour, and by host and
// day for the daily roll-up. get picks the family's table; entry splits a packed key.
func packGroups(hours []*hourSet, future int64, get func(*hourSet) *table[uint64, cnt],
	entry func(k uint64) (uint32, pentry), nf, dayMax int) (hourly, daily []packedGroup, futureN int) {
	byDay := make(map[dayHost]int)
	type dayEntry struct {
		g int
		k ekey
	}
	dayIdx := make(map[dayEntry]int)
	for _, hs := range hours {
		t := get(hs)
		if int64(hs.t)*3600 > future {
			futureN += len(t.keys)
			continue
		}
		byHost := make(map[uint32]int)
		for i, k := range t.keys {
			h, e := entry(k)
			e.v = [4]uint64(t.vals[i][:4])
			gi, ok := byHost[h]
			if !ok {
				gi = len(hourly)
				byHost[h] = gi
				hourly = append(hourly, packedGroup{host: h, t: hs.t})
			}
			hourly[gi].es = append(hourly[gi].es, e)
			dk := dayHost{int32(int64(hs.t) / 24), h}
			di, ok := byDay[dk]
			if !ok {
				di = len(daily)
				byDay[dk] = di
				daily = append(daily, packedGroup{host: h, t: dk.d})
			}
			dg := &daily[di]
			ek := dayEntry{di, e.key()}
			if j, ok := dayIdx[ek]; ok {
				for x := range nf {
					dg.es[j].v[x] += e.v[x]
				}
			} else if len(dg.es) < dayMax {
				dayIdx[ek] = len(dg.es)
				dg.es = append(dg.es, e)
			} else {
				dg.es = mergePacked(dg.es, []pentry{e}, nf, dayMax) // the overflow entry
			}
		}
	}
	return hourly, daily, futureN
}

func (b *Batch) peerEntry(k uint64) (uint32, pentry) {
	h, p, proto, port := unpackPeerSvc(k)
	return h, pentry{addr: b.addrOf(p), proto: proto, port: port}
}

func portEntry(k uint64) (uint32, pentry) {
	return uint32(k >> 32), pentry{rs: uint8(k & 7), proto: uint8(k >> 8), port: uint16(k >> 16)}
}

// Terms are packed per field, bucket and shard (a hash of the term), so that a flush of a
// few events rewrites a few small values, not the whole hour's list.
const termShards = 4

func (b *Batch) termEntry(x uint64) (uint32, pentry) {
	field := Field(x >> 56)
	var e pentry
	switch field {
	case FieldDestinationPort:
		e.proto, e.port = uint8(x>>16), uint16(x)
	case FieldUserSource:
		e.user = b.users[uint32(x>>32)&0xffffff]
		e.addr = b.addrOf(uint32(x))
	default:
		e.addr = b.addrOf(uint32(x))
	}
	return uint32(field)<<8 | termShard(&e), e
}

// termShard is a stable hash of a term's content (never of aggregator ids).
func termShard(e *pentry) uint32 {
	h := uint32(2166136261)
	mix := func(c byte) { h = (h ^ uint32(c)) * 16777619 }
	for _, c := range e.addr.As16() {
		mix(c)
	}
	mix(e.proto)
	mix(byte(e.port >> 8))
	mix(byte(e.port))
	for i := 0; i < len(e.user); i++ {
		mix(e.user[i])
	}
	return h % termShards
}

func (f *flusher) flushTerms(b *Batch, max int) error {
	hourly, daily, fut := packGroups(b.hourList, f.now+86400, func(h *hourSet) *table[uint64, cnt] { return &h.term },
		b.termEntry, nfTerm, 1<<30)
	f.fs.Future += fut
	key := func(k []byte, g *packedGroup, daily bool) []byte {
		k = famPrefix(k, pfxTerm, daily)
		k = append(k, fieldKeys[Field(g.host>>8)]...)
		k = append(k, sep)
		k = appendBucket(k, g.t, daily)
		k = append(k, sep)
		return appendPad(k, int64(g.host&0xff), 2)
	}
	per := max/termShards + 1
	if err := f.writePacked(hourly, nfTerm, per, false, key); err != nil {
		return err
	}
	return f.writePacked(daily, nfTerm, 2*per, true, key)
}
