package sigterms

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// worked is the detection.md §1.3 data set plus a term that is under the
// default min_doc_count.
var worked = []Term{
	{"443", 600, 550000},
	{"53", 10, 100000},
	{"3389", 50, 5000},
	{"4444", 20, 25},
	{"typo", 1, 1},
	{"twice", 2, 2},
}

func keys(s []Scored) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.Key
	}
	return out
}

func TestRankOrderAndFilters(t *testing.T) {
	const ss, bs = 1000, 1000000
	tests := []struct {
		name string
		h    Heuristic
		opts Options
		want []string
	}{
		// Default min_doc_count 3 removes the one-off and the pair; "53"
		// scores 0 (JLH) or −Inf (MI, χ²) and is dropped.
		{"jlh defaults", JLH{}, Options{}, []string{"4444", "3389", "443"}},
		// JLH: twice 1.998, typo 0.999, rising 3389 only 0.45.
		{"jlh min 1 lets one-offs in", JLH{}, Options{MinDocCount: 1}, []string{"4444", "twice", "typo", "3389", "443"}},
		{"chi2 defaults", ChiSquare{}, Options{}, []string{"4444", "3389", "443"}},
		{"mi defaults", MutualInformation{}, Options{}, []string{"4444", "3389", "443"}},
		// GND always includes negatives, so the dropping port stays (score > 0).
		{"gnd defaults", GND{}, Options{}, []string{"4444", "3389", "443", "53"}},
		{"percentage defaults", Percentage{}, Options{}, []string{"4444", "3389", "443", "53"}},
		{"percentage min 1", Percentage{}, Options{MinDocCount: 1}, []string{"twice", "typo", "4444", "3389", "443", "53"}},
		{"size 2", JLH{}, Options{MinDocCount: 1, Size: 2}, []string{"4444", "twice"}},
		{"size unlimited", JLH{}, Options{Size: -1}, []string{"4444", "3389", "443"}},
		{"nil heuristic is jlh", nil, Options{}, []string{"4444", "3389", "443"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Rank(worked, ss, bs, tt.h, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, keys(got)); d != "" {
				t.Errorf("keys (-want +got):\n%s", d)
			}
			for _, s := range got {
				if s.SubsetSize != ss || s.SupersetSize != bs || !(s.Score > 0) {
					t.Errorf("bad entry %+v", s)
				}
			}
		})
	}
}

func TestRankTiesByKey(t *testing.T) {
	terms := []Term{{"b", 5, 10}, {"c", 5, 10}, {"a", 5, 10}, {"z", 10, 10}}
	got, err := Rank(terms, 100, 1000, JLH{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Scored{
		{Key: "z", Score: got[0].Score, FG: 10, BG: 10, SubsetSize: 100, SupersetSize: 1000},
		{Key: "a", Score: got[1].Score, FG: 5, BG: 10, SubsetSize: 100, SupersetSize: 1000},
		{Key: "b", Score: got[1].Score, FG: 5, BG: 10, SubsetSize: 100, SupersetSize: 1000},
		{Key: "c", Score: got[1].Score, FG: 5, BG: 10, SubsetSize: 100, SupersetSize: 1000},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// p_fg 0.1, p_bg 0.01 → 0.09 · 10.
	if math.Abs(got[0].Score-0.9) > 1e-12 {
		t.Errorf("z score = %v", got[0].Score)
	}
}

func TestRankMinDocCountIsOnForeground(t *testing.T) {
	// Huge background count does not let a term with fg 2 through.
	terms := []Term{{"x", 2, 1000}, {"y", 3, 3}}
	got, err := Rank(terms, 10, 10000, Percentage{}, Options{MinDocCount: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"y"}, keys(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestRankErrors(t *testing.T) {
	// An invalid term is reported even though min_doc_count would drop it.
	terms := []Term{{"ok", 5, 10}, {"bad", 2, 1}}
	_, err := Rank(terms, 100, 1000, ChiSquare{}, Options{})
	if !errors.Is(err, ErrNotSuperset) {
		t.Fatalf("err = %v, want ErrNotSuperset", err)
	}
	if _, err := Rank([]Term{{"neg", -1, 1}}, 100, 1000, JLH{}, Options{}); !errors.Is(err, ErrInvalidCounts) {
		t.Fatalf("err = %v, want ErrInvalidCounts", err)
	}
}

func TestRankMaps(t *testing.T) {
	fg := map[string]int64{"4444": 20, "3389": 50, "new": 4}
	bg := map[string]int64{"4444": 25, "3389": 5000, "unused": 7}
	// "new" is missing from bg: with a superset heuristic that is an error
	// (sf > bf); JLH treats bf as 1.
	got, err := RankMaps(fg, bg, 1000, 1000000, JLH{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"new", "4444", "3389"}, keys(got)); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if _, err := RankMaps(fg, bg, 1000, 1000000, MutualInformation{}, Options{}); !errors.Is(err, ErrNotSuperset) {
		t.Errorf("err = %v, want ErrNotSuperset", err)
	}
}

func BenchmarkRank(b *testing.B) {
	terms := make([]Term, 2000)
	for i := range terms {
		terms[i] = Term{Key: string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676)), FG: int64(i%50 + 1), BG: int64(i%50+1) * int64(i%7+1)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Rank(terms, 100000, 1000000, JLH{}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
