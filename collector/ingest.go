package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

// IngestProgress is told how many bytes of the input files have been read so far and their
// total (0 when unknown, e.g. stdin). It is called from the reading goroutine.
type IngestProgress func(read, total int64)

// IngestResult counts what Ingest read.
type IngestResult struct {
	Files, Lines, Oversize int64
	Bytes                  int64 // bytes read from the files (compressed size for gzip)
	// DamagedMembers are gzip members cut short (a crash while they were written) or broken:
	// read up to the damage, then reading went on at the next member.
	DamagedMembers int64
	// FromExport are JSON lines of an Elasticsearch export turned back into frames with their
	// own time; ExportRefused are JSON lines without @timestamp and message, kept raw (they
	// parse as unparsed) and counted.
	FromExport, ExportRefused int64
	FileErrors                []error
}

// Ingest replays log files (plain or gzip; "-" is stdin) through the pipeline, the same path
// live traffic takes, and returns when every line is aggregated and flushed. A file that
// cannot be read is recorded in FileErrors and the others are still ingested.
func Ingest(ctx context.Context, names []string, stdin io.Reader, p *Pipeline, progress IngestProgress) (IngestResult, error) {
	var res IngestResult
	var total int64
	for _, n := range names {
		if fi, err := os.Stat(n); err == nil && n != "-" {
			total += fi.Size()
		}
	}
	pool := newBatchPool()
	in := make(chan *Batch, 8)
	var read atomic.Int64
	readErr := make(chan error, 1)
	go func() { // owned by Ingest: ends when the files are read or ctx ends; closes in
		defer close(in)
		readErr <- readFiles(ctx, names, stdin, pool, in, &res, func(n int64) {
			r := read.Add(n)
			if progress != nil {
				progress(r, total)
			}
		}, func() *ciscolog.Parser { return hostParser(p.cfg, p.now) })
	}()
	runErr := p.Run(ctx, in)
	err := <-readErr
	res.Bytes = read.Load()
	return res, errors.Join(err, runErr)
}

// mergeOpen bounds the files a replay reads at once (each holds two 256 KiB buffers and maybe
// a gzip reader); a later file waits until one ends. Rotated files of one device, named in
// order, need one at a time.
const mergeOpen = 32

// replaySource is one input of a replay, positioned on its next line.
type replaySource struct {
	name  string
	idx   int // position on the command line: the earlier input wins a tie
	r     io.ReadCloser
	s     *LineScanner
	stamp mergeStamp
	conv  []byte // the line converted from an Elasticsearch export
	line  []byte
	t     int64 // the line's stamp (Unix ns); a line without one keeps the line before's
}

