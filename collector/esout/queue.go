package esout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Queue is the bounded on-disk queue between the collector and a cluster: append-only segment
// files in one folder and a cursor file naming the first record not yet acknowledged.
//
// Contract: a record appended (Append returned) survives the process being killed (it is in
// the kernel's page cache; a segment is synced when the next one starts and on Close); it is handed
// out by Read until Ack covers it, so delivery is at least once. When the queue holds more
// than its bound, whole segments are dropped from the oldest end and their unacknowledged
// records counted in Dropped: Append never waits for the reader. Safe for one appender and
// one reader on different goroutines.
//
// A record is [4 length][4 CRC-32C][8 enqueue unix nanos][1 stream][1 id length][id][doc]; a
// torn record at the end of the newest segment (a crash mid-write) is cut off at Open.
type Queue struct {
	dir     string
	max     int64
	segSize int64

	mu      sync.Mutex
	segs    []*segment // oldest first; the last is the one appended to
	w       *os.File   // the last segment, open for appending
	cursor  Pos        // first unacknowledged record
	queued  int64      // records after the cursor
	bytes   int64      // bytes of every segment
	dropped int64
	notify  chan struct{} // has a value when something was appended since the reader looked
	acked   chan struct{} // has a value when the cursor moved since Acked was last drained
	closed  bool
}

type segment struct {
	seq   uint64
	size  int64
	count int64 // records in it
	first int64 // records before the cursor, when the cursor is in it (for drop counts)
}

// Pos is a place in the queue: a segment and a byte offset in it.
type Pos struct {
	Seg uint64
	Off int64
}

// Record is one document for the cluster.
type Record struct {
	Stream Stream
	ID     string
	Doc    []byte
	At     time.Time // when it was queued
}

// Stream says which data stream a record goes to.
type Stream uint8

// The data streams an output writes.
const (
	StreamASA Stream = iota
	StreamIOS
	StreamFindings
	StreamProposals
	numStreams
)

const recHeader = 4 + 4 + 8 + 1 + 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendRecord appends r's encoding to dst (for building a block to Append at once).
func AppendRecord(dst []byte, stream Stream, id string, at time.Time, doc []byte) []byte {
	return appendRecord(dst, stream, id, at, doc)
}

func appendRecord[ID string | []byte](dst []byte, stream Stream, id ID, at time.Time, doc []byte) []byte {
	n := 8 + 1 + 1 + len(id) + len(doc)
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(at.UnixNano()))
	dst = append(dst, byte(stream), byte(len(id)))
	dst = append(dst, id...)
	dst = append(dst, doc...)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+8:], castagnoli))
	return dst
}

// ErrClosed is returned by a closed queue.
var ErrClosed = errors.New("esout: queue closed")

// OpenQueue opens (or creates) the queue in dir, bounded to maxBytes.
func OpenQueue(dir string, maxBytes int64) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("esout queue: %w", err)
	}
	q := &Queue{dir: dir, max: maxBytes, segSize: min(max(maxBytes/16, 64<<10), 64<<20), notify: make(chan struct{}, 1), acked: make(chan struct{}, 1)}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("esout queue: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".seg")
		if !ok {
			continue
		}
		seq, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		q.segs = append(q.segs, &segment{seq: seq})
	}
	slices.SortFunc(q.segs, func(a, b *segment) int { return int(a.seq - b.seq) })
	if b, err := os.ReadFile(filepath.Join(dir, "cursor")); err == nil && len(b) == 16 {
		q.cursor = Pos{Seg: binary.LittleEndian.Uint64(b), Off: int64(binary.LittleEndian.Uint64(b[8:]))}
	}
	for i, s := range q.segs {
		last := i == len(q.segs)-1
		if err := q.scan(s, last); err != nil {
			return nil, err
		}
		q.bytes += s.size
	}
	if len(q.segs) == 0 || q.cursor.Seg < q.segs[0].seq {
		q.cursor = Pos{}
		if len(q.segs) > 0 {
			q.cursor.Seg = q.segs[0].seq
		}
	}
	for _, s := range q.segs {
		switch {
		case s.seq < q.cursor.Seg:
			s.first = s.count
		case s.seq == q.cursor.Seg:
			// s.first was set by scan
		}
		q.queued += s.count - s.first
	}
	if len(q.segs) == 0 {
		q.segs = append(q.segs, &segment{seq: max(1, q.cursor.Seg)})
		q.cursor = Pos{Seg: q.segs[0].seq}
	}
	last := q.segs[len(q.segs)-1]
	if q.w, err = os.OpenFile(q.segPath(last.seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640); err != nil {
		return nil, fmt.Errorf("esout queue: %w", err)
	}
	q.gcLocked()
	return q, nil
}

