package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/cobra"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/display"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

func (a *app) statusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the daemon has seen: counters, data folder, database size, last flush",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd, func(ctx context.Context, cfg *policies.Config, st *stats.Store) error {
				r, err := a.statusReport(cfg, st)
				if err != nil {
					return err
				}
				if r.Remediation, err = remediationStatusOf(ctx, cfg, st); err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.stdout, r)
				}
				printStatus(a.stdout, r)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// statusReport is what status prints; its JSON form is the --json output.
type statusReport struct {
	DataFolder string `json:"data_folder"`
	Database   struct {
		Path  string `json:"path"`
		Bytes int64  `json:"bytes"`
		Keys  int    `json:"keys"`
	} `json:"database"`
	// LastWrite is the file's modification time when no daemon runs.
	LastWrite *time.Time    `json:"last_write,omitempty"`
	Daemon    *daemonStatus `json:"daemon"` // null: not running
	// Remediation is the last reconciliation of applied proposals with the devices and
	// the drift they show (null: never reconciled).
	Remediation *remediationStatus `json:"remediation,omitempty"`
}

type remediationStatus struct {
	LastReconcile time.Time `json:"last_reconcile"`
	Checked       int       `json:"checked"`
	Drift         int       `json:"drift"`    // proposals with drift not repaired
	Repaired      int       `json:"repaired"` // drift put right (lost shuns placed again)
	Errors        []string  `json:"errors,omitempty"`
	Warnings      []string  `json:"warnings,omitempty"` // device clocks off
	// Drifting lists each applied proposal's open drift: "p-0003 config: ...".
	Drifting []string `json:"drifting,omitempty"`
}

// remediationStatus reads the last reconciliation and the open drift from the store.
func remediationStatusOf(ctx context.Context, cfg *policies.Config, st *stats.Store) (*remediationStatus, error) {
	m := remediate.New(st, cfg, remediate.Options{})
	rep, ok, err := m.LastReconcile(ctx)
	if err != nil || !ok {
		return nil, err
	}
	out := &remediationStatus{LastReconcile: rep.At, Checked: rep.Checked, Drift: rep.Drift, Repaired: rep.Repaired, Errors: rep.Errors, Warnings: rep.Warnings}
	ps, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.State != remediate.StateApplied {
			continue
		}
		for _, d := range p.OpenDrift() {
			out.Drifting = append(out.Drifting, display.Text(p.ID+" "+d.Kind+": "+d.Detail))
		}
	}
	return out, nil
}

