package stats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/tidwall/buntdb"
)

const (
	// DBFile and LockFile are the names of the files Open uses in the data dir.
	DBFile   = "firebreak.db"
	LockFile = "firebreak.lock"

	schemaKey = "meta|schema"
)

// ErrCorrupt is returned (wrapped) by Open when the database file is damaged in a way buntdb
// cannot repair (anything other than a partial last write).
var ErrCorrupt = errors.New("database file is damaged")

// LockedError is returned by Open when another process holds the data dir's lock.
type LockedError struct {
	PID  int    // the owner's process id, 0 when the lock file did not say
	Cmd  string // the owner's command line, as it wrote it
	Path string // the lock file
}

func (e *LockedError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("data dir is in use: %s is locked by another process", e.Path)
	}
	return fmt.Sprintf("data dir is in use by pid %d (%s): %s is locked", e.PID, e.Cmd, e.Path)
}

// Retention says how long each kind of data is kept. A bucket's time to live runs from the end
// of the bucket, not from the time it was written.
type Retention struct {
	Hourly    time.Duration // hourly buckets; default 35 days
	Daily     time.Duration // daily buckets; default 400 days; never less than Hourly
	Seen      time.Duration // first/last-seen records (VPN sources, pairs, resolvers, hosts), from the last sighting; default 400 days
	Exemplars time.Duration // raw exemplar lines, from the line's time; default 35 days
}

// Options configures Open. Zero values take the defaults shown.
type Options struct {
	Logger    *slog.Logger // default: discard
	Now       func() time.Time
	Retention Retention
	// Command is written into the lock file so a second process can name the owner.
	// Default: the process's arguments.
	Command string
	// AutoShrinkPercentage and AutoShrinkMinSize tune buntdb's compaction of its append-only
	// file (defaults 100 and 32 MiB); AutoShrinkDisabled turns it off.
	AutoShrinkPercentage int
	AutoShrinkMinSize    int
	AutoShrinkDisabled   bool
	// AcceptBehind opens a database that is behind its last-flush record (see ErrBehind)
	// instead of refusing it, and makes what it holds the new record: an operator's decision
	// (`firebreak db check --accept`), never a default.
	AcceptBehind bool
	// HoldOpen is how long a host day still open may hold data in memory that the file does
	// not have (see held.go); default 1 minute. A crash loses at most that much of the
	// per-host statistics.
	HoldOpen time.Duration
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &o.Retention
	if r.Hourly <= 0 {
		r.Hourly = 35 * 24 * time.Hour
	}
	if r.Daily <= 0 {
		r.Daily = 400 * 24 * time.Hour
	}
	if r.Daily < r.Hourly {
		r.Daily = r.Hourly
	}
	if r.Seen <= 0 {
		r.Seen = 400 * 24 * time.Hour
	}
	if r.Exemplars <= 0 {
		r.Exemplars = 35 * 24 * time.Hour
	}
	if o.Command == "" {
		o.Command = strings.Join(os.Args, " ")
	}
	if o.HoldOpen <= 0 {
		o.HoldOpen = time.Minute
	}
	if o.AutoShrinkPercentage <= 0 {
		o.AutoShrinkPercentage = 100
	}
	if o.AutoShrinkMinSize <= 0 {
		o.AutoShrinkMinSize = 32 << 20
	}
}

// Store is the single owner of the data dir's buntdb file. All methods are safe for concurrent
// use; buntdb serialises writers and lets readers run in parallel with a stable view.
type Store struct {
	db   *buntdb.DB // nil when opened read-only
	snap *snapshot  // the file, when opened read-only (readonly.go)
	// ov is what has been appended over snap (nil with db); appendF is the file to append to
	// (OpenAppend). ovMu guards ov and appendErr: readers share it, a transaction holds it.
	ov        *layer
	appendF   *os.File
	ovMu      sync.RWMutex
	appendErr error
	lock      *flock.Flock
	dirLock   *os.File // the kernel lock on the data folder, held until Close
	dir       string
	path      string
	opts      Options
	log       *slog.Logger

	mu        sync.Mutex
	m         Metrics
	flushSeq  uint64 // the last flush marker written (guarded by mu)
	recordErr error  // the last failure to write the flush marker or record (guarded by mu)
	prunedAt  int64  // when Prune last ran, unix seconds of the store's clock (guarded by mu)

	written bucketMemo // guarded by buntdb's writer lock (used inside Update only)
	// exUsed counts the exemplar slots known to be taken per subject key prefix, so that a
	// flush does not probe full subjects again (slots are freed only by Prune, which clears
	// it). Guarded by buntdb's writer lock; bounded by maxExMemo.
	exUsed map[string]uint8

	heldMu sync.Mutex // held; taken before buntdb's writer lock
	held   heldSet

	migrated *Migrated // what Open migrated (nil: the file was current)

	logHooks []func(LogRecord) // see OnLog
}

