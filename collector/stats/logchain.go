package stats

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/buntdb"
)

// Log chain. Every log entry (log|<ns>|<seq>) is stored as an envelope that carries the hash
// of the entry before it, so that an edit, a deletion, an insertion or a reordering of the
// file's entries shows when the log is walked (VerifyLog):
//
//	{"seq":N,"prev":"<hex sha256 of entry N-1>","h":"<hex sha256 of this entry>","v":<payload>}
//
// h is sha256 over the canonical encoding
//
//	"firebreak-log-v1\n" ns "\n" N (decimal) "\n" prev (hex) "\n" payload (the JSON as stored)
//
// and the first entry's prev is LogGenesis. loghead|<ns> holds the last entry's h, so an
// append chains to what was written even if the entry before was since removed. The chain
// has no secret: someone who can write the file can rewrite every entry after the one they
// change. The receivers of the audit syslog hold each entry's h, which catches that.
//
// Entries written before the chain existed (schema 4) are chained once by the schema-5
// migration; logchain|<ns> records up to which entry and when, since edits made before then
// cannot be seen.

// LogGenesis is the prev of a log's first entry.
const LogGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

const (
	pfxLogHead  = "loghead"
	pfxLogChain = "logchain"
)

type logEnvelope struct {
	Seq  uint64          `json:"seq"`
	Prev string          `json:"prev"`
	H    string          `json:"h"`
	V    json.RawMessage `json:"v"`
}

// LogHash is the chain hash of entry seq of log ns with predecessor hash prev and the JSON
// payload.
func LogHash(ns string, seq uint64, prev string, payload []byte) string {
	h := sha256.New()
	h.Write([]byte("firebreak-log-v1\n"))
	h.Write([]byte(ns))
	h.Write([]byte{'\n'})
	h.Write(strconv.AppendUint(nil, seq, 10))
	h.Write([]byte{'\n'})
	h.Write([]byte(prev))
	h.Write([]byte{'\n'})
	h.Write(payload)
	return hex.EncodeToString(h.Sum(nil))
}

// sealLog returns the stored value of entry seq.
func sealLog(ns string, seq uint64, prev string, payload []byte) (string, string, error) {
	h := LogHash(ns, seq, prev, payload)
	b, err := json.Marshal(logEnvelope{Seq: seq, Prev: prev, H: h, V: payload})
	if err != nil {
		return "", "", err
	}
	return string(b), h, nil
}

// openLog parses a stored entry; ok is false for a value that is not an envelope.
func openLog(raw string) (logEnvelope, bool) {
	var e logEnvelope
	if !strings.HasPrefix(raw, `{"seq":`) {
		return e, false
	}
	d := json.NewDecoder(strings.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&e); err != nil || e.Seq == 0 || len(e.H) != 64 || len(e.Prev) != 64 || len(e.V) == 0 {
		return e, false
	}
	return e, true
}

// LogRecord is one appended log entry, as handed to the hooks of Store.OnLog.
type LogRecord struct {
	NS      string
	Seq     uint64
	Prev    string // hash of the entry before
	Hash    string
	Payload []byte // the JSON given to AppendLog
}

// OnLog registers fn to be called, after the transaction that appended them commits, with
// every log entry appended through this Store, in order. fn runs on the writer's goroutine:
// it must not block (queue and return). Register before the Store is shared.
func (s *Store) OnLog(fn func(LogRecord)) { s.logHooks = append(s.logHooks, fn) }

// LogBreak is the first place where a log is not what firebreak wrote.
type LogBreak struct {
	Seq    uint64 `json:"seq"`    // the entry concerned (for a deletion: the first missing one)
	Kind   string `json:"kind"`   // LogEdited, LogDeleted, LogReordered, LogInserted
	Detail string `json:"detail"` // what differs
	// Payload is the JSON of the entry at place PayloadAt (the entry concerned, or for a
	// deletion the one after the gap), so the caller can name it by its fields; nil when there
	// is none.
	PayloadAt uint64          `json:"payload_at,omitempty"`
	Payload   json.RawMessage `json:"-"`
}

