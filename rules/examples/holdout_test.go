package examples

import (
	"testing"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

// TestHoldout is the honest measure of the shipped rules and their model:
// testdata/routing/holdout.yaml was written after rules.yaml and
// examples.yaml and never used to tune them. The rules' model is trained
// on examples.yaml when they load; every hold-out message is then decided
// three ways, and the test fails when one falls below its floor (set a
// little under what was measured, docs/BENCHMARKS.md):
//
//	go test ./rules/examples -run Holdout -v
func TestHoldout(t *testing.T) {
	r, hold := loadShipped(t, "testdata/routing/holdout.yaml")
	with := func(m rules.Model) Decide {
		return func(r *rules.Rules, env *message.Envelope, parent *Outcome) Outcome {
			d := r.ClassifyWith(env, m)
			o := Outcome{Label: label(d), Decision: d}
			if parent != nil && !d.Decided && parent.Label != NoiseLabel {
				o.Label, o.FollowedParent = parent.Label, true
			}
			return o
		}
	}
	rulesOnly := Run(r, hold, with(rules.NoModel))
	combined := run(r, hold, with(nil))
	modelRight, decided, decidedRight, combinedRight := 0, 0, 0, 0
	for i, ex := range hold.Examples {
		want := ex.Expected()
		o := combined[i]
		if o.Decision.Model[0].Team == want {
			modelRight++
		}
		if o.Label == want {
			combinedRight++
		}
		if o.Decision.ModelDecided {
			decided++
			if o.Label == want {
				decidedRight++
			}
		}
	}
	n := float64(len(hold.Examples))
	model, both := float64(modelRight)/n, float64(combinedRight)/n
	t.Logf("hold-out: %d messages; model trained on %d examples (version %s), min_confidence %g",
		len(hold.Examples), r.ModelStats().Examples, r.ModelVersion(), r.MinConfidence())
	t.Logf("  rules without the model  %3d  %.1f%%", rulesOnly.Passed, 100*rulesOnly.Accuracy)
	t.Logf("  model alone              %3d  %.1f%%", modelRight, 100*model)
	t.Logf("  rules with the model     %3d  %.1f%%  (the fallback decided %d, %d right)", combinedRight, 100*both, decided, decidedRight)
	for _, f := range []struct {
		name       string
		got, floor float64
	}{
		{"rules without the model", rulesOnly.Accuracy, 0.53},
		{"model alone", model, 0.78},
		{"rules with the model", both, 0.76},
		{"the fallback's decisions", float64(decidedRight) / float64(max(decided, 1)), 0.80},
	} {
		if f.got < f.floor {
			t.Errorf("%s: %.1f%% on the hold-out, below the floor of %.0f%%", f.name, 100*f.got, 100*f.floor)
		}
	}
	if both <= rulesOnly.Accuracy {
		t.Errorf("the model does not help: %.1f%% with it, %.1f%% without", 100*both, 100*rulesOnly.Accuracy)
	}
}
