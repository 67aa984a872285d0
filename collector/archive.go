package collector

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Archive appends every received frame to gzip files per UTC day in its folder, so any past day
// can be replayed with `firebreak ingest`. Each Archive (each start of the daemon) opens a
// file of its own for a day: raw-YYYY-MM-DD.log.gz, then raw-YYYY-MM-DD.1.log.gz and so on.
// A crash can leave only the end of its own file unterminated; what a restart writes is in a
// new, whole file (appending a member to the crashed file would hide it from gzip readers
// behind the broken member). OpenLog reads a file with a cut or damaged member up to the damage
// and on from the next member.
//
// The compressor is klauspost/compress's gzip (the gzip format, about twice the speed of
// compress/gzip at the same level).
//
// An Archive is owned by one goroutine (the pipeline's archiver); it is not safe for
// concurrent use.
type Archive struct {
	dir string
	day string
	f   *os.File
	zw  *gzip.Writer
	bw  *bufio.Writer // frames, into the compressor
	// fw gathers the compressor's output: it writes every 240 bytes, a write(2) each.
	fw *bufio.Writer
}

// OpenArchive prepares the archive folder; files are opened on the first write.
func OpenArchive(dir string) (*Archive, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("raw archive: %w", err)
	}
	return &Archive{dir: dir}, nil
}

// ArchiveName is the first file holding the frames received on the UTC day of t (see
// ArchiveFiles for all of them).
func ArchiveName(dir string, t time.Time) string {
	return filepath.Join(dir, "raw-"+t.UTC().Format(time.DateOnly)+".log.gz")
}

// ArchiveFiles lists the day's archive files in the order they were written.
func ArchiveFiles(dir string, t time.Time) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("raw archive: %w", err)
	}
	want := t.UTC().Format(time.DateOnly)
	type file struct {
		seq  int
		name string
	}
	var files []file
	for _, e := range entries {
		if day, seq, ok := parseArchiveName(e.Name()); ok && day == want {
			files = append(files, file{seq, filepath.Join(dir, e.Name())})
		}
	}
	slices.SortFunc(files, func(a, b file) int { return a.seq - b.seq })
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
	}
	return names, nil
}

// parseArchiveName splits raw-DAY.log.gz (seq 0) and raw-DAY.N.log.gz.
func parseArchiveName(name string) (day string, seq int, ok bool) {
	rest, ok := strings.CutPrefix(name, "raw-")
	if !ok {
		return "", 0, false
	}
	rest, ok = strings.CutSuffix(rest, ".log.gz")
	if !ok || len(rest) < len(time.DateOnly) {
		return "", 0, false
	}
	day, rest = rest[:len(time.DateOnly)], rest[len(time.DateOnly):]
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return "", 0, false
	}
	if rest == "" {
		return day, 0, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(rest, "."))
	if err != nil || n <= 0 || rest[0] != '.' {
		return "", 0, false
	}
	return day, n, true
}

// Write appends one frame received at t (a newline is added).
func (a *Archive) Write(t time.Time, frame []byte) error {
	if err := a.at(t); err != nil {
		return err
	}
	if _, err := a.bw.Write(frame); err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	if err := a.bw.WriteByte('\n'); err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	return nil
}

// WriteLines appends lines (whole frames, each ending in a newline) received at t.
func (a *Archive) WriteLines(t time.Time, lines []byte) error {
	if err := a.at(t); err != nil {
		return err
	}
	if _, err := a.bw.Write(lines); err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	return nil
}

func (a *Archive) at(t time.Time) error {
	if day := t.UTC().Format(time.DateOnly); day != a.day || a.f == nil {
		return a.rotate(t)
	}
	return nil
}

func (a *Archive) rotate(t time.Time) error {
	if err := a.closeFile(); err != nil {
		return err
	}
	first := ArchiveName(a.dir, t)
	var f *os.File
	for seq := 0; ; seq++ {
		name := first
		if seq > 0 {
			name = strings.TrimSuffix(first, ".log.gz") + "." + strconv.Itoa(seq) + ".log.gz"
		}
		var err error
		f, err = os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || seq > 10000 {
			return fmt.Errorf("raw archive: %w", err)
		}
	}
	fw := bufio.NewWriterSize(f, 256<<10)
	zw, err := gzip.NewWriterLevel(fw, gzip.BestSpeed)
	if err != nil {
		f.Close()
		return fmt.Errorf("raw archive: %w", err)
	}
	a.f, a.fw, a.zw, a.day = f, fw, zw, t.UTC().Format(time.DateOnly)
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
	if err := a.fw.Flush(); err != nil {
		return fmt.Errorf("raw archive: %w", err)
	}
	return nil
}

func (a *Archive) closeFile() error {
	if a.f == nil {
		return nil
	}
	err := errors.Join(a.bw.Flush(), a.zw.Close(), a.fw.Flush(), a.f.Close())
	a.f, a.fw, a.zw, a.bw = nil, nil, nil, nil
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
		day, _, ok := parseArchiveName(name)
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
