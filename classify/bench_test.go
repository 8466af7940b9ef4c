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

// trained returns a model trained on 1,000 generated examples, the one
// the classification benchmarks measure.
func trained(b *testing.B) *Model {
	c := generated(b, 1000)
	m, err := Train(c.docs, c.labels, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// measure runs op in b's loop, reporting allocations and the CPU time
// besides the wall time; what came before is setup.
func measure(b *testing.B, op func()) {
	b.ReportAllocs()
	b.ResetTimer()
	var cpu cputime.Timer
	cpu.Start()
	for b.Loop() {
		op()
	}
	cpu.Stop(b)
}

func benchmarkTrain(b *testing.B, n int) {
	c := generated(b, n)
	var m *Model
	measure(b, func() {
		var err error
		if m, err = Train(c.docs, c.labels, Options{}); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(m.Epochs()), "epochs")
	b.ReportMetric(float64(m.SizeBytes())/(1<<20), "model-MiB")
}

func BenchmarkTrain1k(b *testing.B)  { benchmarkTrain(b, 1000) }
func BenchmarkTrain10k(b *testing.B) { benchmarkTrain(b, 10000) }

// benchmarkClassify measures one message: the test tokenizer (folding,
// splitting, cached stems in three languages), the Vectorizer, and Scores.
// BenchmarkScores* measure Scores alone.
func benchmarkClassify(b *testing.B, text string, tokenize bool) {
	m := trained(b)
	tok, v := newTestTokenizer(), NewVectorizer()
	f := tok.features(v, text)
	out := make([]float32, m.NumLabels())
	b.SetBytes(int64(len(text)))
	measure(b, func() {
		if tokenize {
			f = tok.features(v, text)
		}
		out = m.Scores(f, out)
	})
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
	m := trained(b)
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
	measure(b, classify)
	b.ReportMetric(float64(len(words)), "words")
	b.ReportMetric(float64(len(v.Features())), "features")
}

func BenchmarkModel300(b *testing.B) { benchmarkModel(b, benchtext.Text300) }
func BenchmarkModel3k(b *testing.B)  { benchmarkModel(b, benchtext.Text3K()) }
