package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/policies"
)

func (a *app) policyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Work with site policy files",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE|FOLDER",
		Short: "Validate a site policy and explain what it says",
		Long: `check loads the policy strictly (unknown keys, bad addresses, prefixes, ports, durations and
schedules are errors). A valid policy is summarised: devices, networks by role, flows, protected
addresses, detectors and thresholds, and the next runs of each schedule. Otherwise every problem
is printed as file:line:col: field: message and the exit status is 1.`,
		Example: `  firebreak policy check /etc/firebreak/site.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := policies.Load(a.path(args[0]))
			if err != nil {
				if errs, ok := errors.AsType[policies.Errors](err); ok {
					for _, e := range errs {
						fmt.Fprintln(a.stderr, e.Error())
					}
					fmt.Fprintf(a.stderr, "%d problem(s) in %s\n", len(errs), args[0])
					return errExit
				}
				return err
			}
			fmt.Fprint(a.stdout, policies.Explain(cfg, time.Now()))
			return nil
		},
	})
	return cmd
}
