package rules

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/internal/message"
)

const sample = `default_team: triage
routes:
  - id: billing
    team: billing
    keywords: [lasku, "double charged"]
  - id: logistics
    team: logistics
    keywords: [paketti]
`

func TestClassify(t *testing.T) {
	r, err := Parse("r.yaml", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text, team, matched string
	}{
		{"Missä on LASKU?", "billing", "billing"},
		{"I was double-charged!", "billing", "billing"},
		{"Paketti ei tullut", "logistics", "logistics"},
		{"laskutin", "triage", ""}, // whole words only in the minimal form
		{"hello", "triage", ""},
	}
	for _, tt := range tests {
		d := r.Classify(&message.Envelope{Text: tt.text})
		if len(d.Teams) != 1 || d.Teams[0] != tt.team {
			t.Errorf("%q → %v, want %s", tt.text, d.Teams, tt.team)
		}
		if got := strings.Join(d.Matched, ","); got != tt.matched {
			t.Errorf("%q matched %q, want %q", tt.text, got, tt.matched)
		}
		if d.Version != r.Version() || len(d.Version) != 12 {
			t.Errorf("version %q", d.Version)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"routes: []\n", "r.yaml:1:1: default_team is required"},
		{"default_team: Triage\n", "r.yaml:1:15: team \"Triage\""},
		{"default_team: t\nroutes:\n  - id: a\n    team: b\n    keywords: [x]\n  - id: a\n    team: b\n    keywords: [y]\n", "r.yaml:6:9: duplicate route id \"a\""},
		{"default_team: t\nroutes:\n  - id: a\n    team: b\n    keywords: ['!!']\n", "r.yaml:5:16: keyword \"!!\" has no letters"},
		{"default_team: t\nroute: []\n", "r.yaml:2:1: unknown field \"route\""},
	}
	for _, tt := range tests {
		_, err := Parse("r.yaml", []byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

func TestShippedRulesAreValid(t *testing.T) {
	if _, err := Load(filepath.Join("..", "rules.yaml")); err != nil {
		t.Fatal(err)
	}
}

func TestTeams(t *testing.T) {
	t.Setenv("HOOK_SECRET", "s3cret")
	r, err := Parse("r.yaml", []byte(`default_team: triage
teams:
  - name: billing
    description: invoices
    targets:
      - type: redis
        maxlen: 1000
      - type: webhook
        url: https://hooks.example.com/billing
        secret: ${HOOK_SECRET}
        format: slack
routes:
  - id: billing
    team: billing
    keywords: [lasku]
  - id: logistics
    team: logistics
    keywords: [paketti]
`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]Target{}
	for _, tm := range r.Teams() {
		got[tm.Name] = tm.Targets
	}
	b := got["billing"]
	if len(got) != 3 || len(b) != 2 || b[0].Type != TargetRedis || b[0].Stream != "switchboard:team:billing" || b[0].MaxLen != 1000 ||
		b[1].Format != FormatSlack || b[1].Secret.Reveal() != "s3cret" || b[1].Timeout != DefaultWebhookTimeout {
		t.Fatalf("teams %+v", got)
	}
	for _, name := range []string{"logistics", "triage"} {
		if ts := got[name]; len(ts) != 1 || ts[0].Type != TargetNATS {
			t.Errorf("implicit team %s: %+v", name, ts)
		}
	}
	if s := b[1].String(); strings.Contains(s, "/billing") {
		t.Errorf("target description leaks the url path: %s", s)
	}

	_, err = Parse("r.yaml", []byte("default_team: triage\nteams:\n  - name: x\n    targets:\n      - type: webhook\n        url: http://example.com/h\n"))
	if err == nil || !strings.Contains(err.Error(), "r.yaml:6:14: url must use https") {
		t.Fatalf("plain http webhook: %v", err)
	}
}
