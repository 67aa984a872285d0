package display_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/firebreak-dev/firebreak/display"
)

func TestTextKeepsPrintableTextAndEscapesTheRest(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"symbols", "spike 3.5× its baseline", "spike 3.5× its baseline"},
		{"accents", "user José", "user José"},
		{"markup is not its business", "<b>x</b> & \"q\"", "<b>x</b> & \"q\""},
		{"a lone backslash", `DOMAIN\user`, `DOMAIN\user`},
		{"newline", "a\nroute outside 0.0.0.0", `a\nroute outside 0.0.0.0`},
		{"carriage return", "ok\rfake", `ok\rfake`},
		{"ANSI", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"C1 CSI", "x\u009b2J", `x\u009b2J`},
		{"bidi override", "evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"zero width", "ad\u200bmin", `ad\u200bmin`},
		{"bell", "bell\a", `bell\a`},
		{"NUL", "a\x00b", `a\x00b`},
		{"invalid UTF-8", "bad\xffutf8", `bad\xffutf8`},
		{"truncated UTF-8", "caf\xc3", `caf\xc3`},
		{"backslash beside an escape", "a\\n\n", `a\\n\n`},
		{"line separator", "a\u2028b", `a\u2028b`},
	} {
		if got := display.Text(tc.in); got != tc.want {
			t.Errorf("%s: Text(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// FuzzText checks the contract over any input: the result is valid UTF-8, graphic only, and
// text that needed no escape is unchanged.
func FuzzText(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "\u202e", "\xff\xfe", "a\nb", "José\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := display.Text(s)
		if !utf8.ValidString(got) || strings.ContainsFunc(got, func(r rune) bool { return !unicode.IsGraphic(r) }) {
			t.Fatalf("Text(%q) = %q holds what is not graphic", s, got)
		}
		clean := utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) })
		if clean && got != s {
			t.Fatalf("Text(%q) = %q changed printable text", s, got)
		}
		if display.Text(got) != got {
			t.Fatalf("Text is not stable on its own output: %q", got)
		}
	})
}

func BenchmarkText(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = display.Text("VPN user jsmith logged in from new source 198.51.100.7")
	}
}
