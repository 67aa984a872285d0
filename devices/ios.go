package devices

import (
	"context"
	"log/slog"
)

// IOS is a read-only privileged session on a Cisco IOS router (the 2921),
// enough to read "show ip access-lists" and "show ip route" for advisories.
// Pushing to IOS is not implemented. Methods are serialised.
type IOS struct{ a *ASA }

// DialIOS connects like DialASA (same host key, credential and ctx rules)
// and prepares an IOS terminal ("terminal length 0", "terminal width 512").
func DialIOS(ctx context.Context, t Target, log *slog.Logger) (*IOS, error) {
	a, err := dial(ctx, t, log, iosPlatform)
	if err != nil {
		return nil, err
	}
	return &IOS{a: a}, nil
}

// Show runs an allowed read-only command (show ip access-lists, show
// access-lists, show ip route, show running-config, show version, show ip
// interface brief, show clock); others are ErrNotAllowed.
func (i *IOS) Show(ctx context.Context, cmd string) (string, error) { return i.a.Show(ctx, cmd) }

// Transcript is the session's redacted transcript.
func (i *IOS) Transcript() *Transcript { return i.a.Transcript() }

// Close ends the session; safe to call more than once.
func (i *IOS) Close() error { return i.a.Close() }
