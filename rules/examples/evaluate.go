package examples

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/switchboard/switchboard/classify"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

// Cross-validation of the rules with their model (switchboard rules
// evaluate): does the model help, and would more examples help it? Running
// the examples through rules whose model learned from those very examples
// (rules test -examples) flatters the model; here each example is decided
// by a model that never saw it. The examples are split into k folds
// (stratified by label, from a seed, so the same file gives the same
// numbers); for each fold a model is trained on the other folds the way
// the rules train theirs, and the fold's examples are decided three ways:
// by the routes alone (rules.NoModel), by the model alone (its most
// probable label) and by the rules with that model (routes, model
// conditions, mode: best and the fallback), replies following what they
// answer as in the batch test.

// DefaultFolds and DefaultSeed are rules evaluate's defaults.
const (
	DefaultFolds = 5
	DefaultSeed  = 1
)

// EvalOptions tune Evaluate.
type EvalOptions struct {
	// Folds is k, at least 2 (0: DefaultFolds); Seed picks the split.
	Folds int
	Seed  uint64
}

// Evaluation is what Evaluate found; its JSON form is rules evaluate
// -json.
type Evaluation struct {
	// Rules, RulesVersion and Examples name what was evaluated.
	Rules        string `json:"rules"`
	RulesVersion string `json:"rules_version"`
	Examples     string `json:"examples"`
	// Folds and Seed are the split.
	Folds int    `json:"folds"`
	Seed  uint64 `json:"seed"`
	// Total examples; TrainedOn the examples one fold's model learned
	// from on average (replies are not trained on).
	Total     int `json:"total"`
	TrainedOn int `json:"trained_on"`
	// RulesOnly, Model and Combined are the accuracy of the routes alone,
	// of the model alone and of the rules with the model.
	RulesOnly Score `json:"rules_only"`
	Model     Score `json:"model"`
	Combined  Score `json:"combined"`
	// ModelDecided counts the examples whose owning team the model's
	// fallback chose, and ModelDecidedRight how many of those were right.
	ModelDecided      int `json:"model_decided"`
	ModelDecidedRight int `json:"model_decided_right"`
	// Teams has one line per expected label: the rules' teams in file
	// order, then NoiseLabel.
	Teams []EvalTeam `json:"teams"`
}

// Score is how many examples went where expected, and the share.
type Score struct {
	Passed   int     `json:"passed"`
	Accuracy float64 `json:"accuracy"`
}

// EvalTeam is one label's recall three ways: how many of its examples
// reached it.
type EvalTeam struct {
	Team      string `json:"team"`
	Expected  int    `json:"expected"`
	RulesOnly int    `json:"rules_only"`
	Model     int    `json:"model"`
	Combined  int    `json:"combined"`
}

// Evaluate cross-validates the rules and their model on set (see above).
// The rules need a classifier: section. Folds are trained in parallel on
// up to GOMAXPROCS goroutines; the result does not depend on it.
func Evaluate(r *rules.Rules, set *Set, o EvalOptions) (*Evaluation, error) {
	if !r.HasModel() {
		return nil, errors.New("the rules have no model to evaluate: add a classifier: section and examples: (docs/rules.md, The model)")
	}
	if o.Folds == 0 {
		o.Folds = DefaultFolds
	}
	labels := append(Teams(r), NoiseLabel)
	docs := make([]classify.Doc, len(set.Examples))
	for i := range set.Examples {
		docs[i].Label = slices.Index(labels, set.Examples[i].Expected())
	}
	folds, err := classify.Folds(docs, o.Folds, o.Seed)
	if err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", set.File, err)
	}
	opinions, trained, err := foldOpinions(r, set, folds, o.Folds)
	if err != nil {
		return nil, fmt.Errorf("evaluating %s: %w", set.File, err)
	}
	byID := make(map[string]rules.Opinion, len(set.Examples))
	for i := range set.Examples {
		byID[set.Envelope(i).ID] = opinions[i]
	}
	with := func(pick func(id string) rules.Model) Decide {
		return func(r *rules.Rules, env *message.Envelope, parent *Outcome) Outcome {
			d := r.ClassifyWith(env, pick(env.ID))
			o := Outcome{Label: label(d), Decision: d}
			if parent != nil && !d.Decided && parent.Label != NoiseLabel {
				o.Label, o.FollowedParent = parent.Label, true
			}
			return o
		}
	}
	rulesOnly := run(r, set, with(func(string) rules.Model { return rules.NoModel }))
	combined := run(r, set, with(func(id string) rules.Model { return byID[id] }))

	ev := &Evaluation{
		Rules: r.File(), RulesVersion: r.Version(), Examples: set.File, Folds: o.Folds, Seed: o.Seed,
		Total: len(set.Examples), TrainedOn: trained / o.Folds,
	}
	for _, l := range labels {
		ev.Teams = append(ev.Teams, EvalTeam{Team: l})
	}
	for i := range set.Examples {
		want := set.Examples[i].Expected()
		t := &ev.Teams[slices.Index(labels, want)]
		t.Expected++
		if rulesOnly[i].Label == want {
			t.RulesOnly++
			ev.RulesOnly.Passed++
		}
		if combined[i].Label == want {
			t.Combined++
			ev.Combined.Passed++
		}
		if combined[i].Decision.ModelDecided && !combined[i].FollowedParent {
			ev.ModelDecided++
			if combined[i].Label == want {
				ev.ModelDecidedRight++
			}
		}
		if mostProbable(opinions[i], labels) == want {
			t.Model++
			ev.Model.Passed++
		}
	}
	ev.Teams = slices.DeleteFunc(ev.Teams, func(t EvalTeam) bool { return t.Expected == 0 })
	for _, s := range []*Score{&ev.RulesOnly, &ev.Model, &ev.Combined} {
		if ev.Total > 0 {
			s.Accuracy = float64(s.Passed) / float64(ev.Total)
		}
	}
	return ev, nil
}

