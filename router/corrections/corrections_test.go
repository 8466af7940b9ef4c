package corrections

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/router/decisions"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	b := bustest.Open(t, nil)
	s, err := Open(context.Background(), b.JS, Config{Stream: b.Subjects.CorrectionStream, Subjects: b.Subjects.Corrections()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-time.Hour)
	for i := range 5 {
		c := &Correction{ID: fmt.Sprintf("web:%d", i), From: []string{"billing"}, To: "logistics", DecidedBy: "billing", Text: "x", At: t0.Add(time.Duration(i) * time.Minute)}
		if dup, err := s.Put(ctx, c); err != nil || dup {
			t.Fatalf("put %d: %v %v", i, dup, err)
		}
	}
	// The same correction again is stored once.
	if dup, err := s.Put(ctx, &Correction{ID: "web:4", To: "logistics", Text: "x"}); err != nil || !dup {
		t.Errorf("repeated put: duplicate %v, %v", dup, err)
	}
	all, err := s.List(ctx, time.Time{})
	if err != nil || len(all) != 5 || all[0].ID != "web:0" || all[0].V != Version {
		t.Fatalf("list: %d %v %+v", len(all), err, all)
	}
	newest, err := s.Newest(ctx, 2)
	if err != nil || len(newest) != 2 || newest[0].ID != "web:3" || newest[1].ID != "web:4" {
		t.Errorf("newest 2: %+v, %v", newest, err)
	}
	if got, _ := s.Newest(ctx, 100); len(got) != 5 {
		t.Errorf("newest 100: %d", len(got))
	}
	if got, _ := s.List(ctx, time.Now().Add(time.Hour)); len(got) != 0 {
		t.Errorf("list since the future: %d", len(got))
	}
	if n, err := s.Delete(ctx, "web:2"); err != nil || n != 1 {
		t.Fatalf("deleting web:2: %d, %v; want 1", n, err)
	}
	if n, err := s.Delete(ctx, "web:2"); err != nil || n != 0 {
		t.Fatalf("deleting web:2 again: %d, %v; want 0", n, err)
	}
	all, _ = s.List(ctx, time.Time{})
	if len(all) != 4 || slices.ContainsFunc(all, func(c Correction) bool { return c.ID == "web:2" }) {
		t.Errorf("after deleting web:2: %+v", all)
	}
	if _, err := s.Put(ctx, &Correction{ID: "web:9"}); err == nil {
		t.Errorf("a correction without a team was stored")
	}
}

func TestDecidedBy(t *testing.T) {
	tests := []struct {
		rec  decisions.Record
		want string
	}{
		{decisions.Record{Reason: decisions.ReasonText, Route: "billing-refund", Routes: []decisions.RouteMatch{{ID: "billing"}, {ID: "billing-refund"}}}, "billing-refund"},
		{decisions.Record{Reason: decisions.ReasonText, ModelDecided: true}, ByModel},
		{decisions.Record{Reason: decisions.ReasonText, Routes: []decisions.RouteMatch{{ID: "spam"}}}, "spam"},
		{decisions.Record{Reason: decisions.ReasonParent, Route: "x"}, "(parent)"},
		{decisions.Record{Reason: decisions.ReasonDefault}, "(default)"},
		{decisions.Record{}, "(unknown)"},
	}
	for _, tt := range tests {
		if got := DecidedBy(&tt.rec); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.rec, got, tt.want)
		}
	}
}

// TestReport: the numbers computed by hand from these corrections.
func TestReport(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	cs := []Correction{
		{ID: "a", From: []string{"billing"}, To: "logistics", DecidedBy: "billing-payment", At: at(0)},
		{ID: "b", From: []string{"billing"}, To: "logistics", DecidedBy: "billing-payment", At: at(1)},
		{ID: "c", From: []string{"billing", "sales"}, To: "sales", DecidedBy: "billing-payment", At: at(2)},
		{ID: "d", From: []string{"triage"}, To: "product", DecidedBy: ByModel, At: at(3)},
		{ID: "e", From: []string{"triage"}, To: "billing", DecidedBy: "(default)", At: at(4)},
		// e rerouted again, later: only its latest correction counts.
		{ID: "e", From: []string{"billing"}, To: "logistics", DecidedBy: "(reroute)", At: at(5)},
		{ID: "f", From: []string{"logistics"}, To: "product", DecidedBy: "logistics", At: at(6)},
	}
	rep := NewReport(cs, t0)
	// Items: a b c d e f = 6, from 7 corrections.
	// Routes (latest per item): billing-payment a b c = 3 (logistics 2,
	// sales 1); the others 1 each, alphabetically: (model) d, (reroute) e,
	// logistics f.
	// Teams away: billing a b c e(latest from billing) = 4; sales 0 (c
	// went to sales); triage d = 1; logistics f = 1. To: logistics a b e
	// = 3, product d f = 2, sales c = 1.
	if rep.Items != 6 || rep.Corrections != 7 {
		t.Errorf("items %d, corrections %d", rep.Items, rep.Corrections)
	}
	wantRoutes := []RouteCount{
		{"billing-payment", 3, map[string]int{"logistics": 2, "sales": 1}},
		{ByModel, 1, map[string]int{"product": 1}},
		{"(reroute)", 1, map[string]int{"logistics": 1}},
		{"logistics", 1, map[string]int{"product": 1}},
	}
	gotRoutes, _ := json.Marshal(rep.Routes)
	want, _ := json.Marshal(wantRoutes)
	if !bytes.Equal(gotRoutes, want) {
		t.Errorf("routes\n got %s\nwant %s", gotRoutes, want)
	}
	wantTeams := []TeamCount{
		{"billing", 4, 0}, {"logistics", 1, 3}, {"triage", 1, 0}, {"product", 0, 2}, {"sales", 0, 1},
	}
	if !slices.Equal(rep.Teams, wantTeams) {
		t.Errorf("teams\n got %+v\nwant %+v", rep.Teams, wantTeams)
	}
	var out bytes.Buffer
	rep.WriteText(&out)
	for _, w := range []string{"6 items rerouted (7 corrections)", "billing-payment  3          logistics 2, sales 1", "billing    4               0"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, out.String())
		}
	}
}
