package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// Pipeline parses batches of frames, archives them, aggregates the events and flushes the
// statistics to the store at a fixed interval. Live traffic and file replays go through the same
// Pipeline.
//
// Run owns the parsers, the aggregators and the archive (through goroutines it starts and
// ends); call it once. Status may be called from any goroutine.
type Pipeline struct {
	store   *stats.Store
	parsers []*parserSet // one per parse worker
	// Two aggregators alternate so that flushing one overlaps aggregating into the other.
	aggs    [2]*stats.Aggregator
	archive *Archive // nil: do not archive (replays of files that are archives already)
	metrics *Metrics
	log     *slog.Logger
	now     func() time.Time
	every   time.Duration
	events  int // FlushEvents; ≤ 0: off
	cfg     *policies.Config
	sinks   []EventSink

	mu       sync.Mutex
	status   PipelineStatus
	aggStats [2]stats.AggStats // as of each aggregator's last flush
	flushErr error             // the last flush's error, nil after a good one
	// pending counts the events in each aggregator not yet written: after a failed flush
	// (a full disk) they stay in it, bounded by its key caps, until a flush succeeds.
	pending      [2]int64
	failingSince time.Time // first failure of the current run of failed flushes
	failedRun    int64     // flushes failed in that run
}

// parserSet is one parse worker's parsers (a Parser is not safe for concurrent use).
type parserSet struct {
	byDevice map[netip.Addr]deviceParser // per device, bounded by the configured sources
	other    *ciscolog.Parser            // frames from files or without a known sender
	seen     []bool                      // per device index: a frame of this batch came from it
	outs     []EventWriter               // one per PipelineOptions.Outputs
}

// EventSink receives every parsed event (collector/esout's Output): each parse worker gets
// its own EventWriter, adds a batch's events and flushes once per batch. Add must not keep
// the event (its strings alias the batch) and neither may wait for anything but memory.
type EventSink interface {
	NewEventWriter() EventWriter
}

// EventWriter is one parse worker's end of an EventSink.
type EventWriter interface {
	Add(ev *ciscolog.Event, device string)
	Flush()
}

// deviceParser is the parser of one device and the device's index in the policy.
type deviceParser struct {
	pr  *ciscolog.Parser
	dev int
}

// PipelineStatus is what the pipeline has done so far.
type PipelineStatus struct {
	Typed, Header, Unparsed int64
	LastFlush               time.Time
	LastFlushKeys           int
	LastFlushTook           time.Duration
	FlushErrors             int64
	// Unflushed are events counted but not yet in the database; after failed flushes they
	// are held in memory (within the aggregators' caps) until a flush succeeds.
	Unflushed int64
	// FlushFailingSince is when the current run of failed flushes began; zero when the last
	// flush succeeded. LastFlushError is that run's last error.
	FlushFailingSince time.Time
	LastFlushError    string
	Archived          int64 // frames flushed to the raw archive
	Agg               stats.AggStats
}

// PipelineOptions configure NewPipeline.
type PipelineOptions struct {
	Config  *policies.Config
	Store   *stats.Store
	Archive *Archive // optional
	Metrics *Metrics
	Log     *slog.Logger
	Now     func() time.Time // clock for yearless timestamps, archive days and flush times
	// FlushEvery is the statistics batch interval: one transaction per interval at most,
	// unless FlushEvents (replays) or the aggregator's key cap (a memory guard) asks sooner.
	FlushEvery time.Duration
	Agg        stats.AggOptions
	// FlushEvents also hands the aggregator to the flusher once it has counted this many
	// events since the last flush, so that a replay (a day of logs a second) or a burst
	// overlaps aggregating with writing instead of writing one large batch at the end.
	// Default 100,000; a negative value disables it (the daemon does: live traffic is written
	// once per FlushEvery).
	FlushEvents int
	// Workers is the number of parse and aggregate goroutines (each with its own aggregators;
	// flushes are serialised). Default: 2, or 1 on a single CPU.
	Workers int
	// Outputs receive every parsed event (the clusters of the policy's outputs:).
	Outputs []EventSink
}

