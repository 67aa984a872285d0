package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
)

// Listeners are the daemon's open syslog sockets. Open them with Listen (so that a port in use
// is reported before anything starts), then Run them.
type Listeners struct {
	udp     udpSocket
	udpAddr net.Addr
	tcp     net.Listener
	cfg     *policies.Config
	metrics *Metrics
	log     *slog.Logger
}

// Listen opens the UDP and TCP sockets the policy's collector section names ("off" disables
// one).
func Listen(ctx context.Context, cfg *policies.Config, m *Metrics, log *slog.Logger) (*Listeners, error) {
	l := &Listeners{cfg: cfg, metrics: m, log: log}
	co := cfg.Collector
	if co.UDPListen != policies.Off && co.UDPListen != "" {
		nc, err := ListenUDP(ctx, co.UDPListen, int(co.UDPReadBuffer))
		if err != nil {
			return nil, err
		}
		l.udpAddr = nc.LocalAddr()
		asked, got := int(co.UDPReadBuffer), UDPReadBuffer(nc)
		if bufferShort(asked, got) {
			log.Warn("udp receive buffer is smaller than asked: bursts may be lost; raise net.core.rmem_max "+
				"(sysctl -w net.core.rmem_max=N) or run with CAP_NET_ADMIN",
				"asked_bytes", asked, "granted_bytes", got/2)
		} else {
			log.Info("udp receive buffer", "asked_bytes", asked, "granted_bytes", got/2)
		}
		// Syslog from anywhere but the devices' sources is dropped by the kernel, before it
		// takes room in the receive queue that the real stream needs (issue 13 #8).
		if err := attachSourceFilter(nc, syslogSources(cfg)); err != nil {
			log.Warn("udp source filter not attached: unknown sources are dropped after they are read", "err", err)
		}
		c, err := detachUDP(nc)
		if err != nil {
			nc.Close()
			return nil, err
		}
		l.udp = c
		m.watchUDP(c)
	}
	if co.TCPListen != policies.Off && co.TCPListen != "" {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", co.TCPListen)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("listen tcp %s: %w", co.TCPListen, err)
		}
		l.tcp = ln
	}
	return l, nil
}

// UDPAddr and TCPAddr are the bound addresses (nil when disabled).
func (l *Listeners) UDPAddr() net.Addr {
	if l.udp == nil {
		return nil
	}
	return l.udpAddr
}

func (l *Listeners) TCPAddr() net.Addr {
	if l.tcp == nil {
		return nil
	}
	return l.tcp.Addr()
}

// Close closes the sockets; Run does it too when it returns.
func (l *Listeners) Close() error {
	var errs []error
	if l.udp != nil {
		l.metrics.udpDrops() // the last kernel drop count, while the socket can still tell it
		errs = append(errs, l.udp.Close())
	}
	if l.tcp != nil {
		errs = append(errs, l.tcp.Close())
	}
	return errors.Join(errs...)
}

// bufferShort reports whether the kernel granted less receive buffer than asked; it reports
// twice what it granted (it counts its bookkeeping).
func bufferShort(asked, reported int) bool { return asked > 0 && reported < 2*asked }

// syslogSources lists every device's syslog sources.
func syslogSources(cfg *policies.Config) []netip.Addr {
	var srcs []netip.Addr
	for i := range cfg.Devices {
		srcs = append(srcs, cfg.Devices[i].SyslogSources...)
	}
	return srcs
}

// Allowed reports whether addr is a configured syslog source of some device. Datagrams and
// connections from anywhere else are dropped and counted.
func allowFrom(cfg *policies.Config) Allow {
	return func(a netip.Addr) bool {
		_, ok := cfg.DeviceBySource(a)
		return ok
	}
}

// Run receives syslog until ctx ends, then closes the sockets, lets the pipeline take what was
// already received, flushes it and returns. It owns the receiver and pipeline goroutines.
func (l *Listeners) Run(ctx context.Context, p *Pipeline) error {
	co := l.cfg.Collector
	queue := max(co.QueueSize/batchFrames, 4)
	in := make(chan *Batch, queue)
	pool := newBatchPool()
	allow := allowFrom(l.cfg)
	maxMsg := int(co.MaxMessageSize)
	if maxMsg <= 0 {
		maxMsg = MaxLine
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	if l.udp != nil {
		r := &udpReceiver{conn: l.udp, allow: allow, out: in, pool: pool, metrics: l.metrics,
			log: l.log, maxMsg: maxMsg, linger: 20 * time.Millisecond, pause: udpPauseFor(UDPReadBuffer(l.udp))}
		wg.Go(func() { errs <- r.run(ctx) })
	}
	if l.tcp != nil {
		idle := time.Duration(co.TCPIdleTimeout)
		if idle <= 0 {
			idle = 5 * time.Minute
		}
		r := &tcpReceiver{ln: l.tcp, allow: allow, out: in, pool: pool, metrics: l.metrics,
			log: l.log, maxMsg: maxMsg, idle: idle, maxConns: max(co.TCPMaxConns, 1),
			perSource: co.TCPMaxConnsPerSource, frameTimeout: time.Duration(co.TCPFrameTimeout)}
		wg.Go(func() { errs <- r.run(ctx) })
	}
	stop := context.AfterFunc(ctx, func() { l.Close() }) // unblocks reads and Accept
	defer stop()
	pipeErr := make(chan error, 1)
	go func() { pipeErr <- p.Run(ctx, in) }() // ends when in is closed below
	wg.Wait()
	close(in)
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	all = append(all, <-pipeErr)
	return errors.Join(all...)
}
