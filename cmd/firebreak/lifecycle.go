package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
)

// findingsLifecycleCmds are `findings ack|resolve|reopen|suppress ID` and `findings audit`.
// asJSON is the findings command's persistent --json.
func (a *app) findingsLifecycleCmds(asJSON *bool) []*cobra.Command {
	act := func(kind string, comment *string, until func(now time.Time) (time.Time, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				now := time.Now()
				ac := detect.Action{Kind: kind, Who: a.user, Comment: *comment, At: now}
				if until != nil {
					u, err := until(now)
					if err != nil {
						return err
					}
					ac.Until = u
				}
				f, err := detect.NewStore(st, time.Duration(cfg.Retention.Findings)).Act(ctx, args[0], ac)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(a.stdout, f)
				}
				fmt.Fprintf(a.stdout, "%s %s: %s\n", display.Text(f.ID), display.Text(f.StatusLabel(cfg.Location())), display.Text(f.Title))
				return nil
			})
		}
	}
	var cmds []*cobra.Command
	for _, c := range []struct{ use, kind, short string }{
		{"ack ID", detect.ActAck, "Acknowledge an open finding: someone is on it (it still updates; a higher severity reopens it)"},
		{"resolve ID", detect.ActResolve, "Resolve a finding; found again later, it reopens and alerts"},
		{"reopen ID", detect.ActReopen, "Reopen an acknowledged, resolved or suppressed finding"},
	} {
		comment := new(string)
		cc := &cobra.Command{Use: c.use, Short: c.short, Args: cobra.ExactArgs(1), RunE: act(c.kind, comment, nil),
			ValidArgsFunction: a.completeFindingIDs}
		cc.Flags().StringVar(comment, "comment", "", "comment for the findings audit log")
		cmds = append(cmds, cc)
	}
	var reason, forS string
	sup := &cobra.Command{
		Use:   "suppress ID --for 30d --reason TEXT",
		Short: "Keep a finding quiet for a while: updated silently, no alerts or proposals, shown as suppressed",
		Long: `suppress keeps a finding quiet until --for from now. Found again after that, it is open again
and alerts. For a situation that is accepted for good, add a rule to findings.suppress in the
policy (detector and subject, optional until) instead.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeFindingIDs,
		RunE: act(detect.ActSuppress, &reason, func(now time.Time) (time.Time, error) {
			var d policies.Duration
			if err := d.UnmarshalText([]byte(forS)); err != nil || d <= 0 {
				return time.Time{}, usageError{fmt.Errorf("--for %q: give a positive duration such as 12h, 30d", forS)}
			}
			if reason == "" {
				return time.Time{}, usageError{errors.New("--reason is required")}
			}
			return now.Add(time.Duration(d)), nil
		}),
	}
	sup.Flags().StringVar(&forS, "for", "", "how long (12h, 30d)")
	sup.Flags().StringVar(&reason, "reason", "", "why the finding is accepted (required)")
	audit := &cobra.Command{
		Use:               "audit [ID]",
		Short:             "Print the findings audit log (every status change, who, when, comment)",
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: a.completeFindingIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if len(args) == 1 {
				id = args[0]
			}
			return a.withStore(cmd, func(ctx context.Context, _ *policies.Config, st *stats.Store) error {
				es, err := detect.NewStore(st, 0).Audit(ctx, id)
				if err != nil {
					return err
				}
				if *asJSON {
					return writeJSON(a.stdout, es)
				}
				d := display.Text
				for _, e := range es {
					to := e.To
					if !e.Until.IsZero() {
						to += " until " + e.Until.UTC().Format(time.RFC3339)
					}
					fmt.Fprintf(a.stdout, "%6d %s %s %-10s %-18s %s→%s %s\n", e.Seq, e.At.UTC().Format(time.RFC3339), d(e.Finding), d(e.Who), e.Action, e.From, to, d(e.Comment))
				}
				return nil
			})
		},
	}
	return append(cmds, sup, audit)
}

// completeFindingIDs completes finding IDs from the store (shell completion).
func (a *app) completeFindingIDs(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	_, st, ok := a.completionStore(cmd)
	if !ok {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer st.Close()
	fs, _ := detect.NewStore(st, 0).List(cmd.Context(), detect.Filter{})
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+"\t"+display.Text(string(f.Severity)+" "+f.Status+" "+f.Title))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
