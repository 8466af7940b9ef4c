package rules

import (
	"errors"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Team is a declared team and where its items are delivered.
type Team struct {
	// Name is the team's id, one NATS subject token.
	Name string
	// Description says what the team handles.
	Description string
	// Targets are the team's delivery targets; never empty (a team that
	// declares none gets one NATS target).
	Targets []Target
}

// Target types.
const (
	TargetNATS    = "nats"
	TargetRedis   = "redis"
	TargetWebhook = "webhook"
)

// Webhook formats.
const (
	FormatJSON  = "json"
	FormatSlack = "slack"
)

// DefaultWebhookTimeout bounds a webhook request when the target sets none.
const DefaultWebhookTimeout = 10 * time.Second

// Target is one delivery target of a team.
type Target struct {
	// Type is TargetNATS, TargetRedis or TargetWebhook.
	Type string
	// Stream is the Redis stream key (redis): "switchboard:team:<team>" unless set.
	Stream string
	// MaxLen caps the Redis stream, approximately (redis; 0: no cap).
	MaxLen int64
	// URL is the webhook endpoint (webhook). It may embed a credential (Slack
	// webhook URLs do): log Target.String, which keeps only scheme and host.
	URL string
	// Secret signs webhook requests (webhook); empty: unsigned.
	Secret secret.Secret
	// Timeout bounds one webhook request (webhook).
	Timeout time.Duration
	// Format is FormatJSON or FormatSlack (webhook).
	Format string
}

// String describes the target for logs without any credential.
func (t Target) String() string {
	switch t.Type {
	case TargetRedis:
		return "redis stream " + t.Stream
	case TargetWebhook:
		if u, err := url.Parse(t.URL); err == nil {
			return "webhook " + u.Scheme + "://" + u.Host + " (" + t.Format + ")"
		}
		return "webhook"
	}
	return t.Type
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
			t.Targets = []Target{{Type: TargetNATS}}
		}
		teams = append(teams, t)
	}
	return teams
}

func targetFrom(team string, ts TargetSpec, p yamlfile.Path, report reporter, lookupEnv func(string) (string, bool), base string) (Target, bool) {
	t := Target{Type: ts.Type}
	ok := true
	bad := func(key, format string, args ...any) {
		report(p.Child(key), format, args...)
		ok = false
	}
	only := func(typ string, set bool, key string) {
		if set && ts.Type != typ {
			bad(key, "%s applies to %s targets only", key, typ)
		}
	}
	only(TargetRedis, ts.Stream != "", "stream")
	only(TargetRedis, ts.MaxLen != 0, "maxlen")
	only(TargetWebhook, ts.URL != "", "url")
	only(TargetWebhook, ts.Secret != "", "secret")
	only(TargetWebhook, ts.SecretFile != "", "secret_file")
	only(TargetWebhook, ts.Timeout != 0, "timeout")
	only(TargetWebhook, ts.Format != "", "format")
	switch ts.Type {
	case TargetNATS:
	case TargetRedis:
		t.Stream, t.MaxLen = ts.Stream, ts.MaxLen
		if t.Stream == "" {
			t.Stream = "switchboard:team:" + team
		}
		if t.MaxLen < 0 {
			bad("maxlen", "maxlen must be 0 (no cap) or more")
		}
	case TargetWebhook:
		raw, err := secret.ExpandEnv(ts.URL, lookupEnv)
		if err != nil {
			bad("url", "%v", err)
			break
		}
		t.URL = raw
		if msg := checkWebhookURL(raw); msg != "" {
			bad("url", "%s", msg)
		}
		inline, err := secret.ExpandEnv(ts.Secret, lookupEnv)
		if err != nil {
			bad("secret", "%v", err)
		}
		file := ts.SecretFile
		if file != "" && !filepath.IsAbs(file) {
			file = filepath.Join(base, file)
		}
		t.Secret, err = secret.Resolve("secret", secret.Secret(inline), file)
		var se *secret.SourceError
		if errors.As(err, &se) {
			// The path is not secret; the content never appears.
			bad(se.Field, "%v", se.Err)
		}
		t.Timeout = time.Duration(ts.Timeout)
		if t.Timeout == 0 {
			t.Timeout = DefaultWebhookTimeout
		} else if t.Timeout < 0 || t.Timeout > 5*time.Minute {
			bad("timeout", "timeout must be between 1ms and 5m")
		}
		t.Format = ts.Format
		if t.Format == "" {
			t.Format = FormatJSON
		} else if t.Format != FormatJSON && t.Format != FormatSlack {
			bad("format", "format %q: use json or slack", ts.Format)
		}
	case "":
		bad("type", "target needs a type: nats, redis or webhook")
	default:
		bad("type", "target type %q: use nats, redis or webhook", ts.Type)
	}
	return t, ok
}

// checkWebhookURL explains what is wrong with a webhook URL, or returns "".
// It never repeats the URL, which may hold a credential.
func checkWebhookURL(raw string) string {
	if raw == "" {
		return "webhook target needs a url"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "url must be an absolute http(s) URL, like https://hooks.example.com/switchboard"
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return "url must use https (plain http is allowed only to localhost or a loopback address)"
	}
	return ""
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
