package stats

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/buntdb"
)

// A snapshot is a read-only image of a buntdb file for OpenReadOnly: the file is mapped, not
// loaded, and a sorted index of its live keys points into the mapping. buntdb.Open copies every
// key and value into a tree on the heap, which costs about 6 ms per MB in page faults and
// inserts; a one-shot command that reads a day of a 90-day store pays that for the whole file.
//
// The reader follows buntdb's own loader (buntdb.go readLoad, v1.3.2): a sequence of RESP arrays
// "set key value [ex|ae n]", "del key" and "flushdb", NUL bytes between commands ignored, a
// command cut short at the end of the file (a torn last write) dropped, anything else an
// invalid file. TestSnapshotMatchesBuntdb holds the two to the same result.

// kvTx is what the store's read paths (and RecordTx) use of a transaction: a *buntdb.Tx, or a
// *snapshot, whose writes fail with buntdb.ErrTxNotWritable.
type kvTx interface {
	Get(key string, ignoreExpired ...bool) (string, error)
	Set(key, value string, opts *buntdb.SetOptions) (string, bool, error)
	Delete(key string) (string, error)
	Ascend(index string, iterator func(key, value string) bool) error
	AscendRange(index, greaterOrEqual, lessThan string, iterator func(key, value string) bool) error
	Len() (int, error)
}

var _ kvTx = (*buntdb.Tx)(nil)

type snapshot struct {
	data string
	ents []snapOp // live keys, sorted, unique
	// exp holds when each key set with a TTL expires (unix nanoseconds); a key past it reads as
	// absent, as buntdb's Get does.
	exp  map[string]int64
	torn int // bytes of a command cut short at the end of the file
}

var _ kvTx = (*snapshot)(nil)

// snapInvalid is buntdb.ErrInvalid, with where.
func snapInvalid(off int, what string) error {
	return fmt.Errorf("%w: %s at byte %d", buntdb.ErrInvalid, what, off)
}

// snapOp is one set or del of the file by the offsets of its key and value (no pointers: the
// garbage collector does not scan the index).
type snapOp struct {
	k, kl, v, vl uint32
}

const snapDel = math.MaxUint32 // vl of a del

// opGuess is the command size the index is first sized for (a host day's value is a few
// hundred bytes); smaller commands grow it.
const opGuess = 256

// setHead and delHead are how buntdb writes a set without TTL and a del.
const (
	setHead = "*3\r\n$3\r\nset\r\n"
	delHead = "*2\r\n$3\r\ndel\r\n"
)

// maxSnapshot bounds the file a snapshot indexes (32-bit offsets).
const maxSnapshot int64 = math.MaxUint32 - 1

// snapSplitMin is the file size from which readSnapshot parses the two halves of the file at
// once (touching the mapped pages is most of its cost).
var snapSplitMin = 4 << 20

// readSnapshot indexes data, a buntdb file last modified at modTime; keys with a TTL are
// judged against now as buntdb's loader judges them. The index points into data, which must
// not change afterwards.
func readSnapshot(data string, modTime, now time.Time) (*snapshot, error) {
	if int64(len(data)) > maxSnapshot {
		return nil, fmt.Errorf("%w: a %d-byte file is too large to read in place", ErrNeedsWrite, len(data))
	}
	s := &snapshot{data: data}
	p := newSnapParse(data, len(data), modTime, now)
	if len(data) >= snapSplitMin && runtime.GOMAXPROCS(0) > 1 {
		// Guess a command start near the middle; a second goroutine parses from there while
		// this one parses up to it. The guess holds if this parse stops exactly there.
		if mid := commandNear(data, len(data)/2); mid > 0 {
			q := newSnapParse(data, len(data)-mid, modTime, now)
			done := make(chan struct{})
			go func() {
				defer close(done)
				q.run(mid, len(data))
			}()
			p.run(0, mid)
			<-done
			if p.err == nil && p.torn == 0 && p.stop == mid {
				p.join(q)
			}
		}
	}
	// Unsplit, p.stop is 0; after a guess inside a value, where the first parse stopped.
	if p.err == nil && p.torn == 0 && p.stop < len(data) {
		p.run(p.stop, len(data))
	}
	if p.err != nil {
		return nil, p.err
	}
	s.torn = p.torn
	s.index(p.ops, p.sorted)
	for i := range s.ents {
		if at, ok := p.exps[s.ents[i].k]; ok {
			if s.exp == nil {
				s.exp = make(map[string]int64)
			}
			s.exp[s.key(i)] = at
		}
	}
	return s, nil
}

