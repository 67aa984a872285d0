package stats

import (
	"cmp"
	"context"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

// Resolution selects hourly or daily buckets.
type Resolution uint8

const (
	Hourly Resolution = iota
	Daily
)

func (r Resolution) daily() bool { return r == Daily }

func (r Resolution) seconds() int64 {
	if r == Daily {
		return 86400
	}
	return 3600
}

// Window is the half-open time range [From, To). Buckets are included when they start inside
// it, after From is rounded down and To up to a bucket boundary. A zero From means "from the
// oldest data", a zero To "to the newest".
type Window struct {
	From, To time.Time
}

// Last returns the window of the d before now.
func Last(now time.Time, d time.Duration) Window { return Window{From: now.Add(-d), To: now} }

func (w Window) buckets(r Resolution) (lo, hi int64) {
	sec := r.seconds()
	lo, hi = 0, math.MaxInt32
	if !w.From.IsZero() {
		lo = max(0, w.From.Unix()/sec)
	}
	if !w.To.IsZero() {
		u := w.To.Unix()
		hi = u / sec
		if u%sec != 0 {
			hi++
		}
	}
	return lo, hi
}

func bucketStart(b int64, r Resolution) time.Time { return time.Unix(b*r.seconds(), 0).UTC() }

// HostCounters are one host's counters over a bucket or a window. Bytes are connection totals
// (ASA teardowns give both directions as one number), split by the host's role.
type HostCounters struct {
	Events         uint64 // events naming the host
	ConnsInitiated uint64 // allowed connections the host opened (weighted documents)
	ConnsAccepted  uint64 // allowed connections to the host
	BytesInitiated uint64 // bytes of connections the host opened
	BytesAccepted  uint64 // bytes of connections to the host
	Denies         uint64 // denied documents with the host on either side
}

func (c *HostCounters) set(v []uint64) {
	c.Events, c.ConnsInitiated, c.ConnsAccepted = v[0], v[1], v[2]
	c.BytesInitiated, c.BytesAccepted, c.Denies = v[3], v[4], v[5]
}

// Bytes is the host's total bytes.
func (c HostCounters) Bytes() uint64 { return c.BytesInitiated + c.BytesAccepted }

// HostBucket is one host's counters in one bucket.
type HostBucket struct {
	Start time.Time
	HostCounters
}

// SiteBucket is the site's totals in one bucket (each connection counted once).
type SiteBucket struct {
	Start  time.Time
	Events uint64
	Docs   uint64 // significant-terms documents (connections, denies, VPN logins), weighted
	Conns  uint64
	Bytes  uint64
	Denies uint64
}

// PeerCount is the traffic between an internal host and an external peer over a window. Peer is
// the invalid address for the overflow bucket (peers beyond the per-host cap).
type PeerCount struct {
	Host, Peer     netip.Addr
	ConnsInitiated uint64
	ConnsAccepted  uint64
	BytesInitiated uint64
	BytesAccepted  uint64
}

// Bytes is the total of both roles.
func (p PeerCount) Bytes() uint64 { return p.BytesInitiated + p.BytesAccepted }

// PortCount is an internal host's allowed traffic on one server port over a window. For
// RoleClient the port is the remote server's; for RoleServer it is the host's own.
// Proto 0 and Port 0 mark the overflow bucket.
type PortCount struct {
	Host     netip.Addr
	Role     Role
	External bool // the other side was outside the site
	Proto    uint8
	Port     uint16
	Conns    uint64
	Bytes    uint64
}

// DeniedPort is one destination port of an external source's denies.
type DeniedPort struct {
	Proto uint8
	Port  uint16
	Count uint64
}

// DenySource summarises the denies of one external source over a window.
type DenySource struct {
	Src   netip.Addr
	Count uint64
	// Ports holds every denied (proto, port), most denied first; Proto and Port 0 is the
	// overflow bucket of the per-source cap.
	Ports []DeniedPort
	// MaxPortsInBucket is the largest number of distinct ports in one bucket (a scan shows as
	// many ports in one hour).
	MaxPortsInBucket int
	First, Last      time.Time // start of the first and last bucket with denies
}

// ACLCount is the denies of one source logged against one ACL.
type ACLCount struct {
	Src   netip.Addr
	ACL   string
	Count uint64
}

// IfaceCount is the traffic seen on one device interface over a window.
type IfaceCount struct {
	Device, Iface       string
	InEvents, InBytes   uint64 // events with this as the source interface
	InDenies            uint64
	OutEvents, OutBytes uint64 // events with this as the destination interface
}

// Term is one value of a significant-terms field: Addr for destination.ip and source.ip, Proto
// and Port for destination.port, User and Addr for user.source.
type Term struct {
	User  string
	Addr  netip.Addr
	Proto uint8
	Port  uint16
}

// String renders the term as the CLI shows it: an address, "443/tcp", or "alice@192.0.2.7".
func (t Term) String() string {
	switch {
	case t.User != "":
		return t.User + "@" + t.Addr.String()
	case t.Addr.IsValid():
		return t.Addr.String()
	}
	return strconv.Itoa(int(t.Port)) + "/" + ProtoName(t.Proto)
}

// ProtoName names an IP protocol number (tcp, udp, icmp, ...) or returns the number.
func ProtoName(p uint8) string {
	switch ciscolog.Proto(p) {
	case ciscolog.ProtoTCP:
		return "tcp"
	case ciscolog.ProtoUDP:
		return "udp"
	case ciscolog.ProtoICMP:
		return "icmp"
	case ciscolog.ProtoICMPv6:
		return "icmp6"
	case ciscolog.ProtoGRE:
		return "gre"
	case ciscolog.ProtoESP:
		return "esp"
	}
	return strconv.Itoa(int(p))
}

// TermCount is the number of documents holding one term.
type TermCount struct {
	Term  Term
	Count uint64
}

// TermCounts are the document counts of one field over a window: Docs is the number of
// documents in the window (ss or bs), Terms the documents holding each term (sf or bf), most
// frequent first.
type TermCounts struct {
	Field Field
	Docs  uint64
	Terms []TermCount
}

// Map returns the counts by term, for joining a foreground with its background.
func (tc TermCounts) Map() map[Term]uint64 {
	m := make(map[Term]uint64, len(tc.Terms))
	for _, t := range tc.Terms {
		m[t.Term] = t.Count
	}
	return m
}

// VPNSource is a source address a VPN user logged in from.
type VPNSource struct {
	User        string
	Src         netip.Addr
	First, Last time.Time
	Count       uint64
}

// Pair is traffic between two internal hosts in different segments (or one in none), as seen
// by one device family (IOS ACL logs from the routers, or the ASA).
type Pair struct {
	Client, Server netip.Addr
	Proto          uint8
	Port           uint16
	Family         ciscolog.Family
	First, Last    time.Time
	Permitted      uint64
	Denied         uint64
}

// Resolver is a DNS server an internal host sent queries to (UDP or TCP port 53).
type Resolver struct {
	Client, Resolver netip.Addr
	First, Last      time.Time
	Count            uint64
}

// HostSeen is an internal host's first and last event.
type HostSeen struct {
	Host        netip.Addr
	First, Last time.Time
}

// ExemplarKey names the subject of exemplar lines (see ExemplarKind for which fields apply).
type ExemplarKey struct {
	Kind ExemplarKind
	User string
	A, B netip.Addr
}

// prefixEnd is the smallest string greater than every string starting with p.
func prefixEnd(p string) string { return p[:len(p)-1] + string(p[len(p)-1]+1) }

func (s *Store) view(ctx context.Context, fn func(tx kvTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Queries see every flush: host days held in memory are written first (held.go).
	if err := s.writeOutHeld(); err != nil {
		return err
	}
	return s.viewTx(fn)
}

// scanPrefix iterates keys starting with p, in order. fn returns false to stop.
func (s *Store) scanPrefix(ctx context.Context, p string, fn func(key, val string) bool) error {
	if p == "" {
		return s.view(ctx, func(tx kvTx) error { return tx.Ascend("", fn) })
	}
	return s.scanRange(ctx, p, prefixEnd(p), fn)
}

func (s *Store) scanRange(ctx context.Context, ge, lt string, fn func(key, val string) bool) error {
	return s.view(ctx, func(tx kvTx) error {
		return tx.AscendRange("", ge, lt, fn)
	})
}

// addrCache parses keys' address fields, reusing the last result (keys come sorted, so the
// same host repeats).
type addrCache struct {
	s string
	a netip.Addr
}

func (c *addrCache) parse(s string) netip.Addr {
	if s != c.s {
		c.s, c.a = strings.Clone(s), parseAddr(s)
	}
	return c.a
}

func hostPrefix(pfx string, r Resolution, host netip.Addr) string {
	b := famPrefix(nil, pfx, r.daily())
	if host.IsValid() {
		b = appendAddr(b, host)
		b = append(b, sep)
	}
	return string(b)
}

// hostRange returns the key range of one host's buckets [lo, hi), or of the whole family.
func hostRange(pfx string, r Resolution, host netip.Addr, lo, hi int64) (string, string) {
	p := hostPrefix(pfx, r, host)
	if !host.IsValid() {
		return p, prefixEnd(p)
	}
	b := appendBucket([]byte(p), int32(lo), r.daily())
	e := appendBucket([]byte(p), int32(min(hi, math.MaxInt32)), r.daily())
	return string(b), string(e)
}

// HostSeries returns host's buckets in w, oldest first; hours without traffic are absent.
func (s *Store) HostSeries(ctx context.Context, host netip.Addr, w Window, r Resolution) ([]HostBucket, error) {
	var out []HostBucket
	err := s.hostSeries(ctx, host, w, r, func(_ netip.Addr, b HostBucket) { out = append(out, b) })
	return out, err
}

// AllHostSeries returns every internal host's buckets in w, oldest first per host.
func (s *Store) AllHostSeries(ctx context.Context, w Window, r Resolution) (map[netip.Addr][]HostBucket, error) {
	var runs hostRuns[HostBucket]
	err := s.hostSeries(ctx, netip.Addr{}, w, r, runs.add)
	return runs.done(), err
}

// HourBytes is one hour of a host's traffic: the bytes of its connections, both roles.
type HourBytes struct {
	Hour  int32 // unix seconds / 3600
	Bytes uint64
}

// Start is when the hour begins.
func (h HourBytes) Start() time.Time { return time.Unix(int64(h.Hour)*3600, 0).UTC() }

// AllHostBytes returns every internal host's bytes per hour in w, oldest first per host: the
// hours AllHostSeries(w, Hourly) returns, with only their bytes (a volume baseline reads weeks
// of every host's hours; a HostBucket is 72 bytes, an HourBytes 16).
func (s *Store) AllHostBytes(ctx context.Context, w Window) (map[netip.Addr][]HourBytes, error) {
	var runs hostRuns[HourBytes]
	err := s.scanHostDaysWith(ctx, hostCodec, netip.Addr{}, w, Hourly, decodeCounters, func(h netip.Addr, b int64, sl *hostSlot) {
		if sl.c == ([nfHost]uint64{}) {
			return // as hostSeries
		}
		var c HostCounters
		c.set(sl.c[:])
		runs.add(h, HourBytes{Hour: int32(b), Bytes: c.Bytes()})
	})
	return runs.done(), err
}

// hostRuns collects values that come sorted by host into a slice per host. Keys come sorted
// by host, so a host's values are a run: the runs are cut from chunks of seriesChunk values (a
// slice per host grown from nothing allocated twice as much).
type hostRuns[T any] struct {
	out   map[netip.Addr][]T
	cur   netip.Addr
	chunk []T
	start int
}

func (r *hostRuns[T]) add(h netip.Addr, v T) {
	if r.out == nil {
		r.out = make(map[netip.Addr][]T)
	}
	if h != r.cur {
		r.finish()
		r.cur, r.start = h, len(r.chunk)
	}
	if len(r.chunk) == cap(r.chunk) { // the run so far moves to a new chunk
		n := make([]T, len(r.chunk)-r.start, max(seriesChunk, 2*(len(r.chunk)-r.start)))
		copy(n, r.chunk[r.start:])
		r.chunk, r.start = n, 0
	}
	r.chunk = append(r.chunk, v)
}

func (r *hostRuns[T]) finish() {
	if len(r.chunk) == r.start {
		return
	}
	run := r.chunk[r.start:len(r.chunk):len(r.chunk)]
	if prev, ok := r.out[r.cur]; ok { // not a run after all: keep both
		run = append(prev[:len(prev):len(prev)], run...)
	}
	r.out[r.cur] = run
}

// done returns the runs (an empty map when there were none).
func (r *hostRuns[T]) done() map[netip.Addr][]T {
	r.finish()
	if r.out == nil {
		r.out = make(map[netip.Addr][]T)
	}
	return r.out
}

const seriesChunk = 4096

func (s *Store) hostSeries(ctx context.Context, host netip.Addr, w Window, r Resolution, fn func(netip.Addr, HostBucket)) error {
	return s.scanHostDaysWith(ctx, hostCodec, host, w, r, decodeCounters, func(h netip.Addr, b int64, sl *hostSlot) {
		c := sl.c
		if c == ([nfHost]uint64{}) {
			return // a slot with only peers or ports (the host's counters were refused at a cap)
		}
		hb := HostBucket{Start: bucketStart(b, r)}
		hb.set(c[:])
		fn(h, hb)
	})
}

// SiteSeries returns the site totals per bucket in w, oldest first.
func (s *Store) SiteSeries(ctx context.Context, w Window, r Resolution) ([]SiteBucket, error) {
	lo, hi := w.buckets(r)
	p := string(famPrefix(nil, pfxSite, r.daily()))
	ge := string(appendBucket([]byte(p), int32(lo), r.daily()))
	lt := string(appendBucket([]byte(p), int32(min(hi, math.MaxInt32)), r.daily()))
	var out []SiteBucket
	var v [nfSite]uint64
	err := s.scanRange(ctx, ge, lt, func(key, val string) bool {
		b := atoi64(key[len(p):])
		clear(v[:])
		parseVals(val, v[:])
		out = append(out, SiteBucket{Start: bucketStart(b, r), Events: v[0], Docs: v[1], Conns: v[2], Bytes: v[3], Denies: v[4]})
		return true
	})
	return out, err
}

// PeerPortCount is PeerCount for one server port: for connections the host initiated, the
// peer's port; for connections it accepted, its own.
type PeerPortCount struct {
	PeerCount
	Proto uint8
	Port  uint16
}

// PeerPorts returns the traffic between host (every internal host when host is the zero Addr)
// and its external peers per server port over w, most bytes first.
func (s *Store) PeerPorts(ctx context.Context, host netip.Addr, w Window, r Resolution) ([]PeerPortCount, error) {
	type pk struct {
		h, p  netip.Addr
		proto uint8
		port  uint16
	}
	acc := make(map[pk]*PeerPortCount)
	err := s.scanHostDays(ctx, hostCodec, host, w, r, func(h netip.Addr, _ int64, sl *hostSlot) {
		for i := range sl.peers {
			e := &sl.peers[i]
			k := pk{h, e.addr, e.proto, e.port}
			p := acc[k]
			if p == nil {
				p = &PeerPortCount{PeerCount: PeerCount{Host: k.h, Peer: k.p}, Proto: k.proto, Port: k.port}
				acc[k] = p
			}
			p.ConnsInitiated += e.v[0]
			p.ConnsAccepted += e.v[1]
			p.BytesInitiated += e.v[2]
			p.BytesAccepted += e.v[3]
		}
	})
	out := make([]PeerPortCount, 0, len(acc))
	for _, p := range acc {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b PeerPortCount) int {
		if c := comparePeers(a.PeerCount, b.PeerCount); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
	})
	return out, err
}

// comparePeers orders most bytes first, then most connections, then by address; it compares
// only as far as it must (a day's peer ports are tens of thousands of entries to sort).
func comparePeers(a, b PeerCount) int {
	if c := cmp.Compare(b.Bytes(), a.Bytes()); c != 0 {
		return c
	}
	if c := cmp.Compare(b.ConnsInitiated+b.ConnsAccepted, a.ConnsInitiated+a.ConnsAccepted); c != 0 {
		return c
	}
	if c := a.Host.Compare(b.Host); c != 0 {
		return c
	}
	return a.Peer.Compare(b.Peer)
}

// Peers returns the external peers of host (of every internal host when host is the zero
// Addr) over w, all ports together, most bytes first.
func (s *Store) Peers(ctx context.Context, host netip.Addr, w Window, r Resolution) ([]PeerCount, error) {
	pp, err := s.PeerPorts(ctx, host, w, r)
	type pk struct{ h, p netip.Addr }
	acc := make(map[pk]*PeerCount)
	for _, x := range pp {
		k := pk{x.Host, x.Peer}
		p := acc[k]
		if p == nil {
			p = &PeerCount{Host: x.Host, Peer: x.Peer}
			acc[k] = p
		}
		p.ConnsInitiated += x.ConnsInitiated
		p.ConnsAccepted += x.ConnsAccepted
		p.BytesInitiated += x.BytesInitiated
		p.BytesAccepted += x.BytesAccepted
	}
	out := make([]PeerCount, 0, len(acc))
	for _, p := range acc {
		out = append(out, *p)
	}
	slices.SortFunc(out, comparePeers)
	return out, err
}

func parseProtoPort(p, q string) (uint8, uint16) {
	a, _ := strconv.ParseUint(p, 10, 8)
	b, _ := strconv.ParseUint(q, 10, 16)
	return uint8(a), uint16(b)
}

// Ports returns the ports host used (every internal host when host is the zero Addr) over w,
// most connections first.
func (s *Store) Ports(ctx context.Context, host netip.Addr, w Window, r Resolution) ([]PortCount, error) {
	type pk struct {
		h     netip.Addr
		role  Role
		ext   bool
		proto uint8
		port  uint16
	}
	acc := make(map[pk]*PortCount)
	err := s.scanHostDays(ctx, hostCodec, host, w, r, func(h netip.Addr, _ int64, sl *hostSlot) {
		for i := range sl.ports {
			e := &sl.ports[i]
			role, ext := Role(e.rs>>1), e.rs&1 == 1
			if role != RoleClient && role != RoleServer {
				continue
			}
			k := pk{h, role, ext, e.proto, e.port}
			p := acc[k]
			if p == nil {
				p = &PortCount{Host: h, Role: role, External: ext, Proto: e.proto, Port: e.port}
				acc[k] = p
			}
			p.Conns += e.v[0]
			p.Bytes += e.v[1]
		}
	})
	out := make([]PortCount, 0, len(acc))
	for _, p := range acc {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b PortCount) int {
		return cmp.Or(cmp.Compare(b.Conns, a.Conns), cmp.Compare(b.Bytes, a.Bytes), a.Host.Compare(b.Host),
			cmp.Compare(a.Role, b.Role), cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
	})
	return out, err
}

// Denies returns the denies of src (of every external source when src is the zero Addr) over
// w, most denied first.
func (s *Store) Denies(ctx context.Context, src netip.Addr, w Window, r Resolution) ([]DenySource, error) {
	type bk struct {
		src netip.Addr
		b   int64
	}
	acc := make(map[netip.Addr]*DenySource)
	perPort := make(map[netip.Addr]map[[2]uint32]uint64)
	perBucket := make(map[bk]int)
	err := s.scanHostDays(ctx, denyCodec, src, w, r, func(a netip.Addr, b int64, sl *hostSlot) {
		if len(sl.peers) == 0 {
			return
		}
		d := acc[a]
		if d == nil {
			d = &DenySource{Src: a, First: bucketStart(b, r), Last: bucketStart(b, r)}
			acc[a] = d
			perPort[a] = make(map[[2]uint32]uint64)
		}
		if t := bucketStart(b, r); t.Before(d.First) {
			d.First = t
		} else if t.After(d.Last) {
			d.Last = t
		}
		for _, e := range sl.peers {
			d.Count += e.v[0]
			perPort[a][[2]uint32{uint32(e.proto), uint32(e.port)}] += e.v[0]
		}
		perBucket[bk{a, b}] += len(sl.peers)
	})
	for k, n := range perBucket {
		if d := acc[k.src]; n > d.MaxPortsInBucket {
			d.MaxPortsInBucket = n
		}
	}
	out := make([]DenySource, 0, len(acc))
	for a, d := range acc {
		for pp, n := range perPort[a] {
			d.Ports = append(d.Ports, DeniedPort{Proto: uint8(pp[0]), Port: uint16(pp[1]), Count: n})
		}
		slices.SortFunc(d.Ports, func(x, y DeniedPort) int {
			return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Proto, y.Proto), cmp.Compare(x.Port, y.Port))
		})
		out = append(out, *d)
	}
	slices.SortFunc(out, func(x, y DenySource) int { return cmp.Or(cmp.Compare(y.Count, x.Count), x.Src.Compare(y.Src)) })
	return out, err
}

