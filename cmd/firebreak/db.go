package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
)

func (a *app) dbCmd() *cobra.Command {
	db := &cobra.Command{
		Use:   "db",
		Short: "Check the statistics database",
	}
	var accept bool
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
			fmt.Fprintf(w, "\naccepted: the database as it is (flushes up to #%d) is now the record; firebreak will start on it\n", r.DBFlush)
			return nil
		},
	}
	check.Flags().BoolVar(&accept, "accept", false, "accept the loss: record the database as it is as its last flush")
	db.AddCommand(check)
	return db
}

func at(t time.Time, ok bool) string {
	if !ok {
		return ""
	}
	return " at " + t.UTC().Format(time.RFC3339)
}
