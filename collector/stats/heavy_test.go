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
		k := 16 + int(seed)*8
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
			i, kept := s.idx[key]
			if tw > total/uint64(k) && !kept {
				t.Fatalf("seed %d: key %d of weight %d > W/k = %d was evicted", seed, key, tw, total/uint64(k))
			}
			if kept && (s.w[i]-s.err[i] > tw || tw > s.w[i]) {
				t.Fatalf("seed %d: key %d true %d, kept w %d err %d", seed, key, tw, s.w[i], s.err[i])
			}
		}
		for i := range s.err {
			if s.err[i] > total/uint64(k) {
				t.Fatalf("seed %d: error %d > W/k %d", seed, s.err[i], total/uint64(k))
			}
		}
	}
}