// commandNear returns the first offset at or after from where a set or del as buntdb writes
// them starts after a line end, within a MB, or -1.
func commandNear(data string, from int) int {
	end := min(len(data), from+1<<20)
	for i := from; i < end; {
		j := strings.Index(data[i:end], "\n*")
		if j < 0 {
			return -1
		}
		c := i + j + 1
		if strings.HasPrefix(data[c:], setHead) || strings.HasPrefix(data[c:], delHead) {
			return c
		}
		i = c
	}
	return -1
}

// snapParse is the parse of a stretch of a file: the ops of the commands that start in it.
type snapParse struct {
	data         string
	modTime, now time.Time
	ops          []snapOp
	sorted       int              // ops[:sorted] are in strictly increasing key order
	exps         map[uint32]int64 // expiry of the TTL'd sets, by key offset
	flushed      bool             // a flushdb: whatever came before the stretch is gone
	torn         int              // bytes of a command cut short at the end of the file
	stop         int              // the offset the parse stopped at
	err          error
}

func newSnapParse(data string, size int, modTime, now time.Time) *snapParse {
	return &snapParse{data: data, modTime: modTime, now: now, ops: make([]snapOp, 0, size/opGuess+16)}
}

func (p *snapParse) add(op snapOp) {
	if p.sorted == len(p.ops) && (p.sorted == 0 || p.key(&p.ops[p.sorted-1]) < p.key(&op)) {
		p.sorted++
	}
	p.ops = append(p.ops, op)
}

func (p *snapParse) key(o *snapOp) string { return p.data[o.k : o.k+o.kl] }

// join appends q, the parse of the stretch that follows p's.
func (p *snapParse) join(q *snapParse) {
	p.err, p.torn, p.stop = q.err, q.torn, q.stop
	if q.flushed {
		p.ops, p.sorted, p.exps = q.ops, q.sorted, q.exps
		return
	}
	if p.sorted == len(p.ops) && (len(p.ops) == 0 || len(q.ops) == 0 || p.key(&p.ops[len(p.ops)-1]) < p.key(&q.ops[0])) {
		p.sorted += q.sorted
	}
	p.ops = append(p.ops, q.ops...)
	for k, v := range q.exps {
		if p.exps == nil {
			p.exps = make(map[uint32]int64)
		}
		p.exps[k] = v
	}
}

// run parses the commands that start in [off, end); the last may end past end.
func (p *snapParse) run(off, end int) {
	data := p.data
	var parts [5]snapOp // k, kl of each part
	defer func() { p.stop = off }()
	for off < end {
		if data[off] == 0 {
			off++
			continue
		}
		start := off
		// The commands buntdb writes, read without the general path's checks of the verb.
		if fast := strings.HasPrefix(data[off:], setHead); fast || strings.HasPrefix(data[off:], delHead) {
			op, next, ok := fastOp(data, off+len(setHead), fast)
			if ok {
				p.add(op)
				off = next
				continue
			}
		}
		n, next, err := respLen(data, off, '*')
		if err != nil {
			if errors.Is(err, errShort) {
				p.torn, off = len(data)-start, len(data)
				return
			}
			p.err = err
			return
		}
		off = next
		np := 0
		short := false
		for i := 0; i < n; i++ {
			ln, next, err := respLen(data, off, '$')
			if err != nil {
				if errors.Is(err, errShort) {
					short = true
					break
				}
				p.err = err
				return
			}
			if ln > len(data)-next-2 {
				short = true
				break
			}
			if data[next+ln] != '\r' || data[next+ln+1] != '\n' {
				p.err = snapInvalid(next+ln, "value not followed by CRLF")
				return
			}
			if np < len(parts) {
				parts[np] = snapOp{k: uint32(next), kl: uint32(ln)}
			}
			np++
			off = next + ln + 2
		}
		if short {
			p.torn, off = len(data)-start, len(data)
			return
		}
		if np == 0 {
			continue
		}
		if p.err = p.command(start, parts[:min(np, len(parts))], np); p.err != nil {
			return
		}
	}
}

