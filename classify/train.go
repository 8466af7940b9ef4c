package classify

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Doc is one training example: the features of a message (from a
// Vectorizer) and its label, an index into the labels given to Train.
type Doc struct {
	// Features are the message's feature ids. Train does not modify them.
	Features []uint32
	// Label indexes the labels slice given to Train.
	Label int
	// Weight is how much the example counts: 0 means 1; an accepted
	// correction can count more, up to MaxWeight. Negative and NaN weights
	// are errors. For the stability of training, one example's weight
	// times its class weight (see Options.Unbalanced) is capped at
	// maxStepWeight.
	Weight float32
}

// Options tune training. The zero value gives the defaults, which were
// chosen by cross-validation on the test corpus (see doc.go).
type Options struct {
	// Bits sets the number of feature buckets to 2^Bits, from MinBits to
	// MaxBits; 0 means DefaultBits. The model holds 4 bytes per bucket and
	// label.
	Bits int
	// L2 is the strength of the L2 penalty on the weights, per example; 0
	// means DefaultL2. Larger values give smaller weights and flatter
	// (less confident) probabilities.
	L2 float64
	// LearningRate is the size of the first step; 0 means
	// DefaultLearningRate. Step t (counting examples over all epochs) has
	// size LearningRate/(1 + LearningRate·L2·t), the schedule under which
	// SGD converges to the penalized optimum (Bottou, "Stochastic Gradient
	// Descent Tricks", 2012).
	LearningRate float64
	// MaxEpochs bounds the passes over the examples; 0 means
	// DefaultMaxEpochs.
	MaxEpochs int
	// MaxSteps bounds the examples visited over all epochs, which bounds
	// the training time of a large example set (at 10,000 examples,
	// DefaultMaxSteps allows 30 epochs); 0 means DefaultMaxSteps. At least
	// one whole epoch is always made.
	MaxSteps int
	// Tolerance stops training early once an epoch lowers the mean loss by
	// less than this fraction; 0 means DefaultTolerance.
	Tolerance float64
	// GramWeight is the value of a character n-gram feature, relative to
	// whole words and stems (value 1); 0 means DefaultGramWeight.
	GramWeight float64
	// Unbalanced turns off class balancing. By default each label's
	// examples together count as much as any other label's (by number,
	// before Doc.Weight), so a team with few examples is not drowned by
	// one with many.
	Unbalanced bool
	// Seed picks the (deterministic) order in which examples are visited.
	Seed uint64
}

// Defaults and limits of Options.
const (
	DefaultBits         = 18
	MinBits             = 8
	MaxBits             = 24
	DefaultL2           = 3e-5
	DefaultLearningRate = 1
	DefaultMaxEpochs    = 50
	DefaultMaxSteps     = 300_000
	DefaultTolerance    = 0.001
	DefaultGramWeight   = 2
	// MaxLabels bounds the labels of one model.
	MaxLabels = 1024
	// MaxWeight bounds Doc.Weight.
	MaxWeight = 100
)

// withDefaults returns o with zero fields set to their defaults, or an
// error for a value out of range.
func (o Options) withDefaults() (Options, error) {
	o.Bits = cmp.Or(o.Bits, DefaultBits)
	if o.Bits < MinBits || o.Bits > MaxBits {
		return o, fmt.Errorf("bits %d: want %d to %d", o.Bits, MinBits, MaxBits)
	}
	o.L2 = cmp.Or(o.L2, DefaultL2)
	o.LearningRate = cmp.Or(o.LearningRate, DefaultLearningRate)
	o.MaxEpochs = cmp.Or(o.MaxEpochs, DefaultMaxEpochs)
	o.GramWeight = cmp.Or(o.GramWeight, DefaultGramWeight)
	o.MaxSteps = cmp.Or(o.MaxSteps, DefaultMaxSteps)
	o.Tolerance = cmp.Or(o.Tolerance, DefaultTolerance)
	switch {
	case !(o.L2 > 0) || o.L2 >= 1:
		return o, fmt.Errorf("l2 %g: want more than 0 and less than 1", o.L2)
	case !(o.LearningRate > 0) || o.LearningRate > 10:
		return o, fmt.Errorf("learning rate %g: want more than 0, at most 10", o.LearningRate)
	case o.LearningRate*o.L2 >= 0.5:
		// Each step shrinks the weights by 1 - rate·L2.
		return o, fmt.Errorf("learning rate %g times l2 %g: want less than 0.5", o.LearningRate, o.L2)
	case o.MaxEpochs < 1 || o.MaxEpochs > 1000:
		return o, fmt.Errorf("max epochs %d: want 1 to 1000", o.MaxEpochs)
	case !(o.GramWeight > 0) || o.GramWeight > 10:
		return o, fmt.Errorf("gram weight %g: want more than 0, at most 10", o.GramWeight)
	case o.MaxSteps < 1:
		return o, fmt.Errorf("max steps %d: want at least 1", o.MaxSteps)
	case !(o.Tolerance >= 0) || o.Tolerance >= 1:
		return o, fmt.Errorf("tolerance %g: want 0 to 1", o.Tolerance)
	}
	return o, nil
}

// Train fits a multinomial logistic regression (softmax regression) with
// an L2 penalty to docs by stochastic gradient descent, and returns the
// model. labels name the classes (teams) that Doc.Label indexes; every
// label must be non-empty and distinct.
//
// Training is deterministic: the same docs, labels and options give a
// model with bit-identical weights (on the same architecture and Go
// version). Examples are visited in an order drawn from Options.Seed, one
// goroutine, no map iteration. Memory is the model (4 bytes per bucket and
// label) and one int per doc.
func Train(docs []Doc, labels []string, opts Options) (*Model, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("classify: train: %w", err)
	}
	m, err := train(docs, labels, o)
	if err != nil {
		return nil, fmt.Errorf("classify: train: %w", err)
	}
	return m, nil
}

