package stats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tidwall/buntdb"
)

// Migrated reports what Open did to bring an older file to this program's schema (nil: the
// file was current or new).
func (s *Store) Migrated() *Migrated { return s.migrated }

// SnapshotInfo describes a database file: its schema, its last flush and what it holds.
type SnapshotInfo struct {
	Schema  int
	Flush   uint64
	FlushAt time.Time
	Keys    int
	Records map[string]int // records per namespace (findings, proposals, ...)
	Logs    map[string]int // log entries per namespace (the audit logs)
}

// Inspect reads the database file at path (a backup, or a stopped daemon's database) without
// changing it: it loads a private copy.
func Inspect(path string) (SnapshotInfo, error) {
	var info SnapshotInfo
	tmp, err := os.MkdirTemp("", "firebreak-inspect-")
	if err != nil {
		return info, err
	}
	defer os.RemoveAll(tmp)
	cp := filepath.Join(tmp, DBFile)
	if err := copyFile(path, cp); err != nil {
		return info, err
	}
	return inspectFile(cp, path)
}

// inspectFile reads the file at path; errors name it as name.
func inspectFile(path, name string) (SnapshotInfo, error) {
	info := SnapshotInfo{Records: map[string]int{}, Logs: map[string]int{}}
	db, err := buntdb.Open(path)
	if err != nil {
		if errors.Is(err, buntdb.ErrInvalid) {
			return info, fmt.Errorf("%s is not a firebreak database (or is damaged): %w", name, err)
		}
		return info, fmt.Errorf("open %s: %w", name, err)
	}
	defer db.Close()
	err = db.View(func(tx *buntdb.Tx) error {
		v, err := tx.Get(schemaKey)
		if err != nil {
			return fmt.Errorf("%s has no schema version: not a firebreak database", name)
		}
		if info.Schema, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("%s: schema version %q", name, v)
		}
		if v, err := tx.Get(flushKey); err == nil {
			info.Flush, info.FlushAt = parseFlushMarker(v)
		}
		return tx.AscendKeys("*", func(k, _ string) bool {
			info.Keys++
			if ns, ok := recordNS(k, pfxRec); ok {
				info.Records[ns]++
			} else if ns, ok := recordNS(k, pfxLog); ok {
				info.Logs[ns]++
			}
			return true
		})
	})
	return info, err
}

// recordNS returns the namespace of a rec|<ns>|<id> or log|<ns>|<seq> key.
func recordNS(key, pfx string) (string, bool) {
	if len(key) <= len(pfx)+1 || key[:len(pfx)] != pfx || key[len(pfx)] != '|' {
		return "", false
	}
	rest := key[len(pfx)+1:]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '|' {
			return rest[:i], true
		}
	}
	return "", false
}

// Restored is what Restore did.
type Restored struct {
	Info  SnapshotInfo
	Aside string // where the database it replaced was moved ("" if there was none)
}

// Restore replaces the database in dir with the backup at src. It takes the data folder's
// lock (a running daemon makes it fail with a *LockedError: stop it first), checks that src
// is a firebreak database this program can open (its schema current or migratable), moves the
// current file aside (firebreak.db.before-restore-<time>) and records the backup's last flush
// as the last flush written, so the next Open accepts the older file instead of calling it
// cut short. An older schema is migrated by that next Open.
func Restore(ctx context.Context, dir, src string, now time.Time) (Restored, error) {
	var r Restored
	if err := ctx.Err(); err != nil {
		return r, err
	}
	dl, ok, err := lockDir(dir)
	if err != nil {
		return r, err
	}
	if !ok {
		return r, lockedError(filepath.Join(dir, LockFile))
	}
	defer dl.Close()
	lk, err := acquire(filepath.Join(dir, LockFile), "firebreak db restore")
	if err != nil {
		return r, err
	}
	defer release(lk)

	dst := filepath.Join(dir, DBFile)
	tmp := dst + ".restore-tmp"
	if err := copyFile(src, tmp); err != nil {
		return r, err
	}
	defer os.Remove(tmp)
	if r.Info, err = inspectFile(tmp, src); err != nil {
		return r, err
	}
	if r.Info.Schema != schemaVersion {
		if _, err := migrationPlan(r.Info.Schema); err != nil {
			return r, fmt.Errorf("%s: %w", src, err)
		}
	}
	// buntdb may have rewritten a torn tail while inspecting; restore the bytes as given.
	if err := copyFile(src, tmp); err != nil {
		return r, err
	}
	if _, err := os.Stat(dst); err == nil {
		r.Aside = dst + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		if err := os.Rename(dst, r.Aside); err != nil {
			return r, fmt.Errorf("move the current database aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return r, fmt.Errorf("put the backup in place: %w", err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return r, err
	}
	if err := writeLastFlush(dir, lastFlush{Flush: r.Info.Flush, At: r.Info.FlushAt, DBBytes: fi.Size()}); err != nil {
		return r, err
	}
	return r, nil
}

// copyFile copies src to dst (created 0640 or truncated) and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if serr := out.Sync(); err == nil {
		err = serr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return nil
}
