package classify

import (
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode"
)

// Benchmarks: training on 1,000 and 10,000 examples generated from the
// test corpus (perturb), and classifying a 300-byte and a 3 KB message.
//
//	go test ./classify/ -run '^$' -bench . -benchmem
//
// Results and the machine: docs/BENCHMARKS.md.

const text300 = "Hei! Tilasin viime viikolla uuden puhelimen verkkokaupastanne, mutta paketti ei ole " +
	"vieläkään tullut, vaikka seurannan mukaan se lähti jo maanantaina. Asiakaspalvelu ei vastaa " +
	"puhelimeen. Voitteko tarkistaa, missä lähetys on? Tilausnumero 4481123. Kiitos, Maija"

// text3k is an English mail with a quoted Finnish auto-reply, 3,000 bytes
// (the rules benchmarks' message).
func text3k() string {
	quoted := "\n> Hyvä asiakas, kiitos yhteydenotostasi. Käsittelemme viestisi mahdollisimman pian. " +
		"Palvelemme arkisin kello 8-18. Voit myös tarkistaa tilauksesi tilan verkkopalvelussamme, " +
		"jossa näet toimitusajan ja seurantatiedot. Ystävällisin terveisin, asiakaspalvelu\n"
	body := "Hello, I am writing again because my previous messages were not answered. I ordered two " +
		"items on the 3rd of March and only one of them arrived. The tracking page says the second " +
		"parcel was delivered to a pick-up point, but the pick-up point says they never received it. " +
		"I have now been waiting for almost three weeks and I would like to know whether you can send " +
		"a replacement or return my money. I have attached the receipt and a screenshot of the tracking " +
		"page. Please note that I am travelling next week, so email is the best way to reach me.\n"
	var b strings.Builder
	for b.Len() < 3000 {
		b.WriteString(body)
		b.WriteString(quoted)
	}
	return b.String()[:3000]
}

// cpuTimer reports the CPU time per operation of a benchmark (metric
// cpu-ns/op), which a busy shared machine inflates less than the wall time.
// Call start after setup, before the loop, and stop after it.
type cpuTimer struct{ t0 time.Duration }

func (c *cpuTimer) start() {
	runtime.LockOSThread()
	c.t0, _ = threadCPU()
}

func (c *cpuTimer) stop(b *testing.B) {
	t1, ok := threadCPU()
	runtime.UnlockOSThread()
	if ok && b.N > 0 {
		b.ReportMetric(float64(t1-c.t0)/float64(b.N), "cpu-ns/op")
	}
}

// generated returns n examples perturbed from the corpus, vectorized.
func generated(b testing.TB, n int) *corpus {
	return newCorpus(perturb(readExamples(b, "corpus.tsv"), n, 1))
}

func benchmarkTrain(b *testing.B, n int) {
	c := generated(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	var m *Model
	var cpu cpuTimer
	cpu.start()
	for b.Loop() {
		var err error
		if m, err = Train(c.docs, c.labels, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	cpu.stop(b)
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
	var cpu cpuTimer
	cpu.start()
	for b.Loop() {
		if tokenize {
			f = tok.features(v, text)
		}
		out = m.Scores(f, out)
	}
	cpu.stop(b)
	b.ReportMetric(float64(len(f)), "features")
}

func BenchmarkClassify300(b *testing.B) { benchmarkClassify(b, text300, true) }
func BenchmarkClassify3k(b *testing.B)  { benchmarkClassify(b, text3k(), true) }
func BenchmarkScores300(b *testing.B)   { benchmarkClassify(b, text300, false) }
func BenchmarkScores3k(b *testing.B)    { benchmarkClassify(b, text3k(), false) }

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
	var cpu cpuTimer
	cpu.start()
	for b.Loop() {
		classify()
	}
	cpu.stop(b)
	b.ReportMetric(float64(len(words)), "words")
	b.ReportMetric(float64(len(v.Features())), "features")
}

func BenchmarkModel300(b *testing.B) { benchmarkModel(b, text300) }
func BenchmarkModel3k(b *testing.B)  { benchmarkModel(b, text3k()) }
