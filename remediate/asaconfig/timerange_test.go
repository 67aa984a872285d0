package asaconfig

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const trBase = `hostname fw1
clock timezone CET 1
interface Ethernet0/0
 nameif outside
 security-level 0
 ip address 198.51.100.2 255.255.255.248
access-list OUTSIDE_IN remark management
access-list OUTSIDE_IN extended permit tcp host 192.0.2.50 host 198.51.100.2 eq ssh
access-list OUTSIDE_IN extended deny ip any any
access-group OUTSIDE_IN in interface outside
`

// The end a temporary block is given is the minute before the intended
// end in the box's wall clock (the end minute is inclusive), and maps back
// to the intended end.
func TestDeviceWallAndInstant(t *testing.T) {
	for _, tc := range []struct {
		at   string
		off  time.Duration
		wall string
		back string
	}{
		{"2026-03-02T12:00:00Z", 0, "2026-03-02 11:59", "2026-03-02T12:00:00Z"},
		{"2026-03-02T12:00:01Z", 0, "2026-03-02 12:00", "2026-03-02T12:01:00Z"}, // never early
		{"2026-03-02T12:00:00Z", time.Hour, "2026-03-02 12:59", "2026-03-02T12:00:00Z"},
		{"2026-03-02T23:30:00Z", 5*time.Hour + 30*time.Minute, "2026-03-03 04:59", "2026-03-02T23:30:00Z"},
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		w := DeviceWall(at, tc.off)
		if got := w.Format("2006-01-02 15:04"); got != tc.wall {
			t.Errorf("DeviceWall(%s, %v) = %s, want %s", tc.at, tc.off, got, tc.wall)
		}
		if got := DeviceInstant(w, tc.off).Format(time.RFC3339); got != tc.back {
			t.Errorf("DeviceInstant = %s, want %s", got, tc.back)
		}
	}
}

func TestTemporaryBlockPlanApplyUnblock(t *testing.T) {
	c, err := Parse([]byte(trBase))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 3, 3, 10, 59, 0, 0, time.UTC)
	b := Block{ProposalID: "p-0007", Target: pfx("203.0.113.0/28"), Group: "FIREBREAK_BLOCK", Interface: "outside", Shun: false, End: end}
	pl, err := c.PlanBlock(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := RenderAll(pl.Changes)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"time-range FIREBREAK-p-0007", "absolute end 10:59 3 March 2026", "exit",
		"access-list OUTSIDE_IN line 3 extended deny ip 203.0.113.0 255.255.255.240 any time-range FIREBREAK-p-0007",
		"access-list OUTSIDE_IN line 3 remark firebreak p-0007 block",
	}
	if !slices.Equal(ls, want) {
		t.Fatalf("lines %q\nwant %q", ls, want)
	}
	// The stored form round-trips.
	enc, err := MarshalChanges(pl.Changes)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := UnmarshalChanges(enc)
	if err != nil || !slices.EqualFunc(dec, pl.Changes, func(a, b Change) bool { return a.String() == b.String() }) {
		t.Fatalf("codec: %v %v", dec, err)
	}
	after := mustApply(t, c, pl.Changes...)
	if tr, ok := after.TimeRange("FIREBREAK-p-0007"); !ok || !tr.End.Equal(end) {
		t.Fatalf("time-range %+v %v", tr, ok)
	}
	if !strings.Contains(after.Render(), "time-range FIREBREAK-p-0007\n absolute end 10:59 3 March 2026\n") {
		t.Errorf("render:\n%s", after.Render())
	}
	// The fingerprint covers the range's end: a changed end is drift.
	scope := ScopeOf(pl.Changes)
	moved := mustApply(t, c, CreateTimeRange{Name: "FIREBREAK-p-0007", End: end.Add(time.Hour)}, pl.Changes[1], pl.Changes[2])
	if moved.Fingerprint(scope) == after.Fingerprint(scope) {
		t.Error("fingerprint ignores the time-range end")
	}
	if miss := moved.Missing(pl.Changes); len(miss) != 1 || !strings.Contains(miss[0], "ends 11:59") {
		t.Errorf("Missing = %q", miss)
	}
	if miss := after.Missing(pl.Changes); len(miss) != 0 {
		t.Errorf("Missing on the applied config = %q", miss)
	}
	// The range cannot go while the ACE names it; an ACE cannot name a range that is not there.
	if _, err := after.Apply([]Change{DeleteTimeRange{Name: "FIREBREAK-p-0007", End: end}}); !errors.Is(err, ErrInUse) {
		t.Errorf("delete used range: %v", err)
	}
	if _, err := c.Apply(pl.Changes[1:2]); !errors.Is(err, ErrNotFound) {
		t.Errorf("ACE without its range: %v", err)
	}
	un, err := after.PlanUnblock(Block{ProposalID: "p-0007", Target: b.Target, Group: b.Group, Interface: "outside"})
	if err != nil {
		t.Fatal(err)
	}
	if back := mustApply(t, after, un.Changes...); back.Render() != c.Render() {
		t.Errorf("unblock not exact:\n%s", back.Render())
	}
	// Steps undo exactly, line by line.
	st, err := Steps(pl.Changes)
	if err != nil || st[0].Undo != "no time-range FIREBREAK-p-0007" || st[1].Mode != "time-range FIREBREAK-p-0007" {
		t.Errorf("steps %+v %v", st, err)
	}
}
