package stats

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/google/go-cmp/cmp"
)

// mixedEvents is a realistic stream: mostly outbound connections with teardowns, some inbound,
// denies from the internet, router ACL logs, DNS and VPN logins.
func mixedEvents(n int) []ciscolog.Event {
	evs := make([]ciscolog.Event, 0, n)
	for i := 0; len(evs) < n; i++ {
		at := t0.Add(time.Duration(i) * 100 * time.Millisecond)
		ws := ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{10, 2, byte(i / 7 % 4), byte(i % 200)}), Port: uint16(40000 + i%20000), Iface: "inside"}
		ext := ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 50)}), Port: []uint16{443, 80, 443, 25, 443}[i%5], Iface: "outside"}
		switch i % 10 {
		case 0, 1, 2, 3:
			evs = append(evs, built(at, ws, ext), teardown(at, ws, ext, uint64(1000+i)))
		case 4:
			srv := ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{10, 1, 0, byte(i % 30)}), Port: 443, Iface: "dmz"}
			cl := ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 100)}), Port: uint16(30000 + i%1000), Iface: "outside"}
			evs = append(evs, built(at, cl, srv), teardown(at, cl, srv, 5000))
		case 5, 6:
			src := ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(i % 64)}), Port: uint16(50000 + i%100), Iface: "outside"}
			dst := ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{10, 1, 0, 10}), Port: []uint16{22, 23, 3389, 445}[i%4], Iface: "dmz"}
			evs = append(evs, deny(at, src, dst, ciscolog.ProtoTCP, 1))
		case 7:
			evs = append(evs, iosACL(at, ws, ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{10, 3, 0, byte(i % 20)}), Port: 445}, true, 1))
		case 8:
			d := built(at, ws, ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{10, 1, 0, 2}), Port: 53, Iface: "dmz"})
			d.Proto = ciscolog.ProtoUDP
			evs = append(evs, d)
		case 9:
			evs = append(evs, vpnLogin(at, fmt.Sprintf("user%d", i%20), fmt.Sprintf("198.51.100.%d", 100+i%20)))
		}
	}
	return evs[:n]
}

func TestAddWarmDoesNotAllocate(t *testing.T) {
	a := NewAggregator(siteCls{}, AggOptions{})
	evs := mixedEvents(2000)
	for i := range evs {
		a.Add(&evs[i])
	}
	i := 0
	allocs := testing.AllocsPerRun(5000, func() {
		a.Add(&evs[i%len(evs)])
		i++
	})
	if allocs != 0 {
		t.Errorf("Add on a warm aggregator: %v allocs per event; want 0", allocs)
	}
}

func TestPendingCap(t *testing.T) {
	st := openStore(t, t.TempDir(), t0.Add(time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{MaxPendingKeys: 50})
	full := false
	var i int
	for i = 0; !full; i++ {
		ev := built(t0, ep("10.2.0.5", 5000, "inside"), ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), Port: 443})
		full = a.Add(&ev)
	}
	if p := a.Pending(); p < 50 || p > 60 {
		t.Errorf("Pending when Add reported full = %d; want about 50", p)
	}
	for j := range 500 { // the caller keeps adding: memory stays bounded
		ev := built(t0, ep("10.2.0.5", 5000, "inside"), ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{203, 0, byte(j / 250), byte(j)}), Port: 443})
		a.Add(&ev)
	}
	s := a.Stats()
	if s.PendingKeys > 100 || s.DroppedKeys == 0 {
		t.Errorf("Stats = %+v; want pending ≤ 100 and dropped keys counted", s)
	}
	fs := flush(t, a, st)
	if !fs.Forced || a.Stats().ForcedFlushes != 1 {
		t.Errorf("FlushStats.Forced = %v, ForcedFlushes = %d; want true, 1", fs.Forced, a.Stats().ForcedFlushes)
	}
	ev := built(t0, ep("10.2.0.5", 5000, "inside"), ep("198.51.100.1", 443, ""))
	if a.Add(&ev) {
		t.Errorf("Add right after Flush reports full")
	}
}

func TestPerSubjectCaps(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir(), t0.Add(time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{MaxPortsPerSource: 10, MaxPeersPerHost: 5})
	scan := ep("192.0.2.66", 61000, "outside")
	for port := uint16(1); port <= 100; port++ {
		ev := deny(t0.Add(time.Duration(port)*time.Second), scan, ep("10.1.0.10", port, "dmz"), ciscolog.ProtoTCP, 1)
		a.Add(&ev)
	}
	for i := range 20 {
		ev := built(t0, ep("10.2.0.5", 5000, "inside"), ciscolog.Endpoint{Addr: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), Port: 443})
		a.Add(&ev)
	}
	flush(t, a, st)
	d, err := st.Denies(ctx, scan.Addr, Window{}, Hourly)
	if err != nil || len(d) != 1 {
		t.Fatalf("Denies = %+v, %v", d, err)
	}
	if d[0].Count != 100 || len(d[0].Ports) != 11 || d[0].Ports[0] != (DeniedPort{0, 0, 90}) {
		t.Errorf("Denies = %+v; want 100 denies over 10 ports and an overflow bucket of 90", d[0])
	}
	peers, err := st.Peers(ctx, ip("10.2.0.5"), Window{}, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 6 || peers[0].Peer.IsValid() || peers[0].ConnsInitiated != 15 {
		t.Errorf("Peers = %+v; want 5 peers and an overflow bucket of 15", peers)
	}
	// The cap holds across flushes within the hour.
	ev := deny(t0.Add(time.Hour-time.Second), scan, ep("10.1.0.10", 9999, "dmz"), ciscolog.ProtoTCP, 1)
	a.Add(&ev)
	flush(t, a, st)
	d, _ = st.Denies(ctx, scan.Addr, Window{}, Hourly)
	if len(d) != 1 || len(d[0].Ports) != 11 {
		t.Errorf("after another flush: %+v; want still 11 port buckets", d)
	}
}

