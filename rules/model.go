package rules

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/classify"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/rules/exampleset"
)

// The model: when the rules have a classifier: section, Load trains a text
// classifier (package classify) on the examples the rules name and, with
// learn_from_corrections, on the items operators rerouted. Words are
// folded and stemmed by the rules' own code (features), so an example and
// a live message with the same text get the same features.

// NoiseLabel is the model's label for examples that are noise, in
// Decision.Model and in model conditions (noise: true).
const NoiseLabel = exampleset.NoiseLabel

// Bounds on training, so that a reload (which trains) cannot take
// unbounded time or memory; docs/rules.md lists them.
const (
	// MaxCorrections bounds the corrections one training uses: the
	// newest ones.
	MaxCorrections = 5_000
	// maxTrainFeatures bounds the features of all training examples
	// together (4 bytes each): examples after it are left out, with a
	// warning.
	maxTrainFeatures = 1 << 24
	// maxModelBytes bounds the model's weights: with many teams it uses
	// fewer feature buckets.
	maxModelBytes = 64 << 20
)

// Correction is an item an operator rerouted to another team (package
// router/corrections keeps them): with learn_from_corrections its text
// joins the training data, labelled with the team it was rerouted to.
type Correction struct {
	// ID is the item's envelope id; a later correction of the same item
	// replaces an earlier one.
	ID string
	// Team is the team the item belongs to (where it was rerouted).
	Team string
	// Channel, Subject, Text and Lang describe the item as it came in.
	Channel, Subject, Text, Lang string
	// At is when it was rerouted.
	At time.Time
}

// LoadOptions are what the daemon adds to a rules file when it loads it.
type LoadOptions struct {
	// Corrections are the accepted corrections; the model learns from
	// the newest MaxCorrections of them when the rules say
	// learn_from_corrections: true.
	Corrections []Correction
}

// LoadWith is Load with the daemon's options.
func LoadWith(path string, o LoadOptions) (*Rules, error) {
	return load(path, parseOptions{corrections: o.Corrections})
}

// TrainingStats say what the model was trained on.
type TrainingStats struct {
	// Examples and Corrections are how many of each the model learned
	// from; Replies the examples left out because they answer another
	// (a short answer means what it answers, not what it says), Skipped
	// those left out over the training bounds or for a team the rules no
	// longer declare.
	Examples    int `json:"examples"`
	Corrections int `json:"corrections"`
	Replies     int `json:"replies"`
	Skipped     int `json:"skipped"`
	// Labels are the teams (and noise) with examples, in the model's
	// order.
	Labels []string `json:"labels"`
	// Epochs is how many passes training made; Buckets the model's
	// feature buckets; SizeBytes its memory.
	Epochs    int `json:"epochs"`
	Buckets   int `json:"buckets"`
	SizeBytes int `json:"size_bytes"`
	// Took is how long featurizing and training took.
	Took time.Duration `json:"took"`
}

// trained is the rules' model and what goes with it.
type trained struct {
	m *classify.Model
	// toLabel maps the model's labels to Rules.labels.
	toLabel []int
	version string
	stats   TrainingStats
}

// HasModel reports whether the rules have a trained model.
func (r *Rules) HasModel() bool { return r.model != nil }

// ModelVersion identifies what the model learned from: a content hash of
// the examples file and the corrections it used (12 hex digits), "" when
// the rules have no model. The same rules and training data give the same
// model.
func (r *Rules) ModelVersion() string {
	if r.model == nil {
		return ""
	}
	return r.model.version
}

// ModelStats says what the model learned from; the zero value when the
// rules have no model.
func (r *Rules) ModelStats() TrainingStats {
	if r.model == nil {
		return TrainingStats{}
	}
	st := r.model.stats
	st.Labels = slices.Clone(st.Labels)
	return st
}

// MinConfidence is the classifier's min_confidence, 0 without a
// classifier.
func (r *Rules) MinConfidence() float64 {
	if r.clf == nil {
		return 0
	}
	return r.clf.min
}

