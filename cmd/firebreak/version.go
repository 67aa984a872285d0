package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func (a *app) versionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				ver, rev, goVersion := buildInfo()
				return writeJSON(a.stdout, struct {
					Version  string `json:"version"`
					Revision string `json:"revision"`
					Go       string `json:"go"`
				}{ver, rev, goVersion})
			}
			_, err := fmt.Fprintln(a.stdout, versionLine())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// buildInfo is the version, commit and Go version of this binary.
func buildInfo() (ver, rev, goVersion string) {
	rev = "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	return version, rev, runtime.Version()
}

// versionLine is what `firebreak version` and `firebreak --version` print.
func versionLine() string {
	rev, modified := "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
	}
	return fmt.Sprintf("firebreak %s commit %s%s %s %s/%s",
		version, rev, modified, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
