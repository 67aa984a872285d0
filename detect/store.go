package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/firebreak-dev/firebreak/collector/stats"
)

// Record namespaces in the statistics database.
const (
	NSFinding    = "finding"
	NSRun        = "detect-run"
	NSCheckpoint = "detect-checkpoint"
)

// ErrNotFound is returned (wrapped) for an unknown finding id.
var ErrNotFound = errors.New("finding not found")

// Records is the records API of the statistics store. *stats.Store satisfies it.
type Records interface {
	Update(ctx context.Context, fn func(tx *stats.RecordTx) error) error
	View(ctx context.Context, fn func(tx *stats.RecordTx) error) error
}

var _ Records = (*stats.Store)(nil)

// Store keeps findings as records (namespace "finding", id = Finding.ID) in the statistics
// database. It holds no state of its own: every method is one transaction, so a Store is safe
// for concurrent use and several may share one database.
type Store struct {
	db Records
	// ClosedRetention is how long a resolved finding is kept after it is closed; 0 keeps it.
	ClosedRetention time.Duration
}

// NewStore returns a findings store over db.
func NewStore(db Records, closedRetention time.Duration) *Store {
	return &Store{db: db, ClosedRetention: closedRetention}
}

// runRecord is what one run of a detector set over one window found: the keys let a rerun of
// the same window leave Count alone.
type runRecord struct {
	At        time.Time `json:"at"`
	Window    TimeRange `json:"window"`
	Detectors []string  `json:"detectors"`
	Keys      []string  `json:"keys"`
	Ran       time.Time `json:"ran"`
}

// Change says what an upsert did with a finding.
type Change string

const (
	ChangeNew      Change = "new"      // first time this key was found
	ChangeUpdated  Change = "updated"  // found again after its suppression ended: alert again
	ChangeSilent   Change = "silent"   // found again within its suppression window
	ChangeReopened Change = "reopened" // found again after it was resolved or its suppression ended
	// ChangeEscalated: found again with a higher severity than before: alert again.
	ChangeEscalated Change = "escalated"
)

// Upserted is one finding after an upsert, with what happened to it.
type Upserted struct {
	Finding
	Change Change `json:"change"`
}