// LearnsFromCorrections reports whether the rules say
// learn_from_corrections: true.
func (r *Rules) LearnsFromCorrections() bool { return r.clf != nil && r.clf.learn }

// train reads the examples, trains the model and resolves the labels the
// model conditions name. Problems are reported like the file's own: an
// examples file that does not load fails the rules.
func (b *builder) train(r *Rules, corrections []Correction) {
	p := yamlfile.Path{"examples"}
	data, err := yamlfile.ReadFile(r.examples, exampleset.MaxTSVBytes)
	if err != nil {
		b.report(p, "the model learns from %s, which cannot be read: %v", r.examples, err)
		return
	}
	set, err := exampleset.Parse(r.examples, data, teamNames(r.teams))
	if err != nil {
		var list yamlfile.List
		if !errors.As(err, &list) {
			b.report(p, "the examples file %s does not load: %v", r.examples, err)
			return
		}
		for _, e := range list {
			b.errs.Add(e)
		}
		return
	}
	if !r.clf.learn {
		corrections = nil
	}
	t, warns, err := r.trainOn(set.Examples, corrections, data)
	for _, w := range warns {
		b.warn(yamlfile.Path{"classifier"}, "%s", w)
	}
	if err != nil {
		b.report(yamlfile.Path{"classifier"}, "%v", err)
		return
	}
	r.model = t
	for _, rt := range r.routes {
		if c := rt.cond.model; c != nil && !slices.Contains(t.stats.Labels, c.name) {
			what := "team " + c.name
			if c.name == NoiseLabel {
				what = "noise"
			}
			b.report(c.path, "the model has no examples of %s, so it never gives it any probability: add examples, or drop the condition", what)
		}
	}
}

// teamNames lists the teams' names in file order.
func teamNames(teams []Team) []string {
	out := make([]string, len(teams))
	for i, t := range teams {
		out[i] = t.Name
	}
	return out
}

// trainOn trains a model on exs (replies left out) and corrections;
// examplesData is the examples file's content, for the model's version. It
// returns what it left out, for warnings. Training is deterministic.
func (r *Rules) trainOn(exs []exampleset.Example, corrections []Correction, examplesData []byte) (t *trained, warns []string, err error) {
	start := time.Now()
	index := make(map[string]int, len(r.labels))
	for i, l := range r.labels {
		index[l] = i
	}
	corrections = newestCorrections(corrections)
	var st TrainingStats
	type pending struct{ label, from, to int }
	var (
		docs  []pending
		flat  []uint32
		s     = r.newState()
		full  bool
		count = make([]int, len(r.labels))
	)
	add := func(env *message.Envelope, label string) bool {
		li, ok := index[label]
		if !ok || full {
			st.Skipped++
			return false
		}
		r.prepare(s, env)
		f := r.features(s)
		if len(flat)+len(f) > maxTrainFeatures {
			full = true
			st.Skipped++
			return false
		}
		docs = append(docs, pending{label: li, from: len(flat), to: len(flat) + len(f)})
		flat = append(flat, f...)
		count[li]++
		return true
	}
	for i := range exs {
		ex := &exs[i]
		if ex.ReplyTo != "" {
			st.Replies++
			continue
		}
		label := ex.Team
		if ex.Noise {
			label = NoiseLabel
		}
		env := &message.Envelope{Channel: ex.Channel, Kind: message.Kind(ex.Kind), Subject: ex.Subject, Text: ex.Text, Lang: ex.Lang}
		if add(env, label) {
			st.Examples++
		}
	}
	for _, c := range corrections {
		env := &message.Envelope{Channel: c.Channel, Subject: c.Subject, Text: c.Text, Lang: c.Lang}
		if add(env, c.Team) {
			st.Corrections++
		}
	}
	if full {
		warns = append(warns, fmt.Sprintf("the model learned from the first %d examples and corrections only: their words reached the training bound (%d features); %d were left out",
			len(docs), maxTrainFeatures, st.Skipped))
	}
	toLabel := []int{}
	relabel := make([]int, len(r.labels))
	for i, n := range count {
		relabel[i] = -1
		if n > 0 {
			relabel[i] = len(toLabel)
			toLabel = append(toLabel, i)
			st.Labels = append(st.Labels, r.labels[i])
		}
	}
	if len(toLabel) < 2 {
		return nil, warns, fmt.Errorf("the model needs examples of at least two teams (or of a team and noise) to tell them apart; it has %d examples of %s",
			len(docs), orNone(st.Labels))
	}
	cdocs := make([]classify.Doc, len(docs))
	for i, d := range docs {
		cdocs[i] = classify.Doc{Features: flat[d.from:d.to:d.to], Label: relabel[d.label]}
	}
	bits := classify.DefaultBits
	for bits > classify.MinBits && (4<<bits)*len(toLabel) > maxModelBytes {
		bits--
	}
	m, err := safeTrain(cdocs, st.Labels, classify.Options{Bits: bits})
	if err != nil {
		return nil, warns, fmt.Errorf("training the model: %w", err)
	}
	st.Epochs, st.Buckets, st.SizeBytes = m.Epochs(), m.Buckets(), m.SizeBytes()
	st.Took = time.Since(start)
	return &trained{m: m, toLabel: toLabel, version: r.trainingVersion(examplesData, corrections), stats: st}, warns, nil
}

