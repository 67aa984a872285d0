package scenario

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// DefaultLinesPerDay is the volume of a working weekday when Config.LinesPerDay is zero.
const DefaultLinesPerDay = 100_000

// MaxLinesPerDay bounds Config.LinesPerDay: a busy hour is held in memory (about 80 bytes a
// line) to be sorted.
const MaxLinesPerDay = 100_000_000

// DefaultDays is the length of a run when Config.Days is zero.
const DefaultDays = 30

// DefaultStart is the first day of a run when Config.Start is zero: a Monday, in the site's zone,
// chosen so a 30-day run crosses no daylight-saving change in America/Chicago.
var DefaultStart = time.Date(2026, time.April, 6, 0, 0, 0, 0, time.UTC)

// Config says what to generate. The zero value of each field means its default.
type Config struct {
	Seed uint64
	Days int // number of days; default DefaultDays
	// Start is the first day; only its calendar date counts: the run begins at that date's
	// midnight in the site's zone. Default DefaultStart.
	Start time.Time
	// LinesPerDay is roughly how many lines a working weekday produces (weekends and nights are
	// quieter); it scales the traffic, not the incidents. Default DefaultLinesPerDay.
	LinesPerDay int
	Site        Site // default DefaultSite(); the clinic profile only
	// Profile is the site profile: ProfileClinic (default) or ProfileHarbor, a second site unlike
	// the first (its own addressing, sizes, device names, envelopes and zone) with decoys.
	Profile string
}

// Writers receive the generated lines, one newline-terminated frame per line: either ASA and
// Routers (one file per device family), or All alone (every line, all devices interleaved in
// time order, e.g. into an io.Pipe feeding Send). Generate buffers its writes and flushes them
// before it returns; it never closes a writer.
type Writers struct {
	ASA     io.Writer // asa1's lines
	Routers io.Writer // rtr-b2's and rtr-b3's lines
	All     io.Writer // every line; set it alone
}

