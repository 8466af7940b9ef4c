package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Rules is a compiled, immutable rule set; safe for concurrent use.
type Rules struct {
	version     string
	file        string
	examples    string // the examples file's path, "" when none
	defaultTeam string
	defTeams    []string // the decision's Teams when no route decides
	teams       []Team
	warnings    yamlfile.List
	stems       *stemmer

	terms    []*term
	pats     []patInfo // by automaton pattern id
	ac       *automaton
	routes   []*route // depth-first (file) order
	trig     [][]int32
	always   []uint64 // routes evaluated for every item
	tagNames []string
	pool     sync.Pool // of *state
	// scoreSubject: some route has mode: best, so hits in the subject are
	// recorded for scoring.
	scoreSubject bool

	// clf is the classifier: section (nil without one) and model the model
	// trained from the examples (nil without a classifier).
	clf   *classifierConf
	model *trained
	// labels are what the model gives probabilities to: the declared
	// teams in file order, then NoiseLabel. labelTeams[i] is
	// []string{labels[i]} (the fallback's decision, shared); mayChoose[i]
	// says the fallback may choose label i.
	labels     []string
	labelTeams [][]string
	mayChoose  []bool
}

// patInfo is what an automaton pattern means.
type patInfo struct {
	terms       []int32
	surfaceOnly bool
}

// parseOptions tune parsing for reloads and tests.
type parseOptions struct {
	// lookupEnv resolves ${VAR} in webhook targets (os.LookupEnv by default).
	lookupEnv func(string) (string, bool)
	// stems carries the stem cache over from the rules being replaced.
	stems *stemmer
	// noLint skips the shadowing analysis (property tests generate rule
	// sets with unreachable routes on purpose).
	noLint bool
	// corrections are the operators' corrections, for a model that
	// learns from them.
	corrections []Correction
}

// reporter records a problem at a path of the file.
type reporter func(p yamlfile.Path, format string, args ...any)

// Load reads and compiles the rules file at path.
func Load(path string) (*Rules, error) {
	return load(path, parseOptions{})
}

func load(path string, o parseOptions) (*Rules, error) {
	data, err := yamlfile.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	return parse(path, data, o)
}

// Parse compiles rules from data; file names the source in errors. Every
// problem (syntax, unknown keys, unknown teams, duplicate ids, bad words or
// regexes, a missing default team, routes that can never match) is reported
// as FILE:LINE:COL: message in a yamlfile.List.
func Parse(file string, data []byte) (*Rules, error) {
	return parse(file, data, parseOptions{})
}

func parse(file string, data []byte, o parseOptions) (*Rules, error) {
	if o.lookupEnv == nil {
		o.lookupEnv = os.LookupEnv
	}
	if o.stems == nil {
		o.stems = newStemmer()
	}
	var f File
	doc, err := decode(file, data, &f)
	if err != nil {
		return nil, err
	}
	b := newBuilder(doc, o.stems)
	base := filepath.Dir(file)
	if abs, err := filepath.Abs(base); err == nil {
		base = abs
	}
	teams := teamsFrom(&f, doc, b.report, o.lookupEnv, base)
	for _, ts := range f.Teams {
		// Declared even when a target is invalid, so that one bad target
		// does not also make every route naming the team an error.
		if ts.Name != "" {
			b.declared[ts.Name] = true
		}
	}
	b.defaultTeam(&f)
	b.classifier(&f)
	b.vocabularies(&f)
	b.routeList(f.Routes, yamlfile.Path{"routes"}, -1, inherited{prio: prioUnset, sticky: true})
	if b.errs.Len() == 0 && !o.noLint {
		b.lint()
	}
	b.unused(&f)
	if b.errs.Len() == 0 {
		b.stemWarnings()
		b.cutShort(&f, file, data)
	}
	var r *Rules
	if b.errs.Len() == 0 {
		r = &Rules{
			version:     contentVersion(data),
			file:        file,
			examples:    examplesPath(file, f.Examples),
			defaultTeam: f.DefaultTeam,
			defTeams:    []string{f.DefaultTeam},
			teams:       teams,
			stems:       o.stems,
			clf:         b.clf,
		}
		b.compile(r)
	}
	if b.errs.Len() == 0 && r.clf != nil {
		b.train(r, o.corrections)
		r.settleChoices()
	}
	if err := b.errs.List().Err(); err != nil {
		return nil, err
	}
	r.warnings = b.warns.List()
	r.pool.New = func() any { return r.newState() }
	return r, nil
}

