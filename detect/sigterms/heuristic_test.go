package sigterms

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// printedTol returns the value of a number printed in detection.md and half a
// unit of its last printed digit, the precision the table claims.
func printedTol(t *testing.T, s string) (want, tol float64) {
	t.Helper()
	s = strings.ReplaceAll(s, ",", "")
	if s == "−∞" {
		return math.Inf(-1), 0
	}
	mant, exp := s, 0
	if i := strings.IndexByte(s, 'e'); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			t.Fatalf("bad exponent in %q", s)
		}
		exp = e
	}
	decimals := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		decimals = len(mant) - i - 1
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("bad number %q: %v", s, err)
	}
	return v, 0.5 * math.Pow(10, float64(exp-decimals))
}

// TestWorkedExamples checks every cell of detection.md §1.3 (ss = 1,000,
// bs = 1,000,000) to the precision it is printed with.
func TestWorkedExamples(t *testing.T) {
	const ss, bs = 1000, 1000000
	rows := []struct {
		name   string
		sf, bf int64
		// jlh, percentage, mi, chi2, gnd as printed
		cells [5]string
	}{
		{"port 4444 new", 20, 25, [5]string{"15.98", "0.80", "1.8e-4", "15,976", "0.69"}},
		{"port 3389 rising", 50, 5000, [5]string{"0.45", "0.01", "1.0e-4", "407", "0.51"}},
		{"port 443 common", 600, 550000, [5]string{"0.055", "0.001", "1e-5", "10.1", "0.37"}},
		{"one-off typo", 1, 1, [5]string{"0.999", "1.00", "1e-5", "999", "0.61"}},
		{"port 53 dropping", 10, 100000, [5]string{"0", "0.0001", "−∞", "−∞", "0.26"}},
	}
	hs := [5]Heuristic{JLH{}, Percentage{}, MutualInformation{}, ChiSquare{}, GND{}}
	for _, r := range rows {
		for i, h := range hs {
			got, err := h.Score(r.sf, ss, r.bf, bs)
			if err != nil {
				t.Fatalf("%s %s: %v", r.name, h.Name(), err)
			}
			want, tol := printedTol(t, r.cells[i])
			if math.IsInf(want, -1) {
				if !math.IsInf(got, -1) {
					t.Errorf("%s %s = %g, want −Inf", r.name, h.Name(), got)
				}
				continue
			}
			if math.Abs(got-want) > tol {
				t.Errorf("%s %s = %.6g, want %s (±%g)", r.name, h.Name(), got, r.cells[i], tol)
			}
		}
	}
	// The hand check in the text, to full precision.
	if got, _ := (JLH{}).Score(20, ss, 25, bs); math.Abs(got-0.019975*800) > 1e-9 {
		t.Errorf("JLH(20,1000,25,1e6) = %.12g, want %.12g", got, 0.019975*800)
	}
}