// NewPipeline builds a pipeline from the site policy: one parser per device (each with that
// device's time zone), and a fallback parser that maps header host names to device zones.
func NewPipeline(o PipelineOptions) *Pipeline {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	// Agg.MaxLateness is left to the caller: the daemon sets it (live batches arrive in
	// order within milliseconds), a replay does not (its parallel batches span hours).
	if o.Agg.MaxHostsPerHour == 0 {
		o.Agg.MaxHostsPerHour = o.Config.Collector.MaxHostsPerHour
	}
	if o.Agg.Now == nil {
		o.Agg.Now = o.Now
	}
	if o.Workers <= 0 {
		o.Workers = min(2, runtime.GOMAXPROCS(0))
	}
	if o.FlushEvents == 0 {
		o.FlushEvents = 100_000
	}
	p := &Pipeline{
		store: o.Store, archive: o.Archive, metrics: o.Metrics, log: o.Log,
		now: o.Now, every: o.FlushEvery, events: o.FlushEvents, cfg: o.Config, sinks: o.Outputs,
		aggs: [2]*stats.Aggregator{
			stats.NewAggregator(classifier{o.Config}, o.Agg),
			stats.NewAggregator(classifier{o.Config}, o.Agg),
		},
	}
	for _, d := range o.Config.Devices {
		o.Metrics.DeviceLastReceived.WithLabelValues(d.Name) // shown as 0 until the first frame
	}
	for range o.Workers {
		ps := &parserSet{byDevice: make(map[netip.Addr]deviceParser), seen: make([]bool, len(o.Config.Devices))}
		for i := range o.Config.Devices {
			d := &o.Config.Devices[i]
			loc := d.Location()
			pr := ciscolog.NewParser(ciscolog.Options{Now: o.Now, MaxFrame: MaxLine, Zone: func(string) *time.Location { return loc }})
			for _, src := range d.SyslogSources {
				ps.byDevice[src] = deviceParser{pr: pr, dev: i}
			}
		}
		ps.other = hostParser(o.Config, o.Now)
		for _, sk := range o.Outputs {
			ps.outs = append(ps.outs, sk.NewEventWriter())
		}
		p.parsers = append(p.parsers, ps)
	}
	return p
}

// hostParser returns a parser for frames of no known sender (files, stdin): a stamp without a
// zone is read in the zone of the device the frame names, else the site's.
func hostParser(cfg *policies.Config, now func() time.Time) *ciscolog.Parser {
	site := cfg.Location()
	return ciscolog.NewParser(ciscolog.Options{Now: now, MaxFrame: MaxLine, Zone: func(host string) *time.Location {
		if d, ok := cfg.DeviceByName(host); ok {
			return d.Location()
		}
		return site
	}})
}

// classifier adapts the site policy to what the aggregator asks.
type classifier struct{ c *policies.Config }

func (c classifier) Internal(a netip.Addr) bool { return c.c.IsInternal(a) }
func (c classifier) Segment(a netip.Addr) string {
	s, _ := c.c.Segment(a)
	return s
}

// PairExemplars keeps raw lines of internal traffic across segments that no flow allows or
// that touches the SAN: what the segment and SAN detectors report.
func (c classifier) PairExemplars(client, server netip.Addr, proto uint8, port uint16) bool {
	cn, ok1 := c.c.Classify(client)
	sn, ok2 := c.c.Classify(server)
	if !ok1 || !ok2 || cn.Role == policies.RoleSAN || sn.Role == policies.RoleSAN {
		return true
	}
	from, ok1 := c.c.Segment(client)
	to, ok2 := c.c.Segment(server)
	return !ok1 || !ok2 || !c.c.FlowAllowed(from, to, policies.Port{Proto: proto, Num: port})
}

