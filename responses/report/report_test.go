package report

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/decisions"
)

func policy(t *testing.T) *sla.Policy {
	t.Helper()
	cfg, err := config.Parse("c.yaml", []byte(`
connectors: {intake: {enabled: false}}
responses:
  service_levels:
    default:
      targets: {public: 1h, private: 4h, email: 24h}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	p, err := sla.New(cfg.Responses)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The report's numbers equal those computed by hand from the items.
func TestReportMatchesHandComputation(t *testing.T) {
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	item := func(id, channel, kind string, created time.Time, teams ...string) *decisions.Record {
		return &decisions.Record{ID: id, Channel: channel, Kind: kind, Outcome: decisions.OutcomeRouted, Teams: teams,
			CreatedAt: created, ReceivedAt: created.Add(time.Minute), RoutedAt: created.Add(time.Minute), Snippet: "text of " + id, Author: "A"}
	}
	answer := func(r *decisions.Record, at time.Time, status string) *decisions.Record {
		r.Response = &decisions.Response{ID: "r-" + r.ID, At: at, Status: status, DelaySeconds: at.Sub(r.CreatedAt).Seconds()}
		return r
	}
	noise := item("web:noise", "web", "web", at(9, 0), "triage")
	noise.Outcome = decisions.OutcomeNoise
	records := []*decisions.Record{
		answer(item("email:a", "email", "email", at(10, 0), "billing"), at(10, 30), "responded"), // 1800 s
		answer(item("email:b", "email", "email", at(11, 0), "billing"), at(13, 0), "resolved"),   // 7200 s
		answer(item("email:c", "email", "email", at(12, 0), "billing"), at(12, 5), "no_response_needed"),
		answer(item("facebook:d", "facebook", "comment", at(9, 0), "billing"), at(9, 20), "responded"),   // 1200 s
		item("facebook:e", "facebook", "comment", at(8, 0), "billing"),                                   // open, past 1h
		answer(item("x:f", "x", "mention", at(10, 0), "logistics"), at(12, 30), "responded"),             // 9000 s, past 1h
		answer(item("x:g", "x", "mention", at(13, 30), "logistics", "billing"), at(13, 40), "responded"), // 600 s
		answer(item("x:late", "x", "mention", at(12, 50), "logistics"), at(15, 0), "responded"),          // answered after Now: open, past 1h
		noise,
		item("email:old", "email", "email", day.Add(-48*time.Hour), "billing"), // received before Since
	}
	a := NewAccumulator(policy(t), Options{Since: day, Now: at(14, 0)})
	for _, r := range records {
		a.Add(r)
	}
	a.Add(records[0]) // a record seen twice counts once
	rep := a.Report()

	want := map[[2]string]Row{
		{"billing", "email"}:    {Routed: 3, Responded: 2, NoResponseNeeded: 1, ResponseRate: 1, MedianSeconds: 1800, P90Seconds: 7200},
		{"billing", "facebook"}: {Routed: 2, Responded: 1, ResponseRate: 0.5, MedianSeconds: 1200, P90Seconds: 1200, PastTarget: 1, OpenNow: 1},
		{"billing", "x"}:        {Routed: 1, Responded: 1, ResponseRate: 1, MedianSeconds: 600, P90Seconds: 600},
		{"logistics", "x"}:      {Routed: 3, Responded: 2, ResponseRate: 2.0 / 3, MedianSeconds: 600, P90Seconds: 9000, PastTarget: 2, OpenNow: 1},
		{"billing", ""}:         {Routed: 6, Responded: 4, NoResponseNeeded: 1, ResponseRate: 0.8, MedianSeconds: 1200, P90Seconds: 7200, PastTarget: 1, OpenNow: 1},
		{"logistics", ""}:       {Routed: 3, Responded: 2, ResponseRate: 2.0 / 3, MedianSeconds: 600, P90Seconds: 9000, PastTarget: 2, OpenNow: 1},
	}
	got := map[[2]string]Row{}
	for _, r := range append(rep.Rows, rep.Teams...) {
		k := [2]string{r.Team, r.Channel}
		r.Team, r.Channel = "", ""
		got[k] = r
	}
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %d rows", got, len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s/%s:\n got %+v\nwant %+v", k[0], k[1], got[k], w)
		}
	}
	if len(rep.Oldest) != 2 || rep.Oldest[0].ID != "facebook:e" || !rep.Oldest[0].Overdue || rep.Oldest[0].AgeSeconds != 6*3600 || rep.Oldest[1].ID != "x:late" {
		t.Fatalf("oldest open: %+v", rep.Oldest)
	}

	var text strings.Builder
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"billing", "facebook", "50%", "20m", "2h00m", "6h00m !", "facebook:e"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, text.String())
		}
	}

	// One team only.
	b := NewAccumulator(policy(t), Options{Since: day, Now: at(14, 0), Team: "logistics"})
	for _, r := range records {
		b.Add(r)
	}
	if rep := b.Report(); len(rep.Teams) != 1 || rep.Teams[0].Team != "logistics" || rep.Teams[0].Routed != 3 {
		t.Fatalf("team report: %+v", rep.Teams)
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		values  []float64
		p, want float64
	}{
		{nil, 50, 0},
		{[]float64{5}, 90, 5},
		{[]float64{1, 2}, 50, 1},
		{[]float64{1, 2, 3}, 50, 2},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 90, 10},
		{[]float64{1, 2, 3, 4}, 100, 4},
	}
	for _, tt := range tests {
		if got := Percentile(tt.values, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.values, tt.p, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for s, want := range map[float64]string{45: "45s", 1200: "20m", 3*3600 + 300: "3h05m", 2*86400 + 4*3600: "2d04h"} {
		if got := FormatDuration(s); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", s, got, want)
		}
	}
}