// DenyACLs returns the denies of src (every source when zero) per ACL over w, most first.
func (s *Store) DenyACLs(ctx context.Context, src netip.Addr, w Window, r Resolution) ([]ACLCount, error) {
	type ak struct {
		src netip.Addr
		acl string
	}
	acc := make(map[ak]uint64)
	err := s.scanHostDays(ctx, denyCodec, src, w, r, func(a netip.Addr, _ int64, sl *hostSlot) {
		for _, e := range sl.ports {
			acc[ak{a, strings.Clone(e.user)}] += e.v[0]
		}
	})
	out := make([]ACLCount, 0, len(acc))
	for k, n := range acc {
		out = append(out, ACLCount{Src: k.src, ACL: k.acl, Count: n})
	}
	slices.SortFunc(out, func(x, y ACLCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), x.Src.Compare(y.Src), strings.Compare(x.ACL, y.ACL))
	})
	return out, err
}

// Interfaces returns the traffic per device interface over w.
func (s *Store) Interfaces(ctx context.Context, w Window, r Resolution) ([]IfaceCount, error) {
	lo, hi := w.buckets(r)
	p := string(famPrefix(nil, pfxIfc, r.daily()))
	acc := make(map[[2]string]*IfaceCount)
	var parts [6]string
	var v [nfIfc]uint64
	err := s.scanPrefix(ctx, p, func(key, val string) bool {
		f := splitKey(key, parts[:0]) // ifc|h|dev|iface|bucket
		if len(f) != 5 {
			return true
		}
		if b := atoi64(f[4]); b < lo || b >= hi {
			return true
		}
		clear(v[:])
		parseVals(val, v[:])
		k := [2]string{unesc(f[2]), unesc(f[3])}
		c := acc[k]
		if c == nil {
			c = &IfaceCount{Device: k[0], Iface: k[1]}
			acc[k] = c
		}
		c.InEvents += v[0]
		c.InBytes += v[1]
		c.InDenies += v[2]
		c.OutEvents += v[3]
		c.OutBytes += v[4]
		return true
	})
	out := make([]IfaceCount, 0, len(acc))
	for _, c := range acc {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(x, y IfaceCount) int {
		return cmp.Or(strings.Compare(x.Device, y.Device), strings.Compare(x.Iface, y.Iface))
	})
	return out, err
}

