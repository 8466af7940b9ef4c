package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Phone numbers become E.164 ("+358401234567"). What is accepted is
// deliberately narrow, because running text is full of digit groups that
// are not phone numbers (order numbers, dates, prices, IBANs, reference
// numbers, Finnish personal identity codes), and a false phone key links
// two customers:
//
//   - Finnish national numbers starting with a trunk 0: mobile 040-046,
//     049 and 050 (9-11 digits with the 0), geographic 02, 03, 05, 06, 08,
//     09 and 013-019, and the nationwide 020/029/030 (8-10 digits). 010 is
//     left out: ddmmyy dates and personal identity codes start with 010.
//   - +358 or 00358 followed by such a number without its 0; "(0)" after
//     the country code is ignored.
//   - Any other "+<country> …" number of 8-15 digits (Swedish, Estonian…
//     customers); "00" followed by another country is not accepted.
//
// In text, a number is groups of digits separated by single spaces
// (including no-break spaces) or hyphens, optionally with the area code in
// parentheses. Dots and slashes do not join groups (dates, times, amounts).
// A number must stand alone: a run of digit groups glued to a letter on
// either side (an IBAN "FI21 1234 …", "tel040…", a code like "0401234A") is
// rejected whole, and so is one preceded or followed by a decimal point, a
// currency sign, '/', '@', '=' or '#'. Within a run, numbers start only at
// a group that starts with 0 or +, take the longest run of groups that
// validates, and shapes that are dates (01-02-2024) or personal identity
// codes (010190-123X) are rejected.

// maxPhoneDigits is E.164's limit.
const maxPhoneDigits = 15

// ParsePhone canonicalizes one phone number written by a person (ops, a
// form field) to E.164: "040 123 4567", "+358 40 123 4567",
// "00358401234567", "(09) 123 4567" and "+46 70 123 45 67" are accepted.
// It reports false for anything else.
func ParsePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 40 {
		return "", false
	}
	plus := strings.HasPrefix(s, "+")
	if plus {
		s = s[1:]
	}
	// "(0)" after a country code is a trunk prefix to drop.
	if i := strings.Index(s, "(0)"); i > 0 && plus {
		s = s[:i] + s[i+3:]
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0' || r == '\u202f':
		default:
			return "", false
		}
	}
	return e164(b.String(), plus)
}

// e164 validates digits (plus: they followed a '+') and returns E.164.
func e164(d string, plus bool) (string, bool) {
	if d == "" || len(d) > maxPhoneDigits+2 {
		return "", false
	}
	switch {
	case plus:
		if strings.HasPrefix(d, "358") {
			if finnishNSN(d[3:]) {
				return "+" + d, true
			}
			return "", false
		}
		if d[0] == '0' || len(d) < 8 || len(d) > maxPhoneDigits {
			return "", false
		}
		return "+" + d, true
	case strings.HasPrefix(d, "00358"):
		if finnishNSN(d[5:]) {
			return "+" + d[2:], true
		}
	case len(d) >= 2 && d[0] == '0' && d[1] != '0':
		if finnishNSN(d[1:]) {
			return "+358" + d[1:], true
		}
	}
	return "", false
}

// finnishNSN reports whether n (digits, without the trunk 0) is a Finnish
// national significant number of a kind a customer gives as theirs.
func finnishNSN(n string) bool {
	if len(n) < 7 || len(n) > 10 {
		return false
	}
	switch n[0] {
	case '4':
		return (n[1] <= '6' || n[1] == '9') && len(n) >= 8
	case '5':
		if n[1] == '0' {
			return len(n) >= 8
		}
		return len(n) <= 9 // 05 (south-east Finland)
	case '1':
		return n[1] >= '3' && len(n) <= 9 // 013-019; 010 is left out
	case '2', '3', '6', '8', '9':
		return len(n) <= 9
	}
	return false
}

// group is one digit group of a run in text.
type group struct {
	digits string
	sep    rune // separator before it (0 for the first)
	paren  bool // written in parentheses: "(09)" or "(0)"
}

