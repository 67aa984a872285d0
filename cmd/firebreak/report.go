package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/detect/report"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

func (a *app) reportCmd() *cobra.Command {
	var (
		since   time.Duration
		at      string
		format  string
		out     string
		running string
	)
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Write the report of a window: servers, printers, traffic, significant terms, findings, proposals, blocks",
		Long: `report builds the report the daemon mails on its schedule, for the window of --since
before --at, and writes it to standard output or --out.

Without --at the window ends now, or, when the database holds nothing that recent (replayed
logs), at the end of the newest hour with data.

The HTML format is one self-contained page (inline CSS and SVG charts, no scripts) that reads
on screen and on paper.`,
		Example: `  firebreak report
  firebreak report --since 24h --at 2026-04-28T00:00:00-05:00 --format html --out report.html
  firebreak report --format json | jq .traffic.hours`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := report.ParseFormat(format)
			if err != nil {
				return err
			}
			if since <= 0 {
				return fmt.Errorf("--since must be positive")
			}
			return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				end, err := a.reportEnd(ctx, cfg, st, at, since)
				if err != nil {
					return err
				}
				src := a.reportSources(cfg, st)
				if running != "" {
					b, err := os.ReadFile(a.path(running))
					if err != nil {
						return fmt.Errorf("--running: %w", err)
					}
					src.Proposals = a.reportProposalsWithDiff(cfg, st, string(b))
				}
				d, err := report.Build(ctx, src, report.Last(end, since))
				if err != nil {
					return err
				}
				return a.writeReport(d, f, out)
			})
		},
	}
	cmd.Flags().DurationVar(&since, "since", 24*time.Hour, "length of the window")
	cmd.Flags().StringVar(&at, "at", "", "end of the window: RFC 3339, or YYYY-MM-DD[ HH:MM] in the site's zone (default: now, or the newest data)")
	enumFlag(cmd, &format, "format", "text", "report format", "text", "markdown", "html", "json")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&running, "running", "", "saved running config of the ASA: show each pending proposal's dry-run diff against it")
	return cmd
}

// reportSources wires the report to the store, the findings store and remediation. Devices
// are not asked anything: pending proposals show the CLI lines of their approval (a fresh diff
// needs the running config: `firebreak proposals diff ID`), and blocks show the deny logs
// since they were applied, not the device's hit counts.
func (a *app) reportSources(cfg *policies.Config, st *stats.Store) report.Sources {
	findings := detect.NewStore(st, time.Duration(cfg.Retention.Findings))
	m := remediate.New(st, cfg, remediate.Options{Logger: a.log}) // no Pusher: offline
	return report.Sources{
		Store: st, Config: cfg, Now: time.Now, Log: a.log,
		Findings: func(ctx context.Context, w report.Window) ([]detect.Finding, error) {
			return findings.List(ctx, detect.Filter{Since: w.From})
		},
		Proposals: func(ctx context.Context) ([]report.ProposalView, error) {
			ps, err := m.List(ctx)
			if err != nil {
				return nil, err
			}
			var out []report.ProposalView
			for _, p := range ps {
				if v, ok := ineffectiveView(p); ok {
					out = append(out, v)
					continue
				}
				if p.State != remediate.StateProposed && p.State != remediate.StateApproved {
					continue
				}
				out = append(out, proposalView(p))
			}
			return out, nil
		},
		Blocks: func(ctx context.Context, at time.Time) ([]report.BlockView, error) {
			ps, err := m.Active(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]report.BlockView, 0, len(ps))
			for _, p := range ps {
				b := report.BlockView{ID: p.ID, Target: string(p.Kind) + " " + targetString(p), AppliedAt: p.AppliedAt, ExpiresAt: p.ExpiresAt}
				fb, err := m.Feedback(ctx, p.ID)
				if err != nil {
					b.StillNeeded = "feedback failed: " + err.Error()
					out = append(out, b)
					continue
				}
				b.HitCount, b.DeniesSince = fb.Hits, fb.DenyLogs
				b.StillNeeded = stillNeeded(fb, at)
				for _, d := range p.OpenDrift() {
					// The device no longer has all of it: say so first.
					b.StillNeeded = "DRIFT " + d.Kind + ": " + d.Detail + "; " + b.StillNeeded
				}
				out = append(out, b)
			}
			return out, nil
		},
	}
}