// train is Train with o's defaults already set.
func train(docs []Doc, labels []string, o Options) (*Model, error) {
	if err := checkInput(docs, labels); err != nil {
		return nil, err
	}
	k := len(labels)
	m := &Model{
		labels:     append([]string(nil), labels...),
		k:          k,
		mask:       uint32(1)<<o.Bits - 1,
		w:          make([]float32, k<<o.Bits),
		bias:       make([]float32, k),
		gramWeight: float32(o.GramWeight),
	}
	sgd(m, docs, classWeights(docs, k, !o.Unbalanced), o)
	return m, nil
}

// checkInput validates Train's arguments.
func checkInput(docs []Doc, labels []string) error {
	if len(labels) == 0 {
		return errors.New("no labels")
	}
	if len(labels) > MaxLabels {
		return fmt.Errorf("%d labels: at most %d", len(labels), MaxLabels)
	}
	for i, l := range labels {
		if l == "" {
			return fmt.Errorf("label %d is empty", i)
		}
		for _, p := range labels[:i] {
			if p == l {
				return fmt.Errorf("label %q given twice", l)
			}
		}
	}
	if len(docs) == 0 {
		return errors.New("no examples")
	}
	for i, d := range docs {
		if d.Label < 0 || d.Label >= len(labels) {
			return fmt.Errorf("example %d: label %d out of range [0, %d)", i, d.Label, len(labels))
		}
		if w := float64(d.Weight); !(w >= 0) || w > MaxWeight {
			return fmt.Errorf("example %d: weight %g: want 0 (meaning 1) to %d", i, w, MaxWeight)
		}
	}
	return nil
}

// weight returns a doc's weight, 0 meaning 1.
func (d *Doc) weight() float64 {
	if d.Weight == 0 {
		return 1
	}
	return float64(d.Weight)
}