// command applies one command of np parts (the first five in parts) that starts at start.
func (p *snapParse) command(start int, parts []snapOp, np int) error {
	part := func(i int) string { return p.key(&parts[i]) }
	cmd := part(0)
	switch {
	case len(cmd) >= 3 && strings.EqualFold(cmd[:3], "set"):
		if np < 3 || np == 4 || np > 5 {
			return snapInvalid(start, "set with "+strconv.Itoa(np)+" parts")
		}
		op := snapOp{k: parts[1].k, kl: parts[1].kl, v: parts[2].k, vl: parts[2].kl}
		if np == 5 {
			arg := strings.ToLower(part(3))
			if arg != "ex" && arg != "ae" {
				return snapInvalid(start, "set option "+strconv.Quote(part(3)))
			}
			ex, err := strconv.ParseInt(part(4), 10, 64)
			if err != nil {
				return fmt.Errorf("%w: ttl at byte %d: %w", buntdb.ErrInvalid, start, err)
			}
			var exat time.Time
			if arg == "ex" {
				exat = p.modTime.Add(time.Duration(ex) * time.Second)
			} else {
				exat = time.Unix(ex, 0)
			}
			if exat.After(p.now) {
				if p.exps == nil {
					p.exps = make(map[uint32]int64)
				}
				p.exps[op.k] = exat.UnixNano()
			} else {
				op.vl = snapDel
			}
		}
		p.add(op)
	case len(cmd) >= 3 && strings.EqualFold(cmd[:3], "del"):
		if np != 2 {
			return snapInvalid(start, "del with "+strconv.Itoa(np)+" parts")
		}
		p.add(snapOp{k: parts[1].k, kl: parts[1].kl, vl: snapDel})
	case strings.EqualFold(cmd, "flushdb"):
		p.ops, p.sorted, p.flushed = p.ops[:0], 0, true
	default:
		return snapInvalid(start, "command "+strconv.Quote(cmd))
	}
	return nil
}

func (s *snapshot) key(i int) string {
	e := &s.ents[i]
	return s.data[e.k : e.k+e.kl]
}

func (s *snapshot) val(i int) string {
	e := &s.ents[i]
	return s.data[e.v : e.v+e.vl]
}

func (s *snapshot) opKey(o *snapOp) string { return s.data[o.k : o.k+o.kl] }

// index orders ops by key and keeps each key's last op, if it is a set. ops[:sorted] is in
// strictly increasing key order (a compacted file is, with later writes appended): only the
// rest is sorted, then merged in, each of its keys found in the sorted part by galloping, so
// that a short tail costs a few comparisons, not one per key.
func (s *snapshot) index(ops []snapOp, sorted int) {
	head, tail := ops[:sorted], ops[sorted:]
	if len(tail) == 0 { // in key order already: drop the dels in place
		out := ops[:0]
		for _, o := range ops {
			if o.vl != snapDel {
				out = append(out, o)
			}
		}
		s.ents = out
		return
	}
	// Ties by offset: file order, so the last op on a key is the last of its run.
	slices.SortFunc(tail, func(a, b snapOp) int {
		if c := strings.Compare(s.opKey(&a), s.opKey(&b)); c != 0 {
			return c
		}
		return cmp.Compare(a.k, b.k)
	})
	out := make([]snapOp, 0, len(ops))
	keep := func(os []snapOp) {
		for _, o := range os {
			if o.vl != snapDel {
				out = append(out, o)
			}
		}
	}
	lo := 0
	for j := range tail {
		t := &tail[j]
		tk := s.opKey(t)
		if j+1 < len(tail) && s.opKey(&tail[j+1]) == tk {
			continue // a later op on the key follows
		}
		pos := s.gallop(head, lo, tk)
		keep(head[lo:pos])
		lo = pos
		if lo < len(head) && s.opKey(&head[lo]) == tk {
			lo++ // replaced by the later op
		}
		keep(tail[j : j+1])
	}
	keep(head[lo:])
	s.ents = out
}