type daemonStatus struct {
	PID           int       `json:"pid"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	UDP           string    `json:"udp"`
	TCP           string    `json:"tcp"`
	HTTP          string    `json:"http"`
	APISocket     string    `json:"api_socket"`
	LastFlush     time.Time `json:"last_flush"`
	LastFlushKeys int       `json:"last_flush_keys"`
	LastFlushTook float64   `json:"last_flush_seconds"`
	// FlushFailingSince is set while flushes fail (a full disk); the events are held in memory.
	FlushFailingSince *time.Time `json:"flush_failing_since,omitempty"`
	LastFlushError    string     `json:"last_flush_error,omitempty"`
	Unflushed         int64      `json:"unflushed"`
	Typed             int64      `json:"typed"`
	HeaderOnly        int64      `json:"header_only"`
	Unparsed          int64      `json:"unparsed"`
	Aggregator        struct {
		Events        uint64 `json:"events"`
		PendingKeys   int    `json:"pending_keys"`
		DroppedKeys   uint64 `json:"dropped_keys"`
		ForcedFlushes uint64 `json:"forced_flushes"`
	} `json:"aggregator"`
	Counters []statusCounter `json:"counters"`
}

type statusCounter struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Value  float64           `json:"value"`
}

func (a *app) statusReport(cfg *policies.Config, st *stats.Store) (statusReport, error) {
	var r statusReport
	m := st.Metrics()
	r.DataFolder = cfg.Collector.DataDir
	r.Database.Path, r.Database.Bytes, r.Database.Keys = m.Path, m.FileSize, m.Keys
	if a.daemon == nil || a.daemon.serve == nil {
		if fi, err := os.Stat(m.Path); err == nil {
			t := fi.ModTime().UTC()
			r.LastWrite = &t
		}
		return r, nil
	}
	s := a.daemon.serve
	ps := s.pipeline.Status()
	d := &daemonStatus{PID: os.Getpid(), UptimeSeconds: time.Since(s.started).Seconds(),
		UDP: addrString(s.listeners.UDPAddr()), TCP: addrString(s.listeners.TCPAddr()), HTTP: orOff(s.httpAddr),
		APISocket: s.socket, LastFlush: ps.LastFlush, LastFlushKeys: ps.LastFlushKeys, LastFlushTook: ps.LastFlushTook.Seconds(),
		LastFlushError: ps.LastFlushError, Unflushed: ps.Unflushed, Typed: ps.Typed, HeaderOnly: ps.Header, Unparsed: ps.Unparsed}
	if !ps.FlushFailingSince.IsZero() {
		t := ps.FlushFailingSince
		d.FlushFailingSince = &t
	}
	d.Aggregator.Events, d.Aggregator.PendingKeys = uint64(ps.Agg.Events), ps.Agg.PendingKeys
	d.Aggregator.DroppedKeys, d.Aggregator.ForcedFlushes = uint64(ps.Agg.DroppedKeys), uint64(ps.Agg.ForcedFlushes)
	fams, err := s.registry.Gather()
	if err != nil {
		return r, fmt.Errorf("gather metrics: %w", err)
	}
	sort.Slice(fams, func(i, j int) bool { return fams[i].GetName() < fams[j].GetName() })
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "firebreak_") || f.GetType() == dto.MetricType_HISTOGRAM {
			continue
		}
		for _, mt := range f.GetMetric() {
			c := statusCounter{Name: f.GetName(), Value: mt.GetCounter().GetValue()}
			if f.GetType() == dto.MetricType_GAUGE {
				c.Value = mt.GetGauge().GetValue()
			}
			for _, l := range mt.GetLabel() {
				if c.Labels == nil {
					c.Labels = map[string]string{}
				}
				c.Labels[l.GetName()] = l.GetValue()
			}
			d.Counters = append(d.Counters, c)
		}
	}
	r.Daemon = d
	return r, nil
}

func printStatus(w io.Writer, r statusReport) {
	fmt.Fprintf(w, "data folder   %s\n", r.DataFolder)
	fmt.Fprintf(w, "database      %s (%.1f MB, %d keys)\n", r.Database.Path, float64(r.Database.Bytes)/1e6, r.Database.Keys)
	if rs := r.Remediation; rs != nil {
		fmt.Fprintf(w, "reconciled    %s: %d applied checked, %d with drift, %d repaired\n",
			rs.LastReconcile.UTC().Format(time.RFC3339), rs.Checked, rs.Drift, rs.Repaired)
		for _, d := range rs.Drifting {
			fmt.Fprintf(w, "  DRIFT       %s\n", d)
		}
		for _, e := range rs.Warnings {
			fmt.Fprintf(w, "  WARNING     %s\n", display.Text(e))
		}
		for _, e := range rs.Errors {
			fmt.Fprintf(w, "  error       %s\n", display.Text(e))
		}
	}
	d := r.Daemon
	if d == nil {
		fmt.Fprintf(w, "daemon        not running (this command opened the database itself)\n")
		if r.LastWrite != nil {
			fmt.Fprintf(w, "last write    %s\n", r.LastWrite.Format(time.RFC3339))
		}
		return
	}
	fmt.Fprintf(w, "daemon        pid %d, up %s\n", d.PID, (time.Duration(d.UptimeSeconds) * time.Second).Round(time.Second))
	fmt.Fprintf(w, "listening     udp %s  tcp %s  http %s\n", d.UDP, d.TCP, d.HTTP)
	fmt.Fprintf(w, "api socket    %s\n", d.APISocket)
	if !d.LastFlush.IsZero() {
		fmt.Fprintf(w, "last flush    %s (%s ago, %d keys in %s)\n", d.LastFlush.UTC().Format(time.RFC3339),
			time.Since(d.LastFlush).Round(time.Second), d.LastFlushKeys, time.Duration(d.LastFlushTook*float64(time.Second)).Round(time.Microsecond))
	}
	if d.FlushFailingSince != nil {
		fmt.Fprintf(w, "FLUSH FAILING since %s (%s): %d events held in memory until a flush succeeds (free disk space?)\n",
			d.FlushFailingSince.UTC().Format(time.RFC3339), time.Since(*d.FlushFailingSince).Round(time.Second), d.Unflushed)
		fmt.Fprintf(w, "  last error  %s\n", d.LastFlushError)
	} else {
		fmt.Fprintf(w, "unflushed     %d events (written at the next flush)\n", d.Unflushed)
	}
	fmt.Fprintf(w, "parsed        typed %d, header-only %d, unparsed %d\n", d.Typed, d.HeaderOnly, d.Unparsed)
	fmt.Fprintf(w, "aggregator    %d events, %d pending keys, %d keys dropped at the cap, %d forced flushes\n",
		d.Aggregator.Events, d.Aggregator.PendingKeys, d.Aggregator.DroppedKeys, d.Aggregator.ForcedFlushes)
	fmt.Fprintln(w, "counters")
	for _, c := range d.Counters {
		name := c.Name
		if len(c.Labels) > 0 {
			keys := make([]string, 0, len(c.Labels))
			for k := range c.Labels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for i, k := range keys {
				keys[i] = k + "=" + c.Labels[k]
			}
			name += "{" + strings.Join(keys, ",") + "}"
		}
		fmt.Fprintf(w, "  %-52s %.0f\n", name, c.Value)
	}
}

func orOff(s string) string {
	if s == "" {
		return "off"
	}
	return s
}