// bucketMemo remembers which time buckets may have counter keys in the file, so that a flush
// writing a bucket nothing has written yet (a replay going forward in time, a new hour) sets
// its keys without reading them first. At Open the newest site bucket bounds what the file
// holds; every bucket a flush writes afterwards is recorded (a few bytes per hour within the
// retention).
type bucketMemo struct {
	hourAtOpen, dayAtOpen int32 // newest site buckets in the file at Open; -1: none
	hours                 map[int32]struct{}
	days                  map[int32]struct{}
}

func (m *bucketMemo) fresh(t int32, daily bool) bool {
	if daily {
		_, ok := m.days[t]
		return t > m.dayAtOpen && !ok
	}
	_, ok := m.hours[t]
	return t > m.hourAtOpen && !ok
}

// mark records that hour h (and its day) has been written.
func (m *bucketMemo) mark(h int32) {
	if h > m.hourAtOpen {
		m.hours[h] = struct{}{}
	}
	if d := h / 24; d > m.dayAtOpen {
		m.days[d] = struct{}{}
	}
}

// newestBucket returns the newest bucket with a site key of the given resolution, or -1.
func newestBucket(tx *buntdb.Tx, daily bool) int32 {
	p := string(famPrefix(nil, pfxSite, daily))
	newest := int32(-1)
	_ = tx.DescendLessOrEqual("", prefixEnd(p), func(key, _ string) bool {
		if strings.HasPrefix(key, p) {
			newest = int32(atoi64(key[len(p):]))
		}
		return false
	})
	return newest
}

// Metrics describe the store for status output and Prometheus.
type Metrics struct {
	Path              string
	FileSize          int64 // bytes of the append-only file
	Keys              int
	Flushes           uint64
	KeysWritten       uint64 // keys set by flushes since Open
	LastFlush         time.Time
	LastFlushDuration time.Duration
}

// Open locks dir (creating it if needed) and opens dir/firebreak.db. It fails with a
// *LockedError when another process owns dir. The returned Store must be closed.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts.defaults()
	dl, lk, err := lockData(dir, opts.Command)
	if err != nil {
		return nil, err
	}
	unlock := func() {
		release(lk)
		dl.Close()
	}
	rec, hasRec, err := readLastFlush(dir)
	if err != nil {
		unlock()
		return nil, err
	}
	path := filepath.Join(dir, DBFile)
	var fileBytes int64
	if fi, err := os.Stat(path); err == nil {
		fileBytes = fi.Size()
	}
	db, err := buntdb.Open(path)
	if err != nil {
		unlock()
		if errors.Is(err, buntdb.ErrInvalid) {
			return nil, fmt.Errorf("open %s: %w: restore a backup or move the file aside (%w)", path, ErrCorrupt, err)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	cfg := buntdb.Config{
		SyncPolicy:           buntdb.EverySecond,
		AutoShrinkPercentage: opts.AutoShrinkPercentage,
		AutoShrinkMinSize:    opts.AutoShrinkMinSize,
		AutoShrinkDisabled:   opts.AutoShrinkDisabled,
	}
	if err := db.SetConfig(cfg); err != nil {
		_ = db.Close()
		unlock()
		return nil, fmt.Errorf("configure %s: %w", path, err)
	}
	// The database must hold every flush its record says was written: a file cut short or
	// emptied still opens in buntdb, with the statistics since gone.
	var seq uint64
	var seqAt time.Time
	_ = db.View(func(tx *buntdb.Tx) error {
		if v, err := tx.Get(flushKey); err == nil {
			seq, seqAt = parseFlushMarker(v)
		}
		return nil
	})
	if be := behindRecord(path, rec, hasRec, seq, seqAt, fileBytes); be != nil {
		if !opts.AcceptBehind {
			_ = db.Close()
			unlock()
			return nil, be
		}
		opts.Logger.Warn("opening a database behind its last-flush record, as asked", "err", be.Error())
		// Flush numbers go on from the record's, so the accepted state is recorded as a
		// flush of its own.
		seq = rec.Flush
	}
	// The schema uses no buntdb indexes (they are not persisted and cost a full scan to
	// rebuild); every query is a key-range scan. Check the schema version instead, and bring an
	// older file forward (migrate.go).
	mg, err := checkSchema(db, path, opts.Now(), opts.Retention)
	if err != nil {
		_ = db.Close()
		unlock()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if mg != nil {
		opts.Logger.Warn("database migrated to this program's schema", "path", path, "from", mg.From, "to", mg.To,
			"keys_rewritten", mg.Keys, "backup", mg.Backup)
	}
	st := &Store{db: db, lock: lk, dirLock: dl, dir: dir, path: path, opts: opts, log: opts.Logger, flushSeq: seq, migrated: mg}
	if hasRec && rec.Flush < seq || opts.AcceptBehind {
		// The record is behind the file (it is written after the file) or the loss was
		// accepted: bring it level.
		st.markFlush(opts.Now())
	}
	st.exUsed = make(map[string]uint8)
	st.held.m = make(map[string]*heldDay)
	st.written = bucketMemo{hourAtOpen: -1, dayAtOpen: -1, hours: make(map[int32]struct{}), days: make(map[int32]struct{})}
	_ = db.View(func(tx *buntdb.Tx) error {
		st.written.hourAtOpen = newestBucket(tx, false)
		st.written.dayAtOpen = newestBucket(tx, true)
		st.prunedAt = loadPruned(tx)
		return nil
	})
	st.m.Path = path
	opts.Logger.Debug("stats store open", "path", path)
	return st, nil
}

// lockData creates dir if needed and takes its two locks (the folder's and the lock file's),
// or fails with a *LockedError.
func lockData(dir, cmd string) (*os.File, *flock.Flock, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("create data dir: %w", err)
	}
	dl, ok, err := lockDir(dir)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, lockedError(filepath.Join(dir, LockFile))
	}
	lk, err := acquire(filepath.Join(dir, LockFile), cmd)
	if err != nil {
		dl.Close()
		return nil, nil, err
	}
	return dl, lk, nil
}

