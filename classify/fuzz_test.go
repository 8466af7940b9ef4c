package classify

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/internal/benchtext"
)

// FuzzVectorizer: any bytes, split into words and stems however, never
// make the Vectorizer or Scores panic; the features are deterministic and
// bounded, and the scores are probabilities.
func FuzzVectorizer(f *testing.F) {
	for _, seed := range []string{
		"", "laskussani on virhe", "mun paketti ei oo viel tullu", "myöhässä myohassa",
		"4481123 😡😡 👍🏽", "\xff\xfe\x00 ä\xc3", "\xc3\xa4\xc3", benchtext.Text300,
		string(bytes.Repeat([]byte("x"), 200)), "жд漢 éü ß",
	} {
		f.Add(seed, "fi")
	}
	m, err := Train([]Doc{{Features: []uint32{1, 2}}, {Features: []uint32{3}, Label: 1}}, []string{"a", "b"}, Options{Bits: MinBits})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, lang string) {
		words := bytes.Fields([]byte(text))
		run := func(v *Vectorizer) []uint32 {
			v.Reset()
			for _, w := range words {
				if v.AddWord(w) {
					v.AddStem(lang, w[:len(w)/2])
				}
			}
			return v.Features()
		}
		v := NewVectorizer()
		a := slices.Clone(run(v))
		if b := run(v); !slices.Equal(a, b) {
			t.Fatalf("reused: %v, first: %v", b, a)
		}
		if b := run(NewVectorizer()); !slices.Equal(a, b) {
			t.Fatalf("fresh: %v, first: %v", b, a)
		}
		if len(a) > MaxFeatures {
			t.Fatalf("%d features", len(a))
		}
		p := m.Scores(a, nil)
		if s := float64(p[0] + p[1]); math.Abs(s-1) > 1e-5 {
			t.Fatalf("scores %v", p)
		}
	})
}
