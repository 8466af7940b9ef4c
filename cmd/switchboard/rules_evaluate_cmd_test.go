package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// modelCmdRules are cmdRules with examples and a model.
const modelCmdRules = cmdRules + "examples: ex.yaml\nclassifier: {min_confidence: 0.4}\n"

const modelCmdExamples = `examples:
  - {team: billing, text: "Laskussa on virhe"}
  - {team: billing, text: "Veloititte kahdesti, haluan hyvityksen"}
  - {team: billing, text: "Where is my refund"}
  - {team: billing, text: "Laskun eräpäivä on mennyt"}
  - {team: logistics, text: "Paketti ei tullut"}
  - {team: logistics, text: "Seuranta ei päivity, missä lähetys"}
  - {team: logistics, text: "My parcel never arrived"}
  - {team: logistics, text: "Toimitus on myöhässä"}
  - {team: triage, text: "Kiitos avusta"}
  - {team: triage, text: "Mihin aikaan olette auki"}
  - {team: triage, text: "Thanks a lot"}
  - {noise: true, text: "bitcoin ilmaiseksi"}
  - {noise: true, text: "Klikkaa tästä, voita iPhone"}
`

func TestRulesEvaluateCmd(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "rules.yaml", modelCmdRules)
	writeFile(t, dir, "ex.yaml", modelCmdExamples)
	plain := writeFile(t, dir, "plain.yaml", cmdRules+"examples: ex.yaml\n")

	code, out, errs := runRules(t, "evaluate", "-rules", path, "-folds", "3")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"3-fold cross-validation (seed 1)", "rules without the model", "model alone", "rules with the model", "per team", "logistics  4"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runRules(t, "evaluate", "-rules", path, "-folds", "3", "-json")
	var ev struct {
		Total    int `json:"total"`
		Folds    int `json:"folds"`
		Combined struct {
			Passed int `json:"passed"`
		} `json:"combined"`
		Teams []struct {
			Team string `json:"team"`
		} `json:"teams"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &ev) != nil || ev.Total != 13 || ev.Folds != 3 || len(ev.Teams) != 4 {
		t.Errorf("json: exit %d, %+v\n%s", code, ev, out)
	}
	for _, tt := range []struct {
		args []string
		errs string
	}{
		{[]string{"evaluate", "-rules", plain}, "no model to evaluate"},
		{[]string{"evaluate", "-rules", path, "-folds", "1"}, "-folds must be at least 2"},
		{[]string{"evaluate", "-rules", path, "-folds", "20"}, "more than the 13 examples"},
	} {
		if code, _, errs := runRules(t, tt.args...); code != 2 || !strings.Contains(errs, tt.errs) {
			t.Errorf("%v: exit %d, stderr %q; want 2, %q", tt.args, code, errs, tt.errs)
		}
	}
}

func TestRulesTestShowsTheModel(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "rules.yaml", modelCmdRules)
	writeFile(t, dir, "ex.yaml", modelCmdExamples)
	code, out, errs := runRules(t, "test", "-rules", path, "My parcel has not arrived, tracking says nothing")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"teams     logistics", "decided   yes, by the model", "model     logistics 0.", "the model chose logistics"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runRules(t, "check", path)
	if code != 0 || !strings.Contains(out, "trained on 13 examples and 0 corrections") {
		t.Errorf("check: exit %d, %s", code, out)
	}
}