// Terms returns the document counts of field over w: with Hourly buckets and the last 24 hours
// this is the significant-terms foreground (sf per term, ss as Docs); with Daily buckets and a
// zero Window it is the background over all retained days (bf, bs).
func (s *Store) Terms(ctx context.Context, field Field, w Window, r Resolution) (TermCounts, error) {
	tc := TermCounts{Field: field}
	counts := make(map[Term]uint64)
	if field < 1 || int(field) >= len(fieldKeys) {
		return tc, nil
	}
	site, err := s.SiteSeries(ctx, w, r)
	if err != nil {
		return tc, err
	}
	for _, b := range site {
		tc.Docs += b.Docs
	}
	lo, hi := w.buckets(r)
	p := string(famPrefix(nil, pfxTerm, r.daily())) + fieldKeys[field] + string(sep)
	ge := string(appendBucket([]byte(p), int32(lo), r.daily()))
	lt := string(appendBucket([]byte(p), int32(min(hi, math.MaxInt32)), r.daily()))
	var parts [8]string
	var es []pentry
	users := make(map[string]string)
	err = s.scanRange(ctx, ge, lt, func(key, val string) bool {
		f := splitKey(key, parts[:0]) // term|r|field|bucket|shard
		if len(f) != 5 {
			return true
		}
		var derr error
		if es, derr = decodePacked(val, nfTerm, es[:0]); derr != nil {
			return true
		}
		for i := range es {
			e := &es[i]
			var t Term
			switch field {
			case FieldDestinationPort:
				if e.proto == 0 && e.port == 0 {
					continue // the overflow entry
				}
				t.Proto, t.Port = e.proto, e.port
			case FieldUserSource:
				if e.user == "" || !e.addr.IsValid() {
					continue
				}
				u, ok := users[e.user]
				if !ok {
					u = strings.Clone(e.user)
					users[u] = u
				}
				t.User, t.Addr = u, e.addr
			default:
				if !e.addr.IsValid() {
					continue
				}
				t.Addr = e.addr
			}
			counts[t] += e.v[0]
		}
		return true
	})
	tc.Terms = make([]TermCount, 0, len(counts))
	for t, n := range counts {
		tc.Terms = append(tc.Terms, TermCount{t, n})
	}
	slices.SortFunc(tc.Terms, func(a, b TermCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Term.User, b.Term.User), a.Term.Addr.Compare(b.Term.Addr),
			cmp.Compare(a.Term.Proto, b.Term.Proto), cmp.Compare(a.Term.Port, b.Term.Port))
	})
	return tc, err
}

