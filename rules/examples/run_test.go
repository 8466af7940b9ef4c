package examples

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

const testRules = `default_team: triage
teams: [{name: triage}, {name: billing}, {name: logistics}]
routes:
  - id: spam
    match: {text: {any: [bitcoin]}}
    noise: true
  - id: billing
    team: billing
    match: {text: {any: [lasku, maksoin]}}
  - id: logistics
    team: logistics
    match: {text: {any: [paketti]}}
`

func mustRules(t *testing.T, src string) *rules.Rules {
	t.Helper()
	r, err := rules.Parse("rules.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustSet(t *testing.T, r *rules.Rules, src string) *Set {
	t.Helper()
	set, err := Parse("ex.yaml", []byte(src), Teams(r))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

const testExamples = `examples:
  - {team: billing, text: "Laskussa on virhe"}
  - {team: logistics, text: "maksoin mutta paketti ei tullut"}
  - {team: logistics, text: "Paketti on hukassa", id: p1, channel: facebook}
  - {team: logistics, text: "sama juttu", reply_to: p1, channel: facebook, kind: reply}
  - {team: billing, text: "ja lasku myös", reply_to: p1, channel: facebook, kind: reply}
  - {noise: true, text: "bitcoin!!"}
  - {team: triage, text: "kiitos", reply_to: s1}
  - {noise: true, text: "bitcoin", id: s1}
  - {team: billing, text: "hei"}
`

func TestRunReport(t *testing.T) {
	r := mustRules(t, testRules)
	rep := Run(r, mustSet(t, r, testExamples), nil)
	if rep.Total != 9 || rep.Passed != 7 || rep.Failed != 2 {
		t.Fatalf("total %d passed %d failed %d", rep.Total, rep.Passed, rep.Failed)
	}
	if want := []string{"triage", "billing", "logistics", NoiseLabel}; !slices.Equal(rep.Confusion.Labels, want) {
		t.Fatalf("labels %v", rep.Confusion.Labels)
	}
	// Rows expected, columns got: triage, billing, logistics, noise.
	want := [][]int{
		{1, 0, 0, 0},
		{1, 2, 0, 0}, // "hei" went to triage
		{0, 1, 2, 0}, // the main ask lost to file order
		{0, 0, 0, 2},
	}
	for i := range want {
		if !slices.Equal(rep.Confusion.Counts[i], want[i]) {
			t.Errorf("confusion row %s = %v, want %v", rep.Confusion.Labels[i], rep.Confusion.Counts[i], want[i])
		}
	}
	billing := rep.Teams[1]
	if billing.Team != "billing" || billing.Expected != 3 || billing.Predicted != 3 || billing.Correct != 2 ||
		*billing.Precision != 2.0/3 || *billing.Recall != 2.0/3 || *billing.F1 != 2.0/3 {
		t.Errorf("billing %+v", billing)
	}
	if len(rep.Failures) != 2 {
		t.Fatalf("failures %+v", rep.Failures)
	}
	f := rep.Failures[0]
	if f.Line != 3 || f.Expected != "logistics" || f.Got != "billing" || f.Why != "decided by route billing" ||
		!slices.Equal(f.Routes, []string{"billing"}) || !slices.Equal(f.Words, []string{`billing: maksoin ← "maksoin"`}) {
		t.Errorf("failure %+v", f)
	}
	if f := rep.Failures[1]; f.Line != 10 || f.Why != "no route named a team: default_team" || f.Got != "triage" {
		t.Errorf("failure %+v", f)
	}
	if rep.Pass(0) || !rep.Pass(0.75) || rep.Pass(0.8) {
		t.Errorf("accuracy %v: Pass(0)=%v Pass(0.75)=%v Pass(0.8)=%v", rep.Accuracy, rep.Pass(0), rep.Pass(0.75), rep.Pass(0.8))
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.WriteText(&out)
	found := false
	for _, line := range strings.Split(out.String(), "\n") {
		found = found || slices.Equal(strings.Fields(line), []string{"billing", "3", "3", "2", "66.7%", "66.7%", "66.7%"})
	}
	if !found {
		t.Errorf("no billing line in the team table:\n%s", out.String())
	}
	for _, w := range []string{
		"9 examples: 7 passed, 2 failed (accuracy 77.8%)",
		"confusion (rows: expected, columns: got)",
		"ex.yaml:3 (web)  \"maksoin mutta paketti ei tullut\"",
		"expected logistics, got billing: decided by route billing",
		`matched  billing: maksoin ← "maksoin"`,
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, out.String())
		}
	}
}

// TestRepliesFollowTheirParent: a reply whose own text decides nothing
// takes its parent's team, whatever order the file lists them in; one
// whose text decides is routed by it; under noise it is not noise.
func TestRepliesFollowTheirParent(t *testing.T) {
	r := mustRules(t, testRules)
	set := mustSet(t, r, `examples:
  - {team: logistics, text: "sama juttu", reply_to: p1, id: r1}
  - {team: logistics, text: "+1", reply_to: r1}
  - {team: logistics, text: "Paketti hukassa", id: p1}
  - {team: billing, text: "lasku myös", reply_to: p1}
  - {noise: true, text: "bitcoin", id: s1}
  - {team: triage, text: "kiitos", reply_to: s1}
`)
	var seen []string
	decide := func(r *rules.Rules, env *message.Envelope, parent *Outcome) Outcome {
		seen = append(seen, env.Text)
		return OwnTextOrParent(r, env, parent)
	}
	rep := Run(r, set, decide)
	if rep.Failed != 0 {
		t.Fatalf("failures %+v", rep.Failures)
	}
	if want := []string{"Paketti hukassa", "sama juttu", "+1", "lasku myös", "bitcoin", "kiitos"}; !slices.Equal(seen, want) {
		t.Fatalf("decided in order %q, want parents first %q", seen, want)
	}
}

// TestDecideHook: the router's own logic plugs in through Decide.
func TestDecideHook(t *testing.T) {
	r := mustRules(t, testRules)
	set := mustSet(t, r, "examples:\n  - {team: billing, text: \"paketti\"}\n")
	rep := Run(r, set, func(r *rules.Rules, env *message.Envelope, parent *Outcome) Outcome {
		return Outcome{Label: "billing"}
	})
	if rep.Failed != 0 {
		t.Fatalf("the hook's decision was not used: %+v", rep.Failures)
	}
}
