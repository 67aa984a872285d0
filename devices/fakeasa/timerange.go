package fakeasa

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Time-ranges, from the ASA configuration guide ("Configuring Time Ranges")
// and command reference (time-range, absolute, periodic):
//
//	time-range NAME                        enters (config-time-range)#
//	 absolute [start hh:mm d month yyyy] [end hh:mm d month yyyy]
//	 periodic DAYS hh:mm to [DAY] hh:mm     DAYS: Monday..Sunday, daily, weekdays, weekend
//
// An ACE with `time-range NAME` is enforced only while the range is active
// by the box's clock (Config.Now, SetNow; zone from `clock timezone`). The
// absolute end is inclusive, as the configuration guide says ("if the
// specified end time is 3:50, because the end time is inclusive, the command
// is picked up anywhere between 3:51:00 and 3:51:59"): the range is active
// through the end minute and inactive from the next one. The fake has none
// of the further delay of a real box (80 to 100 seconds after the end per
// the guide). Periodic ends are exclusive. An ACE naming a
// range that does not exist is never enforced (unconfirmed on a real box;
// the fake's CLI refuses to add such an ACE).

// timeRangeActive evaluates the sub-lines of a time-range at now.
func timeRangeActive(lines []string, now time.Time) bool {
	wall := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), now.Minute(), 0, 0, time.UTC)
	periodic, inPeriod := false, false
	for _, l := range lines {
		f := fields(l)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "absolute":
			for i := 1; i+5 <= len(f); i += 5 {
				at, ok := wallTime(f[i+1 : i+5])
				if !ok {
					break
				}
				if f[i] == "start" && wall.Before(at) || f[i] == "end" && wall.After(at) {
					return false
				}
			}
		case "periodic":
			periodic = true
			if periodMatches(f[1:], now.Weekday(), now.Hour()*60+now.Minute()) {
				inPeriod = true
			}
		}
	}
	return !periodic || inPeriod
}

var monthNames = func() map[string]time.Month {
	m := map[string]time.Month{}
	for i := time.January; i <= time.December; i++ {
		m[i.String()] = i
		m[i.String()[:3]] = i
	}
	return m
}()

// wallTime reads "hh:mm d month yyyy" as a zone-less wall-clock time.
func wallTime(f []string) (time.Time, bool) {
	mins, ok := hhmm(f[0])
	if !ok {
		return time.Time{}, false
	}
	d, err1 := strconv.Atoi(f[1])
	mon, ok := monthNames[f[2]]
	y, err2 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || !ok {
		return time.Time{}, false
	}
	return time.Date(y, mon, d, mins/60, mins%60, 0, 0, time.UTC), true
}

func hhmm(s string) (int, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 {
		return 0, false
	}
	return hh*60 + mm, true
}