// BackgroundTerms is Terms over every retained daily bucket.
func (s *Store) BackgroundTerms(ctx context.Context, field Field) (TermCounts, error) {
	return s.Terms(ctx, field, Window{}, Daily)
}

func parseSpan(val string, n int) (first, last time.Time, c [2]uint64) {
	var v [4]uint64
	parseVals(val, v[:2+n])
	return unixTime(int64(v[0])), unixTime(int64(v[1])), [2]uint64{v[2], v[3]}
}

// VPNSources returns the source addresses of user's VPN logins (every user's when user is "").
func (s *Store) VPNSources(ctx context.Context, user string) ([]VPNSource, error) {
	p := pfxVPN + string(sep)
	if user != "" {
		p = string(appendEsc([]byte(p), user)) + string(sep)
	}
	var out []VPNSource
	var parts [4]string
	err := s.scanPrefix(ctx, p, func(key, val string) bool {
		f := splitKey(key, parts[:0])
		if len(f) != 3 {
			return true
		}
		first, last, c := parseSpan(val, 1)
		out = append(out, VPNSource{User: unesc(f[1]), Src: parseAddr(f[2]), First: first, Last: last, Count: c[0]})
		return true
	})
	return out, err
}

// Pairs returns the internal pairs across segments last seen at or after since (all when zero).
func (s *Store) Pairs(ctx context.Context, since time.Time) ([]Pair, error) {
	var out []Pair
	var parts [8]string
	var client addrCache // keys come sorted by client
	p := pfxPair + string(sep)
	err := s.view(ctx, func(tx kvTx) error {
		// Tens of thousands of pairs: count them first, so the result is allocated once.
		n := 0
		_ = tx.AscendRange("", p, prefixEnd(p), func(string, string) bool { n++; return true })
		out = make([]Pair, 0, n)
		return tx.AscendRange("", p, prefixEnd(p), func(key, val string) bool {
			f := splitKey(key, parts[:0]) // pair|client|server|proto|port|fam
			if len(f) != 6 {
				return true
			}
			first, last, c := parseSpan(val, 2)
			if last.Before(since) {
				return true
			}
			proto, port := parseProtoPort(f[3], f[4])
			fam := ciscolog.FamilyUnknown
			switch f[5] {
			case "asa":
				fam = ciscolog.FamilyASA
			case "ios":
				fam = ciscolog.FamilyIOS
			}
			out = append(out, Pair{Client: client.parse(f[1]), Server: parseAddr(f[2]), Proto: proto, Port: port, Family: fam,
				First: first, Last: last, Permitted: c[0], Denied: c[1]})
			return true
		})
	})
	return out, err
}

