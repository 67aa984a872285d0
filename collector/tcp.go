package collector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// tcpReceiver accepts syslog over TCP with RFC 6587 framing: octet counting ("LEN SP MSG") when
// a frame starts with a digit, otherwise non-transparent framing ended by LF (or NUL).
type tcpReceiver struct {
	ln       net.Listener
	allow    Allow
	out      chan<- *Batch
	pool     *batchPool
	metrics  *Metrics
	log      *slog.Logger
	maxMsg   int
	idle     time.Duration // a connection with no data for this long is closed
	maxConns int

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// run accepts connections until the listener is closed, then closes every open connection
// and waits for their goroutines to end.
func (r *tcpReceiver) run(ctx context.Context) error {
	r.conns = make(map[net.Conn]struct{})
	defer func() {
		r.mu.Lock()
		for c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
		r.wg.Wait()
	}()
	backoff := 5 * time.Millisecond
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			// Temporary failures (EMFILE...): back off instead of spinning.
			r.log.Warn("tcp accept", "err", err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
		src := ap.Addr().Unmap()
		if !r.allow(src) {
			r.metrics.Dropped.WithLabelValues(DropUnknownSource).Inc()
			c.Close()
			continue
		}
		r.mu.Lock()
		if len(r.conns) >= r.maxConns {
			r.mu.Unlock()
			r.metrics.Dropped.WithLabelValues(DropTooManyConns).Inc()
			c.Close()
			continue
		}
		r.conns[c] = struct{}{}
		r.mu.Unlock()
		r.metrics.TCPConns.Inc()
		r.wg.Go(func() {
			defer func() {
				r.mu.Lock()
				delete(r.conns, c)
				r.mu.Unlock()
				c.Close()
				r.metrics.TCPConns.Dec()
			}()
			if err := r.serve(ctx, c, src); err != nil {
				r.log.Debug("tcp connection closed", "peer", c.RemoteAddr().String(), "err", err)
			}
		})
	}
}

// serve reads frames from one connection until EOF, an error or the idle timeout.
func (r *tcpReceiver) serve(ctx context.Context, c net.Conn, src netip.Addr) error {
	received := r.metrics.Received.WithLabelValues("tcp")
	oversize := r.metrics.Dropped.WithLabelValues(DropOversize)
	br := bufio.NewReaderSize(deadlineReader{c: c, idle: r.idle}, 64<<10)
	fr := frameReader{r: br, max: r.maxMsg}
	b := r.pool.get()
	defer func() {
		r.send(ctx, b)
	}()
	for {
		p, cut, err := fr.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		received.Inc()
		r.metrics.ReceivedBytes.Add(float64(len(p)))
		if cut {
			oversize.Inc()
		}
		if p = trimFrame(p); len(p) > 0 {
			b.add(p, src)
		}
		// Hand the batch over when it is full or when no more data is waiting, so a quiet
		// sender's lines are not held back.
		if b.full(r.maxMsg) || br.Buffered() == 0 {
			if !r.send(ctx, b) {
				return ctx.Err()
			}
			b = r.pool.get()
		}
	}
}

// send hands b to the pipeline, blocking (TCP pushes back on the sender). It reports false
// when the context ended first.
func (r *tcpReceiver) send(ctx context.Context, b *Batch) bool {
	if b.Len() == 0 {
		b.Release()
		return true
	}
	select {
	case r.out <- b:
		return true
	case <-ctx.Done():
		b.Release()
		return false
	}
}

// deadlineReader extends the read deadline before every read, so only an idle peer is cut off.
type deadlineReader struct {
	c    net.Conn
	idle time.Duration
}

func (d deadlineReader) Read(p []byte) (int, error) {
	if err := d.c.SetReadDeadline(time.Now().Add(d.idle)); err != nil {
		return 0, err
	}
	return d.c.Read(p)
}

// frameReader splits an RFC 6587 stream into frames.
type frameReader struct {
	r    *bufio.Reader
	max  int
	long []byte
}

// next returns the next frame, valid until the following call. cut reports that the frame was
// longer than max and was shortened.
func (f *frameReader) next() (p []byte, cut bool, err error) {
	c, err := f.r.Peek(1)
	if err != nil {
		return nil, false, err
	}
	if c[0] >= '1' && c[0] <= '9' {
		if n, ok, err := f.octetCount(); err != nil {
			return nil, false, err
		} else if ok {
			return f.readN(n)
		}
	}
	return f.readDelimited()
}

// octetCount parses "LEN SP" if present and followed by a PRI ("<"), as RFC 6587 frames are. A
// frame that merely starts with a digit (senders that omit the PRI) is left for newline framing.
func (f *frameReader) octetCount() (int, bool, error) {
	head, _ := f.r.Peek(12)
	n := 0
	for i, c := range head {
		switch {
		case c >= '0' && c <= '9' && i < 10:
			n = n*10 + int(c-'0')
		case c == ' ' && i > 0:
			if i+1 >= len(head) || head[i+1] != '<' {
				return 0, false, nil
			}
			if _, err := f.r.Discard(i + 1); err != nil {
				return 0, false, err
			}
			return n, true, nil
		default:
			return 0, false, nil
		}
	}
	return 0, false, nil
}

func (f *frameReader) readN(n int) ([]byte, bool, error) {
	keep := min(n, f.max)
	f.long = f.long[:0]
	if cap(f.long) < keep {
		f.long = make([]byte, 0, keep)
	}
	f.long = f.long[:keep]
	if _, err := io.ReadFull(f.r, f.long); err != nil {
		return nil, false, fmt.Errorf("octet-counted frame: %w", err)
	}
	if n > keep {
		if _, err := f.r.Discard(n - keep); err != nil {
			return nil, false, fmt.Errorf("octet-counted frame: %w", err)
		}
	}
	return f.long, n > keep, nil
}

func (f *frameReader) readDelimited() ([]byte, bool, error) {
	f.long = f.long[:0]
	cut := false
	for {
		// Peek at what is buffered (at least one byte) so that a NUL or LF can end the frame
		// without consuming the next one.
		buf, err := f.r.Peek(max(1, f.r.Buffered()))
		if len(buf) == 0 {
			if errors.Is(err, io.EOF) && len(f.long) > 0 {
				return f.long, cut, nil
			}
			return nil, false, err
		}
		i := bytes.IndexAny(buf, "\n\x00")
		seg := buf
		if i >= 0 {
			seg = buf[:i]
		}
		if room := f.max - len(f.long); len(seg) > room {
			f.long = append(f.long, seg[:max(room, 0)]...)
			cut = true
		} else {
			f.long = append(f.long, seg...)
		}
		if i >= 0 {
			if _, err := f.r.Discard(i + 1); err != nil {
				return nil, false, err
			}
			return f.long, cut, nil
		}
		if _, err := f.r.Discard(len(buf)); err != nil {
			return nil, false, err
		}
	}
}
