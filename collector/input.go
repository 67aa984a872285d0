// Package collector turns syslog from the network or from files into typed events and feeds
// them to the statistics store: framing (UDP datagrams, TCP newline and octet-counted frames,
// file lines), the source allow-list, the parse → aggregate → flush pipeline and the raw archive.
package collector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// OpenLog opens a log file for reading, transparently decompressing gzip (detected by its magic
// bytes, not by the file name). The name "-" means r is standard input. The caller closes the
// result.
func OpenLog(name string, stdin io.Reader) (io.ReadCloser, error) {
	return openLog(name, stdin, nil)
}

// openLog is OpenLog that also reports the bytes read from the file itself (before
// decompression) to count, when it is not nil.
func openLog(name string, stdin io.Reader, count func(int64)) (io.ReadCloser, error) {
	var f io.ReadCloser
	if name == "-" {
		f = io.NopCloser(stdin)
	} else {
		file, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("open log: %w", err)
		}
		f = file
	}
	var src io.Reader = f
	if count != nil {
		src = countingReader{r: f, n: count}
	}
	br := bufio.NewReaderSize(src, 256<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		// Member by member, past a member a crash cut short (see memberReader).
		mr := newMemberReader(br)
		return readCloser{Reader: bufio.NewReaderSize(mr, 256<<10), closers: []io.Closer{f}, damaged: func() int { return mr.damaged }}, nil
	}
	return readCloser{Reader: br, closers: []io.Closer{f}}, nil
}

type readCloser struct {
	io.Reader
	closers []io.Closer
	damaged func() int // gzip members cut short or broken so far; nil for plain files
}

// DamagedMembers reports how many gzip members of r (a reader from OpenLog) were cut short
// or broken and skipped past; 0 for plain files.
func DamagedMembers(r io.Reader) int {
	if rc, ok := r.(readCloser); ok && rc.damaged != nil {
		return rc.damaged()
	}
	return 0
}

func (r readCloser) Close() error {
	var errs []error
	for _, c := range r.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// LineScanner splits a stream into lines without allocating per line. A line longer than the
// maximum is not dropped: it is returned cut at the maximum with Oversize set, and the rest of
// it is skipped (counted in Skipped).
type LineScanner struct {
	r       *bufio.Reader
	max     int
	line    []byte
	long    []byte
	err     error
	Skipped int64 // bytes skipped from oversize lines
}

// NewLineScanner reads lines of at most max bytes (excluding the newline) from r.
func NewLineScanner(r io.Reader, max int) *LineScanner {
	return &LineScanner{r: bufio.NewReaderSize(r, 256<<10), max: max}
}

// Next advances to the next line. It returns false at the end of the input or on a read error
// (see Err). The slice returned by Line is valid until the next call to Next.
func (s *LineScanner) Next(ctx context.Context) (oversize bool, ok bool) {
	if s.err != nil {
		return false, false
	}
	if err := ctx.Err(); err != nil {
		s.err = err
		return false, false
	}
	s.long = s.long[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		switch {
		case err == nil:
			if len(s.long) == 0 {
				s.line = trimEOL(chunk)
			} else {
				s.long = append(s.long, chunk...)
				s.line = trimEOL(s.long)
			}
			return s.clip(), true
		case errors.Is(err, bufio.ErrBufferFull):
			if len(s.long) < s.max+1 {
				s.long = append(s.long, chunk...)
			} else {
				s.Skipped += int64(len(chunk))
			}
			continue
		case errors.Is(err, io.EOF):
			s.err = io.EOF
			if len(chunk) == 0 && len(s.long) == 0 {
				return false, false
			}
			s.long = append(s.long, chunk...)
			s.line = trimEOL(s.long)
			return s.clip(), true
		default:
			s.err = err
			return false, false
		}
	}
}

func (s *LineScanner) clip() bool {
	if len(s.line) > s.max {
		s.Skipped += int64(len(s.line) - s.max)
		s.line = s.line[:s.max]
		return true
	}
	return false
}

// Line returns the current line without its line ending.
func (s *LineScanner) Line() []byte { return s.line }

// Err returns the first error other than io.EOF.
func (s *LineScanner) Err() error {
	if errors.Is(s.err, io.EOF) {
		return nil
	}
	return s.err
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
