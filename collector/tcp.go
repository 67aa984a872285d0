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
	"os"
	"sync"
	"time"
)

// tcpReceiver accepts syslog over TCP with RFC 6587 framing: octet counting ("LEN SP MSG") when
// a frame starts with a digit, otherwise non-transparent framing ended by LF (or NUL).
//
// Slow or greedy peers are bounded three ways: at most maxConns connections, at most
// perSource of them from one address, and a frame must arrive whole within frameTimeout of
// its first byte (idle only bounds the silence between frames).
type tcpReceiver struct {
	ln           net.Listener
	allow        Allow
	out          chan<- *Batch
	pool         *batchPool
	metrics      *Metrics
	log          *slog.Logger
	maxMsg       int
	idle         time.Duration // a connection with no data for this long is closed
	frameTimeout time.Duration // a frame not whole this long after its first byte is dropped
	maxConns     int
	perSource    int

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	bySource map[netip.Addr]int // open connections per source; only allowed sources, so bounded
	wg       sync.WaitGroup
}

// run accepts connections until the listener is closed, then closes every open connection
// and waits for their goroutines to end.
func (r *tcpReceiver) run(ctx context.Context) error {
	r.conns = make(map[net.Conn]struct{})
	r.bySource = make(map[netip.Addr]int)
	if r.perSource <= 0 {
		r.perSource = r.maxConns
	}
	if r.frameTimeout <= 0 {
		r.frameTimeout = r.idle
	}
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
		if r.bySource[src] >= r.perSource {
			r.mu.Unlock()
			r.metrics.Dropped.WithLabelValues(DropTooManyConnsPerSource).Inc()
			c.Close()
			continue
		}
		r.conns[c] = struct{}{}
		r.bySource[src]++
		r.mu.Unlock()
		r.metrics.TCPConns.Inc()
		r.wg.Go(func() {
			defer func() {
				r.mu.Lock()
				delete(r.conns, c)
				if r.bySource[src]--; r.bySource[src] <= 0 {
					delete(r.bySource, src)
				}
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

// serve reads frames from one connection until EOF, an error, the idle timeout or a frame
// deadline.
func (r *tcpReceiver) serve(ctx context.Context, c net.Conn, src netip.Addr) error {
	received := r.metrics.Received.WithLabelValues("tcp")
	oversize := r.metrics.Dropped.WithLabelValues(DropOversize)
	badCount := r.metrics.FramingErrors.WithLabelValues(FrameOctetCount)
	dr := &deadlineReader{c: c, idle: r.idle}
	br := bufio.NewReaderSize(dr, max(64<<10, r.maxMsg+64))
	fr := frameReader{r: br, max: r.maxMsg}
	b := r.pool.get()
	defer func() {
		r.send(ctx, b)
	}()
	for {
		// Between frames only the idle timeout applies; from a frame's first byte, the frame
		// deadline does too.
		dr.frameEnd = time.Time{}
		if _, err := br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		dr.frameEnd = time.Now().Add(r.frameTimeout)
		p, fl, err := fr.next()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				r.metrics.Dropped.WithLabelValues(DropFrameTimeout).Inc()
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		received.Inc()
		r.metrics.ReceivedBytes.Add(float64(len(p)))
		if fl&frameBadCount != 0 {
			badCount.Inc()
		}
		// An oversize frame is dropped, as documented: its cut end could misstate a field
		// (a byte count cut mid-number), so it is neither parsed nor archived.
		if fl&frameCut != 0 {
			oversize.Inc()
		} else if p = trimFrame(p); len(p) > 0 {
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

// deadlineReader extends the read deadline before every read, so only an idle peer is cut
// off, but never past frameEnd (when set): a frame trickling in a byte at a time ends there.
type deadlineReader struct {
	c        net.Conn
	idle     time.Duration
	frameEnd time.Time
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	dl := time.Now().Add(d.idle)
	if !d.frameEnd.IsZero() && d.frameEnd.Before(dl) {
		dl = d.frameEnd
	}
	if err := d.c.SetReadDeadline(dl); err != nil {
		return 0, err
	}
	return d.c.Read(p)
}

// frameFlags describe a frame next returned.
type frameFlags uint8

const (
	frameCut      frameFlags = 1 << iota // longer than max: only the first max bytes are kept
	frameBadCount                        // its octet count was wrong; the reader resynchronised
)

// frameReader splits an RFC 6587 stream into frames.
//
// An octet count is trusted only as far as the stream agrees with it: a count above the
// maximum frame is not followed (the frame is read up to where the next frame starts), and
// after a counted frame whose next bytes are already buffered, those bytes must be a frame
// start (a LF, NUL or CR ending the frame, "<" of a PRI, or the next "LEN SP <"). When they
// are not, the count was short: the frame goes on to the next frame start. Either case is
// flagged frameBadCount. An overstated count within the maximum swallows at most max bytes.
type frameReader struct {
	r    *bufio.Reader
	max  int
	long []byte
	cut  bool
	// counted: the last frame was octet-counted, so the next one must start at once (its
	// bytes were not yet buffered to check when that frame ended).
	counted bool
}

// next returns the next frame, valid until the following call.
func (f *frameReader) next() (p []byte, fl frameFlags, err error) {
	c, err := f.r.Peek(1)
	if err != nil {
		return nil, 0, err
	}
	counted := f.counted
	f.counted = false
	if counted && !frameStart(c) {
		// The rest of a frame whose count was short: it ends where the next frame starts.
		f.long, f.cut = f.long[:0], false
		if _, err := f.resync(' ', 0); err != nil {
			return nil, 0, err
		}
		return f.long, f.flags() | frameBadCount, nil
	}
	if c[0] >= '1' && c[0] <= '9' {
		if n, ok, err := f.octetCount(); err != nil {
			return nil, 0, err
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
	if isHeader(head) != yes {
		return 0, false, nil
	}
	n := 0
	i := 0
	for ; head[i] != ' '; i++ {
		n = n*10 + int(head[i]-'0')
	}
	if _, err := f.r.Discard(i + 1); err != nil {
		return 0, false, err
	}
	return n, true, nil
}

type tri uint8

const (
	no tri = iota
	yes
	maybe // b ends before it can tell
)

// isHeader reports whether b starts with an octet-counted frame header: 1-10 digits, not
// starting with 0, a space and "<".
func isHeader(b []byte) tri {
	if len(b) == 0 {
		return maybe
	}
	if b[0] < '1' || b[0] > '9' {
		return no
	}
	for j := 1; j < len(b); j++ {
		switch c := b[j]; {
		case c >= '0' && c <= '9':
			if j >= 10 {
				return no
			}
		case c == ' ':
			if j+1 >= len(b) {
				return maybe
			}
			if b[j+1] == '<' {
				return yes
			}
			return no
		default:
			return no
		}
	}
	return maybe
}

// frameStart reports whether buffered bytes after a counted frame are where a frame (or the
// previous frame's line ending) starts. Too few bytes to tell count as a start.
func frameStart(b []byte) bool {
	switch b[0] {
	case '\n', '\r', 0, '<':
		return true
	}
	return isHeader(b) != no
}

func (f *frameReader) readN(n int) ([]byte, frameFlags, error) {
	f.counted = true
	f.long = f.long[:0]
	f.cut = false
	if n > f.max {
		// Not followed: the frame ends where the next one starts.
		got, err := f.resync(' ', n)
		if err != nil {
			return nil, 0, fmt.Errorf("octet-counted frame: %w", err)
		}
		fl := f.flags()
		if got != n {
			fl |= frameBadCount
		}
		return f.long, fl, nil
	}
	if cap(f.long) < n {
		f.long = make([]byte, 0, n)
	}
	f.long = f.long[:n]
	if _, err := io.ReadFull(f.r, f.long); err != nil {
		return nil, 0, fmt.Errorf("octet-counted frame: %w", err)
	}
	if k := f.r.Buffered(); k > 0 {
		if next, _ := f.r.Peek(min(k, 12)); !frameStart(next) {
			if _, err := f.resync(f.long[n-1], 0); err != nil {
				return nil, 0, fmt.Errorf("octet-counted frame: %w", err)
			}
			return f.long, f.flags() | frameBadCount, nil
		}
	}
	return f.long, 0, nil
}

func (f *frameReader) flags() frameFlags {
	if f.cut {
		return frameCut
	}
	return 0
}

// keep appends seg to the frame, up to max bytes.
func (f *frameReader) keep(seg []byte) {
	if room := f.max - len(f.long); len(seg) > room {
		f.long = append(f.long, seg[:max(room, 0)]...)
		f.cut = true
		return
	}
	f.long = append(f.long, seg...)
}

// resync reads the rest of a frame whose octet count cannot be trusted: up to the next LF or
// NUL (consumed) or the next octet-counted header (left for next), keeping at most max bytes
// in f.long. prev is the byte before the first one read (a header never follows a digit). A
// claimed length want (0: none) is also a place the frame may end, when a frame starts there
// (or nothing more is waiting). It returns the bytes the frame had from where it started
// reading, and ends the frame at EOF.
func (f *frameReader) resync(prev byte, want int) (int, error) {
	n := 0
	for {
		if want > 0 && n == want {
			k := f.r.Buffered()
			if k == 0 {
				return n, nil
			}
			if next, _ := f.r.Peek(min(k, 12)); frameStart(next) {
				return n, nil
			}
			want = 0
		}
		buf, err := f.r.Peek(max(1, f.r.Buffered()))
		if want > n && len(buf) > want-n {
			buf = buf[:want-n]
		}
		if len(buf) == 0 {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		i, delim, found, undecided := boundary(buf, prev)
		f.keep(buf[:i])
		n += i
		if i > 0 {
			prev = buf[i-1]
		}
		if found {
			if delim {
				i++
			}
			_, err := f.r.Discard(i)
			return n, err
		}
		if _, err := f.r.Discard(i); err != nil {
			return n, err
		}
		if undecided {
			// A header may start here: wait for enough bytes to tell.
			b, err := f.r.Peek(12)
			if isHeader(b) == yes {
				return n, nil
			}
			if len(b) == 0 {
				if errors.Is(err, io.EOF) {
					return n, nil
				}
				return n, err
			}
			f.keep(b[:1])
			n++
			prev = b[0]
			if _, err := f.r.Discard(1); err != nil {
				return n, err
			}
		}
	}
}

// boundary finds where the next frame starts in buf: at a LF or NUL (delim: it ends this frame
// and is consumed) or at an octet-counted header that does not follow a digit. undecided
// reports that buf ends inside what may be a header starting at i.
func boundary(buf []byte, prev byte) (i int, delim, found, undecided bool) {
	for i, c := range buf {
		if c == '\n' || c == 0 {
			return i, true, true, false
		}
		if c < '1' || c > '9' {
			continue
		}
		p := prev
		if i > 0 {
			p = buf[i-1]
		}
		if p >= '0' && p <= '9' {
			continue
		}
		switch isHeader(buf[i:]) {
		case yes:
			return i, false, true, false
		case maybe:
			return i, false, false, true
		}
	}
	return len(buf), false, false, false
}

func (f *frameReader) readDelimited() ([]byte, frameFlags, error) {
	f.long = f.long[:0]
	f.cut = false
	for {
		// Peek at what is buffered (at least one byte) so that a NUL or LF can end the frame
		// without consuming the next one.
		buf, err := f.r.Peek(max(1, f.r.Buffered()))
		if len(buf) == 0 {
			if errors.Is(err, io.EOF) && len(f.long) > 0 {
				return f.long, f.flags(), nil
			}
			return nil, 0, err
		}
		i := bytes.IndexAny(buf, "\n\x00")
		seg := buf
		if i >= 0 {
			seg = buf[:i]
		}
		f.keep(seg)
		if i >= 0 {
			if _, err := f.r.Discard(i + 1); err != nil {
				return nil, 0, err
			}
			return f.long, f.flags(), nil
		}
		if _, err := f.r.Discard(len(buf)); err != nil {
			return nil, 0, err
		}
	}
}
