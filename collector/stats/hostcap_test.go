package stats

import (
	"net/netip"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

// TestManyDistinctHostsKeepStateBounded: lines naming 100,000 and then 400,000 distinct
// internal hosts in one hour (forged: 10.0.0.0/8 is internal) leave a bounded number of keys
// in the store and in the aggregator, the same bound for both, with the cap counted.
func TestManyDistinctHostsKeepStateBounded(t *testing.T) {
	peer := ep("198.51.100.7", 443, "outside")
	var keys []int
	for _, n := range []int{100_000, 400_000} {
		st := openStore(t, t.TempDir(), t0.Add(2*time.Hour))
		a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0.Add(2 * time.Hour))})
		for i := range n {
			h := netip.AddrFrom4([4]byte{10, byte(16 + i>>16), byte(i >> 8), byte(i)})
			ev := built(t0.Add(time.Duration(i)*time.Millisecond), ciscolog.Endpoint{Addr: h, Port: 50000, Iface: "inside"}, peer)
			a.Add(&ev)
			if a.Pending() >= 100_000 {
				flush(t, a, st)
			}
		}
		flush(t, a, st)
		k := len(keysWithPrefix(t, st, ""))
		s := a.Stats()
		t.Logf("%d distinct hosts: %d keys stored, address table %d, hosts over the cap %d", n, k, len(a.addrs), s.HostsCapped)
		keys = append(keys, k)
		if max := 4*20_000 + 1000; k > max {
			t.Errorf("%d distinct hosts left %d keys; want at most %d", n, k, max)
		}
		if s.HostsCapped == 0 {
			t.Errorf("%d distinct hosts: the host cap was never counted", n)
		}
		st.Close()
	}
	if keys[1] > keys[0]+1000 {
		t.Errorf("keys grow with the forged hosts: %d for 100k, %d for 400k", keys[0], keys[1])
	}
}

// TestHostSetFamilies: IPv4 addresses are kept by their bits, the others by Addr; an IPv4
// address and its IPv4-mapped IPv6 form are different hosts, and the count covers both.
func TestHostSetFamilies(t *testing.T) {
	s := &hostSet{v4: make(map[uint32]struct{})}
	addrs := []netip.Addr{
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("::ffff:10.0.0.1"),
		netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255"),
	}
	for i, a := range addrs {
		if s.has(a) {
			t.Fatalf("%v is in the set before it was added", a)
		}
		s.add(a)
		if !s.has(a) || s.n != i+1 {
			t.Fatalf("after adding %v: has %v, n %d", a, s.has(a), s.n)
		}
	}
	if s.has(netip.MustParseAddr("10.0.0.2")) || s.has(netip.MustParseAddr("2001:db8::2")) {
		t.Error("an address never added is in the set")
	}
}
