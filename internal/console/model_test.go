package console

import (
	"bytes"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/rules"
)

// TestPlaygroundShowsTheModel renders the rules page's playground result
// for a decision the model made.
func TestPlaygroundShowsTheModel(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	d := rules.Decision{Teams: []string{"logistics"}, Decided: true, ModelDecided: true, Priority: "normal",
		Model: rules.ModelTop{{Team: "logistics", P: 0.54}, {Team: "billing", P: 0.27}, {Team: "triage", P: 0.04}}}
	tr := rules.Trace{Model: d.Model, Fallback: "no route named a team: the model chose logistics (0.54 ≥ min_confidence 0.4)"}
	var buf bytes.Buffer
	if err := p.byName["rules"].ExecuteTemplate(&buf, "layout.html", view{Data: rulesData{Decision: &d, Trace: &tr}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"logistics 0.54, billing 0.27, triage 0.04 <strong>decided</strong>", "the model chose logistics (0.54 ≥ min_confidence 0.4)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
