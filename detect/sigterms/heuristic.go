// Package sigterms scores and ranks terms the way Elasticsearch's
// significant_terms aggregation does: the same five heuristics (JLH,
// mutual information, chi-square, Google normalized distance, percentage),
// the same input validation, and the same final filter (score > 0 and
// foreground count ≥ min_doc_count).
//
// Every heuristic receives four document counts:
//
//	subsetFreq   (sf) foreground events carrying the term
//	subsetSize   (ss) foreground events
//	supersetFreq (bf) background events carrying the term
//	supersetSize (bs) background events
//
// firebreak's background is all retained history including the foreground
// window, so the default ("background is a superset") formulas apply.
//
// The package is pure computation: no I/O, no clock, no shared state. All
// heuristic values are immutable and safe for concurrent use.
package sigterms

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// ErrInvalidCounts reports counts that no real data can produce: a negative
// count, sf > ss or bf > bs. Elasticsearch throws IllegalArgumentException
// for the same inputs.
var ErrInvalidCounts = errors.New("invalid term counts")

// ErrNotSuperset reports counts that contradict "the background contains the
// foreground" (sf > bf, ss > bs, or bf−sf > bs−ss) for a heuristic that
// assumes it. The error text suggests background_is_superset: false, as
// Elasticsearch's does.
var ErrNotSuperset = errors.New("background is not a superset of the foreground")

// ErrUnknownHeuristic is returned by ByName for a name it does not know.
var ErrUnknownHeuristic = errors.New("unknown significance heuristic")

// Heuristic scores one term. Score returns an error wrapping ErrInvalidCounts
// or ErrNotSuperset for impossible inputs and never returns NaN; it may return
// math.Inf(-1) (mutual information and chi-square without include_negatives,
// for a term that is rarer in the foreground than in the rest).
type Heuristic interface {
	Score(subsetFreq, subsetSize, supersetFreq, supersetSize int64) (float64, error)
	// Name is the Elasticsearch name of the heuristic, e.g. "jlh".
	Name() string
}

// Compile-time checks that every heuristic satisfies the interface.
var (
	_ Heuristic = JLH{}
	_ Heuristic = Percentage{}
	_ Heuristic = MutualInformation{}
	_ Heuristic = ChiSquare{}
	_ Heuristic = GND{}
)

const supersetHint = `, does your background filter not include all documents in the bucket? ` +
	`If so and it is intentional, set "background_is_superset": false`

// checkCounts is Elasticsearch's checkFrequencyValidity.
func checkCounts(sf, ss, bf, bs int64, name string) error {
	if sf < 0 || ss < 0 || bf < 0 || bs < 0 {
		return fmt.Errorf("frequencies of subset and superset must be positive in %s (sf=%d ss=%d bf=%d bs=%d): %w",
			name, sf, ss, bf, bs, ErrInvalidCounts)
	}
	if sf > ss {
		return fmt.Errorf("subsetFreq > subsetSize, in %s (%d > %d): %w", name, sf, ss, ErrInvalidCounts)
	}
	if bf > bs {
		return fmt.Errorf("supersetFreq > supersetSize, in %s (%d > %d): %w", name, bf, bs, ErrInvalidCounts)
	}
	return nil
}

// checkSuperset is the extra check NXY heuristics make when the background is
// declared to contain the foreground.
func checkSuperset(sf, ss, bf, bs int64) error {
	switch {
	case sf > bf:
		return fmt.Errorf("subsetFreq > supersetFreq (%d > %d)%s: %w", sf, bf, supersetHint, ErrNotSuperset)
	case ss > bs:
		return fmt.Errorf("subsetSize > supersetSize (%d > %d)%s: %w", ss, bs, supersetHint, ErrNotSuperset)
	case bf-sf > bs-ss:
		return fmt.Errorf("supersetFreq - subsetFreq > supersetSize - subsetSize (%d > %d)%s: %w",
			bf-sf, bs-ss, supersetHint, ErrNotSuperset)
	}
	return nil
}

// JLH is Elasticsearch's default heuristic: (p_fg − p_bg) · p_fg/p_bg, or 0
// when the term is not more frequent in the foreground. It favours
// medium-rare terms. A zero background count is treated as 1 (possible only
// with a background that does not contain the foreground). The zero value is
// ready to use.
type JLH struct{}

