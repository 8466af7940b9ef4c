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