func (c Config) withDefaults() Config {
	if c.Days == 0 {
		c.Days = DefaultDays
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	if c.LinesPerDay == 0 {
		c.LinesPerDay = DefaultLinesPerDay
	}
	if c.Site == (Site{}) {
		c.Site = DefaultSite()
	}
	return c
}

// ErrInvalidConfig is wrapped by errors about Config values.
var ErrInvalidConfig = errors.New("invalid scenario config")

// Generate writes a whole run to w, in time order per writer, and returns the ground truth.
// It checks ctx between hours of generated time. Same Config, same bytes.
func Generate(ctx context.Context, cfg Config, w Writers) (Truth, error) {
	switch cfg.Profile {
	case "", ProfileClinic:
	case ProfileHarbor:
		return generateHarbor(ctx, cfg, w)
	default:
		return Truth{}, fmt.Errorf("profile %q, want one of %v: %w", cfg.Profile, Profiles, ErrInvalidConfig)
	}
	g, err := newGenerator(cfg, w)
	if err != nil {
		return Truth{}, err
	}
	return g.run(ctx)
}

// Location is the zone the scenario's days are counted in (the site's): a Start's date is
// midnight there.
func Location(cfg Config) (*time.Location, error) {
	zone := cfg.withDefaults().Site.Timezone
	switch cfg.Profile {
	case "", ProfileClinic:
	case ProfileHarbor:
		zone = harborZone
	default:
		return nil, fmt.Errorf("profile %q, want one of %v: %w", cfg.Profile, Profiles, ErrInvalidConfig)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("scenario zone: %w", err)
	}
	return loc, nil
}

// kind is the message a rec becomes.
type kind uint8

const (
	kBuiltTCP kind = iota
	kTeardownTCP
	kBuiltUDP
	kTeardownUDP
	kPATBuilt
	kPATTeardown
	kDeny       // 106023
	kACLPermit  // 106100
	kDenyToBox  // 710003
	kUDPDiscard // 710005
	kAAAOK      // 113004
	kAAAFail    // 113005
	kVPNStart   // 716001
	kSVCUp      // 722022
	kVPNAssign  // 722051
	kSVCDown    // 722023
	kVPNEnd     // 716002
	kVPNDisc    // 113019
	kThreat     // 733100
	kConfig     // 111008
	kIOSLogP    // SEC-6-IPACCESSLOGP
	kIOSLogDP   // SEC-6-IPACCESSLOGDP (icmp)
)

const noAddr = ^uint32(0)

// rec is one line to be: what it says, not yet how it is written. Fields a and b are the two
// endpoints in the order the message names them ("for A to B", "src A dst B", "A -> B").
type rec struct {
	t      int64 // unix milliseconds
	bytes  uint64
	bytes2 uint64 // 113019 bytes received
	a, b   uint32 // address indices
	am, bm uint32 // mapped addresses (302013/302015)
	conn   uint32
	dur    uint32 // seconds
	aux    uint32 // packets, hit count, teardown reason, icmp type<<8|code, counters
	ap, bp uint16
	amp    uint16
	bmp    uint16
	user   uint16 // VPN user index+1, or admin index+1 for 111008
	kind   kind
	dev    uint8
	proto  uint8
	dir    uint8 // 1 inbound, 2 outbound
	aIf    uint8
	bIf    uint8
	inc    uint8 // incident index+1, 0 for normal traffic
	permit bool  // IOS: permitted (else denied)
}

const (
	dirInbound  = 1
	dirOutbound = 2
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
)

type generator struct {
	cfg         Config
	l           *layout
	rng         *rand.Rand // traffic decisions
	frng        *rand.Rand // envelope choices; separate so the traffic does not depend on them
	out         [2]*bufio.Writer
	queue       []rec    // lines beyond the current hour, unsorted
	curEnd      int64    // end of the current hour (unix ms); earlier lines go straight to emit
	emit        []rec    // lines of the current hour
	order       []uint64 // emit's time-ordered keys
	conn        uint32
	iosSeq      [numDevices]uint32
	start       time.Time // first midnight, site zone
	end         time.Time
	avgLine     float64 // expected lines per scaled session
	mix         []flowWeight
	mixCum      []float64
	dayOut      []uint64 // outbound bytes of normal traffic per day
	lines       [2]int64 // lines written: ASA, routers
	dayMul      float64
	vpnSessions []int // sessions so far per user
	inc         incidentPlan
	truth       Truth
	fmt         formatter
	// sink, when set (tests), sees every line with the rec it came from; the line is only valid
	// during the call.
	sink func(r *rec, style uint8, line []byte)
}

func newGenerator(cfg Config, w Writers) (*generator, error) {
	cfg = cfg.withDefaults()
	if cfg.Days < 1 || cfg.Days > 3660 {
		return nil, fmt.Errorf("days = %d, want 1..3660: %w", cfg.Days, ErrInvalidConfig)
	}
	if cfg.LinesPerDay < 0 || cfg.LinesPerDay > MaxLinesPerDay {
		return nil, fmt.Errorf("lines per day = %d: %w", cfg.LinesPerDay, ErrInvalidConfig)
	}
	switch {
	case w.All == nil && w.ASA != nil && w.Routers != nil:
	case w.All != nil && w.ASA == nil && w.Routers == nil:
	default:
		return nil, fmt.Errorf("writers: set ASA and Routers, or All alone: %w", ErrInvalidConfig)
	}
	l, err := buildLayout(cfg.Site)
	if err != nil {
		return nil, err
	}
	y, m, d := cfg.Start.Date()
	g := &generator{
		cfg:   cfg,
		l:     l,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x5ce4a10)),
		frng:  rand.New(rand.NewPCG(cfg.Seed, 0xf0e7a7)),
		start: time.Date(y, m, d, 0, 0, 0, 0, l.loc),
	}
	g.end = time.Date(y, m, d+cfg.Days, 0, 0, 0, 0, l.loc)
	if w.All != nil {
		all := bufio.NewWriterSize(w.All, 256<<10)
		g.out = [2]*bufio.Writer{all, all}
	} else {
		g.out = [2]*bufio.Writer{bufio.NewWriterSize(w.ASA, 256<<10), bufio.NewWriterSize(w.Routers, 128<<10)}
	}
	g.dayOut = make([]uint64, cfg.Days)
	g.vpnSessions = make([]int, len(l.users))
	g.fmt.init(l)
	g.initMix()
	for i := range numDevices {
		g.iosSeq[i] = uint32(1000 + 7919*i)
	}
	g.conn = 10_000_000 + uint32(cfg.Seed%1_000_000)
	g.planIncidents()
	return g, nil
}

