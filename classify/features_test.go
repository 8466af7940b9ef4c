package classify

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/benchtext"
)

// wordFeatures returns the features of words fed to a fresh Vectorizer.
func wordFeatures(words ...string) []uint32 {
	v := NewVectorizer()
	for _, w := range words {
		v.AddWord([]byte(w))
	}
	return slices.Clone(v.Features())
}

func TestAddWord(t *testing.T) {
	for _, tc := range []struct {
		name  string
		words []string
		want  int // number of features
	}{
		{"empty", []string{""}, 0},
		// <abc>: 3 3-grams, 2 4-grams, 1 5-gram, and the word.
		{"three letters", []string{"abc"}, 1 + 6},
		// <ab>: 2 3-grams, 1 4-gram.
		{"two letters", []string{"ab"}, 1 + 3},
		{"one letter", []string{"a"}, 1 + 1},
		// Also the word as written: it has ä.
		{"diacritic", []string{"äbc"}, 2 + 6},
		// The number and its length, no grams.
		{"number", []string{"4481123"}, 2},
		{"emoji", []string{"😡"}, 1},
		{"repeated word counts once", []string{"abc", "abc"}, 1 + 6},
		{"two words", []string{"ei", "oo"}, 2 * (1 + 3)},
		{"long word: no grams", []string{strings.Repeat("x", maxGramWord+1)}, 1},
		{"longest word with grams", []string{strings.Repeat("x", maxGramWord)}, 1 + 3*(maxGramWord+2) - 2 - 3 - 4},
		{"invalid UTF-8", []string{"\xff\xfe"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := wordFeatures(tc.words...); len(got) != tc.want {
				t.Errorf("%q: %d features, want %d", tc.words, len(got), tc.want)
			}
		})
	}
}

// TestDiacritics: a word written without ä, ö and å has all the features
// of the word written with them, but one (the word as written).
func TestDiacritics(t *testing.T) {
	for _, pair := range [][2]string{{"myöhässä", "myohassa"}, {"påminnelse", "paminnelse"}, {"työhakemus", "tyohakemus"}} {
		with, without := wordFeatures(pair[0]), wordFeatures(pair[1])
		if len(with) != len(without)+1 {
			t.Fatalf("%s: %d features, %s: %d", pair[0], len(with), pair[1], len(without))
		}
		missing := 0
		for _, f := range with {
			if !slices.Contains(without, f) {
				missing++
			}
		}
		if missing != 1 {
			t.Errorf("%s has %d features %s lacks, want 1", pair[0], missing, pair[1])
		}
	}
}

// TestTypoSharesGrams: a misspelled word shares most of its grams with the
// right spelling; a different word with the same ending (-ssani) shares
// only the ending's grams.
func TestTypoSharesGrams(t *testing.T) {
	shared := func(a, b string) int {
		fa, fb := wordFeatures(a), wordFeatures(b)
		n := 0
		for _, f := range fa {
			if slices.Contains(fb, f) {
				n++
			}
		}
		return n
	}
	if typo, other := shared("laskussani", "laskusani"), shared("laskussani", "paketissani"); typo < 2*other || other > 9 {
		t.Errorf("laskussani shares %d features with laskusani, %d with paketissani", typo, other)
	}
}

func TestAddStem(t *testing.T) {
	v := NewVectorizer()
	v.AddStem("fi", []byte("lasku"))
	v.AddStem("en", []byte("lasku"))
	v.AddStem("fi", []byte("lasku")) // repeated: nothing
	v.AddStem("fi", nil)             // empty: nothing
	f := slices.Clone(v.Features())
	if len(f) != 2 || f[0] == f[1] {
		t.Fatalf("features %v: want two different ones", f)
	}
	v.Reset()
	v.AddStem("fi", []byte("myöhäs"))
	a := slices.Clone(v.Features())
	v.Reset()
	v.AddStem("fi", []byte("myohas"))
	if b := v.Features(); !slices.Equal(a, b) {
		t.Errorf("stems with and without diacritics differ: %v %v", a, b)
	}
}

