package classify

import (
	"math"
	"unsafe"
)

// Model is a trained linear classifier: one weight per label for each
// feature bucket, and one bias per label. A feature id f uses bucket
// f mod 2^Bits; ids that share a bucket share its weights (the hashing
// trick), which is what bounds the model's size whatever the vocabulary.
//
// A Model is immutable once trained and safe for concurrent use.
type Model struct {
	labels []string
	k      int    // len(labels)
	mask   uint32 // buckets - 1
	// w holds the weights bucket by bucket: w[b*k+c] is label c's weight
	// of bucket b, so one feature's weights are adjacent in memory.
	w    []float32
	bias []float32
	// gramWeight is the value of a gram feature; other features have 1.
	gramWeight float32
	// epochs is how many passes over the examples training took.
	epochs int
}

// Labels returns the model's labels (teams) in the order of its scores.
// The slice is the model's own: do not modify it.
func (m *Model) Labels() []string { return m.labels }

// NumLabels returns the number of labels, the length of Scores' result.
func (m *Model) NumLabels() int { return m.k }

// Buckets returns the number of feature buckets (2^Options.Bits).
func (m *Model) Buckets() int { return int(m.mask) + 1 }

// Epochs returns how many passes over the examples training made before
// it converged or reached Options.MaxEpochs.
func (m *Model) Epochs() int { return m.epochs }

// SizeBytes returns the memory the model holds: 4 bytes per bucket and
// label, plus the labels.
func (m *Model) SizeBytes() int {
	n := int(unsafe.Sizeof(*m)) + 4*(len(m.w)+len(m.bias))
	for _, l := range m.labels {
		n += int(unsafe.Sizeof(l)) + len(l)
	}
	return n
}

// Scores writes the probability of each label (in Labels order) for a
// message with the given features (from a Vectorizer) into out and returns
// out[:NumLabels()]. The probabilities are a softmax: each in [0, 1],
// summing to 1. When out has less capacity than NumLabels, Scores allocates
// a new slice; otherwise it allocates nothing.
//
// A label's logit is its bias plus the sum of the features' weights, each
// feature counted as often as it occurs and valued 1 (a gram: the
// GramWeight it was trained with), the feature vector scaled to length 1
// so that long and short messages are comparable. A message without
// features gets the labels' prior (the biases).
func (m *Model) Scores(features []uint32, out []float32) []float32 {
	k := m.k
	if cap(out) < k {
		out = make([]float32, k)
	}
	out = out[:k]
	softmax(out, m.bias, m.sum(features, out))
	return out
}

// sum sets acc to the weighted sum of the features' weights, each feature
// valued 1 (gramWeight for a gram), and returns the factor that scales the
// feature vector to length 1.
func (m *Model) sum(features []uint32, acc []float32) float32 {
	clear(acc)
	w, mask, k, gw := m.w, m.mask, m.k, m.gramWeight
	// Grams are summed apart and weighted once at the end, when their
	// sums fit on the stack (up to 16 labels).
	var gbuf [16]float32
	gacc := acc
	if k <= len(gbuf) {
		gacc = gbuf[:k]
	}
	grams := 0
	for _, f := range features {
		i := int(f&mask) * k
		row := w[i : i+k : i+k]
		switch {
		case f&gramBit == 0:
			addRow(acc, row)
		case k <= len(gbuf):
			grams++
			addRow(gacc, row)
		default:
			grams++
			a := acc[:len(row)]
			for c, x := range row {
				a[c] += gw * x
			}
		}
	}
	if k <= len(gbuf) {
		a := acc[:len(gacc)]
		for c, x := range gacc {
			a[c] += gw * x
		}
	}
	sq := float64(len(features)-grams) + float64(grams)*float64(gw)*float64(gw)
	if sq == 0 {
		return 0
	}
	return float32(1 / math.Sqrt(sq))
}

// addRow adds row to acc element by element, four at a time.
func addRow(acc, row []float32) {
	acc = acc[:len(row)]
	c := 0
	for ; c+4 <= len(row); c += 4 {
		r, a := row[c:c+4:c+4], acc[c:c+4:c+4]
		a[0] += r[0]
		a[1] += r[1]
		a[2] += r[2]
		a[3] += r[3]
	}
	for ; c < len(row); c++ {
		acc[c] += row[c]
	}
}

// softmax turns the feature sums in z into probabilities in place: label
// c's logit is z[c]*scale + bias[c].
func softmax(z, bias []float32, scale float32) {
	bias = bias[:len(z)]
	top := math.Inf(-1)
	for c := range z {
		v := float64(z[c]*scale + bias[c])
		if v > top {
			top = v
		}
	}
	sum := 0.0
	for c := range z {
		e := math.Exp(float64(z[c]*scale+bias[c]) - top)
		z[c] = float32(e)
		sum += e
	}
	if !(sum > 0) || math.IsInf(sum, 0) { // only with non-finite weights
		for c := range z {
			z[c] = 1 / float32(len(z))
		}
		return
	}
	inv := 1 / sum
	for c := range z {
		z[c] = float32(float64(z[c]) * inv)
	}
}

// Top appends to dst[:0] the indexes of the k highest scores, highest
// first; ties go to the lower index. It returns fewer than k indexes when
// scores is shorter, and allocates nothing when dst has capacity k. NaN
// scores rank last.
func Top(scores []float32, k int, dst []int) []int {
	dst = dst[:0]
	if k <= 0 {
		return dst
	}
	for i, s := range scores {
		if len(dst) == k && !above(s, scores[dst[k-1]]) {
			continue
		}
		if len(dst) < k {
			dst = append(dst, i)
		}
		// Insert i at its place, shifting lower scores down.
		j := len(dst) - 1
		for j > 0 && above(s, scores[dst[j-1]]) {
			dst[j] = dst[j-1]
			j--
		}
		dst[j] = i
	}
	return dst
}

// above reports whether a ranks strictly above b: NaN ranks below
// everything, and equal scores keep their index order.
func above(a, b float32) bool {
	if a != a {
		return false
	}
	return b != b || a > b
}
