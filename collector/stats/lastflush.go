package stats

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LastFlushFile is the small record beside the database of the last flush written to it. Open
// compares it with the flush marker inside the database: a database behind its record lost
// data since (cut short, emptied or replaced), and is refused.
const LastFlushFile = "firebreak.db.last-flush"

// flushKey is the database's own flush marker, "seq unixnano", set after every flush.
const flushKey = "meta|flush"

// ErrBehind is returned (wrapped in a *BehindError) by Open when the database holds fewer
// flushes than its last-flush record says were written.
var ErrBehind = errors.New("database is behind its record of the last flush")

// BehindError says how far behind its record the database is.
type BehindError struct {
	Path        string
	DBFlush     uint64    // the last flush the file holds (0: none)
	DBAt        time.Time // when it was written
	RecordFlush uint64    // the last flush the record says was written
	RecordAt    time.Time
	RecordBytes int64 // the file's size after that flush
	FileBytes   int64 // the file's size now
}

func (e *BehindError) Error() string {
	held := "no flush at all"
	if e.DBFlush > 0 {
		held = fmt.Sprintf("flushes up to #%d (%s)", e.DBFlush, e.DBAt.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s holds %s, but flush #%d (%s) was written to it, when it had %d bytes (now %d): "+
		"the file was cut short, emptied or replaced. Run `firebreak db check` for details; restore a backup, "+
		"or start with what is left with `firebreak db check --accept`",
		e.Path, held, e.RecordFlush, e.RecordAt.UTC().Format(time.RFC3339), e.RecordBytes, e.FileBytes)
}

func (e *BehindError) Unwrap() error { return ErrBehind }

// lastFlush is the record's content.
type lastFlush struct {
	Flush   uint64    `json:"flush"`
	At      time.Time `json:"at"`
	DBBytes int64     `json:"db_bytes"`
}

func readLastFlush(dir string) (lastFlush, bool, error) {
	var r lastFlush
	b, err := os.ReadFile(filepath.Join(dir, LastFlushFile))
	if errors.Is(err, fs.ErrNotExist) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("read last-flush record: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, false, fmt.Errorf("read last-flush record %s: %w", filepath.Join(dir, LastFlushFile), err)
	}
	return r, true, nil
}

// writeLastFlush replaces the record (write and rename, so it is never half written).
func writeLastFlush(dir string, r lastFlush) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	name := filepath.Join(dir, LastFlushFile)
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("write last-flush record: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("write last-flush record: %w", err)
	}
	return nil
}

func parseFlushMarker(v string) (uint64, time.Time) {
	seq, at, _ := strings.Cut(v, " ")
	n, _ := strconv.ParseUint(seq, 10, 64)
	ns, _ := strconv.ParseInt(at, 10, 64)
	return n, time.Unix(0, ns).UTC()
}

// lockDir takes the kernel's exclusive lock (flock) on the data folder itself: unlike the lock
// file, it cannot be removed from under its owner, and unlike the database file, buntdb's
// compaction (which renames a new file over it) does not replace it. The lock ends with the
// process.
func lockDir(dir string) (*os.File, bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	return f, true, nil
}

// CheckReport is what Check found.
type CheckReport struct {
	Path      string `json:"path"`
	FileBytes int64  `json:"file_bytes"`
	Exists    bool   `json:"exists"`
	// ValidBytes is how far the file parses as whole commands; Commands counts them.
	ValidBytes int64 `json:"valid_bytes"`
	Commands   int   `json:"commands"`
	// PartialTail: the file ends inside a command (a crash mid-write); Open drops that part.
	PartialTail bool `json:"partial_tail"`
	// Damaged: the file does not parse at ValidBytes and more follows (Open refuses it).
	Damaged bool `json:"damaged"`

	DBFlush     uint64    `json:"db_flush"` // the last flush marker in the file (0: none)
	DBAt        time.Time `json:"db_at"`
	HasRecord   bool      `json:"has_record"` // a last-flush record exists
	RecordFlush uint64    `json:"record_flush"`
	RecordAt    time.Time `json:"record_at"`
	RecordBytes int64     `json:"record_bytes"`
	InUse       bool      `json:"in_use"` // another process holds the data folder (the check only reads)

	OK      bool   `json:"ok"`      // Open would accept the file
	Verdict string `json:"verdict"` // one paragraph for a person
}

// Check reads the database file and its last-flush record without changing either, and says
// whether Open would accept them and why.
func Check(dir string) (CheckReport, error) {
	r := CheckReport{Path: filepath.Join(dir, DBFile)}
	if f, ok, err := lockDir(dir); err == nil {
		if ok {
			f.Close()
		} else {
			r.InUse = true
		}
	}
	rec, has, err := readLastFlush(dir)
	if err != nil {
		return r, err
	}
	r.HasRecord, r.RecordFlush, r.RecordAt, r.RecordBytes = has, rec.Flush, rec.At, rec.DBBytes
	f, err := os.Open(r.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return r, fmt.Errorf("check %s: %w", r.Path, err)
	default:
		defer f.Close()
		r.Exists = true
		if fi, err := f.Stat(); err == nil {
			r.FileBytes = fi.Size()
		}
		if err := scanAOF(bufio.NewReaderSize(f, 1<<20), &r); err != nil {
			return r, fmt.Errorf("check %s: %w", r.Path, err)
		}
	}
	r.OK = !r.Damaged && (!has || r.DBFlush >= r.RecordFlush)
	r.Verdict = verdict(r)
	return r, nil
}

