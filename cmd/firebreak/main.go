// Command firebreak closes the loop between what a Cisco ASA and its routers log and what the
// firewall policy says. main only parses flags and wires the packages together; each
// subcommand lives in its own file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/policies"
)

// app carries what every subcommand needs: its streams, logger and clock.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	logLevel       slog.LevelVar

	args       []string // the command line, for forwarding to the daemon
	cwd        string   // the caller's working directory (differs inside the daemon)
	user       string   // the OS user for audit records
	configPath string   // --config
	dataDir    string   // --data-dir
	cfg        *policies.Config
	daemon     *daemonEnv // set when running a forwarded command inside the daemon
	readsStdin bool       // the command reads stdin (forward it to the daemon)
	cpuProfile string     // --cpuprofile
	profile    *os.File   // open while the CPU profile runs
}

// errExit reports a failure that was already printed; main only sets the exit code.
var errExit = errors.New("exit status 1")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, args: args}
	a.cwd, _ = os.Getwd()
	if u, err := user.Current(); err == nil {
		a.user = u.Username
	}
	a.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: &a.logLevel}))
	return a.execute(ctx)
}

// execute runs a.args through the command tree and returns the exit status.
func (a *app) execute(ctx context.Context) int {
	root := a.rootCmd()
	root.SetArgs(a.args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if a.profile != nil {
		pprof.StopCPUProfile()
		if cerr := a.profile.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("--cpuprofile: %w", cerr)
		}
	}
	if err != nil {
		if fe, ok := errors.AsType[errForwarded](err); ok {
			return fe.code
		}
		if !errors.Is(err, errExit) {
			fmt.Fprintln(a.stderr, "firebreak:", err)
		}
		if isUsage(err) {
			fmt.Fprintln(a.stderr, "Run 'firebreak --help' for usage.")
			return exitUsage
		}
		return exitFail
	}
	return exitOK
}

// startProfile starts the --cpuprofile profile; execute stops it when the command returns.
func (a *app) startProfile() error {
	if a.cpuProfile == "" {
		return nil
	}
	if a.daemon != nil {
		return usageError{errors.New("--cpuprofile profiles this process: it cannot run inside the daemon")}
	}
	f, err := os.Create(a.path(a.cpuProfile))
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	a.profile = f
	return nil
}

func (a *app) rootCmd() *cobra.Command {
	var level, format string
	root := &cobra.Command{
		Use:   "firebreak",
		Short: "Turn Cisco ASA and IOS syslog into findings and reviewed firewall changes",
		Long: `firebreak reads the syslog of a Cisco ASA and its IOS routers, keeps rolling
statistics, finds what a small IT team should act on, and turns findings into ASA changes
that a person reviews, approves and pushes over SSH.`,
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.logLevel.UnmarshalText([]byte(level)); err != nil {
				return usageError{fmt.Errorf("--log-level: %w", err)}
			}
			if format == "json" {
				a.log = slog.New(slog.NewJSONHandler(a.stderr, &slog.HandlerOptions{Level: &a.logLevel}))
			}
			return a.startProfile()
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	enumPersistentFlag(root, &level, "log-level", "info", "log level", "debug", "info", "warn", "error")
	enumPersistentFlag(root, &format, "log-format", "text", "log format on standard error", "text", "json")
	root.PersistentFlags().StringVarP(&a.configPath, "config", "c", "", "site policy file or folder (else $FIREBREAK_CONFIG, else /etc/firebreak/site.yaml)")
	root.PersistentFlags().StringVar(&a.dataDir, "data-dir", "", "data folder (default: the policy's collector.data_dir)")
	// A file, not an HTTP endpoint: profiling needs no listener and is written when the command ends.
	root.PersistentFlags().StringVar(&a.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole command to this file (for measuring)")
	root.AddCommand(
		a.versionCmd(),
		a.parseCmd(),
		a.genCmd(),
		a.ingestCmd(),
		a.serveCmd(),
		a.statusCmd(),
		a.reportCmd(),
		a.demoCmd(),
		a.proposeCmd(), a.proposalsCmd(), a.blockCmd(), a.unblockCmd(),
		a.detectCmd(), a.findingsCmd(), a.termsCmd(), a.policyCmd(),
		a.dbCmd(), a.esCmd(),
	)
	markUsage(root)
	return root
}
