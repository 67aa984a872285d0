package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/esout"
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
		backend   string
		output    string
	)
	cmd := &cobra.Command{
		Use:   "terms --field FIELD [--since 24h]",
		Short: "Ad-hoc significant terms of a field, as Elasticsearch's significant_terms computes them",
		Long: `terms scores each value of FIELD in the foreground (the --since window ending at --at, default
now) against every retained day up to then, with an Elasticsearch significance heuristic, and
prints term, score, foreground count and background count.

Fields: destination.ip, destination.port, source.ip, user.source.

--backend es puts the same question to the cluster of an output (es setup's templates): a
significant_terms aggregation over the ASA stream with the same documents (connections,
permits, denies, VPN logins), the same foreground (the window in whole hours), the same
background filter (every UTC day up to the end of the window's last day, back to
retention.daily) and the same heuristic. On Elasticsearch, runtime fields read the
responder (destination) and initiator (source) as firebreak counts them; OpenSearch has none,
so there ECS destination.ip/source.ip are used in message order (an outbound Built line
names the outside peer first). The cluster counts each line once where firebreak weighs
aggregated lines by their count. --backend both prints the two answers side by side.
Heuristics: ` + fmt.Sprint(sigterms.Names()),
		Example: `  firebreak terms --field destination.ip --since 24h
  firebreak terms --field destination.port --since 7d --heuristic chi_square --size 20
  firebreak terms --field destination.ip --since 24h --backend both`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, ok := stats.ParseField(field)
			if !ok {
				return fmt.Errorf("--field: unknown field %q (want destination.ip, destination.port, source.ip or user.source)", field)
			}
			if _, err := sigterms.ByName(heuristic); err != nil {
				return fmt.Errorf("--heuristic: %w", err)
			}
			window := func(cfg *policies.Config) (detect.TimeRange, error) {
				end := time.Now()
				if at != "" {
					t, err := parseTime(at, cfg.Location())
					if err != nil {
						return detect.TimeRange{}, fmt.Errorf("--at: %w", err)
					}
					end = t
				}
				var d policies.Duration
				if err := d.UnmarshalText([]byte(since)); err != nil || d <= 0 {
					return detect.TimeRange{}, fmt.Errorf("--since: want a positive duration such as 24h or 7d, got %q", since)
				}
				return detect.TimeRange{From: end.Add(-time.Duration(d)), To: end}, nil
			}
			local := func(ctx context.Context, cfg *policies.Config, st *stats.Store) (detect.TermsResult, error) {
				w, err := window(cfg)
				if err != nil {
					return detect.TermsResult{}, err
				}
				return detect.SignificantTerms(ctx, st, detect.TermsQuery{
					Field: f, Window: w, Heuristic: heuristic, Size: size, MinDocCount: minDoc,
				})
			}
			if backend == "local" {
				return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
					res, err := local(ctx, cfg, st)
					if err != nil {
						return err
					}
					if asJSON {
						return writeJSON(a.stdout, res)
					}
					printLocalTerms(a.stdout, cfg, res)
					return nil
				})
			}
			cfg, err := a.config()
			if err != nil {
				return err
			}
			if f == stats.FieldUserSource {
				return usageError{fmt.Errorf("--backend %s: user.source is firebreak's own term (user and address of a VPN login); the cluster answers destination.ip, destination.port and source.ip", backend)}
			}
			po, err := pickOutput(cfg, output)
			if err != nil {
				return err
			}
			w, err := window(cfg)
			if err != nil {
				return err
			}
			c, err := esout.NewClient(po, nil)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cl, err := esout.Detect(ctx, c)
			if err != nil {
				return err
			}
			q := esout.TermsQuery{Index: po.Streams.ASA, Field: f.String(), From: w.From, To: w.To,
				Retention: time.Duration(cfg.Retention.Daily), Heuristic: heuristic, Size: size, MinDoc: minDoc, Flavour: cl.Flavour}
			ans, err := esout.SignificantTerms(ctx, c, q)
			if err != nil {
				return err
			}
			if backend == "es" {
				if asJSON {
					return writeJSON(a.stdout, map[string]any{"cluster": cl, "output": po.Name, "index": po.Streams.ASA, "answer": ans})
				}
				printClusterTerms(a.stdout, cfg, cl, q, ans)
				return nil
			}
			return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				res, err := local(ctx, cfg, st)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, map[string]any{"local": res, "cluster": cl, "answer": ans})
				}
				printBothTerms(a.stdout, cfg, cl, q, res, ans)
				return nil
			})
		},
	}
	enumFlag(cmd, &backend, "backend", "local", "where to ask: local (the statistics), es (the output's cluster, a significant_terms aggregation), both (side by side)", "local", "es", "both")
	cmd.Flags().StringVar(&output, "output", "", "the output whose cluster --backend es asks (default the policy's first)")
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

