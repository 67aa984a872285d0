package stats

import (
	"net/netip"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

// Classifier tells the aggregator which addresses belong to the site and to which network
// segment. The site policy satisfies it through a small adapter. Implementations must be safe to
// call from the aggregator's goroutine and should not allocate: they run for every event.
type Classifier interface {
	// Internal reports whether a is a site address (any configured internal network).
	Internal(a netip.Addr) bool
	// Segment names the network a belongs to, or "" when it is in none.
	Segment(a netip.Addr) string
}

// PeerExemplars may be implemented by a Classifier to say which allowed traffic between an
// internal host and external peers is worth raw exemplar lines: keeping lines for every peer
// of every workstation costs a key per peer. When the classifier does not implement it, every
// new peer gets exemplars. Lines of connections of at least AggOptions.BigBytes are always kept.
type PeerExemplars interface {
	// PeerExemplars reports whether traffic of host in role on (proto, port) (the server's
	// port) is rare enough to keep lines for (an unusual port, a printer calling out...).
	PeerExemplars(host netip.Addr, role Role, proto uint8, port uint16) bool
}

// PairExemplars may be implemented by a Classifier to say which internal pairs across
// segments are worth raw exemplar lines (the ones a detector reports: not allowed by a flow,
// or touching the SAN). Without it every new pair gets exemplars.
type PairExemplars interface {
	PairExemplars(client, server netip.Addr, proto uint8, port uint16) bool
}

// AggOptions bounds and tunes an Aggregator. Zero values take the defaults shown.
type AggOptions struct {
	// MaxPendingKeys is the number of distinct pending keys (all families together) at which
	// Add starts returning true: the caller must Flush. At twice this number, new keys are
	// dropped (counted in Stats().DroppedKeys) until the next Flush. Default 200,000; at most
	// 1<<21 (address ids are packed into 22 bits).
	MaxPendingKeys int
	// MaxPortsPerSource caps the distinct (proto, port) deny keys per external source and hour;
	// further ports go to an overflow bucket (proto 0, port 0). Default 256.
	MaxPortsPerSource int
	// MaxPeersPerHost is how many (external peer, port) keys of an internal host keep their own
	// counters in an hour: the heaviest by bytes (Space-Saving: a new peer takes the place of
	// the lightest, whose pending counters join the overflow entry, peer "-"); any peer with
	// more than 1/MaxPeersPerHost of the host's bytes in the hour keeps its name.
	// MaxPortsPerHost caps distinct port keys per host and hour; the rest go to an overflow
	// bucket (proto 0, port 0). Defaults 512 and 256.
	MaxPeersPerHost int
	MaxPortsPerHost int
	// KeepPeersPerHour and KeepPortsPerHour are how many of an internal host's peers (by server
	// port) and ports are stored by name per hour, the heaviest (by bytes, then connections);
	// the rest are summed into the overflow entry. A day keeps twice as many. Defaults 32 and
	// 32. KeepTermsPerHour is the same for the terms of each significant-terms field (by
	// documents); default 2048.
	KeepPeersPerHour int
	KeepPortsPerHour int
	KeepTermsPerHour int
	// MaxTermsPerHour is how many terms per field and hour are counted by name: the heaviest by
	// documents (Space-Saving: a new term takes the place of the lightest, which loses its
	// pending documents); a term with more than 1/MaxTermsPerHour of the field's documents in
	// the hour is always counted. Default 8192.
	MaxTermsPerHour int
	// Exemplars is how many raw lines are kept per exemplar subject. Default 3.
	Exemplars int
	// MaxNames caps each table of names taken from log lines (users, ACLs, device/interface
	// pairs); later names share the name "_other". Default 4096.
	MaxNames int
	// MaxLateness is how far an event may be dated before the newest time its device has
	// shown and still count; older ones are late (Stats().Late) and not counted, so forged
	// back-dated lines cannot rewrite the history baselines are made of. Zero or negative
	// disables the check; the collector's pipeline sets 2h (see PipelineOptions).
	MaxLateness time.Duration
	// MaxHostsPerHour is how many distinct internal hosts get counters of their own per hour
	// (host, peers, ports); events of further hosts count in the site and interface totals
	// only (Stats().HostsCapped). Default 20,000.
	MaxHostsPerHour int
	// MaxLinkRate is the fastest a connection through the firewall can move, in bytes per
	// second: a teardown claiming more bytes than this times its duration (at least one
	// second, the log's resolution) is implausible. Default 1.25e9 (10 Gbit/s).
	MaxLinkRate uint64
	// BigBytes is the connection size from which a teardown's line is kept as an exemplar of
	// its (host, peer) whatever the classifier says. Default 10 MB.
	BigBytes uint64
	// Now is the clock for events that carry no timestamp; events more than a day ahead of it
	// (as of the last Take or Flush) are skipped. For a replay of old files any clock at or
	// after the data works. Default time.Now.
	Now func() time.Time
}

func (o *AggOptions) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxPendingKeys, 200_000)
	def(&o.MaxPortsPerSource, 256)
	def(&o.MaxPeersPerHost, 512)
	def(&o.MaxPortsPerHost, 256)
	def(&o.MaxTermsPerHour, 8192)
	def(&o.Exemplars, 3)
	def(&o.MaxNames, 4096)
	def(&o.KeepPeersPerHour, 32)
	def(&o.KeepPortsPerHour, 32)
	def(&o.KeepTermsPerHour, 2048)
	def(&o.MaxHostsPerHour, 20_000)
	if o.MaxLinkRate == 0 {
		o.MaxLinkRate = 1_250_000_000
	}
	if o.BigBytes == 0 {
		o.BigBytes = 10_000_000
	}
	if o.MaxPendingKeys > 1<<21 {
		o.MaxPendingKeys = 1 << 21 // address ids must fit 22 bits
	}
	if o.MaxNames > 1<<20 {
		o.MaxNames = 1 << 20 // user ids are packed into 24 bits
	}
	if o.Exemplars > 9 {
		o.Exemplars = 9
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// AggStats are the aggregator's own counters since it was created.
type AggStats struct {
	Events  uint64 // events passed to Add
	Skipped uint64 // events without a usable time, or more than a day ahead of the clock
	// Latest is the time of the newest event counted: a replay of old logs can use it as the
	// Store's clock (Options.Now), so that retention runs from the data, not from today.
	Latest        time.Time
	PendingKeys   int    // distinct keys waiting for the next Flush
	DroppedKeys   uint64 // new keys refused because the hard cap was reached
	ForcedFlushes uint64 // flushes that happened after Add reported the soft cap
	Flushes       uint64
	// EvictedPeers and EvictedTerms count keys that lost their own counters to a heavier
	// newcomer (Space-Saving over each host's peers and each field's terms per hour).
	EvictedPeers, EvictedTerms uint64
	// NamesOverflowed counts names (users, ACLs, interfaces) counted as "_other" because
	// their table was full; NameRenewals the times a full table was started afresh at a
	// flush, so that a flood of forged names hides later ones for one flush interval at most.
	NamesOverflowed, NameRenewals uint64
	// Late counts events dated more than AggOptions.MaxLateness before their device's newest
	// time: back-dated lines, kept out of every counter (the raw archive still has them).
	Late uint64
	// HostsCapped counts events of internal hosts past AggOptions.MaxHostsPerHour, counted in
	// the site totals only.
	HostsCapped uint64
	// Implausible counts teardowns whose bytes exceed what AggOptions.MaxLinkRate could carry
	// in their duration: counted here, their bytes kept out of every counter.
	Implausible uint64
}

// Role is the part an internal host played in a connection.
type Role uint8

const (
	RoleClient Role = 1 // the host initiated the connection
	RoleServer Role = 2 // the host accepted it
)

func (r Role) String() string {
	switch r {
	case RoleClient:
		return "client"
	case RoleServer:
		return "server"
	}
	return ""
}

// Field is a significant-terms field.
type Field uint8

const (
	FieldDestinationIP   Field = 1 // destination.ip: the address a connection went to
	FieldDestinationPort Field = 2 // destination.port: proto/port of the server side
	FieldSourceIP        Field = 3 // source.ip: the initiator
	FieldUserSource      Field = 4 // user.name + source.ip of VPN logins
)

var fieldKeys = [...]string{FieldDestinationIP: "dip", FieldDestinationPort: "dport", FieldSourceIP: "sip", FieldUserSource: "usrc"}
var fieldNames = [...]string{FieldDestinationIP: "destination.ip", FieldDestinationPort: "destination.port", FieldSourceIP: "source.ip", FieldUserSource: "user.source"}

// Fields lists every significant-terms field.
var Fields = []Field{FieldDestinationIP, FieldDestinationPort, FieldSourceIP, FieldUserSource}

// String returns the ECS-style name (destination.ip, ...).
func (f Field) String() string {
	if int(f) < len(fieldNames) && f > 0 {
		return fieldNames[f]
	}
	return "unknown"
}

// ParseField accepts an ECS-style name (destination.ip, destination.port, source.ip,
// user.source) or the key abbreviation (dip, dport, sip, usrc).
func ParseField(s string) (Field, bool) {
	for _, f := range Fields {
		if s == fieldNames[f] || s == fieldKeys[f] {
			return f, true
		}
	}
	return 0, false
}

// ExemplarKind says what an exemplar subject is.
type ExemplarKind uint8

const (
	ExemplarVPN  ExemplarKind = 1 // User + A (source address)
	ExemplarPair ExemplarKind = 2 // A (client) → B (server), internal hosts across segments
	ExemplarDNS  ExemplarKind = 3 // A (client) → B (resolver)
	ExemplarDeny ExemplarKind = 4 // A (external source denied)
	ExemplarPeer ExemplarKind = 5 // A (internal host) ↔ B (external peer), allowed traffic
)

var exemplarKeys = [...]string{ExemplarVPN: "vpn", ExemplarPair: "pair", ExemplarDNS: "dns", ExemplarDeny: "deny", ExemplarPeer: "peer"}

// counter values: fixed arrays so that one generic table type serves every family.
// counter values: fixed arrays so that one generic table type serves every family.
type cnt [8]uint64

// peerCnt and portCnt are the counters of a peer and a port entry: the largest tables need
// no room for a cnt.
type (
	peerCnt [nfPeer]uint64
	portCnt [nfPort]uint64
)

// Slots of each family's cnt (the first nf are persisted, in this order).
const (
	hEv, hConnsC, hConnsS, hBytesC, hBytesS, hDenies, hFirst, hLast = 0, 1, 2, 3, 4, 5, 6, 7
	pConnsC, pConnsS, pBytesC, pBytesS                              = 0, 1, 2, 3
	oConns, oBytes                                                  = 0, 1
	iInEv, iInBytes, iInDenies, iOutEv, iOutBytes                   = 0, 1, 2, 3, 4
	sEv, sDocs, sConns, sBytes, sDenies                             = 0, 1, 2, 3, 4
)

// span is a first/last-seen record with up to two counts.
type span struct {
	first, last int64
	n           [2]uint64
}

func (s *span) see(ts int64, i int, w uint64) {
	if s.first == 0 || ts < s.first {
		s.first = ts
	}
	if ts > s.last {
		s.last = ts
	}
	s.n[i] += w
}

// Pending keys hold addresses as ids into the aggregator's address table (id 0 is "no
// address") and are packed into uint32 or uint64 inside per-hour sets, so that every lookup on
// the hot path is a fast integer-keyed map access and no key holds a pointer.
//
// Packing (hour sets):
//
//	host  id
//	peer  host<<40 | peer<<18 | proto class<<16 | port   (pkPeerSvc)
//	port  host<<32 | port<<16 | proto<<8 | role<<1 | external
//	deny  src<<32 | port<<16 | proto<<8
//	dacl  src<<32 | acl
//	ifc   id
//	term  field<<56 | payload: dip, sip: addr; dport: proto<<16 | port; usrc: user<<32 | addr
func pkPeer(h, p uint32) uint64 { return uint64(h)<<32 | uint64(p) }

// Peer keys pack the host id (24 bits), the peer id (22 bits), a protocol class (2 bits) and
// the server port (16 bits) into one uint64: address ids stay below 1<<22 (see maxAddrs).
// Class 0 is TCP, 1 UDP; for 2 (ICMP) and 3 (other) the port field holds the protocol number.
func pkPeerSvc(h, p uint32, proto uint8, port uint16) uint64 {
	var cls uint64
	switch ciscolog.Proto(proto) {
	case ciscolog.ProtoTCP:
	case ciscolog.ProtoUDP:
		cls = 1
	case ciscolog.ProtoICMP, ciscolog.ProtoICMPv6:
		cls, port = 2, uint16(proto)
	default:
		cls, port = 3, uint16(proto)
	}
	return uint64(h)<<40 | uint64(p)<<18 | cls<<16 | uint64(port)
}

// unpackPeerSvc reverses pkPeerSvc.
func unpackPeerSvc(k uint64) (h, p uint32, proto uint8, port uint16) {
	h, p, port = uint32(k>>40), uint32(k>>18)&(1<<22-1), uint16(k)
	switch (k >> 16) & 3 {
	case 0:
		proto = uint8(ciscolog.ProtoTCP)
	case 1:
		proto = uint8(ciscolog.ProtoUDP)
	default:
		proto, port = uint8(port), 0
	}
	return h, p, proto, port
}

// maxAddrs bounds the address table: ids must fit the 22 bits of a peer key.
func (a *Aggregator) maxAddrs() int { return min(2*a.opts.MaxPendingKeys, 1<<22-1) }

func pkPort(h uint32, port uint16, proto, rs uint8) uint64 {
	return uint64(h)<<32 | uint64(port)<<16 | uint64(proto)<<8 | uint64(rs)
}
func pkDeny(src uint32, port uint16, proto uint8) uint64 {
	return uint64(src)<<32 | uint64(port)<<16 | uint64(proto)<<8
}
func pkTerm(f Field, payload uint64) uint64 { return uint64(f)<<56 | payload }

type vpnKey struct{ user, src uint32 }
type pairKey struct {
	c, s  uint32
	port  uint16
	proto uint8
	fam   ciscolog.Family
}
type dnsKey struct{ c, r uint32 }
type exKey struct {
	a, b uint32 // address ids
	u    uint32 // user id (ExemplarVPN)
	kind ExemplarKind
}

// table is a map from key to a slot in a slice, so that an update of an existing key is one
// map lookup and no allocation, and a reset keeps the memory.
type table[K comparable, V any] struct {
	idx  map[K]int32
	keys []K
	vals []V
}

func (t *table[K, V]) init() { t.idx = make(map[K]int32) }
func (t *table[K, V]) reset() {
	clear(t.idx)
	t.keys = t.keys[:0]
	clear(t.vals)
	t.vals = t.vals[:0]
}

// drop removes k from t (the last slot moves into its place).
func drop[K comparable, V any](a *Aggregator, t *table[K, V], k K) (V, bool) {
	var zero V
	i, ok := t.idx[k]
	if !ok {
		return zero, false
	}
	v := t.vals[i]
	last := int32(len(t.keys) - 1)
	if i != last {
		t.keys[i], t.vals[i] = t.keys[last], t.vals[last]
		t.idx[t.keys[i]] = i
	}
	delete(t.idx, k)
	t.keys, t.vals = t.keys[:last], t.vals[:last]
	a.cur.keys--
	return v, true
}

// fold moves the counters of key from into key to (created if needed) in t.
func fold[K comparable](a *Aggregator, t *table[K, peerCnt], from, to K) {
	v, ok := drop(a, t, from)
	if !ok {
		return
	}
	if d, _ := put(a, t, to); d != nil {
		for j := range v {
			d[j] += v[j]
		}
	}
}

// hourSet holds one hour's pending counters.
type hourSet struct {
	t    int32
	site cnt
	host table[uint32, cnt]
	peer table[uint64, peerCnt]
	port table[uint64, portCnt]
	deny table[uint64, cnt]
	dacl table[uint64, cnt]
	ifc  table[uint32, cnt]
	term table[uint64, cnt]
}

func newHourSet() *hourSet {
	h := &hourSet{}
	h.host.init()
	h.peer.init()
	h.port.init()
	h.deny.init()
	h.dacl.init()
	h.ifc.init()
	h.term.init()
	return h
}

func (h *hourSet) reset() {
	h.site = cnt{}
	h.host.reset()
	h.peer.reset()
	h.port.reset()
	h.deny.reset()
	h.dacl.reset()
	h.ifc.reset()
	h.term.reset()
}

// pendingSet is everything one Flush writes.
type pendingSet struct {
	hours map[int32]*hourSet
	last  *hourSet // the hour set used last (events mostly come in time order)
	free  []*hourSet
	vpn   table[vpnKey, span]
	pair  table[pairKey, span]
	dns   table[dnsKey, span]
	ex    []exLine
	keys  int
}

func newPendingSet() *pendingSet {
	p := &pendingSet{hours: make(map[int32]*hourSet)}
	p.vpn.init()
	p.pair.init()
	p.dns.init()
	return p
}

func (p *pendingSet) reset() {
	for _, h := range p.hours {
		h.reset()
		p.free = append(p.free, h)
	}
	clear(p.hours)
	p.last = nil
	p.vpn.reset()
	p.pair.reset()
	p.dns.reset()
	clear(p.ex)
	p.ex = p.ex[:0]
	p.keys = 0
}

// hourSetWeight is what an hour set counts against MaxPendingKeys: its site totals and the
// memory of its (empty) maps.
const hourSetWeight = 8

// hour returns the set of hour t, creating it.
func (a *Aggregator) hour(t int32) *hourSet {
	p := a.cur
	if p.last != nil && p.last.t == t {
		return p.last
	}
	h := p.hours[t]
	if h == nil {
		if n := len(p.free); n > 0 {
			h = p.free[n-1]
			p.free = p.free[:n-1]
		} else {
			h = newHourSet()
		}
		h.t = t
		p.hours[t] = h
		p.keys += hourSetWeight
	}
	p.last = h
	return h
}

// put returns the slot of k, creating it; it returns nil when the key is new and the
// aggregator refuses new keys. isNew reports a creation.
func put[K comparable, V any](a *Aggregator, t *table[K, V], k K) (v *V, isNew bool) {
	if i, ok := t.idx[k]; ok {
		return &t.vals[i], false
	}
	if a.cur.keys >= 2*a.opts.MaxPendingKeys {
		a.stats.DroppedKeys++
		return nil, false
	}
	a.cur.keys++
	i := int32(len(t.keys))
	t.idx[k] = i
	t.keys = append(t.keys, k)
	var zero V
	t.vals = append(t.vals, zero)
	return &t.vals[i], true
}

// names interns strings taken from log lines; id 0 is "_other" (the overflow name). The
// slice only grows, so a Batch can keep reading a prefix of it while Add appends.
type names[K comparable] struct {
	ids        map[K]uint32
	strs       []string
	max        int
	overflowed uint64
}

func (n *names[K]) init(max int) {
	n.ids = make(map[K]uint32)
	n.strs = []string{"_other"}
	n.max = max
}

// id returns the id of k; mk makes the stored key and name (copying any aliased string) and
// runs only the first time k is seen.
func (n *names[K]) id(k K, mk func() (K, string)) uint32 {
	if id, ok := n.ids[k]; ok {
		return id
	}
	if len(n.strs) > n.max {
		n.overflowed++
		return 0
	}
	kc, s := mk()
	id := uint32(len(n.strs))
	n.ids[kc] = id
	n.strs = append(n.strs, s)
	return id
}

type ifcName struct {
	dev    string
	sender netip.Addr
	iface  string
}

// addrInfo is what the aggregator knows of an address: its classification is computed once.
type addrInfo struct {
	addr     netip.Addr
	internal bool
	seg      uint32 // segment name id
}

type exLine struct {
	key exKey
	ts  int64
	raw string
}

// hourCaps bound the distinct keys per subject in one hour. They are kept across flushes
// while the hour is recent. Deny ports and host ports are capped by count (the rest share an
// overflow key); a host's peers and each field's terms are kept by weight (Space-Saving: the
// heaviest keep their own counters, a new key takes the place of the lightest), so that many
// small forged keys cannot push a heavy one out.
type hourCaps struct {
	deny, port map[uint32]uint32
	peer       map[uint32]*spaceSaving // by host: peer keys by bytes+1
	term       [5]*spaceSaving         // by field: terms by documents
}

// Aggregator accumulates counters from events in memory until Flush (or Take and
// Batch.Write) stores them.
//
// Concurrency: an Aggregator is owned by one goroutine: Add, Flush and Take must not run
// concurrently. A Batch from Take is independent and may be written from another goroutine
// while Add continues.
//
// Memory is bounded by AggOptions: pending keys, addresses, names, exemplar bookkeeping.
//
// What is counted (the package doc has the full list):
//   - documents (the unit of significant terms and of "connections"): one per Built (302013,
//     302015, 302020...), Permit or Deny/Drop message, weighted by ev.Count (106100 hit-cnt,
//     IOS "N packets"), and one per login or VPN session start (VPN sources come from session
//     starts only: 722022, 722051, 716001);
//   - bytes: only Teardown messages carry them; ASA gives one total for both directions, so
//     bytes are split by the internal host's role (initiated or accepted), not by direction;
//   - events: every event that names the host, for last seen.
type Aggregator struct {
	cls  Classifier
	opts AggOptions

	cur     *pendingSet
	recycle chan *pendingSet // sets returned by Batch.Release

	addr4 map[uint32]uint32
	addr6 map[[16]byte]uint32
	addrs []addrInfo // id → info; id 0 is the invalid address

	caps        map[int32]*hourCaps
	hostsByHour map[int32]*hostSet // hosts with counters, per recent hour
	hostsLast   *hostSet           // hostsByHour[hostsT], the hour of the last event
	hostsT      int32
	clocks      map[devClock]int64 // newest event time per device (late)
	capLast     *hourCaps
	capT        int32
	maxHour     int32
	horizon     int32 // the last hour accepted: a day after opts.Now at the last Take
	latest      int64 // unix time of the newest event

	exState map[exKey]uint8 // lines known (pending or stored) per subject; bounded
	rare    map[uint64]bool // PeerExemplars answers by port key (pkPort); bounded
	peerEx  PeerExemplars   // nil: every new peer gets exemplars
	pairEx  PairExemplars   // nil: every new pair gets exemplars

	users  names[string]
	acls   names[string]
	ifcs   names[ifcName]
	segs   names[string]
	ifcMRU [8]struct {
		dev, iface string
		sender     netip.Addr
		id         uint32
	}

	lastACL   string // interned copy of the last ACL name, and its id
	lastACLID uint32

	wantFlush bool
	stats     AggStats
}

// NewAggregator returns an empty aggregator that classifies addresses with cls.
func NewAggregator(cls Classifier, opts AggOptions) *Aggregator {
	opts.defaults()
	a := &Aggregator{cls: cls, opts: opts, cur: newPendingSet(), recycle: make(chan *pendingSet, 1),
		hostsByHour: make(map[int32]*hostSet), clocks: make(map[devClock]int64)}
	a.peerEx, _ = cls.(PeerExemplars)
	a.pairEx, _ = cls.(PairExemplars)
	a.setHorizon()
	a.resetAddrs()
	a.users.init(opts.MaxNames)
	a.acls.init(opts.MaxNames)
	a.ifcs.init(opts.MaxNames)
	a.segs.init(opts.MaxNames)
	return a
}

func (a *Aggregator) setHorizon() { a.horizon = int32(a.opts.Now().Unix()/3600) + 24 }

// SetClassifier replaces the classifier (after a policy reload); addresses are classified
// again from the next event. Pending counters keep their old classification.
func (a *Aggregator) SetClassifier(cls Classifier) {
	a.cls = cls
	a.peerEx, _ = cls.(PeerExemplars)
	a.pairEx, _ = cls.(PairExemplars)
	a.resetAddrs()
}

// late reports whether an event is dated more than MaxLateness before the newest time its
// device (the sending address, or the header's host name for files) has shown: a back-dated
// line, which could otherwise rewrite the history baselines are made of. The device's clock
// advances with its events, but never past the aggregator's clock plus five minutes, so a
// forged line dated in the future cannot make the real ones late.
func (a *Aggregator) late(ev *ciscolog.Event, ts int64) bool {
	if a.opts.MaxLateness <= 0 {
		return false
	}
	k := devClock{sender: ev.Sender}
	if !k.sender.IsValid() {
		k.host = ev.Host
	}
	c, ok := a.clocks[k]
	if ts < c-int64(a.opts.MaxLateness/time.Second) {
		return true
	}
	if ts > c {
		if !ok {
			if len(a.clocks) >= 4096 {
				clear(a.clocks) // bounded: forged host names cannot grow it
			}
			k.host = strings.Clone(k.host)
		}
		a.clocks[k] = min(ts, a.opts.Now().Unix()+300)
	}
	return false
}

type devClock struct {
	host   string
	sender netip.Addr
}

// plausibleBytes reports whether bytes fit what the link can carry in d (rounded up to the
// log's one-second resolution).
func (a *Aggregator) plausibleBytes(bytes uint64, d time.Duration) bool {
	secs := uint64((d + time.Second - 1) / time.Second)
	return bytes/max(secs, 1) <= a.opts.MaxLinkRate
}

// renewNames starts afresh each table of names from log lines that is full, after a Take
// (the batch keeps its own view of the old names): forged names then hide later ones until
// the next flush only, not until restart. What is keyed by name ids goes too.
func (a *Aggregator) renewNames() {
	renewed := false
	if len(a.users.strs) > a.users.max {
		a.users.init(a.users.max)
		renewed = true
		clear(a.exState) // VPN exemplar subjects name user ids
	}
	if len(a.acls.strs) > a.acls.max {
		a.acls.init(a.acls.max)
		a.lastACL, a.lastACLID = "", 0
		renewed = true
	}
	if len(a.ifcs.strs) > a.ifcs.max {
		a.ifcs.init(a.ifcs.max)
		a.ifcMRU = [len(a.ifcMRU)]struct {
			dev, iface string
			sender     netip.Addr
			id         uint32
		}{}
		renewed = true
	}
	if renewed {
		a.stats.NameRenewals++
	}
}

// resetAddrs forgets the address table and everything keyed by address ids. Pending keys and
// batches keep their own copy of the table.
func (a *Aggregator) resetAddrs() {
	a.addr4 = make(map[uint32]uint32)
	a.addr6 = make(map[[16]byte]uint32)
	a.addrs = []addrInfo{{}}
	a.caps = make(map[int32]*hourCaps)
	a.capLast = nil
	a.exState = make(map[exKey]uint8)
	a.rare = make(map[uint64]bool)
}

// Stats returns the aggregator's counters.
func (a *Aggregator) Stats() AggStats {
	s := a.stats
	s.NamesOverflowed = a.users.overflowed + a.acls.overflowed + a.ifcs.overflowed
	s.PendingKeys = a.cur.keys
	if a.latest > 0 {
		s.Latest = time.Unix(a.latest, 0).UTC()
	}
	return s
}

// Pending is the number of distinct keys waiting for Flush.
func (a *Aggregator) Pending() int { return a.cur.keys }

// addr returns the id and classification of x (id 0 for an invalid address).
func (a *Aggregator) addr(x netip.Addr) (uint32, *addrInfo) {
	if !x.IsValid() {
		return 0, &a.addrs[0]
	}
	x = x.Unmap()
	var k4 uint32
	var k6 [16]byte
	if x.Is4() {
		k4 = addr4Bits(x)
		if id, ok := a.addr4[k4]; ok {
			return id, &a.addrs[id]
		}
	} else {
		k6 = x.As16()
		if id, ok := a.addr6[k6]; ok {
			return id, &a.addrs[id]
		}
	}
	if len(a.addrs) >= a.maxAddrs() {
		a.stats.DroppedKeys++
		return 0, &a.addrs[0]
	}
	info := addrInfo{addr: x.WithZone(""), internal: a.cls.Internal(x)}
	if info.internal {
		seg := a.cls.Segment(x)
		info.seg = a.segs.id(seg, func() (string, string) { s := strings.Clone(seg); return s, s })
	}
	id := uint32(len(a.addrs))
	if x.Is4() {
		a.addr4[k4] = id
	} else {
		a.addr6[k6] = id
	}
	a.addrs = append(a.addrs, info)
	return id, &a.addrs[id]
}

func (a *Aggregator) hourCaps(t int32) *hourCaps {
	if a.capLast != nil && a.capT == t {
		return a.capLast
	}
	c := a.caps[t]
	if c == nil {
		c = &hourCaps{deny: make(map[uint32]uint32), peer: make(map[uint32]*spaceSaving), port: make(map[uint32]uint32)}
		a.caps[t] = c
	}
	a.capLast, a.capT = c, t
	return c
}

// under counts one more distinct key for subject in m and reports whether it is within max.
func (a *Aggregator) under(m map[uint32]uint32, subject uint32, max int) bool {
	c := m[subject]
	if int(c) >= max {
		return false
	}
	m[subject] = c + 1
	return true
}

func isDNS(p ciscolog.Proto, port uint16) bool {
	return port == 53 && (p == ciscolog.ProtoTCP || p == ciscolog.ProtoUDP)
}

// Add counts one event. It does not keep ev or its strings (raw lines kept as exemplars are
// copied). It returns true when the pending keys reached AggOptions.MaxPendingKeys: the caller
// should Flush soon (new keys are dropped at twice that number).
func (a *Aggregator) Add(ev *ciscolog.Event) bool {
	a.stats.Events++
	t := ev.Time
	if t.IsZero() {
		t = a.opts.Now()
	}
	ts := t.Unix()
	if ts <= 0 {
		a.stats.Skipped++
		return a.wantFlush
	}
	hour := int32(ts / 3600)
	if hour > a.horizon {
		// A device clock (or a forged header) more than a day ahead: Write would refuse the
		// bucket anyway, and it must not steer the per-hour caps.
		a.stats.Skipped++
		return a.wantFlush
	}
	if a.late(ev, ts) {
		a.stats.Late++
		return a.wantFlush
	}
	if hour > a.maxHour {
		a.maxHour = hour
	}
	if ts > a.latest {
		a.latest = ts
	}
	hs := a.hour(hour)

	client, server := ev.Initiating()
	if ev.Initiator == ciscolog.SideUnknown && ev.Action == ciscolog.ActionTeardown &&
		client.Port != 0 && server.Port != 0 && client.Port < server.Port {
		// Teardowns do not say who initiated; the well-known (lower) port is the server's.
		client, server = server, client
	}
	ios := ev.Family == ciscolog.FamilyIOS
	if ios {
		// IOS access-list logs record packets, not connections: a reply from a service
		// port to an ephemeral one names the responder first (see PacketInitiator).
		client, server, _ = PacketInitiator(client, server, uint8(ev.Proto))
	}
	cid, ci := a.addr(client.Addr)
	sid, si := a.addr(server.Addr)
	cIn, sIn := ci.internal, si.internal

	var w uint64 = 1
	if ev.Count > 1 {
		w = uint64(ev.Count)
	}
	var allowed, denied, teardown, login bool
	switch ev.Action {
	case ciscolog.ActionBuilt, ciscolog.ActionPermit:
		// A router's permit of traffic with the outside is not the site allowing it: the
		// ASA decides (and logs) that; only internal pairs are the router's to allow.
		allowed = cid != 0 && sid != 0 && !(ios && ci.internal != si.internal)
	case ciscolog.ActionDeny, ciscolog.ActionDrop:
		denied = cid != 0
	case ciscolog.ActionTeardown:
		teardown = cid != 0 && sid != 0
	case ciscolog.ActionLogin, ciscolog.ActionSessionStart:
		login = ev.Src.Addr.IsValid()
	}
	doc := allowed || denied
	var bytes uint64
	if teardown {
		bytes = ev.Bytes
		if !a.plausibleBytes(bytes, ev.Duration) {
			// More than the link could carry in the connection's time: a forged line (or
			// a counter bug). Counted, and kept out of every byte counter, so it can
			// neither make a peer the heaviest nor raise a baseline.
			a.stats.Implausible++
			bytes = 0
		}
	}
	proto := uint8(ev.Proto)
	port := server.Port
	if ev.Proto == ciscolog.ProtoICMP || ev.Proto == ciscolog.ProtoICMPv6 {
		port = 0
	}

	// Site totals.
	s := &hs.site
	s[sEv]++
	if (doc && !ios) || login {
		s[sDocs] += w // the significant-terms document total, as counted below
	}
	if allowed {
		s[sConns] += w
	}
	if denied {
		s[sDenies] += w
	}
	s[sBytes] += bytes

	// Per internal host.
	flow := allowed || teardown
	if cIn && a.hostAdmitted(hs.t, cid) {
		a.addHost(hs, cid, ts, RoleClient, allowed, denied, flow, w, bytes, !sIn, sid, proto, port, ev)
	}
	if sIn && sid != cid && a.hostAdmitted(hs.t, sid) {
		a.addHost(hs, sid, ts, RoleServer, allowed, denied, flow, w, bytes, !cIn, cid, proto, port, ev)
	}

	// Denies per external source.
	if denied && !cIn {
		dk := pkDeny(cid, port, proto)
		if _, ok := hs.deny.idx[dk]; !ok && !a.under(a.hourCaps(hour).deny, cid, a.opts.MaxPortsPerSource) {
			dk = pkDeny(cid, 0, 0)
		}
		if v, isNew := put(a, &hs.deny, dk); v != nil {
			v[0] += w
			if isNew {
				a.exemplar(exKey{kind: ExemplarDeny, a: cid}, ts, ev)
			}
		}
		if ev.ACL != "" {
			if ev.ACL != a.lastACL {
				id := a.acls.id(ev.ACL, func() (string, string) { s := strings.Clone(ev.ACL); return s, s })
				a.lastACL, a.lastACLID = a.acls.strs[id], id
			}
			acl := a.lastACLID
			if v, _ := put(a, &hs.dacl, pkPeer(cid, acl)); v != nil {
				v[0] += w
			}
		}
	}

	// Interfaces (ingress = the source's, egress = the destination's).
	if ev.Src.Iface != "" {
		if v, _ := put(a, &hs.ifc, a.ifcID(ev, ev.Src.Iface)); v != nil {
			v[iInEv]++
			v[iInBytes] += bytes
			if denied {
				v[iInDenies] += w
			}
		}
	}
	if ev.Dst.Iface != "" {
		if v, _ := put(a, &hs.ifc, a.ifcID(ev, ev.Dst.Iface)); v != nil {
			v[iOutEv]++
			v[iOutBytes] += bytes
		}
	}

	// Internal pairs across segments.
	if doc && cIn && sIn && ci.seg != si.seg {
		if v, isNew := put(a, &a.cur.pair, pairKey{c: cid, s: sid, port: port, proto: proto, fam: ev.Family}); v != nil {
			i := 0
			if denied {
				i = 1
			}
			v.see(ts, i, w)
			if isNew && (a.pairEx == nil || a.pairEx.PairExemplars(client.Addr, server.Addr, proto, port)) {
				a.exemplar(exKey{kind: ExemplarPair, a: cid, b: sid}, ts, ev)
			}
		}
	}

	// DNS resolvers.
	if doc && cIn && isDNS(ev.Proto, server.Port) {
		if v, isNew := put(a, &a.cur.dns, dnsKey{cid, sid}); v != nil {
			v.see(ts, 0, w)
			if isNew {
				a.exemplar(exKey{kind: ExemplarDNS, a: cid, b: sid}, ts, ev)
			}
		}
	}

	// Significant-terms documents: connections and denies of the ASA; router packet logs
	// would outnumber and dilute them.
	if doc && !ios {
		a.addTerm(hs, FieldDestinationIP, uint64(sid), w)
		a.addTerm(hs, FieldDestinationPort, uint64(proto)<<16|uint64(port), w)
		a.addTerm(hs, FieldSourceIP, uint64(cid), w)
	}

	// VPN logins.
	if login {
		user := ev.User
		if user == "" {
			user = ev.Src.User
		}
		src, _ := a.addr(ev.Src.Addr)
		a.addTerm(hs, FieldSourceIP, uint64(src), w)
		if user != "" && src != 0 {
			uid := a.users.id(user, func() (string, string) { s := strings.Clone(user); return s, s })
			// VPN sessions only (722022, 722051, 716001); device logins (605005) are documents
			// but not VPN sources.
			if ev.Action == ciscolog.ActionSessionStart {
				if v, isNew := put(a, &a.cur.vpn, vpnKey{uid, src}); v != nil {
					v.see(ts, 0, 1)
					if isNew {
						a.exemplar(exKey{kind: ExemplarVPN, u: uid, a: src}, ts, ev)
					}
				}
			}
			a.addTerm(hs, FieldUserSource, uint64(uid)<<32|uint64(src), w)
		}
	}

	if !a.wantFlush && (a.cur.keys >= a.opts.MaxPendingKeys || len(a.addrs) >= a.opts.MaxPendingKeys) {
		a.wantFlush = true
	}
	return a.wantFlush
}

// hostAdmitted reports whether internal host h may have counters of its own in hour t: the
// first MaxHostsPerHour distinct hosts of each hour do (by address, so the bound holds across
// address-table resets); later ones count only in the site and interface totals, and in
// Stats().HostsCapped. Lines naming a flood of forged internal hosts then cost bounded keys.
func (a *Aggregator) hostAdmitted(t int32, h uint32) bool {
	set := a.hostsLast
	if set == nil || a.hostsT != t {
		if set = a.hostsByHour[t]; set == nil {
			set = &hostSet{v4: make(map[uint32]struct{})}
			a.hostsByHour[t] = set
		}
		a.hostsLast, a.hostsT = set, t
	}
	x := a.addrs[h].addr
	if set.has(x) {
		return true
	}
	if set.n >= a.opts.MaxHostsPerHour {
		a.stats.HostsCapped++
		return false
	}
	set.add(x)
	return true
}

// hostSet is a set of addresses; IPv4 ones are kept by their 32 bits (hashed several times
// cheaper than an Addr).
type hostSet struct {
	v4    map[uint32]struct{}
	other map[netip.Addr]struct{}
	n     int
}

func (s *hostSet) has(a netip.Addr) bool {
	if a.Is4() {
		_, ok := s.v4[addr4Bits(a)]
		return ok
	}
	_, ok := s.other[a]
	return ok
}

func (s *hostSet) add(a netip.Addr) {
	s.n++
	if a.Is4() {
		s.v4[addr4Bits(a)] = struct{}{}
		return
	}
	if s.other == nil {
		s.other = make(map[netip.Addr]struct{})
	}
	s.other[a] = struct{}{}
}

// addr4Bits is an IPv4 address as a uint32 (the aggregator's and the host sets' map keys).
func addr4Bits(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func (a *Aggregator) addHost(hs *hourSet, h uint32, ts int64, role Role, allowed, denied, flow bool,
	w, bytes uint64, peerExt bool, peer uint32, proto uint8, port uint16, ev *ciscolog.Event) {
	if v, _ := put(a, &hs.host, h); v != nil {
		v[hEv]++
		if v[hFirst] == 0 || uint64(ts) < v[hFirst] {
			v[hFirst] = uint64(ts)
		}
		if uint64(ts) > v[hLast] {
			v[hLast] = uint64(ts)
		}
		if denied {
			v[hDenies] += w
		}
		if role == RoleClient {
			if allowed {
				v[hConnsC] += w
			}
			v[hBytesC] += bytes
		} else {
			if allowed {
				v[hConnsS] += w
			}
			v[hBytesS] += bytes
		}
	}
	if !flow {
		return
	}
	var conns uint64
	if allowed {
		conns = w
	}
	rs := uint8(role) << 1
	if peerExt && peer != 0 {
		rs |= 1
		pk := pkPeerSvc(h, peer, proto, port)
		caps := a.hourCaps(hs.t)
		ss := caps.peer[h]
		if ss == nil {
			ss = newSpaceSaving(a.opts.MaxPeersPerHost)
			caps.peer[h] = ss
		}
		if old, evicted := ss.add(pk, bytes+1); evicted {
			// The lightest peer loses its own counters: what it has pending joins the
			// host's overflow entry (what was flushed stays under its name).
			a.stats.EvictedPeers++
			fold(a, &hs.peer, old, pkPeerSvc(h, 0, 0, 0))
		}
		if v, isNew := put(a, &hs.peer, pk); v != nil {
			if role == RoleClient {
				v[pConnsC] += conns
				v[pBytesC] += bytes
			} else {
				v[pConnsS] += conns
				v[pBytesS] += bytes
			}
			if (isNew || bytes >= a.opts.BigBytes) && (pk>>18)&(1<<22-1) != 0 &&
				(bytes >= a.opts.BigBytes || a.rarePeer(h, role, proto, port, rs)) {
				a.exemplar(exKey{kind: ExemplarPeer, a: h, b: peer}, ts, ev)
			}
		}
	}
	ok := pkPort(h, port, proto, rs)
	if _, found := hs.port.idx[ok]; !found && !a.under(a.hourCaps(hs.t).port, h, a.opts.MaxPortsPerHost) {
		ok = pkPort(h, 0, 0, rs)
	}
	if v, _ := put(a, &hs.port, ok); v != nil {
		v[oConns] += conns
		v[oBytes] += bytes
	}
}

// rarePeer asks the classifier (once per host, role and port) whether the traffic deserves
// exemplar lines.
func (a *Aggregator) rarePeer(h uint32, role Role, proto uint8, port uint16, rs uint8) bool {
	if a.peerEx == nil {
		return true
	}
	k := pkPort(h, port, proto, rs)
	r, ok := a.rare[k]
	if !ok {
		if len(a.rare) >= 1<<16 {
			clear(a.rare)
		}
		r = a.peerEx.PeerExemplars(a.addrs[h].addr, role, proto, port)
		a.rare[k] = r
	}
	return r
}

func (a *Aggregator) addTerm(hs *hourSet, f Field, payload uint64, w uint64) {
	if f != FieldDestinationPort && uint32(payload) == 0 {
		return
	}
	k := pkTerm(f, payload)
	c := a.hourCaps(hs.t)
	if c.term[f] == nil {
		c.term[f] = newSpaceSaving(a.opts.MaxTermsPerHour)
	}
	if old, evicted := c.term[f].add(k, w); evicted {
		// The lightest term loses its pending documents (there is no overflow term); those
		// already flushed stay.
		a.stats.EvictedTerms++
		drop(a, &hs.term, old)
	}
	if v, ok := hs.term.idx[k]; ok {
		hs.term.vals[v][0] += w
		return
	}
	if p, _ := put(a, &hs.term, k); p != nil {
		p[0] += w
	}
}

// ifcID returns the id of the event's device and interface; a few recent ones are compared
// directly, which is cheaper than hashing two strings.
func (a *Aggregator) ifcID(ev *ciscolog.Event, iface string) uint32 {
	var sender netip.Addr
	if ev.Host == "" {
		sender = ev.Sender
	}
	for i := range a.ifcMRU {
		m := &a.ifcMRU[i]
		if m.id != 0 && m.iface == iface && m.dev == ev.Host && m.sender == sender {
			return m.id
		}
	}
	k := ifcName{dev: ev.Host, sender: sender, iface: iface}
	id := a.ifcs.id(k, func() (ifcName, string) {
		kc := ifcName{dev: strings.Clone(k.dev), sender: k.sender, iface: strings.Clone(k.iface)}
		dev := kc.dev
		if dev == "" {
			dev = kc.sender.String()
		}
		return kc, dev + "\x00" + kc.iface
	})
	if id != 0 {
		// Keep the interned copy (it outlives the frame) in the recent list, oldest out.
		name := a.ifcs.strs[id]
		j := strings.IndexByte(name, 0)
		copy(a.ifcMRU[1:], a.ifcMRU[:len(a.ifcMRU)-1])
		m := &a.ifcMRU[0]
		m.dev, m.iface, m.sender, m.id = "", name[j+1:], sender, id
		if ev.Host != "" {
			m.dev = name[:j]
		}
	}
	return id
}

// exemplar keeps a copy of the raw line if fewer than opts.Exemplars lines are known for k.
// It is called when k's counter key is new in this flush interval, so a subject's lines come
// from its first sightings in different intervals or hours.
func (a *Aggregator) exemplar(k exKey, ts int64, ev *ciscolog.Event) {
	n := a.exState[k]
	if int(n) >= a.opts.Exemplars || ev.Raw == "" || a.cur.keys >= 2*a.opts.MaxPendingKeys {
		return
	}
	if len(a.exState) >= 4*a.opts.MaxPendingKeys {
		clear(a.exState) // bounded: forget which subjects are complete; Write rechecks the db
	}
	a.exState[k] = n + 1
	a.cur.keys++
	a.cur.ex = append(a.cur.ex, exLine{key: k, ts: ts, raw: strings.Clone(ev.Raw)})
}
