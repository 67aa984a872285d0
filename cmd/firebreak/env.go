package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/cmd/firebreak/internal/forward"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// daemonEnv is set when a command runs inside the daemon on behalf of a forwarded request:
// the daemon's configuration and open store are used instead of loading and opening them.
type daemonEnv struct {
	cfg   *policies.Config
	store *stats.Store
	serve *serveState
}

// defaultConfigPath is where a packaged install keeps the site policy.
const defaultConfigPath = "/etc/firebreak/site.yaml"

// configPathFor finds the site policy: --config, then $FIREBREAK_CONFIG, then
// /etc/firebreak/site.yaml. With none of them it is a usage error: a command that silently used
// an empty ./firebreak-data would answer "not found" or "nothing yet" about the wrong site.
func configPathFor(flag string, getenv func(string) string, exists func(string) bool) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := getenv("FIREBREAK_CONFIG"); p != "" {
		return p, nil
	}
	if exists(defaultConfigPath) {
		return defaultConfigPath, nil
	}
	return "", usageError{errors.New("no site policy: pass --config FILE, set FIREBREAK_CONFIG, or create " +
		defaultConfigPath + " (`firebreak gen --out DIR` writes an example site; `firebreak demo` needs none)")}
}

// config loads the site policy that configPathFor finds.
func (a *app) config() (*policies.Config, error) {
	if a.daemon != nil {
		return a.daemon.cfg, nil
	}
	if a.cfg != nil {
		return a.cfg, nil
	}
	path, err := configPathFor(a.configPath, os.Getenv, func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	cfg, err := policies.Load(a.path(path))
	if err != nil {
		return nil, err
	}
	if a.dataDir != "" {
		cfg.Collector.DataDir = a.path(a.dataDir)
		if cfg.Collector.APISocket == "" {
			cfg.Collector.APISocket = filepath.Join(cfg.Collector.DataDir, "firebreak.sock")
		}
	}
	a.cfg = cfg
	return cfg, nil
}

// path resolves a file argument against the caller's working directory (which differs from the
// daemon's for forwarded commands).
func (a *app) path(p string) string {
	if p == "" || p == "-" || filepath.IsAbs(p) || a.cwd == "" {
		return p
	}
	return filepath.Join(a.cwd, p)
}

func storeOptions(cfg *policies.Config, now func() time.Time) stats.Options {
	return stats.Options{
		Now: now,
		Retention: stats.Retention{
			Hourly: time.Duration(cfg.Retention.Hourly),
			Daily:  time.Duration(cfg.Retention.Daily),
		},
	}
}

// errForwarded carries the exit status of a command that ran inside the daemon.
type errForwarded struct{ code int }

func (e errForwarded) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// withStore runs fn with the statistics store: the daemon's when running inside it, else one
// opened (and locked) for this command. When the daemon holds the lock, the whole command line
// is forwarded to it instead, so every command works the same whether or not it runs.
//
// The store is mapped, not loaded, and record transactions are appended to its file
// (stats.OpenAppend): a command that reads a day of a long history pays for the day. It is
// opened read-write when the file must be changed first (an older schema, a torn last write).
// Statistics cannot be written through it: ingest and db backup use withWriteStore.
func (a *app) withStore(cmd *cobra.Command, fn func(ctx context.Context, cfg *policies.Config, st *stats.Store) error) error {
	return a.withStoreOpen(cmd, a.args, a.stdout, orOpen(stats.OpenAppend), fn)
}

// withWriteStore is withStore with the store loaded into buntdb (stats.Open), for commands
// that write statistics or snapshot the database.
func (a *app) withWriteStore(cmd *cobra.Command, fn func(ctx context.Context, cfg *policies.Config, st *stats.Store) error) error {
	return a.withWriteStoreOr(cmd, a.args, a.stdout, fn)
}

// withWriteStoreOr is withWriteStore with the command line to forward and where its standard
// output goes when the daemon runs it (a command that streams data back, such as db backup).
func (a *app) withWriteStoreOr(cmd *cobra.Command, fwdArgs []string, fwdOut io.Writer, fn func(ctx context.Context, cfg *policies.Config, st *stats.Store) error) error {
	return a.withStoreOpen(cmd, fwdArgs, fwdOut, stats.Open, fn)
}

// withReadStore is withStore for a command that only reads (stats.OpenReadOnly).
func (a *app) withReadStore(cmd *cobra.Command, fn func(ctx context.Context, cfg *policies.Config, st *stats.Store) error) error {
	return a.withStoreOpen(cmd, a.args, a.stdout, openReadOnly, fn)
}

var openReadOnly = orOpen(stats.OpenReadOnly)

// orOpen falls back to stats.Open when open says the file needs a read-write open.
func orOpen(open func(context.Context, string, stats.Options) (*stats.Store, error)) func(context.Context, string, stats.Options) (*stats.Store, error) {
	return func(ctx context.Context, dir string, opts stats.Options) (*stats.Store, error) {
		st, err := open(ctx, dir, opts)
		if errors.Is(err, stats.ErrNeedsWrite) {
			return stats.Open(ctx, dir, opts)
		}
		return st, err
	}
}

func (a *app) withStoreOpen(cmd *cobra.Command, fwdArgs []string, fwdOut io.Writer,
	open func(context.Context, string, stats.Options) (*stats.Store, error),
	fn func(ctx context.Context, cfg *policies.Config, st *stats.Store) error) error {
	ctx := cmd.Context()
	cfg, err := a.config()
	if err != nil {
		return err
	}
	if a.daemon != nil {
		return fn(ctx, cfg, a.daemon.store)
	}
	st, err := open(ctx, cfg.Collector.DataDir, storeOptions(cfg, time.Now))
	if lerr, ok := errors.AsType[*stats.LockedError](err); ok {
		sock := cfg.Collector.APISocketPath()
		a.log.Debug("database is held by another process; forwarding", "owner_pid", lerr.PID, "socket", sock)
		code, ferr := forward.Call(ctx, sock, fwdArgs, a.forwardStdin(cmd), fwdOut, a.stderr)
		if ferr != nil {
			return fmt.Errorf("%w; and its API socket %s did not answer: %w", lerr, sock, ferr)
		}
		if code != 0 {
			return errForwarded{code}
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer st.Close()
	_, stopAudit, err := a.startAuditSyslog(cfg, st)
	if err != nil {
		return err
	}
	defer stopAudit()
	return fn(ctx, cfg, st)
}

// forwardStdin is the caller's stdin when the command reads it (ingest from "-"), else nil.
func (a *app) forwardStdin(*cobra.Command) io.Reader {
	if !a.readsStdin {
		return nil
	}
	return a.stdin
}
