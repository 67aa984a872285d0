package stats

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

// forgedPeer is the i-th address of 45.0.0.0/8, one per forged line.
func forgedPeer(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{45, byte(i >> 16), byte(i >> 8), byte(i)})
}

// TestEvictionForgedPeersDoNotHideAnExfiltration: 520 forged 100-byte teardowns give a host
// 520 peers in an hour; a real 12 GB transfer after them must still be stored under its peer,
// not in "(other peers)".
func TestEvictionForgedPeersDoNotHideAnExfiltration(t *testing.T) {
	st := openStore(t, t.TempDir(), t0.Add(2*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0.Add(2 * time.Hour))})
	host := ep("10.2.0.5", 50000, "inside")
	for i := range 520 {
		ev := teardown(t0.Add(time.Duration(i)*time.Second), host, ciscolog.Endpoint{Addr: forgedPeer(i), Port: 443, Iface: "outside"}, 100)
		ev.Duration = time.Second
		a.Add(&ev)
		if i%100 == 99 {
			flush(t, a, st) // the daemon flushes every second: the flood spans many flushes
		}
	}
	exfil := ep("203.0.113.66", 443, "outside")
	ev := teardown(t0.Add(20*time.Minute), host, exfil, 12_000_000_000)
	ev.Duration = 2 * time.Hour
	a.Add(&ev)
	flush(t, a, st)
	peers, err := st.Peers(t.Context(), host.Addr, Window{}, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) == 0 || peers[0].Peer != exfil.Addr || peers[0].Bytes() != 12_000_000_000 {
		top := "none"
		if len(peers) > 0 {
			top = fmt.Sprintf("%v with %d bytes", peers[0].Peer, peers[0].Bytes())
		}
		t.Errorf("after 520 forged peers the top peer of %v is %s; want %v with 12 GB", host.Addr, top, exfil.Addr)
	}
	t.Logf("evicted peers %d", a.Stats().EvictedPeers)
}

// TestEvictionForgedSourcesDoNotHideAScanner: 8,300 forged sources, one deny each, in the
// hour before a scanner's 257 denies: the scanner's source.ip term is still counted.
func TestEvictionForgedSourcesDoNotHideAScanner(t *testing.T) {
	st := openStore(t, t.TempDir(), t0.Add(2*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0.Add(2 * time.Hour))})
	dst := ep("10.1.0.10", 22, "outside")
	for i := range 8300 {
		ev := deny(t0.Add(time.Duration(i)*100*time.Millisecond), ciscolog.Endpoint{Addr: forgedPeer(i), Port: 40000, Iface: "outside"}, dst, ciscolog.ProtoTCP, 1)
		a.Add(&ev)
		if i%1000 == 999 {
			flush(t, a, st)
		}
	}
	scanner := ip("203.0.113.250")
	for p := range 257 {
		ev := deny(t0.Add(15*time.Minute+time.Duration(p)*time.Second), ciscolog.Endpoint{Addr: scanner, Port: 40000, Iface: "outside"},
			ep("10.1.0.10", uint16(1+p), "outside"), ciscolog.ProtoTCP, 1)
		a.Add(&ev)
	}
	flush(t, a, st)
	tc, err := st.Terms(t.Context(), FieldSourceIP, Window{From: t0, To: t0.Add(time.Hour)}, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	var got uint64
	for _, x := range tc.Terms {
		if x.Term.Addr == scanner {
			got = x.Count
		}
	}
	if got != 257 {
		t.Errorf("scanner's source.ip term counts %d documents after 8,300 forged sources; want 257", got)
	}
	t.Logf("evicted terms %d", a.Stats().EvictedTerms)
}