// readFiles reads the inputs into batches for the pipeline. Lines of several inputs are merged
// by their stamps (each input's own order is kept), so the statistics see the site's devices
// interleaved as they logged, as live syslog would deliver them: a router's file read after
// the firewall's would otherwise add to days already closed, rewriting each of them.
func readFiles(ctx context.Context, names []string, stdin io.Reader, pool *batchPool, out chan<- *Batch, res *IngestResult,
	progress func(int64), newStamp func() *ciscolog.Parser) error {
	b := pool.get()
	send := func() error {
		if b.Len() == 0 {
			return nil
		}
		select {
		case out <- b:
			b = pool.get()
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var open []*replaySource
	defer func() {
		b.Release()
		for _, src := range open {
			src.r.Close()
		}
	}()
	// advance moves src to its next line; false at its end, where it is closed and counted.
	advance := func(src *replaySource) (bool, error) {
		for {
			over, ok := src.s.Next(ctx)
			if !ok {
				res.DamagedMembers += int64(DamagedMembers(src.r))
				src.r.Close()
				if err := src.s.Err(); err != nil {
					if ctx.Err() != nil {
						return false, ctx.Err()
					}
					res.FileErrors = append(res.FileErrors, fmt.Errorf("%s: %w", src.name, err))
				}
				return false, nil
			}
			line := src.s.Line()
			if len(line) == 0 {
				continue
			}
			res.Lines++
			if over {
				// Dropped like an oversize frame from the network: its cut end cannot be trusted.
				res.Oversize++
				continue
			}
			if line[0] == '{' {
				f, isJSON, err := FromExport(src.conv[:0], line)
				switch {
				case err != nil:
					res.ExportRefused++
				case isJSON:
					res.FromExport++
					src.conv, line = f, f
				}
			}
			src.line = line
			if t := src.stamp.of(line); t != 0 {
				src.t = t
			}
			return true, nil
		}
	}
	next := 0
	for {
		for len(open) < mergeOpen && next < len(names) {
			name, idx := names[next], next
			next++
			r, err := openLog(name, stdin, progress)
			if err != nil {
				res.FileErrors = append(res.FileErrors, err)
				continue
			}
			res.Files++
			src := &replaySource{name: name, idx: idx, r: r, s: NewLineScanner(r, MaxLine), stamp: mergeStamp{p: newStamp()}}
			ok, err := advance(src)
			if err != nil {
				return err
			}
			if ok {
				open = append(open, src)
			}
		}
		if len(open) == 0 {
			break
		}
		i := 0
		for j, o := range open[1:] {
			if o.t < open[i].t || (o.t == open[i].t && o.idx < open[i].idx) {
				i = j + 1
			}
		}
		src := open[i]
		// src goes on while its lines are no later than every other head (ties: the earlier).
		limit := int64(math.MaxInt64)
		for _, o := range open {
			switch {
			case o == src:
			case o.idx < src.idx:
				limit = min(limit, o.t-1)
			default:
				limit = min(limit, o.t)
			}
		}
		for {
			b.add(src.line, netip.Addr{})
			if b.full(MaxLine) {
				if err := send(); err != nil {
					return err
				}
			}
			ok, err := advance(src)
			if err != nil {
				open = slices.Delete(open, i, i+1) // closed
				return err
			}
			if !ok {
				open = slices.Delete(open, i, i+1)
				break
			}
			if src.t > limit {
				break
			}
		}
	}
	return send()
}

// mergeStamp stamps a replay's lines for the merge. Parser.Stamp reads the envelope, which a
// sparse replay changes at nearly every line (its second); so a line that shares the date,
// hour and minute (its priority aside) and the host of a line stamped before gets the stamp
// from that line's minute and its own seconds. A few minutes are kept: one device's file can
// mix envelope formats. Only the merge order depends on it, not what a line counts for: the
// parser reads every line in full.
type mergeStamp struct {
	p    *ciscolog.Parser
	m    [4]stampMinute
	next int // round-robin victim
}

type stampMinute struct {
	key  []byte // the start of the line up to its minute, and its host
	base int64  // that line's stamp less its seconds (Unix ns)
}

// of returns line's stamp in Unix ns, 0 when it states none.
func (ms *mergeStamp) of(line []byte) int64 {
	start := 0
	if len(line) > 0 && line[0] == '<' {
		if j := bytes.IndexByte(line[:min(len(line), 6)], '>'); j > 0 {
			start = j + 1
		}
	}
	c := clockAt(line, start)
	if c < 0 {
		return stampNanos(ms.p.Stamp(line))
	}
	// The host: the token after the clock (and a fraction of a second).
	h := c + 8
	for h < len(line) && line[h] != ' ' {
		h++
	}
	for h < len(line) && line[h] == ' ' {
		h++
	}
	e := h
	for e < len(line) && line[e] != ' ' && e-h < 64 {
		e++
	}
	sec := int64(line[c+6]-'0')*10 + int64(line[c+7]-'0')
	minute, host := line[start:c+5], line[h:e]
	for i := range ms.m {
		m := &ms.m[i]
		if len(m.key) == len(minute)+len(host) && bytes.HasPrefix(m.key, minute) && bytes.Equal(m.key[len(minute):], host) {
			return m.base + sec*int64(time.Second)
		}
	}
	t := stampNanos(ms.p.Stamp(line))
	if t != 0 {
		m := &ms.m[ms.next]
		ms.next = (ms.next + 1) % len(ms.m)
		m.key = append(append(m.key[:0], minute...), host...)
		m.base = t - sec*int64(time.Second)
	}
	return t
}

func stampNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// clockAt returns where the first hh:mm:ss within the line's first 48 bytes from start
// begins, or -1.
func clockAt(line []byte, start int) int {
	d := func(i int) bool { return line[i] >= '0' && line[i] <= '9' }
	for i := start; i+8 <= len(line) && i < start+48; i++ {
		if line[i+2] == ':' && line[i+5] == ':' && d(i) && d(i+1) && d(i+3) && d(i+4) && d(i+6) && d(i+7) {
			return i
		}
	}
	return -1
}

type countingReader struct {
	r io.Reader
	n func(int64)
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n(int64(n))
	return n, err
}
