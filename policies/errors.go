package policies

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem found in a policy: where it is and what is wrong. Line and Column are
// 1-based and zero when the problem has no place in a file (a missing file, a default value).
// Field is the YAML path inside File, without the leading "$." (e.g. "networks[2].prefixes[0]").
type Error struct {
	File   string
	Line   int
	Column int
	Field  string
	Msg    string
	Err    error // the underlying cause when there is one (e.g. fs.ErrNotExist), for errors.Is
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Error formats as "file:line:col: field: msg", leaving out the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one Load, sorted by file, line and column. Load returns it
// (as error) whenever it finds at least one problem, so `policy check` can show them all; use
// errors.As to get at the list.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// maxErrors bounds what one Load reports: past it, the rest are summarised in one line.
const maxErrors = 100

// errorList collects problems while loading; err returns nil when there were none.
type errorList struct {
	list    Errors
	dropped int
}

func (l *errorList) add(e *Error) {
	if len(l.list) >= maxErrors {
		l.dropped++
		return
	}
	l.list = append(l.list, e)
}

func (l *errorList) err() error {
	if len(l.list) == 0 {
		return nil
	}
	l.list.sort()
	if l.dropped > 0 {
		last := l.list[len(l.list)-1]
		l.list = append(l.list, &Error{File: last.File, Line: last.Line, Column: last.Column,
			Msg: fmt.Sprintf("and %d more problems; fix these first", l.dropped)})
		l.dropped = 0
	}
	return l.list
}
