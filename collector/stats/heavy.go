package stats

// spaceSaving keeps the k heaviest keys of a weighted stream (Metwally, Agrawal, El Abbadi,
// "Efficient computation of frequent and top-k elements in data streams", 2005). When it is
// full, a new key takes the place of the lightest one and inherits that weight as its error.
// With W the total weight added:
//   - every key whose true weight is more than W/k is kept (it cannot be the lightest);
//   - the lightest kept weight, and so every error, is at most W/k;
//   - a kept key's weight is its true weight plus at most its error.
//
// The aggregator uses it to decide which keys of one hour keep their own counters (peers of
// a host by bytes, terms of a field by documents): forged lines with many small distinct
// keys then evict each other, not the heavy hitter. A min-heap over the weights makes each
// update O(log k); memory is O(k).
type spaceSaving struct {
	k    int
	idx  map[uint64]int32 // key -> slot, once it holds more than ssLinear keys
	e    []ssSlot
	heap []int32 // slots, lightest first
}

// ssSlot is one kept key: its weight (true weight since admission + err), the weight it
// inherited and its place in the heap.
type ssSlot struct {
	key, w, err uint64
	pos         int32
}

// ssLinear: up to this many keys (most hosts' peers in an hour) a scan of the slots finds a
// key faster than a map, and the summary costs no map.
const ssLinear = 16

func newSpaceSaving(k int) *spaceSaving {
	k = max(k, 1)
	n := min(k, 4)
	return &spaceSaving{k: k, e: make([]ssSlot, 0, n), heap: make([]int32, 0, n)}
}

func (s *spaceSaving) find(key uint64) (int32, bool) {
	if s.idx != nil {
		i, ok := s.idx[key]
		return i, ok
	}
	for i := range s.e {
		if s.e[i].key == key {
			return int32(i), true
		}
	}
	return 0, false
}

// add adds weight to key. It reports the key that lost its place to key, if any.
func (s *spaceSaving) add(key, weight uint64) (evicted uint64, didEvict bool) {
	if i, ok := s.find(key); ok {
		s.e[i].w += weight
		s.down(int(s.e[i].pos))
		return 0, false
	}
	if len(s.e) < s.k {
		i := int32(len(s.e))
		s.e = append(s.e, ssSlot{key: key, w: weight, pos: int32(len(s.heap))})
		s.heap = append(s.heap, i)
		switch {
		case s.idx != nil:
			s.idx[key] = i
		case len(s.e) > ssLinear:
			s.idx = make(map[uint64]int32, 2*len(s.e))
			for j := range s.e {
				s.idx[s.e[j].key] = int32(j)
			}
		}
		s.up(len(s.heap) - 1)
		return 0, false
	}
	i := s.heap[0]
	e := &s.e[i]
	evicted = e.key
	if s.idx != nil {
		delete(s.idx, evicted)
		s.idx[key] = i
	}
	e.key, e.err = key, e.w
	e.w += weight
	s.down(0)
	return evicted, true
}

// has reports whether key is kept.
func (s *spaceSaving) has(key uint64) bool { _, ok := s.find(key); return ok }

func (s *spaceSaving) less(a, b int) bool { return s.e[s.heap[a]].w < s.e[s.heap[b]].w }

func (s *spaceSaving) swap(a, b int) {
	s.heap[a], s.heap[b] = s.heap[b], s.heap[a]
	s.e[s.heap[a]].pos, s.e[s.heap[b]].pos = int32(a), int32(b)
}

func (s *spaceSaving) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !s.less(j, p) {
			return
		}
		s.swap(j, p)
		j = p
	}
}

func (s *spaceSaving) down(j int) {
	n := len(s.heap)
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && s.less(r, l) {
			c = r
		}
		if !s.less(c, j) {
			return
		}
		s.swap(j, c)
		j = c
	}
}
