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

// Digits reports whether s is 1 to max ASCII digits: the form of Facebook
// and X ids.
func Digits(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Clip returns s when it is at most n bytes, else s cut to n bytes of
// whole runes and an ellipsis: for quoting untrusted text in errors and
// previews.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Cut(s, n) + "…"
}
