package stats

import (
	"net/netip"
	"testing"
)

func TestTrimTopKeepsHeaviestAndTotals(t *testing.T) {
	var es []pentry
	for i := range 10 {
		es = append(es, pentry{addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), proto: 6, port: 443, rs: 3,
			v: [4]uint64{1, 0, uint64(i) * 100, 0}})
	}
	es = append(es, pentry{rs: 3, v: [4]uint64{5, 0, 7, 0}}) // an overflow entry from before
	var before [4]uint64
	for _, e := range es {
		for j := range 4 {
			before[j] += e.v[j]
		}
	}
	got := trimTop(es, nfPeer, 3)
	if len(got) != 4 {
		t.Fatalf("trimTop kept %d entries, want 3 named and 1 overflow: %+v", len(got), got)
	}
	for i, want := range []byte{9, 8, 7} {
		if got[i].addr.As4()[3] != want {
			t.Errorf("entry %d = %v, want 198.51.100.%d (the heaviest first)", i, got[i].addr, want)
		}
	}
	var after [4]uint64
	for _, e := range got {
		for j := range 4 {
			after[j] += e.v[j]
		}
	}
	if after != before {
		t.Errorf("totals after trimTop = %v, want %v", after, before)
	}
	if of := got[3]; of.addr.IsValid() || of.port != 0 || of.rs != 3 || of.v[0] != 12 {
		t.Errorf("overflow entry = %+v, want scope 3 holding 7 connections + 5 from before", of)
	}
}

// decodeCounters reads the counters decodeHostDay reads, skipping the entry lists.
func TestDecodeCountersMatchesDecodeHostDay(t *testing.T) {
	v := hostDay{
		{h: 3, c: [nfHost]uint64{1, 2, 3, 400, 5, 6}, peers: []pentry{{addr: ip("198.51.100.7"), proto: 6, port: 443, v: [4]uint64{1, 2, 300, 4}}, {}},
			ports: []pentry{{addr: ip("2001:db8::1"), user: "a|b", proto: 17, port: 53, v: [4]uint64{9, 1 << 40}}}},
		{h: 7, c: [nfHost]uint64{7, 0, 0, 1 << 33, 0, 1}},
	}
	val := string(appendHostDay(nil, v, hostCodec))
	full, err := decodeHostDay(val, nil, hostCodec)
	if err != nil {
		t.Fatal(err)
	}
	cnt, err := decodeCounters(val, nil, hostCodec)
	if err != nil || len(cnt) != len(full) {
		t.Fatalf("decodeCounters = %d slots, %v; want %d", len(cnt), err, len(full))
	}
	for i := range full {
		if cnt[i].h != full[i].h || cnt[i].c != full[i].c || cnt[i].peers != nil {
			t.Errorf("slot %d: %+v; want hour %d counters %v and no entries", i, cnt[i], full[i].h, full[i].c)
		}
	}
	if _, err := decodeCounters(val[:len(val)-2], nil, hostCodec); err == nil {
		t.Error("a value cut short decoded without error")
	}
}

// TestEntryIndexIdentity: entries with one identity share an index, any difference (address,
// family, user, role scope, protocol, port) gives another, packed or not.
func TestEntryIndexIdentity(t *testing.T) {
	es := []pentry{
		{}, {rs: 1}, {rs: 7}, {proto: 6}, {port: 443}, {proto: 6, port: 443},
		{addr: netip.MustParseAddr("0.0.0.0")}, {addr: netip.MustParseAddr("192.0.2.1")},
		{addr: netip.MustParseAddr("192.0.2.1"), proto: 17, port: 53, rs: 3},
		{addr: netip.MustParseAddr("192.0.2.2"), proto: 17, port: 53, rs: 3},
		{addr: netip.MustParseAddr("::ffff:192.0.2.1")}, {addr: netip.MustParseAddr("2001:db8::1")},
		{addr: netip.MustParseAddr("2001:db8::1"), port: 443}, {user: "alice"}, {user: "alice", rs: 1},
		{addr: netip.MustParseAddr("255.255.255.255"), proto: 255, port: 65535, rs: 7},
	}
	idx := newEntryIndex(0)
	for i := range es {
		if j, ok := idx.get(&es[i]); ok {
			t.Fatalf("%+v found at %d before it was put (collides with %+v)", es[i], j, es[j])
		}
		idx.put(&es[i], i)
	}
	for i := range es {
		c := es[i] // an equal entry, not the same one
		if j, ok := idx.get(&c); !ok || j != i {
			t.Errorf("%+v: got %d %v, want %d", c, j, ok, i)
		}
	}
}