var dayNames = map[string][]time.Weekday{
	"Monday": {time.Monday}, "Tuesday": {time.Tuesday}, "Wednesday": {time.Wednesday},
	"Thursday": {time.Thursday}, "Friday": {time.Friday}, "Saturday": {time.Saturday}, "Sunday": {time.Sunday},
	"daily":    {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday},
	"weekdays": {time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
	"weekend":  {time.Saturday, time.Sunday},
}

// periodMatches evaluates "DAYS hh:mm to [DAY] hh:mm" at a weekday and
// minute of the day.
func periodMatches(f []string, day time.Weekday, minute int) bool {
	var days []time.Weekday
	i := 0
	for ; i < len(f); i++ {
		d, ok := dayNames[f[i]]
		if !ok {
			break
		}
		days = append(days, d...)
	}
	if i+2 >= len(f) || f[i+1] != "to" {
		return false
	}
	from, ok := hhmm(f[i])
	if !ok {
		return false
	}
	if i+3 < len(f) {
		// "Monday 8:00 to Friday 17:00": a span over the week, counted
		// from Monday 00:00.
		endDay, ok1 := dayNames[f[i+2]]
		to, ok2 := hhmm(f[i+3])
		if !ok1 || !ok2 || len(days) != 1 || len(endDay) != 1 {
			return false
		}
		weekMin := func(d time.Weekday, m int) int { return ((int(d)+6)%7)*1440 + m }
		now, a, b := weekMin(day, minute), weekMin(days[0], from), weekMin(endDay[0], to)
		if a <= b {
			return now >= a && now < b
		}
		return now >= a || now < b
	}
	to, ok := hhmm(f[i+2])
	if !ok {
		return false
	}
	return slices.Contains(days, day) && minute >= from && minute < to
}

// timeRangeItem finds the verbatim item of a time-range.
func (m *model) timeRangeItem(name string) int {
	for i, it := range m.items {
		if it.kind == itemVerbatim && len(it.lines) > 0 && it.lines[0] == "time-range "+name {
			return i
		}
	}
	return -1
}

// timeRangeInUse reports whether an ACE names the time-range.
func (m *model) timeRangeInUse(name string) bool {
	for _, a := range m.acls {
		for _, e := range a.entries {
			for i := 0; i+1 < len(e.tail); i++ {
				if e.tail[i] == "time-range" && e.tail[i+1] == name {
					return true
				}
			}
		}
	}
	return false
}

// enterTimeRange handles "time-range NAME" in configuration mode: it creates
// the range (before the object-groups and access-lists, which may refer to
// it) and enters its sub-mode.
func (s *cliSession) enterTimeRange(toks []token) (result, *cliError) {
	m := s.srv.m
	if len(toks) < 2 {
		return result{}, incomplete()
	}
	if len(toks) > 2 {
		return result{}, invalidAt(toks[2].pos)
	}
	name := toks[1].s
	if !validName(name) {
		return result{}, invalidAt(toks[1].pos)
	}
	if m.timeRangeItem(name) < 0 {
		at := len(m.items)
		for _, k := range []itemKind{itemGroups, itemACLs} {
			if i := m.indexOf(k); i >= 0 && i < at {
				at = i
			}
		}
		m.items = slices.Insert(m.items, at, item{kind: itemVerbatim, lines: []string{"time-range " + name}})
	}
	s.mode, s.timeRange = modeTimeRange, name
	return result{}, nil
}

// removeTimeRange handles "no time-range NAME".
func (s *cliSession) removeTimeRange(toks []token) (result, *cliError) {
	m := s.srv.m
	if len(toks) < 3 {
		return result{}, incomplete()
	}
	i := m.timeRangeItem(toks[2].s)
	if i < 0 {
		return result{}, devErr("ERROR: time-range %s does not exist", toks[2].s)
	}
	if m.timeRangeInUse(toks[2].s) {
		return result{}, devErr("ERROR: time-range %s is in use", toks[2].s)
	}
	m.items = slices.Delete(m.items, i, i+1)
	return result{}, nil
}

// timeRangeCmd handles the (config-time-range)# sub-mode; handled is false
// for a global command, which leaves the sub-mode.
func (s *cliSession) timeRangeCmd(line string, toks []token) (result, bool, *cliError) {
	m := s.srv.m
	i := m.timeRangeItem(s.timeRange)
	if i < 0 {
		s.mode, s.timeRange = modeConfig, ""
		return result{}, false, nil
	}
	neg := toks[0].s == "no" && len(toks) > 1
	f := toks
	if neg {
		f = toks[1:]
	}
	switch f[0].s {
	case "exit":
		s.mode, s.timeRange = modeConfig, ""
		return result{}, true, nil
	case "end":
		s.mode, s.timeRange = modePriv, ""
		return result{}, true, nil
	case "absolute":
		lines := m.items[i].lines
		if neg {
			m.items[i].lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, " absolute") })
			return result{}, true, nil
		}
		w := fields(line)
		if err := checkAbsolute(toks); err != nil {
			return result{}, true, err
		}
		// One absolute line per range: a new one replaces the old.
		lines = slices.DeleteFunc(lines, func(l string) bool { return strings.HasPrefix(l, " absolute") })
		m.items[i].lines = append(lines, " "+strings.Join(w, " "))
		return result{}, true, nil
	case "periodic":
		w := fields(line)
		if neg {
			w = w[1:]
		}
		text := " " + strings.Join(w, " ")
		if len(w) < 4 {
			return result{}, true, incomplete()
		}
		if neg {
			m.items[i].lines = slices.DeleteFunc(m.items[i].lines, func(l string) bool { return l == text })
			return result{}, true, nil
		}
		if !slices.Contains(m.items[i].lines, text) {
			m.items[i].lines = append(m.items[i].lines, text)
		}
		return result{}, true, nil
	}
	return result{}, false, nil
}

// checkAbsolute validates "absolute [start T] [end T]" (T: hh:mm d month yyyy).
func checkAbsolute(toks []token) *cliError {
	if len(toks) < 6 {
		return incomplete()
	}
	seen := map[string]bool{}
	for i := 1; i < len(toks); i += 5 {
		kw := toks[i].s
		if (kw != "start" && kw != "end") || seen[kw] {
			return invalidAt(toks[i].pos)
		}
		seen[kw] = true
		if i+5 > len(toks) {
			return incomplete()
		}
		var f []string
		for _, t := range toks[i+1 : i+5] {
			f = append(f, t.s)
		}
		if _, ok := wallTime(f); !ok {
			return invalidAt(toks[i+1].pos)
		}
	}
	return nil
}

// describeTimeRange renders "show time-range" for one range.
func describeTimeRange(name string, lines []string, now time.Time) string {
	state := "inactive"
	if timeRangeActive(lines, now) {
		state = "active"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "time-range entry: %s (%s)\n", name, state)
	for _, l := range lines {
		fmt.Fprintf(&b, "   %s\n", l)
	}
	return b.String()
}
