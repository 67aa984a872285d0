package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/scenario"
)

func (a *app) genCmd() *cobra.Command {
	var (
		cfg      scenario.Config
		out      string
		start    string
		siteFile string
		send     string
		rate     int
		sendFor  time.Duration
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "gen --out DIR",
		Short: "Generate a synthetic clinic's ASA and 2921 syslog with planted incidents",
		Long: `gen writes a deterministic scenario for a seed: time-ordered ASA and 2921 syslog in
realistic envelopes (asa1.log, routers.log), the ground truth of the planted incidents
(truth.json), the site policy that describes the site (site.yaml) and the ASA's running
configuration (asa1.cfg, for offline dry runs), so that ingest, detect
and the rest run on it without hand editing. The same seed, --start and sizes give the same
bytes; without --start the scenario ends today.

With --send, the generated lines are also replayed as UDP datagrams to a syslog listener at a
steady rate, for load tests. Only loopback destinations are accepted. With --duration, the
lines (at most 262,144 of them, the first) are generated into memory first and sent over and
over for that long, so that generation does not hold the sender back (sendmmsg, 64 datagrams
a call).`,
		Example: `  firebreak gen --days 30 --seed 7 --out /tmp/clinic
  firebreak gen --profile harbor --days 24 --seed 3 --out /tmp/harbor
  firebreak gen --days 1 --lines-per-day 2000000 --out /tmp/load --send udp://127.0.0.1:5140 --rate 100000
  firebreak gen --days 1 --send udp://127.0.0.1:5140 --rate 150000 --duration 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if send != "" {
				// Refuse a bad target before spending time on generation.
				if _, err := scenario.ParseTarget(send); err != nil {
					return fmt.Errorf("--send: %w", err)
				}
				if rate <= 0 {
					return errors.New("--rate must be positive")
				}
			}
			if sendFor < 0 || (sendFor > 0 && send == "") {
				return errors.New("--duration needs --send and must be positive")
			}
			if start != "" {
				t, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return fmt.Errorf("--start: want YYYY-MM-DD: %w", err)
				}
				cfg.Start = t
			} else {
				t, err := scenarioStart(cfg, time.Now())
				if err != nil {
					return err
				}
				cfg.Start = t
			}
			if siteFile != "" && cfg.Profile == scenario.ProfileHarbor {
				return errors.New("--site applies to the clinic profile only")
			}
			if siteFile != "" {
				site, err := scenario.LoadSiteFile(siteFile)
				if err != nil {
					return err
				}
				cfg.Site = site
			}
			if out == "" && send == "" {
				return errors.New("--out DIR is required (or --send)")
			}
			if asJSON && send != "" {
				return usageError{errors.New("--json describes the files of --out; it does not go with --send")}
			}
			if out != "" {
				began := time.Now()
				files, err := scenario.WriteDir(ctx, cfg, out)
				if err != nil {
					return err
				}
				lines := files.Result.Lines[0] + files.Result.Lines[1]
				el := time.Since(began)
				if asJSON {
					return writeJSON(a.stdout, struct {
						Lines       int64   `json:"lines"`
						ASALines    int64   `json:"asa_lines"`
						RouterLines int64   `json:"router_lines"`
						Days        int     `json:"days"`
						Seconds     float64 `json:"seconds"`
						Incidents   int     `json:"incidents"`
						ASA         string  `json:"asa_log"`
						Routers     string  `json:"routers_log"`
						Truth       string  `json:"truth"`
						Policy      string  `json:"policy"`
						Config      string  `json:"asa_config"`
					}{int64(lines), int64(files.Result.Lines[0]), int64(files.Result.Lines[1]), files.Result.Days, el.Seconds(),
						len(files.Result.Incidents), files.ASA, files.Routers, files.Truth, files.Policy, files.Config})
				}
				fmt.Fprintf(a.stdout, "wrote %d lines (%d ASA, %d router) over %d days in %s (%.0f lines/s)\n",
					lines, files.Result.Lines[0], files.Result.Lines[1], files.Result.Days,
					el.Round(time.Millisecond), float64(lines)/el.Seconds())
				fmt.Fprintf(a.stdout, "  %s\n  %s\n  %s (%d planted incidents)\n  %s\n  %s\n",
					files.ASA, files.Routers, files.Truth, len(files.Result.Incidents), files.Policy, files.Config)
			}
			if send == "" {
				return nil
			}
			if sendFor > 0 {
				return a.sendFor(ctx, cfg, send, rate, sendFor)
			}
			// Generate again (same seed, same lines) as one time-ordered stream of both devices.
			pr, pw := io.Pipe()
			genErr := make(chan error, 1)
			go func() { // ends when generation ends or Send stops reading (pipe closed)
				_, err := scenario.Generate(ctx, cfg, scenario.Writers{All: pw})
				pw.CloseWithError(err)
				genErr <- err
			}()
			began := time.Now()
			n, err := scenario.Send(ctx, pr, send, rate)
			pr.Close()
			gerr := <-genErr
			el := time.Since(began)
			fmt.Fprintf(a.stdout, "sent %d lines to %s in %s (%.0f lines/s)\n", n, send, el.Round(time.Millisecond), float64(n)/el.Seconds())
			if err != nil {
				return err
			}
			if gerr != nil && !errors.Is(gerr, io.ErrClosedPipe) {
				return gerr
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Days, "days", scenario.DefaultDays, "days of traffic")
	f.Uint64Var(&cfg.Seed, "seed", 1, "random seed: the same seed gives the same bytes")
	f.IntVar(&cfg.LinesPerDay, "lines-per-day", scenario.DefaultLinesPerDay, "about how many lines a working weekday produces")
	f.StringVar(&start, "start", "", "first day (YYYY-MM-DD, site time); default: --days before today, so the scenario ends today")
	f.StringVar(&siteFile, "site", "", "scenario file (YAML) overriding the site's sizes (clinic profile)")
	f.StringVar(&cfg.Profile, "profile", scenario.ProfileClinic, "site profile: clinic, or harbor (another site with decoys; truth.json lists them)")
	f.StringVar(&out, "out", "", "output folder (created)")
	f.StringVar(&send, "send", "", "also replay the lines to udp://127.0.0.1:PORT (loopback only)")
	f.IntVar(&rate, "rate", 10000, "lines per second for --send")
	f.BoolVar(&asJSON, "json", false, "print what was written as JSON (with --out)")
	f.DurationVar(&sendFor, "duration", 0, "with --send: send from memory for this long, repeating the lines (rate × duration datagrams)")
	return cmd
}

// maxSendLines bounds the lines held in memory for gen --duration (about 35 MB of syslog).
const maxSendLines = 1 << 18

// sendFor generates up to maxSendLines lines into memory, then sends rate × d of them,
// repeating, to target.
func (a *app) sendFor(ctx context.Context, cfg scenario.Config, target string, rate int, d time.Duration) error {
	gctx, stop := context.WithCancel(ctx)
	defer stop()
	lc := &lineCollector{max: maxSendLines, full: stop}
	if _, err := scenario.Generate(gctx, cfg, scenario.Writers{All: lc}); err != nil && !lc.done() {
		return err
	}
	lines := lc.lines()
	count := int(int64(rate) * int64(d) / int64(time.Second))
	began := time.Now()
	n, err := scenario.SendLines(ctx, lines, target, rate, count)
	el := time.Since(began)
	fmt.Fprintf(a.stdout, "sent %d lines (%d distinct) to %s in %s (%.0f lines/s)\n", n, len(lines), target, el.Round(time.Millisecond), float64(n)/el.Seconds())
	return err
}

// lineCollector keeps the first max non-empty lines written to it and calls full once it
// has them.
type lineCollector struct {
	max  int
	full func()
	buf  []byte // the lines back to back, without their newlines
	ends []int  // where each line ends in buf
	from int    // where the line being written starts in buf
}

func (c *lineCollector) done() bool { return len(c.ends) >= c.max }

func (c *lineCollector) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && !c.done() {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.buf = append(c.buf, p...)
			break
		}
		c.buf = append(c.buf, bytes.TrimSuffix(p[:i], []byte{'\r'})...)
		if len(c.buf) > c.from {
			c.ends = append(c.ends, len(c.buf))
			c.from = len(c.buf)
		}
		p = p[i+1:]
	}
	if c.done() {
		c.full()
		return n, context.Canceled // enough: generation stops
	}
	return n, nil
}

// lines returns the complete non-empty lines kept, aliasing one buffer.
func (c *lineCollector) lines() [][]byte {
	out := make([][]byte, len(c.ends))
	prev := 0
	for i, e := range c.ends[:min(len(c.ends), c.max)] {
		out[i] = c.buf[prev:e:e]
		prev = e
	}
	return out
}

// scenarioStart is the Start that ends cfg's scenario at the last midnight before now in the
// site's zone (not the machine's): its hourly statistics are within retention and now is just
// past its end at any hour of the day.
func scenarioStart(cfg scenario.Config, now time.Time) (time.Time, error) {
	loc, err := scenario.Location(cfg)
	if err != nil {
		return time.Time{}, err
	}
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d-max(cfg.Days, 1), 0, 0, 0, 0, time.UTC), nil
}