// classWeights returns the factor each label's examples are weighted by:
// 1 when not balanced, else examples/(labels present × label's examples),
// so that every label present weighs the same in sum. Balancing counts
// examples, not their weights, so that a heavier example (a correction)
// still outweighs the others of its label.
func classWeights(docs []Doc, k int, balanced bool) []float64 {
	cw := make([]float64, k)
	for c := range cw {
		cw[c] = 1
	}
	if !balanced {
		return cw
	}
	count := make([]int, k)
	for i := range docs {
		count[docs[i].Label]++
	}
	present := 0
	for _, n := range count {
		if n > 0 {
			present++
		}
	}
	for c, n := range count {
		if n > 0 {
			cw[c] = float64(len(docs)) / float64(present*n)
		}
	}
	return cw
}

// minRescale: the weights are stored divided by a running scale (so that
// the L2 shrink of every weight costs one multiplication per example);
// below this scale they are multiplied out.
const minRescale = 1e-6

// maxStepWeight caps an example's weight times its class weight: a step
// weighted far above 1 overshoots (a team with 2 examples among 10,000
// would otherwise weigh 500 per step).
const maxStepWeight = 10

// skipGradient: an example whose largest gradient component is below this
// is already classified with near certainty and updates no weight.
const skipGradient = 1e-4

// sgd runs stochastic gradient descent on the regularized mean
// cross-entropy, updating m in place.
//
// Each step takes one example: it computes the softmax probabilities p, the
// gradient g[c] = weight·(p[c] - [c = label]), shrinks every weight by
// (1 - rate·L2) through the global scale, and moves the weights of the
// example's features and the biases against g. The step size decays with
// the number of steps (see Options.LearningRate). Training stops when an epoch's mean loss (each example's loss
// measured just before its own update) improved by less than Tolerance.
func sgd(m *Model, docs []Doc, cw []float64, o Options) {
	k := m.k
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5b0a12d))
	z := make([]float32, k)
	g := make([]float32, k)
	gg := make([]float32, k) // g times gramWeight
	scale := 1.0
	t := 0
	prevLoss := math.Inf(1)
	totalWeight := 0.0
	for i := range docs {
		totalWeight += stepWeight(&docs[i], cw)
	}
	epochs := min(o.MaxEpochs, max(1, o.MaxSteps/len(docs)))
	for epoch := range epochs {
		m.epochs = epoch + 1
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		loss := 0.0
		for _, di := range order {
			rate := o.LearningRate / (1 + o.LearningRate*o.L2*float64(t))
			t++
			shrink := 1 - rate*o.L2
			d := &docs[di]
			// Logits from the stored weights times the running scale.
			x := m.sum(d.Features, z)
			softmax(z, m.bias, x*float32(scale))
			ew := stepWeight(d, cw)
			loss += ew * -math.Log(math.Max(float64(z[d.Label]), 1e-30))
			big := false
			for c := range z {
				gc := z[c]
				if c == d.Label {
					gc--
				}
				g[c] = float32(ew * float64(gc))
				if math.Abs(float64(g[c])) > skipGradient {
					big = true
				}
			}
			scale *= shrink
			if !big {
				continue
			}
			for c := range g {
				m.bias[c] -= float32(rate) * g[c]
			}
			step := float32(rate * float64(x) / scale)
			for c := range g {
				g[c] *= step
				gg[c] = g[c] * m.gramWeight
			}
			for _, f := range d.Features {
				i := int(f&m.mask) * k
				row := m.w[i : i+k : i+k]
				gr := g[:len(row)]
				if f&gramBit != 0 {
					gr = gg[:len(row)]
				}
				for c := range row {
					row[c] -= gr[c]
				}
			}
			if scale < minRescale {
				multiplyOut(m.w, scale)
				scale = 1
			}
		}
		loss /= totalWeight
		if prevLoss-loss < o.Tolerance*prevLoss {
			break
		}
		prevLoss = loss
	}
	multiplyOut(m.w, scale)
}

// stepWeight is how much doc d weighs in a step: its weight times its
// class weight, at most maxStepWeight.
func stepWeight(d *Doc, cw []float64) float64 {
	return min(d.weight()*cw[d.Label], maxStepWeight)
}

// multiplyOut multiplies every weight by scale.
func multiplyOut(w []float32, scale float64) {
	if scale == 1 {
		return
	}
	s := float32(scale)
	for i := range w {
		w[i] *= s
	}
}
