package rules

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules/exampleset"
)

// The model's part in a decision. For every item the rules with a model
// classify, the model gives each label (every declared team, and noise) a
// probability (the state's opinion); model conditions and mode: best read
// it while the routes are evaluated, and afterwards it decides the owning
// team when no route named one (the fallback) and gives the decision its
// top three.

// ModelScore is one label's probability from the model.
type ModelScore struct {
	// Team is a team, or NoiseLabel.
	Team string `json:"team"`
	// P is the probability, from 0 to 1.
	P float64 `json:"p"`
}

// ModelTop is the model's three most probable labels for an item, most
// probable first, each with a probability above 0; unused places have an
// empty Team. It is an array so that a decision carries it without
// allocating; in JSON it is a list of what it holds.
type ModelTop [3]ModelScore

// Len is the number of labels it holds.
func (t ModelTop) Len() int {
	n := 0
	for n < len(t) && t[n].Team != "" {
		n++
	}
	return n
}

// List returns the labels it holds, in a new slice.
func (t ModelTop) List() []ModelScore { return append([]ModelScore(nil), t[:t.Len()]...) }

// String formats it for people: "billing 0.93, sales 0.04".
func (t ModelTop) String() string {
	s := ""
	for i, sc := range t[:t.Len()] {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %.2f", sc.Team, sc.P)
	}
	return s
}

// MarshalJSON writes the labels it holds as a list.
func (t ModelTop) MarshalJSON() ([]byte, error) { return json.Marshal(t.List()) }

// UnmarshalJSON reads a list of at most three scores.
func (t *ModelTop) UnmarshalJSON(data []byte) error {
	var list []ModelScore
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	if len(list) > len(t) {
		return fmt.Errorf("model: %d scores, at most %d", len(list), len(t))
	}
	*t = ModelTop{}
	copy(t[:], list)
	return nil
}

// Opinion is a model's probabilities by label (team or NoiseLabel), given
// to ClassifyWith and ExplainWith instead of the rules' own model; a label
// it lacks has 0. A nil Opinion is no model at all: model conditions never
// hold, nothing falls back to the model and mode: best counts words alone.
type Opinion map[string]float64

// TeamScore returns the probability of team (or NoiseLabel).
func (o Opinion) TeamScore(team string) float64 { return o[team] }

// NoModel is the opinion of no model: ClassifyWith(env, NoModel) decides
// by the routes alone, as if the rules had no model ("rules only" in rules
// evaluate).
var NoModel Model = Opinion(nil)

// TrainedModel is a model trained the way the rules train theirs, on other
// examples: rules evaluate trains one per cross-validation fold. Safe for
// concurrent use.
type TrainedModel struct {
	r *Rules
	t *trained
}

// TrainModel trains a model on exs the way the rules train theirs on their
// examples file (replies left out, noise a label of its own), without
// corrections. It needs a classifier: section.
func (r *Rules) TrainModel(exs []exampleset.Example) (*TrainedModel, error) {
	if r.clf == nil {
		return nil, fmt.Errorf("rules %s have no classifier: section", r.file)
	}
	t, _, err := r.trainOn(exs, nil, nil)
	if err != nil {
		return nil, err
	}
	return &TrainedModel{r: r, t: t}, nil
}

// Opinion returns the model's probabilities for env, for ClassifyWith.
func (m *TrainedModel) Opinion(env *message.Envelope) Opinion {
	s := m.r.getState()
	defer m.r.putState(s)
	m.r.prepare(s, env)
	scores := m.t.m.Scores(m.r.features(s), nil)
	o := make(Opinion, len(scores))
	for c, p := range scores {
		o[m.r.labels[m.t.toLabel[c]]] = float64(p)
	}
	return o
}

// Stats says what the model learned from.
func (m *TrainedModel) Stats() TrainingStats { return m.t.stats }

// features returns the model's features of the item s prepared: every
// distinct folded word (with its character grams) and, for words with
// letters, its stems in the item's stemming languages. The slice is the
// state's own.
func (r *Rules) features(s *state) []uint32 {
	v := s.vec
	v.Reset()
	f := s.f
	for i := range f.toks {
		tok := f.token(i)
		if !v.AddWord(tok) || !f.toks[i].letters {
			continue
		}
		for lang := range numStemLangs {
			if s.stemLangs&(1<<lang) != 0 {
				v.AddStemString(stemLangNames[lang], s.stem(lang, tok, true))
			}
		}
	}
	return v.Features()
}

