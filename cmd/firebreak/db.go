package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

func (a *app) dbCmd() *cobra.Command {
	db := &cobra.Command{
		Use:   "db",
		Short: "Check, back up and restore the database (statistics, findings, proposals, audit log)",
	}
	var accept, asJSON bool
	check := &cobra.Command{
		Use:   "check",
		Short: "Say whether the database is whole: compared with the record of its last flush",
		Long: `check reads the database file and the record of the last flush written beside it
(firebreak.db.last-flush), without changing either, and says whether firebreak would start on
them and why. A file that holds fewer flushes than the record says were written was cut short,
emptied or replaced (a full disk, a bad restore, a copy gone wrong): firebreak refuses it
instead of starting silently with the statistics gone. It exits 1 when it would refuse.

--accept takes the loss: it opens the database as it is and records its state as the last
flush, so the next start accepts it. Stop the daemon first. Restoring a backup is the other
way out (a restored backup is older than its record: accept it afterwards).`,
		Example: `  firebreak db check
  firebreak db check --accept`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			dir := cfg.Collector.DataDir
			r, err := stats.Check(dir)
			if err != nil {
				return err
			}
			w := a.stdout
			type checkJSON struct {
				stats.CheckReport
				Accepted bool `json:"accepted"`
			}
			accepted := false
			if asJSON {
				// The text goes nowhere; the object is printed once the outcome is known.
				w = io.Discard
				defer func() { _ = writeJSON(a.stdout, checkJSON{CheckReport: r, Accepted: accepted}) }()
			}
			fmt.Fprintf(w, "database      %s (%d bytes, %d whole commands)\n", r.Path, r.FileBytes, r.Commands)
			fmt.Fprintf(w, "in the file   last flush #%d%s\n", r.DBFlush, at(r.DBAt, r.DBFlush > 0))
			if r.HasRecord {
				fmt.Fprintf(w, "recorded      last flush #%d%s, file then %d bytes\n", r.RecordFlush, at(r.RecordAt, true), r.RecordBytes)
			} else {
				fmt.Fprintf(w, "recorded      no record yet\n")
			}
			fmt.Fprintf(w, "\n%s\n", r.Verdict)
			if r.OK {
				return nil
			}
			if !accept {
				return errExit
			}
			if a.daemon != nil || r.InUse {
				return fmt.Errorf("the data folder is in use (the daemon?): stop it before --accept")
			}
			opts := storeOptions(cfg, time.Now)
			opts.AcceptBehind = true
			opts.Logger = a.log
			st, err := stats.Open(cmd.Context(), dir, opts)
			if err != nil {
				return err
			}
			if err := st.Close(); err != nil {
				return err
			}
			accepted = true
			fmt.Fprintf(w, "\naccepted: the database as it is (flushes up to #%d) is now the record; firebreak will start on it\n", r.DBFlush)
			return nil
		},
	}
	check.Flags().BoolVar(&accept, "accept", false, "accept the loss: record the database as it is as its last flush")
	check.Flags().BoolVar(&asJSON, "json", false, "print JSON (the report; exit status as without)")
	db.AddCommand(check, a.dbBackupCmd(), a.dbRestoreCmd())
	return db
}

func (a *app) dbBackupCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backup FILE|-",
		Short: "Write a consistent copy of the whole database, also while the daemon runs",
		Long: `backup writes a snapshot of the database (statistics, findings, proposals and the audit
log) to FILE, or to standard output with "-". While the daemon runs it takes the snapshot
from the daemon's open database (writes wait for it, the collector keeps counting in memory)
and streams it here, so FILE is written with your permissions, not the daemon's. The file is
written beside FILE and renamed when complete: FILE is never half written. The snapshot is a
database file itself: restore it with db restore.`,
		Example: `  firebreak db backup /var/backups/firebreak-$(date +%F).db
  firebreak db backup - | gzip > firebreak.db.gz`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && args[0] == "-" && a.daemon == nil {
				return usageError{errors.New("db backup - --json: standard output carries the database; name a FILE")}
			}
			if args[0] == "-" || a.daemon != nil {
				// Inside the daemon the client asked for "-" (see below); a person talking to
				// the socket directly with a file gets the file written by the daemon.
				out, closeOut, err := a.backupOut(args[0])
				if err != nil {
					return err
				}
				err = a.withWriteStore(cmd, func(ctx context.Context, _ *policies.Config, st *stats.Store) error {
					return st.Backup(ctx, out)
				})
				return errors.Join(err, closeOut())
			}
			dst := a.path(args[0])
			tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".part-")
			if err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			done := false
			defer func() {
				if !done {
					tmp.Close()
					os.Remove(tmp.Name())
				}
			}()
			fwd := slices.Clone(a.args)
			for i := len(fwd) - 1; i >= 0; i-- {
				if fwd[i] == args[0] {
					fwd[i] = "-"
					break
				}
			}
			err = a.withWriteStoreOr(cmd, fwd, tmp, func(ctx context.Context, _ *policies.Config, st *stats.Store) error {
				return st.Backup(ctx, tmp)
			})
			if err != nil {
				return err
			}
			if err := tmp.Sync(); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			if err := tmp.Close(); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			info, err := stats.Inspect(tmp.Name())
			if err != nil {
				return fmt.Errorf("backup: the copy does not read back: %w", err)
			}
			if err := os.Rename(tmp.Name(), dst); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			done = true
			fi, err := os.Stat(dst)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, struct {
					File  string       `json:"file"`
					Bytes int64        `json:"bytes"`
					Holds snapshotJSON `json:"holds"`
				}{dst, fi.Size(), newSnapshotJSON(info)})
			}
			fmt.Fprintf(a.stdout, "backup        %s (%d bytes)\n", dst, fi.Size())
			printSnapshot(a.stdout, info)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the file, its size and what it holds)")
	return cmd
}

