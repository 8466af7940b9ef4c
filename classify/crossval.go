package classify

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Folds splits docs into k folds for cross-validation and returns each
// doc's fold, in [0, k). The split is stratified: each label's docs are
// shuffled (from seed) and dealt to the folds in turn, continuing where the
// previous label stopped, so every fold gets a fair share of every label
// and the folds' sizes differ by at most one. The same docs, k and seed
// always give the same folds.
func Folds(docs []Doc, k int, seed uint64) ([]int, error) {
	if k < 2 {
		return nil, fmt.Errorf("classify: folds: k %d: want at least 2", k)
	}
	if k > len(docs) {
		return nil, fmt.Errorf("classify: folds: k %d is more than the %d examples", k, len(docs))
	}
	maxLabel := 0
	for i, d := range docs {
		if d.Label < 0 {
			return nil, fmt.Errorf("classify: folds: example %d: negative label %d", i, d.Label)
		}
		maxLabel = max(maxLabel, d.Label)
	}
	byLabel := make([][]int, maxLabel+1)
	for i, d := range docs {
		byLabel[d.Label] = append(byLabel[d.Label], i)
	}
	rng := rand.New(rand.NewPCG(seed, 0xf01d5))
	folds := make([]int, len(docs))
	next := 0
	for _, idx := range byLabel {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx {
			folds[i] = next
			next = (next + 1) % k
		}
	}
	return folds, nil
}

// CrossValidate trains one model per fold on the docs of the other folds
// and returns, for every doc, the probabilities (in labels order) that the
// model which did not see it gives it. folds is each doc's fold (from
// Folds); a caller combining the model with rules compares these with the
// docs' labels to measure accuracy with and without the model.
//
// The folds are trained in parallel, on up to GOMAXPROCS goroutines; each
// fold's training is deterministic on its own, so the result does not
// depend on the scheduling. Memory: one model per goroutine, plus the
// result (4 bytes per doc and label).
func CrossValidate(docs []Doc, labels []string, folds []int, opts Options) ([][]float32, error) {
	if len(folds) != len(docs) {
		return nil, fmt.Errorf("classify: cross-validate: %d folds for %d examples", len(folds), len(docs))
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("classify: cross-validate: %w", err)
	}
	k := 0
	for i, f := range folds {
		if f < 0 {
			return nil, fmt.Errorf("classify: cross-validate: example %d: negative fold %d", i, f)
		}
		k = max(k, f+1)
	}
	if k < 2 {
		return nil, fmt.Errorf("classify: cross-validate: %d fold: want at least 2", k)
	}
	scores := make([][]float32, len(docs))
	flat := make([]float32, len(docs)*len(labels))
	for i := range scores {
		scores[i] = flat[i*len(labels) : (i+1)*len(labels) : (i+1)*len(labels)]
	}
	errs := make([]error, k)
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(k, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			tr := make([]Doc, 0, len(docs))
			for f := range work {
				tr = tr[:0]
				for i, d := range docs {
					if folds[i] != f {
						tr = append(tr, d)
					}
				}
				m, err := train(tr, labels, o)
				if err != nil {
					errs[f] = fmt.Errorf("fold %d: %w", f, err)
					continue
				}
				for i, d := range docs {
					if folds[i] == f {
						m.Scores(d.Features, scores[i])
					}
				}
			}
		})
	}
	for f := range k {
		work <- f
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("classify: cross-validate: %w", err)
		}
	}
	return scores, nil
}
