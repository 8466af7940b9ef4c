package email

import (
	"strings"
)

// Bounds of reading Authentication-Results, so that a mail full of them
// costs bounded work.
const (
	maxAuthValueLen = 8 << 10 // bytes of one header value read
	maxAuthResults  = 32      // method results read from one header
)

// authResult is one method's result in an Authentication-Results header.
type authResult struct {
	// method is lowercase, without a version ("dkim/1" is "dkim").
	method string
	// result is lowercase, as written ("pass", "bestguesspass", …).
	result string
	// headerFrom is the header.from property, lowercase: the RFC 5322
	// From domain a DMARC result is about.
	headerFrom string
}

// authResults is one parsed Authentication-Results header field.
type authResults struct {
	// id is the authserv-id, lowercase: the server that wrote the
	// header. "" when the header has none (Microsoft 365 writes none).
	id      string
	results []authResult
}

// parseAuthResults reads one Authentication-Results value (RFC 8601),
// leniently: comments are ignored, unknown properties and stray words
// between the semicolons are skipped (Microsoft 365 writes some), and a
// header that starts with a result instead of an authserv-id is read with
// id "". ok is false when the value cannot be one: empty, or of a version
// other than 1 (RFC 8601 section 2.2: ignore it).
func parseAuthResults(v string) (ar authResults, ok bool) {
	if len(v) > maxAuthValueLen {
		v = v[:maxAuthValueLen]
	}
	segs := authSegments(v)
	if len(segs) == 0 {
		return authResults{}, false
	}
	first := authPairs(segs[0])
	switch {
	case len(first) == 0:
		return authResults{}, false
	case first[0].hasValue:
		// No authserv-id: the first segment is already a result.
	default:
		ar.id = strings.ToLower(first[0].key)
		if len(first) > 1 && !first[1].hasValue && isDigits(first[1].key) && strings.TrimLeft(first[1].key, "0") != "1" {
			return authResults{}, false
		}
		segs = segs[1:]
	}
	for _, seg := range segs {
		if len(ar.results) == maxAuthResults {
			break
		}
		if r, ok := parseResinfo(authPairs(seg)); ok {
			ar.results = append(ar.results, r)
		}
	}
	return ar, true
}

// parseResinfo reads "method=result [reason=…] [ptype.property=value …]".
func parseResinfo(pairs []authPair) (authResult, bool) {
	if len(pairs) == 0 || !pairs[0].hasValue {
		return authResult{}, false // "none", or a stray word
	}
	method, _, _ := strings.Cut(pairs[0].key, "/")
	method = strings.ToLower(strings.TrimSpace(method))
	result := strings.ToLower(pairs[0].value)
	if !isKeyword(method) || !isKeyword(result) {
		return authResult{}, false
	}
	r := authResult{method: method, result: result}
	for _, p := range pairs[1:] {
		if p.hasValue && strings.EqualFold(p.key, "header.from") {
			r.headerFrom = mailDomain(p.value)
		}
	}
	return r, true
}

// mailDomain is the lowercase domain of an address or domain, without a
// trailing dot.
func mailDomain(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

// isKeyword reports an RFC 8601 Keyword: letters, digits and '-'.
func isKeyword(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// authSegments removes the comments of v and splits it at the semicolons
// outside quoted strings, keeping at most maxAuthResults+1 segments.
func authSegments(v string) []string {
	var segs []string
	var cur strings.Builder
	cur.Grow(len(v))
	depth, quoted := 0, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted:
			cur.WriteByte(c)
			if c == '\\' && i+1 < len(v) {
				i++
				cur.WriteByte(v[i])
			} else if c == '"' {
				quoted = false
			}
		case depth > 0:
			switch c {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				depth--
			}
		case c == '(':
			depth = 1
			cur.WriteByte(' ')
		case c == '"':
			quoted = true
			cur.WriteByte(c)
		case c == ';':
			segs = append(segs, cur.String())
			cur.Reset()
			if len(segs) > maxAuthResults {
				return segs
			}
		default:
			cur.WriteByte(c)
		}
	}
	return append(segs, cur.String())
}

// authPair is "key=value", or a word without a value.
type authPair struct {
	key, value string
	hasValue   bool
}

// authPairs reads the words of a segment: "key = value" (white space
// around '=' allowed, the value a token or a quoted string) or a lone word.
func authPairs(seg string) []authPair {
	var out []authPair
	i := 0
	skip := func() {
		for i < len(seg) && isAuthSpace(seg[i]) {
			i++
		}
	}
	word := func(stopAtEq bool) string {
		if i < len(seg) && seg[i] == '"' {
			return quotedString(seg, &i)
		}
		start := i
		for i < len(seg) && !isAuthSpace(seg[i]) && !(stopAtEq && seg[i] == '=') {
			i++
		}
		return seg[start:i]
	}
	for {
		skip()
		if i >= len(seg) {
			return out
		}
		p := authPair{key: word(true)}
		skip()
		if i < len(seg) && seg[i] == '=' {
			i++
			skip()
			p.value, p.hasValue = word(false), true
		} else if p.key == "" {
			i++ // a stray '='-less character that makes no word
			continue
		}
		out = append(out, p)
	}
}

// quotedString reads the quoted string starting at s[*i] and returns its
// content without quotes and escapes.
func quotedString(s string, i *int) string {
	var b strings.Builder
	j := *i + 1
	for ; j < len(s); j++ {
		c := s[j]
		if c == '\\' && j+1 < len(s) {
			j++
			b.WriteByte(s[j])
			continue
		}
		if c == '"' {
			j++
			break
		}
		b.WriteByte(c)
	}
	*i = j
	return b.String()
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAuthSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