func (g *generator) run(ctx context.Context) (Truth, error) {
	for day := range g.cfg.Days {
		y, m, d := g.start.Date()
		dayStart := time.Date(y, m, d+day, 0, 0, 0, 0, g.l.loc)
		dayEnd := time.Date(y, m, d+day+1, 0, 0, 0, 0, g.l.loc)
		weekend := dayStart.Weekday() == time.Saturday || dayStart.Weekday() == time.Sunday
		g.dayMul = 0.92 + 0.16*g.rng.Float64()
		g.curEnd = math.MinInt64 // the day's plan goes to the queue
		g.planDay(day, dayStart, weekend)
		for hs := dayStart; hs.Before(dayEnd); hs = hs.Add(time.Hour) {
			if err := ctx.Err(); err != nil {
				return Truth{}, fmt.Errorf("generate: %w", err)
			}
			he := hs.Add(time.Hour)
			if he.After(dayEnd) {
				he = dayEnd
			}
			g.curEnd = he.UnixMilli()
			g.hour(day, hs.UnixMilli(), he.UnixMilli(), hs.In(g.l.loc).Hour(), weekend)
			if err := g.flushUntil(he.UnixMilli()); err != nil {
				return Truth{}, err
			}
		}
	}
	// Teardowns of connections still open at the end of the last day.
	if err := g.flushUntil(math.MaxInt64); err != nil {
		return Truth{}, err
	}
	g.truth.Lines = g.lines
	for i, w := range g.out {
		if err := w.Flush(); err != nil {
			return Truth{}, fmt.Errorf("write %s lines: %w", [2]string{"asa", "router"}[i], err)
		}
	}
	return g.truth, nil
}

// push queues a line; it is written once its hour is flushed.
func (g *generator) push(r rec) {
	if r.t < g.curEnd {
		g.emit = append(g.emit, r) // most lines: written at the end of this hour
	} else {
		g.queue = append(g.queue, r)
	}
}

func (g *generator) flushUntil(end int64) error {
	keep := g.queue[:0]
	for _, r := range g.queue {
		if r.t < end {
			g.emit = append(g.emit, r)
		} else {
			keep = append(keep, r)
		}
	}
	g.queue = keep
	// Sort by (time, position in emit) through packed keys: sorting the 80-byte recs themselves
	// would cost more than formatting them. Lines of one connection that share a millisecond
	// were pushed to the same slice in order, so the position keeps them in order.
	g.order = g.order[:0]
	if len(g.emit) > 0 {
		base := g.emit[0].t
		for i := range g.emit {
			base = min(base, g.emit[i].t)
		}
		for i := range g.emit {
			d := uint64(g.emit[i].t - base)
			if d >= 1<<32 {
				return fmt.Errorf("queued line %d ms after the earliest: %w", d, ErrInvalidConfig)
			}
			g.order = append(g.order, d<<32|uint64(i))
		}
		slices.Sort(g.order)
	}
	for _, k := range g.order {
		r := &g.emit[uint32(k)]
		line, style := g.fmt.line(g, r)
		fam := 0
		if r.dev != devASA {
			fam = 1
		}
		if _, err := g.out[fam].Write(line); err != nil {
			return fmt.Errorf("write line: %w", err)
		}
		g.lines[fam]++
		if r.inc > 0 {
			g.truth.Incidents[r.inc-1].Lines++
		}
		if g.sink != nil {
			g.sink(r, style, line)
		}
	}
	g.emit = g.emit[:0]
	return nil
}

// hourWeight is the share of a weekday's scaled traffic in each local hour (sums to ~1 with
// weekdaySum); weekends use a flat, low profile.
var hourWeight = [24]float64{
	0.08, 0.06, 0.06, 0.06, 0.07, 0.1, 0.2, 0.6, 1, 1, 1, 1,
	0.8, 1, 1, 1, 0.95, 0.6, 0.35, 0.22, 0.18, 0.15, 0.12, 0.1,
}

var weekdaySum = func() float64 {
	s := 0.0
	for _, w := range hourWeight {
		s += w
	}
	return s
}()

func weekendWeight(h int) float64 {
	if h >= 9 && h < 17 {
		return 0.16
	}
	return 0.07
}

// hour generates one hour of traffic into the queue.
func (g *generator) hour(day int, hs, he int64, localHour int, weekend bool) {
	w := hourWeight[localHour]
	if weekend {
		w = weekendWeight(localHour)
	}
	span := he - hs
	expected := float64(g.cfg.LinesPerDay) * w / weekdaySum / g.avgLine * g.dayMul * float64(span) / 3.6e6
	expected *= 1 + 0.05*g.rng.NormFloat64()
	if expected < 0 {
		expected = 0
	}
	n := int(expected)
	if g.rng.Float64() < expected-float64(n) {
		n++
	}
	for range n {
		t := hs + g.rng.Int64N(span)
		g.session(day, t, g.pickFlow())
	}
	g.fixedTraffic(day, hs, he)
}

func (g *generator) pickFlow() flow {
	x := g.rng.Float64() * g.mixCum[len(g.mixCum)-1]
	i, _ := slices.BinarySearch(g.mixCum, x)
	if i >= len(g.mix) {
		i = len(g.mix) - 1
	}
	return g.mix[i].f
}

