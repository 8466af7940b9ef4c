package backtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

const liveRules = `default_team: triage
teams: [{name: triage}, {name: billing}, {name: logistics}]
routes:
  - id: billing
    team: billing
    match: {text: {any: [lasku]}}
`

func TestRun(t *testing.T) {
	ctx := context.Background()
	b := bustest.Open(t, nil)
	texts := []string{"lasku on väärin", "paketti ei tullut", "hei", "paketti ja lasku"}
	for i, text := range texts {
		env := message.Envelope{Version: 1, ID: fmt.Sprintf("web:%d", i), Channel: "web", Kind: message.KindWeb,
			SourceID: fmt.Sprint(i), Text: text, ReceivedAt: time.Now()}
		if _, err := b.PublishIngest(ctx, &env); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.JS.Publish(ctx, b.Subjects.Ingest("web"), []byte("not json")); err != nil {
		t.Fatal(err)
	}
	live, err := rules.Parse("live.yaml", []byte(liveRules))
	if err != nil {
		t.Fatal(err)
	}
	next, err := rules.Parse("next.yaml", []byte(liveRules+`  - id: logistics
    team: logistics
    match: {text: {any: [paketti]}}
`))
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, o := range []Options{{Last: 10}, {Since: time.Hour}} {
		skipped = nil
		o.Stream, o.Filter, o.Examples = b.Subjects.IngestStream, b.Subjects.Prefix+".ingest.>", 1
		o.Skipped = func(why string) { skipped = append(skipped, why) }
		rep, err := Run(ctx, b.JS, live, next, o)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Messages != 4 || rep.Changed != 1 || rep.Unchanged != 3 || rep.Unreadable != 1 || len(skipped) != 1 {
			t.Fatalf("%+v: report %+v, skipped %v", o, rep, skipped)
		}
		tr := rep.Transitions[0]
		if tr.From != "triage" || tr.To != "logistics" || tr.Count != 1 || tr.Examples[0].ID != "web:1" {
			t.Fatalf("transition %+v", tr)
		}
		if rep.LiveVersion != live.Version() || rep.NewVersion != next.Version() || (o.Last == 0) == (rep.Since == "") {
			t.Fatalf("report header %+v", rep)
		}
	}
	if !strings.Contains(skipped[0], "unreadable") {
		t.Fatalf("skipped: %v", skipped)
	}
}