// Kinds of LogBreak.
const (
	LogEdited    = "edited"
	LogDeleted   = "deleted"
	LogReordered = "reordered"
	LogInserted  = "inserted"
)

// LogCheck is the result of VerifyLog.
type LogCheck struct {
	NS      string `json:"ns"`
	Entries int    `json:"entries"`
	Last    uint64 `json:"last"` // the last sequence number written (logseq)
	Head    string `json:"head"` // hash of the last entry
	// ChainedAt and ChainedUpTo are set when entries 1..ChainedUpTo were written before the
	// chain existed and chained by the upgrade at ChainedAt: edits before then do not show.
	ChainedAt   time.Time `json:"chained_at,omitzero"`
	ChainedUpTo uint64    `json:"chained_up_to,omitempty"`
	Break       *LogBreak `json:"break,omitempty"` // nil: intact
}

type chainMark struct {
	At   time.Time `json:"at"`
	UpTo uint64    `json:"up_to"`
}

// VerifyLog walks log ns from its first entry and reports the first one that is not what was
// written: an entry whose bytes do not match its hash (edited), a missing sequence number
// (deleted), an entry at another's place (reordered) or one that is not in the chain
// (inserted).
func (t *RecordTx) VerifyLog(ns string) (LogCheck, error) {
	c := LogCheck{NS: ns, Head: LogGenesis}
	if err := checkName(ns); err != nil {
		return c, err
	}
	if s, err := t.tx.Get(pfxLogSeq + "|" + ns); err == nil {
		c.Last, _ = strconv.ParseUint(s, 10, 64)
	}
	if s, err := t.tx.Get(pfxLogChain + "|" + ns); err == nil {
		var m chainMark
		if json.Unmarshal([]byte(s), &m) == nil {
			c.ChainedAt, c.ChainedUpTo = m.At, m.UpTo
		}
	}
	p := logPrefix(ns)
	type ent struct {
		key uint64
		env logEnvelope
		ok  bool
		raw string
	}
	var es []ent
	for _, kv := range t.collect(p, p) {
		k, err := strconv.ParseUint(kv.k, 10, 64)
		if err != nil || len(kv.k) != 20 {
			c.Break = &LogBreak{Kind: LogInserted, Detail: fmt.Sprintf("key %q is not a log entry", p+kv.k)}
			return c, nil
		}
		e := ent{key: k, raw: kv.v}
		e.env, e.ok = openLog(kv.v)
		es = append(es, e)
	}
	c.Entries = len(es)
	byHash := make(map[string]int, len(es))
	atKey := make(map[uint64]int, len(es))
	for i, e := range es {
		if e.ok {
			byHash[e.env.H] = i
		}
		atKey[e.key] = i
	}
	prev, want := LogGenesis, uint64(1)
	brk := func(seq uint64, kind, detail string, at uint64, payload []byte) (LogCheck, error) {
		c.Break = &LogBreak{Seq: seq, Kind: kind, Detail: detail, PayloadAt: at, Payload: payload}
		return c, nil
	}
	for i, e := range es {
		if !e.ok {
			return brk(e.key, LogEdited, "the stored bytes are not a chained log entry", e.key, []byte(e.raw))
		}
		if e.env.Seq != e.key {
			if j, ok := atKey[e.env.Seq]; ok && es[j].ok && es[j].env.Seq == e.key {
				return brk(min(e.key, e.env.Seq), LogReordered, fmt.Sprintf("entries %d and %d were swapped", e.key, e.env.Seq), e.key, e.env.V)
			}
			if e.env.Seq > e.key {
				return brk(e.key, LogDeleted, fmt.Sprintf("place %d holds entry %d: the entries after a deletion were renumbered", e.key, e.env.Seq), e.key, e.env.V)
			}
			return brk(e.key, LogInserted, fmt.Sprintf("place %d holds entry %d: entries were renumbered after an insertion", e.key, e.env.Seq), e.key, e.env.V)
		}
		if e.key > want {
			gap := fmt.Sprintf("entry %d is missing", want)
			if e.key > want+1 {
				gap = fmt.Sprintf("entries %d to %d are missing", want, e.key-1)
			}
			return brk(want, LogDeleted, gap, e.key, e.env.V)
		}
		if h := LogHash(ns, e.env.Seq, e.env.Prev, e.env.V); h != e.env.H {
			return brk(e.key, LogEdited, "its bytes do not match its hash (changed after it was written)", e.key, e.env.V)
		}
		if e.env.Prev != prev {
			j, known := byHash[e.env.Prev]
			switch {
			case known && j < i-1:
				return brk(es[j+1].key, LogInserted, fmt.Sprintf("entry %d follows entry %d: what lies between is not in the chain", e.key, es[j].key), es[j+1].key, es[j+1].env.V)
			case known && j > i:
				return brk(e.key, LogReordered, fmt.Sprintf("entry %d was written after entry %d", e.key, es[j].key), e.key, e.env.V)
			case i == 0:
				return brk(e.key, LogEdited, "the first entry does not start the chain", e.key, e.env.V)
			default:
				return brk(es[i-1].key, LogEdited, fmt.Sprintf("entry %d was rewritten: its hash is not the one entry %d recorded", es[i-1].key, e.key), es[i-1].key, es[i-1].env.V)
			}
		}
		prev, want = e.env.H, e.key+1
	}
	c.Head = prev
	if c.Last >= want {
		gap := fmt.Sprintf("entry %d (the last written) is missing", want)
		if c.Last > want {
			gap = fmt.Sprintf("entries %d to %d (the last written) are missing", want, c.Last)
		}
		return brk(want, LogDeleted, gap, 0, nil)
	}
	if h, err := t.tx.Get(pfxLogHead + "|" + ns); err == nil && h != prev {
		if len(es) == 0 {
			return brk(1, LogDeleted, "every entry is missing", 0, nil)
		}
		return brk(es[len(es)-1].key, LogEdited, "the last entry is not the one last written (edited and rehashed, or entries after it removed: its hash differs from the log head)", es[len(es)-1].key, es[len(es)-1].env.V)
	}
	return c, nil
}

