package examples

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

// loadShipped loads the shipped rules.yaml and the examples at path
// (relative to the repository root) for its teams.
func loadShipped(t *testing.T, path string) (*rules.Rules, *Set) {
	t.Helper()
	r, err := rules.Load("../../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := Load("../../"+path, Teams(r))
	if err != nil {
		t.Fatal(err)
	}
	return r, set
}

func TestEvaluateShipped(t *testing.T) {
	r, set := loadShipped(t, "examples.yaml")
	ev, err := Evaluate(r, set, EvalOptions{Seed: DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	// Deterministic: the same file, folds and seed give the same numbers.
	if !raceEnabled {
		again, err := Evaluate(r, set, EvalOptions{Seed: DefaultSeed})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(ev)
		b, _ := json.Marshal(again)
		if !bytes.Equal(a, b) {
			t.Errorf("two evaluations differ:\n%s\n%s", a, b)
		}
	}
	// The routes alone decide as the batch test without the model does.
	noModel := Run(r, set, func(r *rules.Rules, env *message.Envelope, parent *Outcome) Outcome {
		d := r.ClassifyWith(env, rules.NoModel)
		o := Outcome{Label: label(d), Decision: d}
		if parent != nil && !d.Decided && parent.Label != NoiseLabel {
			o.Label, o.FollowedParent = parent.Label, true
		}
		return o
	})
	if ev.RulesOnly.Passed != noModel.Passed || ev.Total != len(set.Examples) || ev.Folds != DefaultFolds {
		t.Errorf("rules only %d of %d, the batch test without the model %d", ev.RulesOnly.Passed, ev.Total, noModel.Passed)
	}
	var expected, rulesOnly, model, combined int
	for _, tm := range ev.Teams {
		expected += tm.Expected
		rulesOnly += tm.RulesOnly
		model += tm.Model
		combined += tm.Combined
	}
	if expected != ev.Total || rulesOnly != ev.RulesOnly.Passed || model != ev.Model.Passed || combined != ev.Combined.Passed {
		t.Errorf("per-team numbers do not add up: %+v", ev)
	}
	if ev.ModelDecidedRight > ev.ModelDecided || ev.TrainedOn == 0 || ev.TrainedOn >= r.ModelStats().Examples {
		t.Errorf("evaluation %+v", ev)
	}
	t.Logf("%d-fold cross-validation of %d examples: rules %.1f%%, model %.1f%%, rules with the model %.1f%% (fallback %d, %d right)",
		ev.Folds, ev.Total, 100*ev.RulesOnly.Accuracy, 100*ev.Model.Accuracy, 100*ev.Combined.Accuracy, ev.ModelDecided, ev.ModelDecidedRight)
	var out bytes.Buffer
	ev.WriteText(&out)
	for _, want := range []string{"rules without the model", "model alone", "rules with the model", "per team", "billing"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestEvaluateRefuses(t *testing.T) {
	r := mustRules(t, testRules)
	set, err := Parse("ex.yaml", []byte("examples:\n  - {team: billing, text: lasku}\n  - {team: logistics, text: paketti}\n"), Teams(r))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Evaluate(r, set, EvalOptions{}); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("rules without a model: %v", err)
	}
	shipped, err := rules.Load("../../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Evaluate(shipped, set, EvalOptions{Folds: 5}); err == nil || !strings.Contains(err.Error(), "more than the 2 examples") {
		t.Errorf("more folds than examples: %v", err)
	}
}
