package collector

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// member returns a gzip member holding lines; cut: as a kill -9 leaves it, flushed (sync
// flush) but never closed.
func member(t *testing.T, lines string, cut bool) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, lines); err != nil {
		t.Fatal(err)
	}
	if cut {
		if err := zw.Flush(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Issue 13 #10: a gzip file with a member a crash cut short is read up to the cut and on from
// the next member (the layout a restart appending to the same file left behind), and a cut at
// the end of a file loses only the cut member's unflushed end. Lines are never returned cut.
func TestOpenLogReadsPastCutGzipMembers(t *testing.T) {
	a := "a1 first member\na2 first member\n"
	b := "b1 after the restart\nb2 after the restart\n"
	cutA := member(t, a, true)
	midBlock := member(t, a+strings.Repeat("a3 unflushed line that the kill cut in its block\n", 200), false)
	midBlock = midBlock[:len(midBlock)/2]
	tests := []struct {
		name    string
		data    []byte
		want    string
		damaged int
	}{
		{"cut member then a new one", append(append([]byte{}, cutA...), member(t, b, false)...), a + b, 1},
		{"two cut members", append(append([]byte{}, cutA...), member(t, b, true)...), a + b, 2},
		{"cut at the end", append(member(t, b, false), cutA...), b + a, 1},
		{"whole members", append(member(t, a, false), member(t, b, false)...), a + b, 0},
		{"cut inside a block", append(append([]byte{}, midBlock...), member(t, b, false)...), "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "raw.log.gz")
			if err := os.WriteFile(name, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			r, err := OpenLog(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("read: %v (after %d bytes)", err, len(got))
			}
			if tt.want != "" && string(got) != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
			if tt.want == "" { // a cut inside a block: whole lines of the first member, then b
				rest, ok := strings.CutSuffix(string(got), b)
				if !ok {
					t.Fatalf("the member after the cut is missing: %q", got)
				}
				for _, l := range strings.SplitAfter(rest, "\n") {
					if l != "" && !strings.Contains(a+"a3 unflushed line that the kill cut in its block\n", l) {
						t.Errorf("line %q is not a whole line written", l)
					}
				}
			}
			if d := damagedOf(r); d != tt.damaged {
				t.Errorf("damaged members = %d, want %d", d, tt.damaged)
			}
		})
	}
}
