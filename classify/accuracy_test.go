package classify

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// cvSeeds: accuracy is averaged over these fold splits, since one split of
// 162 messages is noisy.
var cvSeeds = []uint64{1, 2, 3}

// cvResult is cross-validated accuracy and calibration on a corpus.
type cvResult struct {
	acc     float64 // top-1 accuracy
	top3    float64 // label among the top three
	logLoss float64 // mean -log p(label)
	// confident: share of predictions with top probability >= 0.5, and
	// their accuracy.
	confident, confidentAcc float64
}

func (r cvResult) String() string {
	return fmt.Sprintf("acc %.3f top3 %.3f logloss %.3f p>=0.5: %.2f of messages, %.3f right",
		r.acc, r.top3, r.logLoss, r.confident, r.confidentAcc)
}

// crossValidate runs 5-fold cross-validation over cvSeeds with train.
func crossValidate(t testing.TB, c *corpus, train func([]Doc) (func([]uint32, []float32) []float32, error)) cvResult {
	t.Helper()
	var r cvResult
	n, conf, confRight := 0, 0, 0
	for _, seed := range cvSeeds {
		folds, err := Folds(c.docs, 5, seed)
		if err != nil {
			t.Fatal(err)
		}
		for f := range 5 {
			var tr []Doc
			for i, d := range c.docs {
				if folds[i] != f {
					tr = append(tr, d)
				}
			}
			score, err := train(tr)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]float32, len(c.labels))
			var top []int
			for i, d := range c.docs {
				if folds[i] != f {
					continue
				}
				out = score(d.Features, out)
				top = Top(out, 3, top)
				n++
				if top[0] == d.Label {
					r.acc++
				}
				for _, l := range top {
					if l == d.Label {
						r.top3++
					}
				}
				r.logLoss -= math.Log(math.Max(float64(out[d.Label]), 1e-9))
				if out[top[0]] >= 0.5 {
					conf++
					if top[0] == d.Label {
						confRight++
					}
				}
			}
		}
	}
	r.acc /= float64(n)
	r.top3 /= float64(n)
	r.logLoss /= float64(n)
	r.confident = float64(conf) / float64(n)
	if conf > 0 {
		r.confidentAcc = float64(confRight) / float64(conf)
	}
	return r
}

// trainLR adapts Train to crossValidate.
func trainLR(labels []string, opts Options) func([]Doc) (func([]uint32, []float32) []float32, error) {
	return func(docs []Doc) (func([]uint32, []float32) []float32, error) {
		m, err := Train(docs, labels, opts)
		if err != nil {
			return nil, err
		}
		return m.Scores, nil
	}
}

// trainCNB is complement naive Bayes (Rennie et al. 2003, with weight
// normalization) over the same hashed features: the baseline the logistic
// regression is compared with. Its scores are a softmax of the negated
// complement log-likelihoods, for ranking only.
func trainCNB(labels []string, bits int, alpha float64) func([]Doc) (func([]uint32, []float32) []float32, error) {
	return func(docs []Doc) (func([]uint32, []float32) []float32, error) {
		k, buckets := len(labels), 1<<bits
		mask := uint32(buckets - 1)
		count := make([]float64, buckets*k)
		total := make([]float64, k)
		for _, d := range docs {
			for _, f := range d.Features {
				count[int(f&mask)*k+d.Label]++
				total[d.Label]++
			}
		}
		all := 0.0
		for _, t := range total {
			all += t
		}
		w := make([]float32, buckets*k)
		norm := make([]float64, k)
		for b := range buckets {
			sum := 0.0
			for c := range k {
				sum += count[b*k+c]
			}
			for c := range k {
				th := (alpha + sum - count[b*k+c]) / (alpha*float64(buckets) + all - total[c])
				l := math.Log(th)
				w[b*k+c] = float32(l)
				norm[c] += math.Abs(l)
			}
		}
		for b := range buckets {
			for c := range k {
				w[b*k+c] = float32(-float64(w[b*k+c]) / norm[c] * 1e4)
			}
		}
		m := &Model{labels: labels, k: k, mask: mask, w: w, bias: make([]float32, k), gramWeight: 1}
		return func(f []uint32, out []float32) []float32 {
			return m.Scores(f, out)
		}, nil
	}
}

// TestCompareModels prints the cross-validated accuracy of the logistic
// regression with its options varied, and of complement naive Bayes, on the
// test corpus:
//
//	go test ./classify/ -run CompareModels -v
//
// The defaults in Options and the numbers in doc.go come from here.
func TestCompareModels(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a measurement, not a check")
	}
	c := loadCorpus(t)
	rows := []struct {
		name  string
		train func([]Doc) (func([]uint32, []float32) []float32, error)
	}{
		{"logreg defaults", trainLR(c.labels, Options{})},
		{"logreg unbalanced", trainLR(c.labels, Options{Unbalanced: true})},
		{"logreg gram weight 1", trainLR(c.labels, Options{GramWeight: 1})},
		{"logreg gram weight 4", trainLR(c.labels, Options{GramWeight: 4})},
		{"logreg l2 1e-4", trainLR(c.labels, Options{L2: 1e-4})},
		{"logreg l2 1e-5", trainLR(c.labels, Options{L2: 1e-5})},
		{"logreg bits 16", trainLR(c.labels, Options{Bits: 16})},
		{"logreg bits 20", trainLR(c.labels, Options{Bits: 20})},
		{"cnb alpha 1", trainCNB(c.labels, DefaultBits, 1)},
		{"cnb alpha 0.1", trainCNB(c.labels, DefaultBits, 0.1)},
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-22s %v\n", r.name, crossValidate(t, c, r.train))
	}
	t.Logf("5-fold cross-validation × %d splits, %d messages, %d teams:\n%s", len(cvSeeds), len(c.docs), len(c.labels), b.String())
	t.Logf("calibration of the defaults (top probability → share right):\n%s", reliability(t, c, Options{}))
}

// reliability tabulates, for cross-validated predictions binned by their
// top probability, how many there are and how often they are right.
func reliability(t *testing.T, c *corpus, opts Options) string {
	bins := []float32{0, 0.2, 0.3, 0.4, 0.5, 0.7, 1}
	n := make([]int, len(bins))
	right := make([]int, len(bins))
	sum := make([]float64, len(bins))
	var top []int
	for _, seed := range cvSeeds {
		folds, err := Folds(c.docs, 5, seed)
		if err != nil {
			t.Fatal(err)
		}
		scores, err := CrossValidate(c.docs, c.labels, folds, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range c.docs {
			top = Top(scores[i], 1, top)
			p := scores[i][top[0]]
			b := len(bins) - 2
			for p < bins[b] {
				b--
			}
			n[b]++
			sum[b] += float64(p)
			if top[0] == d.Label {
				right[b]++
			}
		}
	}
	var out strings.Builder
	for b := range len(bins) - 1 {
		if n[b] > 0 {
			fmt.Fprintf(&out, "[%.1f, %.1f): %3d messages, mean p %.2f, %.2f right\n",
				bins[b], bins[b+1], n[b], sum[b]/float64(n[b]), float64(right[b])/float64(n[b]))
		}
	}
	return out.String()
}