// gallop returns the index of the first op of head[lo:] whose key is not below k.
func (s *snapshot) gallop(head []snapOp, lo int, k string) int {
	bound := 1
	for lo+bound <= len(head) && s.opKey(&head[lo+bound-1]) < k {
		bound *= 2
	}
	start, end := lo+bound/2, min(lo+bound, len(head))
	return start + sort.Search(end-start, func(i int) bool { return s.opKey(&head[start+i]) >= k })
}

// fastOp reads the key (and, for a set, the value) of a set or del whose head ends at off.
// Anything unusual (a torn or invalid part) is left to the general path: ok is false.
func fastOp(data string, off int, set bool) (snapOp, int, bool) {
	var op snapOp
	for i := range 2 {
		if i == 1 && !set {
			op.vl = snapDel
			break
		}
		ln, next, err := respLen(data, off, '$')
		if err != nil || ln > len(data)-next-2 || data[next+ln] != '\r' || data[next+ln+1] != '\n' {
			return op, 0, false
		}
		if i == 0 {
			op.k, op.kl = uint32(next), uint32(ln)
		} else {
			op.v, op.vl = uint32(next), uint32(ln)
		}
		off = next + ln + 2
	}
	return op, off, true
}

var errShort = errors.New("command cut short")

// respLen reads "<c><decimal>\r\n" at off and returns the number and the offset after it.
func respLen(data string, off int, c byte) (int, int, error) {
	nl := strings.IndexByte(data[off:], '\n')
	if nl < 0 {
		return 0, 0, errShort
	}
	line := data[off : off+nl+1]
	if line[0] != c {
		return 0, 0, snapInvalid(off, "want "+strconv.QuoteRune(rune(c)))
	}
	if len(line) < 4 || line[len(line)-2] != '\r' {
		return 0, 0, snapInvalid(off, "bad length line")
	}
	n := 0
	for i := 1; i < len(line)-2; i++ {
		d := line[i]
		if d < '0' || d > '9' {
			return 0, 0, snapInvalid(off, "bad length")
		}
		n = n*10 + int(d-'0')
		if n > len(data) {
			return 0, 0, errShort // longer than the file: cut short, as buntdb's ReadFull finds
		}
	}
	return n, off + nl + 1, nil
}

func (s *snapshot) live(i int) bool {
	if len(s.exp) == 0 {
		return true
	}
	at, ok := s.exp[s.key(i)]
	return !ok || time.Now().UnixNano() < at
}

// lowerBound is the index of the first key ≥ k.
func (s *snapshot) lowerBound(k string) int {
	lo, hi := 0, len(s.ents)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.key(m) < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (s *snapshot) Get(key string, ignoreExpired ...bool) (string, error) {
	i := s.lowerBound(key)
	if i == len(s.ents) || s.key(i) != key || !(s.live(i) || len(ignoreExpired) > 0 && ignoreExpired[0]) {
		return "", buntdb.ErrNotFound
	}
	return s.val(i), nil
}

func (s *snapshot) Set(string, string, *buntdb.SetOptions) (string, bool, error) {
	return "", false, buntdb.ErrTxNotWritable
}

func (s *snapshot) Delete(string) (string, error) { return "", buntdb.ErrTxNotWritable }

func (s *snapshot) ascendFrom(i int, lt string, fn func(k, v string) bool) error {
	for ; i < len(s.ents); i++ {
		k := s.key(i)
		if lt != "" && k >= lt {
			break
		}
		if s.live(i) && !fn(k, s.val(i)) {
			break
		}
	}
	return nil
}

func (s *snapshot) Ascend(index string, fn func(k, v string) bool) error {
	if index != "" {
		return buntdb.ErrNotFound // no indexes: the schema has none
	}
	return s.ascendFrom(0, "", fn)
}

func (s *snapshot) AscendRange(index, ge, lt string, fn func(k, v string) bool) error {
	if index != "" {
		return buntdb.ErrNotFound
	}
	if lt <= ge {
		return nil
	}
	return s.ascendFrom(s.lowerBound(ge), lt, fn)
}

func (s *snapshot) Len() (int, error) { return len(s.ents), nil }