// PeerExemplars keeps raw lines of a host's external traffic only where a person will look
// for them: printers and print servers calling out, and ports that are neither conventional
// for the host's role nor allowed by a flow (what the unusual-ports detector reports).
func (c classifier) PeerExemplars(host netip.Addr, role stats.Role, proto uint8, port uint16) bool {
	n, ok := c.c.Classify(host)
	if !ok {
		return true
	}
	if n.Role == policies.RolePrinters || n.Role == policies.RolePrintServers {
		return true
	}
	p := policies.Port{Proto: proto, Num: port}
	if c.c.ConventionalPort(n.Role, p) {
		return false
	}
	seg, ok := c.c.Segment(host)
	if !ok {
		return true
	}
	if role == stats.RoleClient {
		return !c.c.FlowAllowed(seg, policies.Internet, p)
	}
	return !c.c.FlowAllowed(policies.Internet, seg, p)
}

// Run consumes batches until in is closed, then flushes what is pending and returns. Closing
// in (not cancelling ctx) is how a caller stops it, so that nothing received is lost; ctx
// bounds the flushes.
//
// Five stages overlap, each on its own goroutine, all owned by Run and ended before it
// returns: Run itself dispatches each batch and copies its frames for the archiver, which
// compresses and writes the archive (the archive has one writer); parse workers turn
// frames into events (one batch each, in parallel); one aggregator goroutine counts them; at
// each flush interval it hands its full aggregator to the flusher and goes on with the other.
// At most one flush runs at a time; a second one waits for the first, which holds parsing back
// instead of growing memory.
func (p *Pipeline) Run(ctx context.Context, in <-chan *Batch) error {
	parseIn := make(chan parseJob, 2*len(p.parsers))
	aggIn := make(chan parseJob, 2*len(p.parsers))
	var parsing sync.WaitGroup
	for _, ps := range p.parsers {
		parsing.Go(func() { p.parse(ps, parseIn, aggIn) }) // ends when parseIn is closed
	}
	aggDone := make(chan struct{})
	go func() { // ends when aggIn is closed, after the last flush
		defer close(aggDone)
		p.aggregate(ctx, aggIn)
	}()

	var arch *archiver
	if p.archive != nil {
		arch = startArchiver(p) // ended below, after the last batch
	}
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for {
		select {
		case b, ok := <-in:
			if !ok {
				// Everything received is flushed even when the caller is shutting down.
				close(parseIn)
				parsing.Wait()
				close(aggIn)
				<-aggDone
				if arch != nil {
					arch.stop()
				}
				p.mu.Lock()
				defer p.mu.Unlock()
				return p.flushErr
			}
			now := p.now()
			if arch != nil {
				arch.add(now, b)
			}
			parseIn <- parseJob{b: b, now: now}
		case <-tick.C:
			if arch != nil {
				arch.flush()
			}
		}
	}
}

// parseJob is a batch on its way through the stages: the receive time, then its events (whose
// strings alias the batch's frames: the batch is released only after they are counted).
type parseJob struct {
	b   *Batch
	now time.Time
}

// parse turns each batch's frames into events (kept in the batch) until in is closed.
func (p *Pipeline) parse(ps *parserSet, in <-chan parseJob, out chan<- parseJob) {
	for j := range in {
		b := j.b
		n := b.Len()
		if cap(b.evs) < n {
			b.evs = make([]ciscolog.Event, n)
		}
		b.evs = b.evs[:n]
		for i := range n {
			frame, src := b.Frame(i)
			pr := ps.other
			dev := -1
			if src.IsValid() {
				if dp, ok := ps.byDevice[src]; ok {
					pr = dp.pr
					ps.seen[dp.dev] = true
					dev = dp.dev
				}
			}
			ev := &b.evs[i]
			pr.Parse(frame, ev)
			ev.Sender = src
			if ev.Time.IsZero() {
				ev.Time = j.now.UTC() // no timestamp in the frame: it happened when received
			}
			if len(ps.outs) > 0 {
				p.output(ps, ev, dev)
			}
		}
		for _, w := range ps.outs {
			w.Flush()
		}
		for i, ok := range ps.seen {
			if ok {
				p.metrics.DeviceLastReceived.WithLabelValues(p.cfg.Devices[i].Name).Set(float64(j.now.Unix()))
				ps.seen[i] = false
			}
		}
		out <- j
	}
}

