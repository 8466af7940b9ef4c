package rules

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// glob is a case-insensitive pattern where * stands for any run of
// characters: "*@example.com", "noreply*".
type glob struct {
	pat string // lowercase
}

func newGlob(s string) (glob, error) {
	if s == "" {
		return glob{}, errors.New("empty pattern: write the value, or \"*\" for any value")
	}
	return glob{pat: strings.ToLower(s)}, nil
}

// match reports whether s matches, comparing letters case-insensitively.
// It backtracks only to the last *, so it is linear in practice and never
// allocates.
func (g glob) match(s string) bool {
	p := g.pat
	i, j := 0, 0
	starP, starS := -1, 0
	for j < len(s) {
		if i < len(p) && p[i] == '*' {
			starP, starS = i, j
			i++
			continue
		}
		if i < len(p) {
			pr, pn := utf8.DecodeRuneInString(p[i:])
			sr, sn := utf8.DecodeRuneInString(s[j:])
			if pr == unicode.ToLower(sr) {
				i, j = i+pn, j+sn
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, sn := utf8.DecodeRuneInString(s[starS:])
		starS += sn
		i, j = starP+1, starS
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
