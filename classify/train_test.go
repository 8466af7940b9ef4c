package classify

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/benchtext"
)

// TestDeterministic: the same examples and options give bit-identical
// weights and scores; another seed gives other weights.
func TestDeterministic(t *testing.T) {
	n, opts := 1000, Options{}
	if raceEnabled {
		n, opts.Bits = 200, 12
	}
	c := generated(t, n)
	a, err := Train(c.docs, c.labels, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(c.docs, c.labels, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bitsOf(a.w), bitsOf(b.w)) || !slices.Equal(bitsOf(a.bias), bitsOf(b.bias)) || a.Epochs() != b.Epochs() {
		t.Fatal("two trainings on the same examples differ")
	}
	f := vectorize([]string{benchtext.Text300})[0]
	if sa, sb := a.Scores(f, nil), b.Scores(f, nil); !slices.Equal(bitsOf(sa), bitsOf(sb)) {
		t.Errorf("scores %v and %v", sa, sb)
	}
	opts.Seed = 7
	other, err := Train(c.docs, c.labels, opts)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(bitsOf(a.w), bitsOf(other.w)) {
		t.Error("another seed gave the same weights")
	}
}

// bitsOf returns the bit patterns of xs, so that comparing them compares
// floats exactly (NaN included).
func bitsOf(xs []float32) []uint32 {
	out := make([]uint32, len(xs))
	for i, x := range xs {
		out[i] = math.Float32bits(x)
	}
	return out
}

func TestTrainErrors(t *testing.T) {
	doc := Doc{Features: []uint32{1, 2}}
	for _, tc := range []struct {
		name   string
		docs   []Doc
		labels []string
		opts   Options
		want   string
	}{
		{"no labels", []Doc{doc}, nil, Options{}, "no labels"},
		{"empty label", []Doc{doc}, []string{""}, Options{}, "label 0 is empty"},
		{"duplicate label", []Doc{doc}, []string{"a", "a"}, Options{}, `label "a" given twice`},
		{"no examples", nil, []string{"a"}, Options{}, "no examples"},
		{"label out of range", []Doc{{Label: 1}}, []string{"a"}, Options{}, "label 1 out of range"},
		{"negative label", []Doc{{Label: -1}}, []string{"a"}, Options{}, "label -1 out of range"},
		{"negative weight", []Doc{{Weight: -1}}, []string{"a"}, Options{}, "weight -1"},
		{"NaN weight", []Doc{{Weight: float32(math.NaN())}}, []string{"a"}, Options{}, "weight NaN"},
		{"huge weight", []Doc{{Weight: 1e9}}, []string{"a"}, Options{}, "weight 1e+09"},
		{"bits", []Doc{doc}, []string{"a"}, Options{Bits: 30}, "bits 30"},
		{"l2", []Doc{doc}, []string{"a"}, Options{L2: -1}, "l2 -1"},
		{"learning rate", []Doc{doc}, []string{"a"}, Options{LearningRate: math.Inf(1)}, "learning rate +Inf"},
		{"rate times l2", []Doc{doc}, []string{"a"}, Options{LearningRate: 10, L2: 0.1}, "learning rate 10 times l2 0.1"},
		{"epochs", []Doc{doc}, []string{"a"}, Options{MaxEpochs: -1}, "max epochs -1"},
		{"steps", []Doc{doc}, []string{"a"}, Options{MaxSteps: -5}, "max steps -5"},
		{"tolerance", []Doc{doc}, []string{"a"}, Options{Tolerance: math.NaN()}, "tolerance NaN"},
		{"gram weight", []Doc{doc}, []string{"a"}, Options{GramWeight: -2}, "gram weight -2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Train(tc.docs, tc.labels, tc.opts)
			if err == nil || m != nil {
				t.Fatalf("Train: %v, %v; want an error", m, err)
			}
			if !strings.HasPrefix(err.Error(), "classify: train: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestMaxSteps: the step budget bounds the epochs of a large example set.
func TestMaxSteps(t *testing.T) {
	c := generated(t, 1000)
	m, err := Train(c.docs, c.labels, Options{MaxSteps: 2500, Tolerance: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	if m.Epochs() != 2 {
		t.Errorf("%d epochs, want 2", m.Epochs())
	}
}

// TestOneLabel: a model with one label gives it probability 1.
func TestOneLabel(t *testing.T) {
	m, err := Train([]Doc{{Features: []uint32{1}}}, []string{"triage"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Scores([]uint32{1, 2}, nil); len(p) != 1 || p[0] != 1 {
		t.Errorf("scores %v", p)
	}
}

// TestWeight: of two contradicting examples, the heavier one wins; an
// accepted correction can outweigh an old example.
func TestWeight(t *testing.T) {
	f := vectorize([]string{"paketti ei tullut"})[0]
	for _, w := range []float32{0.5, 3} {
		docs := []Doc{{Features: f, Label: 0}, {Features: f, Label: 1, Weight: w}}
		m, err := Train(docs, []string{"logistics", "billing"}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p := m.Scores(f, nil)
		if (w > 1) != (p[1] > p[0]) {
			t.Errorf("weight %v: scores %v", w, p)
		}
	}
}

// Accuracy floors, set from measurement on the test corpus (doc.go has the
// numbers) with a margin: 5-fold cross-validation, 3 splits.
const (
	floorAccuracy = 0.37 // measured 0.407; chance is 0.11
	floorTop3     = 0.67 // measured 0.720
)

func TestAccuracy(t *testing.T) {
	if raceEnabled {
		t.Skip("single-goroutine training, ~10 times slower under the race detector; checked without it")
	}
	c := loadCorpus(t)
	r := crossValidate(t, c, trainLR(c.labels, Options{}))
	t.Logf("corpus: %v", r)
	if r.acc < floorAccuracy || r.top3 < floorTop3 {
		t.Errorf("accuracy %.3f (floor %.2f), top 3 %.3f (floor %.2f)", r.acc, floorAccuracy, r.top3, floorTop3)
	}
}

// TestVariants: held-out messages that write the corpus's words without
// ä and ö, misspelled, in spoken Finnish or in Swedish classify right.
func TestVariants(t *testing.T) {
	m, c := trainedModel(t)
	vs := readExamples(t, "variants.tsv")
	texts := make([]string, len(vs))
	for i, v := range vs {
		texts[i] = v.text
	}
	wrong := map[string]int{}
	var top []int
	for i, f := range vectorize(texts) {
		top = Top(m.Scores(f, nil), 1, top)
		if got := c.labels[top[0]]; got != vs[i].label {
			wrong[vs[i].kind]++
			t.Logf("%s %q: %s, want %s", vs[i].kind, vs[i].text, got, vs[i].label)
		}
	}
	// Measured: one miss, the spoken "hyvitys ei oo viel tullu tilille"
	// (refund not arrived yet) goes to logistics, on "ei oo viel tullu".
	if wrong["sv"] > 0 || wrong["nodiac"] > 0 || wrong["typo"] > 1 || wrong["spoken"] > 1 {
		t.Errorf("misclassified variants by kind: %v", wrong)
	}
}

// TestPerturbedCopies: a training message with its ä and ö written as a
// and o, or with typos, keeps the label the model gives the message.
func TestPerturbedCopies(t *testing.T) {
	m, c := trainedModel(t)
	rng := rand.New(rand.NewPCG(11, 12))
	var stripped, typos []string
	for _, e := range c.examples {
		stripped = append(stripped, stripString(e.text))
		words := strings.Fields(e.text)
		for i, w := range words {
			if len(w) >= 6 && rng.IntN(2) == 0 {
				words[i] = typo(rng, w)
			}
		}
		typos = append(typos, strings.Join(words, " "))
	}
	for _, tc := range []struct {
		name  string
		texts []string
		floor float64
	}{
		{"without diacritics", stripped, 0.97}, // measured 1.0
		{"with typos", typos, 0.9},             // measured 0.98
	} {
		same := 0
		var a, b []int
		for i, f := range vectorize(tc.texts) {
			a = Top(m.Scores(c.docs[i].Features, nil), 1, a)
			b = Top(m.Scores(f, nil), 1, b)
			if a[0] == b[0] {
				same++
			}
		}
		share := float64(same) / float64(len(c.docs))
		t.Logf("%s: %.3f keep their label", tc.name, share)
		if share < tc.floor {
			t.Errorf("%s: %.3f keep their label, floor %.2f", tc.name, share, tc.floor)
		}
	}
}

// TestTrainMemory: training allocates the model and a little per example,
// nothing that grows with the vocabulary or the epochs.
func TestTrainMemory(t *testing.T) {
	n := 2000
	if raceEnabled {
		n = 300
	}
	c := generated(t, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := Train(c.docs, c.labels, Options{})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := int(after.TotalAlloc - before.TotalAlloc)
	if limit := m.SizeBytes() + 16*len(c.docs) + 64<<10; allocated > limit {
		t.Errorf("training allocated %d bytes, want at most %d (model %d)", allocated, limit, m.SizeBytes())
	}
}
