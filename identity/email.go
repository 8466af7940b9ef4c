package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Email addresses are compared lowercased, whole. The local part is not
// otherwise rewritten: no "+tag" stripping and no removing of dots, because
// whether matti+kauppa@ and matti@ reach the same mailbox is the provider's
// rule, not a standard one, and linking two addresses that are different
// people is worse than keeping one person's two aliases apart (ops can link
// them with customers link).

// canonicalEmail validates one address (with or without angle brackets or
// a "mailto:" prefix) and returns it lowercased.
func canonicalEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "mailto:"), "MAILTO:")
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	at := strings.LastIndexByte(s, '@')
	if at <= 0 {
		return "", false
	}
	local, domain := s[:at], s[at+1:]
	if !validLocal(local) || !validDomain(domain) {
		return "", false
	}
	return strings.ToLower(s), true
}

// validLocal accepts the dot-atom local parts people actually use:
// letters, digits and ._%+-' , not starting or ending with a dot, no "..".
func validLocal(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !localByte(s[i]) {
			return false
		}
	}
	return true
}

func localByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '\''
}

// validDomain accepts host names of at least two labels whose last label
// (the TLD) is letters only; labels are letters (any script, for IDN),
// digits and inner hyphens.
func validDomain(s string) bool {
	if len(s) < 4 || len(s) > 253 || !utf8.ValidString(s) {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for i, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(unicode.IsLetter(r) || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
		if i == len(labels)-1 {
			if utf8.RuneCountInString(l) < 2 {
				return false
			}
			for _, r := range l {
				if !unicode.IsLetter(r) {
					return false
				}
			}
		}
	}
	return true
}

// domainRune reports whether r can be part of a domain name in running text.
func domainRune(r rune) bool {
	return r == '.' || r == '-' || r >= '0' && r <= '9' || unicode.IsLetter(r)
}

// scanEmails calls found with every email address in s, in order,
// lowercased. It never returns a part of a longer token: the characters
// around an address must not continue it.
func scanEmails(s string, found func(string) bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		// Local part: bytes to the left.
		start := i
		for start > 0 && localByte(s[start-1]) {
			start--
		}
		// Text like "(matti@x.fi)" or "'matti@x.fi'": a quote opening the
		// address is not part of it.
		for start < i && (s[start] == '\'' || s[start] == '.') {
			start++
		}
		if start == i || start > 0 && s[start-1] == '@' {
			continue
		}
		// Domain: runes to the right.
		end := i + 1
		for end < len(s) {
			r, n := utf8.DecodeRuneInString(s[end:])
			if !domainRune(r) {
				break
			}
			end += n
		}
		// A sentence ending right after the address: "…@x.fi." or "…fi-".
		for end > i+1 && (s[end-1] == '.' || s[end-1] == '-') {
			end--
		}
		if end < len(s) && s[end] == '@' {
			i = end
			continue
		}
		if a, ok := canonicalEmail(s[start:end]); ok {
			if !found(a) {
				return
			}
		}
		i = end - 1
	}
}