func (q *Queue) segPath(seq uint64) string {
	return filepath.Join(q.dir, fmt.Sprintf("%016d.seg", seq))
}

// scan counts a segment's records (and those before the cursor) and cuts a torn tail off the
// newest one. A damaged record elsewhere ends that segment there.
func (q *Queue) scan(s *segment, newest bool) error {
	b, err := os.ReadFile(q.segPath(s.seq))
	if err != nil {
		return fmt.Errorf("esout queue: %w", err)
	}
	off := 0
	for {
		if s.seq == q.cursor.Seg && int64(off) <= q.cursor.Off {
			s.first = s.count
		}
		n, ok := validRecord(b[off:])
		if !ok {
			break
		}
		off += n
		s.count++
	}
	if s.seq == q.cursor.Seg && q.cursor.Off > int64(off) {
		q.cursor.Off = int64(off)
	}
	s.size = int64(off)
	if newest && off < len(b) {
		if err := os.Truncate(q.segPath(s.seq), int64(off)); err != nil {
			return fmt.Errorf("esout queue: cut torn record: %w", err)
		}
	}
	return nil
}

func validRecord(b []byte) (int, bool) {
	if len(b) < recHeader {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < recHeader-8 || len(b) < 8+n {
		return 0, false
	}
	if crc32.Checksum(b[8:8+n], castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return 0, false
	}
	if idn := int(b[17]); 10+idn > n {
		return 0, false
	}
	return 8 + n, true
}

// Append writes a block of records built with AppendRecord (n of them) in one write. It
// drops the oldest segments when the queue is over its bound.
func (q *Queue) Append(block []byte, n int) error {
	if n == 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	last := q.segs[len(q.segs)-1]
	if last.size > 0 && last.size+int64(len(block)) > q.segSize {
		if err := q.rotateLocked(); err != nil {
			return err
		}
		last = q.segs[len(q.segs)-1]
	}
	if _, err := q.w.Write(block); err != nil {
		// A short write leaves a torn record: cut it so the segment stays readable.
		_ = q.w.Truncate(last.size)
		return fmt.Errorf("esout queue: append: %w", err)
	}
	last.size += int64(len(block))
	last.count += int64(n)
	q.bytes += int64(len(block))
	q.queued += int64(n)
	q.gcLocked()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return nil
}

func (q *Queue) rotateLocked() error {
	last := q.segs[len(q.segs)-1]
	if err := q.w.Sync(); err != nil {
		return fmt.Errorf("esout queue: %w", err)
	}
	q.w.Close()
	s := &segment{seq: last.seq + 1}
	w, err := os.OpenFile(q.segPath(s.seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("esout queue: %w", err)
	}
	q.w = w
	q.segs = append(q.segs, s)
	return nil
}

// gcLocked removes segments the cursor has passed, and the oldest ones while over the bound
// (counting what they still held as dropped). The newest segment is never removed.
func (q *Queue) gcLocked() {
	for len(q.segs) > 1 {
		s := q.segs[0]
		switch {
		case s.seq < q.cursor.Seg:
		case q.bytes > q.max:
			q.dropped += s.count - s.first
			q.queued -= s.count - s.first
			q.cursor = Pos{Seg: q.segs[1].seq}
			q.segs[1].first = 0
		default:
			return
		}
		os.Remove(q.segPath(s.seq))
		q.bytes -= s.size
		q.segs = q.segs[1:]
	}
}

// Acked has a value when the cursor moved since it was last drained.
func (q *Queue) Acked() <-chan struct{} { return q.acked }

// Notify has a value when records were appended since it was last drained.
func (q *Queue) Notify() <-chan struct{} { return q.notify }

// Read returns records from the cursor on, up to about maxBytes of documents (at least one
// record when any is queued), and the position after them for Ack. It reads at most one
// segment at a time.
func (q *Queue) Read(from Pos, maxBytes int) ([]Record, Pos, error) {
	recs, next, _, err := q.ReadBuf(from, maxBytes, nil, nil)
	return recs, next, err
}

// ReadBuf is Read into buf and recs (reused when large enough, so a sender reading batch
// after batch neither allocates nor clears megabytes each time). The records' documents
// point into the returned buffer: they are valid until it is reused.
func (q *Queue) ReadBuf(from Pos, maxBytes int, buf []byte, recs []Record) ([]Record, Pos, []byte, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil, from, buf, ErrClosed
	}
	if from.Seg < q.cursor.Seg || (from.Seg == q.cursor.Seg && from.Off < q.cursor.Off) {
		from = q.cursor // the records were dropped meanwhile
	}
	var size int64 = -1
	next := uint64(0)
	for i, s := range q.segs {
		if s.seq == from.Seg {
			size = s.size
			if i+1 < len(q.segs) {
				next = q.segs[i+1].seq
			}
		} else if s.seq > from.Seg && size < 0 {
			from, size = Pos{Seg: s.seq}, s.size
			if i+1 < len(q.segs) {
				next = q.segs[i+1].seq
			}
		}
	}
	q.mu.Unlock()
	if size < 0 || (from.Off >= size && next == 0) {
		return recs[:0], from, buf, nil
	}
	if from.Off >= size {
		return q.ReadBuf(Pos{Seg: next}, maxBytes, buf, recs)
	}
	f, err := os.Open(q.segPath(from.Seg))
	if errors.Is(err, os.ErrNotExist) {
		return q.ReadBuf(Pos{Seg: from.Seg + 1}, maxBytes, buf, recs) // dropped while we looked
	}
	if err != nil {
		return nil, from, buf, fmt.Errorf("esout queue: %w", err)
	}
	defer f.Close()
	want := min(size-from.Off, int64(maxBytes)+64<<10)
	buf = slices.Grow(buf[:0], int(want))[:want]
	n, err := f.ReadAt(buf, from.Off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, from, buf, fmt.Errorf("esout queue: read: %w", err)
	}
	buf = buf[:n]
	recs = recs[:0]
	off, docs := 0, 0
	for docs < maxBytes || len(recs) == 0 {
		m, ok := validRecord(buf[off:])
		if !ok {
			if len(recs) == 0 && int64(off) < want {
				// A record larger than what was read: read exactly it.
				if len(buf[off:]) >= 4 {
					need := 8 + int(binary.LittleEndian.Uint32(buf[off:]))
					if int64(need) <= size-from.Off {
						buf = slices.Grow(buf[:0], need)[:need]
						if _, err := f.ReadAt(buf, from.Off); err == nil {
							if m, ok = validRecord(buf); ok {
								off = 0
							}
						}
					}
				}
				if !ok {
					return nil, from, buf, fmt.Errorf("esout queue: damaged record in %s at %d", q.segPath(from.Seg), from.Off)
				}
			} else {
				break
			}
		}
		r := buf[off : off+m]
		idn := int(r[17])
		recs = append(recs, Record{
			At:     time.Unix(0, int64(binary.LittleEndian.Uint64(r[8:]))),
			Stream: Stream(r[16]), ID: string(r[18 : 18+idn]), Doc: r[18+idn:],
		})
		docs += m
		off += m
		if off >= len(buf) {
			break
		}
	}
	return recs, Pos{Seg: from.Seg, Off: from.Off + int64(off)}, buf, nil
}

// Ack records that everything before p has been delivered: the cursor file is rewritten
// (written, then renamed over the old one) and passed segments removed.
func (q *Queue) Ack(p Pos, n int) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	if p.Seg < q.cursor.Seg || (p.Seg == q.cursor.Seg && p.Off <= q.cursor.Off) {
		return nil // dropped meanwhile
	}
	// No fsync here: a cursor lost with the page cache (power loss) only means records sent
	// again, which the cluster drops by id; segments are synced at rotation and Close.
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], p.Seg)
	binary.LittleEndian.PutUint64(b[8:], uint64(p.Off))
	tmp := filepath.Join(q.dir, "cursor.tmp")
	if err := os.WriteFile(tmp, b[:], 0o640); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(q.dir, "cursor")); err != nil {
		return fmt.Errorf("esout queue: %w", err)
	}
	// Read hands out one segment's records per batch, so the n records lie in p's segment,
	// after the old cursor when it was there too, else from the segment's start.
	for _, s := range q.segs {
		switch {
		case s.seq < p.Seg:
			s.first = s.count
		case s.seq == p.Seg:
			if q.cursor.Seg != p.Seg {
				s.first = 0
			}
			s.first = min(s.count, s.first+int64(n))
		}
	}
	q.cursor = p
	q.queued = 0
	for _, s := range q.segs {
		q.queued += s.count - s.first
	}
	q.gcLocked()
	select {
	case q.acked <- struct{}{}:
	default:
	}
	return nil
}

// QueueStats are the queue's counters.
type QueueStats struct {
	Queued, Dropped, Bytes int64
}

// Stats returns the queue's counters.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return QueueStats{Queued: q.queued, Dropped: q.dropped, Bytes: q.bytes}
}

// Cursor is the first unacknowledged position.
func (q *Queue) Cursor() Pos {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.cursor
}

// Close syncs and closes the queue.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	err := q.w.Sync()
	if cerr := q.w.Close(); err == nil {
		err = cerr
	}
	return err
}
