package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/detect/sigterms"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
)

func (a *app) termsCmd() *cobra.Command {
	var (
		field     string
		since     string
		at        string
		heuristic string
		size      int
		minDoc    int
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "terms --field FIELD [--since 24h]",
		Short: "Ad-hoc significant terms of a field, as Elasticsearch's significant_terms computes them",
		Long: `terms scores each value of FIELD in the foreground (the --since window ending at --at, default
now) against every retained day up to then, with an Elasticsearch significance heuristic, and
prints term, score, foreground count and background count.

Fields: destination.ip, destination.port, source.ip, user.source.
Heuristics: ` + fmt.Sprint(sigterms.Names()),
		Example: `  firebreak terms --field destination.ip --since 24h
  firebreak terms --field destination.port --since 7d --heuristic chi_square --size 20`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, ok := stats.ParseField(field)
			if !ok {
				return fmt.Errorf("--field: unknown field %q (want destination.ip, destination.port, source.ip or user.source)", field)
			}
			if _, err := sigterms.ByName(heuristic); err != nil {
				return fmt.Errorf("--heuristic: %w", err)
			}
			return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				end := time.Now()
				if at != "" {
					t, err := parseTime(at, cfg.Location())
					if err != nil {
						return fmt.Errorf("--at: %w", err)
					}
					end = t
				}
				var d policies.Duration
				if err := d.UnmarshalText([]byte(since)); err != nil || d <= 0 {
					return fmt.Errorf("--since: want a positive duration such as 24h or 7d, got %q", since)
				}
				res, err := detect.SignificantTerms(ctx, st, detect.TermsQuery{
					Field: f, Window: detect.TimeRange{From: end.Add(-time.Duration(d)), To: end},
					Heuristic: heuristic, Size: size, MinDocCount: minDoc,
				})
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, res)
				}
				loc := cfg.Location()
				fmt.Fprintf(a.stdout, "%s, %s, foreground %s .. %s: %d documents; background %d documents\n",
					res.Field, res.Heuristic, res.Window.From.In(loc).Format("2006-01-02 15:04"),
					res.Window.To.In(loc).Format("2006-01-02 15:04 MST"), res.Subset, res.Superset)
				fmt.Fprintf(a.stdout, "%-32s %12s %10s %12s\n", "TERM", "SCORE", "FG", "BG")
				for _, t := range res.Terms {
					fmt.Fprintf(a.stdout, "%-32s %12.6g %10d %12d\n", display.Text(t.Key), t.Score, t.FG, t.BG)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&field, "field", "destination.ip", "field: destination.ip, destination.port, source.ip, user.source")
	cmd.Flags().StringVar(&since, "since", "24h", "foreground window length (24h, 7d)")
	cmd.Flags().StringVar(&at, "at", "", "end of the foreground window (default now)")
	cmd.Flags().StringVar(&heuristic, "heuristic", "jlh", "significance heuristic")
	cmd.Flags().IntVar(&size, "size", 10, "number of terms (negative: all)")
	cmd.Flags().IntVar(&minDoc, "min-doc-count", 3, "least foreground count of a term")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func sortStrings(s []string) { slices.Sort(s) }