// output hands ev to the outputs, named by its device: the policy's name when the sender is
// a known source, else the sender's address, else the header's host (file replays).
func (p *Pipeline) output(ps *parserSet, ev *ciscolog.Event, dev int) {
	var name string
	switch {
	case dev >= 0:
		name = p.cfg.Devices[dev].Name
	case ev.Sender.IsValid():
		name = ev.Sender.String()
	default:
		name = ev.Host
		if d, ok := p.cfg.DeviceByName(ev.Host); ok {
			name = d.Name
		}
	}
	for _, w := range ps.outs {
		w.Add(ev, name)
	}
}

// aggregate counts the events of each parsed batch into the current aggregator and hands it
// to the flusher at every interval or when it is full. It returns after the final flush.
func (p *Pipeline) aggregate(ctx context.Context, in <-chan parseJob) {
	full := make(chan int)
	empty := make(chan int, 2) // room for both, so the flusher never blocks handing one back
	cur := 0
	empty <- 1
	flushDone := make(chan struct{})
	go func() { // the flusher: ends when full is closed
		defer close(flushDone)
		for i := range full {
			if err := p.flush(context.WithoutCancel(ctx), i); err != nil {
				p.log.Error("flush", "err", err)
			}
			empty <- i
		}
	}()
	counted := 0 // events since the last hand-over
	swap := func() {
		full <- cur
		cur = <-empty
		counted = 0
	}
	typed := p.metrics.Parsed.WithLabelValues("typed")
	header := p.metrics.Parsed.WithLabelValues("header")
	unparsed := p.metrics.Parsed.WithLabelValues("unparsed")
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	dirty := false
	for {
		select {
		case j, ok := <-in:
			if !ok {
				full <- cur
				close(full)
				<-flushDone
				// The other aggregator may still hold what a failed flush left in it.
				if other := 1 - cur; p.unflushed(other) > 0 {
					if err := p.flush(context.WithoutCancel(ctx), other); err != nil {
						p.log.Error("final flush", "err", err, "unflushed_events", p.unflushed(other))
					}
				}
				return
			}
			flushNow := false
			var nt, nh, nu int64
			for i := range j.b.evs {
				ev := &j.b.evs[i]
				switch ev.Kind {
				case ciscolog.KindTyped:
					nt++
				case ciscolog.KindHeader:
					nh++
				default:
					nu++
				}
				if p.aggs[cur].Add(ev) {
					flushNow = true
				}
			}
			j.b.Release()
			typed.Add(float64(nt))
			header.Add(float64(nh))
			unparsed.Add(float64(nu))
			p.mu.Lock()
			p.status.Typed += nt
			p.status.Header += nh
			p.status.Unparsed += nu
			p.pending[cur] += nt + nh + nu
			p.metrics.Unflushed.Set(float64(p.pending[0] + p.pending[1]))
			p.mu.Unlock()
			dirty = true
			counted += int(nt + nh + nu)
			if flushNow || (p.events > 0 && counted >= p.events) {
				swap()
				dirty = false
			}
		case <-tick.C:
			// Also without new events, what a failed flush left is retried every interval.
			if dirty || p.unflushed(cur) > 0 {
				swap()
				dirty = false
			}
		}
	}
}

