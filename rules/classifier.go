package rules

import (
	"slices"

	"github.com/switchboard/switchboard/internal/yamlfile"
)

// The classifier: section and model conditions as the builder checks them.
// Training is model.go, the model's part in a decision opinion.go.

// DefaultMinConfidence is the classifier's min_confidence when the rules
// file sets none.
const DefaultMinConfidence = 0.5

// classifierConf is a valid classifier: section.
type classifierConf struct {
	min float64
	// teams the fallback may choose, as written; nil: every team with
	// examples.
	teams []string
	learn bool
}

// modelCond is a compiled model condition: the model gives label (an index
// into Rules.labels) at least min.
type modelCond struct {
	name  string // the team, or NoiseLabel
	label int32
	min   float64
	path  yamlfile.Path
}

// classifier checks the classifier: section and keeps it for training.
func (b *builder) classifier(f *File) {
	cs := f.Classifier
	if cs == nil {
		return
	}
	p := yamlfile.Path{"classifier"}
	c := &classifierConf{min: DefaultMinConfidence, learn: cs.LearnFromCorrections}
	if cs.MinConfidence != nil {
		c.min = *cs.MinConfidence
		if !(c.min > 0 && c.min <= 1) {
			b.report(p.Child("min_confidence"), "min_confidence %g: use a probability above 0 and at most 1, such as 0.5", c.min)
		}
	}
	for i, t := range cs.Teams {
		switch {
		case !b.declared[t]:
			b.report(p.Child("teams").Child(i), "unknown team %q: declare it under teams:", t)
		case slices.Contains(c.teams, t):
		default:
			c.teams = append(c.teams, t)
		}
	}
	if f.Examples == "" {
		b.report(p, "the model learns from labelled examples: name the file under examples: (docs/rules.md, The model)")
	}
	b.clf = c
}

// modelCond compiles a route's model condition; owner is the route's
// owning team (inherited), noise whether it is a noise route.
func (b *builder) modelCond(ms *ModelSpec, p yamlfile.Path, owner string, noise bool) *modelCond {
	if ms == nil {
		return nil
	}
	if b.clf == nil {
		b.report(p, "a model condition needs the trained model: add a classifier: section and examples: (docs/rules.md, The model)")
		return nil
	}
	c := &modelCond{min: b.clf.min, label: -1, path: p}
	switch {
	case ms.Team != "" && ms.Noise:
		b.report(p.Child("noise"), "a model condition names a team or noise: true, not both")
		return nil
	case ms.Noise:
		c.name = NoiseLabel
	case ms.Team != "":
		if !b.declared[ms.Team] {
			b.report(p.Child("team"), "unknown team %q: declare it under teams:", ms.Team)
			return nil
		}
		c.name = ms.Team
	case noise:
		c.name = NoiseLabel
	case owner != "":
		c.name = owner
	default:
		b.report(p, "the route names no team: say which one the model must see (model: {team: billing, min: 0.8}) or noise: true")
		return nil
	}
	if ms.Min != nil {
		c.min = *ms.Min
		if !(c.min > 0 && c.min <= 1) {
			b.report(p.Child("min"), "min %g: use a probability above 0 and at most 1, such as 0.8", c.min)
			return nil
		}
	}
	return c
}

// modelImplies: b's model condition implies a's when a has none, or b asks
// the same label for at least as much.
func modelImplies(b, a *cond) bool {
	if a.model == nil {
		return true
	}
	return b.model != nil && b.model.name == a.model.name && b.model.min >= a.model.min
}
