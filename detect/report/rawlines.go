package report

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/policies"
)

// Bounds of the raw lines of a drill-down: a page shows linesPerPage lines, at most
// maxLinePages pages are offered, and one request reads at most maxScanLines archived lines,
// so a reload cannot keep the disk busy for long.
const (
	linesPerPage = 100
	maxLinePages = 1000
	maxScanLines = 3_000_000
)

// LinesSection is one page of the raw archived lines of a window. Lines are untrusted text:
// every renderer escapes them.
type LinesSection struct {
	Lines   []string `json:"lines"`
	Page    int      `json:"page"` // from 0
	PerPage int      `json:"per_page"`
	First   int      `json:"first"`   // 1-based number of the first line shown among the matches
	More    bool     `json:"more"`    // a next page exists
	Scanned int64    `json:"scanned"` // archived lines read to answer
	Files   []string `json:"files"`   // archive files read (base names)
	Note    string   `json:"note,omitempty"`
}

// archiveScans lets one archive scan run at a time in the process; others wait (or give up
// when their request ends).
var archiveScans = make(chan struct{}, 1)

// readArchive returns page of the archived lines whose own timestamp is in w and that match
// f's host (either address of the line) and device (its hostname). The archive files are per
// UTC day of receipt, so the days of the window and one either side are read.
func readArchive(ctx context.Context, dir string, cfg *policies.Config, w Window, f Filter, page int) LinesSection {
	s := LinesSection{Page: page, PerPage: linesPerPage, First: page*linesPerPage + 1}
	if dir == "" {
		s.Note = "the raw archive is not available to this page"
		return s
	}
	select {
	case archiveScans <- struct{}{}:
		defer func() { <-archiveScans }()
	case <-ctx.Done():
		s.Note = "gave up waiting for another archive scan"
		return s
	}
	var dev *policies.Device
	if f.Device != "" {
		dev, _ = cfg.DeviceByName(f.Device)
	}
	site := cfg.Location()
	zone := func(host string) *time.Location {
		if d, ok := cfg.DeviceByName(host); ok {
			return d.Location()
		}
		return site
	}
	skip := page * linesPerPage
	matched := 0
	var ev ciscolog.Event
	first := w.From.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	last := w.To.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		names, err := collector.ArchiveFiles(dir, day)
		if err != nil {
			s.Note = fmt.Sprintf("the raw archive could not be read: %v", err)
			return s
		}
		dayEnd := day.Add(48 * time.Hour) // the clock for year-less stamps received that day
		p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return dayEnd }, MaxFrame: collector.MaxLine, Zone: zone})
		for _, name := range names {
			s.Files = append(s.Files, filepath.Base(name))
			done, err := scanArchiveFile(ctx, name, p, &ev, func(line []byte) bool {
				s.Scanned++
				if s.Scanned > maxScanLines {
					s.Note = fmt.Sprintf("stopped after reading %s archived lines; narrow the window or the filter", fmtCount(maxScanLines))
					return false
				}
				if ev.Time.IsZero() || ev.Time.Before(w.From) || !ev.Time.Before(w.To) {
					return true
				}
				if f.Device != "" && (dev == nil || (ev.Host != dev.Name && (dev.SSH.Hostname == "" || ev.Host != dev.SSH.Hostname))) {
					return true
				}
				if h := f.Host; h.IsValid() && ev.Src.Addr != h && ev.Dst.Addr != h && ev.Src.MappedAddr != h && ev.Dst.MappedAddr != h {
					return true
				}
				matched++
				if matched <= skip {
					return true
				}
				if len(s.Lines) == linesPerPage {
					s.More = true
					return false
				}
				s.Lines = append(s.Lines, string(line))
				return true
			})
			if err != nil {
				s.Note = fmt.Sprintf("the raw archive could not be read: %v", err)
				return s
			}
			if done {
				return s
			}
		}
	}
	if matched == 0 && s.Note == "" {
		s.Note = "no archived lines in this window"
		if len(s.Files) == 0 {
			s.Note = "no raw archive files for these days (lines are archived by the daemon as they arrive; ingested files are not)"
		}
	} else if len(s.Lines) == 0 && s.Note == "" {
		s.Note = fmt.Sprintf("only %s matching lines: no page %d", fmtCount(uint64(matched)), page+1)
	}
	return s
}

// scanArchiveFile parses each line of one archive file into ev and calls fn until it returns
// false (done is then true).
func scanArchiveFile(ctx context.Context, name string, p *ciscolog.Parser, ev *ciscolog.Event, fn func(line []byte) bool) (done bool, err error) {
	r, err := collector.OpenLog(name, nil)
	if err != nil {
		return false, err
	}
	defer r.Close()
	sc := collector.NewLineScanner(r, collector.MaxLine)
	for {
		if _, ok := sc.Next(ctx); !ok {
			break
		}
		line := sc.Line()
		if len(line) == 0 {
			continue
		}
		p.Parse(line, ev)
		if !fn(line) {
			return true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("read %s: %w", filepath.Base(name), err)
	}
	return false, nil
}