// flush writes aggregator i's pending statistics to the store. It runs on the flusher
// goroutine, which owns aggregator i until it hands it back.
func (p *Pipeline) flush(ctx context.Context, i int) error {
	fs, err := p.aggs[i].Flush(ctx, p.store)
	p.metrics.Flushes.Inc()
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.aggStats[i]
	p.aggStats[i] = p.aggs[i].Stats()
	p.countCaps(prev, p.aggStats[i])
	if err != nil {
		p.metrics.FlushErrors.Inc()
		p.status.FlushErrors++
		p.flushErr = fmt.Errorf("flush statistics: %w", err)
		if p.failedRun++; p.failedRun == 1 {
			p.failingSince = p.now()
		}
		held := p.pending[0] + p.pending[1]
		// Every failure is logged while the run is short, then every 100th: a full disk
		// must be seen, not flood the log.
		if p.failedRun <= 3 || p.failedRun%100 == 0 {
			p.log.Error("flush failed: statistics are kept in memory until a flush succeeds",
				"err", err, "unflushed_events", held, "failed_flushes", p.failedRun, "failing_since", p.failingSince)
		}
		return p.flushErr
	}
	written := p.pending[i]
	p.pending[i] = 0
	p.metrics.Unflushed.Set(float64(p.pending[0] + p.pending[1]))
	if p.failedRun > 0 {
		p.log.Warn("flush succeeded again", "written_events", written, "failed_flushes", p.failedRun,
			"failing_for", p.now().Sub(p.failingSince), "still_unflushed_events", p.pending[0]+p.pending[1])
		p.failedRun, p.failingSince = 0, time.Time{}
	}
	p.flushErr = nil
	now := p.now()
	p.status.LastFlush = now
	p.status.LastFlushKeys = fs.Keys
	p.status.LastFlushTook = fs.Duration
	p.metrics.LastFlush.Set(float64(now.Unix()))
	p.metrics.FlushSeconds.Observe(fs.Duration.Seconds())
	if fi, err := os.Stat(p.store.Path()); err == nil {
		p.metrics.DBBytes.Set(float64(fi.Size()))
	}
	return nil
}

// countCaps adds what the aggregator's caps counted since prev to the metrics.
func (p *Pipeline) countCaps(prev, cur stats.AggStats) {
	for _, c := range []struct {
		kind    string
		was, is uint64
	}{
		{CapEvictedPeer, prev.EvictedPeers, cur.EvictedPeers},
		{CapEvictedTerm, prev.EvictedTerms, cur.EvictedTerms},
		{CapNameOverflow, prev.NamesOverflowed, cur.NamesOverflowed},
		{CapNameRenewal, prev.NameRenewals, cur.NameRenewals},
		{CapImplausibleBytes, prev.Implausible, cur.Implausible},
		{CapDroppedKeys, prev.DroppedKeys, cur.DroppedKeys},
		{CapHosts, prev.HostsCapped, cur.HostsCapped},
		{CapLate, prev.Late, cur.Late},
	} {
		if c.is > c.was {
			p.metrics.StateCaps.WithLabelValues(c.kind).Add(float64(c.is - c.was))
		}
	}
}

// Status returns a snapshot of the pipeline's counters.
func (p *Pipeline) Status() PipelineStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.status
	s.Unflushed = p.pending[0] + p.pending[1]
	s.FlushFailingSince = p.failingSince
	if p.flushErr != nil {
		s.LastFlushError = p.flushErr.Error()
	}
	for _, a := range p.aggStats {
		s.Agg.Events += a.Events
		s.Agg.Skipped += a.Skipped
		s.Agg.DroppedKeys += a.DroppedKeys
		s.Agg.ForcedFlushes += a.ForcedFlushes
		s.Agg.EvictedPeers += a.EvictedPeers
		s.Agg.EvictedTerms += a.EvictedTerms
		s.Agg.NamesOverflowed += a.NamesOverflowed
		s.Agg.NameRenewals += a.NameRenewals
		s.Agg.Implausible += a.Implausible
		s.Agg.HostsCapped += a.HostsCapped
		s.Agg.Late += a.Late
		s.Agg.Flushes += a.Flushes
		if a.Latest.After(s.Agg.Latest) {
			s.Agg.Latest = a.Latest
		}
	}
	return s
}

func (p *Pipeline) unflushed(i int) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pending[i]
}
