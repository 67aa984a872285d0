package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// defaultIngestMemoryMiB is ingest's soft heap limit: a 5x clinic (12 M lines, 30 days) peaks
// at about 260 MB live, which the collector's default GOGC lets grow to 515 MB of RSS; with
// this limit the GC works harder only near it (measured: 423 MB RSS, CPU within the noise).
const defaultIngestMemoryMiB = 400

func (a *app) ingestCmd() *cobra.Command {
	var asJSON bool
	memMiB := int64(defaultIngestMemoryMiB)
	cmd := &cobra.Command{
		Use:   "ingest [FILE...|-]",
		Short: "Replay exported or archived syslog files into the statistics",
		Long: `ingest feeds syslog files (plain or gzip, including the generator's files and the
daemon's raw archive) through the same pipeline as live traffic: parse, aggregate, flush to
the database. With no file, or "-", it reads standard input. When the daemon is running, the
files are ingested by the daemon.

A progress bar (lines/s, bytes, ETA) is shown when standard error is a terminal.`,
		Example: `  firebreak ingest --config /tmp/clinic/site.yaml /tmp/clinic/asa1.log /tmp/clinic/routers.log
  zcat old-export.log.gz | firebreak ingest -`,
		RunE: func(cmd *cobra.Command, files []string) error {
			if len(files) == 0 {
				files = []string{"-"}
			}
			for i, f := range files {
				if f == "-" {
					a.readsStdin = true
				}
				files[i] = a.path(f)
			}
			return a.withWriteStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				if a.daemon == nil {
					defer setIngestMemoryLimit(memMiB)()
				}
				return a.ingest(ctx, cfg, st, files, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the counts as JSON (printed on failure too, with error)")
	cmd.Flags().Int64Var(&memMiB, "memory-limit", memMiB,
		"soft limit of the heap in MiB (the GC works harder near it; raised when the live heap nears it; 0: none; GOMEMLIMIT, when set, wins); not applied when the daemon ingests")
	return cmd
}

// setIngestMemoryLimit sets the process's soft memory limit to mib MiB unless GOMEMLIMIT
// is set or mib ≤ 0, and returns what restores the limit before it (commands run in-process in
// tests, and nothing else should keep ingest's limit). A limit the live heap comes near makes
// the GC run back to back (measured: 200 MiB on the 5x site, whose live heap peaks near
// 260 MB, took 80 CPU-s instead of 21-25), so a watcher raises it (raisedLimit) while ingest
// runs; restore stops the watcher.
func setIngestMemoryLimit(mib int64) (restore func()) {
	if mib <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	limit := mib << 20
	prev := debug.SetMemoryLimit(limit)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(live)
			if live[0].Value.Kind() != metrics.KindUint64 {
				continue
			}
			if l := raisedLimit(limit, int64(live[0].Value.Uint64())); l != limit {
				limit = l
				debug.SetMemoryLimit(limit)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		debug.SetMemoryLimit(prev)
	}
}

// raisedLimit is the memory limit to use given the live heap after the last GC: twice the live
// heap once it passes three quarters of the limit (the GC then paces as with GOGC=100), else
// the limit unchanged.
func raisedLimit(limit, live int64) int64 {
	if live > limit/4*3 {
		return 2 * live
	}
	return limit
}

// ingestJSON is what ingest --json prints.
type ingestJSON struct {
	Lines          int64    `json:"lines"`
	Files          int64    `json:"files"`
	Bytes          int64    `json:"bytes"`
	Seconds        float64  `json:"seconds"`
	LinesPerSecond float64  `json:"lines_per_second"`
	Typed          int64    `json:"typed"`
	HeaderOnly     int64    `json:"header_only"`
	Unparsed       int64    `json:"unparsed"`
	Oversize       int64    `json:"oversize"`
	Flushes        uint64   `json:"flushes"`
	DroppedKeys    uint64   `json:"dropped_keys"`
	FromExport     int64    `json:"from_export"`
	ExportRefused  int64    `json:"export_refused"`
	DamagedMembers int64    `json:"damaged_members"`
	FileErrors     []string `json:"file_errors,omitempty"`
	DBBytesBefore  int64    `json:"db_bytes_before_compaction,omitempty"`
	DBBytesAfter   int64    `json:"db_bytes_after_compaction,omitempty"`
	Error          string   `json:"error,omitempty"`
}

func (a *app) ingest(ctx context.Context, cfg *policies.Config, st *stats.Store, files []string, asJSON bool) (rerr error) {
	out := a.stdout
	var js ingestJSON
	if asJSON {
		out = io.Discard
		defer func() {
			if rerr != nil && rerr != errExit {
				js.Error = rerr.Error()
			}
			rerr = errors.Join(rerr, writeJSON(a.stdout, js))
		}()
	}
	p := collector.NewPipeline(collector.PipelineOptions{
		Config: cfg, Store: st, Log: a.log, Now: time.Now,
		FlushEvery: time.Duration(cfg.Collector.FlushInterval),
	})
	var progress collector.IngestProgress
	var bar *progressbar.ProgressBar
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("ingest"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
		)
		began, last := time.Now(), time.Time{}
		progress = func(read, total int64) {
			if total > 0 && bar.GetMax64() != total {
				bar.ChangeMax64(total)
			}
			if now := time.Now(); now.Sub(last) >= 200*time.Millisecond {
				last = now
				s := p.Status()
				lines := s.Typed + s.Header + s.Unparsed
				bar.Describe(fmt.Sprintf("ingest %d lines, %.0f lines/s", lines, float64(lines)/now.Sub(began).Seconds()))
			}
			_ = bar.Set64(read)
		}
	}
	began := time.Now()
	res, err := collector.Ingest(ctx, files, a.stdin, p, progress)
	if bar != nil {
		_ = bar.Finish()
	}
	el := time.Since(began)
	s := p.Status()
	js = ingestJSON{Lines: res.Lines, Files: res.Files, Bytes: res.Bytes, Seconds: el.Seconds(),
		LinesPerSecond: float64(res.Lines) / el.Seconds(), Typed: s.Typed, HeaderOnly: s.Header,
		Unparsed: s.Unparsed, Oversize: res.Oversize, Flushes: s.Agg.Flushes, DroppedKeys: s.Agg.DroppedKeys,
		FromExport: res.FromExport, ExportRefused: res.ExportRefused, DamagedMembers: res.DamagedMembers}
	for _, ferr := range res.FileErrors {
		js.FileErrors = append(js.FileErrors, ferr.Error())
	}
	fmt.Fprintf(out, "ingested %d lines from %d files (%.1f MB) in %s: %.0f lines/s\n",
		res.Lines, res.Files, float64(res.Bytes)/1e6, el.Round(time.Millisecond), float64(res.Lines)/el.Seconds())
	fmt.Fprintf(out, "  typed %d, header-only %d, unparsed %d, oversize %d (dropped); %d flushes, %d new keys dropped at the memory cap\n",
		s.Typed, s.Header, s.Unparsed, res.Oversize, s.Agg.Flushes, s.Agg.DroppedKeys)
	if res.FromExport > 0 || res.ExportRefused > 0 {
		fmt.Fprintf(out, "  Elasticsearch export: %d JSON lines read with their own @timestamp, %d without @timestamp and message kept as unparsed\n",
			res.FromExport, res.ExportRefused)
	}
	if res.DamagedMembers > 0 {
		fmt.Fprintf(a.stderr, "firebreak ingest: %d gzip members were cut short (a crash while they were written): read up to the cut, then on from the next member\n", res.DamagedMembers)
	}
	for _, ferr := range res.FileErrors {
		fmt.Fprintf(a.stderr, "firebreak ingest: %v\n", ferr)
	}
	if err != nil {
		return err
	}
	// A replay rewrites many values: compact the append-only file now, so that the next
	// command opens a file of live keys instead of compacting it first.
	before := st.Metrics().FileSize
	t0 := time.Now()
	if err := st.Shrink(ctx); err != nil {
		return err
	}
	js.DBBytesBefore, js.DBBytesAfter = before, st.Metrics().FileSize
	fmt.Fprintf(out, "  database compacted: %.1f MB -> %.1f MB in %s\n",
		float64(before)/1e6, float64(st.Metrics().FileSize)/1e6, time.Since(t0).Round(time.Millisecond))
	if len(res.FileErrors) > 0 {
		return errExit
	}
	return nil
}
