package stats

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tidwall/buntdb"
)

// ErrReadOnly is returned (wrapped) by every write to a Store opened with OpenReadOnly.
var ErrReadOnly = errors.New("database is open read-only")

// ErrNeedsWrite is returned (wrapped) by OpenReadOnly for a file that must be changed before it
// can be read: an older schema, which Open migrates. Open it read-write instead.
var ErrNeedsWrite = errors.New("database must be opened read-write")

// OpenAppend is OpenReadOnly with record transactions: Update (and PutRecord, DeleteRecord,
// AppendLog) commit by appending their sets and deletes to the file, one write and an fsync
// per transaction, in buntdb's own format, so that the next Open reads them as buntdb's; the
// store's reads see them at once. Statistics writes (Batch.Write, Prune, Shrink, Backup)
// still fail with ErrReadOnly. A file that ends in a torn write gives ErrNeedsWrite (an
// append after it would be lost): Open truncates it.
//
// It is for one-shot commands that read a day of a long history and store what they found
// (detect): they pay for the day, not for loading the file.
func OpenAppend(ctx context.Context, dir string, opts Options) (*Store, error) {
	st, err := OpenReadOnly(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	if st.snap.torn > 0 {
		st.Close()
		return nil, fmt.Errorf("%w: %s ends in a torn write", ErrNeedsWrite, st.path)
	}
	f, err := os.OpenFile(st.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open %s for appending: %w", st.path, err)
	}
	st.appendF = f
	return st, nil
}

// OpenReadOnly locks dir as Open does and opens dir/firebreak.db for reading only: the file is
// mapped and indexed (snapshot.go) instead of loaded into buntdb, so that a one-shot command
// reading a day of a long history does not pay for copying all of it. Queries, View and the
// record reads work as on a Store from Open and see the file as it was at OpenReadOnly; every
// write (Update, Batch.Write, Prune, Shrink, Backup) fails with ErrReadOnly.
//
// It refuses what Open refuses (a damaged file, ErrCorrupt; a file behind its last-flush
// record, *BehindError) and a file of an older schema (ErrNeedsWrite). A torn last write is
// ignored, not truncated: the next Open truncates it. Keys with a TTL expire by the wall
// clock, as in buntdb.
//
// The mapping is not released by Close: strings returned by queries may point into it. Use
// OpenReadOnly for commands that open the store once, not in a loop.
func OpenReadOnly(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts.defaults()
	dl, lk, err := lockData(dir, opts.Command)
	if err != nil {
		return nil, err
	}
	st, err := openSnapshot(dir, opts)
	if err != nil {
		release(lk)
		dl.Close()
		return nil, err
	}
	st.lock, st.dirLock = lk, dl
	return st, nil
}

func openSnapshot(dir string, opts Options) (*Store, error) {
	rec, hasRec, err := readLastFlush(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, DBFile)
	snap := &snapshot{}
	var fileBytes int64
	f, err := os.Open(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Open would create it; there is nothing to read.
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	default:
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		fileBytes = fi.Size()
		data, err := mapFile(f, fi.Size())
		if err != nil {
			// Not mapped (a 32-bit address space, a kernel refusing): buntdb can still load it.
			return nil, fmt.Errorf("%w: %w", ErrNeedsWrite, err)
		}
		if snap, err = readSnapshot(data, fi.ModTime(), time.Now()); err != nil {
			if errors.Is(err, buntdb.ErrInvalid) {
				return nil, fmt.Errorf("open %s: %w: restore a backup or move the file aside (%w)", path, ErrCorrupt, err)
			}
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	var seq uint64
	var seqAt time.Time
	if v, err := snap.Get(flushKey); err == nil {
		seq, seqAt = parseFlushMarker(v)
	}
	if be := behindRecord(path, rec, hasRec, seq, seqAt, fileBytes); be != nil {
		if opts.AcceptBehind {
			return nil, fmt.Errorf("%w to accept a loss: %w", ErrNeedsWrite, be)
		}
		return nil, be
	}
	if raw, err := snap.Get(schemaKey); err == nil {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("open %s: schema version %q is not a version firebreak writes", path, raw)
		}
		if v != schemaVersion {
			if _, err := migrationPlan(v); err != nil {
				return nil, fmt.Errorf("open %s: %w", path, err)
			}
			return nil, fmt.Errorf("open %s: %w: schema version %d is migrated to %d by a read-write open", path, ErrNeedsWrite, v, schemaVersion)
		}
	}
	if snap.torn > 0 {
		opts.Logger.Warn("database ends in a torn write; reading what precedes it (the next read-write open truncates it)",
			"path", path, "bytes", snap.torn)
	}
	st := &Store{snap: snap, ov: &layer{under: snap}, dir: dir, path: path, opts: opts, log: opts.Logger, flushSeq: seq}
	st.held.m = make(map[string]*heldDay)
	st.m.Path = path
	opts.Logger.Debug("stats store open read-only", "path", path, "keys", len(snap.ents))
	return st, nil
}

// writable fails with ErrReadOnly on a Store from OpenReadOnly.
func (s *Store) writable() error {
	if s.snap != nil {
		return fmt.Errorf("%s: %w", s.path, ErrReadOnly)
	}
	return nil
}

// viewTx runs fn over the file: a buntdb read transaction, or the snapshot with what has
// been appended since.
func (s *Store) viewTx(fn func(tx kvTx) error) error {
	if s.ov != nil {
		s.ovMu.RLock()
		defer s.ovMu.RUnlock()
		return fn(s.ov)
	}
	return s.db.View(func(tx *buntdb.Tx) error { return fn(tx) })
}

// appendTx runs fn in a transaction over the layer and appends its writes to the file. A
// failed append is cut off the file again where possible; after one that is not, every
// later transaction fails.
func (s *Store) appendTx(fn func(tx kvTx) error) error {
	if s.appendF == nil {
		return fmt.Errorf("%s: %w", s.path, ErrReadOnly)
	}
	s.ovMu.Lock()
	defer s.ovMu.Unlock()
	if s.appendErr != nil {
		return s.appendErr
	}
	tx := newLayerTx(s.ov)
	if err := fn(tx); err != nil {
		return err
	}
	if len(tx.cmds) == 0 {
		return nil
	}
	fi, err := s.appendF.Stat()
	if err != nil {
		return fmt.Errorf("append to %s: %w", s.path, err)
	}
	if _, err := s.appendF.Write(tx.cmds); err != nil {
		if terr := s.appendF.Truncate(fi.Size()); terr != nil {
			s.appendErr = fmt.Errorf("append to %s: %w; and the partial write could not be cut off: %w", s.path, err, terr)
			return s.appendErr
		}
		return fmt.Errorf("append to %s: %w", s.path, err)
	}
	if err := s.appendF.Sync(); err != nil {
		// The kernel may have dropped the pages: what the file holds is unknown.
		s.appendErr = fmt.Errorf("sync %s: %w", s.path, err)
		return s.appendErr
	}
	for _, e := range tx.ents {
		s.ov.put(e)
	}
	return nil
}
