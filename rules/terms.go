package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
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
//
// A term also matches the ways people type it (its forms, see variants): a
// word with ä, ö or å typed without them (myöhässä: myohassa), a hyphenated
// word typed as one (e-lasku: elasku).
type term struct {
	text   string // as written, for traces
	exact  bool   // '=': no stemming
	prefix bool   // "w*": the last word is a prefix
	suffix bool   // "*w": the first word is a suffix
	// forms[0] is the term as written, folded; the others are its variants.
	forms []form
}

// form is one way of writing a term: its folded tokens and, for stemmed
// terms, their stems in each stemming language.
type form struct {
	toks  []string
	stems [numStemLangs][]string
	// dotless: a variant with ä, ö, å typed as a, o, a.
	dotless bool
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
	b.WriteString(strings.Join(t.forms[0].toks, " "))
	if t.prefix {
		b.WriteByte('*')
	}
	// "e-lasku" and "e lasku" fold alike but differ in forms (only the
	// first also matches "elasku").
	for _, f := range t.forms[1:] {
		b.WriteByte('|')
		b.WriteString(strings.Join(f.toks, " "))
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
	toks := foldWords(w)
	wild := t.prefix || t.suffix
	switch {
	case len(toks) == 0:
		return nil, errors.New("has no letters, digits or emoji to match")
	case len(toks) > maxTermTokens:
		return nil, fmt.Errorf("has %d words; a phrase may have at most %d", len(toks), maxTermTokens)
	case wild && strings.TrimSpace(w) != w:
		return nil, errors.New("no space next to *")
	case wild && len(strings.Fields(w)) > 1:
		return nil, fmt.Errorf(`* works on single words and hyphenated words ("e-lasku*"), not on phrases with spaces; write the phrase without * (it matches any inflection), or use a regex`)
	case wild && utf8.RuneCountInString(strings.Join(toks, "")) < minWildcard:
		return nil, fmt.Errorf("%q is too short for a wildcard (%d letters at least)", strings.Join(toks, "-"), minWildcard)
	}
	t.forms = variants(w, toks)
	if t.stemmed() {
		for i := range t.forms {
			f := &t.forms[i]
			for lang := range numStemLangs {
				f.stems[lang] = make([]string, len(f.toks))
				for j, tok := range f.toks {
					f.stems[lang][j] = st.stemString(lang, tok)
				}
			}
		}
	}
	return t, nil
}

// minDotless is the least number of letters a word with ä, ö or å needs to
// also match typed without them: shorter ones are too often other words
// (sää/saa, pää/paa, yö/yo, työ/tyo).
const minDotless = 4

// variants returns the forms of a term written w (folded into toks): as
// written; with hyphenated words joined (e-lasku: elasku); and each of those
// with ä, ö and å typed as a, o and a (myöhässä: myohassa) in words of at
// least minDotless letters. Never the reverse: a word written without ä, ö
// or å does not match text with them, which would be another word
// (laskut, bills; läskut, fat).
func variants(w string, toks []string) []form {
	forms := []form{{toks: toks}}
	if joined := joinHyphens(w); joined != nil && !slices.Equal(joined, toks) {
		forms = append(forms, form{toks: joined})
	}
	for _, f := range forms {
		if d := dotless(f.toks); d != nil {
			forms = append(forms, form{toks: d, dotless: true})
		}
	}
	return forms
}

// joinHyphens returns the tokens of w with each hyphenated word as one
// token (pick-up point: pickup point), or nil when w has none.
func joinHyphens(w string) []string {
	var out []string
	joined := false
	for _, field := range strings.Fields(w) {
		toks := foldWords(field)
		if strings.Contains(field, "-") && len(toks) > 1 {
			out = append(out, strings.Join(toks, ""))
			joined = true
			continue
		}
		out = append(out, toks...)
	}
	if !joined {
		return nil
	}
	return out
}

// dotless returns toks with ä, ö and å typed as a, o and a in the tokens
// of at least minDotless letters, or nil when no token changes.
func dotless(toks []string) []string {
	var out []string
	for i, tok := range toks {
		if !strings.ContainsAny(tok, "äöå") || utf8.RuneCountInString(tok) < minDotless {
			continue
		}
		if out == nil {
			out = slices.Clone(toks)
		}
		out[i] = dotlessReplacer.Replace(tok)
	}
	return out
}

var dotlessReplacer = strings.NewReplacer("ä", "a", "ö", "o", "å", "a")

// dropDotless removes the dotless forms of t that match as some other term
// of the rules does as written (keys: see meaningKeys): when the rules list
// both laskut and läskut, läskut must not catch laskut typed without dots.
func (t *term) dropDotless(written map[string]bool) {
	kept := t.forms[:1]
	for _, f := range t.forms[1:] {
		if f.dotless && slices.ContainsFunc(t.meaningKeys(&f), func(k string) bool { return written[k] }) {
			continue
		}
		kept = append(kept, f)
	}
	t.forms = kept
}

// meaningKeys are what a form matches, for comparing terms: its stems in
// each language (stemmed terms) or its tokens with the wildcards.
func (t *term) meaningKeys(f *form) []string {
	if !t.stemmed() {
		return []string{fmt.Sprint(t.prefix, t.suffix, f.toks)}
	}
	out := make([]string, 0, numStemLangs)
	for lang := range numStemLangs {
		out = append(out, fmt.Sprint(lang, t.suffix, f.stems[lang]))
	}
	return out
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

// patterns returns what the automaton must find for t: the patterns of
// each of its forms.
func (t *term) patterns() []pattern {
	var out []pattern
	for i := range t.forms {
		out = append(out, t.formPatterns(&t.forms[i])...)
	}
	return out
}

// formPatterns returns the patterns of one form.
//
// A stemmed word or phrase is found by its stems only: a text token equal to
// the term has the same stem, so a surface pattern would add nothing.
// Wildcards apply to the first word (suffix: "*w") and the last (prefix:
// "w*"); the words between match exactly (prefix, both) or by stem
// (suffix).
func (t *term) formPatterns(f *form) []pattern {
	joined := strings.Join(f.toks, " ")
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
		p := strings.Join(f.stems[lang], sep) + sep
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
	for fi := range t.forms {
		if w := t.matchForm(&t.forms[fi], toks, surface, stems); w != nil {
			return w
		}
	}
	return nil
}

func (t *term) matchForm(f *form, toks []span, surface func(i int) string, stems *[numStemLangs][]string) []string {
	k := len(f.toks)
	for i := 0; i+k <= len(toks); i++ {
		if toks[i].seg != toks[i+k-1].seg {
			continue
		}
		if t.prefix || t.suffix || t.exact {
			if t.surfaceAt(f, i, surface) {
				return words(i, k, surface)
			}
		}
		if !t.stemmed() {
			continue
		}
		for lang := range numStemLangs {
			if stems[lang] != nil && t.stemsAt(f.stems[lang], i, stems[lang]) {
				return words(i, k, surface)
			}
		}
	}
	return nil
}

// surfaceAt reports whether the form matches the text's tokens from i on as
// written: the first one ending with the form's first token (suffix), the
// last one beginning with its last token (prefix), the others equal.
func (t *term) surfaceAt(f *form, i int, surface func(int) string) bool {
	k := len(f.toks)
	for j, want := range f.toks {
		got := surface(i + j)
		first, last := j == 0, j == k-1
		switch {
		case t.suffix && t.prefix && first && last:
			if !strings.Contains(got, want) {
				return false
			}
		case t.suffix && first:
			if !strings.HasSuffix(got, want) {
				return false
			}
		case t.prefix && last:
			if !strings.HasPrefix(got, want) {
				return false
			}
		case got != want:
			return false
		}
	}
	return true
}

// stemsAt reports whether the form's stems want match the text's stems
// (in the same language) from i on: equal, except that the first may end
// with the form's (suffix).
func (t *term) stemsAt(want []string, i int, stems []string) bool {
	for j, w := range want {
		got := stems[i+j]
		if t.suffix && j == 0 {
			if !strings.HasSuffix(got, w) {
				return false
			}
			continue
		}
		if got != w {
			return false
		}
	}
	return true
}

func words(i, k int, surface func(int) string) []string {
	out := make([]string, k)
	for j := range out {
		out[j] = surface(i + j)
	}
	return out
}
