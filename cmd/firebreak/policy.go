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
	var asJSON bool
	check := &cobra.Command{
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
			if asJSON {
				return a.policyCheckJSON(args[0], cfg, err)
			}
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
	}
	check.Flags().BoolVar(&asJSON, "json", false, "print the verdict and every problem as JSON (exit 1 when invalid)")
	cmd.AddCommand(check)
	return cmd
}

type policyProblem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	Field  string `json:"field"`
	Msg    string `json:"message"`
}

// policyCheckJSON prints {"valid": ..., "problems": [...], "explained": "..."}; a policy that
// does not load at all (unreadable) is one problem without a line.
func (a *app) policyCheckJSON(name string, cfg *policies.Config, err error) error {
	out := struct {
		Valid     bool            `json:"valid"`
		Policy    string          `json:"policy"`
		Site      string          `json:"site,omitempty"`
		Problems  []policyProblem `json:"problems"`
		Explained string          `json:"explained,omitempty"`
	}{Valid: err == nil, Policy: name, Problems: []policyProblem{}}
	if errs, ok := errors.AsType[policies.Errors](err); ok {
		for _, e := range errs {
			out.Problems = append(out.Problems, policyProblem{e.File, e.Line, e.Column, e.Field, e.Msg})
		}
	} else if err != nil {
		out.Problems = append(out.Problems, policyProblem{File: name, Msg: err.Error()})
	}
	if cfg != nil && err == nil {
		out.Site, out.Explained = cfg.Site, policies.Explain(cfg, time.Now())
	}
	if werr := writeJSON(a.stdout, out); werr != nil {
		return werr
	}
	if !out.Valid {
		return errExit
	}
	return nil
}