// acquire takes the exclusive lock and writes "pid\ncommand\n" into the lock file.
func acquire(path, cmd string) (*flock.Flock, error) {
	lk := flock.New(path, flock.SetPermissions(0o640))
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, lockedError(path)
	}
	cmd = strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, cmd)
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"+cmd+"\n"), 0o640); err != nil {
		release(lk)
		return nil, fmt.Errorf("write lock owner: %w", err)
	}
	return lk, nil
}

func lockedError(path string) *LockedError {
	e := &LockedError{Path: path}
	b, err := os.ReadFile(path)
	if err != nil {
		return e
	}
	pid, cmd, _ := strings.Cut(string(b), "\n")
	e.PID, _ = strconv.Atoi(strings.TrimSpace(pid))
	e.Cmd = strings.TrimSpace(cmd)
	return e
}

func release(lk *flock.Flock) {
	_ = os.Truncate(lk.Path(), 0) // the owner's details are stale once it lets go
	_ = lk.Unlock()
}

// Close syncs and closes the database and releases the lock. Pending aggregator data is not
// the store's: flush it before Close.
func (s *Store) Close() error {
	if s.snap != nil {
		var err error
		if s.appendF != nil {
			err = s.appendF.Close()
		}
		release(s.lock)
		s.dirLock.Close()
		if err != nil {
			return fmt.Errorf("close %s: %w", s.path, err)
		}
		return nil
	}
	herr := s.writeOutHeld()
	err := s.db.Close()
	if err == nil {
		err = herr
	}
	release(s.lock)
	s.dirLock.Close()
	if err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// Retention is the retention in force (defaults applied).
func (s *Store) Retention() Retention { return s.opts.Retention }

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Metrics returns the store's counters and the current file size.
func (s *Store) Metrics() Metrics {
	s.mu.Lock()
	m := s.m
	s.mu.Unlock()
	if fi, err := os.Stat(s.path); err == nil {
		m.FileSize = fi.Size()
	}
	_ = s.viewTx(func(tx kvTx) error {
		m.Keys, _ = tx.Len()
		return nil
	})
	return m
}

// Shrink compacts the append-only file now (buntdb only auto-shrinks at twice the size it had
// at open; call this after large expiries).
func (s *Store) Shrink(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.writeOutHeld(); err != nil {
		return err
	}
	for {
		err := s.db.Shrink()
		if err == nil {
			break
		}
		if !errors.Is(err, buntdb.ErrShrinkInProcess) {
			return fmt.Errorf("shrink %s: %w", s.path, err)
		}
		// buntdb's own compaction is running: wait for it, then compact what came after.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	// The compacted file holds the flush marker in key order, not at its end: number a flush
	// after it, so that a file cut short after the compaction is still found behind its record.
	s.markFlush(s.opts.Now())
	return nil
}

// Backup writes a consistent snapshot of the database (buntdb's file format) to w. Writers
// wait while it runs; readers do not.
func (s *Store) Backup(ctx context.Context, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.writeOutHeld(); err != nil {
		return err
	}
	if err := s.db.Save(w); err != nil {
		return fmt.Errorf("backup %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) recordFlush(start time.Time, d time.Duration, keys int) {
	s.mu.Lock()
	s.m.Flushes++
	s.m.KeysWritten += uint64(keys)
	s.m.LastFlush = start
	s.m.LastFlushDuration = d
	s.mu.Unlock()
	s.markFlush(start)
}

// markFlush numbers a flush that has been written: the marker goes into the database (after
// the flush's own transaction, so a file holding marker N holds flush N), then the record
// beside it. Open compares the two.
func (s *Store) markFlush(at time.Time) {
	if s.snap != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.flushSeq + 1
	err := s.db.Update(func(tx *buntdb.Tx) error {
		_, _, err := tx.Set(flushKey, strconv.FormatUint(seq, 10)+" "+strconv.FormatInt(at.UnixNano(), 10), nil)
		return err
	})
	if err == nil {
		s.flushSeq = seq
		var size int64
		if fi, serr := os.Stat(s.path); serr == nil {
			size = fi.Size()
		}
		err = writeLastFlush(s.dir, lastFlush{Flush: seq, At: at.UTC(), DBBytes: size})
	}
	if err != nil && s.recordErr == nil {
		s.log.Warn("last-flush record not written", "err", err)
	}
	s.recordErr = err
}
