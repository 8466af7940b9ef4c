package message

import (
	"strings"
	"unicode/utf8"
)

// Excerpt is the start of an item's subject and text on one line: the
// words joined by single spaces, cut after max runes with "…".
func Excerpt(subject, text string, max int) string {
	s := strings.Join(strings.Fields(strings.TrimSpace(subject+" "+text)), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}

// Cut returns s cut to at most n bytes without splitting a character: a
// field's start that fits a byte limit.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