// backupOut is where a streamed backup goes: standard output, or (inside the daemon, asked
// directly over the socket) the named file.
func (a *app) backupOut(name string) (io.Writer, func() error, error) {
	if name == "-" {
		return a.stdout, func() error { return nil }, nil
	}
	f, err := os.OpenFile(a.path(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: %w", err)
	}
	return f, func() error {
		return errors.Join(f.Sync(), f.Close())
	}, nil
}

func (a *app) dbRestoreCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Put a backup in place of the database (stop the daemon first)",
		Long: `restore checks that FILE is a firebreak database this version can open (its schema the
same or older: an older one is migrated at the next start), moves the current database aside
as firebreak.db.before-restore-<time> (nothing is deleted) and puts FILE in its place, and
records FILE's last flush as the last one written, so the next start accepts the older
file. The daemon must be stopped: it owns the database while it runs.`,
		Example: `  systemctl stop firebreak
  firebreak db restore /var/backups/firebreak-2026-12-01.db
  systemctl start firebreak`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.daemon != nil {
				return fmt.Errorf("restore: the daemon owns the database: stop it and run db restore again")
			}
			cfg, err := a.config()
			if err != nil {
				return err
			}
			r, err := stats.Restore(cmd.Context(), cfg.Collector.DataDir, a.path(args[0]), time.Now())
			if le, ok := errors.AsType[*stats.LockedError](err); ok {
				return fmt.Errorf("restore: %w: stop the daemon first", le)
			}
			if err != nil {
				return fmt.Errorf("restore: %w", err)
			}
			if asJSON {
				return writeJSON(a.stdout, struct {
					Restored string       `json:"restored"`
					Into     string       `json:"into"`
					Aside    string       `json:"moved_aside,omitempty"`
					Holds    snapshotJSON `json:"holds"`
				}{a.path(args[0]), cfg.Collector.DataDir, r.Aside, newSnapshotJSON(r.Info)})
			}
			fmt.Fprintf(a.stdout, "restored      %s into %s\n", a.path(args[0]), cfg.Collector.DataDir)
			if r.Aside != "" {
				fmt.Fprintf(a.stdout, "moved aside   %s\n", r.Aside)
			}
			printSnapshot(a.stdout, r.Info)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// snapshotJSON is what a database file holds, for --json.
type snapshotJSON struct {
	Schema       int       `json:"schema"`
	Flush        uint64    `json:"last_flush"`
	FlushAt      time.Time `json:"last_flush_at,omitzero"`
	Keys         int       `json:"keys"`
	Findings     int       `json:"findings"`
	Proposals    int       `json:"proposals"`
	Audit        int       `json:"audit_entries"`
	FindingAudit int       `json:"finding_audit_entries"`
}

func newSnapshotJSON(info stats.SnapshotInfo) snapshotJSON {
	return snapshotJSON{Schema: info.Schema, Flush: info.Flush, FlushAt: info.FlushAt, Keys: info.Keys,
		Findings: info.Records[detect.NSFinding], Proposals: info.Records[remediate.NSProposals],
		Audit: info.Logs[remediate.NSAudit], FindingAudit: info.Logs[detect.NSAudit]}
}

func printSnapshot(w io.Writer, info stats.SnapshotInfo) {
	fmt.Fprintf(w, "schema        %d\n", info.Schema)
	if info.Flush > 0 {
		fmt.Fprintf(w, "last flush    #%d at %s\n", info.Flush, info.FlushAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "holds         %d keys: %d findings, %d proposals, %d audit entries (%d finding audit)\n", info.Keys,
		info.Records[detect.NSFinding], info.Records[remediate.NSProposals], info.Logs[remediate.NSAudit], info.Logs[detect.NSAudit])
}

func at(t time.Time, ok bool) string {
	if !ok {
		return ""
	}
	return " at " + t.UTC().Format(time.RFC3339)
}