func TestHostileNames(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir(), t0.Add(time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{})
	users := []string{"evil|vpn|x", "new\nline", `LOCAL\alice`, "%41", "bob smith"}
	for _, u := range users {
		ev := vpnLogin(t0, u, "198.51.100.9")
		a.Add(&ev)
	}
	ev := deny(t0, ep("192.0.2.1", 1, "out|side\r"), ep("10.1.0.1", 22, "in"), ciscolog.ProtoTCP, 1)
	ev.ACL = "acl|with|bars"
	a.Add(&ev)
	flush(t, a, st)
	for _, u := range users {
		got, err := st.VPNSources(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		want := []VPNSource{{User: u, Src: ip("198.51.100.9"), First: t0, Last: t0, Count: 1}}
		if d := cmp.Diff(want, got, addrEq); d != "" {
			t.Errorf("VPNSources(%q) (-want +got):\n%s", u, d)
		}
		ex, err := st.Exemplars(ctx, ExemplarKey{Kind: ExemplarVPN, User: u, A: ip("198.51.100.9")})
		if err != nil || len(ex) != 1 {
			t.Errorf("Exemplars(%q) = %q, %v; want one line", u, ex, err)
		}
	}
	acl, err := st.DenyACLs(ctx, netip.Addr{}, Window{}, Daily)
	if err != nil || len(acl) != 1 || acl[0].ACL != "acl|with|bars" {
		t.Errorf("DenyACLs = %+v, %v; want the ACL name intact", acl, err)
	}
	ifc, err := st.Interfaces(ctx, Window{}, Hourly)
	if err != nil || len(ifc) != 2 || ifc[1].Iface != "out|side\r" {
		t.Errorf("Interfaces = %+v, %v; want the interface name intact", ifc, err)
	}
	// Values (raw lines, packed binary lists) may hold anything; keys must not.
	err = st.scanPrefix(ctx, "", func(k, _ string) bool {
		for _, c := range []byte(k) {
			if c < ' ' || c >= 0x7f {
				t.Errorf("key with a control or non-ASCII byte: %q", k)
				break
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEventWithoutTimeUsesClock(t *testing.T) {
	st := openStore(t, t.TempDir(), t0.Add(time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0.Add(30 * time.Minute))})
	ev := built(time.Time{}, ep("10.2.0.5", 5000, "inside"), ep("198.51.100.1", 443, ""))
	a.Add(&ev)
	flush(t, a, st)
	hosts, err := st.Hosts(context.Background())
	if err != nil || len(hosts) != 1 || !hosts[0].Last.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("Hosts = %+v, %v; want 10.2.0.5 last seen at the injected clock", hosts, err)
	}
}

// TestTakeWhileAdding writes batches on another goroutine while Add goes on (run with -race).
func TestTakeWhileAdding(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir(), t0.Add(24*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{})
	batches := make(chan *Batch)
	done := make(chan error)
	go func() { // the writer: owned by this test, ends when batches is closed
		var err error
		for b := range batches {
			if _, werr := b.Write(ctx, st); werr != nil && err == nil {
				err = werr
			}
			b.Release()
		}
		done <- err
	}()
	evs := mixedEvents(20_000)
	var docs uint64
	for i := range evs {
		a.Add(&evs[i])
		switch evs[i].Action {
		case ciscolog.ActionBuilt, ciscolog.ActionPermit, ciscolog.ActionDeny, ciscolog.ActionSessionStart:
			if evs[i].Family != ciscolog.FamilyIOS || evs[i].Action == ciscolog.ActionSessionStart { // router packet logs are not documents
				docs += uint64(max(evs[i].Count, 1))
			}
		}
		if i%3000 == 2999 {
			batches <- a.Take()
		}
	}
	batches <- a.Take()
	close(batches)
	if err := <-done; err != nil {
		t.Fatalf("Write = %v", err)
	}
	if got := siteDocs(t, st); got != docs {
		t.Errorf("docs stored = %d; want %d", got, docs)
	}
}

func TestFlushErrorKeepsPending(t *testing.T) {
	st := openStore(t, t.TempDir(), t0.Add(2*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{})
	for _, ev := range scenario() {
		a.Add(&ev)
	}
	pending := a.Pending()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Flush(ctx, st); err == nil {
		t.Fatal("Flush with a cancelled context succeeded")
	}
	if a.Pending() != pending {
		t.Errorf("Pending after failed Flush = %d; want %d", a.Pending(), pending)
	}
	flush(t, a, st)
	if got := siteDocs(t, st); got != 13 { // 17 events, 4 of them router packet logs (not documents)
		t.Errorf("docs after retry = %d; want 13", got)
	}
}

// allInternal classifies everything as one internal segment.
type allInternal struct{}

func (allInternal) Internal(netip.Addr) bool  { return true }
func (allInternal) Segment(netip.Addr) string { return "lan" }

func TestSetClassifier(t *testing.T) {
	st := openStore(t, t.TempDir(), t0.Add(2*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{})
	ev := built(t0, ep("10.2.0.5", 5000, "inside"), ep("198.51.100.7", 443, "outside"))
	a.Add(&ev)
	a.SetClassifier(allInternal{})
	a.Add(&ev)
	flush(t, a, st)
	hosts, err := st.Hosts(context.Background())
	if err != nil || len(hosts) != 2 {
		t.Errorf("Hosts = %+v, %v; want 10.2.0.5 and, after the reload, 198.51.100.7", hosts, err)
	}
}

func TestFutureEventsSkipped(t *testing.T) {
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0)})
	ev := built(t0.Add(25*time.Hour), ep("10.2.0.5", 5000, "inside"), ep("198.51.100.1", 443, ""))
	a.Add(&ev)
	if s := a.Stats(); s.Skipped != 1 || s.PendingKeys != 0 {
		t.Errorf("Stats after an event 25 h ahead = %+v; want it skipped, nothing pending", s)
	}
	ev.Time = t0.Add(23 * time.Hour)
	a.Add(&ev)
	if s := a.Stats(); s.Skipped != 1 || s.PendingKeys == 0 || !s.Latest.Equal(ev.Time) {
		t.Errorf("Stats after an event 23 h ahead = %+v; want it counted and latest", s)
	}
}

// TestOddEvents feeds events the parser can produce from hostile or unusual lines; none may
// crash the aggregator or the flush, and the ones without addresses count only as events.
func TestOddEvents(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir(), t0.Add(time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{Now: fixedNow(t0)})
	v6 := netip.MustParseAddr("fe80::1%eth0")
	evs := []ciscolog.Event{
		{}, // unparsed, no time: takes the clock
		{Kind: ciscolog.KindUnparsed, Raw: "garbage", Time: t0},
		{Action: ciscolog.ActionBuilt, Time: t0, Src: ciscolog.Endpoint{Addr: ip("10.2.0.5")}}, // no destination
		{Action: ciscolog.ActionDeny, Time: t0, Proto: ciscolog.ProtoICMP, Src: ciscolog.Endpoint{Addr: ip("192.0.2.9"), Port: 8}, Dst: ciscolog.Endpoint{Addr: ip("10.1.0.1")}, Count: 1 << 31},
		{Action: ciscolog.ActionTeardown, Time: t0, Proto: 99, Src: ciscolog.Endpoint{Addr: v6, Port: 1}, Dst: ciscolog.Endpoint{Addr: ip("::ffff:10.2.0.5"), Port: 2}, Bytes: 1 << 62,
			Duration: 200 * 365 * 24 * time.Hour}, // huge but plausible at 10 Gbit/s
		{Action: ciscolog.ActionSessionStart, Time: t0, User: "", Src: ciscolog.Endpoint{Addr: ip("198.51.100.1")}},
		{Action: ciscolog.ActionBuilt, Time: t0.Add(-time.Hour * 24 * 365 * 60), Src: ep("10.2.0.5", 1, "in"), Dst: ep("10.3.0.5", 2, "out")},
		{Action: ciscolog.ActionPermit, Time: t0, Host: "", Sender: ip("192.0.2.250"), Src: ep("10.2.0.5", 1, "Gi0/1"), Dst: ep("10.3.0.5", 445, "")},
	}
	for i := range evs {
		a.Add(&evs[i])
	}
	fs, err := a.Flush(ctx, st)
	if err != nil {
		t.Fatalf("Flush = %v", err)
	}
	if fs.Keys == 0 {
		t.Errorf("FlushStats = %+v; want keys written", fs)
	}
	ifc, err := st.Interfaces(ctx, Window{}, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range ifc {
		found = found || (c.Device == "192.0.2.250" && c.Iface == "Gi0/1")
	}
	if !found {
		t.Errorf("Interfaces = %+v; want the sender address as the device of a hostless frame", ifc)
	}
	// The v4-mapped destination is the internal host 10.2.0.5; its higher port makes it the client.
	series, err := st.HostSeries(ctx, ip("10.2.0.5"), Window{From: t0, To: t0.Add(time.Hour)}, Hourly)
	if err != nil || len(series) != 1 || series[0].BytesInitiated != 1<<62 {
		t.Errorf("HostSeries(10.2.0.5) = %+v, %v; want the teardown's bytes as initiated (port 2 > port 1)", series, err)
	}
}
