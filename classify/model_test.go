package classify

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/internal/benchtext"
)

func TestTop(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name   string
		scores []float32
		k      int
		want   []int
	}{
		{"empty", nil, 3, []int{}},
		{"k 0", []float32{1, 2}, 0, []int{}},
		{"fewer than k", []float32{0.2, 0.8}, 3, []int{1, 0}},
		{"top three", []float32{0.1, 0.5, 0.05, 0.3, 0.05}, 3, []int{1, 3, 0}},
		{"ties keep index order", []float32{0.25, 0.25, 0.25, 0.25}, 3, []int{0, 1, 2}},
		{"NaN last", []float32{nan, 0.1, nan, 0.2}, 3, []int{3, 1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Top(tc.scores, tc.k, nil); !slices.Equal(got, tc.want) {
				t.Errorf("Top(%v, %d) = %v, want %v", tc.scores, tc.k, got, tc.want)
			}
		})
	}
}

// TestTopReference: Top agrees with a stable sort, on random scores with
// many ties.
func TestTopReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var dst []int
	for range 1000 {
		scores := make([]float32, rng.IntN(12))
		for i := range scores {
			scores[i] = float32(rng.IntN(5))
		}
		k := rng.IntN(6)
		idx := make([]int, len(scores))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case scores[a] > scores[b]:
				return -1
			case scores[a] < scores[b]:
				return 1
			}
			return 0
		})
		want := idx[:min(k, len(idx))]
		if dst = Top(scores, k, dst); !slices.Equal(dst, want) {
			t.Fatalf("Top(%v, %d) = %v, want %v", scores, k, dst, want)
		}
	}
}

// trainedModel trains on the corpus with the default options.
func trainedModel(t testing.TB) (*Model, *corpus) {
	t.Helper()
	c := loadCorpus(t)
	m, err := Train(c.docs, c.labels, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

func TestScoresAreProbabilities(t *testing.T) {
	m, c := trainedModel(t)
	tok, v := newTestTokenizer(), NewVectorizer()
	for _, text := range []string{"", "Hei!", benchtext.Text300, benchtext.Text3K(), "😡😡😡", "\xff\xfe"} {
		p := m.Scores(tok.features(v, text), nil)
		if len(p) != len(c.labels) {
			t.Fatalf("%d scores for %d labels", len(p), len(c.labels))
		}
		sum := 0.0
		for _, x := range p {
			if !(x >= 0 && x <= 1) {
				t.Fatalf("%q: score %v", text, x)
			}
			sum += float64(x)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("%q: scores sum to %v", text, sum)
		}
	}
	// Any id is a valid feature: ids are folded into the buckets.
	m.Scores([]uint32{0, math.MaxUint32, 1 << 31}, nil)
}

// TestScoresOut: Scores uses the caller's buffer when it is big enough.
func TestScoresOut(t *testing.T) {
	m, _ := trainedModel(t)
	f := vectorize([]string{benchtext.Text300})[0]
	buf := make([]float32, 2, 64)
	got := m.Scores(f, buf)
	if &got[0] != &buf[0] || len(got) != m.NumLabels() {
		t.Error("Scores did not write into the caller's buffer")
	}
	short := m.Scores(f, make([]float32, 1))
	if !slices.Equal(short, got) {
		t.Errorf("with a short buffer %v, with a long one %v", short, got)
	}
}

// TestScoresAllocs: classifying allocates nothing once the caller's buffers
// exist, for the model alone and with the test tokenizer and Vectorizer.
func TestScoresAllocs(t *testing.T) {
	m, _ := trainedModel(t)
	tok, v := newTestTokenizer(), NewVectorizer()
	text := benchtext.Text3K()
	f := tok.features(v, text)
	out := make([]float32, m.NumLabels())
	top := make([]int, 0, 3)
	if n := testing.AllocsPerRun(100, func() { out = m.Scores(f, out); top = Top(out, 3, top) }); n != 0 {
		t.Errorf("Scores: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { out = m.Scores(tok.features(v, text), out) }); n != 0 {
		t.Errorf("tokenize, vectorize and score: %v allocations, want 0", n)
	}
}

// TestModelSize: the model is 4 bytes per bucket and label, and little
// more.
func TestModelSize(t *testing.T) {
	c := loadCorpus(t)
	for _, bits := range []int{MinBits, 12, DefaultBits} {
		m, err := Train(c.docs, c.labels, Options{Bits: bits})
		if err != nil {
			t.Fatal(err)
		}
		weights := 4 * len(c.labels) << bits
		if got := m.SizeBytes(); got < weights || got > weights+4096 {
			t.Errorf("bits %d: %d bytes, want %d and a little", bits, got, weights)
		}
		if m.Buckets() != 1<<bits {
			t.Errorf("bits %d: %d buckets", bits, m.Buckets())
		}
	}
}

// TestScoresReference: Scores agrees with a straightforward float64
// computation of the model's definition, on random features.
func TestScoresReference(t *testing.T) {
	m, _ := trainedModel(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200 {
		f := make([]uint32, rng.IntN(300))
		for i := range f {
			f[i] = rng.Uint32()
		}
		k := m.NumLabels()
		logit := make([]float64, k)
		norm := 0.0
		for _, id := range f {
			value := 1.0
			if id&gramBit != 0 {
				value = float64(m.gramWeight)
			}
			norm += value * value
			for c := range k {
				logit[c] += value * float64(m.w[int(id&m.mask)*k+c])
			}
		}
		total := 0.0
		for c := range logit {
			if norm > 0 {
				logit[c] /= math.Sqrt(norm)
			}
			logit[c] = math.Exp(logit[c] + float64(m.bias[c]))
			total += logit[c]
		}
		got := m.Scores(f, nil)
		for c := range k {
			if want := logit[c] / total; math.Abs(float64(got[c])-want) > 1e-5 {
				t.Fatalf("%d features: label %d: %v, want %v", len(f), c, got[c], want)
			}
		}
	}
}
