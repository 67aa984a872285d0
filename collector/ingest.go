package collector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync/atomic"
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
		})
	}()
	runErr := p.Run(ctx, in)
	err := <-readErr
	res.Bytes = read.Load()
	return res, errors.Join(err, runErr)
}

func readFiles(ctx context.Context, names []string, stdin io.Reader, pool *batchPool, out chan<- *Batch, res *IngestResult, progress func(int64)) error {
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
	defer func() { b.Release() }()
	var conv []byte // reused for lines of Elasticsearch exports
	for _, name := range names {
		r, err := openLog(name, stdin, progress)
		if err != nil {
			res.FileErrors = append(res.FileErrors, err)
			continue
		}
		res.Files++
		s := NewLineScanner(r, MaxLine)
		for {
			over, ok := s.Next(ctx)
			if !ok {
				break
			}
			line := s.Line()
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
				f, isJSON, err := FromExport(conv[:0], line)
				switch {
				case err != nil:
					res.ExportRefused++
				case isJSON:
					res.FromExport++
					conv, line = f, f
				}
			}
			b.add(line, netip.Addr{})
			if b.full(MaxLine) {
				if err := send(); err != nil {
					r.Close()
					return err
				}
			}
		}
		res.DamagedMembers += int64(DamagedMembers(r))
		r.Close()
		if err := s.Err(); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.FileErrors = append(res.FileErrors, fmt.Errorf("%s: %w", name, err))
		}
	}
	return send()
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
