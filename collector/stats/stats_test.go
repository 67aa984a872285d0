package stats

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/buntdb"
)

// scenario is one hour of hand-made traffic whose counters are worked out by hand below.
func scenario() []ciscolog.Event {
	m := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	ws, web := ep("10.2.0.5", 50000, "inside"), ep("198.51.100.7", 443, "outside")
	ext, srv := ep("203.0.113.9", 40000, "outside"), ep("10.1.0.10", 443, "dmz")
	scan := ep("192.0.2.66", 61000, "outside")
	dns := built(m(20), ep("10.1.0.2", 53000, "inside"), ep("8.8.8.8", 53, "outside"))
	dns.Proto = ciscolog.ProtoUDP
	in := built(m(7), ext, srv)
	var evs []ciscolog.Event
	evs = append(evs,
		built(m(5), ws, web), teardown(m(6), ws, web, 1000),
		built(m(10), ws, web), teardown(m(11), ws, web, 500),
		in, teardown(m(12), ext, srv, 2000),
		deny(m(30), scan, ep("10.1.0.10", 22, "dmz"), ciscolog.ProtoTCP, 1),
		deny(m(31), scan, ep("10.1.0.10", 23, "dmz"), ciscolog.ProtoTCP, 1),
		deny(m(32), scan, ep("10.1.0.10", 3389, "dmz"), ciscolog.ProtoTCP, 1),
		deny(m(33), scan, ep("10.1.0.10", 22, "dmz"), ciscolog.ProtoTCP, 5),
		iosACL(m(40), ep("10.2.0.5", 50100, "Gi0/0"), ep("10.3.0.7", 445, ""), true, 3),
		iosACL(m(41), ep("10.2.0.5", 50101, "Gi0/0"), ep("10.3.0.7", 445, ""), false, 1),
		dns,
		vpnLogin(m(50), "alice", "198.51.100.20"),
	)
	return evs
}