// compile builds the automaton and the candidate index.
func (b *builder) compile(r *Rules) {
	b.dropDotless()
	r.terms, r.routes, r.tagNames = b.terms, b.routes, b.tagNames
	index := map[string]int32{}
	var texts []string
	for ti, t := range b.terms {
		for _, p := range t.patterns() {
			id, ok := index[p.text]
			if !ok {
				id = int32(len(texts))
				index[p.text] = id
				texts = append(texts, p.text)
				r.pats = append(r.pats, patInfo{surfaceOnly: p.surfaceOnly})
			}
			r.pats[id].terms = append(r.pats[id].terms, int32(ti))
		}
	}
	ac, err := buildAutomaton(texts)
	if err != nil {
		b.report(yamlfile.Path{"routes"}, "%v", err)
		return
	}
	r.ac = ac
	for _, rt := range b.routes {
		r.scoreSubject = r.scoreSubject || rt.best
	}
	r.labels = append(teamNames(r.teams), NoiseLabel)
	r.labelTeams = make([][]string, len(r.labels))
	for i, l := range r.labels {
		r.labelTeams[i] = []string{l}
	}
	r.mayChoose = make([]bool, len(r.labels))
	for _, rt := range b.routes {
		owner := rt.owner
		if owner == "" {
			owner = r.defaultTeam
		}
		rt.label = int32(slices.Index(r.labels, owner))
		if c := rt.cond.model; c != nil {
			c.label = int32(slices.Index(r.labels, c.name))
		}
	}
	r.trig = make([][]int32, len(b.terms))
	r.always = make([]uint64, (len(b.routes)+63)/64)
	for i, rt := range b.routes {
		if rt.cond.trigger == nil {
			r.always[i>>6] |= 1 << (i & 63)
			continue
		}
		for _, t := range rt.cond.trigger {
			r.trig[t] = append(r.trig[t], int32(i))
		}
	}
}

// fileLimits bound a rules file before it is parsed: the YAML library
// needs about 400 bytes of allocation per byte of input, and aliases would
// multiply that (docs/rules.md, Limits).
func fileLimits() yamlfile.Limits {
	return yamlfile.Limits{
		MaxBytes:  MaxFileBytes,
		MaxDepth:  100,
		AliasHelp: `quote a word that starts with * ("*lasku"), and share words through a vocabulary ($name)`,
	}
}

// MaxFileBytes caps the size of a rules file (a 10,000-route file is about
// 800 KB).
const MaxFileBytes = 2 << 20

// decode is yamlfile.Decode with a panic of the YAML library turned into an
// error: goccy/go-yaml v1.18 panics on a tag where a list belongs
// ("teams:\n  ! x"), and a rules file must never crash the daemon.
func decode(file string, data []byte, f *File) (doc *yamlfile.Doc, err error) {
	defer func() {
		if p := recover(); p != nil {
			doc, err = nil, yamlfile.List{{File: file, Msg: fmt.Sprintf("the YAML decoder failed on this file (%v); check indentation and tags (!) near recent edits", p)}}
		}
	}()
	return yamlfile.DecodeLimited(file, data, f, fileLimits())
}

// settleChoices says which labels the fallback may choose: the teams
// classifier.teams lists, else every team the model knows; never noise,
// and never the default team (an item the model gives to the default team
// stays undecided, so that what it answers, its conversation or its
// customer's case can still decide).
func (r *Rules) settleChoices() {
	if r.model == nil {
		return
	}
	for i, l := range r.labels {
		known := slices.Contains(r.model.stats.Labels, l)
		allowed := r.clf.teams == nil || slices.Contains(r.clf.teams, l)
		r.mayChoose[i] = known && allowed && l != NoiseLabel && l != r.defaultTeam
	}
}

// Version is the content hash of the rules file (12 hex digits); every
// decision carries it.
func (r *Rules) Version() string { return r.version }

// File is the path or name the rules were parsed from.
func (r *Rules) File() string { return r.file }

// ExamplesFile is the path of the examples file the rules name (examples:),
// relative paths resolved against the rules file's directory; "" when they
// name none.
func (r *Rules) ExamplesFile() string { return r.examples }

// examplesPath resolves the examples file named in a rules file.
func examplesPath(rulesFile, name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(rulesFile), name)
}

// DefaultTeam receives every item that is not noise and that no route sends
// to a team.
func (r *Rules) DefaultTeam() string { return r.defaultTeam }

// Teams returns the declared teams in file order. The slice is shared: do
// not modify it.
func (r *Rules) Teams() []Team { return r.teams }

// Warnings are findings that do not stop the rules from loading (an unused
// vocabulary or team), as FILE:LINE:COL: warning: message.
func (r *Rules) Warnings() []string {
	out := make([]string, len(r.warnings))
	for i, w := range r.warnings {
		out[i] = w.Error()
	}
	return out
}

// RouteIDs lists every route id in evaluation (file) order.
func (r *Rules) RouteIDs() []string {
	out := make([]string, len(r.routes))
	for i, rt := range r.routes {
		out[i] = rt.id
	}
	return out
}
