package policies

import (
	"math/rand"
	"net/netip"
	"testing"
)

// The flattened ranges must agree with a plain most-specific-prefix search, at and around
// every prefix boundary, for random nested prefix sets (including /0 and the last address).
func TestPrefixTableMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	randPrefix := func(v6 bool) netip.Prefix {
		var a netip.Addr
		var bits int
		if v6 {
			var b [16]byte
			b[0], b[1], b[15] = 0x20, byte(r.Intn(3)), byte(r.Intn(256))
			if r.Intn(8) == 0 {
				b = [16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
			}
			a, bits = netip.AddrFrom16(b), []int{0, 8, 16, 64, 120, 126, 128}[r.Intn(7)]
		} else {
			b := [4]byte{10, byte(r.Intn(3)), byte(r.Intn(4)), byte(r.Intn(256))}
			if r.Intn(8) == 0 {
				b = [4]byte{255, 255, 255, byte(r.Intn(256))}
			}
			a, bits = netip.AddrFrom4(b), []int{0, 8, 16, 22, 24, 25, 30, 32}[r.Intn(8)]
		}
		p, _ := a.Prefix(bits)
		return p
	}
	for round := 0; round < 300; round++ {
		var tab prefixTable[int]
		var ps []netip.Prefix
		seen := map[netip.Prefix]bool{}
		for i := 0; i < 1+r.Intn(25); i++ {
			p := randPrefix(r.Intn(3) == 0)
			if seen[p] {
				continue
			}
			seen[p] = true
			ps = append(ps, p)
			tab.add(p, len(ps)-1)
		}
		tab.build()
		var probes []netip.Addr
		for _, p := range ps {
			first, last := p.Masked().Addr(), lastAddr(p)
			probes = append(probes, first, last, first.Prev(), last.Next(), p.Addr())
		}
		for _, a := range probes {
			if !a.IsValid() {
				continue
			}
			want, wantBits := -1, -1
			for i, p := range ps {
				if p.Contains(a) && p.Bits() > wantBits {
					want, wantBits = i, p.Bits()
				}
			}
			got, ok := tab.lookup(a)
			if !ok {
				got = -1
			}
			if got != want {
				t.Fatalf("round %d: lookup(%s) = %d; want %d (prefixes %v)", round, a, got, want, ps)
			}
		}
	}
}
