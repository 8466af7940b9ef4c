package config

import (
	"strings"
	"testing"
	"time"
)

// noIntake turns off the intake, which needs a token.
const noIntake = "connectors:\n  intake:\n    enabled: false\n"

func TestResponsesDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(noIntake), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Responses
	if !r.On() || r.Stream != "SWITCHBOARD_RESPONSES" || r.EscalationStream != "SWITCHBOARD_ESCALATIONS" || r.Bucket != "switchboard_escalated" {
		t.Fatalf("names: %+v", r)
	}
	if r.TimeZone != "Europe/Helsinki" || time.Duration(r.ForgetAfter) != 14*24*time.Hour || time.Duration(r.MatchWindow) != 24*time.Hour {
		t.Fatalf("defaults: %+v", r)
	}
	if len(r.Escalation.Levels) != 2 || r.Escalation.Webhook.Format != "slack" {
		t.Fatalf("escalation defaults: %+v", r.Escalation)
	}
}

func TestResponsesValid(t *testing.T) {
	yaml := `
http:
  external_url: https://switchboard.example.com/
responses:
  time_zone: Europe/Stockholm
  calendars:
    office:
      days: [mon, tue, Wednesday, thu, fri]
      open: "08:30"
      close: "24:00"
      holidays: ["2026-12-24"]
  service_levels:
    default:
      targets: {public: 1h, private: 4h, email: 24h}
      priority: {high: 0.5, urgent: 0.25}
    teams:
      billing:
        calendar: office
        targets: {facebook/message: 2h, any: 8h}
  escalation:
    levels: [1, 1.5, 3]
    webhook:
      url: ${HOOK}
      format: json
`
	cfg, err := Parse("c.yaml", []byte(noIntake+yaml), env(map[string]string{"HOOK": "https://hooks.slack.com/services/T/B/secret"}))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Responses
	if cfg.HTTP.ExternalURL != "https://switchboard.example.com" {
		t.Fatalf("external_url %q: trailing slash kept", cfg.HTTP.ExternalURL)
	}
	if c := r.Calendars["office"]; c.Open != "08:30" || len(c.Days) != 5 {
		t.Fatalf("calendar: %+v", c)
	}
	if got := time.Duration(r.ServiceLevels.Teams["billing"].Targets["facebook/message"]); got != 2*time.Hour {
		t.Fatalf("billing facebook/message target %s", got)
	}
	if strings.Contains(r.Escalation.Webhook.URL.String(), "secret") {
		t.Fatal("webhook url printed")
	}
}

func TestResponsesErrorsHavePositions(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"bad zone", "responses:\n  time_zone: Mars/Olympus\n", `c.yaml:2:14: time_zone "Mars/Olympus"`},
		{"unknown calendar", "responses:\n  service_levels:\n    default:\n      calendar: office\n", `c.yaml:4:17: calendar "office" is not defined`},
		{"bad target key", "responses:\n  service_levels:\n    default:\n      targets: {facebook/tweet: 1h}\n", `c.yaml:4:33: target key "facebook/tweet": unknown kind`},
		{"bad target", "responses:\n  service_levels:\n    teams:\n      billing:\n        targets: {any: 0s}\n", "c.yaml:5:24: target for any must be between 1s and 90d"},
		{"bad priority", "responses:\n  service_levels:\n    default:\n      priority: {critical: 0.5}\n", `c.yaml:4:28: priority "critical"`},
		{"bad day", "responses:\n  calendars:\n    office:\n      days: [mon, funday]\n", `c.yaml:4:19: day "funday"`},
		{"close before open", "responses:\n  calendars:\n    office:\n      open: \"17:00\"\n      close: \"09:00\"\n", "c.yaml:5:14: close (09:00) must be after open (17:00)"},
		{"bad clock", "responses:\n  calendars:\n    office:\n      open: \"8\"\n", `c.yaml:4:13: open time "8"`},
		{"bad holiday", "responses:\n  calendars:\n    office:\n      holidays: [24.12.2026]\n", `c.yaml:4:18: holiday date "24.12.2026"`},
		{"levels not increasing", "responses:\n  escalation:\n    levels: [2, 1]\n", "c.yaml:3:17: levels must be positive multiples"},
		{"forget before escalating", "responses:\n  forget_after: 2d\n  service_levels:\n    default:\n      targets: {email: 36h}\n", "c.yaml:2:17: forget_after (48h0m0s) must exceed the longest target times the last level (72h0m0s)"},
		{"webhook url", "responses:\n  escalation:\n    webhook:\n      url: not-a-url\n", "c.yaml:4:12: webhook url must be an http(s) URL"},
		{"webhook format", "responses:\n  escalation:\n    webhook:\n      format: xml\n", `c.yaml:4:15: format "xml"`},
		{"stream clash", "responses:\n  stream: SWITCHBOARD_INGEST\n", `c.yaml:2:11: stream "SWITCHBOARD_INGEST" is already used`},
		{"external url", "http:\n  external_url: switchboard.local\n", `c.yaml:2:17: external_url "switchboard.local"`},
		{"bad team", "responses:\n  service_levels:\n    teams:\n      Billing: {}\n", `c.yaml:4:16: team "Billing"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tt.yaml), noEnv)
			wantError(t, err, tt.want)
		})
	}
}

func TestParseClockAndWeekday(t *testing.T) {
	for s, want := range map[string]int{"00:00": 0, "08:30": 510, "24:00": 1440, "9:05": 545} {
		if got, err := ParseClock(s); err != nil || got != want {
			t.Errorf("ParseClock(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"24:01", "8", "08:3", "-1:00", "08:60", "ab:cd"} {
		if _, err := ParseClock(s); err == nil {
			t.Errorf("ParseClock(%q) accepted", s)
		}
	}
	for s, want := range map[string]time.Weekday{"mon": time.Monday, "Sunday": time.Sunday, " SAT ": time.Saturday} {
		if got, err := ParseWeekday(s); err != nil || got != want {
			t.Errorf("ParseWeekday(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseWeekday("mo"); err == nil {
		t.Error("ParseWeekday(mo) accepted")
	}
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"08:00", "24:00", "9:05", "", ":", "-0:-0", "99999999999999999999:00", "08:0", "+8:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseClock(s)
		if err == nil && (m < 0 || m > 24*60) {
			t.Fatalf("ParseClock(%q) = %d", s, m)
		}
	})
}
