package rules

import (
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/finnish"
	"github.com/blevesearch/snowballstem/swedish"
)

// Stemming languages. A message is stemmed in its declared or detected
// language; when that is none of these, in all of them.
const (
	langFi = iota
	langEn
	langSv
	numStemLangs
)

// stemLangNames name the stemming languages, as ISO 639-1 codes.
var stemLangNames = [numStemLangs]string{langFi: "fi", langEn: "en", langSv: "sv"}

// stemLangName names a stemming language.
func stemLangName(lang int) string { return stemLangNames[lang] }

// stemSep separates stems in a language's part of the haystack; the surface
// (unstemmed) part uses ' '. Tokens never contain these bytes (control
// characters separate tokens), nor segBreak or partBreak.
func stemSep(lang int) byte { return [numStemLangs]byte{0x1e, 0x1f, 0x1b}[lang] }

const (
	// maxStemLen: longer tokens (URLs, hashes) are left as they are.
	maxStemLen = 48
	// maxStemCache bounds each language's cache of word → stem.
	maxStemCache = 1 << 16
)

// stemmer reduces words to Snowball stems (Finnish, English, Swedish), caching them:
// once a word has been seen, stemming it again costs a map lookup and no
// allocation. Safe for concurrent use; shared by successive rule versions.
//
// Finnish stems get one extra step (fixFinnish): Snowball leaves nouns in
// -us/-ys/-os/-is (toimitus, hyvitys, tilaus) with three different stems
// (toimitus, toimituks-, toimitu-), so a final -s or -ks after a vowel is
// dropped and all three meet. Swedish stems get one too (fixSwedish).
type stemmer struct {
	langs [numStemLangs]stemCache
}

type stemCache struct {
	mu   sync.RWMutex
	m    map[string]string
	stem func(*snowballstem.Env) bool
	fix  func(string) string // applied after stem, when set
	// keep, when set, names words that are their own stems: short
	// function words the stemmer would cut to another word's stem.
	keep func(string) bool
}

func newStemmer() *stemmer {
	s := &stemmer{}
	s.langs[langFi] = stemCache{m: map[string]string{}, stem: finnish.Stem, fix: fixFinnish}
	s.langs[langEn] = stemCache{m: map[string]string{}, stem: english.Stem}
	// Swedish function words keep their form: Snowball cuts both inte
	// (not) and intern (an intern) to int.
	s.langs[langSv] = stemCache{m: map[string]string{}, stem: swedish.Stem, fix: fixSwedish, keep: swedishWord}
	return s
}

// stem returns the stem of word (folded) in lang. Words without letters and
// very long ones are their own stems.
func (s *stemmer) stem(lang int, word []byte, letters bool) string {
	c := &s.langs[lang]
	c.mu.RLock()
	st, ok := c.m[string(word)]
	c.mu.RUnlock()
	if ok {
		return st
	}
	w := string(word)
	st = w
	if letters && len(word) <= maxStemLen && (c.keep == nil || !c.keep(w)) {
		st = safeStem(c.stem, w)
		if c.fix != nil {
			st = c.fix(st)
		}
	}
	c.mu.Lock()
	if len(c.m) < maxStemCache {
		c.m[w] = st
	}
	c.mu.Unlock()
	return st
}

// stemString is stem for a word given as a string (rule terms).
func (s *stemmer) stemString(lang int, word string) string {
	return s.stem(lang, []byte(word), hasLetter([]byte(word)))
}

// safeStem runs a Snowball stemmer, which is generated code, and falls back
// to the word itself should it ever panic on odd input.
func safeStem(stem func(*snowballstem.Env) bool, w string) (out string) {
	defer func() {
		if recover() != nil {
			out = w
		}
	}()
	env := snowballstem.NewEnv(w)
	stem(env)
	if out = env.Current(); out == "" {
		out = w
	}
	return out
}

// fixFinnish drops a final -ks or -s that follows a vowel from a Finnish stem
// of at least five letters: toimituks, toimitus → toimitu.
func fixFinnish(st string) string {
	if len(st) < 5 {
		return st
	}
	if cut, ok := strings.CutSuffix(st, "ks"); ok && endsInVowel(cut) {
		return cut
	}
	if cut, ok := strings.CutSuffix(st, "s"); ok && endsInVowel(cut) {
		return cut
	}
	return st
}

// fixSwedish completes Snowball's light Swedish stemmer for definite forms
// it leaves alone, on stems of at least six letters: a final -s that
// Snowball strips from the base form but not from the inflected one
// (leverans → leveran, leveransen → leverans), then -et (paketet, like
// paket) or -an (fakturan, like faktura → faktur; leveran → lever).
func fixSwedish(st string) string {
	if utf8.RuneCountInString(st) < 6 {
		return st
	}
	st = strings.TrimSuffix(st, "s")
	if utf8.RuneCountInString(st) < 6 {
		return st
	}
	if cut, ok := strings.CutSuffix(st, "et"); ok {
		return cut
	}
	return strings.TrimSuffix(st, "an")
}

func endsInVowel(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'ä', 'ö':
		return true
	}
	return false
}