// scanPhones calls found with every phone number in s, in order, in E.164.
func scanPhones(s string, found func(string) bool) {
	var groups []group
	for i := 0; i < len(s); {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '+' && i+1 < len(s) && isDigit(s[i+1]) || c == '(' && i+1 < len(s) && isDigit(s[i+1])) {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		plus := c == '+'
		start := i
		if plus {
			i++
		}
		var end int
		groups, end = readRun(s, i, groups[:0])
		if len(groups) == 0 {
			i = start + 1
			continue
		}
		if standsAlone(s, start, end) {
			if !phonesInRun(groups, plus, found) {
				return
			}
		}
		i = end
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// readRun reads digit groups from s[i:] joined by single separators and
// returns them and the end of the run.
func readRun(s string, i int, groups []group) ([]group, int) {
	var sep rune
	for len(groups) < 40 {
		g := group{sep: sep}
		j := i
		if j < len(s) && s[j] == '(' {
			g.paren = true
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) && k-j < 20 {
			k++
		}
		if k == j {
			break
		}
		if g.paren {
			if k >= len(s) || s[k] != ')' || k-j > 3 {
				break
			}
			k++
		}
		g.digits = strings.Trim(s[j:k], "()")
		groups = append(groups, g)
		i = k
		// A single separator continues the run if a group follows.
		if i >= len(s) {
			break
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case ' ', '-', '\u00a0', '\u202f':
		default:
			if g.paren && isDigit(s[i]) { // "(09)1234567"
				sep = 0
				continue
			}
			return groups, i
		}
		if i+n < len(s) && (isDigit(s[i+n]) || s[i+n] == '(') {
			sep = r
			i += n
			continue
		}
		break
	}
	return groups, i
}

// standsAlone reports whether the run s[start:end] is not glued to a word,
// an amount or a link on either side.
func standsAlone(s string, start, end int) bool {
	if start > 0 {
		p, n := utf8.DecodeLastRuneInString(s[:start])
		switch {
		case unicode.IsLetter(p) || unicode.IsDigit(p) || unicode.IsMark(p):
			return false
		case p == '.' || p == ',':
			if q, _ := utf8.DecodeLastRuneInString(s[:start-n]); unicode.IsDigit(q) {
				return false
			}
		case strings.ContainsRune("-/+_@#=&%€$£", p):
			return false
		}
	}
	if end < len(s) {
		q, n := utf8.DecodeRuneInString(s[end:])
		switch {
		case unicode.IsLetter(q) || unicode.IsDigit(q) || unicode.IsMark(q):
			return false
		case q == '.' || q == ',':
			if end+n < len(s) && isDigit(s[end+n]) {
				return false
			}
		case strings.ContainsRune("/@_%€$£=#", q):
			return false
		}
	}
	return true
}

// phonesInRun finds the numbers in one run of digit groups.
func phonesInRun(groups []group, plus bool, found func(string) bool) bool {
	for j := 0; j < len(groups); {
		first := groups[j].digits
		intl := j == 0 && plus
		if !intl && (first == "" || first[0] != '0') {
			j++
			continue
		}
		best, bestK := "", -1
		var d strings.Builder
		for k := j; k < len(groups); k++ {
			g := groups[k]
			if intl && g.paren && g.digits == "0" && k > j {
				continue // "+358 (0)40 …"
			}
			d.WriteString(g.digits)
			if d.Len() > maxPhoneDigits+2 {
				break
			}
			if p, ok := e164(d.String(), intl); ok && !notAPhone(groups[j:k+1]) {
				best, bestK = p, k
			}
		}
		if bestK < 0 {
			j++
			continue
		}
		if !found(best) {
			return false
		}
		j = bestK + 1
	}
	return true
}

// notAPhone recognizes digit shapes that validate as numbers but are
// dates (01-02-2024, 1-2-24) or personal identity codes (010190-1234).
func notAPhone(gs []group) bool {
	if len(gs) == 3 && gs[1].sep == '-' && gs[2].sep == '-' &&
		len(gs[0].digits) <= 2 && len(gs[1].digits) <= 2 && (len(gs[2].digits) == 2 || len(gs[2].digits) == 4) {
		return true
	}
	if len(gs) >= 2 && len(gs[0].digits) == 6 && gs[1].sep == '-' && (len(gs[1].digits) == 3 || len(gs[1].digits) == 4) {
		return true
	}
	return false
}
