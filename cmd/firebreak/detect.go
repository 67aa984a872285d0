package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
)

func (a *app) detectCmd() *cobra.Command {
	var (
		at      string
		window  time.Duration
		asJSON  bool
		only    []string
		noStore bool
		from    string
		to      string
	)
	cmd := &cobra.Command{
		Use:   "detect [--at TIME | --from DAY --to DAY] [--window 24h]",
		Short: "Run the detectors over a window now and store their findings",
		Long: `detect runs every detector the policy enables over the window ending at --at (default:
the start of the current hour) and stores the findings, as the daemon's schedule does. Running it
again for the same --at gives the same findings and does not inflate their counts.

TIME is RFC 3339 (2026-05-06T00:00:00-05:00), a date (2026-05-06, midnight in the site's zone) or
"YYYY-MM-DD HH:MM" in the site's zone.

--from DAY --to DAY backfills: one run per day from DAY to DAY (inclusive, dates in the site's
zone), each over the day (the window ending at the next midnight), in one process with the
store opened once and the volume detector's host series read once and carried from day to
day, so a day costs the same whatever the history.`,
		Example: `  firebreak detect --config /tmp/clinic/site.yaml --at 2026-05-06
  firebreak detect --config /tmp/clinic/site.yaml --from 2026-05-01 --to 2026-05-06
  firebreak detect --window 6h --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			withStore := a.withStore
			if noStore {
				withStore = a.withReadStore
			}
			return withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				end := time.Now().Truncate(time.Hour)
				if at != "" {
					t, err := parseTime(at, cfg.Location())
					if err != nil {
						return fmt.Errorf("--at: %w", err)
					}
					end = t
				}
				env := &detect.Env{Stats: st, Policy: cfg, Log: a.log}
				if !noStore {
					env.Findings = detect.NewStore(st, time.Duration(cfg.Retention.Findings))
				}
				if len(only) > 0 {
					for _, n := range only {
						d, ok := detect.ByName(n)
						if !ok {
							return fmt.Errorf("--detector: unknown detector %q", n)
						}
						env.Detectors = append(env.Detectors, d)
					}
				}
				if from != "" || to != "" {
					if at != "" || from == "" || to == "" {
						return usageError{errors.New("--from and --to go together, without --at")}
					}
					first, err := parseTime(from, cfg.Location())
					if err != nil {
						return fmt.Errorf("--from: %w", err)
					}
					last, err := parseTime(to, cfg.Location())
					if err != nil {
						return fmt.Errorf("--to: %w", err)
					}
					if last.Before(first) {
						return usageError{errors.New("--to is before --from")}
					}
					return a.backfill(ctx, env, cfg, first, last, window, asJSON)
				}
				res, err := detect.Run(ctx, env, end, window)
				if err != nil && !errors.Is(err, detect.ErrDetectors) {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(a.stdout)
					enc.SetIndent("", "  ")
					if jerr := enc.Encode(res); jerr != nil {
						return jerr
					}
				} else {
					printRun(a.stdout, res, cfg.Location())
				}
				if err != nil {
					for _, e := range res.Errors {
						fmt.Fprintf(a.stderr, "firebreak detect: %s: %s\n", e.Detector, display.Text(e.Err))
					}
					return errExit
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "end of the window (default: the start of the current hour)")
	cmd.Flags().DurationVar(&window, "window", 24*time.Hour, "length of the window")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the run as JSON")
	cmd.Flags().StringSliceVar(&only, "detector", nil, "run only these detectors (repeatable)")
	cmd.Flags().BoolVar(&noStore, "dry-run", false, "do not store the findings")
	cmd.Flags().StringVar(&from, "from", "", "backfill: first day (with --to)")
	cmd.Flags().StringVar(&to, "to", "", "backfill: last day, inclusive (with --from)")
	return cmd
}

// backfill runs detection for each day from first to last and prints each run (JSON: one
// array of runs).
func (a *app) backfill(ctx context.Context, env *detect.Env, cfg *policies.Config, first, last time.Time, window time.Duration, asJSON bool) error {
	var runs []detect.RunResult
	failed := false
	began := time.Now()
	err := detect.Backfill(ctx, env, first, last, window, func(res detect.RunResult, err error) error {
		if err != nil && !errors.Is(err, detect.ErrDetectors) {
			return err
		}
		if err != nil {
			failed = true
			for _, e := range res.Errors {
				fmt.Fprintf(a.stderr, "firebreak detect: %s: %s: %s\n", res.Window.To.In(cfg.Location()).Format(time.DateOnly), e.Detector, display.Text(e.Err))
			}
		}
		if asJSON {
			runs = append(runs, res)
		} else {
			printRun(a.stdout, res, cfg.Location())
		}
		return nil
	})
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(runs); err != nil {
			return err
		}
	} else {
		days := int(last.Sub(first).Hours()/24+0.5) + 1
		fmt.Fprintf(a.stdout, "backfilled %d days in %s\n", days, time.Since(began).Round(time.Millisecond))
	}
	if failed {
		return errExit
	}
	return nil
}

// parseTime reads RFC 3339, a date or "date hh:mm" (the last two in loc).
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read %q: want RFC 3339, YYYY-MM-DD or \"YYYY-MM-DD HH:MM\"", s)
}

func printRun(w io.Writer, res detect.RunResult, loc *time.Location) {
	counts := map[detect.Change]int{}
	for _, f := range res.Findings {
		counts[f.Change]++
	}
	fmt.Fprintf(w, "window %s .. %s: %d findings (%d new, %d updated, %d reopened, %d already reported) by %d detectors in %s\n",
		res.Window.From.In(loc).Format(time.DateTime), res.Window.To.In(loc).Format("2006-01-02 15:04 MST"),
		len(res.Findings), counts[detect.ChangeNew], counts[detect.ChangeUpdated]+counts[detect.ChangeEscalated], counts[detect.ChangeReopened],
		counts[detect.ChangeSilent], len(res.Detectors), res.Took.Round(time.Millisecond))
	for _, f := range res.Findings {
		fmt.Fprintf(w, "%-9s %-8s %-8s %-18s %s\n", f.Change, f.ID, f.Severity, f.Detector, display.Text(f.Title))
		if f.Status == detect.StatusSuppressed {
			fmt.Fprintf(w, "          %s\n", display.Text(f.StatusLabel(loc)))
		}
	}
}
