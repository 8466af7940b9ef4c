package rules

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/message"
)

// FuzzParse: no rules file, however broken, makes Parse panic; whatever
// parses also classifies without panicking, Classify and Explain agreeing.
func FuzzParse(f *testing.F) {
	shipped, err := os.ReadFile("../rules.yaml")
	if err != nil {
		f.Fatal(err)
	}
	// Without its classifier: here the examples file would not be found
	// (and training every input would be slow); the seeds below have the
	// model's syntax.
	f.Add(withoutClassifier(f, string(shipped)))
	for _, seed := range []string{
		"",
		"default_team: t\nteams: [{name: t}]\n",
		head + "routes:\n  - id: a\n    team: billing\n    match: {text: {any: [lasku, \"*lasku\", \"lasku*\", \"=x\"], regex: ['\\d+']}}\n",
		head + "vocabularies: {v: [a b c]}\nroutes:\n  - id: a\n    match: {text: {all: [$v, $v]}}\n    routes: [{id: b, noise: true}]\n",
		"default_team: [\n",
		"routes: {a: b}\n",
		head + "routes:\n  - id: a\n    match: {author: {email: ['*']}, metadata: {k: []}}\n",
		head + "vocabularies: {a: [x, $b], b: [y, \"e-lasku*\"]}\nroutes:\n  - id: p\n    mode: best\n    routes:\n      - {id: a, team: billing, match: {text: {all: [[$a, myöhässä], z]}}}\n      - {id: b, team: sales, match: {text: {any: [$b, =sää]}}}\n",
		head + "examples: ex.yaml\nroutes: [{id: a, team: billing, mode: first}]",
		head + "routes:\n  - &a {id: x}\n  - *a\n",
		head + "examples: ex.yaml\nclassifier: {min_confidence: 0.4, teams: [billing], learn_from_corrections: true}\nroutes:\n  - {id: a, team: billing, match: {model: {min: 0.8}}}\n  - {id: n, match: {model: {noise: true}}, noise: true}\n",
		head + "routes:\n  - {id: a, team: billing, match: {model: {team: sales, noise: true, min: 2}}}\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		r, err := Parse("f.yaml", []byte(data))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, text := range []string{"lasku laskussani refund", "", "😡 ÄÖ"} {
			e := &message.Envelope{Channel: "web", Text: text}
			d := r.Classify(e)
			x, _ := r.Explain(e)
			if fmt.Sprint(normalized(d)) != fmt.Sprint(normalized(x)) {
				t.Fatalf("Classify %+v, Explain %+v", d, x)
			}
			if !d.Noise && len(d.Teams) == 0 {
				t.Fatalf("no team and not noise: %+v", d)
			}
		}
	})
}

// FuzzClassify: odd text (invalid UTF-8, control bytes, huge words, every
// script) never panics, always reaches a team or is noise, and the automaton
// agrees with the straightforward evaluation.
func FuzzClassify(f *testing.F) {
	r, err := Load("../rules.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ subject, text, lang string }{
		{"", "Laskussani on virhe", ""},
		{"Re: lasku", "I was charged twice 😡😡", "en-GB"},
		{"", "\xff\xfe\x00\x1c\x1d\x1e\x1f lasku", ""},
		{"", strings.Repeat("ä", 5000), "fi"},
		{"ｇｄｐｒ", "İstanbul ﬁnance №5 straße", "xx-invalid"},
		{"", "t.me/scam bitcoin click here", ""},
	} {
		f.Add(seed.subject, seed.text, seed.lang)
	}
	f.Fuzz(func(t *testing.T, subject, text, lang string) {
		for _, ch := range []string{"facebook", "email"} {
			e := &message.Envelope{Channel: ch, Kind: message.KindComment, Subject: subject, Text: text, Lang: lang}
			d := r.Classify(e)
			x, _ := r.Explain(e)
			if fmt.Sprint(normalized(d)) != fmt.Sprint(normalized(x)) {
				t.Fatalf("Classify %+v, Explain %+v", d, x)
			}
			if !d.Noise && len(d.Teams) == 0 || d.Lang == "" {
				t.Fatalf("decision %+v", d)
			}
		}
	})
}
