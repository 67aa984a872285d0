package remediate_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak-dev/firebreak/devices/fakeasa"
	"github.com/firebreak-dev/firebreak/remediate"
)

// deviceTrace runs packet-tracer on the box over SSH and returns its
// "Action:" word.
func (r *rig) deviceTrace(line string) string {
	r.t.Helper()
	dev, _ := r.pol.DeviceByName("fw1")
	out, err := (remediate.SSH{}).Show(context.Background(), dev, line)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, l := range strings.Split(out, "\n") {
		if a, ok := strings.CutPrefix(strings.TrimSpace(l), "Action:"); ok {
			return strings.TrimSpace(a)
		}
	}
	r.t.Fatalf("no Action in packet-tracer output:\n%s", out)
	return ""
}

// scannerTrace is the scanner at the public https service (by its real
// address: the model has no NAT).
const scannerTrace = "packet-tracer input outside tcp 203.0.113.7 40000 172.16.20.11 443"

// A temporary block carries a time-range whose absolute end is the block's
// end on the box's clock (its clock timezone applied): once the box's clock
// passes it, the box's own data path lets the address in again, with
// firebreak not running at all.
func TestBlockEndsOnTheDeviceWithoutFirebreak(t *testing.T) {
	for _, tc := range []struct {
		name, zone, end string
	}{
		// The end minute is inclusive on the box: the last minute before 12:00 UTC.
		{"utc", "", "absolute end 11:59 2 March 2026"},
		{"cet", "clock timezone CET 1\n", "absolute end 12:59 2 March 2026"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOpts{remediation: "  block_duration: 2h\n", fake: func(c *fakeasa.Config) {
				c.RunningConfig = strings.Replace(c.RunningConfig, "hostname fw1\n", "hostname fw1\n"+tc.zone, 1)
				c.RunningConfig = strings.Replace(c.RunningConfig, "host 198.51.100.4 eq https", "host 172.16.20.11 eq https", 1)
			}})
			if got := r.deviceTrace(scannerTrace); got != "allow" {
				t.Fatalf("before the block: %s", got)
			}
			p := r.propose(scan("f1", "203.0.113.7"))[0]
			d := r.approve(p.ID)
			want := []string{
				"time-range FIREBREAK-" + p.ID,
				tc.end,
				"exit",
				"access-list OUTSIDE_IN line 3 extended deny ip host 203.0.113.7 any time-range FIREBREAK-" + p.ID,
				"access-list OUTSIDE_IN line 3 remark firebreak " + p.ID + " block",
			}
			if !slices.Equal(d.Lines, want) {
				t.Fatalf("lines %q, want %q", d.Lines, want)
			}
			res, err := r.m.Push(context.Background(), p.ID, operator)
			if err != nil {
				t.Fatal(err)
			}
			got := res.Proposal
			if end := r.clk.Now().Add(2 * time.Hour); !got.ExpiresAt.Equal(end) {
				t.Errorf("ExpiresAt %v, want the device's end %v", got.ExpiresAt, end)
			}
			if !strings.Contains(r.srv.Running(), "time-range FIREBREAK-"+p.ID+"\n "+tc.end+"\n") || r.srv.Startup() != r.srv.Running() {
				t.Errorf("device config:\n%s", r.srv.Running())
			}
			r.clk.Add(time.Hour + 59*time.Minute + 59*time.Second)
			if got := r.deviceTrace(scannerTrace); got != "drop" {
				t.Fatalf("a second before the end: %s", got)
			}
			// firebreak is not asked anything from here on.
			r.clk.Add(time.Second)
			if got := r.deviceTrace(scannerTrace); got != "allow" {
				t.Errorf("at the end, with firebreak down: %s, want allow", got)
			}
			if got := r.get(p.ID); got.State != remediate.StateApplied {
				t.Errorf("state %s: firebreak did something", got.State)
			}
		})
	}
}

