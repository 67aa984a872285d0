package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFrameReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want []string
		cut  []bool
	}{
		{"newline", "<134>a\n<134>b\r\n", 100, []string{"<134>a", "<134>b"}, []bool{false, false}},
		{"octet counting", "6 <134>a6 <134>b", 100, []string{"<134>a", "<134>b"}, []bool{false, false}},
		{"mixed then trailing without newline", "6 <134>a<134>b\n<134>c", 100, []string{"<134>a", "<134>b", "<134>c"}, []bool{false, false, false}},
		{"NUL delimited", "<134>a\x00<134>b\x00", 100, []string{"<134>a", "<134>b"}, []bool{false, false}},
		{"digit-led line is not a count", "2026 Nov 27 x\n", 100, []string{"2026 Nov 27 x"}, []bool{false}},
		{"oversize newline frame is cut", strings.Repeat("x", 50) + "\nok\n", 10, []string{strings.Repeat("x", 10), "ok"}, []bool{true, false}},
		{"oversize octet frame is cut and skipped", "20 <" + strings.Repeat("y", 19) + "3 <ok", 10, []string{"<" + strings.Repeat("y", 9), "<ok"}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fr := frameReader{r: bufio.NewReaderSize(strings.NewReader(tt.in), 16), max: tt.max}
			var got []string
			var cuts []bool
			for {
				p, fl, err := fr.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("next: %v", err)
				}
				got = append(got, string(trimFrame(p)))
				cuts = append(cuts, fl&frameCut != 0)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("frames = %q, want %q", got, tt.want)
			}
			for i := range min(len(cuts), len(tt.cut)) {
				if cuts[i] != tt.cut[i] {
					t.Errorf("frame %d cut = %v, want %v", i, cuts[i], tt.cut[i])
				}
			}
		})
	}
}

func TestFrameReaderTruncatedOctetFrame(t *testing.T) {
	fr := frameReader{r: bufio.NewReader(strings.NewReader("100 <134>short")), max: 1000}
	if _, _, err := fr.next(); err == nil {
		t.Fatal("a frame shorter than its count must be an error")
	}
}

func TestLineScannerKeepsOversizeLines(t *testing.T) {
	in := "a\n" + strings.Repeat("z", 1000) + "\r\nb"
	s := NewLineScanner(strings.NewReader(in), 100)
	var lines []string
	var over []bool
	for {
		o, ok := s.Next(t.Context())
		if !ok {
			break
		}
		lines = append(lines, string(s.Line()))
		over = append(over, o)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[0] != "a" || lines[1] != strings.Repeat("z", 100) || lines[2] != "b" {
		t.Fatalf("lines = %q", lines)
	}
	if !over[1] || over[0] || over[2] {
		t.Errorf("oversize flags = %v, want only the second", over)
	}
	if s.Skipped != 900 {
		t.Errorf("skipped = %d, want 900", s.Skipped)
	}
}

func TestOpenLogDetectsGzipByContent(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("line1\nline2\n"))
	zw.Close()
	name := filepath.Join(dir, "no-suffix")
	if err := os.WriteFile(name, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := OpenLog(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, _ := io.ReadAll(r)
	if string(got) != "line1\nline2\n" {
		t.Errorf("read %q", got)
	}
	if _, err := OpenLog(filepath.Join(dir, "missing"), nil); err == nil {
		t.Error("missing file: want an error")
	}
}

func TestArchiveRotatesAppendsAndPrunes(t *testing.T) {
	dir := t.TempDir()
	day1 := time.Date(2026, 11, 1, 23, 59, 0, 0, time.UTC)
	day2 := day1.Add(2 * time.Minute)
	a, err := OpenArchive(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		t    time.Time
		line string
	}{{day1, "one"}, {day1, "two"}, {day2, "three"}} {
		if err := a.Write(w.t, []byte(w.line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// A restart writes a file of its own for the day.
	a, _ = OpenArchive(dir)
	if err := a.Write(day2, []byte("four")); err != nil {
		t.Fatal(err)
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	read := func(t0 time.Time) string {
		names, err := ArchiveFiles(dir, t0)
		if err != nil {
			t.Fatal(err)
		}
		var all string
		for _, name := range names {
			r, err := OpenLog(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r)
			r.Close()
			all += string(b)
		}
		return all
	}
	if got := read(day1); got != "one\ntwo\n" {
		t.Errorf("day 1 = %q", got)
	}
	if got := read(day2); got != "three\nfour\n" {
		t.Errorf("day 2 = %q", got)
	}
	a.Close()
	n, err := PruneArchive(dir, 48*time.Hour, day2.Add(48*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune removed %d, %v; want 1 (day 1 only)", n, err)
	}
	if names, _ := ArchiveFiles(dir, day2); len(names) != 2 {
		t.Errorf("day 2 files = %v, want both to stay", names)
	}
}

// Octet counts that disagree with the stream are flagged and the reader resynchronises at
// the next frame start, whatever the read buffer's boundaries.
func TestFrameReaderResyncsBadOctetCounts(t *testing.T) {
	a, b, c := "<134>alpha frame", "<134>bravo", "<134>charlie 42 x"
	tests := []struct {
		name string
		in   string
		want []string
		bad  []bool
	}{
		{"short count", fmt.Sprintf("%d %s%d %s", len(a)-6, a, len(b), b), []string{a, b}, []bool{true, false}},
		{"count beyond max", fmt.Sprintf("999999999 %s%d %s", a, len(b), b), []string{a, b}, []bool{true, false}},
		{"count beyond max, then newline frame", fmt.Sprintf("999999999 %s\n%s\n", a, b), []string{a, b}, []bool{true, false}},
		{"digits inside a message are not a header", fmt.Sprintf("%d %s%d %s", len(c)-8, c, len(b), b), []string{c, b}, []bool{true, false}},
		{"right counts", fmt.Sprintf("%d %s%d %s\n%s\n", len(a), a, len(c), c, b), []string{a, c, b}, []bool{false, false, false}},
	}
	for _, tt := range tests {
		for _, size := range []int{16, 4096} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, size), func(t *testing.T) {
				fr := frameReader{r: bufio.NewReaderSize(strings.NewReader(tt.in), size), max: 100}
				var got []string
				var bad []bool
				for {
					p, fl, err := fr.next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("next: %v", err)
					}
					if p = trimFrame(p); len(p) == 0 {
						continue
					}
					got = append(got, string(p))
					bad = append(bad, fl&frameBadCount != 0)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) || fmt.Sprint(bad) != fmt.Sprint(tt.bad) {
					t.Errorf("frames %q bad %v, want %q bad %v", got, bad, tt.want, tt.bad)
				}
			})
		}
	}
}

// A short count whose tail was not yet buffered when the frame ended: the tail is a frame of
// its own, flagged, and the stream stays in step.
func TestFrameReaderShortCountTailArrivesLater(t *testing.T) {
	a, b := "<134>alpha frame", "<134>bravo"
	r := io.MultiReader(strings.NewReader(fmt.Sprintf("%d %s", len(a)-6, a[:len(a)-6])),
		strings.NewReader(a[len(a)-6:]+fmt.Sprintf("%d %s", len(b), b)))
	fr := frameReader{r: bufio.NewReader(r), max: 100}
	var got []string
	var bad []bool
	for {
		p, fl, err := fr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(p))
		bad = append(bad, fl&frameBadCount != 0)
	}
	want := []string{a[:len(a)-6], a[len(a)-6:], b}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(bad) != "[false true false]" {
		t.Errorf("frames %q bad %v, want %q [false true false]", got, bad, want)
	}
}