// foldOpinions trains one model per fold on the other folds' examples and
// returns, for every example, the opinion of the model that did not see
// it, and how many examples the models learned from in all.
func foldOpinions(r *rules.Rules, set *Set, folds []int, k int) ([]rules.Opinion, int, error) {
	opinions := make([]rules.Opinion, len(set.Examples))
	errs := make([]error, k)
	trained := make([]int, k)
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(k, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for f := range work {
				var train []Example
				for i, ex := range set.Examples {
					if folds[i] != f {
						train = append(train, ex)
					}
				}
				m, err := r.TrainModel(train)
				if err != nil {
					errs[f] = fmt.Errorf("fold %d: %w", f+1, err)
					continue
				}
				trained[f] = m.Stats().Examples
				for i := range set.Examples {
					if folds[i] == f {
						opinions[i] = m.Opinion(set.Envelope(i))
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
	total := 0
	for f := range k {
		if errs[f] != nil {
			return nil, 0, errs[f]
		}
		total += trained[f]
	}
	return opinions, total, nil
}

// mostProbable is the opinion's most probable label (file order breaks
// ties).
func mostProbable(o rules.Opinion, labels []string) string {
	best, top := "", -1.0
	for _, l := range labels {
		if p := o[l]; p > top {
			best, top = l, p
		}
	}
	return best
}

// WriteText prints the evaluation for people.
func (ev *Evaluation) WriteText(w io.Writer) {
	fmt.Fprintf(w, "rules     %s (version %s)\nexamples  %s\n", ev.Rules, ev.RulesVersion, ev.Examples)
	fmt.Fprintf(w, "%d-fold cross-validation (seed %d): each example decided by a model trained on the other folds (%d examples each)\n\n",
		ev.Folds, ev.Seed, ev.TrainedOn)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\tcorrect\taccuracy\t\n")
	for _, row := range []struct {
		name string
		s    Score
	}{{"rules without the model", ev.RulesOnly}, {"model alone", ev.Model}, {"rules with the model", ev.Combined}} {
		fmt.Fprintf(tw, "%s\t%d/%d\t%.1f%%\t\n", row.name, row.s.Passed, ev.Total, 100*row.s.Accuracy)
	}
	tw.Flush()
	if ev.ModelDecided > 0 {
		fmt.Fprintf(w, "\nthe model's fallback chose the team of %d examples, %d of them right (%.1f%%)\n",
			ev.ModelDecided, ev.ModelDecidedRight, 100*float64(ev.ModelDecidedRight)/float64(ev.ModelDecided))
	}
	fmt.Fprintln(w, "\nper team: examples that reached it (recall)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "team\texamples\trules\tmodel\trules+model\t\n")
	for _, t := range ev.Teams {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", t.Team, t.Expected, share(t.RulesOnly, t.Expected), share(t.Model, t.Expected), share(t.Combined, t.Expected))
	}
	tw.Flush()
	fmt.Fprintln(w, "\n"+strings.TrimSpace(`
More examples help where "model" is low for a team: add real messages of
that team to the examples file and run this again.`))
}

func share(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d (%.0f%%)", n, 100*float64(n)/float64(of))
}