// opinion sets s.probs to the item's probability of every label: the
// given model's, else the rules' own model's; s.opinion says whether there
// is one. s must be prepared.
func (r *Rules) opinion(s *state, m Model) {
	switch {
	case m != nil:
		for i, l := range r.labels {
			s.probs[i] = m.TeamScore(l)
		}
		s.opinion = true
	case r.model != nil:
		scores := r.model.m.Scores(r.features(s), s.scores)
		clear(s.probs)
		for c, p := range scores {
			s.probs[r.model.toLabel[c]] = float64(p)
		}
		s.opinion = true
	default:
		s.opinion = false
	}
}

// modelHolds evaluates a model condition.
func (s *state) modelHolds(c *modelCond) bool {
	return s.opinion && c.label >= 0 && s.probs[c.label] >= c.min
}

// modelScore is the model's probability of label (a team's index), 0
// without a model.
func (s *state) modelScore(label int32) (float64, bool) {
	if !s.opinion || label < 0 {
		return 0, false
	}
	return s.probs[label], true
}

// topLabels returns the three most probable labels with a probability
// above 0; ties go to the label declared first.
func (r *Rules) topLabels(probs []float64) ModelTop {
	var t ModelTop
	var idx [3]int
	n := 0
	for i, p := range probs {
		if !(p > 0) {
			continue
		}
		j := n
		if n < len(t) {
			n++
		} else if p <= t[len(t)-1].P {
			continue
		} else {
			j = len(t) - 1
		}
		for j > 0 && p > t[j-1].P {
			t[j], idx[j] = t[j-1], idx[j-1]
			j--
		}
		t[j], idx[j] = ModelScore{Team: r.labels[i], P: p}, i
	}
	return t
}

// fallback completes a decision with the model: its top three, and, when
// no route named a team and the item is not noise, the owning team when
// the model's most probable label is a team the classifier may choose
// with at least min_confidence. It reports that label's index, or -1.
func (r *Rules) fallback(d *Decision, probs []float64, opinion bool) int {
	if !opinion {
		return -1
	}
	d.Model = r.topLabels(probs)
	if r.clf == nil || d.Noise || d.Decided {
		return -1
	}
	best := -1
	for i, p := range probs {
		if best < 0 || p > probs[best] {
			best = i
		}
	}
	if best < 0 || !r.mayChoose[best] || !(probs[best] >= r.clf.min) {
		return -1
	}
	d.Decided, d.ModelDecided = true, true
	if len(d.Teams) <= 1 {
		d.Teams = r.labelTeams[best]
	} else {
		d.Teams = union([]string{r.labels[best]}, d.Teams[1:])
	}
	return best
}

// fallbackText says what the fallback did, for the trace.
func (r *Rules) fallbackText(d *Decision, probs []float64, chosen int) string {
	switch {
	case r.clf == nil || d.Model.Len() == 0:
		return ""
	case chosen >= 0:
		return fmt.Sprintf("no route named a team: the model chose %s (%.2f ≥ min_confidence %g)", r.labels[chosen], probs[chosen], r.clf.min)
	case d.Noise:
		return "noise: the model does not decide"
	case !d.ModelDecided && d.Decided:
		return "a route named the team: the model does not decide"
	}
	top := d.Model[0]
	switch {
	case top.Team == NoiseLabel:
		return fmt.Sprintf("the model's most probable label is noise (%.2f); it never discards an item by itself: default_team", top.P)
	case top.Team == r.defaultTeam:
		return fmt.Sprintf("the model's most probable team is the default team %s (%.2f): the item stays undecided, so what it answers or its conversation can decide", top.Team, top.P)
	case !r.mayChoose[slices.Index(r.labels, top.Team)]:
		return fmt.Sprintf("the model's most probable team %s (%.2f) is not one the classifier may choose (classifier.teams): default_team", top.Team, top.P)
	}
	return fmt.Sprintf("the model's most probable team %s (%.2f) is below min_confidence %g: default_team", top.Team, top.P, r.clf.min)
}
