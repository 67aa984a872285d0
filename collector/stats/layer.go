package stats

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/buntdb"
)

// A layer is what has been written over a snapshot (OpenAppend): keys set or deleted since
// the file was mapped, sorted, read before the snapshot. Its writes, as one transaction, are
// encoded as buntdb encodes a commit (layerTx.commands) and appended to the file, so the
// next buntdb.Open reads them as its own.

type layerEnt struct {
	k, v string
	del  bool
	exat int64 // unix nanoseconds; 0: no TTL
}

type layer struct {
	under kvTx
	ents  []layerEnt // sorted by key, unique
}

var _ kvTx = (*layer)(nil)

func (l *layer) find(k string) (int, bool) {
	return slices.BinarySearchFunc(l.ents, k, func(e layerEnt, k string) int { return strings.Compare(e.k, k) })
}

func (e *layerEnt) live() bool { return !e.del && (e.exat == 0 || time.Now().UnixNano() < e.exat) }

func (l *layer) Get(key string, ignoreExpired ...bool) (string, error) {
	if i, ok := l.find(key); ok {
		e := &l.ents[i]
		if e.del || !e.live() && !(len(ignoreExpired) > 0 && ignoreExpired[0]) {
			return "", buntdb.ErrNotFound
		}
		return e.v, nil
	}
	return l.under.Get(key, ignoreExpired...)
}

func (l *layer) Set(string, string, *buntdb.SetOptions) (string, bool, error) {
	return "", false, buntdb.ErrTxNotWritable
}

func (l *layer) Delete(string) (string, error) { return "", buntdb.ErrTxNotWritable }

func (l *layer) Ascend(index string, fn func(k, v string) bool) error {
	return l.scan(index, "", "", false, fn)
}

func (l *layer) AscendRange(index, ge, lt string, fn func(k, v string) bool) error {
	if lt <= ge {
		return nil
	}
	return l.scan(index, ge, lt, true, fn)
}

// scan merges the layer's keys in [ge, lt) into the keys below: a key of the layer replaces
// (or, deleted, hides) the same key below.
func (l *layer) scan(index, ge, lt string, bounded bool, fn func(k, v string) bool) error {
	if index != "" {
		return buntdb.ErrNotFound
	}
	i, _ := l.find(ge)
	inRange := func(i int) bool { return i < len(l.ents) && (!bounded || l.ents[i].k < lt) }
	stopped := false
	emit := func(e *layerEnt) bool {
		if e.live() && !fn(e.k, e.v) {
			stopped = true
		}
		return !stopped
	}
	below := func(k, v string) bool {
		for inRange(i) && l.ents[i].k < k {
			if !emit(&l.ents[i]) {
				return false
			}
			i++
		}
		if inRange(i) && l.ents[i].k == k {
			e := &l.ents[i]
			i++
			return emit(e)
		}
		if !fn(k, v) {
			stopped = true
		}
		return !stopped
	}
	var err error
	if bounded {
		err = l.under.AscendRange("", ge, lt, below)
	} else {
		err = l.under.Ascend("", below)
	}
	for !stopped && inRange(i) {
		emit(&l.ents[i])
		i++
	}
	return err
}

func (l *layer) Len() (int, error) {
	n, err := l.under.Len()
	for i := range l.ents {
		e := &l.ents[i]
		_, gerr := l.under.Get(e.k, true)
		had := gerr == nil
		switch {
		case had && e.del:
			n--
		case !had && !e.del:
			n++
		}
	}
	return n, err
}

// put sets or deletes e.k in the layer.
func (l *layer) put(e layerEnt) {
	i, ok := l.find(e.k)
	if ok {
		l.ents[i] = e
		return
	}
	l.ents = slices.Insert(l.ents, i, e)
}

// layerTx is a read-write transaction over a layer: its writes go to a layer of its own over
// the store's, and to the commands that commit them.
type layerTx struct {
	layer
	cmds []byte
}

func newLayerTx(under kvTx) *layerTx { return &layerTx{layer: layer{under: under}} }

func (t *layerTx) Set(key, value string, opts *buntdb.SetOptions) (string, bool, error) {
	prev, err := t.Get(key)
	e := layerEnt{k: key, v: value}
	if opts != nil && opts.Expires {
		// As buntdb writes a TTL: the whole seconds left, from now.
		secs := int64(opts.TTL / time.Second)
		e.exat = time.Now().Add(opts.TTL).UnixNano()
		t.cmds = appendCommand(t.cmds, "set", key, value, "ex", strconv.FormatInt(secs, 10))
	} else {
		t.cmds = appendCommand(t.cmds, "set", key, value)
	}
	t.put(e)
	return prev, err == nil, nil
}

func (t *layerTx) Delete(key string) (string, error) {
	prev, err := t.Get(key)
	if err != nil {
		return "", err // buntdb: ErrNotFound for a key that is absent or expired
	}
	t.cmds = appendCommand(t.cmds, "del", key)
	t.put(layerEnt{k: key, del: true})
	return prev, nil
}

// appendCommand appends a RESP array of bulk strings, as buntdb writes its file.
func appendCommand(b []byte, parts ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(parts)), 10)
	b = append(b, '\r', '\n')
	for _, p := range parts {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, '\r', '\n')
		b = append(b, p...)
		b = append(b, '\r', '\n')
	}
	return b
}
