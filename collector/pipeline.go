package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
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
// Run is the only method that touches the aggregator and the archive; Status may be called
// from any goroutine.
type Pipeline struct {
	store *stats.Store
	// Two aggregators alternate so that flushing one overlaps parsing into the other; cur is
	// the one Run fills.
	aggs    [2]*stats.Aggregator
	cur     int
	archive *Archive // nil: do not archive (replays of files that are archives already)
	metrics *Metrics
	log     *slog.Logger
	now     func() time.Time
	every   time.Duration
	cfg     *policies.Config

	parsers map[netip.Addr]*ciscolog.Parser // per device, bounded by the configured sources
	other   *ciscolog.Parser                // frames from files or without a known sender

	mu       sync.Mutex
	status   PipelineStatus
	aggStats [2]stats.AggStats // as of each aggregator's last flush
	flushErr error             // the last flush's error, nil after a good one
}

// PipelineStatus is what the pipeline has done so far.
type PipelineStatus struct {
	Typed, Header, Unparsed int64
	LastFlush               time.Time
	LastFlushKeys           int
	LastFlushTook           time.Duration
	FlushErrors             int64
	Agg                     stats.AggStats
}

// PipelineOptions configure NewPipeline.
type PipelineOptions struct {
	Config  *policies.Config
	Store   *stats.Store
	Archive *Archive // optional
	Metrics *Metrics
	Log     *slog.Logger
	Now     func() time.Time // clock for yearless timestamps, archive days and flush times
	// FlushEvery is the statistics batch interval; at most one transaction per interval.
	FlushEvery time.Duration
	Agg        stats.AggOptions
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
	if o.Agg.Now == nil {
		o.Agg.Now = o.Now
	}
	p := &Pipeline{
		store: o.Store, archive: o.Archive, metrics: o.Metrics, log: o.Log,
		now: o.Now, every: o.FlushEvery, cfg: o.Config,
		aggs: [2]*stats.Aggregator{
			stats.NewAggregator(classifier{o.Config}, o.Agg),
			stats.NewAggregator(classifier{o.Config}, o.Agg),
		},
		parsers: make(map[netip.Addr]*ciscolog.Parser),
	}
	site := o.Config.Location()
	for i := range o.Config.Devices {
		d := &o.Config.Devices[i]
		loc := d.Location()
		pr := ciscolog.NewParser(ciscolog.Options{Now: o.Now, Zone: func(string) *time.Location { return loc }})
		for _, src := range d.SyslogSources {
			p.parsers[src] = pr
		}
	}
	p.other = ciscolog.NewParser(ciscolog.Options{Now: o.Now, Zone: func(host string) *time.Location {
		if d, ok := o.Config.DeviceByName(host); ok {
			return d.Location()
		}
		return site
	}})
	return p
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
// Flushing overlaps parsing: at each flush the full aggregator is handed to a flusher goroutine
// (owned by Run, ended before it returns) and parsing goes on into the other one. At most one
// flush runs at a time; a second one waits for the first, which holds parsing back instead of
// growing memory.
func (p *Pipeline) Run(ctx context.Context, in <-chan *Batch) error {
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	full := make(chan int)
	empty := make(chan int, 2) // room for both, so the flusher never blocks handing one back
	empty <- 1 - p.cur
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
	swap := func() {
		full <- p.cur
		p.cur = <-empty
	}
	var ev ciscolog.Event
	typed := p.metrics.Parsed.WithLabelValues("typed")
	header := p.metrics.Parsed.WithLabelValues("header")
	unparsed := p.metrics.Parsed.WithLabelValues("unparsed")
	archiveErrs := 0
	dirty := false
	for {
		select {
		case b, ok := <-in:
			if !ok {
				// Everything received is flushed even when the caller is shutting down.
				full <- p.cur
				close(full)
				<-flushDone
				p.cur = <-empty
				p.mu.Lock()
				defer p.mu.Unlock()
				return p.flushErr
			}
			now := p.now()
			var nt, nh, nu int64
			flushNow := false
			for i := range b.Len() {
				frame, src := b.Frame(i)
				if p.archive != nil {
					if err := p.archive.Write(now, frame); err != nil {
						p.metrics.ArchiveErrors.Inc()
						if archiveErrs++; archiveErrs == 1 {
							p.log.Error("raw archive write failed; further failures are only counted", "err", err)
						}
					}
				}
				pr := p.other
				if src.IsValid() {
					if dp, ok := p.parsers[src]; ok {
						pr = dp
					}
				}
				pr.Parse(frame, &ev)
				ev.Sender = src
				if ev.Time.IsZero() {
					ev.Time = now.UTC() // no timestamp in the frame: it happened when received
				}
				switch ev.Kind {
				case ciscolog.KindTyped:
					nt++
				case ciscolog.KindHeader:
					nh++
				default:
					nu++
				}
				if p.aggs[p.cur].Add(&ev) {
					flushNow = true
				}
			}
			b.Release()
			typed.Add(float64(nt))
			header.Add(float64(nh))
			unparsed.Add(float64(nu))
			p.mu.Lock()
			p.status.Typed += nt
			p.status.Header += nh
			p.status.Unparsed += nu
			p.mu.Unlock()
			dirty = true
			if flushNow {
				p.flushArchive()
				swap()
				dirty = false
			}
		case <-tick.C:
			if !dirty {
				continue
			}
			p.flushArchive()
			swap()
			dirty = false
		}
	}
}

// flushArchive pushes the archive's buffered frames to disk (on Run's goroutine, which owns it).
func (p *Pipeline) flushArchive() {
	if p.archive == nil {
		return
	}
	if err := p.archive.Flush(); err != nil {
		p.metrics.ArchiveErrors.Inc()
		p.log.Error("raw archive flush", "err", err)
	}
}

// flush writes aggregator i's pending statistics to the store. It runs on the flusher
// goroutine, which owns aggregator i until it hands it back.
func (p *Pipeline) flush(ctx context.Context, i int) error {
	fs, err := p.aggs[i].Flush(ctx, p.store)
	p.metrics.Flushes.Inc()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.aggStats[i] = p.aggs[i].Stats()
	if err != nil {
		p.metrics.FlushErrors.Inc()
		p.status.FlushErrors++
		p.flushErr = fmt.Errorf("flush statistics: %w", err)
		return p.flushErr
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

// Status returns a snapshot of the pipeline's counters.
func (p *Pipeline) Status() PipelineStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.status
	a, b := p.aggStats[0], p.aggStats[1]
	s.Agg = stats.AggStats{
		Events:        a.Events + b.Events,
		Skipped:       a.Skipped + b.Skipped,
		DroppedKeys:   a.DroppedKeys + b.DroppedKeys,
		ForcedFlushes: a.ForcedFlushes + b.ForcedFlushes,
		Flushes:       a.Flushes + b.Flushes,
	}
	return s
}
