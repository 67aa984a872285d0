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
	"syscall"

	"github.com/spf13/cobra"
)

// app carries what every subcommand needs: its streams, logger and clock.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	logLevel       slog.LevelVar
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
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	a.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: &a.logLevel}))
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		if !errors.Is(err, errExit) {
			fmt.Fprintln(stderr, "firebreak:", err)
		}
		return 1
	}
	return 0
}

func (a *app) rootCmd() *cobra.Command {
	var level string
	root := &cobra.Command{
		Use:   "firebreak",
		Short: "Turn Cisco ASA and IOS syslog into findings and reviewed firewall changes",
		Long: `firebreak reads the syslog of a Cisco ASA and its IOS routers, keeps rolling
statistics, finds what a small IT team should act on, and turns findings into ASA changes
that a person reviews, approves and pushes over SSH.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.logLevel.UnmarshalText([]byte(level))
		},
	}
	root.PersistentFlags().StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	root.AddCommand(
		a.versionCmd(),
		a.parseCmd(),
		a.genCmd(),
	)
	return root
}
