package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
	"github.com/firebreak-dev/firebreak/policies"
)

// StatusSuppressed: a person (findings suppress) or a policy rule (findings.suppress) has
// accepted the situation for a while; it is updated silently and raises no alert.
const StatusSuppressed = "suppressed"

// NSAudit is the append-only log of every change of a finding's status, by people and by
// detection (reopened, escalated, suppression ended).
const NSAudit = "finding-audit"

// Suppression says who keeps a finding quiet, why and until when.
type Suppression struct {
	Until  time.Time `json:"until,omitzero"` // zero: no end (policy rules without until)
	Reason string    `json:"reason"`
	Who    string    `json:"who,omitempty"`
	// Rule is the policy place ("site.yaml:42") of the rule that suppresses; empty when a
	// person did with `findings suppress`.
	Rule string `json:"rule,omitempty"`
}

func (s *Suppression) active(at time.Time) bool {
	return s != nil && (s.Until.IsZero() || at.Before(s.Until))
}

// Lifecycle actions people take (Action.Kind) and those detection records in the audit log.
const (
	ActAck      = "ack"
	ActResolve  = "resolve"
	ActReopen   = "reopen"
	ActSuppress = "suppress"
	// Recorded by detection (Who "detect"):
	ActReopened         = "reopened"           // a resolved finding was found again
	ActEscalated        = "escalated"          // found again with a higher severity
	ActSuppressedByRule = "suppressed-by-rule" // a policy rule now covers it
	ActSuppressionEnded = "suppression-ended"  // its suppression expired or its rule is gone
)

// Action is one change a person asks for.
type Action struct {
	Kind    string    // ActAck, ActResolve, ActReopen, ActSuppress
	Who     string    // the person (OS user for the CLI)
	Comment string    // why; required for ActSuppress
	Until   time.Time // ActSuppress: when the suppression ends (after At)
	At      time.Time
}

// AuditEntry is one line of the findings audit log.
type AuditEntry struct {
	Seq     uint64    `json:"seq,omitempty"` // filled when read
	At      time.Time `json:"at"`
	Who     string    `json:"who"`
	Finding string    `json:"finding"`
	Action  string    `json:"action"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Comment string    `json:"comment,omitempty"`
	Until   time.Time `json:"until,omitzero"`
}

// ErrTransition is returned (wrapped) when an action does not apply to a finding's status.
var ErrTransition = errors.New("action not allowed in this status")

// Act applies a person's action to the finding id and records it in the audit log, in one
// transaction. ack: open -> acknowledged; resolve: open, acknowledged or suppressed ->
// resolved (kept ClosedRetention; found again it reopens); reopen: acknowledged, resolved or
// suppressed by a person -> open; suppress: any status but resolved -> suppressed until
// a.Until. A finding a policy rule suppresses can only be resolved: edit the rule instead.
func (s *Store) Act(ctx context.Context, id string, a Action) (Finding, error) {
	if a.At.IsZero() {
		return Finding{}, errors.New("action without a time")
	}
	var f Finding
	err := s.db.Update(ctx, func(tx *stats.RecordTx) error {
		ok, err := tx.Get(NSFinding, id, &f)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%q: %w", id, ErrNotFound)
		}
		from := f.Status
		ruled := f.Status == StatusSuppressed && f.Suppressed != nil && f.Suppressed.Rule != ""
		deny := func(why string) error {
			return fmt.Errorf("%s %s: finding is %s%s: %w", a.Kind, id, f.Status, why, ErrTransition)
		}
		switch a.Kind {
		case ActAck:
			if f.Status != StatusOpen {
				return deny("")
			}
			f.Status = StatusAcknowledged
		case ActResolve:
			if f.Status == StatusResolved {
				return deny("")
			}
			f.Status, f.Suppressed = StatusResolved, nil
		case ActReopen:
			if f.Status == StatusOpen {
				return deny("")
			}
			if ruled {
				return deny(" by the policy rule at " + f.Suppressed.Rule + "; change that rule")
			}
			f.Status, f.Suppressed = StatusOpen, nil
		case ActSuppress:
			if f.Status == StatusResolved {
				return deny(" (reopen it first)")
			}
			if ruled {
				return deny(" by the policy rule at " + f.Suppressed.Rule + "; change that rule")
			}
			if !a.Until.After(a.At) {
				return errors.New("suppress: the end must be in the future")
			}
			if strings.TrimSpace(a.Comment) == "" {
				return errors.New("suppress: a reason is required")
			}
			f.Status = StatusSuppressed
			f.Suppressed = &Suppression{Until: a.Until, Reason: a.Comment, Who: a.Who}
		default:
			return fmt.Errorf("unknown action %q", a.Kind)
		}
		if a.Comment != "" {
			f.Comment = a.Comment
		}
		var ttl time.Duration
		if f.Status == StatusResolved {
			ttl = s.ClosedRetention
		}
		if err := tx.Put(NSFinding, id, f, ttl); err != nil {
			return err
		}
		e := AuditEntry{At: a.At, Who: a.Who, Finding: id, Action: a.Kind, From: from, To: f.Status, Comment: a.Comment}
		if a.Kind == ActSuppress {
			e.Until = a.Until
		}
		_, err = tx.AppendLog(NSAudit, e)
		return err
	})
	if err != nil {
		return Finding{}, fmt.Errorf("finding %s: %w", a.Kind, err)
	}
	return f, nil
}

// Audit returns the audit entries of finding id (every finding's when id is empty), oldest first.
func (s *Store) Audit(ctx context.Context, id string) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.db.View(ctx, func(tx *stats.RecordTx) error {
		return tx.ListLog(NSAudit, 0, func(seq uint64, raw []byte) error {
			var e AuditEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("finding audit %d: %w", seq, err)
			}
			if id == "" || e.Finding == id {
				e.Seq = seq
				out = append(out, e)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("finding audit: %w", err)
	}
	return out, nil
}

// policySuppression returns the first of cfg's suppression rules that covers f at, or nil.
func policySuppression(cfg *policies.Config, f *Finding, at time.Time) *Suppression {
	if cfg == nil {
		return nil
	}
	s := f.Subject
	for i := range cfg.Findings.Suppress {
		r := &cfg.Findings.Suppress[i]
		if r.Matches(f.Detector, s.Host, s.Peer, s.Port, s.Segment, s.User, at) {
			return &Suppression{Until: r.Expires(), Reason: r.Reason, Who: "policy", Rule: r.Where()}
		}
	}
	return nil
}

// StatusLabel is the status as people read it: "suppressed until 2026-12-31 14:00 UTC by
// ops: reason", "acknowledged". Its text may hold a person's words: escape it for display.
func (f *Finding) StatusLabel(loc *time.Location) string {
	if f.Status != StatusSuppressed || f.Suppressed == nil {
		return f.Status
	}
	s := f.Suppressed
	var b strings.Builder
	b.WriteString(StatusSuppressed)
	if !s.Until.IsZero() {
		b.WriteString(" until " + s.Until.In(loc).Format("2006-01-02 15:04 MST"))
	}
	if s.Rule != "" {
		b.WriteString(" by policy rule " + s.Rule)
	} else if s.Who != "" {
		b.WriteString(" by " + s.Who)
	}
	if s.Reason != "" {
		b.WriteString(": " + s.Reason)
	}
	return b.String()
}
