package rules

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/yamlfile"
	"github.com/switchboard/switchboard/rules/exampleset"
)

// modelExamples are a few examples per team, enough for a small model to
// tell the teams apart by their words.
const modelExamples = `examples:
  - {team: billing, text: "Laskussa on virhe, veloititte kahdesti"}
  - {team: billing, text: "Lasku tuli väärällä summalla"}
  - {team: billing, text: "Where is my refund, the invoice was wrong"}
  - {team: billing, text: "Hyvitys ei ole tullut tililleni"}
  - {team: billing, text: "Laskun eräpäivä meni jo, voiko maksua siirtää"}
  - {team: logistics, text: "Paketti ei ole tullut perille"}
  - {team: logistics, text: "Missä lähetykseni on, seuranta ei päivity"}
  - {team: logistics, text: "My parcel never arrived"}
  - {team: logistics, text: "Toimitus myöhässä jo viikon"}
  - {team: logistics, text: "Noutopisteessä ei ollut pakettia"}
  - {team: triage, text: "Kiitos hyvästä palvelusta"}
  - {team: triage, text: "Mihin aikaan olette auki"}
  - {team: triage, text: "Thanks, have a nice day"}
  - {noise: true, text: "Klikkaa tästä ja voita iPhone"}
  - {noise: true, text: "Osallistun arvontaan"}
  - {noise: true, text: "Earn money fast click here"}
  - {team: logistics, text: "sama juttu", id: r1, reply_to: p1}
  - {team: logistics, text: "Paketti on kadonnut", id: p1}
`

// modelRules writes rules (with default_team, teams and examples: filled
// in) and the examples next to them, and loads them.
func modelRules(t testing.TB, body string) *Rules {
	t.Helper()
	r, err := loadModelRules(t, body, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func loadModelRules(t testing.TB, body string, o LoadOptions) (*Rules, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "examples.yaml"), []byte(modelExamples), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "default_team: triage\nexamples: examples.yaml\nteams: [{name: triage}, {name: billing}, {name: logistics}, {name: sales}]\n" + body
	path := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return LoadWith(path, o)
}

func TestModelTrainedAtLoad(t *testing.T) {
	r := modelRules(t, "classifier: {min_confidence: 0.4}\nroutes:\n  - {id: sales, team: sales, match: {text: {any: [tarjous]}}}\n")
	st := r.ModelStats()
	if !r.HasModel() || st.Examples != 17 || st.Replies != 1 || st.Corrections != 0 {
		t.Fatalf("stats %+v", st)
	}
	if want := []string{"triage", "billing", "logistics", NoiseLabel}; !slices.Equal(st.Labels, want) {
		t.Errorf("labels %v, want %v (teams in file order, then noise; sales has no examples)", st.Labels, want)
	}
	if v := r.ModelVersion(); len(v) != 12 {
		t.Errorf("model version %q", v)
	}
	// Deterministic: the same rules and examples give the same model.
	again := modelRules(t, "classifier: {min_confidence: 0.4}\nroutes:\n  - {id: sales, team: sales, match: {text: {any: [tarjous]}}}\n")
	if again.ModelVersion() != r.ModelVersion() {
		t.Errorf("model versions differ: %s, %s", again.ModelVersion(), r.ModelVersion())
	}
	e := env("Laskussani on virhe, summa on väärä")
	if a, b := r.Classify(e).Model, again.Classify(e).Model; a != b {
		t.Errorf("the same training gave different scores: %v, %v", a, b)
	}
}

func TestModelFallback(t *testing.T) {
	routes := "routes:\n  - {id: sales, team: sales, match: {text: {any: [tarjous]}}}\n  - {id: vip, match: {text: {any: [vip]}}, copy_to: [sales], continue: true}\n"
	tests := []struct {
		name, classifier, text string
		teams                  []string
		modelDecided           bool
		fallback               string // a part of the trace's Fallback
	}{
		{"a route decides", "{min_confidence: 0.3}", "Onko tarjous voimassa", []string{"sales"}, false, "a route named the team"},
		{"the model decides", "{min_confidence: 0.3}", "Laskussani on virhe ja summa väärin", []string{"billing"}, true, "the model chose billing"},
		{"with a tagging route's copy", "{min_confidence: 0.3}", "VIP: laskussani on virhe ja summa väärin", []string{"billing", "sales"}, true, "the model chose billing"},
		{"below min_confidence", "{min_confidence: 0.99}", "Laskussani on virhe ja summa väärin", []string{"triage"}, false, "below min_confidence"},
		{"a team it may not choose", "{min_confidence: 0.3, teams: [logistics]}", "Laskussani on virhe ja summa väärin", []string{"triage"}, false, "not one the classifier may choose"},
		{"the default team stays undecided", "{min_confidence: 0.3}", "Kiitos hyvästä palvelusta, olette auki", []string{"triage"}, false, "default team"},
		{"noise is never chosen", "{min_confidence: 0.3}", "Klikkaa tästä, voita iPhone, earn money", []string{"triage"}, false, "never discards"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := modelRules(t, "classifier: "+tt.classifier+"\n"+routes)
			e := env(tt.text)
			d := r.Classify(e)
			x, tr := r.Explain(e)
			if !slices.Equal(d.Teams, tt.teams) || d.ModelDecided != tt.modelDecided {
				t.Fatalf("decision %+v, want teams %v, model decided %v", d, tt.teams, tt.modelDecided)
			}
			if d.ModelDecided && (!d.Decided || d.Route != "") {
				t.Errorf("a model decision must be Decided, without a route: %+v", d)
			}
			if d.Model.Len() != 3 || d.Model[0].P < d.Model[1].P || d.Model[1].P < d.Model[2].P {
				t.Errorf("top three %v", d.Model)
			}
			if !slices.Equal(x.Teams, d.Teams) || x.ModelDecided != d.ModelDecided || x.Model != d.Model {
				t.Errorf("Explain %+v, Classify %+v", x, d)
			}
			if tr.Model != d.Model || !strings.Contains(tr.Fallback, tt.fallback) {
				t.Errorf("trace model %v, fallback %q: want it to say %q", tr.Model, tr.Fallback, tt.fallback)
			}
		})
	}
}

