package rules

import (
	"errors"
	"fmt"
	"strings"
)

// Limits on one term, so that a typo cannot make the automaton explode.
const (
	maxTermTokens = 12
	maxTermBytes  = 200
	minWildcard   = 3
)

// term is one word or phrase of a text condition, as the automaton matches it.
//
// As written:
//
//	lasku          the word in any inflection (stemmed): laskun, laskussani
//	double charged the phrase, across punctuation and extra spaces, any inflection
//	=lasku         exactly this word (still ignoring case and accents)
//	lasku*         words beginning with lasku: laskutus, laskuttaa
//	"*lasku"       words ending with lasku, in any inflection: sähkölaskussa
//	"*lasku*"      words containing lasku
type term struct {
	text   string   // as written, for traces
	toks   []string // folded tokens
	exact  bool     // '=': no stemming
	prefix bool     // "w*"
	suffix bool     // "*w"
	// stems are the tokens' stems in each stemming language (stemmed terms).
	stems [numStemLangs][]string
}

// stemmed reports whether the term matches by stem.
func (t *term) stemmed() bool { return !t.exact && !t.prefix }

// key identifies equal terms, so a word used by several routes is matched once.
func (t *term) key() string {
	var b strings.Builder
	if t.exact && !t.prefix {
		b.WriteByte('=')
	}
	if t.suffix {
		b.WriteByte('*')
	}
	b.WriteString(strings.Join(t.toks, " "))
	if t.prefix {
		b.WriteByte('*')
	}
	return b.String()
}

// parseTerm reads one entry of a text condition (not a $vocabulary).
func parseTerm(s string, st *stemmer) (*term, error) {
	t := &term{text: s}
	w := strings.TrimSpace(s)
	if len(w) > maxTermBytes {
		return nil, fmt.Errorf("is longer than %d bytes; use a shorter phrase or a regex", maxTermBytes)
	}
	if rest, ok := strings.CutPrefix(w, "="); ok {
		t.exact, w = true, strings.TrimSpace(rest)
	}
	if rest, ok := strings.CutPrefix(w, "*"); ok {
		t.suffix, w = true, rest
	}
	if rest, ok := strings.CutSuffix(w, "*"); ok {
		t.prefix, w = true, rest
	}
	if strings.Contains(w, "*") {
		return nil, errors.New(`* may only start or end a word: lasku*, "*lasku", "*lasku*"`)
	}
	if strings.HasPrefix(w, "$") {
		return nil, errors.New("$ starts a vocabulary name, which cannot be combined with = or *")
	}
	t.toks = foldWords(w)
	switch {
	case len(t.toks) == 0:
		return nil, errors.New("has no letters, digits or emoji to match")
	case len(t.toks) > maxTermTokens:
		return nil, fmt.Errorf("has %d words; a phrase may have at most %d", len(t.toks), maxTermTokens)
	case (t.prefix || t.suffix) && len(t.toks) > 1:
		return nil, errors.New("* works on single words, not phrases")
	case (t.prefix || t.suffix) && strings.TrimSpace(w) != w:
		return nil, errors.New("no space next to *")
	case (t.prefix || t.suffix) && len([]rune(t.toks[0])) < minWildcard:
		return nil, fmt.Errorf("%q is too short for a wildcard (%d letters at least)", t.toks[0], minWildcard)
	}
	if t.stemmed() {
		for lang := range numStemLangs {
			t.stems[lang] = make([]string, len(t.toks))
			for i, tok := range t.toks {
				t.stems[lang][i] = st.stemString(lang, tok)
			}
		}
	}
	return t, nil
}

// Haystack layout. The automaton scans one byte string per item: the surface
// part (folded tokens), then one stem part per stemming language in use:
//
//	' ' tok ' ' tok ' ' [segBreak ' ' tok ' ' ...] partBreak sepFi stem sepFi stem sepFi ...
//
// Tokens never contain these bytes, so a pattern with a separator on both
// sides matches whole words only, a phrase matches consecutive words of one
// segment (subject or text), and a pattern holding a language's separator
// matches in that language's part only.
const (
	surfaceSep byte = ' '
	segBreak   byte = 0x1d
	partBreak  byte = 0x1c
)

// pattern is one string the automaton looks for in the haystack.
type pattern struct {
	text string
	// surfaceOnly: the pattern has no separator that ties it to a part of
	// the haystack, so only hits in the surface part count.
	surfaceOnly bool
}

// patterns returns what the automaton must find for t.
//
// A stemmed word or phrase is found by its stems only: a text token equal to
// the term has the same stem, so a surface pattern would add nothing.
func (t *term) patterns() []pattern {
	joined := strings.Join(t.toks, " ")
	var out []pattern
	switch {
	case t.prefix && t.suffix:
		return []pattern{{text: joined, surfaceOnly: true}}
	case t.prefix:
		return []pattern{{text: " " + joined}}
	case t.suffix:
		out = append(out, pattern{text: joined + " "})
	case t.exact:
		return []pattern{{text: " " + joined + " "}}
	}
	if !t.stemmed() {
		return out
	}
	for lang := range numStemLangs {
		sep := string(stemSep(lang))
		p := strings.Join(t.stems[lang], sep) + sep
		if !t.suffix {
			p = sep + p
		}
		out = append(out, pattern{text: p})
	}
	return out
}

// matchTokens is the straightforward evaluation of t (Explain uses it; the
// automaton must agree): it returns the surface tokens of the first match in
// toks, whose stems in each language are stems[lang] (nil for a language not
// in use), or nil.
func (t *term) matchTokens(toks []span, surface func(i int) string, stems *[numStemLangs][]string) []string {
	n := len(toks)
	word := func(i int) []string { return []string{surface(i)} }
	switch {
	case t.prefix && t.suffix:
		for i := range n {
			if strings.Contains(surface(i), t.toks[0]) {
				return word(i)
			}
		}
		return nil
	case t.prefix:
		for i := range n {
			if strings.HasPrefix(surface(i), t.toks[0]) {
				return word(i)
			}
		}
		return nil
	case t.suffix:
		for i := range n {
			if strings.HasSuffix(surface(i), t.toks[0]) {
				return word(i)
			}
			if !t.exact {
				for lang := range numStemLangs {
					if stems[lang] != nil && strings.HasSuffix(stems[lang][i], t.stems[lang][0]) {
						return word(i)
					}
				}
			}
		}
		return nil
	}
	k := len(t.toks)
	for i := 0; i+k <= n; i++ {
		if toks[i].seg != toks[i+k-1].seg {
			continue
		}
		if t.exact {
			if t.seqEqual(i, func(j int) string { return surface(j) }, t.toks) {
				return t.words(i, surface)
			}
			continue
		}
		for lang := range numStemLangs {
			if stems[lang] == nil {
				continue
			}
			ls := stems[lang]
			if t.seqEqual(i, func(j int) string { return ls[j] }, t.stems[lang]) {
				return t.words(i, surface)
			}
		}
	}
	return nil
}

func (t *term) seqEqual(i int, get func(int) string, want []string) bool {
	for j, w := range want {
		if get(i+j) != w {
			return false
		}
	}
	return true
}

func (t *term) words(i int, surface func(int) string) []string {
	out := make([]string, len(t.toks))
	for j := range out {
		out[j] = surface(i + j)
	}
	return out
}
