package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/targetspec"
	"github.com/switchboard/switchboard/rules/rulestest"
)

const head = "default_team: triage\nteams:\n  - name: triage\n  - name: billing\n  - name: sales\n"

func TestParseErrorsArePositioned(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // every line of the error, in order
	}{
		{"missing default", "teams: [{name: a}]\nroutes: []\n",
			[]string{"r.yaml:1:1: default_team is required"}},
		{"undeclared default", "default_team: triage\n",
			[]string{`r.yaml:1:15: default team "triage" is not declared under teams:`}},
		{"unknown key", head + "routes:\n  - id: a\n    team: billing\n    keywords: [lasku]\n",
			[]string{`r.yaml:9:5: unknown field "keywords"`}},
		{"syntax", head + "routes: [\n", []string{"r.yaml:"}},
		{"unknown team and copy_to", head + "routes:\n  - id: a\n    team: biling\n    copy_to: [sales, comms]\n    match: {text: {any: [lasku]}}\n",
			[]string{`r.yaml:8:11: unknown team "biling": declare it under teams:`, `r.yaml:9:22: unknown team "comms"`}},
		{"duplicate ids, nested too", head + "routes:\n  - id: a\n    match: {text: {any: [x]}}\n    routes:\n      - id: a\n        match: {text: {any: [y]}}\n",
			[]string{`r.yaml:10:13: duplicate route id "a"`}},
		{"route without id", head + "routes:\n  - team: billing\n", []string{"r.yaml:7:5: route needs an id"}},
		{"invalid regex", head + "routes:\n  - id: a\n    match: {text: {regex: ['lasku(']}}\n",
			[]string{"r.yaml:8:28: invalid regular expression: missing closing ): `lasku(`"}},
		{"regex that cannot match folded text", head + "routes:\n  - id: a\n    match: {text: {regex: ['Lasku\\d+']}}\n",
			[]string{`r.yaml:8:28: regex literal "Lasku" can never match`}},
		{"unknown vocabulary", head + "routes:\n  - id: a\n    match: {text: {any: [$money]}}\n",
			[]string{"r.yaml:8:26: unknown vocabulary $money"}},
		{"bad wildcard terms", head + "routes:\n  - id: a\n    match: {text: {any: [\"la*sku\", \"ab*\", \"*double charged\", \"!!\"]}}\n",
			[]string{`r.yaml:8:26: "la*sku": * may only start or end a word`, `r.yaml:8:36: "ab*": "ab" is too short for a wildcard`,
				`r.yaml:8:43: "*double charged": * works on single words and hyphenated words ("e-lasku*"), not on phrases with spaces`, `r.yaml:8:62: "!!": has no letters, digits or emoji`}},
		{"noise with a team", head + "routes:\n  - id: a\n    noise: true\n    team: billing\n    continue: true\n",
			[]string{`r.yaml:9:11: team does not go with noise: true`, `r.yaml:10:15: continue does not go with noise: true`}},
		{"bad values", head + "routes:\n  - id: a\n    priority: asap\n    match: {kind: tweet, lang: Finnish, thread: old, channel: Facebook}\n",
			[]string{`r.yaml:8:15: priority "asap": use low, normal, high or urgent`, `r.yaml:9:19: kind "tweet"`,
				`r.yaml:9:32: lang "Finnish"`, `r.yaml:9:49: thread "old": use new or reply`, `r.yaml:9:63: channel "Facebook"`}},
		{"vocabularies including each other", head + "vocabularies:\n  a: [x, $c]\n  b: [$a]\n  c: [$b, $nope]\nroutes:\n  - id: r\n    match: {text: {any: [$a]}}\n",
			[]string{"r.yaml:8:7: vocabularies include each other: $a → $c → $b → $a; a vocabulary cannot include itself",
				"r.yaml:9:11: unknown vocabulary $nope"}},
		{"empty or group", head + "routes:\n  - id: a\n    match: {text: {all: [x, []]}}\n",
			[]string{"r.yaml:8:29: an empty group in text.all can never hold"}},
		{"nested group", head + "routes:\n  - id: a\n    match: {text: {all: [x, [y, [z]]]}}\n",
			[]string{"r.yaml:8:"}},
		{"unquoted leading star", head + "routes:\n  - id: a\n    match: {text: {any: [*lasku]}}\n", []string{"r.yaml:8:"}},
		{"shadowed by a catch-all", head + "routes:\n  - id: all\n    team: billing\n  - id: later\n    team: sales\n    match: {text: {any: [x]}}\n",
			[]string{`r.yaml:9:5: route "later" can never match: route "all" (line 7) has no continue: true and matches everything this one would`}},
		{"shadowed by broader words", head + "routes:\n  - id: wide\n    team: billing\n    match: {text: {any: [lasku, refund]}}\n  - id: narrow\n    team: sales\n    match: {channel: email, text: {any: [refund]}}\n",
			[]string{`r.yaml:10:5: route "narrow" can never match: route "wide" (line 7)`}},
		{"shadowed by noise", head + "routes:\n  - id: spam\n    noise: true\n    match: {text: {any: [bitcoin]}}\n  - id: crypto\n    team: sales\n    match: {text: {all: [bitcoin, price]}}\n",
			[]string{`r.yaml:10:5: route "crypto" can never match: route "spam" (line 7) is noise`}},
		{"shadowed child", head + "routes:\n  - id: p\n    team: billing\n    match: {text: {any: [lasku]}}\n    routes:\n      - id: c1\n        match: {channel: [email, web]}\n      - id: c2\n        match: {channel: email, lang: fi}\n",
			[]string{`r.yaml:13:9: route "c2" can never match: route "c1" (line 11)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tt.yaml))
			rulestest.WantProblems(t, err, tt.want)
		})
	}
}

func TestLintAcceptsReachableRoutes(t *testing.T) {
	for _, routes := range []string{
		// continue: the earlier route lets later ones be tried.
		"  - id: a\n    team: billing\n    continue: true\n  - id: b\n    team: sales\n    match: {text: {any: [x]}}\n",
		// The earlier route is narrower.
		"  - id: a\n    team: billing\n    match: {text: {any: [lasku]}}\n  - id: b\n    team: sales\n    match: {text: {any: [lasku, refund]}}\n",
		// Different channels.
		"  - id: a\n    team: billing\n    match: {channel: email}\n  - id: b\n    team: sales\n    match: {channel: x}\n",
		// A stemmed word does not shadow its exact form's route... and vice versa.
		"  - id: a\n    team: billing\n    match: {text: {any: [\"=lasku\"]}}\n  - id: b\n    team: sales\n    match: {text: {any: [lasku]}}\n",
		// all: the later route needs fewer words.
		"  - id: a\n    team: billing\n    match: {text: {all: [lasku, refund]}}\n  - id: b\n    team: sales\n    match: {text: {all: [lasku]}}\n",
		// Siblings in different scopes do not shadow each other.
		"  - id: a\n    team: billing\n    match: {text: {any: [x]}}\n    routes:\n      - id: a1\n  - id: b\n    team: sales\n    match: {text: {any: [y]}}\n    routes:\n      - id: b1\n",
	} {
		if _, err := Parse("r.yaml", []byte(head+"routes:\n"+routes)); err != nil {
			t.Errorf("%s: %v", routes, err)
		}
	}
}

func TestWarnings(t *testing.T) {
	r, err := Parse("r.yaml", []byte(head+`vocabularies:
  unused: [x]
routes:
  - id: a
    team: billing
    match: {text: {any: [lasku]}}
  - id: useless
    continue: true
    match: {text: {any: [y]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.Warnings(), "\n")
	for _, want := range []string{
		`r.yaml:5:11: warning: team "sales" is declared but no route sends it anything`,
		`r.yaml:7:11: warning: vocabulary "unused" is not used by any route`,
		`r.yaml:12:5: warning: route "useless" has continue: true but sets no team`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
}

func TestCutShortWarnings(t *testing.T) {
	r, err := Parse("r.yaml", []byte(head+"routes:"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.Warnings(), "\n")
	for _, want := range []string{
		`r.yaml:6:9: warning: the file has no routes: every item that is not noise goes to default_team "triage"; is the file cut short?`,
		`r.yaml:6:1: warning: the file does not end with a line break; is it cut short?`,
		`r.yaml:4:11: warning: team "billing" is declared but no route sends it anything`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
}

func TestStemWarnings(t *testing.T) {
	r, err := Parse("r.yaml", []byte(head+`routes:
  - id: a
    team: billing
    match: {text: {any: [charge, refund, =package, ship, shipping, "*terminate"]}}
  - id: b
    team: sales
    match: {text: {any: [report, university]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.Warnings(), "\n")
	for _, want := range []string{
		`r.yaml:9:26: warning: "charge" is matched by its stem "charg", which also catches "charging", usually about something else: write =charge and each other form you mean, or add "charging" to text.none`,
		`r.yaml:12:34: warning: "university" is matched by its stem "univers", which also catches "universe"`,
		`r.yaml:12:26: warning: "report" is matched by its stem "report", which also catches "reporter", "reporters"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	for _, not := range []string{`"refund"`, `"=package"`, `"ship"`, `terminate`} {
		if strings.Contains(got, not) {
			t.Errorf("warning about %s (exact, listed with its friend, or not a stem match):\n%s", not, got)
		}
	}
}

func TestWarningsAreCapped(t *testing.T) {
	src := head + "vocabularies:\n"
	for i := range 300 {
		src += fmt.Sprintf("  unused%d: [x]\n", i)
	}
	src += "routes: [{id: a, team: billing, match: {text: {any: [lasku]}}}]\n"
	r, err := Parse("r.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if w := r.Warnings(); len(w) != 101 || !strings.Contains(w[100], "more like these") {
		t.Fatalf("%d warnings, last %q", len(w), w[len(w)-1])
	}
}

func TestVersionIsContentHash(t *testing.T) {
	a, err := Parse("r.yaml", []byte(head+"routes: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Parse("other.yaml", []byte(head+"routes: []\n"))
	c, _ := Parse("r.yaml", []byte(head+"routes: []\n# a comment changes the version\n"))
	if len(a.Version()) != 12 || a.Version() != b.Version() || a.Version() == c.Version() {
		t.Fatalf("versions %s %s %s", a.Version(), b.Version(), c.Version())
	}
	if d := a.Classify(env("x")); d.Version != a.Version() || d.Teams[0] != "triage" {
		t.Fatalf("decision %+v", d)
	}
}

func TestShippedRulesAreValid(t *testing.T) {
	r, err := Load(filepath.Join("..", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"triage": true, "billing": true, "logistics": true, "product": true, "sales": true, "privacy": true, "comms": true}
	for _, tm := range r.Teams() {
		delete(want, tm.Name)
	}
	if len(want) > 0 || r.DefaultTeam() != "triage" {
		t.Fatalf("shipped rules lack teams %v (default %q)", want, r.DefaultTeam())
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "reading rules") || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("err %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestTeams(t *testing.T) {
	t.Setenv("HOOK_SECRET", "s3cret")
	r, err := Parse("r.yaml", []byte(`default_team: triage
teams:
  - name: triage
  - name: billing
    description: invoices
    targets:
      - type: redis
        maxlen: 1000
      - type: webhook
        url: https://hooks.example.com/billing
        secret: ${HOOK_SECRET}
        format: slack
routes:
  - id: billing
    team: billing
    match: {text: {any: [lasku]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]targetspec.Spec{}
	for _, tm := range r.Teams() {
		got[tm.Name] = tm.Targets
	}
	b := got["billing"]
	if len(got) != 2 || len(b) != 2 || b[0].Type != targetspec.Redis || b[0].Stream != "switchboard:team:billing" || b[0].MaxLen != 1000 ||
		b[1].Format != targetspec.FormatSlack || b[1].Secret.Reveal() != "s3cret" || b[1].Timeout != 0 {
		t.Fatalf("teams %+v", got)
	}
	if ts := got["triage"]; len(ts) != 1 || ts[0].Type != targetspec.NATS {
		t.Errorf("team without targets: %+v", ts)
	}
	if s := b[1].String(); strings.Contains(s, "/billing") {
		t.Errorf("target description leaks the url path: %s", s)
	}

	_, err = Parse("r.yaml", []byte("default_team: x\nteams:\n  - name: x\n    targets:\n      - type: webhook\n        url: http://example.com/h\n"))
	if err == nil || !strings.Contains(err.Error(), "r.yaml:6:14: url must use https") {
		t.Fatalf("plain http webhook: %v", err)
	}
	// A bad target does not also make the routes naming its team errors.
	_, err = Parse("r.yaml", []byte("default_team: x\nteams:\n  - name: x\n    targets: [{type: carrier-pigeon}]\nroutes:\n  - id: r\n    team: x\n"))
	if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), `r.yaml:4:22: target type "carrier-pigeon"`) {
		t.Fatalf("bad target: %v", err)
	}
}

func TestSecretsStayOutOfErrors(t *testing.T) {
	t.Setenv("HOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXXSECRET")
	_, err := Parse("r.yaml", []byte("default_team: x\nteams:\n  - name: x\n    targets:\n      - type: webhook\n        url: ${HOOK_URL}\n        secret: hunter2\n        format: teams\n"))
	if err == nil || strings.Contains(err.Error(), "XXXXSECRET") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v", err)
	}
}

func TestLintDoesNotGuessAboutTags(t *testing.T) {
	// "later" matches items tagged by "tagger", which runs after "first":
	// "first" does not shadow it, although its conditions are the same.
	r, err := Parse("r.yaml", []byte(head+`routes:
  - id: first
    team: billing
    match: {tags: [vip]}
  - id: tagger
    tags: [vip]
    continue: true
  - id: later
    team: sales
    match: {tags: [vip]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Classify(env("x")); strings.Join(d.Matched, ",") != "tagger,later" || d.Teams[0] != "sales" {
		t.Fatalf("decision %+v", d)
	}
}

func TestRegisterSecrets(t *testing.T) {
	t.Setenv("HOOK_URL", "https://hooks.slack.com/services/T000/B000/XXXXSECRET")
	r, err := Parse("r.yaml", []byte("default_team: x\nteams:\n  - name: x\n    targets:\n      - type: webhook\n        url: ${HOOK_URL}\n        secret: hunter2\n      - type: nats\n"))
	if err != nil {
		t.Fatal(err)
	}
	red := secret.NewRedactor()
	r.RegisterSecrets(red)
	got := red.Scrub("posting to https://hooks.slack.com/services/T000/B000/XXXXSECRET signed with hunter2")
	if strings.Contains(got, "XXXXSECRET") || strings.Contains(got, "hunter2") {
		t.Fatalf("Scrub = %q", got)
	}
}