// reportProposalsWithDiff lists the pending proposals with their dry run against a saved
// running config (the device is not asked).
func (a *app) reportProposalsWithDiff(cfg *policies.Config, st *stats.Store, running string) func(context.Context) ([]report.ProposalView, error) {
	m := remediate.New(st, cfg, remediate.Options{Logger: a.log})
	return func(ctx context.Context) ([]report.ProposalView, error) {
		ps, err := m.List(ctx)
		if err != nil {
			return nil, err
		}
		var out []report.ProposalView
		for _, p := range ps {
			if v, ok := ineffectiveView(p); ok {
				out = append(out, v)
				continue
			}
			if p.State != remediate.StateProposed && p.State != remediate.StateApproved {
				continue
			}
			v := proposalView(p)
			if p.Kind != remediate.KindAdvisory {
				if dr, err := m.Diff(ctx, p.ID, running); err != nil {
					v.Diff = "dry run failed: " + err.Error()
				} else {
					v.Diff, v.CLI = dr.Diff, dr.Lines
				}
			}
			out = append(out, v)
		}
		return out, nil
	}
}

func targetString(p remediate.Proposal) string {
	if !p.Target.IsValid() {
		return "-"
	}
	if p.Target.IsSingleIP() {
		return p.Target.Addr().String()
	}
	return p.Target.String()
}

func proposalView(p remediate.Proposal) report.ProposalView {
	v := report.ProposalView{ID: p.ID, Kind: string(p.Kind), State: string(p.State), Target: targetString(p), Created: p.CreatedAt}
	for _, f := range p.Findings {
		v.Findings = append(v.Findings, f.ID)
	}
	if p.Approval != nil {
		v.CLI = p.Approval.Lines
	}
	v.Reason, v.Advisory = p.Reason, p.Advisory
	if p.Effect != nil {
		v.Effect = remediate.EffectLines(p.Effect)
	}
	return v
}

// ineffectiveView is the report's line for a change stored as ineffective (never offered).
func ineffectiveView(p remediate.Proposal) (report.ProposalView, bool) {
	if p.State != remediate.StateRejected || p.Effect == nil || p.Effect.Ineffective == "" {
		return report.ProposalView{}, false
	}
	v := proposalView(p)
	v.Effect, v.CLI = nil, nil
	v.Ineffective = p.Effect.Ineffective
	return v, true
}

// stillNeeded is the report's verdict on an applied block from its feedback.
func stillNeeded(fb remediate.Feedback, at time.Time) string {
	switch {
	case fb.Missing:
		return "the ACE is missing on the device: check it"
	case !fb.ExpiresAt.IsZero() && !at.Before(fb.ExpiresAt):
		return "expired: removal due"
	case fb.DenyLogs > 0:
		return fmt.Sprintf("working: %d denies logged since it was applied", fb.DenyLogs)
	case at.Sub(fb.AppliedAt) > 24*time.Hour:
		return "no denies since it was applied: maybe no longer needed"
	}
	return "too early to say"
}

// reportEnd resolves --at; without it, now, or the end of the newest hour with data when
// nothing was recorded in the window before now.
func (a *app) reportEnd(ctx context.Context, cfg *policies.Config, st *stats.Store, at string, since time.Duration) (time.Time, error) {
	if at != "" {
		return parseTime(at, cfg.Location())
	}
	now := time.Now()
	site, err := st.SiteSeries(ctx, stats.Window{}, stats.Hourly)
	if err != nil {
		return time.Time{}, err
	}
	if len(site) == 0 {
		return now, nil
	}
	newest := site[len(site)-1].Start.Add(time.Hour)
	if newest.Before(now.Add(-since)) {
		fmt.Fprintf(a.stderr, "firebreak: nothing recorded in the last %s; reporting the %s up to the newest data, %s\n",
			since, since, newest.In(cfg.Location()).Format(time.RFC3339))
		return newest, nil
	}
	return now, nil
}

func (a *app) writeReport(d *report.Data, f report.Format, out string) error {
	if out == "" || out == "-" {
		return d.Render(a.stdout, f)
	}
	return writeFileAtomic(a.path(out), func(w io.Writer) error { return d.Render(w, f) })
}

// writeFileAtomic writes through a temporary file in the same folder and renames it, so a
// reader never sees half a report.
func writeFileAtomic(name string, fn func(io.Writer) error) error {
	return report.WriteFile(name, fn)
}
