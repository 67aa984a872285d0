// Package devices drives network devices over SSH: a Cisco ASA session on
// scrapligo v1.4 with the project's own platform definition, validated
// command values, push with stop-at-first-error, rollback and verify, a
// redacted transcript, and per-device push serialisation.
//
// Nothing here knows what a change means; remediate decides which lines to
// send and how to verify them, devices provides the mechanics.
package devices

import (
	"errors"
	"fmt"
)

// MaxCommandLen is the longest line accepted; it matches "terminal width
// 511", beyond which the ASA wraps and scrolls the echo.
const MaxCommandLen = 511

// ErrBadCommand reports a refused command text.
var ErrBadCommand = errors.New("refused command")

// Command is one validated CLI line. The zero value is the empty command,
// which no method sends. Build it with NewCommand only.
type Command struct{ s string }

// NewCommand validates s as a single CLI line: printable ASCII only (no
// control characters, so no line breaks, tabs or escapes), no "?" (which
// the Cisco CLI answers with help at once), no leading or trailing spaces,
// not empty and at most MaxCommandLen bytes.
func NewCommand(s string) (Command, error) {
	if s == "" {
		return Command{}, fmt.Errorf("empty line: %w", ErrBadCommand)
	}
	if len(s) > MaxCommandLen {
		return Command{}, fmt.Errorf("line of %d bytes exceeds %d: %w", len(s), MaxCommandLen, ErrBadCommand)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return Command{}, fmt.Errorf("control character %#02x at byte %d: %w", c, i, ErrBadCommand)
		case c >= 0x80:
			return Command{}, fmt.Errorf("non-ASCII byte %#02x at byte %d: %w", c, i, ErrBadCommand)
		case c == '?':
			return Command{}, fmt.Errorf("'?' at byte %d triggers CLI help: %w", i, ErrBadCommand)
		}
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return Command{}, fmt.Errorf("leading or trailing space: %w", ErrBadCommand)
	}
	return Command{s: s}, nil
}

// MustCommand is NewCommand for constant lines; it panics on a bad line.
func MustCommand(s string) Command {
	c, err := NewCommand(s)
	if err != nil {
		panic(err)
	}
	return c
}

// String returns the line as sent.
func (c Command) String() string { return c.s }

// IsZero reports whether c is the zero Command.
func (c Command) IsZero() bool { return c.s == "" }