// Upsert stores the findings of one run of detectors over w: the run record first, then the
// findings in short transactions of upsertChunk (a run cut short and repeated counts nothing
// twice). A finding
// whose key is already stored keeps its ID and FirstSeen (the earlier of the two), gets the
// later LastSeen and the newer evidence, and its Count (distinct windows it was found in)
// grows by one unless this same window (same detector set and end) already counted it; so
// running the same window twice changes nothing but Evidence. suppress gives each detector's
// suppression window: a finding found while SuppressUntil is after w.To is a silent update.
// ran is the wall-clock time of the run, kept in the run record.
func (s *Store) Upsert(ctx context.Context, detectors []string, w TimeRange, found []Finding, suppress func(detector string) time.Duration, ran time.Time) ([]Upserted, error) {
	runID := runRecordID(detectors, w.To)
	// The run record goes first, with every key, so that a run cut short and repeated
	// never counts a finding twice; the findings follow in short transactions (the write
	// lock is the collector's too, and forged lines can make many findings).
	var counted map[string]bool
	var uniq []Finding
	err := s.db.Update(ctx, func(tx *stats.RecordTx) error {
		var prev runRecord
		if _, err := tx.Get(NSRun, runID, &prev); err != nil {
			return err
		}
		counted = make(map[string]bool, len(prev.Keys))
		for _, k := range prev.Keys {
			counted[k] = true
		}
		rec := runRecord{At: w.To, Window: w, Detectors: detectors, Ran: ran}
		seen := make(map[string]bool, len(found))
		uniq = uniq[:0]
		for _, f := range found {
			if seen[f.Key] {
				continue // a detector reporting a key twice is one situation
			}
			seen[f.Key] = true
			rec.Keys = append(rec.Keys, f.Key)
			uniq = append(uniq, f)
		}
		// Keep keys counted by an earlier run of this window that this run did not find.
		for _, k := range prev.Keys {
			if !seen[k] {
				rec.Keys = append(rec.Keys, k)
			}
		}
		slices.Sort(rec.Keys)
		return tx.Put(NSRun, runID, rec, 0)
	})
	if err != nil {
		return nil, fmt.Errorf("store findings: %w", err)
	}
	out := make([]Upserted, 0, len(uniq))
	for chunk := range slices.Chunk(uniq, upsertChunk) {
		base := len(out)
		if err := s.db.Update(ctx, func(tx *stats.RecordTx) error {
			out = out[:base]
			for _, f := range chunk {
				u, err := upsertTx(tx, f, w, counted[f.Key], suppress(f.Detector), s.ClosedRetention, ran)
				if err != nil {
					return err
				}
				out = append(out, u)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("store findings: %w", err)
		}
	}
	return out, nil
}

// upsertChunk is how many findings one write transaction stores.
const upsertChunk = 256

func runRecordID(detectors []string, at time.Time) string {
	ds := slices.Clone(detectors)
	slices.Sort(ds)
	return fmt.Sprintf("%d-%s", at.Unix(), shortID(fmt.Sprint(ds), 8))
}

// idFor finds the record id of key: the shortest prefix (8, 12, ... hex digits of its
// sha256) that is free or already holds this key.
func idFor(tx *stats.RecordTx, key string) (id string, existing *Finding, err error) {
	for n := 8; n <= 64; n += 4 {
		id = shortID(key, n)
		var f Finding
		ok, err := tx.Get(NSFinding, id, &f)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			return id, nil, nil
		}
		if f.Key == key {
			return id, &f, nil
		}
	}
	return "", nil, fmt.Errorf("no free id for finding %q", key)
}

func upsertTx(tx *stats.RecordTx, f Finding, w TimeRange, counted bool, suppress, closedTTL time.Duration, ran time.Time) (Upserted, error) {
	id, old, err := idFor(tx, f.Key)
	if err != nil {
		return Upserted{}, err
	}
	rule := f.Suppressed // a policy rule covering f (set by Run), or nil
	u := Upserted{Finding: f}
	u.ID = id
	var audit []AuditEntry
	record := func(action, from, comment string) {
		audit = append(audit, AuditEntry{At: ran, Who: "detect", Finding: id, Action: action, From: from, To: u.Status, Comment: comment})
	}
	if old == nil {
		situate(&u.Finding, nil)
		u.Count = 1
		u.Status = StatusOpen
		u.SuppressUntil = w.To.Add(suppress)
		u.Change = ChangeNew
		if rule != nil {
			u.Status, u.Change = StatusSuppressed, ChangeSilent
			record(ActSuppressedByRule, "", rule.Rule)
		}
	} else {
		u.FirstSeen = minTime(old.FirstSeen, f.FirstSeen)
		u.LastSeen = maxTime(old.LastSeen, f.LastSeen)
		u.Count = old.Count
		if !counted {
			u.Count++
		}
		u.Status = old.Status
		u.SuppressUntil = old.SuppressUntil
		u.Suppressed = old.Suppressed
		u.Comment = old.Comment
		if old.Evidence.Window.To.After(f.Evidence.Window.To) {
			u.Evidence = old.Evidence // an older window does not replace newer evidence
		}
		situate(&u.Finding, old)
		byPerson := old.Status == StatusSuppressed && old.Suppressed != nil && old.Suppressed.Rule == ""
		switch {
		case byPerson && old.Suppressed.active(w.To):
			u.Change = ChangeSilent // a person's suppression wins over the policy's
		case rule != nil:
			u.Status, u.Suppressed, u.Change = StatusSuppressed, rule, ChangeSilent
			if old.Status != StatusSuppressed || old.Suppressed == nil || old.Suppressed.Rule != rule.Rule {
				record(ActSuppressedByRule, old.Status, rule.Rule)
			}
		case old.Status == StatusSuppressed:
			// Its suppression expired or its policy rule is gone: it is open and alerts again.
			u.Status, u.Suppressed = StatusOpen, nil
			u.SuppressUntil = w.To.Add(suppress)
			u.Change = ChangeReopened
			record(ActSuppressionEnded, old.Status, "")
		case old.Status == StatusResolved && old.LastSeen.Before(f.LastSeen):
			u.Status = StatusOpen
			u.SuppressUntil = w.To.Add(suppress)
			u.Change = ChangeReopened
			record(ActReopened, old.Status, "")
		case u.Severity.Rank() > old.Severity.Rank():
			// Escalated: alert even within the suppression window; an acknowledgement was
			// for the lower severity, so the finding is open again.
			if u.Status == StatusAcknowledged {
				u.Status = StatusOpen
			}
			u.SuppressUntil = w.To.Add(suppress)
			u.Change = ChangeEscalated
			record(ActEscalated, old.Status, fmt.Sprintf("%s -> %s", old.Severity, u.Severity))
		case counted || w.To.Before(old.SuppressUntil):
			u.Change = ChangeSilent
		default:
			u.SuppressUntil = w.To.Add(suppress)
			u.Change = ChangeUpdated
		}
	}
	for _, e := range audit {
		if _, err := tx.AppendLog(NSAudit, e); err != nil {
			return Upserted{}, err
		}
	}
	var ttl time.Duration
	if u.Status == StatusResolved {
		ttl = closedTTL
	}
	if err := tx.Put(NSFinding, id, u.Finding, ttl); err != nil {
		return Upserted{}, err
	}
	return u, nil
}

// Get returns the finding with the given id.
func (s *Store) Get(ctx context.Context, id string) (Finding, error) {
	var f Finding
	ok, err := getRecord(ctx, s.db, NSFinding, id, &f)
	if err != nil {
		return f, err
	}
	if !ok {
		return f, fmt.Errorf("%q: %w", id, ErrNotFound)
	}
	return f, nil
}

func getRecord(ctx context.Context, db Records, ns, id string, v any) (bool, error) {
	var ok bool
	err := db.View(ctx, func(tx *stats.RecordTx) error {
		var err error
		ok, err = tx.Get(ns, id, v)
		return err
	})
	return ok, err
}

// Filter selects findings for List. Zero fields select everything.
type Filter struct {
	Since       time.Time // LastSeen at or after
	Detector    string
	MinSeverity Severity // this severity or higher
	Status      string
}

func (q Filter) match(f *Finding) bool {
	return (q.Since.IsZero() || !f.LastSeen.Before(q.Since)) &&
		(q.Detector == "" || f.Detector == q.Detector) &&
		(q.MinSeverity == "" || f.Severity.Rank() >= q.MinSeverity.Rank()) &&
		(q.Status == "" || f.Status == q.Status)
}

// List returns the findings q selects in Priority order: highest severity first, then the
// situations active on most days, then the most recently seen.
func (s *Store) List(ctx context.Context, q Filter) ([]Finding, error) {
	var out []Finding
	err := s.db.View(ctx, func(tx *stats.RecordTx) error {
		return tx.List(NSFinding, func(_ string, raw []byte) error {
			var f Finding
			if err := json.Unmarshal(raw, &f); err != nil {
				return fmt.Errorf("decode finding: %w", err)
			}
			if q.match(&f) {
				out = append(out, f)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	slices.SortFunc(out, Priority)
	return out, nil
}

// SetStatus changes a finding's status (open, acknowledged, resolved). A resolved finding
// expires ClosedRetention later unless it is found again.
func (s *Store) SetStatus(ctx context.Context, id, status string) (Finding, error) {
	switch status {
	case StatusOpen, StatusAcknowledged, StatusResolved:
	default:
		return Finding{}, fmt.Errorf("unknown status %q", status)
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
		f.Status = status
		var ttl time.Duration
		if status == StatusResolved {
			ttl = s.ClosedRetention
		}
		return tx.Put(NSFinding, id, f, ttl)
	})
	return f, err
}

// Checkpoint returns the end of the last window the named job completed (zero if none).
func (s *Store) Checkpoint(ctx context.Context, job string) (time.Time, error) {
	var t time.Time
	_, err := getRecord(ctx, s.db, NSCheckpoint, job, &t)
	return t, err
}

// SetCheckpoint records that job completed the window ending at.
func (s *Store) SetCheckpoint(ctx context.Context, job string, at time.Time) error {
	return s.db.Update(ctx, func(tx *stats.RecordTx) error { return tx.Put(NSCheckpoint, job, at, 0) })
}
