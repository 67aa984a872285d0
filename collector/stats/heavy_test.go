package stats

import (
	"math/rand/v2"
	"testing"
)

// TestSpaceSavingBounds checks the stated guarantees over skewed random streams: every key
// heavier than W/k is kept, and a kept key's weight w satisfies w-err <= true <= w.
func TestSpaceSavingBounds(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		k := 2 + int(seed)*4 // below and above ssLinear: the scan and the map
		s := newSpaceSaving(k)
		zipf := rand.NewZipf(r, 1.2, 1, 5000)
		truth := map[uint64]uint64{}
		var total uint64
		for range 20_000 {
			key, w := zipf.Uint64(), 1+r.Uint64N(1000)
			truth[key] += w
			total += w
			s.add(key, w)
		}
		for key, tw := range truth {
			i, kept := s.find(key)
			if tw > total/uint64(k) && !kept {
				t.Fatalf("seed %d: key %d of weight %d > W/k = %d was evicted", seed, key, tw, total/uint64(k))
			}
			if e := s.e[i]; kept && (e.w-e.err > tw || tw > e.w) {
				t.Fatalf("seed %d: key %d true %d, kept w %d err %d", seed, key, tw, e.w, e.err)
			}
		}
		for _, e := range s.e {
			if e.err > total/uint64(k) {
				t.Fatalf("seed %d: error %d > W/k %d", seed, e.err, total/uint64(k))
			}
		}
	}
}
