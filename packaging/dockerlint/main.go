// Command dockerlint checks packaging/Dockerfile where no Docker daemon can build it: BuildKit's
// own parser and linter (the checks `docker build --check` runs at parse time), then the rules
// this project's image must keep: multi-stage, a static binary, a non-root final user, no
// remote ADD. It lives in its own module so the main module does not carry BuildKit.
//
// Usage: go run . ../Dockerfile   (exit 1 with one line per problem)
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerlint DOCKERFILE")
		os.Exit(2)
	}
	problems, err := lint(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dockerlint:", err)
		os.Exit(1)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	fmt.Printf("dockerlint: %s: ok\n", os.Args[1])
}

func lint(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var problems []string
	for _, w := range res.Warnings {
		problems = append(problems, fmt.Sprintf("%s: %s", path, w.Short))
	}
	lt := linter.New(&linter.Config{ExperimentalAll: true, Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", path, line, rule, msg))
	}})
	stages, _, err := instructions.Parse(res.AST, lt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return append(problems, projectRules(path, stages)...), nil
}

// projectRules are what the image promises in the README: built in one stage, shipped in another,
// static, and never running as root.
func projectRules(path string, stages []instructions.Stage) []string {
	var out []string
	if len(stages) < 2 {
		out = append(out, fmt.Sprintf("%s: want a multi-stage build, have %d stage(s)", path, len(stages)))
		return out
	}
	static := false
	for _, st := range stages[:len(stages)-1] {
		for _, c := range st.Commands {
			if r, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(r.CmdLine, " "), "CGO_ENABLED=0") {
				static = true
			}
		}
	}
	if !static {
		out = append(out, fmt.Sprintf("%s: the build stage must set CGO_ENABLED=0 (static binary)", path))
	}
	user := ""
	for _, st := range stages {
		for _, c := range st.Commands {
			if a, ok := c.(*instructions.AddCommand); ok {
				for _, s := range a.SourcePaths {
					if strings.Contains(s, "://") {
						out = append(out, fmt.Sprintf("%s: ADD of a remote source %q: fetch in a RUN with a checksum", path, s))
					}
				}
			}
		}
	}
	for _, c := range stages[len(stages)-1].Commands {
		if u, ok := c.(*instructions.UserCommand); ok {
			user = u.User
		}
	}
	name := strings.SplitN(user, ":", 2)[0]
	if name == "" || name == "root" || name == "0" {
		out = append(out, fmt.Sprintf("%s: the final stage must set a non-root USER (have %q)", path, user))
	}
	return out
}
