package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/rules"
)

// TestDaemonLearnsCorrections: a correction in the stream reaches the
// model at the start and at a reload when the rules learn from
// corrections, and not when they do not.
func TestDaemonLearnsCorrections(t *testing.T) {
	cfg := bustest.Config(t)
	b := bustest.Open(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := corrections.Open(ctx, b.JS, correctionsConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(ctx, &corrections.Correction{ID: "web:1", From: []string{"billing"}, To: "sales", Text: "Zyxwv kvartsi-imuri kiinnostaa", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, learn := range []bool{true, false} {
		dir := t.TempDir()
		writeFile(t, dir, "ex.yaml", modelCmdExamples)
		src := cmdRules + "examples: ex.yaml\nclassifier: {min_confidence: 0.4, learn_from_corrections: " + strconv.FormatBool(learn) + "}\n"
		path := writeFile(t, dir, "rules.yaml", src)
		rs, err := rules.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := learnAtStart(ctx, path, rs, store, bustest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if learn {
			want = 1
		}
		if n := got.ModelStats().Corrections; n != want || rs.LearnsFromCorrections() != learn {
			t.Errorf("learn %v: the model learned %d corrections at the start, want %d", learn, n, want)
		}
		cs, err := modelCorrections(store)(ctx)
		if err != nil || len(cs) != 1 || cs[0].Team != "sales" {
			t.Errorf("corrections for Watch: %+v, %v", cs, err)
		}
	}
}
