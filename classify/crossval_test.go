package classify

import (
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestFolds: every fold gets its share of every label (within one), the
// folds' sizes differ by at most one, and the split depends only on the
// seed.
func TestFolds(t *testing.T) {
	var docs []Doc
	for i := range 103 {
		docs = append(docs, Doc{Label: i % 7 * (i % 3)}) // uneven labels
	}
	for _, k := range []int{2, 5, 10} {
		folds, err := Folds(docs, k, 1)
		if err != nil {
			t.Fatal(err)
		}
		size := make([]int, k)
		per := map[[2]int]int{}
		for i, f := range folds {
			if f < 0 || f >= k {
				t.Fatalf("fold %d", f)
			}
			size[f]++
			per[[2]int{docs[i].Label, f}]++
		}
		if slices.Max(size)-slices.Min(size) > 1 {
			t.Errorf("k %d: fold sizes %v", k, size)
		}
		for label := range 13 {
			var n []int
			for f := range k {
				n = append(n, per[[2]int{label, f}])
			}
			if slices.Max(n)-slices.Min(n) > 1 {
				t.Errorf("k %d: label %d per fold %v", k, label, n)
			}
		}
		again, _ := Folds(docs, k, 1)
		other, _ := Folds(docs, k, 2)
		if !slices.Equal(folds, again) || slices.Equal(folds, other) {
			t.Errorf("k %d: the split does not depend on the seed alone", k)
		}
	}
}

func TestFoldsErrors(t *testing.T) {
	for _, tc := range []struct {
		docs []Doc
		k    int
		want string
	}{
		{make([]Doc, 5), 1, "k 1"},
		{make([]Doc, 5), 6, "more than the 5 examples"},
		{[]Doc{{}, {Label: -2}}, 2, "negative label"},
	} {
		if _, err := Folds(tc.docs, tc.k, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Folds(k %d): %v, want %q", tc.k, err, tc.want)
		}
	}
}

// TestCrossValidate: the scores come from the model that did not see the
// doc, do not depend on the number of goroutines, and are probabilities.
func TestCrossValidate(t *testing.T) {
	c := loadCorpus(t)
	folds, err := Folds(c.docs, 4, 9)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CrossValidate(c.docs, c.labels, folds, Options{})
	if err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(1)
	serial, err := CrossValidate(c.docs, c.labels, folds, Options{})
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	// The model of fold 2, trained here, gives fold 2's docs their scores.
	var train []Doc
	for i, d := range c.docs {
		if folds[i] != 2 {
			train = append(train, d)
		}
	}
	m, err := Train(train, c.labels, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range c.docs {
		if !slices.Equal(bitsOf(got[i]), bitsOf(serial[i])) {
			t.Fatalf("doc %d: scores %v with GOMAXPROCS %d, %v with 1", i, got[i], prev, serial[i])
		}
		sum := float32(0)
		for _, p := range got[i] {
			sum += p
		}
		if math.Abs(float64(sum)-1) > 1e-5 {
			t.Fatalf("doc %d: scores %v", i, got[i])
		}
		if folds[i] == 2 && !slices.Equal(bitsOf(got[i]), bitsOf(m.Scores(d.Features, nil))) {
			t.Fatalf("doc %d: not scored by its fold's model", i)
		}
	}
}

func TestCrossValidateErrors(t *testing.T) {
	docs := []Doc{{Label: 0}, {Label: 1}, {Label: 0}}
	labels := []string{"a", "b"}
	for _, tc := range []struct {
		folds []int
		opts  Options
		want  string
	}{
		{[]int{0, 1}, Options{}, "2 folds for 3 examples"},
		{[]int{0, 0, 0}, Options{}, "1 fold"},
		{[]int{0, -1, 1}, Options{}, "negative fold"},
		{[]int{0, 1, 0}, Options{Bits: 2}, "bits 2"},
		{[]int{1, 1, 1}, Options{}, "fold 1: no examples"}, // nothing left to train on
	} {
		_, err := CrossValidate(docs, labels, tc.folds, tc.opts)
		if err == nil || !strings.HasPrefix(err.Error(), "classify: cross-validate: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("folds %v: %v, want %q", tc.folds, err, tc.want)
		}
	}
}
