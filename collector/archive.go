package collector

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Archive appends every received frame to a gzip file per UTC day (raw-YYYY-MM-DD.log.gz in
// its folder), so any past day can be replayed with `firebreak ingest`. Appending after a
// restart starts a new gzip member in the same file, which gzip readers join transparently.
//
// An Archive is owned by one goroutine (the pipeline); it is not safe for concurrent use.
type Archive struct {
	dir string
	day string
	f   *os.File
	zw  *gzip.Writer
	bw  *bufio.Writer
}

// OpenArchive prepares the archive folder; files are opened on the first write.
func OpenArchive(dir string) (*Archive, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("raw archive: %w", err)
	}
	return &Archive{dir: dir}, nil
}

// ArchiveName is the file holding the frames received on the UTC day of t.
func ArchiveName(dir string, t time.Time) string {
	return filepath.Join(dir, "raw-"+t.UTC().Format(time.DateOnly)+".log.gz")
}

// Write appends one frame received at t (a newline is added).
func (a *Archive) Write(t time.Time, frame []byte) error {
	day := t.UTC().Format(time.DateOnly)
	if day != a.day || a.f == nil {
		if err := a.rotate(t); err != nil {
			return err
		}
	}
	if _, err := a.bw.Write(frame); err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	if err := a.bw.WriteByte('\n'); err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	return nil
}

func (a *Archive) rotate(t time.Time) error {
	if err := a.closeFile(); err != nil {
		return err
	}
	name := ArchiveName(a.dir, t)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err != nil {
		f.Close()
		return fmt.Errorf("raw archive: %w", err)
	}
	a.f, a.zw, a.day = f, zw, t.UTC().Format(time.DateOnly)
	a.bw = bufio.NewWriterSize(zw, 64<<10)
	return nil
}

// Flush pushes buffered frames through gzip to the file, so a crash loses at most what came
// after the last flush.
func (a *Archive) Flush() error {
	if a.f == nil {
		return nil
	}
	if err := a.bw.Flush(); err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	if err := a.zw.Flush(); err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	return nil
}

func (a *Archive) closeFile() error {
	if a.f == nil {
		return nil
	}
	err := errors.Join(a.bw.Flush(), a.zw.Close(), a.f.Close())
	a.f, a.zw, a.bw = nil, nil, nil
	if err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	return nil
}

// Close flushes and closes the current file.
func (a *Archive) Close() error { return a.closeFile() }

// PruneArchive removes the daily files in dir older than keep, judged by the day in their name.
// It shares no state with a running Archive: today's file, the one being written, is never
// old enough (keep is at least a day; shorter values are raised to a day).
func PruneArchive(dir string, keep time.Duration, now time.Time) (removed int, err error) {
	if keep <= 0 {
		return 0, nil
	}
	keep = max(keep, 24*time.Hour)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("raw archive: %w", err)
	}
	cutoff := now.UTC().Add(-keep)
	var errs []error
	for _, e := range entries {
		name := e.Name()
		day, ok := strings.CutPrefix(name, "raw-")
		if !ok {
			continue
		}
		day, ok = strings.CutSuffix(day, ".log.gz")
		if !ok {
			continue
		}
		t, perr := time.Parse(time.DateOnly, day)
		if perr != nil || !t.Add(24*time.Hour).Before(cutoff) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			errs = append(errs, err)
			continue
		}
		removed++
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("raw archive prune: %w", err)
	}
	return removed, nil
}
