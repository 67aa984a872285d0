package remediate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/firebreak-dev/firebreak/policies"
	"github.com/firebreak-dev/firebreak/remediate/asaconfig"
)

// MaxClockSkew is how far an ASA's clock may be from firebreak's before a
// push with a time-range warns and reconciliation reports it: the ASA ends
// a temporary block by its own wall clock, so a wrong clock (no NTP, summer
// time firebreak does not model) ends it early or late by as much.
const MaxClockSkew = 2 * time.Minute

// clockSkew reads `show clock` (read-only) and returns the device's clock
// minus firebreak's, reading the device's wall clock with cfg's clock
// timezone offset (the one time-ranges are rendered with).
func (m *Manager) clockSkew(ctx context.Context, dev *policies.Device, cfg *asaconfig.Config) (time.Duration, error) {
	out, err := m.pusher.Show(ctx, dev, "show clock")
	if err != nil {
		return 0, fmt.Errorf("show clock: %w", err)
	}
	wall, err := parseShowClock(out)
	if err != nil {
		return 0, err
	}
	off, _ := cfg.ClockOffset()
	return wall.Add(-off).Sub(m.now()), nil
}

// parseShowClock reads "15:04:05.000 ZONE Mon Jan 2 2006" (a leading "*"
// marks a clock that was never set) as a zone-less wall time.
func parseShowClock(out string) (time.Time, error) {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(l), "*"))
		if len(f) != 6 {
			continue
		}
		t, err := time.Parse("15:04:05.000 Mon Jan 2 2006", strings.Join(append([]string{f[0]}, f[2:]...), " "))
		if err != nil {
			continue
		}
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), nil
	}
	return time.Time{}, fmt.Errorf("show clock: no time in %q", strings.TrimSpace(out))
}

func skewNote(device string, skew time.Duration) string {
	return fmt.Sprintf("%s: the ASA's clock is %s from firebreak's (by its clock timezone): time-ranges end that much early or late; set NTP (and check `clock timezone`/summer time)",
		device, skew.Round(time.Second))
}

func skewed(d time.Duration) bool { return d > MaxClockSkew || d < -MaxClockSkew }
