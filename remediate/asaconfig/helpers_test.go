package asaconfig

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/asa-config")

const fixtureDir = "../../testdata/asa-config"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

func mustParse(t testing.TB, name string) *Config {
	t.Helper()
	c, err := Parse(readFixture(t, name))
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return c
}

func mustApply(t testing.TB, c *Config, chs ...Change) *Config {
	t.Helper()
	nc, err := c.Apply(chs)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return nc
}

// golden compares got with testdata/asa-config/golden/name, rewriting it
// with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(fixtureDir, "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, d)
	}
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func addr(s string) netip.Addr  { return netip.MustParseAddr(s) }

// checkValid asserts the invariants every prefix of a plan must keep: each
// object-group or object an ACE names exists (groups non-empty), and every
// entry protected in base still comes before any firebreak block ACE.
func checkValid(t *testing.T, base, c *Config, l Limits) {
	t.Helper()
	for _, name := range c.ACLNames() {
		a, _ := c.ACL(name)
		for _, e := range a.Entries {
			if e.Kind != EntryACE {
				continue
			}
			if err := c.checkAddr(e.ACE.Src); err != nil {
				t.Errorf("%s line %d: %v", name, e.Line, err)
			}
			if err := c.checkAddr(e.ACE.Dst); err != nil {
				t.Errorf("%s line %d: %v", name, e.Line, err)
			}
		}
		protLast := base.BlockInsertLine(name, l) - 1
		ba, _ := base.ACL(name)
		var protected []string
		for _, e := range ba.Entries {
			if e.Line <= protLast {
				protected = append(protected, e.Text)
			}
		}
		firstBlock := 0
		for _, e := range a.Entries {
			if e.Kind == EntryACE && e.ACE.Action == Deny && e.ACE.Src.Kind == AddrObjectGroup && strings.HasPrefix(e.ACE.Src.Name, "FIREBREAK") {
				firstBlock = e.Line
				break
			}
		}
		if firstBlock == 0 {
			continue
		}
		for _, e := range a.Entries {
			for _, p := range protected {
				if e.Text == p && e.Line > firstBlock {
					t.Errorf("%s: protected %q at line %d after block at %d", name, p, e.Line, firstBlock)
				}
			}
		}
	}
}
