package collector

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/klauspost/compress/gzip"
)

// gzipMagic starts every gzip member (ID1, ID2, CM=deflate).
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// memberReader decompresses a gzip stream member by member and survives damage: a member that
// ends early (a crash while it was written) or breaks (another member appended after a cut
// one) is read up to its last whole line, counted in damaged, and reading goes on at the next
// member header after it. Lines are never returned cut: a member's bytes after its last
// newline wait until the member ends cleanly.
type memberReader struct {
	src     *trackingReader
	zr      gzip.Reader
	open    bool  // inside a member
	start   int64 // offset of the current member's header
	chunk   []byte
	out     []byte // decoded and returnable
	carry   []byte // decoded after the last newline, held back
	eof     bool
	damaged int
}

func newMemberReader(r *bufio.Reader) *memberReader {
	return &memberReader{src: &trackingReader{r: r}, chunk: make([]byte, 64<<10)}
}

func (m *memberReader) Read(p []byte) (int, error) {
	for len(m.out) == 0 {
		if m.eof {
			return 0, io.EOF
		}
		m.fill()
	}
	n := copy(p, m.out)
	m.out = m.out[n:]
	return n, nil
}

func (m *memberReader) fill() {
	m.out = m.out[:0]
	if !m.open {
		m.start = m.src.n
		if err := m.zr.Reset(m.src); err != nil {
			if errors.Is(err, io.EOF) && m.src.n == m.start {
				m.eof = true // the end, between members
				return
			}
			m.fail()
			return
		}
		m.zr.Multistream(false)
		m.open = true
	}
	n, err := m.zr.Read(m.chunk)
	data := m.chunk[:n]
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		m.out = append(append(m.out, m.carry...), data[:i+1]...)
		m.carry = append(m.carry[:0], data[i+1:]...)
	} else {
		m.carry = append(m.carry, data...)
	}
	switch {
	case errors.Is(err, io.EOF): // the member ended cleanly
		m.out = append(m.out, m.carry...)
		m.carry = m.carry[:0]
		m.open = false
	case err != nil:
		m.fail()
	}
}

// fail drops the damaged member's partial line and moves to the next member header.
func (m *memberReader) fail() {
	m.carry = m.carry[:0]
	m.open = false
	m.damaged++
	if !m.src.resync(m.start + 1) {
		m.eof = true
	}
}

// trackingReader is the compressed stream as the decompressor reads it (byte by byte, so it
// never reads ahead): it counts the bytes consumed and keeps the last window of them, so that
// a member header the decompressor ran into can be found again.
type trackingReader struct {
	r      *bufio.Reader
	n      int64 // bytes consumed
	win    [64 << 10]byte
	replay []byte // consumed bytes to be read again (after a resync), before r
}

func (t *trackingReader) record(c byte) {
	t.win[t.n%int64(len(t.win))] = c
	t.n++
}

func (t *trackingReader) ReadByte() (byte, error) {
	if len(t.replay) > 0 {
		c := t.replay[0]
		t.replay = t.replay[1:]
		t.record(c)
		return c, nil
	}
	c, err := t.r.ReadByte()
	if err != nil {
		return 0, err
	}
	t.record(c)
	return c, nil
}

func (t *trackingReader) Read(p []byte) (int, error) {
	var n int
	var err error
	if len(t.replay) > 0 {
		n = copy(p, t.replay)
		t.replay = t.replay[n:]
	} else {
		n, err = t.r.Read(p)
	}
	for _, c := range p[:n] {
		t.record(c)
	}
	return n, err
}

// resync positions the stream at the next gzip header starting at or after offset from. The
// decompressor usually fails just past the header that follows a cut member, so the window is
// searched first, for the last header in it; then the unread stream. It reports false at the
// end of the stream.
func (t *trackingReader) resync(from int64) bool {
	lo := max(from, t.n-int64(len(t.win)), 0)
	var lin []byte
	for o := lo; o < t.n; o++ {
		lin = append(lin, t.win[o%int64(len(t.win))])
	}
	consumed := len(lin)
	ahead := t.replay
	if len(ahead) < 2 {
		b, _ := t.r.Peek(2 - len(ahead))
		ahead = append(append([]byte(nil), ahead...), b...)
	}
	lin = append(lin, ahead[:min(len(ahead), 2)]...)
	for i := consumed - 1; i >= 0; i-- {
		if bytes.HasPrefix(lin[i:], gzipMagic) {
			t.replay = append(append([]byte(nil), lin[i:consumed]...), t.replay...)
			t.n = lo + int64(i)
			return true
		}
	}
	// Forward, through what has not been read yet.
	for {
		c, err := t.peek(3)
		if bytes.Equal(c, gzipMagic) {
			return true
		}
		if len(c) < 3 || err != nil {
			return false
		}
		if _, err := t.ReadByte(); err != nil {
			return false
		}
	}
}

// peek returns the next k bytes (fewer at the end) without consuming them.
func (t *trackingReader) peek(k int) ([]byte, error) {
	if len(t.replay) >= k {
		return t.replay[:k], nil
	}
	b, err := t.r.Peek(k - len(t.replay))
	return append(append([]byte(nil), t.replay...), b...), err
}
