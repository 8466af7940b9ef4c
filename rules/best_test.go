package rules

import (
	"slices"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/benchtext"
	"github.com/switchboard/switchboard/internal/message"
)

// bestRules is the shape mode: best is for: topics as children of one
// parent, tie-break order billing first.
func bestRules(t testing.TB, mode string) *Rules {
	t.Helper()
	return mustParse(t, `vocabularies:
  payment: [maksoin, maksu, mobilepay, lasku]
  delivery: [paketti, toimitus]
  delay: [ei ole tullut, myöhässä]
routes:
  - id: spam
    match: {text: {any: [bitcoin]}}
    noise: true
  - id: topics
    mode: `+mode+`
    routes:
      - id: billing
        team: billing
        match: {text: {any: [$payment]}}
      - id: logistics
        team: logistics
        match: {text: {any: [$delivery]}}
        routes:
          - id: logistics-delay
            match: {text: {any: [$delay]}}
            priority: high
      - id: junk
        match: {text: {any: [arvonta]}}
        noise: true
`)
}

func TestModeBest(t *testing.T) {
	first, best := bestRules(t, "first"), bestRules(t, "best")
	tests := []struct {
		name, subject, text string
		first, best         []string // matched routes
	}{
		{"the main ask wins over file order", "", "maksoin MobilePaylla mutta paketti ei ole tullut",
			[]string{"topics", "billing"}, []string{"topics", "logistics", "logistics-delay"}},
		{"a tie goes to file order", "", "lasku ja paketti",
			[]string{"topics", "billing"}, []string{"topics", "billing"}},
		{"more distinct words win", "", "paketti ja toimitus, lasku",
			[]string{"topics", "billing"}, []string{"topics", "logistics"}},
		{"the same word twice counts once", "", "paketti paketti paketti, lasku maksu",
			[]string{"topics", "billing"}, []string{"topics", "billing"}},
		{"words in the subject count twice", "Lasku", "paketti ja toimitus",
			[]string{"topics", "billing"}, []string{"topics", "billing"}},
		{"a noise child wins outright", "", "paketti ei ole tullut, arvonta",
			[]string{"topics", "logistics", "logistics-delay"}, []string{"topics", "junk"}},
		{"no child: the parent decides", "", "hei", []string{"topics"}, []string{"topics"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &message.Envelope{Channel: "email", Kind: message.KindEmail, Lang: "fi", Subject: tt.subject, Text: tt.text}
			for _, c := range []struct {
				r    *Rules
				want []string
			}{{first, tt.first}, {best, tt.best}} {
				d := c.r.Classify(e)
				x, _ := c.r.Explain(e)
				if !slices.Equal(d.Matched, c.want) || !slices.Equal(x.Matched, c.want) {
					t.Errorf("matched %v (Explain %v), want %v", d.Matched, x.Matched, c.want)
				}
			}
		})
	}
}

func TestModeBestDecidedAndModel(t *testing.T) {
	r := bestRules(t, "best")
	e := &message.Envelope{Channel: "web", Lang: "fi", Text: "hei"}
	if d := r.Classify(e); d.Decided || d.Route != "" || d.Teams[0] != "triage" {
		t.Fatalf("no child matched, the parent names no team: %+v", d)
	}
	// Words alone: logistics 1 + 3 (the phrase in its child) beats billing
	// 1. A model sure of billing adds ModelWeight: 4 against 4, and file
	// order breaks the tie.
	e = &message.Envelope{Channel: "web", Lang: "fi", Text: "maksoin, paketti ei ole tullut"}
	if d := r.Classify(e); d.Route != "logistics-delay" || !d.Decided {
		t.Fatalf("without a model: %+v", d)
	}
	m := fixedModel{"billing": 1, "logistics": 0}
	d := r.ClassifyWith(e, m)
	x, tr := r.ExplainWith(e, m)
	if d.Route != "billing" || x.Route != "billing" {
		t.Fatalf("with a model sure of billing: %+v / %+v", d, x)
	}
	var scores []string
	for _, rt := range tr.Routes {
		if rt.Score != 0 || rt.Outscored != "" {
			scores = append(scores, rt.ID+":"+strings.TrimSpace(strings.Split(rt.Outscored, "(")[0]))
		}
	}
	if want := []string{"billing:", `logistics:route "billing" scored higher`}; !slices.Equal(scores, want) {
		t.Fatalf("trace scores %q, want %q", scores, want)
	}
	if tr.Routes[2].Score != 1+ModelWeight || tr.Routes[3].Score != 4 {
		t.Fatalf("scores %v and %v, want %v and 4", tr.Routes[2].Score, tr.Routes[3].Score, 1+ModelWeight)
	}
}

func TestModeBestErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"continue under best", head + "routes:\n  - id: p\n    mode: best\n    routes:\n      - id: a\n        team: billing\n        continue: true\n",
			`r.yaml:12:19: continue does not go with a parent that has mode: best`},
		{"unknown mode", head + "routes:\n  - id: p\n    mode: fastest\n    routes: [{id: a, team: billing}]\n",
			`r.yaml:8:11: mode "fastest": use first`},
		{"noise with mode", head + "routes:\n  - id: p\n    noise: true\n    mode: best\n",
			`r.yaml:9:11: mode does not go with noise: true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(tt.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	r, err := Parse("r.yaml", []byte(head+"routes:\n  - id: p\n    team: billing\n    mode: best\n"))
	if err != nil || !strings.Contains(strings.Join(r.Warnings(), "\n"), "mode: best on route \"p\" has no effect") {
		t.Fatalf("mode: best without children: %v %v", err, r.Warnings())
	}
}

func TestModeBestDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; allocation counts mean nothing")
	}
	r := bestRules(t, "best")
	m := fixedModel{"billing": 0.5}
	for _, text := range []string{"maksoin MobilePaylla mutta paketti ei ole tullut", "lasku ja paketti", "hei"} {
		e := &message.Envelope{Channel: "email", Subject: "Re: tilaus", Text: text}
		r.ClassifyWith(e, m)
		if n := testing.AllocsPerRun(200, func() { r.ClassifyWith(e, m) }); n != 0 {
			t.Errorf("ClassifyWith(%q) allocates %.1f times per item", text, n)
		}
	}
}

func BenchmarkModeBest(b *testing.B) {
	for _, mode := range []string{"first", "best"} {
		r := bestRules(b, mode)
		e := &message.Envelope{Channel: "email", Subject: "Re: tilaus", Text: benchtext.Text300 + " maksoin MobilePaylla"}
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Classify(e)
			}
		})
	}
}
