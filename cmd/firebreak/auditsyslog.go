package main

import (
	"context"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/auditsyslog"
)

// auditSyslogDrain bounds how long a command waits at its end for the audit syslog queue.
const auditSyslogDrain = 3 * time.Second

// startAuditSyslog hooks the policy's audit syslog receivers (audit.syslog) to st, so every
// audit entry this process writes is sent too. stop sends what is queued, waiting at most
// auditSyslogDrain, and ends the sender; call it before closing st. With no receivers it
// returns a nil Sender and a no-op stop.
func (a *app) startAuditSyslog(cfg *policies.Config, st *stats.Store) (*auditsyslog.Sender, func(), error) {
	if len(cfg.Audit.Syslog) == 0 {
		return nil, func() {}, nil
	}
	snd, err := auditsyslog.New(cfg.Audit.Syslog, auditsyslog.Options{Logger: a.log.With("component", "audit-syslog")})
	if err != nil {
		return nil, nil, err
	}
	st.OnLog(snd.Record)
	return snd, func() {
		ctx, cancel := context.WithTimeout(context.Background(), auditSyslogDrain)
		defer cancel()
		snd.Close(ctx)
	}, nil
}
