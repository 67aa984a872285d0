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
	idx  map[uint64]int32 // key -> slot
	key  []uint64         // slot -> key
	w    []uint64         // slot -> weight (true weight since admission + err)
	err  []uint64         // slot -> inherited weight
	heap []int32          // slots, lightest first
	pos  []int32          // slot -> index in heap
}

func newSpaceSaving(k int) *spaceSaving {
	return &spaceSaving{k: max(k, 1), idx: make(map[uint64]int32)}
}

// add adds weight to key. It reports the key that lost its place to key, if any.
func (s *spaceSaving) add(key, weight uint64) (evicted uint64, didEvict bool) {
	if i, ok := s.idx[key]; ok {
		s.w[i] += weight
		s.down(int(s.pos[i]))
		return 0, false
	}
	if len(s.key) < s.k {
		i := int32(len(s.key))
		s.idx[key] = i
		s.key = append(s.key, key)
		s.w = append(s.w, weight)
		s.err = append(s.err, 0)
		s.pos = append(s.pos, int32(len(s.heap)))
		s.heap = append(s.heap, i)
		s.up(len(s.heap) - 1)
		return 0, false
	}
	i := s.heap[0]
	evicted = s.key[i]
	delete(s.idx, evicted)
	s.idx[key] = i
	s.key[i] = key
	s.err[i] = s.w[i]
	s.w[i] += weight
	s.down(0)
	return evicted, true
}

// has reports whether key is kept.
func (s *spaceSaving) has(key uint64) bool { _, ok := s.idx[key]; return ok }

func (s *spaceSaving) less(a, b int) bool { return s.w[s.heap[a]] < s.w[s.heap[b]] }

func (s *spaceSaving) swap(a, b int) {
	s.heap[a], s.heap[b] = s.heap[b], s.heap[a]
	s.pos[s.heap[a]], s.pos[s.heap[b]] = int32(a), int32(b)
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
