package stats

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// siteCls: 10.0.0.0/8 is internal; the second octet names the segment.
type siteCls struct{}

func (siteCls) Internal(a netip.Addr) bool { return a.Is4() && a.As4()[0] == 10 }
func (siteCls) Segment(a netip.Addr) string {
	if !a.Is4() || a.As4()[0] != 10 {
		return ""
	}
	switch a.As4()[1] {
	case 1:
		return "servers"
	case 2:
		return "bldg-a"
	case 3:
		return "bldg-b"
	case 9:
		return "san"
	}
	return ""
}

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC) // a Monday, on the hour

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func openStore(t testing.TB, dir string, now time.Time) *Store {
	t.Helper()
	st, err := Open(context.Background(), dir, Options{Now: fixedNow(now), Command: "stats.test"})
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	return st
}

func ep(addr string, port uint16, iface string) ciscolog.Endpoint {
	return ciscolog.Endpoint{Addr: ip(addr), Port: port, Iface: iface}
}

// built: client opened a TCP connection to server (ASA 302013 as an event).
func built(at time.Time, client, server ciscolog.Endpoint) ciscolog.Event {
	return ciscolog.Event{Kind: ciscolog.KindTyped, Time: at, Host: "asa1", Family: ciscolog.FamilyASA, MsgID: 302013,
		Action: ciscolog.ActionBuilt, Proto: ciscolog.ProtoTCP, HasProto: true, Src: client, Dst: server,
		Initiator: ciscolog.SideSrc, Count: 1, Raw: "built " + client.Addr.String() + " " + server.Addr.String()}
}

// teardown: bytes of a connection; the initiator is not logged.
func teardown(at time.Time, client, server ciscolog.Endpoint, bytes uint64) ciscolog.Event {
	return ciscolog.Event{Kind: ciscolog.KindTyped, Time: at, Host: "asa1", Family: ciscolog.FamilyASA, MsgID: 302014,
		Action: ciscolog.ActionTeardown, Proto: ciscolog.ProtoTCP, HasProto: true, Src: server, Dst: client,
		Bytes: bytes, Count: 1, Raw: "teardown"}
}

func deny(at time.Time, src, dst ciscolog.Endpoint, proto ciscolog.Proto, count uint32) ciscolog.Event {
	return ciscolog.Event{Kind: ciscolog.KindTyped, Time: at, Host: "asa1", Family: ciscolog.FamilyASA, MsgID: 106023,
		Action: ciscolog.ActionDeny, Proto: proto, HasProto: true, Src: src, Dst: dst, ACL: "outside_access_in",
		Count: count, Raw: "deny " + src.Addr.String() + " " + dst.Addr.String()}
}

func iosACL(at time.Time, src, dst ciscolog.Endpoint, permit bool, packets uint32) ciscolog.Event {
	act := ciscolog.ActionDeny
	if permit {
		act = ciscolog.ActionPermit
	}
	return ciscolog.Event{Kind: ciscolog.KindTyped, Time: at, Host: "r2921", Family: ciscolog.FamilyIOS, Facility: "SEC",
		Mnemonic: "IPACCESSLOGP", Action: act, Proto: ciscolog.ProtoTCP, HasProto: true, Src: src, Dst: dst, ACL: "BLDG",
		Count: packets, Raw: "ios " + src.Addr.String() + " " + dst.Addr.String()}
}

func vpnLogin(at time.Time, user, src string) ciscolog.Event {
	return ciscolog.Event{Kind: ciscolog.KindTyped, Time: at, Host: "asa1", Family: ciscolog.FamilyASA, MsgID: 722051,
		Action: ciscolog.ActionSessionStart, User: user, Src: ciscolog.Endpoint{Addr: ip(src)}, Count: 1,
		Raw: "vpn " + user + " " + src}
}

func flush(t testing.TB, a *Aggregator, st *Store) FlushStats {
	t.Helper()
	fs, err := a.Flush(context.Background(), st)
	if err != nil {
		t.Fatalf("Flush = %v", err)
	}
	return fs
}

func keysWithPrefix(t testing.TB, st *Store, p string) []string {
	t.Helper()
	var out []string
	if err := st.scanPrefix(context.Background(), p, func(k, v string) bool {
		out = append(out, k+"="+v)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func joinLines(s []string) string { return strings.Join(s, "\n") }

var addrEq = cmpopts.EquateComparable(netip.Addr{})
