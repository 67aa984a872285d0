package stats

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tidwall/buntdb"
)

// Host days held open. A host-day value (host|r|<ip>|<day>, deny|r|<src>|<day>) gathers a whole
// day; written at every flush, it would be read, decoded, merged, encoded and appended to the
// file again each time (a replay flushes every 100,000 events, several times per day of a large
// site). Instead the store keeps the decoded value of a day still open in memory, merges each
// flush into it, and writes it once when its day has closed (the data has moved HoldGrace past
// the day's end), or at most every Options.HoldOpen while it is open, or before any query reads
// the statistics, and at Shrink, Backup and Close. The merge and trim are the ones a write would
// do, so the stored values are the same. What a crash loses is bounded by HoldOpen: the site
// totals, first/last-seen records and everything else are still written at every flush.

// HoldGrace is how far past a day's end the newest data must be before the day's held values
// are written and let go (late lines of the last hour still merge in memory).
const HoldGrace = 2 * time.Hour

// maxHeld bounds the held values; past it they are all written and let go.
const maxHeld = 1 << 18

type heldDay struct {
	v     hostDay
	fam   *dayFam
	day   int32
	dirty bool  // holds data the file does not have
	since int64 // when it became dirty (store clock, unix seconds)
}

// heldSet is the store's held values; guarded by Store.heldMu, which a Write holds from its
// transaction to the commit of its held values.
type heldSet struct {
	m      map[string]*heldDay
	newest int32        // newest hour any flush wrote
	dirty  atomic.Int64 // held values with data the file lacks (read without the lock by view)
}

// heldMerge is a batch's part of a held value, merged in once the Write has committed: a
// transaction that fails leaves the held values as they were, with no copy made.
type heldMerge struct {
	key   string
	v     hostDay
	fam   *dayFam // the batch's (its caps)
	scale int
}

func cloneHostDay(v hostDay) hostDay {
	c := make(hostDay, len(v), len(v)+1)
	for i := range v {
		c[i] = v[i]
		c[i].peers = slices.Clone(v[i].peers)
		c[i].ports = slices.Clone(v[i].ports)
	}
	return c
}

// beginHeld sets up a Write's held state: the day before which days are closed, from the
// newest hour written so far and in this batch.
func (f *flusher) beginHeld(hours []int32) {
	f.newHeld = make(map[string]*heldDay)
	f.written = make(map[string]bool)
	newest := f.st.held.newest
	for _, h := range hours {
		newest = max(newest, h)
	}
	f.newest = newest
	f.closedBefore = int32((int64(newest)*3600 - int64(HoldGrace/time.Second)) / 86400)
}

// writeHeld writes, inside the transaction, the held values not in this batch whose day has
// closed, that have been dirty for HoldOpen, or all of them (all). It notes what to change
// in the held set once the transaction has committed.
func (f *flusher) writeHeld(all bool) error {
	st := f.st
	hold := int64(st.opts.HoldOpen / time.Second)
	all = all || len(st.held.m)+len(f.newHeld) > maxHeld
	for key, h := range st.held.m {
		if f.written[key] {
			continue
		}
		closed := h.day < f.closedBefore
		if !all && !closed && (!h.dirty || f.now-h.since < hold) {
			continue
		}
		if h.dirty {
			f.vbuf = appendHostDay(f.vbuf[:0], h.v, h.fam)
			if _, _, err := f.tx.Set(key, string(f.vbuf), nil); err != nil {
				return fmt.Errorf("set %s: %w", key, err)
			}
		}
		if closed || all {
			f.written[key] = true
		} else {
			f.cleaned = append(f.cleaned, key)
		}
	}
	if all {
		for key, h := range f.newHeld {
			f.vbuf = appendHostDay(f.vbuf[:0], h.v, h.fam)
			if _, _, err := f.tx.Set(key, string(f.vbuf), nil); err != nil {
				return fmt.Errorf("set %s: %w", key, err)
			}
		}
		clear(f.newHeld)
		for _, d := range f.deferred {
			f.written[d.key] = true // written above, then merged and written below
		}
	}
	return nil
}

// commitHeld applies a committed Write to the held set (under Store.heldMu). With all, the
// deferred merges are written in a transaction of their own (rare: the set was full).
func (f *flusher) commitHeld() {
	hs := &f.st.held
	hs.newest = max(hs.newest, f.newest)
	for _, k := range f.cleaned {
		if h := hs.m[k]; h != nil {
			h.dirty = false
		}
	}
	var late []heldMerge
	for _, d := range f.deferred {
		h := hs.m[d.key]
		if h == nil || f.written[d.key] {
			late = append(late, d)
			continue
		}
		h.v = mergeHostDay(h.v, d.v, d.fam, d.scale)
		for j := range h.v {
			h.v[j].peers = trimTop(h.v[j].peers, d.fam.nfA, d.scale*d.fam.maxA)
			h.v[j].ports = trimTop(h.v[j].ports, d.fam.nfB, d.scale*d.fam.maxB)
		}
		if !h.dirty {
			h.dirty, h.since = true, f.now
		}
	}
	for k := range f.written {
		delete(hs.m, k)
	}
	for k, h := range f.newHeld {
		hs.m[k] = h
	}
	// Merges whose held value was written and let go in the same Write (the set was full)
	// become held values again, read back from the file.
	for _, d := range late {
		var cur hostDay
		_ = f.st.db.View(func(tx *buntdb.Tx) error {
			if old, err := tx.Get(d.key); err == nil {
				cur, _ = decodeHostDay(old, nil, d.fam)
			}
			return nil
		})
		v := mergeHostDay(cur, d.v, d.fam, d.scale)
		for j := range v {
			v[j].peers = trimTop(v[j].peers, d.fam.nfA, d.scale*d.fam.maxA)
			v[j].ports = trimTop(v[j].ports, d.fam.nfB, d.scale*d.fam.maxB)
		}
		day := int32(atoi64(d.key[strings.LastIndexByte(d.key, sep)+1:]))
		hs.m[d.key] = &heldDay{v: v, fam: d.fam.codec(), day: day, dirty: true, since: f.now}
	}
	n := int64(0)
	for _, h := range hs.m {
		if h.dirty {
			n++
		}
	}
	hs.dirty.Store(n)
}

// writeOutHeld writes every held value with data the file lacks, so that a query, Shrink,
// Backup or Close sees (or keeps) them.
func (s *Store) writeOutHeld() error {
	if s.held.dirty.Load() == 0 {
		return nil
	}
	s.heldMu.Lock()
	defer s.heldMu.Unlock()
	f := &flusher{st: s, now: s.opts.Now().Unix()}
	f.beginHeld(nil)
	err := s.db.Update(func(tx *buntdb.Tx) error {
		f.tx = tx
		return f.writeHeld(true)
	})
	if err != nil {
		return fmt.Errorf("write held host days to %s: %w", s.path, err)
	}
	f.commitHeld()
	return nil
}
