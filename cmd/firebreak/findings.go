package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
)

func (a *app) findingsCmd() *cobra.Command {
	var (
		asJSON   bool
		since    string
		detector string
		sev      string
		status   string
	)
	list := func(cmd *cobra.Command, _ []string) error {
		return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
			q := detect.Filter{Detector: detector, Status: status}
			if since != "" {
				t, err := parseSince(since, time.Now(), cfg.Location())
				if err != nil {
					return fmt.Errorf("--since: %w", err)
				}
				q.Since = t
			}
			if sev != "" {
				s, ok := detect.ParseSeverity(sev)
				if !ok {
					return fmt.Errorf("--severity: unknown severity %q", sev)
				}
				q.MinSeverity = s
			}
			if detector != "" {
				if _, ok := detect.ByName(detector); !ok {
					return fmt.Errorf("--detector: unknown detector %q", detector)
				}
			}
			fs, err := detect.NewStore(st, 0).List(ctx, q)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, fs)
			}
			loc := cfg.Location()
			fmt.Fprintf(a.stdout, "%-8s %-8s %-18s %-12s %5s %-16s %s\n", "ID", "SEVERITY", "DETECTOR", "STATUS", "COUNT", "LAST SEEN", "TITLE")
			for _, f := range fs {
				fmt.Fprintf(a.stdout, "%-8s %-8s %-18s %-12s %5d %-16s %s\n", f.ID, f.Severity, f.Detector, f.Status, f.Count,
					f.LastSeen.In(loc).Format("2006-01-02 15:04"), display.Text(f.Title))
			}
			return nil
		})
	}
	cmd := &cobra.Command{
		Use:   "findings [list|show|ack|resolve|reopen|suppress|audit]",
		Short: "List stored findings or show one with its evidence",
		Args:  cobra.NoArgs,
		RunE:  list,
	}
	lc := &cobra.Command{Use: "list", Short: "List findings, highest severity first", Args: cobra.NoArgs, RunE: list}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one finding with its evidence",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				f, err := detect.NewStore(st, 0).Get(ctx, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, f)
				}
				printFinding(a.stdout, f, cfg.Location())
				return nil
			})
		},
	}
	for _, c := range []*cobra.Command{cmd, lc} {
		c.Flags().StringVar(&since, "since", "", "only findings last seen since: a duration back from now (24h, 7d) or a time")
		c.Flags().StringVar(&detector, "detector", "", "only this detector's findings")
		enumFlag(c, &sev, "severity", "", "only this severity or higher", "info", "low", "medium", "high", "critical")
		enumFlag(c, &status, "status", "", "only this status", "open", "acknowledged", "resolved", "suppressed")
	}
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	show.ValidArgsFunction = a.completeFindingIDs
	cmd.AddCommand(lc, show)
	cmd.AddCommand(a.findingsLifecycleCmds(&asJSON)...)
	return cmd
}

// parseSince reads a duration back from now (with d for days) or a time.
func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	var d policies.Duration
	if err := d.UnmarshalText([]byte(s)); err == nil {
		return now.Add(-time.Duration(d)), nil
	}
	return parseTime(s, loc)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printFinding(w io.Writer, f detect.Finding, loc *time.Location) {
	// Every string of a finding may come from a log line: all of it goes through display.Text.
	d := display.Text
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }
	fmt.Fprintf(w, "%s  %s\n", d(f.ID), d(f.Title))
	fmt.Fprintf(w, "  detector   %s\n  severity   %s\n  status     %s\n  key        %s\n", d(f.Detector), d(string(f.Severity)), d(f.StatusLabel(loc)), d(f.Key))
	if f.Comment != "" {
		fmt.Fprintf(w, "  comment    %s\n", d(f.Comment))
	}
	fmt.Fprintf(w, "  seen       %s .. %s, in %d window(s)\n", ts(f.FirstSeen), ts(f.LastSeen), f.Count)
	if f.DaysActive > 0 {
		fmt.Fprintf(w, "  active     %d day(s), trend %s\n", f.DaysActive, d(f.Trend))
	}
	if f.Latest != "" {
		fmt.Fprintf(w, "  latest     %s (the evidence below is the strongest window's)\n", d(f.Latest))
	}
	if !f.SuppressUntil.IsZero() {
		fmt.Fprintf(w, "  quiet until %s\n", ts(f.SuppressUntil))
	}
	var subj []string
	s := f.Subject
	if s.Host.IsValid() {
		subj = append(subj, "host "+s.Host.String())
	}
	if s.Peer.IsValid() {
		subj = append(subj, "peer "+s.Peer.String())
	}
	if s.Port != 0 || s.Proto != 0 {
		subj = append(subj, fmt.Sprintf("port %s/%d", stats.ProtoName(s.Proto), s.Port))
	}
	if s.User != "" {
		subj = append(subj, fmt.Sprintf("user %q", d(s.User)))
	}
	if s.Segment != "" {
		subj = append(subj, "segment "+d(s.Segment))
	}
	fmt.Fprintf(w, "  subject    %s\n", strings.Join(subj, ", "))
	if f.Protected {
		fmt.Fprintln(w, "  protected  yes: the policy protects this address; it will not be blocked")
	}
	e := f.Evidence
	fmt.Fprintf(w, "evidence (%s .. %s)\n  %s\n", ts(e.Window.From), ts(e.Window.To), d(e.Summary))
	if b := e.Baseline; b != nil {
		fmt.Fprintf(w, "  baseline   observed %.0f vs expected %.0f %s (%s), z %.1f, ratio %.1f\n", b.Observed, b.Expected, d(b.Unit), d(b.Method), b.Z, b.Ratio)
	}
	for _, k := range sortedCountKeys(e.Counts) {
		fmt.Fprintf(w, "  %-22s %.6g\n", d(k), e.Counts[k])
	}
	for _, l := range []struct {
		name string
		rows []detect.Ranked
	}{{"top peers", e.TopPeers}, {"top ports", e.TopPorts}, {"top hosts", e.TopHosts}} {
		if len(l.rows) == 0 {
			continue
		}
		fmt.Fprintf(w, "  %s\n", l.name)
		for _, r := range l.rows {
			fmt.Fprintf(w, "    %-24s %.6g\n", d(r.Key), r.Value)
		}
	}
	if len(e.Lines) > 0 {
		fmt.Fprintln(w, "  raw lines (as received)")
		for _, l := range e.Lines {
			fmt.Fprintf(w, "    %s\n", d(l))
		}
	}
}

func sortedCountKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}
