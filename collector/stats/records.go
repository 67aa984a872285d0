package stats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tidwall/buntdb"
)

// Records: JSON values of other packages (findings, proposals, blocks, scheduler checkpoints)
// and append-only logs (the audit log), kept in the same file so that one transaction can
// change several of them. Keys: rec|<ns>|<id>, log|<ns>|<seq, 20 digits>, logseq|<ns>,
// loghead|<ns> and logchain|<ns> (see logchain.go).

const (
	pfxRec    = "rec"
	pfxLog    = "log"
	pfxLogSeq = "logseq"
	maxName   = 200
)

// ErrBadName is returned (wrapped) for a namespace or id that is empty, too long, or holds '|',
// '*', '?' or a control character.
var ErrBadName = errors.New("invalid record name")

func checkName(s string) error {
	if s == "" || len(s) > maxName {
		return fmt.Errorf("%w: %q", ErrBadName, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f || c == '|' || c == '*' || c == '?' {
			return fmt.Errorf("%w: %q", ErrBadName, s)
		}
	}
	return nil
}

func recKey(ns, id string) string { return pfxRec + "|" + ns + "|" + id }
func recPrefix(ns string) string  { return pfxRec + "|" + ns + "|" }
func logPrefix(ns string) string  { return pfxLog + "|" + ns + "|" }

// RecordTx is a transaction over records, handed to the function given to Store.Update or
// Store.View. It is valid only during that call.
type RecordTx struct {
	tx       kvTx
	writable bool
	appended []LogRecord // for Store.OnLog once the transaction commits
}

// Put stores v as JSON under (ns, id), replacing any previous value. A ttl ≤ 0 keeps it until
// deleted.
func (t *RecordTx) Put(ns, id string, v any, ttl time.Duration) error {
	if err := checkName(ns); err != nil {
		return err
	}
	if err := checkName(id); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", ns, id, err)
	}
	var opts *buntdb.SetOptions
	if ttl > 0 {
		opts = &buntdb.SetOptions{Expires: true, TTL: ttl}
	}
	if _, _, err := t.tx.Set(recKey(ns, id), string(b), opts); err != nil {
		return fmt.Errorf("put %s/%s: %w", ns, id, err)
	}
	return nil
}

// Get decodes the record (ns, id) into v and reports whether it exists.
func (t *RecordTx) Get(ns, id string, v any) (bool, error) {
	if err := checkName(ns); err != nil {
		return false, err
	}
	if err := checkName(id); err != nil {
		return false, err
	}
	s, err := t.tx.Get(recKey(ns, id))
	if errors.Is(err, buntdb.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get %s/%s: %w", ns, id, err)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return true, fmt.Errorf("decode %s/%s: %w", ns, id, err)
	}
	return true, nil
}

// Delete removes the record (ns, id) and reports whether it existed.
func (t *RecordTx) Delete(ns, id string) (bool, error) {
	if err := checkName(ns); err != nil {
		return false, err
	}
	if err := checkName(id); err != nil {
		return false, err
	}
	_, err := t.tx.Delete(recKey(ns, id))
	if errors.Is(err, buntdb.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delete %s/%s: %w", ns, id, err)
	}
	return true, nil
}

type kv struct{ k, v string }

// collect gathers a prefix's entries first, so that fn may write in the same transaction
// (buntdb refuses writes while iterating).
func (t *RecordTx) collect(prefix, from string) []kv {
	var out []kv
	_ = t.tx.AscendRange("", from, prefixEnd(prefix), func(k, v string) bool {
		out = append(out, kv{k[len(prefix):], v})
		return true
	})
	return out
}

// List calls fn for every record of ns in id order. fn may change records in an Update.
func (t *RecordTx) List(ns string, fn func(id string, raw []byte) error) error {
	if err := checkName(ns); err != nil {
		return err
	}
	p := recPrefix(ns)
	for _, e := range t.collect(p, p) {
		if err := fn(e.k, []byte(e.v)); err != nil {
			return err
		}
	}
	return nil
}

