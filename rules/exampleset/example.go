// Package exampleset reads labelled example messages: which team each one
// must reach, or that it is noise, parsed strictly with positions from YAML
// or TSV (docs/rules.md describes both formats). It is the file format
// alone, importing nothing of the rules, so that the rules package can
// train its model on the examples the rules file names, and package
// rules/examples can run them as the batch test.
package exampleset

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// NoiseLabel names the expected or actual outcome "delivered to no team"
// in reports and in the team column of a TSV file.
const NoiseLabel = "(noise)"

// Limits on one examples file, so that a huge or hostile file is refused
// quickly instead of eating memory.
const (
	// MaxExamples caps the examples of one file.
	MaxExamples = 20_000
	// MaxYAMLBytes and MaxTSVBytes cap a file's size; YAML costs far more
	// to parse than TSV.
	MaxYAMLBytes = 4 << 20
	MaxTSVBytes  = 16 << 20
	// MaxTextBytes caps an example's text: what the rules match of an
	// item (rules.MaxMatchBytes, which a test holds equal).
	MaxTextBytes = 64 << 10
	// maxIDBytes caps an example id.
	maxIDBytes = 128
)

// channels are the channels an example may name.
var channels = []string{"facebook", "x", "email", "web"}

// Example is one labelled message.
type Example struct {
	// Team is the team the example must reach (its owning team); empty
	// when Noise.
	Team string `json:"team,omitempty"`
	// Noise says the example must be delivered to no team.
	Noise bool `json:"noise,omitempty"`
	// Text, Subject, Channel, Kind and Lang describe the message; Channel
	// is web and Kind the channel's usual kind (DefaultKind) unless set,
	// Lang is detected unless set.
	Text    string `json:"text"`
	Subject string `json:"subject,omitempty"`
	Channel string `json:"channel"`
	Kind    string `json:"kind"`
	Lang    string `json:"lang,omitempty"`
	// ID names the example, for replies and reports; unique in a file.
	ID string `json:"id,omitempty"`
	// ReplyTo is the ID of the example this one answers.
	ReplyTo string `json:"reply_to,omitempty"`
	// Line is where the example starts in its file.
	Line int `json:"line"`
}

// Expected is the example's expected label: its team, or NoiseLabel.
func (e *Example) Expected() string {
	if e.Noise {
		return NoiseLabel
	}
	return e.Team
}

// Envelope is the message example i describes, as a connector would
// deliver it; a reply's ParentID is the envelope id of the example it
// answers.
func (s *Set) Envelope(i int) *message.Envelope {
	ex := &s.Examples[i]
	env := &message.Envelope{
		Version: message.SchemaVersion, Channel: ex.Channel, Kind: message.Kind(ex.Kind),
		SourceID: sourceID(ex.ID, i), Subject: ex.Subject, Text: ex.Text, Lang: ex.Lang,
	}
	env.ID = message.MakeID(env.Channel, env.SourceID)
	if ex.ReplyTo != "" {
		for j := range s.Examples {
			if p := &s.Examples[j]; p.ID == ex.ReplyTo {
				env.ParentID = message.MakeID(p.Channel, sourceID(p.ID, j))
				break
			}
		}
	}
	return env
}

// sourceID names example i (with id, when it has one) as a channel's item.
func sourceID(id string, i int) string {
	if id != "" {
		return "example-" + id
	}
	return fmt.Sprintf("example#%d", i+1)
}

// DefaultKind is the usual kind of an item on a channel.
func DefaultKind(channel string) string {
	switch channel {
	case "facebook":
		return string(message.KindComment)
	case "x":
		return string(message.KindMention)
	case "email":
		return string(message.KindEmail)
	}
	return string(message.KindWeb)
}

// Set is the examples of one file, in file order.
type Set struct {
	// File is the path or name the examples were read from.
	File string `json:"file"`
	// Examples are in file order; a reply may come before what it answers.
	Examples []Example `json:"examples"`
}

// validate completes and checks the examples: defaults, known teams,
// channels, kinds and languages, unique ids, replies to existing examples
// without cycles. pos positions a field of example i.
func validate(set *Set, teams []string, pos func(i int, field string) *yamlfile.Error, ps *yamlfile.Collector) {
	bad := func(i int, field, format string, args ...any) {
		e := pos(i, field)
		e.Msg = fmt.Sprintf(format, args...)
		ps.Add(e)
	}
	ids := map[string]int{}
	for i := range set.Examples {
		ex := &set.Examples[i]
		switch {
		case strings.TrimSpace(ex.Text) == "":
			bad(i, "text", "the example needs a text")
		case len(ex.Text) > MaxTextBytes:
			bad(i, "text", "the text is %d bytes; at most %d are matched", len(ex.Text), MaxTextBytes)
		}
		switch {
		case ex.Noise && ex.Team != "":
			bad(i, "team", "an example has a team or is noise, not both")
		case !ex.Noise && ex.Team == "":
			bad(i, "team", "the example needs a team (or noise: true when it must reach no team)")
		case !ex.Noise && !slices.Contains(teams, ex.Team):
			bad(i, "team", "unknown team %q: the rules declare %s", ex.Team, strings.Join(teams, ", "))
		}
		if ex.Channel == "" {
			ex.Channel = "web"
		} else if !slices.Contains(channels, ex.Channel) {
			bad(i, "channel", "channel %q: use %s", ex.Channel, strings.Join(channels, ", "))
		}
		if ex.Kind == "" {
			ex.Kind = DefaultKind(ex.Channel)
		} else if !message.Kind(ex.Kind).Valid() {
			bad(i, "kind", "kind %q: use post, comment, reply, message, mention, dm, email or web", ex.Kind)
		}
		if ex.Lang != "" && !validLangTag(ex.Lang) {
			bad(i, "lang", "lang %q: use a language code such as fi, en, sv or en-GB", ex.Lang)
		}
		if ex.ID != "" {
			switch prev, dup := ids[ex.ID]; {
			case len(ex.ID) > maxIDBytes || strings.ContainsFunc(ex.ID, unicode.IsSpace):
				bad(i, "id", "id %q: at most %d bytes, no spaces", ex.ID, maxIDBytes)
			case dup:
				bad(i, "id", "duplicate id %q (also on line %d)", ex.ID, set.Examples[prev].Line)
			default:
				ids[ex.ID] = i
			}
		}
	}
	for i := range set.Examples {
		ex := &set.Examples[i]
		if ex.ReplyTo == "" {
			continue
		}
		if _, ok := ids[ex.ReplyTo]; !ok {
			bad(i, "reply_to", "reply_to %q: no example has that id", ex.ReplyTo)
			continue
		}
		// Follow the chain; at most len(ids) steps without a cycle.
		chain := []string{ex.ID}
		for cur := ex.ReplyTo; cur != ""; cur = set.Examples[ids[cur]].ReplyTo {
			if cur == ex.ID || len(chain) > len(ids) {
				bad(i, "reply_to", "replies form a cycle: %s → %s", strings.Join(chain, " → "), cur)
				break
			}
			chain = append(chain, cur)
			if _, ok := ids[set.Examples[ids[cur]].ReplyTo]; !ok {
				break // ends, or at a reply_to reported on its own
			}
		}
	}
}

// validLangTag accepts a language code with optional subtags: fi, en-GB.
func validLangTag(s string) bool {
	if len(s) > 16 {
		return false
	}
	for i, part := range strings.Split(s, "-") {
		if part == "" || i == 0 && (len(part) < 2 || len(part) > 3) {
			return false
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}
