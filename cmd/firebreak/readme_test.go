package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeTourRunsAsWritten runs every firebreak command of the README's tour in-process, in
// order, with a temporary folder for /tmp/clinic. A command the README shows must exit 0.
func TestReadmeTourRunsAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and ingests a 30-day site")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := fencedBlockAfter(t, string(readme), "## A tour")
	dir := t.TempDir()
	t.Chdir(dir)
	ran := 0
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.ReplaceAll(line, "/tmp/clinic", filepath.Join(dir, "clinic"))
		stdin := ""
		if strings.HasPrefix(line, "zcat ") {
			// zcat FILE | firebreak parse ... > out: feed a generated log instead.
			data, err := os.ReadFile(filepath.Join(dir, "clinic", "asa1.log"))
			if err != nil {
				t.Fatal(err)
			}
			stdin = string(data[:min(len(data), 1<<20)])
			line = strings.TrimSpace(line[strings.Index(line, "|")+1:])
		}
		if i := strings.Index(line, " > "); i >= 0 {
			line = line[:i]
		}
		args, err := shellWords(line)
		if err != nil || len(args) == 0 || args[0] != "firebreak" {
			t.Fatalf("README tour line %q: not a firebreak command (%v)", line, err)
		}
		code, _, errOut := runCLI(t, stdin, args[1:]...)
		if code != 0 {
			t.Fatalf("README: %s\nexit %d: %s", line, code, errOut)
		}
		ran++
	}
	if ran < 10 {
		t.Fatalf("ran %d commands of the tour; the block was not found whole", ran)
	}
}

// fencedBlockAfter returns the first ``` block after the heading.
func fencedBlockAfter(t *testing.T, doc, heading string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	rest := doc[i:]
	start := strings.Index(rest, "```")
	if start < 0 {
		t.Fatalf("no code block after %q", heading)
	}
	rest = rest[start+3:]
	rest = rest[strings.Index(rest, "\n")+1:]
	end := strings.Index(rest, "```")
	if end < 0 {
		t.Fatalf("unterminated code block after %q", heading)
	}
	return rest[:end]
}

// shellWords splits a command line the way sh does for the README's simple forms: words,
// double and single quotes, and a trailing # comment.
func shellWords(s string) ([]string, error) {
	var (
		out   []string
		cur   strings.Builder
		quote rune
		in    bool
	)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == '#' && !in:
			return out, nil
		case r == ' ' || r == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, os.ErrInvalid
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}