// AppendLog adds v as JSON to the log ns and returns its sequence number: 1, 2, 3... per ns,
// never reused. Log entries never expire and are never overwritten.
func (t *RecordTx) AppendLog(ns string, v any) (uint64, error) {
	if err := checkName(ns); err != nil {
		return 0, err
	}
	if !t.writable {
		return 0, fmt.Errorf("append to log %s: %w", ns, buntdb.ErrTxNotWritable)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("encode log %s: %w", ns, err)
	}
	seqKey := pfxLogSeq + "|" + ns
	var seq uint64
	if s, err := t.tx.Get(seqKey); err == nil {
		seq, _ = strconv.ParseUint(s, 10, 64)
	} else if !errors.Is(err, buntdb.ErrNotFound) {
		return 0, fmt.Errorf("append to log %s: %w", ns, err)
	}
	seq++
	key := string(appendPad([]byte(logPrefix(ns)), int64(seq), 20))
	if _, err := t.tx.Get(key); err == nil {
		return 0, fmt.Errorf("append to log %s: sequence %d already used", ns, seq)
	}
	headKey := pfxLogHead + "|" + ns
	prev, err := t.tx.Get(headKey)
	if errors.Is(err, buntdb.ErrNotFound) {
		prev, err = LogGenesis, nil
	}
	if err != nil {
		return 0, fmt.Errorf("append to log %s: %w", ns, err)
	}
	val, h, err := sealLog(ns, seq, prev, b)
	if err != nil {
		return 0, fmt.Errorf("append to log %s: %w", ns, err)
	}
	if _, _, err := t.tx.Set(seqKey, strconv.FormatUint(seq, 10), nil); err != nil {
		return 0, fmt.Errorf("append to log %s: %w", ns, err)
	}
	if _, _, err := t.tx.Set(key, val, nil); err != nil {
		return 0, fmt.Errorf("append to log %s: %w", ns, err)
	}
	if _, _, err := t.tx.Set(headKey, h, nil); err != nil {
		return 0, fmt.Errorf("append to log %s: %w", ns, err)
	}
	t.appended = append(t.appended, LogRecord{NS: ns, Seq: seq, Prev: prev, Hash: h, Payload: b})
	return seq, nil
}

// ListLog calls fn for every entry of log ns with a sequence number above after, in order,
// with the JSON given to AppendLog (VerifyLog checks the chain around it).
func (t *RecordTx) ListLog(ns string, after uint64, fn func(seq uint64, raw []byte) error) error {
	if err := checkName(ns); err != nil {
		return err
	}
	p := logPrefix(ns)
	from := string(appendPad([]byte(p), int64(after+1), 20))
	for _, e := range t.collect(p, from) {
		seq, err := strconv.ParseUint(e.k, 10, 64)
		if err != nil {
			continue
		}
		raw := []byte(e.v)
		if env, ok := openLog(e.v); ok {
			raw = env.V
		}
		if err := fn(seq, raw); err != nil {
			return err
		}
	}
	return nil
}

// Update runs fn in one read-write transaction: every change fn makes is written together, or,
// when fn returns an error, none is. Update blocks other writers (including Flush) while fn
// runs: keep fn short and free of I/O.
func (s *Store) Update(ctx context.Context, fn func(tx *RecordTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rt := &RecordTx{writable: true}
	var err error
	if s.snap != nil {
		err = s.appendTx(func(tx kvTx) error {
			rt.tx = tx
			return fn(rt)
		})
	} else {
		err = s.db.Update(func(tx *buntdb.Tx) error {
			rt.tx, rt.appended = tx, rt.appended[:0]
			return fn(rt)
		})
	}
	if err == nil {
		for _, r := range rt.appended {
			for _, h := range s.logHooks {
				h(r)
			}
		}
	}
	return err
}

// View runs fn in a read-only transaction with a stable view.
func (s *Store) View(ctx context.Context, fn func(tx *RecordTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.viewTx(func(tx kvTx) error { return fn(&RecordTx{tx: tx}) })
}

// PutRecord is Update with one RecordTx.Put.
func (s *Store) PutRecord(ctx context.Context, ns, id string, v any, ttl time.Duration) error {
	return s.Update(ctx, func(tx *RecordTx) error { return tx.Put(ns, id, v, ttl) })
}

// GetRecord is View with one RecordTx.Get.
func (s *Store) GetRecord(ctx context.Context, ns, id string, v any) (found bool, err error) {
	err = s.View(ctx, func(tx *RecordTx) error {
		found, err = tx.Get(ns, id, v)
		return err
	})
	return found, err
}

// DeleteRecord is Update with one RecordTx.Delete.
func (s *Store) DeleteRecord(ctx context.Context, ns, id string) (found bool, err error) {
	err = s.Update(ctx, func(tx *RecordTx) error {
		found, err = tx.Delete(ns, id)
		return err
	})
	return found, err
}

// ListRecords is View with one RecordTx.List.
func (s *Store) ListRecords(ctx context.Context, ns string, fn func(id string, raw []byte) error) error {
	return s.View(ctx, func(tx *RecordTx) error { return tx.List(ns, fn) })
}

// AppendLog is Update with one RecordTx.AppendLog.
func (s *Store) AppendLog(ctx context.Context, ns string, v any) (seq uint64, err error) {
	err = s.Update(ctx, func(tx *RecordTx) error {
		seq, err = tx.AppendLog(ns, v)
		return err
	})
	return seq, err
}

// ListLog is View with one RecordTx.ListLog.
func (s *Store) ListLog(ctx context.Context, ns string, after uint64, fn func(seq uint64, raw []byte) error) error {
	return s.View(ctx, func(tx *RecordTx) error { return tx.ListLog(ns, after, fn) })
}
