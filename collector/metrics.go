package collector

import (
	"sync/atomic"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// Drop reasons, the values of the reason label of firebreak_dropped_total.
const (
	DropUnknownSource = "unknown_source"
	DropOversize      = "oversize"
	DropQueueFull     = "queue_full"
	DropTooManyConns  = "too_many_connections"
	// DropTooManyConnsPerSource counts connections refused because their source already had
	// its share of the TCP slots.
	DropTooManyConnsPerSource = "too_many_connections_per_source"
	// DropFrameTimeout counts partial frames discarded (and their connections closed) because
	// the frame did not arrive whole within the frame deadline.
	DropFrameTimeout = "frame_timeout"
)

// Framing error kinds, the values of the kind label of firebreak_framing_errors_total.
const (
	// FrameOctetCount: an RFC 6587 octet count that exceeded the maximum frame or disagreed
	// with where the next frame starts; the reader resynchronised at the next frame.
	FrameOctetCount = "octet_count"
)

// Metrics are the collector's counters. They are safe for concurrent use. A nil registerer
// gives working, unregistered metrics (tests, ingest).
type Metrics struct {
	Received      *prometheus.CounterVec // by transport
	ReceivedBytes prometheus.Counter
	Parsed        *prometheus.CounterVec // by kind: typed, header, unparsed
	Dropped       *prometheus.CounterVec // by reason
	FramingErrors *prometheus.CounterVec // by kind
	Flushes       prometheus.Counter
	FlushErrors   prometheus.Counter
	FlushSeconds  prometheus.Histogram
	LastFlush     prometheus.Gauge // unix seconds
	DBBytes       prometheus.Gauge
	Unflushed     prometheus.Gauge // events counted but not yet written (held after failed flushes)
	TCPConns      prometheus.Gauge
	// UDPKernelDrops are datagrams the kernel dropped on the UDP socket: from sources the
	// socket filter refuses (unknown senders) and for want of room in the receive queue.
	UDPKernelDrops prometheus.CounterFunc
	udp            atomic.Pointer[udpWatch]
	ArchiveErrors  prometheus.Counter
	// DeviceLastReceived is the unix time a frame last arrived from each policy device (by
	// name), so an alert can fire on time() - firebreak_device_last_received_timestamp_seconds.
	DeviceLastReceived *prometheus.GaugeVec
	// StateCaps counts the bounds on per-hour state that were reached, by kind (CapEvicted*,
	// CapNames*, CapImplausibleBytes, CapDroppedKeys): forged lines reach them first.
	StateCaps *prometheus.CounterVec
}

// Kinds of firebreak_state_caps_total.
const (
	CapEvictedPeer      = "evicted_peer"      // a host's lightest peer lost its own counters to a heavier one
	CapEvictedTerm      = "evicted_term"      // a field's lightest term lost its pending documents
	CapNameOverflow     = "name_overflow"     // a name counted as _other: its table was full
	CapNameRenewal      = "name_renewal"      // a full name table started afresh at a flush
	CapImplausibleBytes = "implausible_bytes" // a teardown with more bytes than the link carries in its time
	CapDroppedKeys      = "dropped_key"       // a new key refused at the aggregator's hard cap
	CapHosts            = "host"              // an event of an internal host past the distinct hosts per hour
	CapLate             = "late"              // an event dated more than the lateness before its device's newest
)

// NewMetrics creates the collector metrics and registers them with reg when it is not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firebreak_received_total", Help: "Syslog frames received, by transport.",
		}, []string{"transport"}),
		ReceivedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "firebreak_received_bytes_total", Help: "Bytes of syslog frames received.",
		}),
		Parsed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firebreak_parsed_total", Help: "Frames parsed, by how far they were understood (typed, header, unparsed).",
		}, []string{"kind"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firebreak_dropped_total", Help: "Frames dropped before parsing, by reason.",
		}, []string{"reason"}),
		FramingErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firebreak_framing_errors_total", Help: "TCP framing errors the reader resynchronised after, by kind.",
		}, []string{"kind"}),
		Flushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "firebreak_flushes_total", Help: "Statistics flushes to the database.",
		}),
		FlushErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "firebreak_flush_errors_total", Help: "Statistics flushes that failed.",
		}),
		FlushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "firebreak_flush_duration_seconds", Help: "Time one statistics flush took.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		LastFlush: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "firebreak_last_flush_timestamp_seconds", Help: "Unix time of the last successful flush.",
		}),
		Unflushed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "firebreak_unflushed_events", Help: "Events counted but not yet in the database; they grow while flushes fail (a full disk) and are kept until one succeeds.",
		}),
		DBBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "firebreak_db_size_bytes", Help: "Size of the database file.",
		}),
		TCPConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "firebreak_tcp_connections", Help: "Open syslog TCP connections.",
		}),
		ArchiveErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "firebreak_archive_errors_total", Help: "Failed writes to the raw archive.",
		}),
		DeviceLastReceived: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "firebreak_device_last_received_timestamp_seconds",
			Help: "Unix time a syslog frame last arrived from the device (0: none since start).",
		}, []string{"device"}),
		StateCaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "firebreak_state_caps_total", Help: "Bounds on the collector's per-hour state that were reached, by kind.",
		}, []string{"kind"}),
	}
	for _, k := range []string{CapEvictedPeer, CapEvictedTerm, CapNameOverflow, CapNameRenewal, CapImplausibleBytes, CapDroppedKeys, CapHosts, CapLate} {
		m.StateCaps.WithLabelValues(k)
	}
	m.UDPKernelDrops = prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "firebreak_udp_kernel_drops_total", Help: "UDP datagrams the kernel dropped: unknown sources (socket filter) and a full receive queue.",
	}, m.udpDrops)
	// Pre-create label values so they show as 0 instead of being absent.
	for _, t := range []string{"udp", "tcp", "file"} {
		m.Received.WithLabelValues(t)
	}
	for _, k := range []string{"typed", "header", "unparsed"} {
		m.Parsed.WithLabelValues(k)
	}
	for _, r := range []string{DropUnknownSource, DropOversize, DropQueueFull, DropTooManyConns, DropTooManyConnsPerSource, DropFrameTimeout} {
		m.Dropped.WithLabelValues(r)
	}
	m.FramingErrors.WithLabelValues(FrameOctetCount)
	if reg != nil {
		reg.MustRegister(m.Received, m.ReceivedBytes, m.Parsed, m.Dropped, m.FramingErrors, m.Flushes, m.FlushErrors,
			m.FlushSeconds, m.LastFlush, m.DBBytes, m.Unflushed, m.TCPConns, m.UDPKernelDrops, m.ArchiveErrors, m.DeviceLastReceived, m.StateCaps)
	}
	return m
}

// udpWatch is the UDP socket whose kernel drops the metrics report, and its count when the
// watch began.
type udpWatch struct {
	c    syscall.Conn
	base uint32
	last atomic.Uint32 // the count when last read, reported once the socket is closed
}

// watchUDP makes UDPKernelDrops count c's drops from now on.
func (m *Metrics) watchUDP(c syscall.Conn) {
	base, _ := kernelDrops(c)
	w := &udpWatch{c: c, base: base}
	w.last.Store(base)
	m.udp.Store(w)
}

func (m *Metrics) udpDrops() float64 {
	w := m.udp.Load()
	if w == nil {
		return 0
	}
	n, err := kernelDrops(w.c)
	if err != nil {
		n = w.last.Load() // the socket is closed
	} else {
		w.last.Store(n)
	}
	return float64(n - w.base) // uint32 arithmetic survives a wrap
}
