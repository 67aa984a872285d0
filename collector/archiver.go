package collector

import (
	"time"
)

// archiver compresses and writes the raw archive on a goroutine of its own, off the dispatch
// path: the pipeline's Run copies each batch's frames into a chunk (a memcpy) and hands full
// chunks over; compression and file writes happen here. At most archiveChunks chunks exist,
// so a slow disk holds dispatch back instead of growing memory.
type archiver struct {
	p    *Pipeline
	a    *Archive
	in   chan *archiveChunk
	free chan *archiveChunk
	cur  *archiveChunk
	done chan struct{}
	errs int
}

type archiveChunk struct {
	t     time.Time // receive time of its frames (one UTC day per chunk)
	buf   []byte    // frames, each ending in a newline
	lines int
	flush bool // flush the archive after writing this chunk
}

const (
	archiveChunks     = 4
	archiveChunkBytes = 256 << 10
)

// startArchiver starts the archiver goroutine; stop ends it.
func startArchiver(p *Pipeline) *archiver {
	w := &archiver{p: p, a: p.archive, in: make(chan *archiveChunk, archiveChunks),
		free: make(chan *archiveChunk, archiveChunks), done: make(chan struct{})}
	for range archiveChunks {
		w.free <- &archiveChunk{buf: make([]byte, 0, archiveChunkBytes+MaxLine)}
	}
	go w.run() // ends when stop closes in
	return w
}

// add copies b's frames, received at now, into the current chunk. Called on Run's goroutine.
func (w *archiver) add(now time.Time, b *Batch) {
	for i := range b.Len() {
		frame, _ := b.Frame(i)
		if w.cur != nil && !sameDay(w.cur.t, now) {
			w.send(false)
		}
		if w.cur == nil {
			w.cur = <-w.free
			w.cur.t = now
		}
		w.cur.buf = append(append(w.cur.buf, frame...), '\n')
		w.cur.lines++
		if len(w.cur.buf) >= archiveChunkBytes {
			w.send(false)
		}
	}
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

// flush hands over what is pending and asks for a flush to the file.
func (w *archiver) flush() { w.send(true) }

func (w *archiver) send(flush bool) {
	if w.cur == nil {
		w.cur = <-w.free
	}
	w.cur.flush = flush
	w.in <- w.cur
	w.cur = nil
}

// stop flushes what is pending and waits for the archiver to finish.
func (w *archiver) stop() {
	w.flush()
	close(w.in)
	<-w.done
}

func (w *archiver) run() {
	defer close(w.done)
	pending := 0 // lines written since the last flush
	for c := range w.in {
		if len(c.buf) > 0 {
			if err := w.a.WriteLines(c.t, c.buf); err != nil {
				w.failed("raw archive write failed; further failures are only counted", err)
			} else {
				pending += c.lines
			}
		}
		if c.flush {
			if err := w.a.Flush(); err != nil {
				w.failed("raw archive flush failed; further failures are only counted", err)
			} else if pending > 0 {
				w.p.mu.Lock()
				w.p.status.Archived += int64(pending)
				w.p.mu.Unlock()
				pending = 0
			}
		}
		c.buf, c.lines, c.flush = c.buf[:0], 0, false
		w.free <- c
	}
}

func (w *archiver) failed(msg string, err error) {
	w.p.metrics.ArchiveErrors.Inc()
	if w.errs++; w.errs == 1 {
		w.p.log.Error(msg, "err", err)
	}
}
