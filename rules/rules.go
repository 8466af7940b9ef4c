// Package rules is the routing rule language: it parses a rules file with
// positions, validates it and decides which teams an envelope goes to.
//
// This is the minimal form: ordered routes of keywords, each naming a team,
// and a required default team. The first route with a matching keyword wins.
package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// File is the rules file as written.
type File struct {
	// DefaultTeam receives every message no route matched.
	DefaultTeam string `yaml:"default_team"`
	// Routes are tried in order.
	Routes []RouteSpec `yaml:"routes"`
}

// RouteSpec is one route as written.
type RouteSpec struct {
	// ID names the route in traces and in routed items.
	ID string `yaml:"id"`
	// Team receives what the route matches.
	Team string `yaml:"team"`
	// Keywords are words or phrases; any one matching (case-insensitively,
	// on word boundaries) selects the route.
	Keywords []string `yaml:"keywords"`
}

// Decision is where one envelope goes.
type Decision struct {
	// Teams receive the item, in order; never empty.
	Teams []string
	// Topics, Priority and Tags describe the item for its teams.
	Topics   []string
	Priority string
	Tags     []string
	// Version is the content hash of the rules that decided.
	Version string
	// Matched lists the ids of the routes that matched.
	Matched []string
	// Noise marks an item kept for audit but delivered to no team.
	Noise bool
	// OverrideThread says a follow-up must not stick to its thread's team.
	OverrideThread bool
}

// Rules is a compiled, immutable rule set.
type Rules struct {
	version     string
	defaultTeam string
	routes      []route
}

type route struct {
	id, team string
	keywords [][]string // each keyword as a sequence of folded words
}

// Load reads and compiles the rules file at path.
func Load(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	return Parse(path, data)
}

// Parse compiles rules from data; file names the source in errors, which are
// reported as FILE:LINE:COL: message.
func Parse(file string, data []byte) (*Rules, error) {
	var f File
	doc, err := yamlfile.Decode(file, data, &f)
	if err != nil {
		return nil, err
	}
	var errs yamlfile.List
	if f.DefaultTeam == "" {
		errs = append(errs, doc.Errorf(yamlfile.Path{"default_team"}, "default_team is required: every message must reach a team"))
	} else if !message.ValidToken(f.DefaultTeam) {
		errs = append(errs, doc.Errorf(yamlfile.Path{"default_team"}, "team %q: use lowercase letters, digits, '-' or '_'", f.DefaultTeam))
	}
	sum := sha256.Sum256(data)
	r := &Rules{version: hex.EncodeToString(sum[:6]), defaultTeam: f.DefaultTeam}
	seen := map[string]bool{}
	for i, rs := range f.Routes {
		p := yamlfile.Path{"routes", i}
		if rs.ID == "" {
			errs = append(errs, doc.Errorf(p, "route needs an id"))
		} else if seen[rs.ID] {
			errs = append(errs, doc.Errorf(p.Child("id"), "duplicate route id %q", rs.ID))
		}
		seen[rs.ID] = true
		if !message.ValidToken(rs.Team) {
			errs = append(errs, doc.Errorf(p.Child("team"), "team %q: use lowercase letters, digits, '-' or '_'", rs.Team))
		}
		if len(rs.Keywords) == 0 {
			errs = append(errs, doc.Errorf(p, "route %q has no keywords", rs.ID))
		}
		rt := route{id: rs.ID, team: rs.Team}
		for j, k := range rs.Keywords {
			words := tokenize(k)
			if len(words) == 0 {
				errs = append(errs, doc.Errorf(p.Child("keywords").Child(j), "keyword %q has no letters or digits", k))
				continue
			}
			rt.keywords = append(rt.keywords, words)
		}
		r.routes = append(r.routes, rt)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// Version is the content hash of the rules file.
func (r *Rules) Version() string { return r.version }

// Classify decides where env goes.
func (r *Rules) Classify(env *message.Envelope) Decision {
	words := tokenize(env.Subject + "\n" + env.Text)
	for _, rt := range r.routes {
		for _, k := range rt.keywords {
			if containsSeq(words, k) {
				return Decision{Teams: []string{rt.team}, Priority: "normal", Version: r.version, Matched: []string{rt.id}}
			}
		}
	}
	return Decision{Teams: []string{r.defaultTeam}, Priority: "normal", Version: r.version}
}

// tokenize splits s into lowercase runs of letters and digits.
func tokenize(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func containsSeq(words, seq []string) bool {
	for i := 0; i+len(seq) <= len(words); i++ {
		match := true
		for j, w := range seq {
			if words[i+j] != w {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