func verdict(r CheckReport) string {
	var b strings.Builder
	switch {
	case !r.Exists:
		fmt.Fprintf(&b, "%s does not exist.", r.Path)
	case r.FileBytes == 0:
		fmt.Fprintf(&b, "%s is empty (0 bytes).", r.Path)
	default:
		fmt.Fprintf(&b, "%s: %d bytes, %d whole commands.", r.Path, r.FileBytes, r.Commands)
	}
	if r.PartialTail {
		fmt.Fprintf(&b, " It ends inside a write (%d bytes after the last whole command): a crash during a flush; that part is dropped on open.", r.FileBytes-r.ValidBytes)
	}
	if r.Damaged {
		fmt.Fprintf(&b, " It is damaged at byte %d, with more after it: restore a backup or move the file aside.", r.ValidBytes)
	}
	if r.DBFlush > 0 {
		fmt.Fprintf(&b, " It holds flushes up to #%d (%s).", r.DBFlush, r.DBAt.Format(time.RFC3339))
	}
	if !r.HasRecord {
		b.WriteString(" There is no record of the last flush yet (a new data folder, or one from an older version): nothing to compare.")
	} else {
		fmt.Fprintf(&b, " The record of the last flush says #%d (%s, when the file had %d bytes).", r.RecordFlush, r.RecordAt.Format(time.RFC3339), r.RecordBytes)
		if r.DBFlush < r.RecordFlush {
			span := "every flush recorded"
			if r.DBFlush > 0 {
				span = "the statistics of the " + r.RecordAt.Sub(r.DBAt).Round(time.Second).String() + " before the record"
			}
			fmt.Fprintf(&b, " The file lost the last %d flushes (%s): it was cut short, emptied or replaced after they were written. "+
				"firebreak refuses to start on it. Restore a backup, or accept the loss with `firebreak db check --accept`.",
				r.RecordFlush-r.DBFlush, span)
		}
	}
	if r.InUse {
		b.WriteString(" The data folder is in use by another process (the daemon): this check only read the files.")
	}
	if r.OK {
		b.WriteString(" Verdict: OK.")
	} else {
		b.WriteString(" Verdict: REFUSED.")
	}
	return b.String()
}

// scanAOF walks buntdb's append-only file (RESP arrays: set key value [ex ttl], del key,
// flushdb) and notes its whole commands and its last flush marker.
func scanAOF(br *bufio.Reader, r *CheckReport) error {
	var off int64
	readLine := func() (string, bool) {
		s, err := br.ReadString('\n')
		off += int64(len(s))
		if err != nil || len(s) < 2 || s[len(s)-2] != '\r' {
			return "", false
		}
		return s[:len(s)-2], true
	}
	for {
		start := off
		head, err := br.Peek(1)
		if errors.Is(err, io.EOF) || len(head) == 0 {
			r.ValidBytes = start
			return nil
		}
		bad := func() error {
			r.ValidBytes = start
			if off >= r.FileBytes { // it ran out of file: a write cut short
				r.PartialTail = true
			} else {
				r.Damaged = true
			}
			return nil
		}
		l, ok := readLine()
		if !ok || len(l) < 2 || l[0] != '*' {
			return bad()
		}
		n, err := strconv.Atoi(l[1:])
		if err != nil || n < 1 || n > 16 {
			return bad()
		}
		args := make([]string, 0, n)
		for range n {
			l, ok := readLine()
			if !ok || len(l) < 2 || l[0] != '$' {
				return bad()
			}
			size, err := strconv.Atoi(l[1:])
			if err != nil || size < 0 {
				return bad()
			}
			buf := make([]byte, size+2)
			k, err := io.ReadFull(br, buf)
			off += int64(k)
			if err != nil || buf[size] != '\r' || buf[size+1] != '\n' {
				return bad()
			}
			args = append(args, string(buf[:size]))
		}
		r.Commands++
		if strings.EqualFold(args[0], "set") && len(args) >= 3 && args[1] == flushKey {
			r.DBFlush, r.DBAt = parseFlushMarker(args[2])
		}
		if strings.EqualFold(args[0], "flushdb") {
			r.DBFlush, r.DBAt = 0, time.Time{}
		}
	}
}

// behindRecord is the error for a file whose flush marker (seq, at) is behind the last-flush
// record beside it, or nil.
func behindRecord(path string, rec lastFlush, hasRec bool, seq uint64, at time.Time, fileBytes int64) *BehindError {
	if !hasRec || seq >= rec.Flush {
		return nil
	}
	return &BehindError{Path: path, DBFlush: seq, DBAt: at, RecordFlush: rec.Flush, RecordAt: rec.At,
		RecordBytes: rec.DBBytes, FileBytes: fileBytes}
}
