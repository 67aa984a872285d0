package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firebreak-dev/firebreak/collector"
	"github.com/firebreak-dev/firebreak/collector/esout"
	"github.com/firebreak-dev/firebreak/detect"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate"
)

// esOutputs are the policy's outputs: opened at start, run beside the pipeline.
type esOutputs []*esout.Output

func (a *app) openOutputs(cfg *policies.Config, reg prometheus.Registerer, log *slog.Logger) (esOutputs, error) {
	if len(cfg.Outputs) == 0 {
		return nil, nil
	}
	m := esout.NewMetrics(reg)
	var outs esOutputs
	for _, po := range cfg.Outputs {
		o, err := esout.New(esout.Options{Output: po, DataDir: cfg.Collector.DataDir, Log: log, Metrics: m})
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// sinks adapts the outputs to the pipeline.
func (os esOutputs) sinks() []collector.EventSink {
	var s []collector.EventSink
	for _, o := range os {
		s = append(s, esSink{o})
	}
	return s
}

type esSink struct{ o *esout.Output }

func (s esSink) NewEventWriter() collector.EventWriter { return s.o.NewEventWriter() }

// findings queues each finding's current state (one document per change: the id covers the
// key, the last window and the status, so a rerun of the same window is not a new one).
func (os esOutputs) findings(fs []detect.Finding) {
	for _, f := range fs {
		doc, err := findingDoc(f)
		if err != nil {
			continue
		}
		id := esout.DocID("finding", f.Key+"|"+f.LastSeen.UTC().Format(time.RFC3339Nano)+"|"+f.Status)
		for _, o := range os {
			o.Add(esout.StreamFindings, id, time.Now(), doc)
		}
	}
}

// findingDoc is a finding's document: ECS keys (mapped by es setup: esout.Fields) and the
// finding itself under firebreak.finding.
func findingDoc(f detect.Finding) ([]byte, error) {
	return json.Marshal(map[string]any{
		"@timestamp": f.LastSeen.UTC().Format(time.RFC3339Nano),
		"event.kind": "alert", "event.id": f.ID, "event.severity": severityCode(f.Severity),
		"rule.name": f.Detector, "message": f.Title, "firebreak.finding": f,
	})
}

// proposalDoc is a proposal state's document, the proposal under firebreak.proposal.
func proposalDoc(p remediate.Proposal) ([]byte, error) {
	return json.Marshal(map[string]any{
		"@timestamp": p.UpdatedAt.UTC().Format(time.RFC3339Nano), "event.kind": "event",
		"event.action": "proposal-" + string(p.State), "event.id": p.ID, "message": p.Reason,
		"firebreak.proposal": p,
	})
}

func severityCode(s detect.Severity) int {
	return map[detect.Severity]int{detect.SeverityInfo: 1, detect.SeverityLow: 2, detect.SeverityMedium: 3,
		detect.SeverityHigh: 4, detect.SeverityCritical: 5}[s]
}

// proposals queues every proposal state not queued yet: at start (the cluster drops the ones
// it has by id) and then each minute, so approvals, pushes and rollbacks made by any command
// reach the cluster as state changes. It returns when ctx ends.
func (os esOutputs) proposals(ctx context.Context, m *remediate.Manager, log *slog.Logger) error {
	if len(os) == 0 {
		return nil
	}
	last := map[string]string{} // proposal id -> state|updated queued; bounded by the store's proposals
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		ps, err := m.List(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn("list proposals for the outputs", "err", err)
		}
		seen := make(map[string]bool, len(ps))
		for _, p := range ps {
			seen[p.ID] = true
			k := string(p.State) + "|" + p.UpdatedAt.UTC().Format(time.RFC3339Nano)
			if last[p.ID] == k {
				continue
			}
			doc, err := proposalDoc(p)
			if err != nil {
				continue
			}
			queued := true
			for _, o := range os {
				queued = o.Add(esout.StreamProposals, esout.DocID("proposal", p.ID+"|"+k), time.Now(), doc) && queued
			}
			if queued {
				last[p.ID] = k
			}
		}
		for id := range last {
			if !seen[id] {
				delete(last, id)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
