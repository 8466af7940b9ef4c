package rules

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/message"
)

func TestExplainTrace(t *testing.T) {
	r := mustParse(t, `vocabularies:
  money: [lasku, refund]
routes:
  - id: social
    match: {channel: facebook}
    tags: [social]
    continue: true
  - id: billing
    team: billing
    match: {text: {any: [$money]}}
    routes:
      - id: refund
        match: {text: {all: [refund, "=now"]}}
      - id: late
        match: {text: {any: [myöhässä]}}
  - id: sales
    team: sales
    match: {text: {any: [upgrade]}}
`)
	e := &message.Envelope{Channel: "web", Lang: "fi", Text: "Laskussani on virhe"}
	d, tr := r.Explain(e)
	if got := strings.Join(d.Teams, ","); got != "billing" {
		t.Fatalf("teams %q", got)
	}
	if tr.Lang != "fi" || tr.LangSource != "declared" || strings.Join(tr.StemLangs, ",") != "fi" {
		t.Fatalf("lang %+v", tr)
	}
	want := []struct {
		id      string
		depth   int
		matched bool
		decided bool
		skipped string
		cond    string
	}{
		{"social", 0, false, false, "", `channel: "web" is not one of [facebook]`},
		{"billing", 0, true, true, "", `text.any: lasku ← "laskussani"`},
		{"refund", 1, false, false, "", `text.all: missing: refund, =now`},
		{"late", 1, false, false, "", "text.any: none of its 1 words or phrases occurs"},
		{"sales", 0, false, false, `route "billing" matched before it without continue`, ""},
	}
	if len(tr.Routes) != len(want) {
		t.Fatalf("trace has %d routes: %+v", len(tr.Routes), tr.Routes)
	}
	for i, w := range want {
		rt := tr.Routes[i]
		cond := ""
		if len(rt.Conditions) > 0 {
			cond = rt.Conditions[0].Cond + ": " + rt.Conditions[0].Detail
		}
		if rt.ID != w.id || rt.Depth != w.depth || rt.Matched != w.matched || rt.Decided != w.decided || rt.Skipped != w.skipped || cond != w.cond {
			t.Errorf("route %d: %+v\n want %+v", i, rt, w)
		}
		if rt.Line == 0 {
			t.Errorf("route %s has no line", rt.ID)
		}
	}
	if h := tr.Routes[1].Conditions[0].Hits; len(h) != 1 || h[0].Term != "lasku" || h[0].Words[0] != "laskussani" {
		t.Errorf("hits %+v", h)
	}
}

func TestExplainSkipsAfterNoise(t *testing.T) {
	r := mustParse(t, `routes:
  - id: spam
    noise: true
    match: {text: {any: [bitcoin]}}
  - id: billing
    team: billing
    match: {text: {any: [lasku]}}
    routes:
      - id: child
`)
	d, tr := r.Explain(env("bitcoin lasku"))
	if !d.Noise || len(tr.Routes) != 3 || !tr.Routes[0].Decided ||
		!strings.Contains(tr.Routes[1].Skipped, `noise route "spam" matched`) || !strings.Contains(tr.Routes[2].Skipped, "was not tried") {
		t.Fatalf("%+v %+v", d, tr)
	}
}
