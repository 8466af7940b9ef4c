package classify

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/finnish"
	"github.com/blevesearch/snowballstem/swedish"
	"golang.org/x/text/unicode/norm"
)

// testTokenizer stands in for the rules package's folding and stemming in
// these tests: NFKC, lowercase, words are runs of letters and digits, and
// every word is stemmed in Finnish, English and Swedish (the language is
// not detected). Stems are cached, so the steady state allocates nothing.
type testTokenizer struct {
	norm, lower []byte
	stems       [len(stemLangs)]map[string][]byte
}

// stemLangs are the languages the test tokenizer stems in.
var stemLangs = [...]struct {
	name string
	stem func(*snowballstem.Env) bool
}{{"fi", finnish.Stem}, {"en", english.Stem}, {"sv", swedish.Stem}}

func newTestTokenizer() *testTokenizer {
	t := &testTokenizer{}
	for i := range t.stems {
		t.stems[i] = map[string][]byte{}
	}
	return t
}

// features resets v and adds the words and stems of text to it.
func (t *testTokenizer) features(v *Vectorizer, text string) []uint32 {
	v.Reset()
	t.norm = norm.NFKC.AppendString(t.norm[:0], text)
	t.lower = t.lower[:0]
	for i := 0; i < len(t.norm); {
		r, size := utf8.DecodeRune(t.norm[i:])
		i += size
		t.lower = utf8.AppendRune(t.lower, unicode.ToLower(r))
	}
	start := -1
	for i := 0; i <= len(t.lower); {
		r, size := rune(' '), 1
		if i < len(t.lower) {
			r, size = utf8.DecodeRune(t.lower[i:])
		}
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		if word && start < 0 {
			start = i
		} else if !word && start >= 0 {
			t.addWord(v, t.lower[start:i])
			start = -1
		}
		i += size
	}
	return v.Features()
}

func (t *testTokenizer) addWord(v *Vectorizer, w []byte) {
	if !v.AddWord(w) {
		return // seen: its stems are in already
	}
	for i, l := range stemLangs {
		st, ok := t.stems[i][string(w)]
		if !ok {
			env := snowballstem.NewEnv(string(w))
			l.stem(env)
			st = []byte(env.Current())
			t.stems[i][string(w)] = st
		}
		v.AddStem(l.name, st)
	}
}

// vectorize returns copies of the features of texts.
func vectorize(texts []string) [][]uint32 {
	t, v := newTestTokenizer(), NewVectorizer()
	out := make([][]uint32, len(texts))
	for i, s := range texts {
		out[i] = append([]uint32(nil), t.features(v, s)...)
	}
	return out
}
