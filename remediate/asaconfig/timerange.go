package asaconfig

import (
	"fmt"
	"strings"
	"time"
)

// Temporary entries: a block or quarantine with an end carries
// `time-range NAME` on each of its ACEs, and NAME has one line
// `absolute end HH:MM D Month YYYY` (the ASA command reference,
// "time-range" and "absolute"). The ASA stops enforcing the ACEs by its own
// clock, even when firebreak is down; firebreak deletes the entries later.
// The end minute is inclusive (configuration guide, "Scheduling Extended
// Access List Activation"), so the line names the minute before the
// intended end; a real ASA then takes about a further 20 to 100 seconds to
// deactivate the ACEs. The ASA's clock must be right (NTP).

// TimeRangeName is the name of the time-range of a proposal's entries.
func TimeRangeName(proposalID string) string { return "FIREBREAK-" + proposalID }

// DeviceWall is the `absolute end` for entries that must stop at instant
// at, on a device whose configuration has clock offset off: the last wall
// clock minute they are enforced (zone-less, in a UTC time), the minute
// before at rounded up to the minute.
func DeviceWall(at time.Time, off time.Duration) time.Time {
	w := at.UTC().Add(off)
	if t := w.Truncate(time.Minute); !t.Equal(w) {
		w = t.Add(time.Minute)
	}
	return w.Add(-time.Minute)
}

// DeviceInstant is the inverse of DeviceWall: the instant entries with
// `absolute end` wall on a device with clock offset off stop being enforced
// (the end of that minute; the box's own delay aside).
func DeviceInstant(wall time.Time, off time.Duration) time.Time {
	return time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, time.UTC).Add(time.Minute - off)
}

// CreateTimeRange creates `time-range Name` with `absolute end End` (End
// is the device's wall clock: only its fields are read, to the minute).
// Its inverse is DeleteTimeRange.
type CreateTimeRange struct {
	Name string
	End  time.Time
}

// DeleteTimeRange deletes an unreferenced time-range whose only line is
// `absolute end End`. Its inverse is CreateTimeRange.
type DeleteTimeRange struct {
	Name string
	End  time.Time
}

func (CreateTimeRange) Mode() Mode { return ModeConfig }
func (DeleteTimeRange) Mode() Mode { return ModeConfig }

func (x CreateTimeRange) Inverse() Change { return DeleteTimeRange(x) }
func (x DeleteTimeRange) Inverse() Change { return CreateTimeRange(x) }

func (x CreateTimeRange) String() string {
	return "create time-range " + x.Name + " ending " + x.End.Format("2006-01-02 15:04")
}
func (x DeleteTimeRange) String() string { return "delete time-range " + x.Name }

// absoluteEnd renders the sub-line, refusing times the ASA does not take.
func absoluteEnd(end time.Time) (string, error) {
	if end.IsZero() || end.Year() < 1993 || end.Year() > 2035 {
		return "", fmt.Errorf("absolute end %v: %w", end, ErrBadValue)
	}
	return "absolute end " + end.Format("15:04 2 January 2006"), nil
}

func timeRangeLines(name string, end time.Time) (string, string, error) {
	if err := ValidateName(name); err != nil {
		return "", "", err
	}
	a, err := absoluteEnd(end)
	if err != nil {
		return "", "", err
	}
	return "time-range " + name, a, nil
}

func (x CreateTimeRange) Lines() ([]string, error) {
	h, a, err := timeRangeLines(x.Name, x.End)
	if err != nil {
		return nil, err
	}
	return lines(h, a, "exit")
}

func (x DeleteTimeRange) Lines() ([]string, error) {
	h, _, err := timeRangeLines(x.Name, x.End)
	if err != nil {
		return nil, err
	}
	return lines("no " + h)
}

// timeRangeSteps are the one-line steps of a time-range change (see
// [Steps]): the header creates the range, so its undo deletes it whole.
func timeRangeSteps(ch Change) ([]CLIStep, error) {
	switch x := ch.(type) {
	case CreateTimeRange:
		h, a, err := timeRangeLines(x.Name, x.End)
		if err != nil {
			return nil, err
		}
		return []CLIStep{{Do: h, Undo: "no " + h}, {Mode: h, Do: a}}, nil
	case DeleteTimeRange:
		h, a, err := timeRangeLines(x.Name, x.End)
		if err != nil {
			return nil, err
		}
		return []CLIStep{{Mode: h, Do: "no absolute", Undo: a}, {Do: "no " + h, Undo: h}}, nil
	}
	return nil, fmt.Errorf("%T is not a time-range change: %w", ch, ErrBadValue)
}

func (c *Config) timeRangeIndex(name string) int {
	return c.firstIndex(func(n node) bool { t, ok := n.v.(*TimeRange); return ok && t.Name == name })
}

// timeRangeRefs counts ACL entries naming the time-range.
func (c *Config) timeRangeRefs(name string) int {
	refs := 0
	for _, n := range c.nodes {
		if v, ok := n.v.(*aclNode); ok {
			if v.entry.Kind == EntryACE && v.entry.ACE.TimeRange == name {
				refs++
			} else if v.entry.Kind == EntryOther {
				f := strings.Fields(v.entry.Text)
				for i := 0; i+1 < len(f); i++ {
					if f[i] == "time-range" && f[i+1] == name {
						refs++
					}
				}
			}
		}
	}
	return refs
}

func sameMinute(a, b time.Time) bool {
	return a.Truncate(time.Minute).Equal(b.Truncate(time.Minute))
}

func (x CreateTimeRange) apply(c *Config) error {
	if c.timeRangeIndex(x.Name) >= 0 {
		return fmt.Errorf("time-range %s: %w", x.Name, ErrExists)
	}
	h, a, _ := timeRangeLines(x.Name, x.End)
	n := c.mkNode(h, " "+a)
	// Shown before the object-groups and access-lists that may use it.
	at := len(c.nodes)
	if i := c.firstIndex(func(n node) bool { return isGroupish(n) || isACLNode(n) }); i >= 0 {
		at = i
	}
	c.insertAt(at, n)
	return nil
}

func (x DeleteTimeRange) apply(c *Config) error {
	i := c.timeRangeIndex(x.Name)
	if i < 0 {
		return fmt.Errorf("time-range %s: %w", x.Name, ErrNotFound)
	}
	if r := c.timeRangeRefs(x.Name); r > 0 {
		return fmt.Errorf("time-range %s has %d references: %w", x.Name, r, ErrInUse)
	}
	t := c.nodes[i].v.(*TimeRange)
	if !t.Start.IsZero() || len(t.Periodic) > 0 || !sameMinute(t.End, x.End) || len(c.nodes[i].lines) != 2 {
		return fmt.Errorf("time-range %s is not the one firebreak made: %w", x.Name, ErrDrift)
	}
	c.removeAt(i)
	return nil
}
