package fakeasa

import (
	"slices"
	"strings"
)

// showClock handles "show clock" (the 8.x format "15:04:05.000 UTC Mon Jan 2
// 2006", in the `clock timezone` zone) and "show time-range [NAME]".
func (s *cliSession) showClock(toks []token) (result, *cliError) {
	m := s.srv.m
	v := m.view()
	now := s.srv.clock().In(v.zone)
	if toks[1].s == "clock" {
		return result{out: now.Format("15:04:05.000 MST Mon Jan 2 2006") + "\n"}, nil
	}
	var b strings.Builder
	names := make([]string, 0, len(v.timeRanges))
	for n := range v.timeRanges {
		if len(toks) < 3 || toks[2].s == n {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		b.WriteString(describeTimeRange(n, v.timeRanges[n], now))
	}
	return result{out: b.String()}, nil
}

// sameSecurity handles "[no] same-security-traffic permit inter-interface|intra-interface"
// (toks start at "same-security-traffic").
func (s *cliSession) sameSecurity(toks []token, remove bool) (result, *cliError) {
	m := s.srv.m
	if len(toks) < 3 {
		return result{}, incomplete()
	}
	if toks[1].s != "permit" {
		return result{}, invalidAt(toks[1].pos)
	}
	if toks[2].s != "inter-interface" && toks[2].s != "intra-interface" {
		return result{}, invalidAt(toks[2].pos)
	}
	text := "same-security-traffic permit " + toks[2].s
	i := slices.IndexFunc(m.items, func(it item) bool {
		return it.kind == itemVerbatim && len(it.lines) == 1 && it.lines[0] == text
	})
	switch {
	case remove && i >= 0:
		m.items = slices.Delete(m.items, i, i+1)
	case !remove && i < 0:
		at := len(m.items)
		if g := m.indexOf(itemGroups); g >= 0 {
			at = g
		}
		m.items = slices.Insert(m.items, at, item{kind: itemVerbatim, lines: []string{text}})
	}
	return result{}, nil
}

// checkTimeRangeRef refuses an ACE naming a time-range that does not exist
// (toks are the command's words).
func (m *model) checkTimeRangeRef(toks []token) *cliError {
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].s == "time-range" && m.timeRangeItem(toks[i+1].s) < 0 && toks[2].s != "remark" {
			return devErr("ERROR: time-range %s does not exist", toks[i+1].s)
		}
	}
	return nil
}
