package classify

import (
	"strings"
	"testing"
	"unicode"

	"github.com/switchboard/switchboard/internal/benchtext"
	"github.com/switchboard/switchboard/internal/cputime"
)

// Benchmarks: training on 1,000 and 10,000 examples generated from the
// test corpus (perturb), and classifying a 300-byte and a 3 KB message.
//
//	go test ./classify/ -run '^$' -bench . -benchmem
//
// Results and the machine: docs/BENCHMARKS.md.

// generated returns n examples perturbed from the corpus, vectorized.
func generated(b testing.TB, n int) *corpus {
	return newCorpus(perturb(readExamples(b, "corpus.tsv"), n, 1))
}

func benchmarkTrain(b *testing.B, n int) {
	c := generated(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	var m *Model
	var cpu cputime.Timer
	cpu.Start()
	for b.Loop() {
		var err error
		if m, err = Train(c.docs, c.labels, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Stop(b)
	b.ReportMetric(float64(m.Epochs()), "epochs")
	b.ReportMetric(float64(m.SizeBytes())/(1<<20), "model-MiB")
}

func BenchmarkTrain1k(b *testing.B)  { benchmarkTrain(b, 1000) }
func BenchmarkTrain10k(b *testing.B) { benchmarkTrain(b, 10000) }

// benchmarkClassify measures one message: the test tokenizer (folding,
// splitting, cached stems in three languages), the Vectorizer, and Scores.
// BenchmarkScores* measure Scores alone.
func benchmarkClassify(b *testing.B, text string, tokenize bool) {
	c := generated(b, 1000)
	m, err := Train(c.docs, c.labels, Options{})
	if err != nil {
		b.Fatal(err)
	}
	tok, v := newTestTokenizer(), NewVectorizer()
	f := tok.features(v, text)
	out := make([]float32, m.NumLabels())
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	var cpu cputime.Timer
	cpu.Start()
	for b.Loop() {
		if tokenize {
			f = tok.features(v, text)
		}
		out = m.Scores(f, out)
	}
	cpu.Stop(b)
	b.ReportMetric(float64(len(f)), "features")
}

func BenchmarkClassify300(b *testing.B) { benchmarkClassify(b, benchtext.Text300, true) }
func BenchmarkClassify3k(b *testing.B)  { benchmarkClassify(b, benchtext.Text3K(), true) }
func BenchmarkScores300(b *testing.B)   { benchmarkClassify(b, benchtext.Text300, false) }
func BenchmarkScores3k(b *testing.B)    { benchmarkClassify(b, benchtext.Text3K(), false) }

// benchmarkModel measures what this package adds to the caller's folding
// and stemming: the Vectorizer fed the words and their stems in three
// languages (computed before), and Scores.
func benchmarkModel(b *testing.B, text string) {
	c := generated(b, 1000)
	m, err := Train(c.docs, c.labels, Options{})
	if err != nil {
		b.Fatal(err)
	}
	tok := newTestTokenizer()
	type word struct{ w, fi, en, sv []byte }
	var words []word
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		tok.features(NewVectorizer(), w)
		words = append(words, word{[]byte(w), tok.stems[0][w], tok.stems[1][w], tok.stems[2][w]})
	}
	v := NewVectorizer()
	out := make([]float32, m.NumLabels())
	classify := func() {
		v.Reset()
		for i := range words {
			if v.AddWord(words[i].w) {
				v.AddStem("fi", words[i].fi)
				v.AddStem("en", words[i].en)
				v.AddStem("sv", words[i].sv)
			}
		}
		out = m.Scores(v.Features(), out)
	}
	classify() // grow the buffers
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	var cpu cputime.Timer
	cpu.Start()
	for b.Loop() {
		classify()
	}
	cpu.Stop(b)
	b.ReportMetric(float64(len(words)), "words")
	b.ReportMetric(float64(len(v.Features())), "features")
}

func BenchmarkModel300(b *testing.B) { benchmarkModel(b, benchtext.Text300) }
func BenchmarkModel3k(b *testing.B)  { benchmarkModel(b, benchtext.Text3K()) }
