package stats

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/buntdb"
)

// Retention without per-key TTLs (schema 6). buntdb keeps a second tree of every key with a
// TTL and rebuilds it from the whole file at Open, and it expires keys one by one in the
// background; statistics keys carry their time in the key (buckets) or the value (first/last
// seen, exemplars), so the store deletes what is past retention itself, by range, at most once
// per PruneEvery, after a flush. Records (rec|) keep their buntdb TTLs: they are few.

// PruneEvery is how often Batch.Write deletes what is past retention (the store's clock).
const PruneEvery = time.Hour

// prunedKey holds when the last prune ran (unix seconds of the store's clock), so that a
// short-lived process (one `firebreak ingest`) does not scan the whole file at every start.
const prunedKey = "meta|pruned"

// statsPrefixes are the statistics families, each deleted by its own time (see expiresAt).
var statsPrefixes = []string{pfxHost, pfxDeny, pfxIfc, pfxSite, pfxTerm, pfxSeen, pfxVPN, pfxPair, pfxDNS, pfxEx}

// expiresAt is when a statistics key is past retention (unix seconds), from the bucket in its
// key or the time in its value; ok is false for keys that are not statistics.
func expiresAt(key, val string, ret Retention) (at int64, ok bool) {
	fam, _, _ := strings.Cut(key, string(sep))
	sec := func(d time.Duration) int64 { return int64(d / time.Second) }
	bucketed := func(field string, daily bool, alwaysDay bool) (int64, bool) {
		b, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, false
		}
		switch {
		case daily:
			return (b+1)*86400 + sec(ret.Daily), true
		case alwaysDay: // hourly slots in one key per day
			return (b+1)*86400 + sec(ret.Hourly), true
		default:
			return (b+1)*3600 + sec(ret.Hourly), true
		}
	}
	switch fam {
	case pfxHost, pfxDeny, pfxIfc, pfxSite, pfxTerm:
		var parts [8]string
		f := splitKey(key, parts[:0])
		if len(f) < 3 || (f[1] != "h" && f[1] != "d") {
			return 0, false
		}
		daily := f[1] == "d"
		switch fam {
		case pfxHost, pfxDeny: // fam|r|subject|<day>
			return bucketed(f[len(f)-1], daily, true)
		case pfxTerm: // term|r|field|<bucket>|<shard>
			if len(f) != 5 {
				return 0, false
			}
			return bucketed(f[3], daily, false)
		default: // ifc|r|dev|iface|<bucket>, site|r|<bucket>
			return bucketed(f[len(f)-1], daily, false)
		}
	case pfxSeen, pfxVPN, pfxPair, pfxDNS: // value: first last counts...
		var v [2]uint64
		if parseVals(val, v[:]) < 2 {
			return 0, false
		}
		return int64(v[1]) + sec(ret.Seen), true
	case pfxEx: // value: <unix> <raw line>
		ts, _, found := strings.Cut(val, " ")
		t, err := strconv.ParseInt(ts, 10, 64)
		if !found || err != nil {
			return 0, false
		}
		return t + sec(ret.Exemplars), true
	}
	return 0, false
}

// PruneStats says what a prune deleted.
type PruneStats struct {
	Scanned, Deleted int
	Took             time.Duration
}

// Prune deletes every statistics key past its retention at the store's clock, in one
// transaction (a scan of the statistics keys; a few hundred milliseconds for millions).
func (s *Store) Prune(ctx context.Context) (PruneStats, error) {
	if err := ctx.Err(); err != nil {
		return PruneStats{}, err
	}
	if err := s.writable(); err != nil {
		return PruneStats{}, err
	}
	began := time.Now()
	now := s.opts.Now().Unix()
	var ps PruneStats
	err := s.db.Update(func(tx *buntdb.Tx) error {
		var dead []string
		for _, p := range statsPrefixes {
			lo := p + string(sep)
			err := tx.AscendRange("", lo, prefixEnd(lo), func(key, val string) bool {
				ps.Scanned++
				if at, ok := expiresAt(key, val, s.opts.Retention); ok && at <= now {
					dead = append(dead, key)
				}
				return ps.Scanned&4095 != 0 || ctx.Err() == nil
			})
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		for _, k := range dead {
			if _, err := tx.Delete(k); err != nil {
				return fmt.Errorf("delete %s: %w", k, err)
			}
		}
		ps.Deleted = len(dead)
		if len(dead) > 0 {
			clear(s.exUsed) // exemplar slots may be free again
		}
		_, _, err := tx.Set(prunedKey, strconv.FormatInt(now, 10), nil)
		return err
	})
	if err != nil {
		return ps, fmt.Errorf("prune %s: %w", s.path, err)
	}
	ps.Took = time.Since(began)
	s.mu.Lock()
	s.prunedAt = now
	s.mu.Unlock()
	if ps.Deleted > 0 {
		s.log.Debug("pruned statistics past retention", "deleted", ps.Deleted, "scanned", ps.Scanned, "took", ps.Took)
	}
	return ps, nil
}

// pruneDue reports whether PruneEvery has passed since the last prune.
func (s *Store) pruneDue() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.Now().Unix()-s.prunedAt >= int64(PruneEvery/time.Second)
}

// loadPruned reads when the file was last pruned (0: never).
func loadPruned(tx *buntdb.Tx) int64 {
	v, err := tx.Get(prunedKey)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// exemplarValue is an exemplar as stored: the line's time, a space, the raw line.
func exemplarValue(b []byte, ts int64, raw string) []byte {
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, ' ')
	return append(b, raw...)
}

// exemplarLine is the raw line of a stored exemplar value.
func exemplarLine(val string) string {
	if ts, raw, ok := strings.Cut(val, " "); ok && ts != "" && strings.Trim(ts, "0123456789") == "" {
		return raw
	}
	return val
}