// TestEvictionForgedUsernamesDoNotHideLaterUsers: 12,000 forged usernames fill the name
// table; a real new user afterwards must be stored under its own name, not "_other".
func TestEvictionForgedUsernamesDoNotHideLaterUsers(t *testing.T) {
	st := openStore(t, t.TempDir(), t0.Add(2*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0.Add(2 * time.Hour))})
	for i := range 12_000 {
		ev := vpnLogin(t0.Add(time.Duration(i)*100*time.Millisecond), fmt.Sprintf("forged%05d", i), forgedPeer(i).String())
		a.Add(&ev)
		if i%1000 == 999 {
			flush(t, a, st)
		}
	}
	flush(t, a, st)
	ev := vpnLogin(t0.Add(30*time.Minute), "dr.new", "198.51.100.9")
	a.Add(&ev)
	flush(t, a, st)
	srcs, err := st.VPNSources(t.Context(), "dr.new")
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 1 || srcs[0].Src != ip("198.51.100.9") {
		other, _ := st.VPNSources(t.Context(), "_other")
		t.Errorf("dr.new has VPN sources %v after 12,000 forged usernames (_other holds %d)", srcs, len(other))
	}
	s := a.Stats()
	t.Logf("names overflowed %d, name table renewals %d", s.NamesOverflowed, s.NameRenewals)
}

// TestEvictionAForgedHugeTeardownDoesNotMoveTheBlock: one forged 20 GB teardown lasting a
// second (160 Gbit/s) to a decoy, beside a real 12 GB over two hours: the real peer stays the
// heaviest; the forged one is counted as implausible and adds no bytes.
func TestEvictionAForgedHugeTeardownDoesNotMoveTheBlock(t *testing.T) {
	st := openStore(t, t.TempDir(), t0.Add(2*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0.Add(2 * time.Hour))})
	host := ep("10.2.0.5", 50000, "inside")
	exfil, decoy := ep("203.0.113.66", 443, "outside"), ep("192.0.2.99", 443, "outside")
	real := teardown(t0.Add(20*time.Minute), host, exfil, 12_000_000_000)
	real.Duration = 2 * time.Hour
	forged := teardown(t0.Add(21*time.Minute), host, decoy, 20_000_000_000)
	forged.Duration = time.Second
	a.Add(&real)
	a.Add(&forged)
	flush(t, a, st)
	peers, err := st.Peers(t.Context(), host.Addr, Window{}, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) == 0 || peers[0].Peer != exfil.Addr {
		t.Fatalf("top peer %v; want the real %v", peers, exfil.Addr)
	}
	for _, p := range peers {
		if p.Peer == decoy.Addr && p.Bytes() != 0 {
			t.Errorf("the decoy got %d bytes from one implausible line", p.Bytes())
		}
	}
	if got := a.Stats().Implausible; got != 1 {
		t.Errorf("Implausible = %d, want 1", got)
	}
}

// TestLateLinesAreCountedNotAggregated: with MaxLateness, a line dated days before its
// device's newest time is late and adds nothing; a forged line dated in the future moves the
// device's clock no further than the aggregator's clock (plus five minutes), so the real
// lines after it still count.
func TestLateLinesAreCountedNotAggregated(t *testing.T) {
	now := t0.Add(30 * time.Minute) // live: the aggregator's clock is near the data
	st := openStore(t, t.TempDir(), now)
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(now), MaxLateness: 2 * time.Hour})
	host, peer := ep("10.2.0.5", 50000, "inside"), ep("198.51.100.7", 443, "outside")
	evs := []ciscolog.Event{
		teardown(t0, host, peer, 1000),                         // the device's clock: t0
		teardown(t0.AddDate(0, 0, -3), host, peer, 5_000_000),  // back-dated three days: late
		teardown(now.Add(20*time.Hour), host, peer, 7_000_000), // forged, far ahead (counted, clock capped)
		teardown(t0.Add(time.Minute), host, peer, 1000),        // real, still on time
	}
	for i := range evs {
		evs[i].Duration = time.Minute
		a.Add(&evs[i])
	}
	flush(t, a, st)
	if s := a.Stats(); s.Late != 1 {
		t.Errorf("Late = %d, want 1 (the back-dated line only)", s.Late)
	}
	old, err := st.Peers(t.Context(), host.Addr, Window{From: t0.AddDate(0, 0, -4), To: t0.AddDate(0, 0, -2)}, Hourly)
	if err != nil || len(old) != 0 {
		t.Errorf("three days back: %v, %v; want nothing from the late line", old, err)
	}
	cur, err := st.Peers(t.Context(), host.Addr, Window{From: t0, To: t0.Add(time.Hour)}, Hourly)
	if err != nil || len(cur) != 1 || cur[0].Bytes() != 2000 {
		t.Errorf("this hour: %v, %v; want both real lines (2000 bytes)", cur, err)
	}
}
