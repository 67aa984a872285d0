package asaconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// ErrShowACL is wrapped by errors of ParseShowAccessList.
var ErrShowACL = errors.New("malformed show access-list output")

// ShowACL is one access-list of `show access-list` output.
type ShowACL struct {
	Name     string
	Elements int // from the header: expanded ACEs
	Hash     string
	Lines    []ShowACLLine
}

// ShowACLLine is one numbered line; Children are the expanded ACEs shown
// under an ACE that uses objects or object-groups.
type ShowACLLine struct {
	Line     int
	Text     string // as in the running-config: "access-list NAME extended …"
	IsRemark bool
	Remark   string
	Typed    bool // ACE holds the parsed entry
	ACE      ACE
	Hits     uint64
	Inactive bool
	Hash     string
	Children []ShowACLChild
}

// ShowACLChild is an expanded ACE.
type ShowACLChild struct {
	Text  string
	Typed bool
	ACE   ACE
	Hits  uint64
	Hash  string
}

var (
	showHeaderRE = regexp.MustCompile(`^access-list (\S+); (\d+) elements(?:; name hash: (0x[0-9a-fA-F]+))?`)
	showLineRE   = regexp.MustCompile(`^access-list (\S+) line (\d+) (.*)$`)
	showHashRE   = regexp.MustCompile(` (0x[0-9a-fA-F]+)$`)
	showParenRE  = regexp.MustCompile(` \(([^()]*)\)$`)
)

// ParseShowAccessList parses `show access-list [NAME]` output. Lines other
// than headers, numbered lines and their indented children are ignored.
// Errors name the input line.
func ParseShowAccessList(text []byte) ([]ShowACL, error) {
	if len(text) > MaxConfigSize {
		return nil, fmt.Errorf("%d bytes: %w", len(text), ErrShowACL)
	}
	var out []ShowACL
	p := &parser{names: map[string]netip.Addr{}, objKind: map[string]string{}}
	for i, raw := range strings.Split(string(text), "\n") {
		l := strings.TrimRight(raw, "\r ")
		child := strings.HasPrefix(l, "  access-list ")
		l = strings.TrimLeft(l, " ")
		if m := showHeaderRE.FindStringSubmatch(l); m != nil {
			n, err := strconv.Atoi(m[2])
			if err != nil {
				return nil, fmt.Errorf("line %d: elements %q: %w", i+1, m[2], ErrShowACL)
			}
			out = append(out, ShowACL{Name: m[1], Elements: n, Hash: m[3]})
			continue
		}
		m := showLineRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Name != m[1] {
			out = append(out, ShowACL{Name: m[1], Elements: -1})
		}
		acl := &out[len(out)-1]
		num, err := strconv.Atoi(m[2])
		if err != nil || num < 1 {
			return nil, fmt.Errorf("line %d: line number %q: %w", i+1, m[2], ErrShowACL)
		}
		body, hits, hash, inactive, err := splitShowSuffix(m[3])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		text := "access-list " + m[1] + " " + body
		var ace ACE
		typed := false
		if f := strings.Fields(body); len(f) > 1 && f[0] == "extended" {
			if a, err := p.parseACE(f[1:]); err == nil {
				ace, typed = a, true
			}
		}
		if child {
			n := len(acl.Lines)
			if n == 0 || acl.Lines[n-1].Line != num {
				return nil, fmt.Errorf("line %d: child of missing line %d: %w", i+1, num, ErrShowACL)
			}
			acl.Lines[n-1].Children = append(acl.Lines[n-1].Children, ShowACLChild{Text: text, Typed: typed, ACE: ace, Hits: hits, Hash: hash})
			continue
		}
		sl := ShowACLLine{Line: num, Text: text, Typed: typed, ACE: ace, Hits: hits, Hash: hash, Inactive: inactive}
		if strings.HasPrefix(body, "remark") {
			sl.IsRemark = true
			sl.Remark = strings.TrimPrefix(strings.TrimPrefix(body, "remark"), " ")
			sl.Text = "access-list " + m[1] + " " + strings.TrimRight(m[3], " ")
		}
		acl.Lines = append(acl.Lines, sl)
	}
	return out, nil
}

// splitShowSuffix strips the trailing hash and parenthesized counters.
func splitShowSuffix(s string) (body string, hits uint64, hash string, inactive bool, err error) {
	if strings.HasPrefix(s, "remark") {
		return s, 0, "", false, nil
	}
	if m := showHashRE.FindStringSubmatch(s); m != nil {
		hash = m[1]
		s = s[:len(s)-len(m[0])]
	}
	for {
		m := showParenRE.FindStringSubmatch(s)
		if m == nil {
			break
		}
		switch {
		case strings.HasPrefix(m[1], "hitcnt="):
			hits, err = strconv.ParseUint(strings.TrimPrefix(m[1], "hitcnt="), 10, 64)
			if err != nil {
				return "", 0, "", false, fmt.Errorf("hitcnt %q: %w", m[1], ErrShowACL)
			}
		case m[1] == "inactive":
			inactive = true
		}
		s = s[:len(s)-len(m[0])]
	}
	return s, hits, hash, inactive, nil
}

// Find returns the first numbered line whose typed ACE equals ace (log
// options aside).
func (s ShowACL) Find(ace ACE) (ShowACLLine, bool) {
	for _, l := range s.Lines {
		if l.Typed && sameACE(l.ACE, ace) {
			return l, true
		}
	}
	return ShowACLLine{}, false
}

// HitsFrom sums the hits of the expanded children whose source is inside
// target (a block's member); ok is false when no child matches.
func (l ShowACLLine) HitsFrom(target netip.Prefix) (hits uint64, ok bool) {
	t := target.Masked()
	for _, c := range l.Children {
		if !c.Typed || (c.ACE.Src.Kind != AddrHost && c.ACE.Src.Kind != AddrPrefix) {
			continue
		}
		sp := c.ACE.Src.Prefix.Masked()
		if t.Bits() <= sp.Bits() && t.Contains(sp.Addr()) {
			hits += c.Hits
			ok = true
		}
	}
	return hits, ok
}

// HitsTo is HitsFrom for the destination: the hits of the expanded
// children whose destination is inside target (an egress block's member).
func (l ShowACLLine) HitsTo(target netip.Prefix) (hits uint64, ok bool) {
	t := target.Masked()
	for _, c := range l.Children {
		if !c.Typed || (c.ACE.Dst.Kind != AddrHost && c.ACE.Dst.Kind != AddrPrefix) {
			continue
		}
		dp := c.ACE.Dst.Prefix.Masked()
		if t.Bits() <= dp.Bits() && t.Contains(dp.Addr()) {
			hits += c.Hits
			ok = true
		}
	}
	return hits, ok
}