func TestModelConditions(t *testing.T) {
	r := modelRules(t, `classifier: {min_confidence: 0.3}
routes:
  - id: spam
    match: {model: {min: 0.5}}
    noise: true
  - id: billing-sure
    team: billing
    match: {model: {min: 0.5}}
    topics: [sure]
  - id: logistics
    team: logistics
    match: {text: {any: [paketti]}}
  - id: topics
    mode: best
    routes:
      - {id: b, team: billing, match: {text: {any: [maksu]}}}
      - {id: l, team: logistics, match: {text: {any: [maksu]}}}
`)
	tests := []struct {
		text  string
		noise bool
		route string
	}{
		{"Klikkaa tästä ja voita iPhone, earn money fast", true, "spam"},
		{"Laskussa on virhe, veloititte kahdesti ja hyvitys puuttuu", false, "billing-sure"},
		{"Paketti", false, "logistics"},
		// Both best children match the same word; the model breaks the
		// tie toward logistics, whose words these are.
		{"maksu: seuranta ei päivity, toimitus myöhässä, noutopisteessä ei ollut", false, "l"},
	}
	for _, tt := range tests {
		d := r.Classify(env(tt.text))
		x, tr := r.Explain(env(tt.text))
		if d.Noise != tt.noise || d.Route != tt.route {
			t.Errorf("%q: %+v (model %v), want route %s", tt.text, d, d.Model, tt.route)
		}
		if x.Route != d.Route || x.Noise != d.Noise {
			t.Errorf("%q: Explain %+v, Classify %+v", tt.text, x, d)
		}
		found := false
		for _, rt := range tr.Routes {
			for _, c := range rt.Conditions {
				if c.Cond == "model" && rt.ID == "spam" {
					found = strings.Contains(c.Detail, NoiseLabel)
				}
			}
		}
		if !found {
			t.Errorf("%q: the trace does not show the spam route's model condition: %+v", tt.text, tr.Routes[0])
		}
	}
	// Without a model (NoModel) a model condition never holds.
	if d := r.ClassifyWith(env("Laskussa on virhe, veloititte kahdesti ja hyvitys puuttuu"), NoModel); d.Route != "" || d.ModelDecided || d.Model.Len() != 0 {
		t.Errorf("NoModel: %+v", d)
	}
}

