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

// AggOptions bounds and tunes an Aggregator. Zero values take the defaults shown.
type AggOptions struct {
	// MaxPendingKeys is the number of distinct pending keys (all families together) at which
	// Add starts returning true: the caller must Flush. At twice this number, new keys are
	// dropped (counted in Stats().DroppedKeys) until the next Flush. Default 200,000.
	MaxPendingKeys int
	// MaxPortsPerSource caps the distinct (proto, port) deny keys per external source and hour;
	// further ports go to an overflow bucket (proto 0, port 0). Default 256.
	MaxPortsPerSource int
	// MaxPeersPerHost caps distinct external peers per internal host and hour, and
	// MaxPortsPerHost distinct port keys per host and hour; the rest go to an overflow bucket
	// (peer "-", port 0). Defaults 512 and 256.
	MaxPeersPerHost int
	MaxPortsPerHost int
	// MaxTermsPerHour caps distinct terms per field and hour; further terms are not counted
	// (documents still are). Default 8192.
	MaxTermsPerHour int
	// Exemplars is how many raw lines are kept per exemplar subject. Default 3.
	Exemplars int
	// MaxNames caps each table of names taken from log lines (users, ACLs, device/interface
	// pairs); later names share the name "_other". Default 4096.
	MaxNames int
	// Now is the clock for events that carry no timestamp. Default time.Now.
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
	if o.Exemplars > 9 {
		o.Exemplars = 9
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// AggStats are the aggregator's own counters since it was created.
type AggStats struct {
	Events        uint64 // events passed to Add
	Skipped       uint64 // events without a usable time
	PendingKeys   int    // distinct keys waiting for the next Flush
	DroppedKeys   uint64 // new keys refused because the hard cap was reached
	ForcedFlushes uint64 // flushes that happened after Add reported the soft cap
	Flushes       uint64
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
type cnt [8]uint64

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

type hostKey struct {
	t    int32
	host netip.Addr
}
type peerKey struct {
	t          int32
	host, peer netip.Addr
}
type portKey struct {
	t     int32
	role  Role
	ext   bool
	proto uint8
	port  uint16
	host  netip.Addr
}
type denyKey struct {
	t     int32
	proto uint8
	port  uint16
	src   netip.Addr
}
type daclKey struct {
	t   int32
	acl uint32
	src netip.Addr
}
type ifcKey struct {
	t   int32
	ifc uint32
}
type siteKey struct{ t int32 }
type termKey struct {
	t     int32
	field Field
	proto uint8
	port  uint16
	user  uint32
	addr  netip.Addr
}

func (k hostKey) bucket() int32              { return k.t }
func (k hostKey) withBucket(t int32) hostKey { k.t = t; return k }
func (k peerKey) bucket() int32              { return k.t }
func (k peerKey) withBucket(t int32) peerKey { k.t = t; return k }
func (k portKey) bucket() int32              { return k.t }
func (k portKey) withBucket(t int32) portKey { k.t = t; return k }
func (k denyKey) bucket() int32              { return k.t }
func (k denyKey) withBucket(t int32) denyKey { k.t = t; return k }
func (k daclKey) bucket() int32              { return k.t }
func (k daclKey) withBucket(t int32) daclKey { k.t = t; return k }
func (k ifcKey) bucket() int32               { return k.t }
func (k ifcKey) withBucket(t int32) ifcKey   { k.t = t; return k }
func (k siteKey) bucket() int32              { return k.t }
func (k siteKey) withBucket(t int32) siteKey { k.t = t; return k }
func (k termKey) bucket() int32              { return k.t }
func (k termKey) withBucket(t int32) termKey { k.t = t; return k }

type vpnKey struct {
	user uint32
	src  netip.Addr
}
type pairKey struct {
	proto          uint8
	fam            ciscolog.Family
	port           uint16
	client, server netip.Addr
}
type dnsKey struct{ client, resolver netip.Addr }
type exKey struct {
	kind ExemplarKind
	user uint32
	a, b netip.Addr
}

// capKey counts distinct keys per subject and hour for the per-subject caps.
type capKey struct {
	t    int32
	kind uint8 // capDeny, capPeer, capPort, capTerm+field
	a    netip.Addr
}

const (
	capDeny uint8 = iota + 1
	capPeer
	capPort
	capTerm // + Field
)

// table is a map from key to a slot in a slice, so that an update of an existing key is one
// map lookup and no allocation, and Flush reuses the memory.
type table[K comparable, V any] struct {
	idx  map[K]int32
	keys []K
	vals []V
}

func (t *table[K, V]) init()    { t.idx = make(map[K]int32) }
func (t *table[K, V]) len() int { return len(t.keys) }
func (t *table[K, V]) reset() {
	clear(t.idx)
	t.keys = t.keys[:0]
	clear(t.vals)
	t.vals = t.vals[:0]
}

// put returns the slot of k, creating it; it returns nil when the key is new and the
// aggregator refuses new keys.
func put[K comparable, V any](a *Aggregator, t *table[K, V], k K) *V {
	if i, ok := t.idx[k]; ok {
		return &t.vals[i]
	}
	if a.pending >= 2*a.opts.MaxPendingKeys {
		a.stats.DroppedKeys++
		return nil
	}
	a.pending++
	i := int32(len(t.keys))
	t.idx[k] = i
	t.keys = append(t.keys, k)
	var zero V
	t.vals = append(t.vals, zero)
	return &t.vals[i]
}

// names interns strings taken from log lines; id 0 is "_other" (the overflow name).
type names[K comparable] struct {
	ids  map[K]uint32
	strs []string
	max  int
}

func (n *names[K]) init(max int) {
	n.ids = make(map[K]uint32)
	n.strs = []string{"_other"}
	n.max = max
}

// id returns the id of k; mk makes the stored name (copying any aliased string) and runs only
// the first time k is seen.
func (n *names[K]) id(k K, mk func() (K, string)) uint32 {
	if id, ok := n.ids[k]; ok {
		return id
	}
	if len(n.strs) > n.max {
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

type exLine struct {
	key exKey
	ts  int64
	raw string
}

// Aggregator accumulates counters from events in memory until Flush writes them to a Store.
//
// Concurrency: an Aggregator is owned by one goroutine; Add and Flush must not be called
// concurrently (run Flush from the goroutine that calls Add, e.g. on a ticker select).
// Memory is bounded by AggOptions: the pending keys, the names, the exemplar bookkeeping.
//
// What is counted (see the package doc for the full list):
//   - documents (the unit of significant terms and of "connections"): one per Built (302013,
//     302015, 302020...), Permit or Deny/Drop message, weighted by ev.Count (106100 hit-cnt,
//     IOS "N packets"), and one per VPN login/session start;
//   - bytes: only Teardown messages carry them. ASA gives one total for both directions, so bytes
//     are split by the role of the internal host (initiated vs accepted), not by direction;
//   - events: every event that names the host, for last-seen.
type Aggregator struct {
	cls  Classifier
	opts AggOptions

	host table[hostKey, cnt]
	peer table[peerKey, cnt]
	port table[portKey, cnt]
	deny table[denyKey, cnt]
	dacl table[daclKey, cnt]
	ifc  table[ifcKey, cnt]
	site table[siteKey, cnt]
	term table[termKey, cnt]
	vpn  table[vpnKey, span]
	pair table[pairKey, span]
	dns  table[dnsKey, span]

	caps    map[capKey]uint32 // per-subject distinct counts; kept across flushes for recent hours
	maxHour int32

	exState map[exKey]uint8 // lines known (pending or stored) per subject; bounded
	exLines []exLine

	users names[string]
	acls  names[string]
	ifcs  names[ifcName]

	pending   int
	wantFlush bool
	stats     AggStats
}

// NewAggregator returns an empty aggregator that classifies addresses with cls.
func NewAggregator(cls Classifier, opts AggOptions) *Aggregator {
	opts.defaults()
	a := &Aggregator{cls: cls, opts: opts}
	a.host.init()
	a.peer.init()
	a.port.init()
	a.deny.init()
	a.dacl.init()
	a.ifc.init()
	a.site.init()
	a.term.init()
	a.vpn.init()
	a.pair.init()
	a.dns.init()
	a.caps = make(map[capKey]uint32)
	a.exState = make(map[exKey]uint8)
	a.users.init(opts.MaxNames)
	a.acls.init(opts.MaxNames)
	a.ifcs.init(opts.MaxNames)
	return a
}

// Stats returns the aggregator's counters.
func (a *Aggregator) Stats() AggStats {
	s := a.stats
	s.PendingKeys = a.pending
	return s
}

// Pending is the number of distinct keys waiting for Flush.
func (a *Aggregator) Pending() int { return a.pending }

func (a *Aggregator) under(k capKey, max int) bool {
	c, ok := a.caps[k]
	if !ok && a.pending >= 2*a.opts.MaxPendingKeys {
		return false
	}
	if int(c) >= max {
		return false
	}
	a.caps[k] = c + 1
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
	if hour > a.maxHour {
		a.maxHour = hour
	}

	client, server := ev.Initiating()
	if ev.Initiator == ciscolog.SideUnknown && ev.Action == ciscolog.ActionTeardown &&
		client.Port != 0 && server.Port != 0 && client.Port < server.Port {
		// Teardowns do not say who initiated; the well-known (lower) port is the server's.
		client, server = server, client
	}
	c, s := client.Addr.Unmap(), server.Addr.Unmap()
	cIn := c.IsValid() && a.cls.Internal(c)
	sIn := s.IsValid() && a.cls.Internal(s)

	var w uint64 = 1
	if ev.Count > 1 {
		w = uint64(ev.Count)
	}
	var allowed, denied, teardown, login bool
	switch ev.Action {
	case ciscolog.ActionBuilt, ciscolog.ActionPermit:
		allowed = c.IsValid() && s.IsValid()
	case ciscolog.ActionDeny, ciscolog.ActionDrop:
		denied = c.IsValid()
	case ciscolog.ActionTeardown:
		teardown = c.IsValid() && s.IsValid()
	case ciscolog.ActionLogin, ciscolog.ActionSessionStart:
		login = ev.Src.Addr.IsValid()
	}
	doc := allowed || denied
	var bytes uint64
	if teardown {
		bytes = ev.Bytes
	}
	proto := uint8(ev.Proto)
	port := server.Port
	if ev.Proto == ciscolog.ProtoICMP || ev.Proto == ciscolog.ProtoICMPv6 {
		port = 0
	}

	// Site totals.
	if v := put(a, &a.site, siteKey{hour}); v != nil {
		v[sEv]++
		if doc || login {
			v[sDocs] += w
		}
		if allowed {
			v[sConns] += w
		}
		if denied {
			v[sDenies] += w
		}
		v[sBytes] += bytes
	}

	// Per internal host.
	if cIn {
		a.addHost(c, hour, ts, RoleClient, allowed, denied, teardown, w, bytes, !sIn, s, proto, port, ev)
	}
	if sIn && s != c {
		a.addHost(s, hour, ts, RoleServer, allowed, denied, teardown, w, bytes, !cIn, c, proto, port, ev)
	}

	// Denies per external source.
	if denied && !cIn {
		dk := denyKey{t: hour, proto: proto, port: port, src: c}
		if _, ok := a.deny.idx[dk]; !ok && !a.under(capKey{hour, capDeny, c}, a.opts.MaxPortsPerSource) {
			dk.proto, dk.port = 0, 0
		}
		if v := put(a, &a.deny, dk); v != nil {
			v[0] += w
		}
		if ev.ACL != "" {
			acl := a.acls.id(ev.ACL, func() (string, string) { s := strings.Clone(ev.ACL); return s, s })
			if v := put(a, &a.dacl, daclKey{t: hour, acl: acl, src: c}); v != nil {
				v[0] += w
			}
		}
		a.exemplar(exKey{kind: ExemplarDeny, a: c}, ts, ev)
	}

	// Interfaces (ingress = the source's, egress = the destination's).
	if ev.Src.Iface != "" {
		if v := put(a, &a.ifc, ifcKey{hour, a.ifcID(ev, ev.Src.Iface)}); v != nil {
			v[iInEv]++
			v[iInBytes] += bytes
			if denied {
				v[iInDenies] += w
			}
		}
	}
	if ev.Dst.Iface != "" {
		if v := put(a, &a.ifc, ifcKey{hour, a.ifcID(ev, ev.Dst.Iface)}); v != nil {
			v[iOutEv]++
			v[iOutBytes] += bytes
		}
	}

	// Internal pairs across segments.
	if doc && cIn && sIn {
		if a.cls.Segment(c) != a.cls.Segment(s) {
			if v := put(a, &a.pair, pairKey{proto: proto, fam: ev.Family, port: port, client: c, server: s}); v != nil {
				i := 0
				if denied {
					i = 1
				}
				v.see(ts, i, w)
			}
			a.exemplar(exKey{kind: ExemplarPair, a: c, b: s}, ts, ev)
		}
	}

	// DNS resolvers.
	if doc && cIn && isDNS(ev.Proto, server.Port) {
		if v := put(a, &a.dns, dnsKey{c, s}); v != nil {
			v.see(ts, 0, w)
		}
		a.exemplar(exKey{kind: ExemplarDNS, a: c, b: s}, ts, ev)
	}

	// Significant-terms documents.
	if doc {
		a.addTerm(termKey{t: hour, field: FieldDestinationIP, addr: s}, w)
		a.addTerm(termKey{t: hour, field: FieldDestinationPort, proto: proto, port: port}, w)
		a.addTerm(termKey{t: hour, field: FieldSourceIP, addr: c}, w)
	}

	// VPN logins.
	if login {
		user := ev.User
		if user == "" {
			user = ev.Src.User
		}
		src := ev.Src.Addr.Unmap()
		a.addTerm(termKey{t: hour, field: FieldSourceIP, addr: src}, w)
		if user != "" {
			uid := a.users.id(user, func() (string, string) { s := strings.Clone(user); return s, s })
			if v := put(a, &a.vpn, vpnKey{uid, src}); v != nil {
				v.see(ts, 0, 1)
			}
			a.addTerm(termKey{t: hour, field: FieldUserSource, user: uid, addr: src}, w)
			a.exemplar(exKey{kind: ExemplarVPN, user: uid, a: src}, ts, ev)
		}
	}

	if !a.wantFlush && a.pending >= a.opts.MaxPendingKeys {
		a.wantFlush = true
	}
	return a.wantFlush
}

func (a *Aggregator) addHost(h netip.Addr, hour int32, ts int64, role Role, allowed, denied, teardown bool,
	w, bytes uint64, peerExt bool, peer netip.Addr, proto uint8, port uint16, ev *ciscolog.Event) {
	v := put(a, &a.host, hostKey{hour, h})
	if v != nil {
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
	if !allowed && !teardown {
		return
	}
	var conns uint64
	if allowed {
		conns = w
	}
	if peerExt && peer.IsValid() {
		pk := peerKey{t: hour, host: h, peer: peer}
		if _, ok := a.peer.idx[pk]; !ok && !a.under(capKey{hour, capPeer, h}, a.opts.MaxPeersPerHost) {
			pk.peer = netip.Addr{}
		}
		if p := put(a, &a.peer, pk); p != nil {
			if role == RoleClient {
				p[pConnsC] += conns
				p[pBytesC] += bytes
			} else {
				p[pConnsS] += conns
				p[pBytesS] += bytes
			}
		}
		if allowed {
			a.exemplar(exKey{kind: ExemplarPeer, a: h, b: peer}, ts, ev)
		}
	}
	ok := portKey{t: hour, role: role, ext: peerExt, proto: proto, port: port, host: h}
	if _, found := a.port.idx[ok]; !found && !a.under(capKey{hour, capPort, h}, a.opts.MaxPortsPerHost) {
		ok.proto, ok.port = 0, 0
	}
	if p := put(a, &a.port, ok); p != nil {
		p[oConns] += conns
		p[oBytes] += bytes
	}
}

func (a *Aggregator) addTerm(k termKey, w uint64) {
	if k.field != FieldDestinationPort && !k.addr.IsValid() {
		return
	}
	if _, ok := a.term.idx[k]; !ok && !a.under(capKey{k.t, capTerm + uint8(k.field), netip.Addr{}}, a.opts.MaxTermsPerHour) {
		return
	}
	if v := put(a, &a.term, k); v != nil {
		v[0] += w
	}
}

func (a *Aggregator) ifcID(ev *ciscolog.Event, iface string) uint32 {
	k := ifcName{dev: ev.Host, iface: iface}
	if ev.Host == "" {
		k.sender = ev.Sender
	}
	return a.ifcs.id(k, func() (ifcName, string) {
		kc := ifcName{dev: strings.Clone(k.dev), sender: k.sender, iface: strings.Clone(k.iface)}
		dev := kc.dev
		if dev == "" {
			dev = kc.sender.String()
		}
		return kc, dev + "\x00" + kc.iface
	})
}

// exemplar keeps a copy of the raw line if fewer than opts.Exemplars lines are known for k.
func (a *Aggregator) exemplar(k exKey, ts int64, ev *ciscolog.Event) {
	n := a.exState[k]
	if int(n) >= a.opts.Exemplars || ev.Raw == "" {
		return
	}
	if a.pending >= 2*a.opts.MaxPendingKeys {
		a.stats.DroppedKeys++
		return
	}
	if len(a.exState) >= 4*a.opts.MaxPendingKeys {
		clear(a.exState) // bounded: forget which subjects are complete; Flush rechecks the db
	}
	a.exState[k] = n + 1
	a.pending++
	a.exLines = append(a.exLines, exLine{key: k, ts: ts, raw: strings.Clone(ev.Raw)})
}