// Expiry removes the entries of a temporary block and its time-range
// exactly, leaving the configuration as before the block.
func TestExpiredTemporaryBlockRemovedExactly(t *testing.T) {
	r := newRig(t, rigOpts{remediation: "  block_duration: 2h\n  auto_remove_on_expiry: true\n"})
	ctx := context.Background()
	p := r.propose(exfil("f1"))[0]
	r.pushOK(p.ID)
	if !strings.Contains(r.srv.Running(), "access-list INSIDE_IN extended deny ip any host 192.0.2.144 time-range FIREBREAK-"+p.ID) {
		t.Fatalf("egress deny missing:\n%s", r.srv.Running())
	}
	r.clk.Add(2 * time.Hour)
	res, err := r.m.Expire(ctx, r.clk.Now())
	if err != nil || len(res.Removals) != 1 || res.Removals[0].State != remediate.StateApplied {
		t.Fatalf("Expire = %+v, %v", res, err)
	}
	if got := r.srv.Running(); got != r.start {
		t.Errorf("not removed exactly:\n%s", got)
	}
	if got := r.get(p.ID); got.State != remediate.StateExpired {
		t.Errorf("original %s", got.State)
	}
}

// A quarantine's denies carry the time-range too, and its release removes
// them and the range.
func TestTemporaryQuarantine(t *testing.T) {
	r := newRig(t, rigOpts{remediation: "  block_duration: {block: 24h, quarantine: 4h}\n"})
	ctx := context.Background()
	p := r.propose(critical("f1", "10.20.0.77"))[0]
	if p.Kind != remediate.KindQuarantine {
		t.Fatalf("proposal %+v", p)
	}
	r.approve(p.ID)
	if _, err := r.m.Push(ctx, p.ID, operator); err != nil {
		t.Fatal(err)
	}
	run := r.srv.Running()
	if !strings.Contains(run, "access-list INSIDE_IN extended deny ip host 10.20.0.77 any time-range FIREBREAK-"+p.ID) ||
		!strings.Contains(run, " absolute end 13:59 2 March 2026\n") {
		t.Fatalf("quarantine:\n%s", run)
	}
	if _, err := r.m.Revert(ctx, p.ID, operator, "done"); err != nil {
		t.Fatal(err)
	}
	if got := r.srv.Running(); got != r.start {
		t.Errorf("release not exact:\n%s", got)
	}
}

// The box ends a temporary block by its own clock: a push warns when that
// clock is off, and reconciliation reports the skew (read with the box's
// clock timezone, which the end is rendered in).
func TestDeviceClockSkewReported(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ahead time.Duration
		warn  bool
	}{
		{"in step", 0, false},
		{"ten minutes fast", 10 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *rig
			r = newRig(t, rigOpts{remediation: "  block_duration: 2h\n", fake: func(c *fakeasa.Config) {
				c.RunningConfig = strings.Replace(c.RunningConfig, "hostname fw1\n", "hostname fw1\nclock timezone CET 1\n", 1)
				c.Now = func() time.Time { return r.clk.Now().Add(tc.ahead) }
			}})
			ctx := context.Background()
			p := r.propose(scan("f1", "203.0.113.7"))[0]
			r.approve(p.ID)
			res, err := r.m.Push(ctx, p.ID, operator)
			if err != nil {
				t.Fatal(err)
			}
			warned := slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "the ASA's clock is 10m0s from firebreak's") })
			if warned != tc.warn {
				t.Errorf("push warnings %q, want a clock warning: %v", res.Warnings, tc.warn)
			}
			rep, err := r.m.Reconcile(ctx, r.clk.Now())
			if err != nil || len(rep.Clocks) != 1 || rep.Clocks[0].SkewSeconds != tc.ahead.Seconds() || (len(rep.Warnings) == 1) != tc.warn {
				t.Errorf("reconcile %+v %v", rep, err)
			}
		})
	}
}
