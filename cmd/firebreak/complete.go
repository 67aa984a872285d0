package main

import (
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

// proposalCompletion names, per proposals subcommand taking an ID, the states worth offering
// (none: every proposal).
var proposalCompletion = map[string][]remediate.State{
	"show":     nil,
	"diff":     {remediate.StateProposed, remediate.StateApproved, remediate.StateFailed},
	"approve":  {remediate.StateProposed},
	"reject":   {remediate.StateProposed, remediate.StateApproved},
	"push":     {remediate.StateApproved, remediate.StateFailed},
	"revert":   {remediate.StateApplied},
	"feedback": {remediate.StateApplied},
	"audit":    nil,
}

// completeProposals gives the ID-taking subcommands of group dynamic completion of IDs.
func (a *app) completeProposals(group *cobra.Command) {
	for _, c := range group.Commands() {
		states, ok := proposalCompletion[c.Name()]
		if !ok || c.ValidArgsFunction != nil {
			continue
		}
		c.ValidArgsFunction = a.completeProposalIDs(states)
	}
}

// completionStore opens the site's store for a shell completion. Completion never forwards to
// the daemon nor waits: while the daemon holds the store it completes nothing (false). The
// caller closes the store.
func (a *app) completionStore(cmd *cobra.Command) (*policies.Config, *stats.Store, bool) {
	cfg, err := a.config()
	if err != nil {
		return nil, nil, false
	}
	st, err := stats.Open(cmd.Context(), cfg.Collector.DataDir, storeOptions(cfg, time.Now))
	if err != nil {
		return nil, nil, false
	}
	return cfg, st, true
}

// completeProposalIDs completes the first argument with stored proposal IDs in one of states,
// each with its kind, state, target and note. Like finding completion it never forwards to the
// daemon nor waits: while the daemon holds the store it completes nothing.
func (a *app) completeProposalIDs(states []remediate.State) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, st, ok := a.completionStore(cmd)
		if !ok {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer st.Close()
		ps, _ := a.manager(cfg, st).List(cmd.Context())
		var out []string
		for _, p := range ps {
			if states != nil && !slices.Contains(states, p.State) {
				continue
			}
			desc := string(p.Kind) + " " + string(p.State)
			if p.Target.IsValid() {
				desc += " " + p.Target.String()
			}
			if p.Reason != "" {
				desc += " " + p.Reason
			}
			out = append(out, p.ID+"\t"+display.Text(desc))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
