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
	"path/filepath"
	"strings"
	"unicode"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// File is the rules file as written.
type File struct {
	// DefaultTeam receives every message no route matched.
	DefaultTeam string `yaml:"default_team"`
	// Teams declares teams and their delivery targets. A team a route names
	// without declaring it gets one NATS target.
	Teams []TeamSpec `yaml:"teams"`
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
	// Timeout bounds one webhook request (webhook; default 10s).
	Timeout yamlfile.Duration `yaml:"timeout"`
	// Format is json (the routed item) or slack (a Slack message) (webhook).
	Format string `yaml:"format"`
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
	teams       []Team
	routes      []route
}

// reporter records a problem at a position in the rules file.
type reporter func(p yamlfile.Path, format string, args ...any)

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
	report := func(p yamlfile.Path, format string, args ...any) {
		errs = append(errs, doc.Errorf(p, format, args...))
	}
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
	r.teams = teamsFrom(&f, doc, report, os.LookupEnv, filepath.Dir(file))
	declared := map[string]bool{}
	for _, t := range r.teams {
		declared[t.Name] = true
	}
	implicit := append([]string{f.DefaultTeam}, teamNames(r.routes)...)
	for _, name := range implicit {
		if name != "" && !declared[name] {
			declared[name] = true
			r.teams = append(r.teams, Team{Name: name, Targets: []Target{{Type: TargetNATS}}})
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

func teamNames(routes []route) []string {
	var out []string
	for _, rt := range routes {
		out = append(out, rt.team)
	}
	return out
}

// Teams returns every team with its delivery targets: the declared ones,
// then those only named by a route or as the default (one NATS target).
func (r *Rules) Teams() []Team { return r.teams }

// DefaultTeam is the team that receives what no route matched.
func (r *Rules) DefaultTeam() string { return r.defaultTeam }

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
