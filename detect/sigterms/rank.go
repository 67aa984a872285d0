package sigterms

import (
	"cmp"
	"fmt"
	"slices"
)

// DefaultMinDocCount and DefaultSize are Elasticsearch's significant_terms
// defaults (min_doc_count 3, size 10).
const (
	DefaultMinDocCount = 3
	DefaultSize        = 10
)

// Term is one candidate term with its foreground (FG, sf) and background
// (BG, bf) counts.
type Term struct {
	Key string
	FG  int64
	BG  int64
}

// Options tunes Rank. The zero value gives Elasticsearch's defaults.
type Options struct {
	// MinDocCount is the least foreground count a term needs to be kept
	// (min_doc_count). Values < 1 select DefaultMinDocCount; use 1 to keep
	// every term seen in the foreground.
	MinDocCount int64
	// Size caps the number of terms returned. 0 selects DefaultSize; a
	// negative Size returns every term that passes.
	Size int
}

// Scored is one ranked term. SubsetSize and SupersetSize repeat the totals
// the score was computed against, so a finding can show its evidence.
type Scored struct {
	Key          string
	Score        float64
	FG           int64
	BG           int64
	SubsetSize   int64
	SupersetSize int64
}

// Rank scores every term with h against subsetSize (foreground total) and
// supersetSize (background total) and returns the best, by score descending
// and then by key ascending (Elasticsearch breaks ties arbitrarily; a fixed
// order keeps findings stable).
//
// As in Elasticsearch's final reduce (InternalSignificantTerms.reduce), a
// term is kept only if its score is > 0 and its foreground count is ≥
// MinDocCount; so JLH's 0 for "not more frequent than usual", the −Inf that
// mutual information and chi-square give under-represented terms, and any
// zero score are all dropped. Terms are scored before filtering, so invalid
// counts are reported even for terms that would be filtered out; the error
// names the term and wraps ErrInvalidCounts or ErrNotSuperset. Rank does not
// modify terms.
func Rank(terms []Term, subsetSize, supersetSize int64, h Heuristic, opts Options) ([]Scored, error) {
	if h == nil {
		h = JLH{}
	}
	minDoc := opts.MinDocCount
	if minDoc < 1 {
		minDoc = DefaultMinDocCount
	}
	size := opts.Size
	if size == 0 {
		size = DefaultSize
	}
	var out []Scored
	for _, t := range terms {
		s, err := h.Score(t.FG, subsetSize, t.BG, supersetSize)
		if err != nil {
			return nil, fmt.Errorf("term %q: %w", t.Key, err)
		}
		if !(s > 0) || t.FG < minDoc { // !(s > 0) also drops NaN
			continue
		}
		out = append(out, Scored{
			Key: t.Key, Score: s, FG: t.FG, BG: t.BG,
			SubsetSize: subsetSize, SupersetSize: supersetSize,
		})
	}
	slices.SortFunc(out, func(a, b Scored) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	if size > 0 && len(out) > size {
		out = out[:size:size]
	}
	return out, nil
}

// RankMaps is Rank over a foreground and a background count map keyed by
// term; only terms present in fg are candidates (as in Elasticsearch, where
// candidates come from the foreground documents), and a term missing from bg
// has a background count of 0.
func RankMaps(fg, bg map[string]int64, subsetSize, supersetSize int64, h Heuristic, opts Options) ([]Scored, error) {
	terms := make([]Term, 0, len(fg))
	for k, n := range fg {
		terms = append(terms, Term{Key: k, FG: n, BG: bg[k]})
	}
	return Rank(terms, subsetSize, supersetSize, h, opts)
}
