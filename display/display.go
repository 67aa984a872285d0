// Package display makes text from untrusted sources safe to show to a person. Syslog is
// unauthenticated, so a username, a finding's title, a raw line or a comment can carry
// terminal escape sequences, line breaks that fake a line of output, bidi controls that make
// an address read backwards, NUL or invalid UTF-8. Every terminal and HTML output of such
// text goes through Text; HTML output then escapes markup as usual (html/template).
package display

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s as it is when s is valid UTF-8 and every rune in it is graphic (letters,
// marks, numbers, punctuation, symbols and spaces, accents and "×" included). Otherwise every
// rune that is not graphic (C0 and C1 controls such as ESC, CR, LF, TAB and NUL; format
// characters such as bidi overrides, zero-width spaces and the BOM; line and paragraph
// separators) becomes its Go escape (\n, \x1b, \u202e), every byte of invalid UTF-8 becomes
// \xNN, and each backslash is doubled, so the escaped text cannot be mistaken for the
// original and an escape written by an attacker stays visibly literal. The result holds
// only graphic runes and is one line. Markup is left alone: escape it for HTML as well.
func Text(s string) string {
	if safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.IsGraphic(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRuneToGraphic(r) // '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

func safe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) })
		}
	}
	return true
}