// trainingVersion is the model version of training on an examples file
// with this content and these corrections (newestCorrections already
// applied): a hash of the file and of the corrections of declared teams.
// Watch compares it with the running model's to tell whether a reload of
// unchanged rules must train again.
func (r *Rules) trainingVersion(examplesData []byte, corrections []Correction) string {
	h := sha256.New()
	hashPart(h, examplesData)
	for _, c := range corrections {
		if !slices.Contains(r.labels, c.Team) {
			continue
		}
		for _, part := range []string{c.ID, c.Team, c.Channel, c.Subject, c.Text, c.Lang} {
			hashPart(h, []byte(part))
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// trainingChanged reports whether the model of r would learn from
// something else now: the examples file changed, or (with
// learn_from_corrections) the corrections. It is false for rules without
// a model, and true when the examples file cannot be read (the reload then
// says why).
func (r *Rules) trainingChanged(corrections []Correction) bool {
	if r.model == nil {
		return false
	}
	data, err := yamlfile.ReadFile(r.examples, exampleset.MaxTSVBytes)
	if err != nil {
		return true
	}
	if !r.clf.learn {
		corrections = nil
	}
	return r.trainingVersion(data, newestCorrections(corrections)) != r.model.version
}

// safeTrain is classify.Train with a panic turned into an error: training
// runs inside a reload, which must never take the daemon down.
func safeTrain(docs []classify.Doc, labels []string, o classify.Options) (m *classify.Model, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("training panicked: %v", p)
		}
	}()
	return classify.Train(docs, labels, o)
}

// hashPart adds one length-prefixed part to h.
func hashPart(h hash.Hash, b []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// newestCorrections returns the newest correction of each item, at most
// MaxCorrections of them, oldest first (ties by id), so that the same
// corrections give the same model in whatever order they came.
func newestCorrections(cs []Correction) []Correction {
	if len(cs) == 0 {
		return nil
	}
	newest := map[string]Correction{}
	for _, c := range cs {
		if c.ID == "" || c.Team == "" || c.Team == NoiseLabel {
			continue
		}
		if old, ok := newest[c.ID]; !ok || c.At.After(old.At) || c.At.Equal(old.At) && c.Team > old.Team {
			newest[c.ID] = c
		}
	}
	out := make([]Correction, 0, len(newest))
	for _, c := range newest {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Correction) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > MaxCorrections {
		out = out[len(out)-MaxCorrections:]
	}
	return out
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return fmt.Sprint(list)
}
