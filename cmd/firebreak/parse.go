package main

import (
	"bufio"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

func (a *app) parseCmd() *cobra.Command {
	var (
		stats bool
		tz    string
	)
	cmd := &cobra.Command{
		Use:   "parse [FILE...]",
		Short: "Parse ASA/IOS syslog files into ECS JSON, one object per line",
		Long: `parse reads syslog files (plain or gzip) or standard input ("-" or no argument) and
writes one JSON object per line with the ECS field names of Elastic's Cisco integrations, so
the output can go straight into an existing Elasticsearch. Lines that are not understood are
written too, with event.original and the tag firebreak_unparsed.

A file that cannot be read is reported and the others are still processed; the exit status
is then non-zero.`,
		Example: `  firebreak parse testdata/syslog/asa-rfc3164.log
  zcat asa-2026-11-01.log.gz | firebreak parse --stats > events.ndjson`,
		RunE: func(cmd *cobra.Command, files []string) error {
			zone, err := time.LoadLocation(tz)
			if err != nil {
				return fmt.Errorf("--tz: %w", err)
			}
			if len(files) == 0 {
				files = []string{"-"}
			}
			p := ciscolog.NewParser(ciscolog.Options{
				Now:  time.Now,
				Zone: func(string) *time.Location { return zone },
			})
			out := bufio.NewWriterSize(a.stdout, 256<<10)
			var total collector.Tally
			var buf []byte
			failed := false
			for _, name := range files {
				t, err := collector.ReplayFile(cmd.Context(), name, a.stdin, p, func(ev *ciscolog.Event) error {
					buf = ciscolog.AppendECS(buf[:0], ev)
					buf = append(buf, '\n')
					_, err := out.Write(buf)
					return err
				})
				total.Merge(&t)
				if err != nil {
					fmt.Fprintf(a.stderr, "firebreak parse: %s: %v\n", name, err)
					failed = true
				}
			}
			if err := out.Flush(); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
			if stats {
				if err := total.WriteText(a.stderr); err != nil {
					return err
				}
			}
			if failed {
				return errExit
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&stats, "stats", false, "print counts per message id and the unparsed share to stderr")
	cmd.Flags().StringVar(&tz, "tz", "UTC", "time zone of timestamps that carry none (IANA name)")
	return cmd
}
