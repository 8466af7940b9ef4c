package sla

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/config"
)

const policyYAML = `
connectors:
  intake:
    enabled: false
responses:
  calendars:
    office: {days: [mon, tue, wed, thu, fri], open: "08:00", close: "16:00", holidays: ["2026-12-24"]}
  service_levels:
    default:
      targets: {public: 1h, private: 4h, email: 24h}
      priority: {high: 0.5}
    teams:
      billing:
        calendar: office
        targets: {email: 8h, facebook/message: 2h}
        priority: {urgent: 0.25}
      sales:
        targets: {any: 48h}
  escalation:
    levels: [1, 2]
`

func policy(t *testing.T, yaml string) *Policy {
	t.Helper()
	cfg, err := config.Parse("c.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(cfg.Responses)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTarget(t *testing.T) {
	p := policy(t, policyYAML)
	hel, _ := time.LoadLocation("Europe/Helsinki")
	fri17 := time.Date(2026, 11, 20, 17, 0, 0, 0, hel)
	wed10 := time.Date(2026, 11, 18, 10, 0, 0, 0, hel)
	tests := []struct {
		name     string
		it       Item
		target   time.Duration
		calendar string
		due      []time.Time
	}{
		{"default public, 24/7", Item{Team: "logistics", Channel: "facebook", Kind: "comment", Created: wed10},
			time.Hour, "24/7", []time.Time{wed10.Add(time.Hour), wed10.Add(2 * time.Hour)}},
		{"default private", Item{Team: "logistics", Channel: "x", Kind: "dm", Created: wed10},
			4 * time.Hour, "24/7", []time.Time{wed10.Add(4 * time.Hour), wed10.Add(8 * time.Hour)}},
		{"channel beats class", Item{Team: "logistics", Channel: "email", Kind: "email", Created: wed10},
			24 * time.Hour, "24/7", []time.Time{wed10.Add(24 * time.Hour), wed10.Add(48 * time.Hour)}},
		{"high priority halves the default", Item{Team: "logistics", Channel: "facebook", Kind: "reply", Priority: "high", Created: wed10},
			30 * time.Minute, "24/7", []time.Time{wed10.Add(30 * time.Minute), wed10.Add(time.Hour)}},
		{"Friday 17:00 + 8 office hours is Monday 16:00, level 2 Tuesday 16:00", Item{Team: "billing", Channel: "email", Kind: "email", Created: fri17},
			8 * time.Hour, "office", []time.Time{fri17.AddDate(0, 0, 3).Add(-time.Hour), fri17.AddDate(0, 0, 4).Add(-time.Hour)}},
		{"channel/kind beats channel", Item{Team: "billing", Channel: "facebook", Kind: "message", Created: wed10},
			2 * time.Hour, "office", []time.Time{wed10.Add(2 * time.Hour), wed10.Add(4 * time.Hour)}},
		{"team's own priority factor", Item{Team: "billing", Channel: "facebook", Kind: "message", Priority: "urgent", Created: wed10},
			30 * time.Minute, "office", []time.Time{wed10.Add(30 * time.Minute), wed10.Add(time.Hour)}},
		{"team without the key falls back to the default's", Item{Team: "billing", Channel: "x", Kind: "mention", Created: wed10},
			time.Hour, "office", []time.Time{wed10.Add(time.Hour), wed10.Add(2 * time.Hour)}},
		{"team's any beats the default's specific keys", Item{Team: "sales", Channel: "email", Kind: "email", Created: wed10},
			48 * time.Hour, "24/7", []time.Time{wed10.Add(48 * time.Hour), wed10.Add(96 * time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := p.Target(tt.it)
			if !ok {
				t.Fatal("no target")
			}
			if got.Target != tt.target || got.Calendar != tt.calendar || len(got.Due) != len(tt.due) {
				t.Fatalf("got %s on %s with %d levels, want %s on %s", got.Target, got.Calendar, len(got.Due), tt.target, tt.calendar)
			}
			for i := range tt.due {
				if !got.Due[i].Equal(tt.due[i]) {
					t.Fatalf("level %d due %s, want %s", i+1, got.Due[i].In(hel), tt.due[i].In(hel))
				}
			}
		})
	}
}

func TestNoTarget(t *testing.T) {
	p := policy(t, "connectors:\n  intake:\n    enabled: false\n")
	if _, ok := p.Target(Item{Team: "billing", Channel: "email", Kind: "email", Created: time.Now()}); ok {
		t.Fatal("a target without any configured")
	}
	if p.Levels() != 2 {
		t.Fatalf("levels %d", p.Levels())
	}
}
