package collector

import (
	"context"
	"fmt"
	"io"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

// MaxLine is the longest line or frame kept whole; longer ones are cut and counted as oversize.
// ASA messages are at most about 1 KiB; 8 KiB leaves room for relays and RFC 5424 data.
const MaxLine = 8 << 10

// ReplayFile parses every line of the named log (plain or gzip; "-" for stdin) and calls fn with
// each event, in order. Every line yields an event, unparsed ones included. The event and its
// strings are valid only during the call. The returned counts cover what was read even when an
// error stops the replay.
func ReplayFile(ctx context.Context, name string, stdin io.Reader, p *ciscolog.Parser, fn func(ev *ciscolog.Event) error) (Tally, error) {
	var t Tally
	r, err := OpenLog(name, stdin)
	if err != nil {
		return t, err
	}
	defer r.Close()
	s := NewLineScanner(r, MaxLine)
	var (
		ev   ciscolog.Event
		conv []byte
	)
	for {
		oversize, ok := s.Next(ctx)
		if !ok {
			break
		}
		line := s.Line()
		if len(line) == 0 {
			continue
		}
		if line[0] == '{' {
			if f, isJSON, err := FromExport(conv[:0], line); err == nil && isJSON {
				conv, line = f, f
			}
		}
		p.Parse(line, &ev)
		t.Add(&ev)
		if oversize {
			t.Oversize++
		}
		if err := fn(&ev); err != nil {
			return t, err
		}
	}
	if err := s.Err(); err != nil {
		return t, fmt.Errorf("read %s: %w", name, err)
	}
	return t, nil
}