// Name returns "jlh".
func (JLH) Name() string { return "jlh" }

// Score implements Heuristic.
func (JLH) Score(sf, ss, bf, bs int64) (float64, error) {
	if err := checkCounts(sf, ss, bf, bs, "JLHScore"); err != nil {
		return 0, err
	}
	if ss == 0 || bs == 0 {
		return 0, nil
	}
	if bf == 0 {
		bf = 1
	}
	pfg := float64(sf) / float64(ss)
	pbg := float64(bf) / float64(bs)
	abs := pfg - pbg
	if abs <= 0 {
		return 0, nil
	}
	return abs * (pfg / pbg), nil
}

// Percentage scores sf/bf: the share of all the term's occurrences that fall
// in the foreground (0 when bf is 0). It picks one-off terms (1/1) on
// high-cardinality fields; use a MinDocCount of about 10 with it. The zero
// value is ready to use.
type Percentage struct{}

// Name returns "percentage".
func (Percentage) Name() string { return "percentage" }

// Score implements Heuristic.
func (Percentage) Score(sf, ss, bf, bs int64) (float64, error) {
	if err := checkCounts(sf, ss, bf, bs, "PercentageScore"); err != nil {
		return 0, err
	}
	if bf == 0 {
		return 0, nil
	}
	return float64(sf) / float64(bf), nil
}

// table is the 2×2 contingency table of term presence (first index) against
// foreground membership (second index); the _ fields are margins.
type table struct {
	n00, n01, n10, n11, n0_, n1_, n_0, n_1, n float64
}

// contingency builds the table; disjoint means the background does not
// contain the foreground (Elasticsearch background_is_superset: false).
func contingency(sf, ss, bf, bs int64, disjoint bool, name string) (table, error) {
	if err := checkCounts(sf, ss, bf, bs, name); err != nil {
		return table{}, err
	}
	if !disjoint {
		if err := checkSuperset(sf, ss, bf, bs); err != nil {
			return table{}, fmt.Errorf("%s: %w", name, err)
		}
		return table{
			n00: float64(bs - bf - (ss - sf)),
			n01: float64(ss - sf),
			n10: float64(bf - sf),
			n11: float64(sf),
			n0_: float64(bs - bf),
			n1_: float64(bf),
			n_0: float64(bs - ss),
			n_1: float64(ss),
			n:   float64(bs),
		}, nil
	}
	return table{
		n00: float64(bs - bf),
		n01: float64(ss - sf),
		n10: float64(bf),
		n11: float64(sf),
		n0_: float64(bs - bf + ss - sf),
		n1_: float64(bf + sf),
		n_0: float64(bs),
		n_1: float64(ss),
		n:   float64(bs + ss),
	}, nil
}

// underRepresented is the include_negatives=false gate: the term is rarer in
// the foreground than in the rest of the data. A NaN ratio (empty foreground)
// compares false, as in Java.
func (t table) underRepresented() bool {
	return t.n11/t.n_1 < t.n10/t.n_0
}

// MutualInformation is the information (in bits) that term presence gives
// about foreground membership (Manning et al., IR book eq. 13.17).
//
// The zero value matches Elasticsearch's REST defaults: include_negatives
// false (terms rarer in the foreground than in the rest score −Inf) and a
// background that contains the foreground. Set DisjointBackground for a
// background that excludes the foreground (background_is_superset: false).
type MutualInformation struct {
	IncludeNegatives   bool
	DisjointBackground bool
}

// Name returns "mutual_information".
func (MutualInformation) Name() string { return "mutual_information" }

// miTerm is one summand (Nxy/N)·ln(N·Nxy/(Nx_·N_y)), with 0·ln 0 taken as 0.
func miTerm(nxy, nx, ny, n float64) float64 {
	num := math.Abs(n * nxy)
	den := math.Abs(nx * ny)
	factor := math.Abs(nxy / n)
	if num < 1e-7 && factor < 1e-7 {
		return 0
	}
	return factor * math.Log(num/den)
}

