package esout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/collector/ciscolog"
	"github.com/firebreak-dev/firebreak/collector/esout"
	"github.com/firebreak-dev/firebreak/collector/scenario"
)

// ecsKeysInSource reads ciscolog's ECS renderer and returns every key it can write: the
// string literal given as a key to the writer's methods (key, str, int, uint, addr, list)
// and the key names of the endpoint tables (srcKeys, dstKeys).
func ecsKeysInSource(t *testing.T) map[string]bool {
	t.Helper()
	fs := token.NewFileSet()
	f, err := parser.ParseFile(fs, "../ciscolog/ecs.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	lit := func(e ast.Expr) {
		if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			if s, err := strconv.Unquote(bl.Value); err == nil {
				keys[s] = true
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.CallExpr:
			sel, ok := x.Fun.(*ast.SelectorExpr)
			if !ok || len(x.Args) == 0 {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "w" && slices.Contains([]string{"key", "str", "int", "uint", "addr", "list"}, sel.Sel.Name) {
				lit(x.Args[0])
			}
		case *ast.ValueSpec:
			for i, name := range x.Names {
				if (name.Name == "srcKeys" || name.Name == "dstKeys") && i < len(x.Values) {
					if cl, ok := x.Values[i].(*ast.CompositeLit); ok {
						for _, e := range cl.Elts {
							lit(e)
						}
					}
				}
			}
		}
		return true
	})
	if len(keys) < 40 {
		t.Fatalf("found only %d keys in ecs.go: the reader no longer understands the renderer", len(keys))
	}
	return keys
}

// The mapping is exactly what the renderer can write: no key it writes is unmapped, no mapped
// key is one it never writes.
func TestMappingMatchesRendererSource(t *testing.T) {
	src := ecsKeysInSource(t)
	mapped := esout.Fields(esout.StreamASA)
	for k := range src {
		if _, ok := mapped[k]; !ok {
			t.Errorf("ciscolog/ecs.go writes %q; the events mapping (collector/esout/mapping.go) lacks it", k)
		}
	}
	for k := range mapped {
		if !src[k] {
			t.Errorf("the events mapping has %q, which ciscolog/ecs.go never writes", k)
		}
	}
}

// renderedEvents renders the repository's syslog samples and a generated day of both site
// profiles (every kind of line the generator makes) as ECS documents.
func renderedEvents(t *testing.T) [][]byte {
	t.Helper()
	var lines [][]byte
	files, _ := filepath.Glob("../../testdata/syslog/*.log")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(b, []byte("\n"))...)
	}
	for _, prof := range []string{scenario.ProfileClinic, scenario.ProfileHarbor} {
		var buf bytes.Buffer
		if _, err := scenario.Generate(context.Background(), scenario.Config{Seed: 5, Days: 2, LinesPerDay: 3000, Profile: prof,
			Start: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}, scenario.Writers{All: &buf}); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(buf.Bytes(), []byte("\n"))...)
	}
	p := ciscolog.NewParser(ciscolog.Options{Now: func() time.Time { return time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC) }})
	var docs [][]byte
	var ev ciscolog.Event
	for _, l := range lines {
		if len(l) == 0 {
			continue
		}
		p.Parse(l, &ev)
		docs = append(docs, ciscolog.AppendECS(nil, &ev))
	}
	return docs
}

// Every field of every rendered event is mapped, with a value its mapped type takes.
func TestRenderedEventsAreMapped(t *testing.T) {
	mapped := esout.Fields(esout.StreamASA)
	seen := map[string]int{}
	docs := renderedEvents(t)
	bad := 0
	for _, d := range docs {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(d))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("rendered event is not JSON: %v: %s", err, d)
		}
		for k, v := range m {
			seen[k]++
			typ, ok := mapped[k]
			if !ok {
				t.Errorf("rendered field %q is not mapped (event %s)", k, d)
				bad++
				continue
			}
			vals := []any{v}
			if arr, ok := v.([]any); ok {
				vals = arr
			}
			for _, e := range vals {
				if !fits(typ, e) {
					t.Errorf("field %q = %#v does not fit its mapped type %s", k, e, typ)
					bad++
				}
			}
		}
		if bad > 20 {
			t.Fatal("too many")
		}
	}
	var never []string
	for k := range mapped {
		if seen[k] == 0 {
			never = append(never, k)
		}
	}
	slices.Sort(never)
	t.Logf("%d events, %d of %d mapped fields seen; not in these samples: %v", len(docs), len(seen), len(mapped), never)
	if len(seen) < len(mapped)*3/4 {
		t.Errorf("the samples carry only %d of %d mapped fields", len(seen), len(mapped))
	}
}

func fits(typ string, v any) bool {
	switch typ {
	case "ip":
		s, ok := v.(string)
		_, err := netip.ParseAddr(s)
		return ok && err == nil
	case "long":
		n, ok := v.(json.Number)
		_, err := strconv.ParseInt(string(n), 10, 64)
		return ok && err == nil
	case "date":
		s, ok := v.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		return ok && err == nil
	case "keyword", "text", "keyword-unindexed":
		_, ok := v.(string)
		return ok
	}
	return false
}
