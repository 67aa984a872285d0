package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// manager wires remediate to the store, the policy and the devices over SSH.
func (a *app) manager(cfg *policies.Config, st *stats.Store) *remediate.Manager {
	return remediate.New(st, cfg, remediate.Options{Pusher: remediate.SSH{Logger: a.log}, Logger: a.log, LockDir: cfg.Collector.DataDir})
}

// running reads the device's configuration, or the saved file when given.
func (a *app) running(ctx context.Context, m *remediate.Manager, file, device string) (string, error) {
	if file == "" {
		return m.Running(ctx, device)
	}
	b, err := os.ReadFile(a.path(file))
	if err != nil {
		return "", fmt.Errorf("saved running config: %w", err)
	}
	return string(b), nil
}

func (a *app) proposeCmd() *cobra.Command {
	var findings, runningFile string
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "propose",
		Short: "Create remediation proposals from findings",
		Long: `propose turns findings into proposals (block, quarantine, SAN route fix, advisory) and
stores them for review. Findings are the open ones the detectors stored in the database, or
JSON (an array, or one object per line) from --findings FILE or standard input ("-"); only
their typed addresses are used. A proposal for a protected target is recorded as refused.
With --running FILE, the device's own protected addresses (logging, NTP, AAA, DNS,
interfaces, gateways) are refused at once; they are checked again at every diff and approval.`,
		Example: `  firebreak propose --since 24h
  firebreak findings list --json | firebreak propose --findings -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if findings == "-" {
				a.readsStdin = true
			}
			return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				var fs []detect.Finding
				var err error
				if findings == "" {
					fs, err = storedFindings(ctx, st, since)
				} else {
					fs, err = a.readFindings(findings)
				}
				if err != nil {
					return err
				}
				if since > 0 {
					cut := time.Now().Add(-since)
					kept := fs[:0]
					for _, f := range fs {
						if !f.LastSeen.Before(cut) {
							kept = append(kept, f)
						}
					}
					fs = kept
				}
				var run *asaconfig.Config
				if runningFile != "" {
					b, err := os.ReadFile(a.path(runningFile))
					if err != nil {
						return err
					}
					if run, err = asaconfig.Parse(b); err != nil {
						return err
					}
				}
				ps, err := a.manager(cfg, st).Propose(ctx, a.user, fs, run)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%d findings, %d proposals created or updated\n", len(fs), len(ps))
				a.printList(ps)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&findings, "findings", "", `findings JSON file, "-" for standard input (default: the open findings in the database)`)
	cmd.Flags().StringVar(&runningFile, "running", "", "saved running config of the ASA (refuses its own protected addresses at once)")
	cmd.Flags().DurationVar(&since, "since", 0, "only findings last seen within this duration (0: all)")
	return cmd
}

// storedFindings returns the open findings in the database.
func storedFindings(ctx context.Context, st *stats.Store, since time.Duration) ([]detect.Finding, error) {
	q := detect.Filter{Status: "open"}
	if since > 0 {
		q.Since = time.Now().Add(-since)
	}
	return detect.NewStore(st, 0).List(ctx, q)
}

// readFindings reads a JSON array or JSON lines of findings.
func (a *app) readFindings(file string) ([]detect.Finding, error) {
	var r io.Reader = a.stdin
	if file != "" && file != "-" {
		f, err := os.Open(a.path(file))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	s := strings.TrimSpace(string(b))
	var fs []detect.Finding
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &fs); err != nil {
			return nil, fmt.Errorf("findings: %w", err)
		}
		return fs, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	for dec.More() {
		var f detect.Finding
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("findings: %w", err)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

func (a *app) printList(ps []remediate.Proposal) {
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tDEVICE\tTARGET\tFINDINGS\tUPDATED\tNOTE")
	for _, p := range ps {
		target := ""
		if p.Target.IsValid() {
			target = p.Target.String()
		}
		note := p.Reason
		switch {
		case p.Refusal != "":
			note = "refused: " + p.Refusal
		case p.LastError != "":
			note = "error: " + firstLine(p.LastError)
		case p.State == remediate.StateApplied && len(p.OpenDrift()) > 0:
			note = "DRIFT " + p.OpenDrift()[0].Kind + ": " + p.OpenDrift()[0].Detail
		case p.State == remediate.StateApplied && !p.ExpiresAt.IsZero():
			note = "expires " + p.ExpiresAt.UTC().Format(time.RFC3339)
		case p.State.Open() && p.Approval != nil && !p.Approval.Complete():
			note = fmt.Sprintf("%d of %d approvals (%s)", len(p.Approval.Names()), p.Approval.Needed, strings.Join(p.Approval.Names(), ", "))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.ID, p.Kind, p.State, p.Device, target,
			len(p.Findings), p.UpdatedAt.UTC().Format("2006-01-02 15:04"), display.Text(note))
	}
	tw.Flush()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func (a *app) proposalsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proposals",
		Short: "Review, approve, push and revert remediation proposals",
		Long: `proposals manages the proposals that propose created: look at them, compute the dry run
against the ASA's running configuration (over SSH, or a saved file with --running), approve or
reject them, push approved ones (verified, rolled back on any error), revert applied ones, and
see whether an applied block works. Every decision is recorded with the OS user in the audit log.`,
	}
	cmd.AddCommand(a.proposalsListCmd(), a.proposalsShowCmd(), a.proposalsDiffCmd(), a.proposalsApproveCmd(),
		a.proposalsRejectCmd(), a.proposalsRevertCmd(), a.proposalsPushCmd(), a.proposalsFeedbackCmd(),
		a.proposalsExpireCmd(), a.proposalsReconcileCmd(), a.proposalsAuditCmd())
	a.completeProposals(cmd)
	return cmd
}

// withManager runs fn with a Manager on the store.
func (a *app) withManager(cmd *cobra.Command, fn func(ctx context.Context, m *remediate.Manager, cfg *policies.Config) error) error {
	return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
		return fn(ctx, a.manager(cfg, st), cfg)
	})
}

func (a *app) proposalsListCmd() *cobra.Command {
	var asJSON bool
	var state, target string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List proposals",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var only netip.Prefix
			if target != "" {
				var err error
				if only, err = parseTarget(target); err != nil {
					return usageError{fmt.Errorf("--target: %w", err)}
				}
			}
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				ps, err := m.List(ctx)
				if err != nil {
					return err
				}
				if only.IsValid() {
					// An address matches the proposals whose target holds it; a network, those
					// whose target overlaps it.
					ps = slices.DeleteFunc(ps, func(p remediate.Proposal) bool { return !p.Target.IsValid() || !p.Target.Overlaps(only) })
				}
				if state != "" {
					kept := ps[:0]
					for _, p := range ps {
						if string(p.State) == state {
							kept = append(kept, p)
						}
					}
					ps = kept
				}
				if asJSON {
					if ps == nil {
						ps = []remediate.Proposal{}
					}
					return writeJSON(a.stdout, ps)
				}
				a.printList(ps)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	enumFlag(cmd, &state, "state", "", "only proposals in this state", proposalStates()...)
	cmd.Flags().StringVar(&target, "target", "", "only proposals whose target holds this address or overlaps this CIDR network")
	return cmd
}

func (a *app) proposalsShowCmd() *cobra.Command {
	var asJSON, transcript bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one proposal with its findings, approval and audit trail",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				p, err := m.Get(ctx, args[0])
				if err != nil {
					return err
				}
				audit, err := m.Audit(ctx, p.ID, 0)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, struct {
						remediate.Proposal
						Audit []remediate.AuditEntry `json:"audit"`
					}{p, audit})
				}
				a.printProposal(p, audit, transcript)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&transcript, "transcript", false, "print the device transcript of the last push")
	return cmd
}

func (a *app) printProposal(p remediate.Proposal, audit []remediate.AuditEntry, transcript bool) {
	w := a.stdout
	d := display.Text
	fmt.Fprintf(w, "proposal   %s\nkind       %s\nstate      %s\ndevice     %s\n", p.ID, p.Kind, p.State, p.Device)
	if p.Origin != "" {
		fmt.Fprintf(w, "origin     %s\n", p.Origin)
	}
	if p.Target.IsValid() {
		fmt.Fprintf(w, "target     %s\n", p.Target)
	}
	if p.Interface != "" {
		fmt.Fprintf(w, "interface  %s\n", p.Interface)
	}
	if p.RemovalOf != "" {
		fmt.Fprintf(w, "removes    %s (%s)\n", p.RemovalOf, p.RemovalReason)
	}
	fmt.Fprintf(w, "reason     %s\n", d(p.Reason))
	if p.Duration > 0 {
		fmt.Fprintf(w, "duration   %s\n", p.Duration)
	}
	if p.Shun {
		own := ""
		switch {
		case p.ShunForeign:
			own = " (the device already had it: not firebreak's, never removed by it)"
		case p.ShunOwned && p.Unshunned:
			own = " (placed by firebreak, ended)"
		case p.ShunOwned:
			own = " (placed by firebreak until " + p.ShunUntil.UTC().Format(time.RFC3339) + ")"
		}
		fmt.Fprintf(w, "shun       for %s%s\n", p.ShunFor, own)
	}
	if p.Refusal != "" {
		fmt.Fprintf(w, "refused    %s\n", d(p.Refusal))
	}
	if !p.AppliedAt.IsZero() {
		fmt.Fprintf(w, "applied    %s\n", p.AppliedAt.UTC().Format(time.RFC3339))
	}
	if !p.ExpiresAt.IsZero() {
		fmt.Fprintf(w, "expires    %s\n", p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if p.LastError != "" {
		fmt.Fprintf(w, "error      %s\n", d(p.LastError))
	}
	for _, dr := range p.Drift {
		fixed := ""
		if dr.Repaired {
			fixed = " (repaired)"
		}
		fmt.Fprintf(w, "drift      %s %s: %s%s\n", dr.At.UTC().Format(time.RFC3339), dr.Kind, d(dr.Detail), fixed)
	}
	for _, f := range p.Findings {
		fmt.Fprintf(w, "finding    %s %s %s\n", d(f.ID), d(f.Detector), d(f.Severity))
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "note       %s\n", d(n))
	}
	if p.Advisory != "" {
		fmt.Fprintf(w, "advisory   %s\n", strings.ReplaceAll(strings.TrimSpace(p.Advisory), "\n", "\n           "))
	}
	if p.Direction != "" {
		dir := string(p.Direction)
		if p.Kind == remediate.KindQuarantine {
			// The target is the host: "peer" would name the wrong side.
			dir = map[remediate.Direction]string{remediate.DirPeer: "opened by the host", remediate.DirHost: "opened to the host"}[p.Direction]
			if dir == "" {
				dir = string(p.Direction)
			}
		}
		fmt.Fprintf(w, "flows      %s\n", dir)
	}
	if p.Effect != nil {
		fmt.Fprintln(w, "effect     (data-path model, last dry run)")
		for _, l := range remediate.EffectLines(p.Effect) {
			fmt.Fprintf(w, "  %s\n", l)
		}
	} else {
		for _, f := range p.Flows {
			fmt.Fprintf(w, "flow       %s\n", f)
		}
	}
	for _, t := range p.Verification {
		fmt.Fprintf(w, "traced     %s\n", t)
	}
	if p.RouteCheck != nil {
		fmt.Fprintf(w, "route      %s\n", d(p.RouteCheck.String()))
	}
	if ap := p.Approval; ap != nil {
		who := make([]string, 0, len(ap.Names()))
		for _, n := range ap.Names() {
			who = append(who, d(n))
		}
		label := "approved   by"
		if !ap.Complete() {
			label = fmt.Sprintf("approval   %d of %d (waiting for another approver) by", len(who), ap.Needed)
		}
		fmt.Fprintf(w, "%s %s at %s, config fingerprint %.16s\n", label, strings.Join(who, ", "), ap.At.UTC().Format(time.RFC3339), ap.Fingerprint)
		if ap.Digest != "" {
			fmt.Fprintf(w, "digest     %s\n", ap.Digest)
		}
		for _, l := range ap.Lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintln(w, "audit")
	for _, e := range audit {
		fmt.Fprintf(w, "  %6d %s %-12s %-12s %s→%s %s\n", e.Seq, e.At.UTC().Format(time.RFC3339), d(e.Who), e.Action, e.From, e.To, d(e.Comment))
	}
	if transcript && p.Transcript != "" {
		fmt.Fprintf(w, "transcript\n%s", p.Transcript)
	}
}

func (a *app) printDryRun(p remediate.Proposal, dr remediate.DryRun) {
	w := a.stdout
	target := ""
	if p.Target.IsValid() {
		target = " " + p.Target.String()
	}
	fmt.Fprintf(w, "# %s: %s%s on %s (hostname %s), config fingerprint %.16s\n", p.ID, p.Kind, target, p.Device, dr.Hostname, dr.Fingerprint)
	fmt.Fprintf(w, "# plan digest %s (what an approval binds: approve --digest %.16s)\n", dr.Digest, dr.Digest)
	if len(dr.Lines) == 0 && len(dr.ExecLines) == 0 {
		fmt.Fprintln(w, "# no CLI lines: nothing would be sent to the device")
	}
	if len(dr.Lines) > 0 {
		fmt.Fprintln(w, "# CLI lines, in configuration mode:")
		for _, l := range dr.Lines {
			fmt.Fprintln(w, l)
		}
	}
	if len(dr.ExecLines) > 0 {
		fmt.Fprintln(w, "# then in privileged EXEC:")
		for _, l := range dr.ExecLines {
			fmt.Fprintln(w, l)
		}
	}
	if dr.ACL != "" {
		fmt.Fprintf(w, "# expected elements of access-list %s: %d -> %d\n", dr.ACL, dr.ElementsBefore, dr.ElementsAfter)
	}
	for _, n := range dr.Notes {
		fmt.Fprintf(w, "# note: %s\n", n)
	}
	if dr.Effect != nil {
		fmt.Fprintln(w, "# effect (data-path model: verdict before -> after):")
		for _, l := range remediate.EffectLines(dr.Effect) {
			fmt.Fprintf(w, "#   %s\n", l)
		}
		if err := dr.Effect.Err(); err != nil {
			fmt.Fprintf(w, "# REFUSED: %s\n", err)
		}
	}
	if dr.Advisory != "" {
		fmt.Fprintf(w, "# advisory (not sent):\n")
		for _, l := range strings.Split(strings.TrimSpace(dr.Advisory), "\n") {
			fmt.Fprintf(w, "#   %s\n", l)
		}
	}
	if dr.Diff != "" {
		fmt.Fprint(w, dr.Diff)
	}
}

func (a *app) proposalsDiffCmd() *cobra.Command {
	var runningFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff ID",
		Short: "Dry run: the config diff, the exact CLI lines and the expected ACL element count",
		Long: `diff applies the proposal to a model of the ASA's running configuration, read over SSH
or from a saved file (--running FILE; --config is the site policy), and prints the exact CLI
lines that would be sent, the expected element count of the ACL, and the unified diff.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				p, err := m.Get(ctx, args[0])
				if err != nil {
					return err
				}
				running, err := a.running(ctx, m, runningFile, p.Device)
				if err != nil {
					return err
				}
				dr, err := m.Diff(ctx, p.ID, running)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, dr)
				}
				a.printDryRun(p, dr)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&runningFile, "running", "", "saved running config instead of reading the device")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) proposalsApproveCmd() *cobra.Command {
	var runningFile, comment, digest string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "approve ID",
		Short: "Approve a proposal against the current (or a saved) running config",
		Long: `approve computes the dry run again, prints it and records the approval with the OS user,
the comment, the fingerprint of the configuration it was computed against and the plan's
digest (the CLI lines and that fingerprint). With --digest (the one proposals diff printed, or
16+ of its leading hex digits) the approval is refused unless the plan computed now is the one
you looked at. A push recomputes the plan and refuses if its digest differs. The policy's
people rules apply: approvers, proposer_cannot_approve, two_person (a second, different
approver of the same plan). With remediation.push_on_approve the push follows at once.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, cfg *policies.Config) error {
				p, err := m.Get(ctx, args[0])
				if err != nil {
					return err
				}
				running, err := a.running(ctx, m, runningFile, p.Device)
				if err != nil {
					return err
				}
				p, dr, err := m.ApproveDigest(ctx, p.ID, a.user, comment, running, digest)
				if err != nil {
					return err
				}
				if asJSON {
					out := approveJSON{Proposal: p, DryRun: dr, Complete: p.Approval != nil && p.Approval.Complete()}
					var perr error
					if out.Complete && cfg.Remediation.PushOnApprove {
						res, err := m.Push(ctx, p.ID, a.user)
						pj := newPushJSON(res, err)
						out.Push, perr = &pj, err
					}
					return errors.Join(writeJSON(a.stdout, out), perr)
				}
				a.printDryRun(p, dr)
				if ap := p.Approval; ap != nil && !ap.Complete() {
					fmt.Fprintf(a.stdout, "%s: %d of %d approvals (%s); a second, different approver must approve digest %.16s before a push\n",
						p.ID, len(ap.Names()), ap.Needed, display.Text(strings.Join(ap.Names(), ", ")), ap.Digest)
					return nil
				}
				fmt.Fprintf(a.stdout, "%s approved by %s\n", p.ID, display.Text(strings.Join(p.Approval.Names(), ", ")))
				if !cfg.Remediation.PushOnApprove {
					return nil
				}
				return a.push(ctx, m, p.ID, false)
			})
		},
	}
	cmd.Flags().StringVar(&runningFile, "running", "", "saved running config instead of reading the device")
	cmd.Flags().StringVar(&comment, "comment", "", "comment for the audit log")
	cmd.Flags().StringVar(&digest, "digest", "", "the plan digest you reviewed (from proposals diff); refused if the plan is now another")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) push(ctx context.Context, m *remediate.Manager, id string, asJSON bool) error {
	res, err := m.Push(ctx, id, a.user)
	if asJSON {
		return errors.Join(writeJSON(a.stdout, newPushJSON(res, err)), err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", display.Text(w))
	}
	if err != nil {
		if res.Report.RolledBack {
			fmt.Fprintf(a.stderr, "%s: the device refused or failed; rolled back to the configuration before the push\n", id)
		}
		return err
	}
	p := res.Proposal
	fmt.Fprintf(a.stdout, "%s %s", p.ID, p.State)
	if res.Report.Saved {
		fmt.Fprint(a.stdout, ", verified and saved")
	}
	if !p.ExpiresAt.IsZero() {
		fmt.Fprintf(a.stdout, ", expires %s", p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(a.stdout)
	return nil
}

func (a *app) proposalsPushCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "push ID",
		Short: "Push an approved proposal: verify, save, roll back on any error",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				return a.push(ctx, m, args[0], asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the stored proposal, the lines applied, verified/saved/rolled back, warnings)")
	return cmd
}

func (a *app) proposalsRejectCmd() *cobra.Command {
	var reason string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "reject ID --reason TEXT",
		Short: "Reject a proposal that is not applied",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reason == "" {
				return errors.New("--reason is required")
			}
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				p, err := m.Reject(ctx, args[0], a.user, reason)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, p)
				}
				fmt.Fprintf(a.stdout, "%s rejected\n", p.ID)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit log)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) proposalsRevertCmd() *cobra.Command {
	var comment string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "revert ID",
		Short: "Undo an applied proposal on the device now",
		Long: `revert creates a removal proposal for an applied one, plans it against the device's
current configuration, records your approval and pushes it (verified, rolled back on error).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				res, err := m.Revert(ctx, args[0], a.user, comment)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, revertJSON{Reverted: args[0], Removal: res.Proposal})
				}
				fmt.Fprintf(a.stdout, "%s reverted by %s (%s)\n", args[0], res.Proposal.ID, res.Proposal.State)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&comment, "comment", "", "comment for the audit log")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) proposalsFeedbackCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "feedback [ID]",
		Short: "Show whether applied blocks work: deny logs since the push and ACE hit counts",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				var ids []string
				if len(args) == 1 {
					ids = args
				} else {
					ps, err := m.Active(ctx)
					if err != nil {
						return err
					}
					for _, p := range ps {
						ids = append(ids, p.ID)
					}
				}
				fbs := []remediate.Feedback{}
				for _, id := range ids {
					fb, err := m.Feedback(ctx, id)
					if err != nil {
						return err
					}
					fbs = append(fbs, fb)
				}
				if asJSON {
					return writeJSON(a.stdout, fbs)
				}
				tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tKIND\tTARGET\tACL\tAGE\tDENY LOGS\tHITS\tNOTE")
				for _, fb := range fbs {
					hits, note := "?", ""
					switch {
					case fb.HitsKnown:
						hits = fmt.Sprint(fb.Hits)
					case fb.Missing:
						note = "managed ACE not found on the device"
					default:
						note = firstLine(fb.HitsError)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", fb.Proposal, fb.Kind, fb.Target, fb.ACL,
						fb.Age.Round(time.Minute), fb.DenyLogs, hits, display.Text(note))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) proposalsExpireCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "expire",
		Short: "Handle applied blocks past their end now (removal proposals, or removal with auto_remove_on_expiry)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				res, err := m.Expire(ctx, time.Now())
				if asJSON {
					out := expireJSON{Unshunned: append([]string{}, res.Unshunned...), Removals: append([]remediate.Proposal{}, res.Removals...)}
					for _, e := range res.Errors {
						out.Errors = append(out.Errors, e.Error())
					}
					return errors.Join(writeJSON(a.stdout, out), err)
				}
				for _, id := range res.Unshunned {
					fmt.Fprintf(a.stdout, "%s: shun ended\n", id)
				}
				for _, r := range res.Removals {
					fmt.Fprintf(a.stdout, "%s expired: removal %s is %s\n", r.RemovalOf, r.ID, r.State)
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) proposalsReconcileCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Compare applied proposals with their devices now (read-only), place lost shuns again, report drift",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				rep, err := m.Reconcile(ctx, time.Now())
				if asJSON {
					ps, lerr := m.List(ctx)
					out := reconcileJSON{ReconcileReport: rep, Drifting: []remediate.Proposal{}}
					for _, p := range ps {
						if p.State == remediate.StateApplied && len(p.Drift) > 0 {
							out.Drifting = append(out.Drifting, p)
						}
					}
					return errors.Join(writeJSON(a.stdout, out), err, lerr)
				}
				fmt.Fprintf(a.stdout, "%d applied checked, %d with drift, %d repaired\n", rep.Checked, rep.Drift, rep.Repaired)
				ps, lerr := m.List(ctx)
				for _, p := range ps {
					if p.State != remediate.StateApplied {
						continue
					}
					for _, d := range p.Drift {
						fixed := ""
						if d.Repaired {
							fixed = " (repaired)"
						}
						fmt.Fprintf(a.stdout, "%s %s: %s%s\n", p.ID, d.Kind, display.Text(d.Detail), fixed)
					}
				}
				return errors.Join(err, lerr)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) proposalsAuditCmd() *cobra.Command {
	var asJSON, verify bool
	cmd := &cobra.Command{
		Use:   "audit [ID]",
		Short: "Print the audit log (every transition, who, when, comment), or --verify its hash chain",
		Long: `Print the audit log (every transition, who, when, comment).

--verify walks the hash chain of the proposals' and the findings' audit logs from the
first entry and reports the first one that is not what firebreak wrote: edited, deleted,
reordered or inserted. It exits 1 when a log was tampered with, 0 when both are intact.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if verify {
				if len(args) != 0 {
					return usageError{errors.New("--verify checks whole logs: it takes no proposal ID")}
				}
				return a.withStore(cmd, func(ctx context.Context, _ *policies.Config, st *stats.Store) error {
					return a.verifyAudit(ctx, st, asJSON)
				})
			}
			return a.withManager(cmd, func(ctx context.Context, m *remediate.Manager, _ *policies.Config) error {
				id := ""
				if len(args) == 1 {
					id = args[0]
				}
				es, err := m.Audit(ctx, id, 0)
				if err != nil {
					return err
				}
				if asJSON {
					if es == nil {
						es = []remediate.AuditEntry{}
					}
					return writeJSON(a.stdout, es)
				}
				d := display.Text
				for _, e := range es {
					fmt.Fprintf(a.stdout, "%6d %s %s %-12s %-12s %s→%s %s\n", e.Seq, e.At.UTC().Format(time.RFC3339), e.Proposal, d(e.Who), e.Action, e.From, e.To, d(e.Comment))
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&verify, "verify", false, "check the audit logs' hash chain (exit 1 on tampering)")
	return cmd
}

// auditCheck is one log's verification as printed by proposals audit --verify.
type auditCheck struct {
	stats.LogCheck
	Intact bool                  `json:"intact"`
	Entry  *remediate.AuditEntry `json:"entry,omitempty"` // the broken entry, when it decodes
}

// verifyAudit checks both audit logs and prints the result; tampering is errExit.
func (a *app) verifyAudit(ctx context.Context, st *stats.Store, asJSON bool) error {
	var out []auditCheck
	intact := true
	for _, ns := range []string{remediate.NSAudit, detect.NSAudit} {
		c, err := st.VerifyLog(ctx, ns)
		if err != nil {
			return fmt.Errorf("verify log %s: %w", ns, err)
		}
		ac := auditCheck{LogCheck: c, Intact: c.Break == nil}
		if c.Break != nil {
			intact = false
			var e remediate.AuditEntry
			if json.Unmarshal(c.Break.Payload, &e) == nil && !e.At.IsZero() {
				e.Seq = c.Break.PayloadAt
				ac.Entry = &e
			}
		}
		out = append(out, ac)
	}
	if asJSON {
		if err := writeJSON(a.stdout, struct {
			Intact bool         `json:"intact"`
			Logs   []auditCheck `json:"logs"`
		}{intact, out}); err != nil {
			return err
		}
	} else {
		d := display.Text
		for _, c := range out {
			if c.Break == nil {
				fmt.Fprintf(a.stdout, "%s: %d entries, intact, head %s\n", c.NS, c.Entries, c.Head)
			} else {
				fmt.Fprintf(a.stdout, "%s: TAMPERED at entry %d: %s: %s\n", c.NS, c.Break.Seq, c.Break.Kind, d(c.Break.Detail))
				what := "entry"
				if c.Break.PayloadAt != c.Break.Seq {
					what = "the entry after it"
				}
				if e := c.Entry; e != nil {
					fmt.Fprintf(a.stdout, "  %s (at %d): %s %s %s %s\n", what, e.Seq, e.At.UTC().Format(time.RFC3339), d(e.Proposal), d(e.Who), d(e.Action))
				} else if len(c.Break.Payload) > 0 {
					fmt.Fprintf(a.stdout, "  %s (at %d): %s\n", what, c.Break.PayloadAt, d(string(c.Break.Payload)))
				}
			}
			if c.ChainedUpTo > 0 {
				fmt.Fprintf(a.stdout, "  entries 1 to %d were written before the chain and chained at the upgrade on %s: edits before then do not show\n", c.ChainedUpTo, c.ChainedAt.UTC().Format(time.RFC3339))
			}
		}
	}
	if !intact {
		return errExit
	}
	return nil
}

// proposalStates lists the state machine's states for --state.
func proposalStates() []string {
	var out []string
	for s := range remediate.Transitions {
		out = append(out, string(s))
	}
	slices.Sort(out)
	return out
}