// Resolvers returns the DNS servers host used (of every host when host is the zero Addr).
func (s *Store) Resolvers(ctx context.Context, host netip.Addr) ([]Resolver, error) {
	p := pfxDNS + string(sep)
	if host.IsValid() {
		p = string(appendAddr([]byte(p), host)) + string(sep)
	}
	var out []Resolver
	var parts [4]string
	err := s.scanPrefix(ctx, p, func(key, val string) bool {
		f := splitKey(key, parts[:0])
		if len(f) != 3 {
			return true
		}
		first, last, c := parseSpan(val, 1)
		out = append(out, Resolver{Client: parseAddr(f[1]), Resolver: parseAddr(f[2]), First: first, Last: last, Count: c[0]})
		return true
	})
	return out, err
}

// Hosts returns every internal host seen within the retention, with its first and last event.
func (s *Store) Hosts(ctx context.Context) ([]HostSeen, error) {
	var out []HostSeen
	p := pfxSeen + string(sep)
	err := s.scanPrefix(ctx, p, func(key, val string) bool {
		first, last, _ := parseSpan(val, 0)
		out = append(out, HostSeen{Host: parseAddr(key[len(p):]), First: first, Last: last})
		return true
	})
	slices.SortFunc(out, func(a, b HostSeen) int { return a.Host.Compare(b.Host) })
	return out, err
}

// Exemplars returns the raw lines kept for k, oldest first.
func (s *Store) Exemplars(ctx context.Context, k ExemplarKey) ([]string, error) {
	if k.Kind < 1 || int(k.Kind) >= len(exemplarKeys) {
		return nil, nil
	}
	b := append([]byte(pfxEx), sep)
	b = append(b, exemplarKeys[k.Kind]...)
	b = append(b, sep)
	if k.Kind == ExemplarVPN {
		b = appendEsc(b, k.User)
		b = append(b, sep)
	}
	b = appendAddr(b, k.A)
	if k.B.IsValid() {
		b = append(b, sep)
		b = appendAddr(b, k.B)
	}
	b = append(b, sep)
	var out []string
	err := s.scanPrefix(ctx, string(b), func(_, val string) bool {
		out = append(out, exemplarLine(val))
		return true
	})
	return out, err
}