// lognormal returns median*e^(sigma*N(0,1)), at least 1. The normal deviate is clipped at 4.5
// so a long run has no freak connection that a volume detector would rightly report.
func (g *generator) lognormal(median, sigma float64) uint64 {
	v := median * math.Exp(sigma*max(-4.5, min(4.5, g.rng.NormFloat64())))
	if v < 1 {
		return 1
	}
	if v > 1e15 {
		return 1e15
	}
	return uint64(v)
}

// expMs returns an exponentially distributed duration in milliseconds.
func (g *generator) expMs(mean float64) int64 {
	return int64(g.rng.ExpFloat64() * mean)
}

func (g *generator) pick(s []uint32) uint32 { return s[g.rng.IntN(len(s))] }

func (g *generator) ephemeral() uint16 { return uint16(49152 + g.rng.IntN(16384)) }

func (g *generator) patPort() uint16 { return uint16(1024 + g.rng.IntN(64511)) }

func (g *generator) nextConn() uint32 {
	g.conn++
	return g.conn
}

// connSpec describes one ASA connection as its built message names it.
type connSpec struct {
	proto    uint8
	dir      uint8
	a, b     uint32 // "for a to b"
	aIf, bIf uint8
	ap, bp   uint16
	am, bm   uint32 // mapped; noAddr means the real address
	amp, bmp uint16
	bytes    uint64
	durMs    int64
	pat      bool // emit 305011/305012 for the b side's translation (b inside, bm the PAT address)
	inc      uint8
	reason   uint32
}

// connection queues the lines of one connection starting at t and returns the teardown time.
func (g *generator) connection(t int64, c connSpec) int64 {
	if c.am == noAddr {
		c.am, c.amp = c.a, c.ap
	}
	if c.bm == noAddr {
		c.bm, c.bmp = c.b, c.bp
	}
	id := g.nextConn()
	builtK, tearK := kBuiltTCP, kTeardownTCP
	if c.proto == protoUDP {
		builtK, tearK = kBuiltUDP, kTeardownUDP
	}
	end := t + c.durMs
	if c.pat {
		g.push(rec{t: t, kind: kPATBuilt, dev: devASA, proto: c.proto, a: c.b, ap: c.bp, aIf: c.bIf,
			b: c.bm, bp: c.bmp, bIf: ifOutside, inc: c.inc})
		g.push(rec{t: end + 30_000, kind: kPATTeardown, dev: devASA, proto: c.proto, a: c.b, ap: c.bp, aIf: c.bIf,
			b: c.bm, bp: c.bmp, bIf: ifOutside, dur: uint32((c.durMs + 30_000) / 1000), inc: c.inc})
	}
	g.push(rec{t: t, kind: builtK, dev: devASA, proto: c.proto, dir: c.dir, conn: id,
		a: c.a, ap: c.ap, aIf: c.aIf, am: c.am, amp: c.amp,
		b: c.b, bp: c.bp, bIf: c.bIf, bm: c.bm, bmp: c.bmp, inc: c.inc})
	g.push(rec{t: end, kind: tearK, dev: devASA, proto: c.proto, dir: c.dir, conn: id,
		a: c.a, ap: c.ap, aIf: c.aIf, b: c.b, bp: c.bp, bIf: c.bIf,
		bytes: c.bytes, dur: uint32(c.durMs / 1000), aux: c.reason, inc: c.inc})
	return end
}

// outbound is a connection from an inside (or dmz) host to an external peer, through PAT
// unless the host has a static mapping.
func (g *generator) outbound(day int, t int64, host uint32, hostIf uint8, peer uint32, proto uint8, port uint16,
	bytes uint64, durMs int64, patShown bool, inc uint8,
) int64 {
	sp := g.ephemeral()
	mapped, mport := g.l.pubPAT, g.patPort()
	if host == g.l.dmzMail {
		mapped, mport = g.l.pubMail, sp
		patShown = false
	}
	reason := uint32(0)
	if proto == protoTCP {
		reason = g.teardownReason()
	}
	if inc == 0 {
		g.dayOut[day] += bytes
	} else {
		g.truth.Incidents[inc-1].Bytes += bytes
	}
	return g.connection(t, connSpec{proto: proto, dir: dirOutbound, a: peer, aIf: ifOutside, ap: port, am: noAddr,
		b: host, bIf: hostIf, bp: sp, bm: mapped, bmp: mport, bytes: bytes, durMs: durMs, pat: patShown,
		inc: inc, reason: reason})
}

// teardownReason indexes teardownReasons.
func (g *generator) teardownReason() uint32 {
	x := g.rng.IntN(100)
	switch {
	case x < 82:
		return 0
	case x < 90:
		return 1
	case x < 96:
		return 2
	}
	return 3
}

var teardownReasons = [...]string{"TCP FINs", "TCP Reset-I", "TCP Reset-O", "Conn-timeout"}