func TestModelProblems(t *testing.T) {
	tests := []struct {
		name, body string
		want       string
	}{
		{"model condition without a classifier", "routes:\n  - {id: a, team: billing, match: {model: {min: 0.5}}}\n",
			"a model condition needs the trained model"},
		{"min out of range", "classifier: {}\nroutes:\n  - {id: a, team: billing, match: {model: {min: 1.5}}}\n", "min 1.5"},
		{"team and noise", "classifier: {}\nroutes:\n  - {id: a, team: billing, match: {model: {team: billing, noise: true}}}\n", "not both"},
		{"no team to ask for", "classifier: {}\nroutes:\n  - {id: a, match: {model: {min: 0.5}}, tags: [x], continue: true}\n", "names no team"},
		{"unknown team", "classifier: {}\nroutes:\n  - {id: a, team: billing, match: {model: {team: biling}}}\n", `unknown team "biling"`},
		{"a team without examples", "classifier: {}\nroutes:\n  - {id: a, team: sales, match: {model: {min: 0.5}}}\n", "no examples of team sales"},
		{"min_confidence out of range", "classifier: {min_confidence: 0}\nroutes: []\n", "min_confidence 0"},
		{"unknown classifier team", "classifier: {teams: [biling]}\nroutes: []\n", `unknown team "biling"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadModelRules(t, tt.body, LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to say %q", err, tt.want)
			}
			var list yamlfile.List
			if !errors.As(err, &list) || list[0].Line == 0 {
				t.Errorf("error without a position: %v", err)
			}
		})
	}
	// A classifier without examples: is an error at classifier:.
	if _, err := Parse("rules.yaml", []byte("default_team: t\nteams: [{name: t}]\nclassifier: {}\n")); err == nil || !strings.Contains(err.Error(), "name the file under examples:") {
		t.Errorf("classifier without examples: %v", err)
	}
	// An examples file that does not load fails the rules, with the
	// examples file's own positions.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "examples.yaml"), []byte("examples:\n  - {team: biling, text: x}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte("default_team: t\nexamples: examples.yaml\nteams: [{name: t}]\nclassifier: {}\n"), 0o644)
	if _, err := Load(filepath.Join(dir, "rules.yaml")); err == nil || !strings.Contains(err.Error(), "examples.yaml:2:") {
		t.Errorf("bad examples: %v", err)
	}
	// Examples of one label only cannot train a model.
	os.WriteFile(filepath.Join(dir, "examples.yaml"), []byte("examples:\n  - {team: t, text: x}\n"), 0o644)
	if _, err := Load(filepath.Join(dir, "rules.yaml")); err == nil || !strings.Contains(err.Error(), "at least two teams") {
		t.Errorf("one label: %v", err)
	}
}

func TestModelConditionLint(t *testing.T) {
	// A route with a model condition matches less: it shadows nothing
	// after it, and the same route without one shadows it.
	if _, err := loadModelRules(t, "classifier: {}\nroutes:\n  - {id: a, team: billing, match: {text: {any: [lasku]}, model: {min: 0.5}}}\n  - {id: b, team: billing, match: {text: {any: [lasku]}}}\n", LoadOptions{}); err != nil {
		t.Errorf("a model condition does not shadow the route after it: %v", err)
	}
	_, err := loadModelRules(t, "classifier: {}\nroutes:\n  - {id: a, team: billing, match: {text: {any: [lasku]}}}\n  - {id: b, team: billing, match: {text: {any: [lasku]}, model: {min: 0.5}}}\n", LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), `route "b" can never match`) {
		t.Errorf("want b shadowed by a: %v", err)
	}
}

func TestCorrectionsJoinTraining(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	corrections := []Correction{
		{ID: "web:1", Team: "sales", Text: "Zyxwv kvartsi-imuri kiinnostaa", At: now},
		{ID: "web:1", Team: "logistics", Text: "Zyxwv kvartsi-imuri kiinnostaa", At: now.Add(-time.Hour)}, // older: replaced
		{ID: "web:2", Team: "removed-team", Text: "x", At: now},
	}
	for _, learn := range []bool{false, true} {
		body := "classifier: {min_confidence: 0.3, learn_from_corrections: " + map[bool]string{false: "false", true: "true"}[learn] + "}\nroutes: []\n"
		r, err := loadModelRules(t, body, LoadOptions{Corrections: corrections})
		if err != nil {
			t.Fatal(err)
		}
		st := r.ModelStats()
		want := 0
		if learn {
			want = 1
		}
		if st.Corrections != want || r.LearnsFromCorrections() != learn {
			t.Errorf("learn %v: %d corrections in training (stats %+v), want %d", learn, st.Corrections, st, want)
		}
		if learn && (st.Skipped != 1 || !slices.Contains(st.Labels, "sales")) {
			t.Errorf("learn: stats %+v: want the correction to a removed team skipped, sales learned", st)
		}
		top := r.Classify(env("Zyxwv kvartsi-imuri kiinnostaa")).Model[0].Team
		if learn != (top == "sales") {
			t.Errorf("learn %v: the corrected text's top team is %s", learn, top)
		}
	}
}

func TestNewestCorrections(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var cs []Correction
	for i := range MaxCorrections + 10 {
		cs = append(cs, Correction{ID: "web:" + string(rune('a'+i%26)) + time.Duration(i).String(), Team: "billing", At: t0.Add(time.Duration(i) * time.Second)})
	}
	slices.Reverse(cs)
	got := newestCorrections(cs)
	if len(got) != MaxCorrections || !got[0].At.Equal(t0.Add(10*time.Second)) || !got[len(got)-1].At.Equal(t0.Add(time.Duration(MaxCorrections+9)*time.Second)) {
		t.Errorf("%d corrections from %v to %v", len(got), got[0].At, got[len(got)-1].At)
	}
}

func TestDecisionModelJSON(t *testing.T) {
	d := Decision{Teams: []string{"billing"}, Model: ModelTop{{"billing", 0.75}, {"sales", 0.2}}}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"model":[{"team":"billing","p":0.75},{"team":"sales","p":0.2}]`) {
		t.Errorf("JSON %s", data)
	}
	var back Decision
	if err := json.Unmarshal(data, &back); err != nil || back.Model != d.Model {
		t.Errorf("round trip %+v, %v", back.Model, err)
	}
	if data, _ := json.Marshal(Decision{}); strings.Contains(string(data), "model") {
		t.Errorf("no model: %s", data)
	}
}

func TestMaxMatchBytesIsTheExamplesTextLimit(t *testing.T) {
	if MaxMatchBytes != exampleset.MaxTextBytes {
		t.Errorf("rules match %d bytes of an item, examples allow %d", MaxMatchBytes, exampleset.MaxTextBytes)
	}
}

func TestModelClassifyDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; allocation counts mean nothing")
	}
	r := modelRules(t, "classifier: {min_confidence: 0.3}\nroutes:\n  - {id: sales, team: sales, match: {text: {any: [tarjous]}, model: {team: billing, min: 0.01}}}\n")
	for _, text := range []string{"Laskussani on virhe ja summa väärin", "Kiitos", "Onko tarjous voimassa"} {
		e := &message.Envelope{Text: text, Channel: "web", Kind: message.KindWeb}
		r.Classify(e)
		if n := testing.AllocsPerRun(200, func() { r.Classify(e) }); n != 0 {
			t.Errorf("Classify(%q) with a model allocates %.1f times per item", text, n)
		}
	}
}