// Score implements Heuristic.
func (h MutualInformation) Score(sf, ss, bf, bs int64) (float64, error) {
	t, err := contingency(sf, ss, bf, bs, h.DisjointBackground, "MutualInformation")
	if err != nil {
		return 0, err
	}
	score := (miTerm(t.n00, t.n0_, t.n_0, t.n) +
		miTerm(t.n01, t.n0_, t.n_1, t.n) +
		miTerm(t.n10, t.n1_, t.n_0, t.n) +
		miTerm(t.n11, t.n1_, t.n_1, t.n)) / math.Ln2
	if math.IsNaN(score) {
		score = math.Inf(-1)
	}
	if !h.IncludeNegatives && t.underRepresented() {
		score = math.Inf(-1)
	}
	return score, nil
}

// ChiSquare is Pearson's χ² statistic of the contingency table (Manning et
// al., eq. 13.19). The zero value matches Elasticsearch's REST defaults, as
// for MutualInformation.
//
// Where Elasticsearch would return NaN (a table with an empty margin, e.g. an
// empty foreground, gives 0/0) Score returns 0; Elasticsearch drops such a
// term from the result anyway (NaN > 0 is false), and Rank drops 0 too.
type ChiSquare struct {
	IncludeNegatives   bool
	DisjointBackground bool
}

// Name returns "chi_square".
func (ChiSquare) Name() string { return "chi_square" }

// Score implements Heuristic.
func (h ChiSquare) Score(sf, ss, bf, bs int64) (float64, error) {
	t, err := contingency(sf, ss, bf, bs, h.DisjointBackground, "ChiSquare")
	if err != nil {
		return 0, err
	}
	if !h.IncludeNegatives && t.underRepresented() {
		return math.Inf(-1), nil
	}
	d := t.n11*t.n00 - t.n01*t.n10
	score := t.n * d * d / (t.n_1 * t.n1_ * t.n0_ * t.n_0)
	if math.IsNaN(score) {
		return 0, nil
	}
	return score, nil
}

// GND is exp(−Google normalized distance) between "has the term" and "is in
// the foreground" (Cilibrasi & Vitányi 2007): 1 for perfect co-occurrence, 0
// for none. It always includes negatives. The zero value matches
// Elasticsearch's default (background contains the foreground).
type GND struct {
	DisjointBackground bool
}

// Name returns "gnd".
func (GND) Name() string { return "gnd" }

// Score implements Heuristic.
func (h GND) Score(sf, ss, bf, bs int64) (float64, error) {
	t, err := contingency(sf, ss, bf, bs, h.DisjointBackground, "GND")
	if err != nil {
		return 0, err
	}
	fx, fy, fxy := t.n1_, t.n_1, t.n11
	if fxy == 0 {
		return 0, nil
	}
	if fx == fy && fx == fxy {
		return 1, nil
	}
	lx, ly := math.Log(fx), math.Log(fy)
	d := (math.Max(lx, ly) - math.Log(fxy)) / (math.Log(t.n) - math.Min(lx, ly))
	// Valid counts give 0 < fxy ≤ min(fx, fy) ≤ N, and the denominator is 0
	// only when fx = fy = N, which forces fxy = N (handled above): no NaN.
	return math.Exp(-d), nil
}

// names maps every accepted name to the heuristic in its Elasticsearch
// default configuration.
var names = map[string]Heuristic{
	"jlh":                JLH{},
	"mutual_information": MutualInformation{},
	"mi":                 MutualInformation{},
	"chi_square":         ChiSquare{},
	"gnd":                GND{},
	"percentage":         Percentage{},
}

// ByName returns the heuristic called name (case-insensitive): jlh,
// mutual_information (alias mi), chi_square, gnd or percentage, each in its
// Elasticsearch default configuration. An empty name selects JLH, the
// Elasticsearch default. Other names give an error wrapping
// ErrUnknownHeuristic.
func ByName(name string) (Heuristic, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return JLH{}, nil
	}
	h, ok := names[n]
	if !ok {
		return nil, fmt.Errorf("%q (want one of %s): %w", name, strings.Join(Names(), ", "), ErrUnknownHeuristic)
	}
	return h, nil
}

// Names lists the names ByName accepts, sorted, for help texts.
func Names() []string {
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
