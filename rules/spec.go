// Package rules is the routing rule language that ops own: it parses a rules
// file with positions, validates and lints it, compiles every word of every
// route into one Aho-Corasick automaton, and decides which teams an envelope
// goes to, with a trace that explains why. docs/rules.md is the reference.
//
// A rules file names the teams and their delivery targets, a mandatory
// default team, shared vocabularies, and an ordered tree of routes modelled on
// Alertmanager's: routes are tried top to bottom, the first match wins unless
// it says continue: true (fan-out), and a matching route's child routes refine
// its decision.
//
// Load or Parse compile a file into an immutable *Rules; with a
// classifier: section they also train a text classifier (package
// classify) on the file's labelled examples, the model that chooses the
// team when no route names one and that model conditions ask. Classify
// decides where an envelope goes and Explain also says why. Live holds the
// rules in use and Watch swaps in a new version when the file (or the
// model's training data) changes.
package rules

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"

	"github.com/switchboard/switchboard/internal/yamlfile"
)

// File is a rules file as written. Every field is documented for rule
// authors in docs/rules.md.
type File struct {
	// DefaultTeam receives every item no route sends to a team. Required,
	// and declared under teams like every other team.
	DefaultTeam string `yaml:"default_team"`
	// Teams declares every team a route may name, with its delivery targets.
	Teams []TeamSpec `yaml:"teams"`
	// Vocabularies are named word lists, written once and used by several
	// routes as $name inside text conditions.
	Vocabularies map[string]List `yaml:"vocabularies"`
	// Routes are tried in order; see RouteSpec.
	Routes []RouteSpec `yaml:"routes"`
	// Examples names a file of labelled example messages (YAML or TSV,
	// relative to the rules file) that "switchboard rules test -examples"
	// runs (package rules/examples) and the model learns from.
	Examples string `yaml:"examples"`
	// Classifier turns on the model trained from the examples: the
	// fallback when no route names a team, and model conditions.
	Classifier *ClassifierSpec `yaml:"classifier"`
}

// ClassifierSpec configures the text classifier the rules train on their
// examples when they are loaded (docs/rules.md, "The model").
type ClassifierSpec struct {
	// MinConfidence is the least probability with which the model's
	// fallback chooses a team, and the default min of a model condition;
	// default 0.5.
	MinConfidence *float64 `yaml:"min_confidence"`
	// Teams are the teams the fallback may choose; default every team
	// with examples. The fallback never marks an item as noise.
	Teams List `yaml:"teams"`
	// LearnFromCorrections adds the items operators rerouted to the
	// training data at the next load.
	LearnFromCorrections bool `yaml:"learn_from_corrections"`
}

// TeamSpec declares one team.
type TeamSpec struct {
	// Name is the team's id: lowercase letters, digits, '-' or '_'.
	Name string `yaml:"name"`
	// Description says what the team handles, for people.
	Description string `yaml:"description"`
	// Targets are where the team's items are delivered; none means one NATS
	// target (the team's queue subject).
	Targets []TargetSpec `yaml:"targets"`
}

// TargetSpec is one delivery target as written.
type TargetSpec struct {
	// Type is nats, redis or webhook.
	Type string `yaml:"type"`
	// Stream is the Redis stream key (redis; default "switchboard:team:<team>").
	Stream string `yaml:"stream"`
	// MaxLen caps the Redis stream's length, approximately (redis; 0: no cap).
	MaxLen int64 `yaml:"maxlen"`
	// URL is the webhook endpoint (webhook); https unless the host is loopback.
	URL string `yaml:"url"`
	// Secret signs webhook requests (webhook). ${ENV} is expanded.
	Secret string `yaml:"secret"`
	// SecretFile reads Secret from a file instead (webhook).
	SecretFile string `yaml:"secret_file"`
	// Timeout bounds one webhook request (webhook; default
	// delivery.webhook.timeout of the configuration, 10s).
	Timeout yamlfile.Duration `yaml:"timeout"`
	// Format is json (the routed item) or slack (a Slack message) (webhook).
	Format string `yaml:"format"`
}

// RouteSpec is one route as written.
type RouteSpec struct {
	// ID names the route in traces, metrics and routed items; unique in the file.
	ID string `yaml:"id"`
	// Description says what the route is for, for people.
	Description string `yaml:"description"`
	// Match lists the conditions; all must hold. An empty match matches
	// everything.
	Match MatchSpec `yaml:"match"`
	// Team owns what the route matches. Child routes inherit it.
	Team string `yaml:"team"`
	// CopyTo are teams that get a copy (fan-out within one route). Child
	// routes inherit it unless they set their own ("copy_to: []" clears it).
	CopyTo List `yaml:"copy_to"`
	// Noise marks matching items as noise: kept in the ingest stream, counted,
	// delivered to no team. Evaluation stops there.
	Noise bool `yaml:"noise"`
	// Topics, Priority and Tags describe matching items. Child routes inherit
	// the priority and add their own topics and tags to their parent's.
	// Priority is low, normal, high or urgent.
	Topics   List   `yaml:"topics"`
	Priority string `yaml:"priority"`
	Tags     List   `yaml:"tags"`
	// Continue goes on to the next route after this one matched (fan-out).
	Continue bool `yaml:"continue"`
	// Sticky false lets a follow-up in a known thread go where this route
	// says instead of sticking to the team that got the thread first.
	// Child routes inherit it. Default true.
	Sticky *bool `yaml:"sticky"`
	// Routes are tried, in order, only when this route matched; the deepest
	// matching route decides.
	Routes []RouteSpec `yaml:"routes"`
	// Mode says how the child routes decide: "first" (the default: the
	// first matching child wins, unless it says continue) or "best" (every
	// child is tried and scored by the words it matched; the highest score
	// wins, file order breaks ties). See docs/rules.md.
	Mode string `yaml:"mode"`
}