// VerifyLog is View with one RecordTx.VerifyLog.
func (s *Store) VerifyLog(ctx context.Context, ns string) (c LogCheck, err error) {
	err = s.View(ctx, func(tx *RecordTx) error {
		c, err = tx.VerifyLog(ns)
		return err
	})
	return c, err
}

// migrateV4 chains the entries of every log written before the chain existed (see the top
// of this file), and marks how far: logchain|<ns>.
func migrateV4(tx *buntdb.Tx, now int64, _ Retention) (int, error) {
	type entry struct{ key, val string }
	byNS := map[string][]entry{}
	var order []string
	err := tx.AscendKeys(pfxLog+"|*", func(k, v string) bool {
		ns, ok := recordNS(k, pfxLog)
		if !ok {
			return true
		}
		if _, seen := byNS[ns]; !seen {
			order = append(order, ns)
		}
		byNS[ns] = append(byNS[ns], entry{k, v})
		return true
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ns := range order {
		prev := LogGenesis
		var last uint64
		for _, e := range byNS[ns] {
			seq, err := strconv.ParseUint(e.key[len(logPrefix(ns)):], 10, 64)
			if err != nil {
				return n, fmt.Errorf("log key %q: %w", e.key, err)
			}
			if !json.Valid([]byte(e.val)) {
				return n, fmt.Errorf("log entry %q is not JSON", e.key)
			}
			var payload bytes.Buffer
			if err := json.Compact(&payload, []byte(e.val)); err != nil {
				return n, fmt.Errorf("log entry %q: %w", e.key, err)
			}
			v, h, err := sealLog(ns, seq, prev, payload.Bytes())
			if err != nil {
				return n, err
			}
			if _, _, err := tx.Set(e.key, v, nil); err != nil {
				return n, fmt.Errorf("set %s: %w", e.key, err)
			}
			prev, last = h, seq
			n++
		}
		if _, _, err := tx.Set(pfxLogHead+"|"+ns, prev, nil); err != nil {
			return n, err
		}
		m, _ := json.Marshal(chainMark{At: time.Unix(now, 0).UTC(), UpTo: last})
		if _, _, err := tx.Set(pfxLogChain+"|"+ns, string(m), nil); err != nil {
			return n, err
		}
	}
	return n, nil
}
