package rules

import (
	"errors"
	"path/filepath"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/targetspec"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Team is a declared team and where its items are delivered.
type Team struct {
	// Name is the team's id, one NATS subject token.
	Name string
	// Description says what the team handles.
	Description string
	// Targets are the team's delivery targets, defaults filled in; never
	// empty (a team that declares none gets one NATS target).
	Targets []targetspec.Spec
}

// teamsFrom validates the declared teams and builds them; env resolves
// ${VAR} in webhook urls and secrets, base is the rules file's directory.
func teamsFrom(f *File, doc *yamlfile.Doc, report reporter, lookupEnv func(string) (string, bool), base string) []Team {
	var teams []Team
	seen := map[string]bool{}
	for i, ts := range f.Teams {
		p := yamlfile.Path{"teams", i}
		switch {
		case ts.Name == "":
			report(p, "team needs a name")
			continue
		case !message.ValidToken(ts.Name):
			report(p.Child("name"), "team name %q: use lowercase letters, digits, '-' or '_' (at most 64)", ts.Name)
			continue
		case seen[ts.Name]:
			report(p.Child("name"), "team %q is declared twice", ts.Name)
			continue
		}
		seen[ts.Name] = true
		t := Team{Name: ts.Name, Description: ts.Description}
		for j, tg := range ts.Targets {
			if target, ok := targetFrom(ts.Name, tg, p.Child("targets").Child(j), report, lookupEnv, base); ok {
				t.Targets = append(t.Targets, target)
			}
		}
		if len(ts.Targets) == 0 {
			t.Targets = []targetspec.Spec{{Type: targetspec.NATS}}
		}
		teams = append(teams, t)
	}
	return teams
}

// targetFrom builds one declared target: ${VAR} expanded in the webhook
// url and secret, the secret read from secret_file (relative to base), the
// defaults of team filled in, and every problem reported at its key.
func targetFrom(team string, ts TargetSpec, p yamlfile.Path, report reporter, lookupEnv func(string) (string, bool), base string) (targetspec.Spec, bool) {
	ok := true
	reported := map[string]bool{}
	bad := func(key, format string, args ...any) {
		report(p.Child(key), format, args...)
		reported[key], ok = true, false
	}
	rawURL, err := secret.ExpandEnv(ts.URL, lookupEnv)
	if err != nil {
		bad("url", "%v", err)
	}
	inline, err := secret.ExpandEnv(ts.Secret, lookupEnv)
	if err != nil {
		bad("secret", "%v", err)
	}
	file := ts.SecretFile
	if file != "" && !filepath.IsAbs(file) {
		file = filepath.Join(base, file)
	}
	sec, err := secret.Resolve("secret", secret.Secret(inline), file)
	var se *secret.SourceError
	if errors.As(err, &se) {
		// The path is not secret; the content never appears.
		bad(se.Field, "%v", se.Err)
	}
	t := targetspec.Spec{
		Type: ts.Type, Stream: ts.Stream, MaxLen: ts.MaxLen,
		URL: rawURL, Secret: sec, Timeout: time.Duration(ts.Timeout), Format: ts.Format,
	}.WithDefaults(team)
	for _, fe := range t.Problems() {
		key := fe.Field
		if key == "secret" && ts.Secret == "" {
			key = "secret_file"
		}
		if !reported[key] {
			bad(key, "%s", fe.Msg)
		}
	}
	return t, ok
}

// RegisterSecrets tells red the credentials the teams' targets hold: each
// webhook's signing secret and its URL (Slack webhook URLs are
// credentials).
func (r *Rules) RegisterSecrets(red *secret.Redactor) {
	for _, t := range r.teams {
		for _, tg := range t.Targets {
			if tg.Type == targetspec.Webhook {
				red.Add(tg.Secret, secret.Secret(tg.URL))
			}
		}
	}
}