func TestAggregateAndQuery(t *testing.T) {
	ctx := context.Background()
	now := t0.Add(2 * time.Hour)
	st := openStore(t, t.TempDir(), now)
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{})
	for _, ev := range scenario() {
		a.Add(&ev)
	}
	fs := flush(t, a, st)
	if fs.Hourly == 0 || fs.Daily == 0 || fs.Expired != 0 {
		t.Errorf("FlushStats = %+v; want hourly and daily keys, none expired", fs)
	}
	if a.Pending() != 0 {
		t.Errorf("Pending after Flush = %d; want 0", a.Pending())
	}
	hour := Window{From: t0, To: t0.Add(time.Hour)}

	hostTests := []struct {
		host string
		want HostCounters
	}{
		{"10.2.0.5", HostCounters{Events: 6, ConnsInitiated: 5, BytesInitiated: 1500, Denies: 1}},
		{"10.1.0.10", HostCounters{Events: 6, ConnsAccepted: 1, BytesAccepted: 2000, Denies: 8}},
		{"10.3.0.7", HostCounters{Events: 2, ConnsAccepted: 3, Denies: 1}},
		{"10.1.0.2", HostCounters{Events: 1, ConnsInitiated: 1}},
	}
	for _, tc := range hostTests {
		for _, r := range []Resolution{Hourly, Daily} {
			got, err := st.HostSeries(ctx, ip(tc.host), hour, r)
			if err != nil {
				t.Fatal(err)
			}
			start := t0
			if r == Daily {
				start = t0.Truncate(24 * time.Hour)
			}
			want := []HostBucket{{Start: start, HostCounters: tc.want}}
			if d := cmp.Diff(want, got, addrEq); d != "" {
				t.Errorf("HostSeries(%s, res %d) mismatch (-want +got):\n%s", tc.host, r, d)
			}
		}
	}
	all, err := st.AllHostSeries(ctx, hour, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[ip("10.2.0.5")][0].BytesInitiated != 1500 {
		t.Errorf("AllHostSeries = %v; want 4 hosts, 10.2.0.5 with 1500 bytes", all)
	}

	site, err := st.SiteSeries(ctx, hour, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	wantSite := []SiteBucket{{Start: t0, Events: 14, Docs: 13, // router packet logs are not documents
		Conns: 7, Bytes: 3500, Denies: 9}}
	if d := cmp.Diff(wantSite, site, addrEq); d != "" {
		t.Errorf("SiteSeries mismatch (-want +got):\n%s", d)
	}

	peers, err := st.Peers(ctx, netip.Addr{}, hour, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	wantPeers := []PeerCount{
		{Host: ip("10.1.0.10"), Peer: ip("203.0.113.9"), ConnsAccepted: 1, BytesAccepted: 2000},
		{Host: ip("10.2.0.5"), Peer: ip("198.51.100.7"), ConnsInitiated: 2, BytesInitiated: 1500},
		{Host: ip("10.1.0.2"), Peer: ip("8.8.8.8"), ConnsInitiated: 1},
	}
	if d := cmp.Diff(wantPeers, peers, addrEq); d != "" {
		t.Errorf("Peers mismatch (-want +got):\n%s", d)
	}

	pp, err := st.PeerPorts(ctx, ip("10.1.0.2"), hour, Daily)
	if err != nil {
		t.Fatal(err)
	}
	wantPP := []PeerPortCount{{PeerCount: PeerCount{Host: ip("10.1.0.2"), Peer: ip("8.8.8.8"), ConnsInitiated: 1}, Proto: 17, Port: 53}}
	if d := cmp.Diff(wantPP, pp, addrEq); d != "" {
		t.Errorf("PeerPorts mismatch (-want +got):\n%s", d)
	}

	ports, err := st.Ports(ctx, ip("10.2.0.5"), hour, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	wantPorts := []PortCount{
		{Host: ip("10.2.0.5"), Role: RoleClient, External: false, Proto: 6, Port: 445, Conns: 3},
		{Host: ip("10.2.0.5"), Role: RoleClient, External: true, Proto: 6, Port: 443, Conns: 2, Bytes: 1500},
	}
	if d := cmp.Diff(wantPorts, ports, addrEq); d != "" {
		t.Errorf("Ports mismatch (-want +got):\n%s", d)
	}

	denies, err := st.Denies(ctx, netip.Addr{}, hour, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	wantDenies := []DenySource{{
		Src: ip("192.0.2.66"), Count: 8, MaxPortsInBucket: 3, First: t0, Last: t0,
		Ports: []DeniedPort{{6, 22, 6}, {6, 23, 1}, {6, 3389, 1}},
	}}
	if d := cmp.Diff(wantDenies, denies, addrEq); d != "" {
		t.Errorf("Denies mismatch (-want +got):\n%s", d)
	}
	acls, err := st.DenyACLs(ctx, ip("192.0.2.66"), hour, Daily)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]ACLCount{{Src: ip("192.0.2.66"), ACL: "outside_access_in", Count: 8}}, acls, addrEq); d != "" {
		t.Errorf("DenyACLs mismatch (-want +got):\n%s", d)
	}

	pairs, err := st.Pairs(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	wantPairs := []Pair{{Client: ip("10.2.0.5"), Server: ip("10.3.0.7"), Proto: 6, Port: 445, Family: ciscolog.FamilyIOS,
		First: t0.Add(40 * time.Minute), Last: t0.Add(41 * time.Minute), Permitted: 3, Denied: 1}}
	if d := cmp.Diff(wantPairs, pairs, addrEq); d != "" {
		t.Errorf("Pairs mismatch (-want +got):\n%s", d)
	}

	res, err := st.Resolvers(ctx, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	wantRes := []Resolver{{Client: ip("10.1.0.2"), Resolver: ip("8.8.8.8"), First: t0.Add(20 * time.Minute), Last: t0.Add(20 * time.Minute), Count: 1}}
	if d := cmp.Diff(wantRes, res, addrEq); d != "" {
		t.Errorf("Resolvers mismatch (-want +got):\n%s", d)
	}

	vpn, err := st.VPNSources(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	wantVPN := []VPNSource{{User: "alice", Src: ip("198.51.100.20"), First: t0.Add(50 * time.Minute), Last: t0.Add(50 * time.Minute), Count: 1}}
	if d := cmp.Diff(wantVPN, vpn, addrEq); d != "" {
		t.Errorf("VPNSources mismatch (-want +got):\n%s", d)
	}

	hosts, err := st.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantHosts := []HostSeen{
		{ip("10.1.0.2"), t0.Add(20 * time.Minute), t0.Add(20 * time.Minute)},
		{ip("10.1.0.10"), t0.Add(7 * time.Minute), t0.Add(33 * time.Minute)},
		{ip("10.2.0.5"), t0.Add(5 * time.Minute), t0.Add(41 * time.Minute)},
		{ip("10.3.0.7"), t0.Add(40 * time.Minute), t0.Add(41 * time.Minute)},
	}
	if d := cmp.Diff(wantHosts, hosts, addrEq); d != "" {
		t.Errorf("Hosts mismatch (-want +got):\n%s", d)
	}

	ifcs, err := st.Interfaces(ctx, hour, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	if len(ifcs) == 0 || ifcs[0].Device != "asa1" {
		t.Errorf("Interfaces = %+v; want asa1 interfaces first", ifcs)
	}

	termTests := []struct {
		field Field
		want  map[Term]uint64
	}{
		{FieldDestinationIP, map[Term]uint64{{Addr: ip("198.51.100.7")}: 2, {Addr: ip("10.1.0.10")}: 9, {Addr: ip("8.8.8.8")}: 1}},
		{FieldDestinationPort, map[Term]uint64{{Proto: 6, Port: 443}: 3, {Proto: 6, Port: 22}: 6, {Proto: 6, Port: 23}: 1, {Proto: 6, Port: 3389}: 1, {Proto: 17, Port: 53}: 1}},
		{FieldSourceIP, map[Term]uint64{{Addr: ip("10.2.0.5")}: 2, {Addr: ip("203.0.113.9")}: 1, {Addr: ip("192.0.2.66")}: 8, {Addr: ip("10.1.0.2")}: 1, {Addr: ip("198.51.100.20")}: 1}},
		{FieldUserSource, map[Term]uint64{{User: "alice", Addr: ip("198.51.100.20")}: 1}},
	}
	for _, tc := range termTests {
		fg, err := st.Terms(ctx, tc.field, Last(now, 24*time.Hour), Hourly)
		if err != nil {
			t.Fatal(err)
		}
		if fg.Docs != 13 { // the 4 router packet logs are not documents
			t.Errorf("Terms(%v).Docs = %d; want 13", tc.field, fg.Docs)
		}
		if d := cmp.Diff(tc.want, fg.Map(), addrEq); d != "" {
			t.Errorf("Terms(%v) mismatch (-want +got):\n%s", tc.field, d)
		}
		bg, err := st.BackgroundTerms(ctx, tc.field)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(fg, bg, addrEq); d != "" {
			t.Errorf("BackgroundTerms(%v) differs from the foreground of the only day (-fg +bg):\n%s", tc.field, d)
		}
	}
	if got := (Term{Proto: 6, Port: 443}).String(); got != "443/tcp" {
		t.Errorf("Term.String() = %q; want 443/tcp", got)
	}

	ex, err := st.Exemplars(ctx, ExemplarKey{Kind: ExemplarDeny, A: ip("192.0.2.66")})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"deny 192.0.2.66 10.1.0.10", "deny 192.0.2.66 10.1.0.10", "deny 192.0.2.66 10.1.0.10"}, ex, addrEq); d != "" {
		t.Errorf("Exemplars(deny) mismatch (-want +got):\n%s", d)
	}
	ex, err = st.Exemplars(ctx, ExemplarKey{Kind: ExemplarVPN, User: "alice", A: ip("198.51.100.20")})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"vpn alice 198.51.100.20"}, ex, addrEq); d != "" {
		t.Errorf("Exemplars(vpn) mismatch (-want +got):\n%s", d)
	}
}

func TestFlushesAddUp(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir(), t0.Add(48*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{})
	ws, web := ep("10.2.0.5", 50000, "inside"), ep("198.51.100.7", 443, "outside")
	const rounds = 5
	for i := range rounds {
		// Two hours per round; the second day gets the later rounds.
		for _, h := range []int{0, 20} {
			at := t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Minute)
			for _, ev := range []ciscolog.Event{built(at, ws, web), teardown(at, ws, web, 100)} {
				a.Add(&ev)
			}
		}
		flush(t, a, st)
		// Exemplars of a subject stop at three, however many flushes see it.
		ex, err := st.Exemplars(ctx, ExemplarKey{Kind: ExemplarPeer, A: ws.Addr, B: web.Addr})
		if err != nil {
			t.Fatal(err)
		}
		if want := min(3, 2*(i+1)); len(ex) != want {
			t.Errorf("after flush %d: %d exemplars; want %d", i+1, len(ex), want)
		}
	}
	series, err := st.HostSeries(ctx, ip("10.2.0.5"), Window{}, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	want := []HostBucket{
		{Start: t0, HostCounters: HostCounters{Events: 2 * rounds, ConnsInitiated: rounds, BytesInitiated: 100 * rounds}},
		{Start: t0.Add(20 * time.Hour), HostCounters: HostCounters{Events: 2 * rounds, ConnsInitiated: rounds, BytesInitiated: 100 * rounds}},
	}
	if d := cmp.Diff(want, series, addrEq); d != "" {
		t.Errorf("HostSeries after %d flushes mismatch (-want +got):\n%s", rounds, d)
	}
	days, err := st.HostSeries(ctx, ip("10.2.0.5"), Window{}, Daily)
	if err != nil {
		t.Fatal(err)
	}
	wantDays := []HostBucket{
		{Start: t0.Truncate(24 * time.Hour), HostCounters: HostCounters{Events: 2 * rounds, ConnsInitiated: rounds, BytesInitiated: 100 * rounds}},
		{Start: t0.Truncate(24 * time.Hour).Add(24 * time.Hour), HostCounters: HostCounters{Events: 2 * rounds, ConnsInitiated: rounds, BytesInitiated: 100 * rounds}},
	}
	if d := cmp.Diff(wantDays, days, addrEq); d != "" {
		t.Errorf("daily HostSeries mismatch (-want +got):\n%s", d)
	}
	peers, err := st.Peers(ctx, ip("10.2.0.5"), Window{}, Daily)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 || peers[0].BytesInitiated != 200*rounds || peers[0].ConnsInitiated != 2*rounds {
		t.Errorf("Peers = %+v; want one peer with %d bytes and %d conns", peers, 200*rounds, 2*rounds)
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	now := t0
	st := openStore(t, t.TempDir(), now)
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{})
	ws, web := ep("10.2.0.5", 50000, "inside"), ep("198.51.100.7", 443, "outside")
	ages := []time.Duration{
		1 * time.Hour,        // within both retentions
		40 * 24 * time.Hour,  // hourly expired (35 d), daily kept (400 d)
		500 * 24 * time.Hour, // both expired
	}
	for _, age := range ages {
		ev := built(now.Add(-age), ws, web)
		a.Add(&ev)
	}
	fs := flush(t, a, st)
	if fs.Expired == 0 {
		t.Errorf("FlushStats.Expired = 0; want the old buckets skipped")
	}
	hours, err := st.HostSeries(ctx, ws.Addr, Window{}, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 1 || !hours[0].Start.Equal(now.Add(-time.Hour)) {
		t.Errorf("hourly buckets = %+v; want only the one an hour old", hours)
	}
	days, err := st.HostSeries(ctx, ws.Addr, Window{}, Daily)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 {
		t.Errorf("daily buckets = %+v; want 2 (1 h and 40 d old)", days)
	}
	// Retention runs from the bucket's time: the 40-day-old daily bucket has 360 days left,
	// less the part of its day that has passed. buntdb holds no TTL for it (Prune deletes it).
	oldDay := now.Add(-40 * 24 * time.Hour).Truncate(24 * time.Hour)
	key := string(appendBucket(fmt.Appendf(nil, "host|d|%s|", ws.Addr), int32(oldDay.Unix()/86400), true))
	var ttl time.Duration
	var val string
	if err := st.db.View(func(tx *buntdb.Tx) error {
		var err error
		if ttl, err = tx.TTL(key); err != nil {
			return err
		}
		val, err = tx.Get(key)
		return err
	}); err != nil {
		t.Fatalf("TTL(%s) = %v", key, err)
	}
	if ttl != -1 {
		t.Errorf("TTL(%s) = %v; want none (-1)", key, ttl)
	}
	at, ok := expiresAt(key, val, st.Retention())
	if want := oldDay.Add(24*time.Hour + 400*24*time.Hour); !ok || at != want.Unix() {
		t.Errorf("expiresAt(%s) = %v, %v; want %v", key, unixTime(at), ok, want)
	}
	// Events from far in the future (a skewed device clock) are not stored.
	ev := built(now.Add(72*time.Hour), ws, web)
	a.Add(&ev)
	if fs := flush(t, a, st); fs.Future == 0 {
		t.Errorf("FlushStats.Future = 0; want the future bucket refused")
	}
}

// TestParsedLines checks the contract with the parser on real message text: roles of an
// outbound connection and its teardown, and a VPN session.
func TestParsedLines(t *testing.T) {
	ctx := context.Background()
	lines := []string{
		"<166>Mar  3 08:15:02 fw-clinic %ASA-6-302013: Built outbound TCP connection 4130017 for outside:203.0.113.40/443 (203.0.113.40/443) to inside:10.20.1.15/52114 (198.51.100.7/40112)",
		"<166>Mar  3 08:15:09 fw-clinic %ASA-6-302014: Teardown TCP connection 4130017 for outside:203.0.113.40/443 to inside:10.20.1.15/52114 duration 0:04:31 bytes 48213 TCP FINs",
		"<166>Mar  3 08:16:00 fw-clinic %ASA-4-722051: Group <GroupPolicy_VPN> User <alice> IP <198.51.100.23> IPv4 Address <10.50.0.7> IPv6 address <::> assigned to session",
		"<166>Mar  3 08:17:00 fw-clinic %ASA-6-605005: Login permitted from 10.20.0.50/51000 to inside:10.20.0.1/ssh for user \"netadmin\"",
	}
	now := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
	p := ciscolog.NewParser(ciscolog.Options{Now: fixedNow(now)})
	st := openStore(t, t.TempDir(), now)
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{})
	var ev ciscolog.Event
	for _, l := range lines {
		p.ParseString(l, &ev)
		if ev.Kind != ciscolog.KindTyped {
			t.Fatalf("parse %q: kind %v", l, ev.Kind)
		}
		a.Add(&ev)
	}
	flush(t, a, st)
	hour := Window{From: time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)}
	got, err := st.HostSeries(ctx, ip("10.20.1.15"), hour, Hourly)
	if err != nil {
		t.Fatal(err)
	}
	want := []HostBucket{{Start: hour.From, HostCounters: HostCounters{Events: 2, ConnsInitiated: 1, BytesInitiated: 48213}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("HostSeries(10.20.1.15) (-want +got):\n%s", d)
	}
	peers, err := st.Peers(ctx, ip("10.20.1.15"), hour, Hourly)
	if err != nil || len(peers) != 1 || peers[0].Peer != ip("203.0.113.40") || peers[0].BytesInitiated != 48213 {
		t.Errorf("Peers = %+v, %v; want 203.0.113.40 with 48213 bytes initiated", peers, err)
	}
	vpn, err := st.VPNSources(ctx, "")
	if err != nil || len(vpn) != 1 || vpn[0].User != "alice" || vpn[0].Src != ip("198.51.100.23") {
		t.Errorf("VPNSources = %+v, %v; want alice from 198.51.100.23 only (605005 is no VPN login)", vpn, err)
	}
	terms, err := st.Terms(ctx, FieldUserSource, hour, Hourly)
	if m := terms.Map(); err != nil || m[Term{User: "netadmin", Addr: ip("10.20.0.50")}] != 1 || m[Term{User: "alice", Addr: ip("198.51.100.23")}] != 1 {
		t.Errorf("user.source terms = %+v, %v; want alice and netadmin", terms, err)
	}
}

// AllHostBytes is AllHostSeries(Hourly) cut to each bucket's hour and bytes, over several days,
// with hours that have events but no bytes and windows that cut days.
func TestAllHostBytesIsAllHostSeriesBytes(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir(), t0.Add(72*time.Hour))
	defer st.Close()
	a := NewAggregator(siteCls{}, AggOptions{})
	for d := range 3 {
		for _, ev := range scenario() {
			ev.Time = ev.Time.Add(time.Duration(d*24+d) * time.Hour)
			a.Add(&ev)
		}
	}
	flush(t, a, st)
	for _, w := range []Window{{}, {From: t0.Add(20 * time.Hour), To: t0.Add(50 * time.Hour)}, {From: t0.Add(time.Hour)}} {
		series, err := st.AllHostSeries(ctx, w, Hourly)
		if err != nil {
			t.Fatal(err)
		}
		want := map[netip.Addr][]HourBytes{}
		for h, bs := range series {
			for _, b := range bs {
				want[h] = append(want[h], HourBytes{Hour: int32(b.Start.Unix() / 3600), Bytes: b.Bytes()})
			}
		}
		got, err := st.AllHostBytes(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 && w.From.IsZero() {
			t.Fatal("no host series: the scenario wrote nothing")
		}
		if d := cmp.Diff(want, got, addrEq); d != "" {
			t.Errorf("window %v: AllHostBytes differs from AllHostSeries (-series +bytes):\n%s", w, d)
		}
		for _, bs := range got {
			if bs[0].Start() != time.Unix(int64(bs[0].Hour)*3600, 0).UTC() {
				t.Errorf("Start of hour %d = %v", bs[0].Hour, bs[0].Start())
			}
		}
	}
}