func printLocalTerms(w io.Writer, cfg *policies.Config, res detect.TermsResult) {
	loc := cfg.Location()
	fmt.Fprintf(w, "%s, %s, foreground %s .. %s: %d documents; background %d documents\n",
		res.Field, res.Heuristic, res.Window.From.In(loc).Format("2006-01-02 15:04"),
		res.Window.To.In(loc).Format("2006-01-02 15:04 MST"), res.Subset, res.Superset)
	fmt.Fprintf(w, "%-32s %12s %10s %12s\n", "TERM", "SCORE", "FG", "BG")
	for _, t := range res.Terms {
		fmt.Fprintf(w, "%-32s %12.6g %10d %12d\n", display.Text(t.Key), t.Score, t.FG, t.BG)
	}
}

// printClusterTerms prints the cluster's answer in the local format.
func printClusterTerms(w io.Writer, cfg *policies.Config, cl esout.Cluster, q esout.TermsQuery, ans esout.TermsAnswer) {
	loc := cfg.Location()
	h := q.Heuristic
	if h == "" {
		h = "jlh"
	}
	fmt.Fprintf(w, "%s, %s, foreground %s .. %s: %d documents; background %d documents\n",
		q.Field, h, q.From.In(loc).Format("2006-01-02 15:04"), q.To.In(loc).Format("2006-01-02 15:04 MST"), ans.DocCount, ans.BgCount)
	fmt.Fprintf(w, "cluster: %s %s, index %s, field %s\n", cl.Flavour, cl.Version, display.Text(q.Index), ans.Field)
	fmt.Fprintf(w, "%-32s %12s %10s %12s\n", "TERM", "SCORE", "FG", "BG")
	for _, b := range ans.Buckets {
		fmt.Fprintf(w, "%-32s %12.6g %10d %12d\n", display.Text(b.Key), b.Score, b.DocCount, b.BgCount)
	}
}

// printBothTerms prints the local and the cluster's ranking side by side, one row per term
// either ranks (local order first, then the cluster's own).
func printBothTerms(w io.Writer, cfg *policies.Config, cl esout.Cluster, q esout.TermsQuery, res detect.TermsResult, ans esout.TermsAnswer) {
	loc := cfg.Location()
	fmt.Fprintf(w, "%s, %s, foreground %s .. %s\n", res.Field, res.Heuristic,
		q.From.In(loc).Format("2006-01-02 15:04"), q.To.In(loc).Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "documents: local %d foreground, %d background; cluster (%s %s, %s) %d foreground, %d background\n",
		res.Subset, res.Superset, cl.Flavour, cl.Version, ans.Field, ans.DocCount, ans.BgCount)
	// OpenSearch's destination.port keys are bare numbers: match them to "443/tcp".
	key := func(k string) string {
		if !strings.Contains(k, "/") || ans.Field != "destination.port" {
			return k
		}
		p, _, _ := strings.Cut(k, "/")
		return p
	}
	byKey := map[string]esout.TermsBucket{}
	for _, b := range ans.Buckets {
		byKey[b.Key] = b
	}
	fmt.Fprintf(w, "%-32s %12s %8s %10s | %12s %8s %10s\n", "TERM", "LOCAL SCORE", "FG", "BG", "CLUSTER SCORE", "FG", "BG")
	done := map[string]bool{}
	for _, t := range res.Terms {
		k := key(t.Key)
		done[k] = true
		if b, ok := byKey[k]; ok {
			fmt.Fprintf(w, "%-32s %12.6g %8d %10d | %12.6g %8d %10d\n", display.Text(t.Key), t.Score, t.FG, t.BG, b.Score, b.DocCount, b.BgCount)
		} else {
			fmt.Fprintf(w, "%-32s %12.6g %8d %10d | %12s %8s %10s\n", display.Text(t.Key), t.Score, t.FG, t.BG, "-", "-", "-")
		}
	}
	for _, b := range ans.Buckets {
		if !done[b.Key] {
			fmt.Fprintf(w, "%-32s %12s %8s %10s | %12.6g %8d %10d\n", display.Text(b.Key), "-", "-", "-", b.Score, b.DocCount, b.BgCount)
		}
	}
}
