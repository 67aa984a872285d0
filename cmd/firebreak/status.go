package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show what the daemon has seen: counters, data folder, database size, last flush",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				return a.status(cfg, st)
			})
		},
	}
}

func (a *app) status(cfg *policies.Config, st *stats.Store) error {
	w := a.stdout
	m := st.Metrics()
	fmt.Fprintf(w, "data folder   %s\n", cfg.Collector.DataDir)
	fmt.Fprintf(w, "database      %s (%.1f MB, %d keys)\n", m.Path, float64(m.FileSize)/1e6, m.Keys)
	if a.daemon == nil || a.daemon.serve == nil {
		fmt.Fprintf(w, "daemon        not running (this command opened the database itself)\n")
		if fi, err := os.Stat(m.Path); err == nil {
			fmt.Fprintf(w, "last write    %s\n", fi.ModTime().UTC().Format(time.RFC3339))
		}
		return nil
	}
	s := a.daemon.serve
	ps := s.pipeline.Status()
	fmt.Fprintf(w, "daemon        pid %d, up %s\n", os.Getpid(), time.Since(s.started).Round(time.Second))
	fmt.Fprintf(w, "listening     udp %s  tcp %s  http %s\n", addrString(s.listeners.UDPAddr()), addrString(s.listeners.TCPAddr()), orOff(s.httpAddr))
	fmt.Fprintf(w, "api socket    %s\n", s.socket)
	if !ps.LastFlush.IsZero() {
		fmt.Fprintf(w, "last flush    %s (%s ago, %d keys in %s)\n", ps.LastFlush.UTC().Format(time.RFC3339),
			time.Since(ps.LastFlush).Round(time.Second), ps.LastFlushKeys, ps.LastFlushTook.Round(time.Microsecond))
	}
	if !ps.FlushFailingSince.IsZero() {
		fmt.Fprintf(w, "FLUSH FAILING since %s (%s): %d events held in memory until a flush succeeds (free disk space?)\n",
			ps.FlushFailingSince.UTC().Format(time.RFC3339), time.Since(ps.FlushFailingSince).Round(time.Second), ps.Unflushed)
		fmt.Fprintf(w, "  last error  %s\n", ps.LastFlushError)
	} else {
		fmt.Fprintf(w, "unflushed     %d events (written at the next flush)\n", ps.Unflushed)
	}
	fmt.Fprintf(w, "parsed        typed %d, header-only %d, unparsed %d\n", ps.Typed, ps.Header, ps.Unparsed)
	fmt.Fprintf(w, "aggregator    %d events, %d pending keys, %d keys dropped at the cap, %d forced flushes\n",
		ps.Agg.Events, ps.Agg.PendingKeys, ps.Agg.DroppedKeys, ps.Agg.ForcedFlushes)
	fams, err := s.registry.Gather()
	if err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	fmt.Fprintln(w, "counters")
	sort.Slice(fams, func(i, j int) bool { return fams[i].GetName() < fams[j].GetName() })
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "firebreak_") || f.GetType() == dto.MetricType_HISTOGRAM {
			continue
		}
		for _, mt := range f.GetMetric() {
			var labels []string
			for _, l := range mt.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := mt.GetCounter().GetValue()
			if f.GetType() == dto.MetricType_GAUGE {
				v = mt.GetGauge().GetValue()
			}
			name := f.GetName()
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			fmt.Fprintf(w, "  %-52s %.0f\n", name, v)
		}
	}
	return nil
}

func orOff(s string) string {
	if s == "" {
		return "off"
	}
	return s
}
