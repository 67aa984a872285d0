package collector

import (
	"net/netip"
	"sync"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
)

// Batch is a group of received frames stored back to back in one buffer, so that a datagram
// is copied once and never aliased by the socket's next read. A Batch is owned by one
// goroutine at a time: the receiver fills it, hands it over a channel, and the consumer returns
// it with Release.
type Batch struct {
	buf    []byte
	frames []frame
	evs    []ciscolog.Event // the frames parsed by the Pipeline; their strings alias buf
	pool   *batchPool
}

type frame struct {
	off, n int32
	src    netip.Addr
}

// Len is the number of frames in the batch.
func (b *Batch) Len() int { return len(b.frames) }

// Frame returns frame i and the address it came from. The bytes are valid until Release.
func (b *Batch) Frame(i int) ([]byte, netip.Addr) {
	f := b.frames[i]
	return b.buf[f.off : f.off+f.n], f.src
}

// add copies p into the batch.
func (b *Batch) add(p []byte, src netip.Addr) {
	off := len(b.buf)
	b.buf = append(b.buf, p...)
	b.frames = append(b.frames, frame{off: int32(off), n: int32(len(p)), src: src})
}

// full reports whether another frame of up to max bytes might not fit without growing.
func (b *Batch) full(max int) bool {
	return len(b.frames) >= batchFrames || cap(b.buf)-len(b.buf) < max
}

// Release returns the batch to its pool; it must not be used afterwards.
func (b *Batch) Release() {
	if b.pool != nil {
		b.pool.put(b)
	}
}

const (
	batchFrames = 512
	batchBytes  = 256 << 10
)

type batchPool struct{ p sync.Pool }

func newBatchPool() *batchPool {
	bp := &batchPool{}
	bp.p.New = func() any {
		return &Batch{buf: make([]byte, 0, batchBytes), frames: make([]frame, 0, batchFrames), pool: bp}
	}
	return bp
}

func (bp *batchPool) get() *Batch { return bp.p.Get().(*Batch) }

func (bp *batchPool) put(b *Batch) {
	b.buf = b.buf[:0]
	b.frames = b.frames[:0]
	bp.p.Put(b)
}