// MatchSpec holds a route's conditions. Every condition that is set must
// hold; a list condition holds when any of its values matches.
type MatchSpec struct {
	// Channel is the connector type: facebook, x, email, web.
	Channel List `yaml:"channel"`
	// Kind is the item kind: post, comment, reply, message, mention, dm, email, web.
	Kind List `yaml:"kind"`
	// Lang is the item's language (declared by the channel, else detected):
	// fi, en, ... or und when it could not be determined.
	Lang List `yaml:"lang"`
	// Author matches author fields, case-insensitively, with * wildcards.
	Author AuthorSpec `yaml:"author"`
	// Thread is "new" (the item answers nothing: no parent_id) or "reply"
	// (it answers another item).
	Thread string `yaml:"thread"`
	// Tags holds when an earlier matching route (continue: true) or a parent
	// route gave the item one of these tags.
	Tags List `yaml:"tags"`
	// Metadata matches channel extras by key, case-insensitively, with *
	// wildcards.
	Metadata map[string]List `yaml:"metadata"`
	// Text matches the subject and text.
	Text TextSpec `yaml:"text"`
	// Model holds when the trained model gives a team (or noise) at
	// least a probability.
	Model *ModelSpec `yaml:"model"`
}

// ModelSpec is a model condition: model: {team: billing, min: 0.8}.
type ModelSpec struct {
	// Team is the team the model must see; default the route's own team
	// (noise on a noise route).
	Team string `yaml:"team"`
	// Noise asks for the model's probability that the item is noise
	// instead of a team's.
	Noise bool `yaml:"noise"`
	// Min is the least probability, more than 0 and at most 1; default
	// the classifier's min_confidence.
	Min *float64 `yaml:"min"`
}

// AuthorSpec matches author fields, case-insensitively, with * wildcards;
// each list that is set must have one value that matches.
type AuthorSpec struct {
	// ID is the author's id on the channel.
	ID List `yaml:"id"`
	// Name is the display name.
	Name List `yaml:"name"`
	// Handle is the @handle (X) without the @.
	Handle List `yaml:"handle"`
	// Email is the sender address (email, web intake).
	Email List `yaml:"email"`
}

// TextSpec holds text conditions over words, phrases, vocabularies ($name)
// and regular expressions. Each one that is set must hold.
type TextSpec struct {
	// Any holds when at least one entry occurs.
	Any List `yaml:"any"`
	// All holds when every entry occurs. An entry is a word, a $vocabulary
	// (any of its words) or a list of words and vocabularies, an OR group
	// (any of them): all: [[app, sovellus], [kaatuu, crash]].
	All Groups `yaml:"all"`
	// None holds when no entry occurs.
	None List `yaml:"none"`
	// Regex holds when at least one Go (RE2) regular expression matches the
	// normalized text (case-folded, so matching ignores case).
	Regex List `yaml:"regex"`
}

// List is a list of strings that may also be written as one scalar:
// "channel: email" is "channel: [email]".
type List []string

// UnmarshalYAML accepts a sequence of scalars or one scalar.
func (l *List) UnmarshalYAML(n ast.Node) error {
	out, err := oneOrMany(n, scalar, func(s string) string { return s })
	if err != nil {
		return err
	}
	*l = out
	return nil
}

// Groups is text.all: a list whose entries are words or lists of words (OR
// groups). One scalar is one group of one word.
type Groups []List

// UnmarshalYAML accepts a sequence of scalars and sequences, or one scalar.
func (g *Groups) UnmarshalYAML(n ast.Node) error {
	out, err := oneOrMany(n, func(el ast.Node) (List, error) {
		var l List
		err := l.UnmarshalYAML(el)
		return l, err
	}, func(s string) List { return List{s} })
	if err != nil {
		return err
	}
	*g = out
	return nil
}

// oneOrMany decodes a list that may also be written as one scalar: a
// sequence, each element by elem; null, nil; a scalar, the one entry
// single makes of it.
func oneOrMany[T any](n ast.Node, elem func(ast.Node) (T, error), single func(string) T) ([]T, error) {
	switch v := n.(type) {
	case *ast.SequenceNode:
		out := make([]T, 0, len(v.Values))
		for _, el := range v.Values {
			x, err := elem(el)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case *ast.NullNode:
		return nil, nil
	}
	s, err := scalar(n)
	if err != nil {
		return nil, err
	}
	return []T{single(s)}, nil
}

func scalar(n ast.Node) (string, error) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, nil
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return n.GetToken().Value, nil
	case *ast.LiteralNode:
		return v.Value.Value, nil
	case *ast.AnchorNode:
		return scalar(v.Value)
	case *ast.TagNode:
		return scalar(v.Value)
	}
	return "", yamlfile.ValueError(n.GetToken(), fmt.Sprintf("expected a word or a list of words, got %s", n.Type()))
}