// TestAddStemString holds AddStemString to AddStem, and both to the ids
// the stems had before stemID hashed them without a copy: the word with ä,
// ö and å replaced by stripDiacritics, then hashed.
func TestAddStemString(t *testing.T) {
	long := strings.Repeat("ä", 40) // 80 bytes: over maxStripStem, hashed as it is
	for _, stem := range []string{"lasku", "myöhäs", "ÅÄÖ", "åter", "\xc3", "a\xc3", long, "x"} {
		for _, lang := range []string{"fi", "en", "sv"} {
			h := seedStem
			for i := 0; i < len(lang); i++ {
				h = (h ^ uint32(lang[i])) * 0x01000193
			}
			var buf [maxStripStem]byte
			b := []byte(stem)
			if len(b) <= len(buf) {
				b, _ = stripDiacritics(buf[:0], b)
			}
			want := hashBytes(h, b)
			v := NewVectorizer()
			v.AddStem(lang, []byte(stem))
			w := NewVectorizer()
			w.AddStemString(lang, stem)
			if got := v.Features(); len(got) != 1 || got[0] != want {
				t.Errorf("AddStem(%q, %q) = %v, want [%d]", lang, stem, got, want)
			}
			if got := w.Features(); len(got) != 1 || got[0] != want {
				t.Errorf("AddStemString(%q, %q) = %v, want [%d]", lang, stem, got, want)
			}
		}
	}
	v := NewVectorizer()
	if n := testing.AllocsPerRun(100, func() { v.Reset(); v.AddStemString("fi", long) }); n != 0 {
		t.Errorf("AddStemString allocates %.1f times", n)
	}
}

func TestFeatureKinds(t *testing.T) {
	v := NewVectorizer()
	v.AddWord([]byte("abc"))
	grams := 0
	for _, f := range v.Features() {
		if f&gramBit != 0 {
			grams++
		}
	}
	if grams != 6 {
		t.Errorf("%d gram features, want 6", grams)
	}
}

// TestMaxFeatures: a huge message stops at MaxFeatures.
func TestMaxFeatures(t *testing.T) {
	v := NewVectorizer()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		w := make([]byte, 8)
		for i := range w {
			w[i] = byte('a' + rng.IntN(26))
		}
		v.AddWord(w)
		v.AddStem("fi", w)
	}
	if n := len(v.Features()); n > MaxFeatures || n < MaxFeatures-maxWordFeatures {
		t.Errorf("%d features, want at most and close to %d", n, MaxFeatures)
	}
}

// TestGramsReference: appendGrams agrees with a straightforward
// implementation on strings of runes, for random words of every script the
// folding lets through.
func TestGramsReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("abcdefghijklmnopqrstuvwxyzéüßжд漢0123456789")
	for range 2000 {
		r := make([]rune, 1+rng.IntN(maxGramWord+3))
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		w := string(r)
		got := appendGrams(nil, []byte(w))
		var want []uint32
		if len(r) <= maxGramWord {
			s := []rune("<" + w + ">")
			for i := range s {
				for n := minGram; n <= maxGram && i+n <= len(s); n++ {
					want = append(want, mix(fnv(seedGram, string(s[i:i+n])))|gramBit)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q: grams %v, want %v", w, got, want)
		}
	}
}

// fnv is plain FNV-1a of s from seed.
func fnv(seed uint32, s string) uint32 {
	h := seed
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// TestVectorizerReset: a reused Vectorizer gives the same features as a
// fresh one.
func TestVectorizerReset(t *testing.T) {
	tok := newTestTokenizer()
	used := NewVectorizer()
	for _, text := range []string{benchtext.Text3K(), benchtext.Text300, "", "Hei! Sama juttu 😡", benchtext.Text300} {
		got := slices.Clone(tok.features(used, text))
		want := tok.features(NewVectorizer(), text)
		if !slices.Equal(got, want) {
			t.Fatalf("reused vectorizer: %d features, fresh: %d", len(got), len(want))
		}
	}
}

// TestVectorizerAllocs: once its buffers have grown, a Vectorizer
// allocates nothing.
func TestVectorizerAllocs(t *testing.T) {
	words := strings.Fields(strings.ToLower(benchtext.Text3K()))
	bs := make([][]byte, len(words))
	for i, w := range words {
		bs[i] = []byte(w)
	}
	v := NewVectorizer()
	run := func() {
		v.Reset()
		for _, w := range bs {
			v.AddWord(w)
			v.AddStem("fi", w)
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per message, want 0", n)
	}
}