func TestEdgeCases(t *testing.T) {
	tests := []struct {
		name           string
		h              Heuristic
		sf, ss, bf, bs int64
		want           float64
	}{
		{"jlh empty foreground", JLH{}, 0, 0, 5, 100, 0},
		{"jlh empty background", JLH{}, 0, 10, 0, 0, 0},
		// bf = 0 only happens with a disjoint background; JLH treats it as 1:
		// p_fg = 0.5, p_bg = 0.01 → 0.49 · 50.
		{"jlh bf zero counts as one", JLH{}, 5, 10, 0, 100, 0.49 * 50},
		{"jlh under-represented", JLH{}, 1, 100, 50, 100, 0},
		// Everything is the term and the foreground is everything: no change.
		{"jlh sf=ss=bf=bs", JLH{}, 7, 7, 7, 7, 0},
		{"percentage bf zero", Percentage{}, 3, 10, 0, 10, 0},
		{"percentage sf=ss=bf=bs", Percentage{}, 7, 7, 7, 7, 1},
		{"gnd sf=ss=bf=bs", GND{}, 7, 7, 7, 7, 1},
		{"gnd perfect co-occurrence", GND{}, 5, 5, 5, 100, 1},
		{"gnd no co-occurrence", GND{}, 0, 5, 5, 100, 0},
		// Term in every document: fx = N, fxy = fy → d = 1.
		{"gnd term everywhere", GND{}, 10, 10, 100, 100, math.Exp(-1)},
		// Disjoint: N = 20, fx = 10, fy = 10, fxy = 10 → perfect co-occurrence.
		{"gnd disjoint perfect", GND{DisjointBackground: true}, 10, 10, 0, 10, 1},
		// The foreground is the whole background: no information either way.
		{"mi sf=ss=bf=bs", MutualInformation{}, 7, 7, 7, 7, 0},
		{"mi empty foreground", MutualInformation{}, 0, 0, 5, 100, 0},
		{"mi empty everything", MutualInformation{}, 0, 0, 0, 0, math.Inf(-1)},
		// Term exactly in the foreground, foreground half the data: 1 bit.
		{"mi one bit", MutualInformation{}, 50, 50, 50, 100, 1},
		{"chi2 one bit table", ChiSquare{}, 50, 50, 50, 100, 100},
		{"chi2 empty foreground is 0 not NaN", ChiSquare{}, 0, 0, 5, 100, 0},
		{"chi2 sf=ss=bf=bs is 0 not NaN", ChiSquare{}, 7, 7, 7, 7, 0},
		{"chi2 under-represented", ChiSquare{}, 1, 50, 50, 100, math.Inf(-1)},
		// Same table with negatives included: N·(1·1 − 49·49)²/(50·50·50·50).
		{"chi2 include negatives", ChiSquare{IncludeNegatives: true}, 1, 50, 50, 100, 100 * 2400.0 * 2400 / (50.0 * 50 * 50 * 50)},
		{"mi include negatives positive", MutualInformation{IncludeNegatives: true}, 0, 50, 50, 100, 1},
		// Disjoint background: table n11=5 n01=5 n10=0 n00=10, N=20.
		{"chi2 disjoint", ChiSquare{DisjointBackground: true}, 5, 10, 0, 10, 20.0 * 50 * 50 / (10 * 5 * 15 * 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.h.Score(tt.sf, tt.ss, tt.bf, tt.bs)
			if err != nil {
				t.Fatalf("Score(%d,%d,%d,%d): %v", tt.sf, tt.ss, tt.bf, tt.bs, err)
			}
			if math.IsInf(tt.want, -1) {
				if !math.IsInf(got, -1) {
					t.Fatalf("%s.Score(%d,%d,%d,%d) = %g, want −Inf", tt.h.Name(), tt.sf, tt.ss, tt.bf, tt.bs, got)
				}
				return
			}
			if math.IsNaN(got) || math.Abs(got-tt.want) > 1e-9*math.Max(1, math.Abs(tt.want)) {
				t.Fatalf("%s.Score(%d,%d,%d,%d) = %.12g, want %.12g", tt.h.Name(), tt.sf, tt.ss, tt.bf, tt.bs, got, tt.want)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	all := []Heuristic{JLH{}, Percentage{}, MutualInformation{}, ChiSquare{}, GND{}}
	nxy := []Heuristic{MutualInformation{}, ChiSquare{}, GND{}}
	invalid := []struct {
		name           string
		sf, ss, bf, bs int64
		msg            string
	}{
		{"negative sf", -1, 10, 5, 100, "must be positive"},
		{"negative bs", 1, 10, 5, -100, "must be positive"},
		{"sf > ss", 11, 10, 50, 100, "subsetFreq > subsetSize"},
		{"bf > bs", 1, 10, 101, 100, "supersetFreq > supersetSize"},
	}
	for _, h := range all {
		for _, c := range invalid {
			_, err := h.Score(c.sf, c.ss, c.bf, c.bs)
			if !errors.Is(err, ErrInvalidCounts) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("%s %s: err = %v, want ErrInvalidCounts mentioning %q", h.Name(), c.name, err, c.msg)
			}
		}
	}
	notSuperset := []struct {
		name           string
		sf, ss, bf, bs int64
		msg            string
	}{
		{"sf > bf", 5, 10, 3, 100, "subsetFreq > supersetFreq"},
		{"ss > bs", 1, 200, 5, 100, "subsetSize > supersetSize"},
		{"rest too big", 0, 50, 60, 100, "supersetFreq - subsetFreq > supersetSize - subsetSize"},
	}
	for _, h := range nxy {
		for _, c := range notSuperset {
			_, err := h.Score(c.sf, c.ss, c.bf, c.bs)
			if !errors.Is(err, ErrNotSuperset) || !strings.Contains(err.Error(), c.msg) ||
				!strings.Contains(err.Error(), `"background_is_superset": false`) {
				t.Errorf("%s %s: err = %v, want ErrNotSuperset, %q and the background_is_superset hint", h.Name(), c.name, err, c.msg)
			}
		}
	}
	// The same counts are fine once the background is declared disjoint, and
	// for the heuristics that make no superset assumption.
	disjoint := []Heuristic{
		MutualInformation{DisjointBackground: true}, ChiSquare{DisjointBackground: true},
		GND{DisjointBackground: true}, JLH{}, Percentage{},
	}
	for _, h := range disjoint {
		for _, c := range notSuperset {
			if _, err := h.Score(c.sf, c.ss, c.bf, c.bs); err != nil {
				t.Errorf("%s %s: unexpected error %v", h.Name(), c.name, err)
			}
		}
	}
}

func TestByName(t *testing.T) {
	tests := []struct {
		in   string
		want Heuristic
	}{
		{"", JLH{}},
		{"jlh", JLH{}},
		{"JLH", JLH{}},
		{"mutual_information", MutualInformation{}},
		{"mi", MutualInformation{}},
		{"chi_square", ChiSquare{}},
		{"gnd", GND{}},
		{" percentage ", Percentage{}},
	}
	for _, tt := range tests {
		got, err := ByName(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ByName(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"p_value", "chi2", "script_heuristic"} {
		if _, err := ByName(bad); !errors.Is(err, ErrUnknownHeuristic) {
			t.Errorf("ByName(%q) err = %v, want ErrUnknownHeuristic", bad, err)
		}
	}
	if got := strings.Join(Names(), ","); got != "chi_square,gnd,jlh,mi,mutual_information,percentage" {
		t.Errorf("Names() = %s", got)
	}
}

// FuzzScores checks properties over arbitrary valid superset counts: no
// heuristic returns NaN, JLH and percentage are ≥ 0, GND is within [0, 1],
// and the NXY heuristics either score or return −Inf.
func FuzzScores(f *testing.F) {
	f.Add(int64(20), int64(1000), int64(25), int64(1000000))
	f.Add(int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(7), int64(7), int64(7), int64(7))
	f.Add(int64(1), int64(1), int64(1), int64(1<<40))
	f.Add(int64(10), int64(1000), int64(100000), int64(1000000))
	all := []Heuristic{
		JLH{}, Percentage{}, MutualInformation{}, ChiSquare{}, GND{},
		MutualInformation{IncludeNegatives: true}, ChiSquare{IncludeNegatives: true},
		MutualInformation{DisjointBackground: true}, ChiSquare{DisjointBackground: true}, GND{DisjointBackground: true},
	}
	f.Fuzz(func(t *testing.T, a, b, c, d int64) {
		// Map arbitrary inputs onto valid superset counts:
		// 0 ≤ sf ≤ ss ≤ bs, sf ≤ bf, bf − sf ≤ bs − ss; bounded so that
		// products in the formulas stay finite.
		const lim = 1 << 40
		pos := func(x int64) int64 {
			if x < 0 {
				x = -(x + 1)
			}
			return x % lim
		}
		bs := pos(d)
		ss := pos(b) % (bs + 1)
		sf := pos(a) % (ss + 1)
		bf := sf + pos(c)%(bs-ss+1)
		checkScores(t, all, sf, ss, bf, bs)
		// Any counts with sf ≤ ss and bf ≤ bs are valid for a disjoint
		// background and for JLH and percentage.
		ss2, bs2 := pos(b), pos(d)
		sf2, bf2 := pos(a)%(ss2+1), pos(c)%(bs2+1)
		checkScores(t, []Heuristic{
			JLH{}, Percentage{}, GND{DisjointBackground: true},
			MutualInformation{DisjointBackground: true}, ChiSquare{DisjointBackground: true},
			MutualInformation{DisjointBackground: true, IncludeNegatives: true},
			ChiSquare{DisjointBackground: true, IncludeNegatives: true},
		}, sf2, ss2, bf2, bs2)
	})
}

func checkScores(t *testing.T, hs []Heuristic, sf, ss, bf, bs int64) {
	t.Helper()
	for _, h := range hs {
		s, err := h.Score(sf, ss, bf, bs)
		if err != nil {
			t.Fatalf("%s.Score(%d,%d,%d,%d): %v", h.Name(), sf, ss, bf, bs, err)
		}
		if math.IsNaN(s) {
			t.Fatalf("%#v.Score(%d,%d,%d,%d) is NaN", h, sf, ss, bf, bs)
		}
		switch h.(type) {
		case JLH, Percentage:
			if s < 0 || math.IsInf(s, 0) {
				t.Fatalf("%s.Score(%d,%d,%d,%d) = %g, want finite ≥ 0", h.Name(), sf, ss, bf, bs, s)
			}
		case GND:
			if s < 0 || s > 1 {
				t.Fatalf("gnd.Score(%d,%d,%d,%d) = %g, want in [0,1]", sf, ss, bf, bs, s)
			}
		}
	}
}
