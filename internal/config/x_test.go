package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// xConfig wraps an x section (indented under connectors.x) into a file
// with the intake off.
func xConfig(x string) string {
	return "connectors:\n  intake:\n    enabled: false\n  x:\n" + x
}

func TestXValidConfig(t *testing.T) {
	dir := secretFiles(t, map[string]string{"bearer": "app-bearer\n", "refresh": "refresh-1\n", "client-secret": "cs\n"})
	y := xConfig(`    enabled: true
    user_id: 2244994945
    bearer_token_file: bearer
    mentions: true
    searches:
      - name: brand
        query: '"Acme Oy" OR #acme'
      - name: campaign
        query: '#acmesale'
    dms:
      enabled: true
      client_id: abc
      client_secret_file: client-secret
      refresh_token_file: refresh
      poll_interval: 2m
    poll_interval: 30s
    read_budget:
      per_day: 5000
      per_poll: 200
    include_retweets: true
    responses: false
`)
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	x := cfg.Connectors.X
	if !x.Enabled || x.UserID != "2244994945" || x.BearerToken.Reveal() != "app-bearer" || !x.Mentions || len(x.Searches) != 2 ||
		x.Searches[0].Query != `"Acme Oy" OR #acme` || x.BaseURL != DefaultXBaseURL || time.Duration(x.PollInterval) != 30*time.Second ||
		x.ReadBudget != (XReadBudget{PerDay: 5000, PerPoll: 200}) || !x.IncludeRetweets || x.IncludeOwn || x.ResponsesOn() {
		t.Fatalf("x section %+v", x)
	}
	d := x.DMs
	if !d.Enabled || d.ClientID != "abc" || d.ClientSecret.Reveal() != "cs" || d.RefreshToken.Reveal() != "refresh-1" ||
		d.RefreshTokenFile != filepath.Join(dir, "refresh") || time.Duration(d.PollInterval) != 2*time.Minute {
		t.Fatalf("dms %+v", d)
	}
	if s := fmt.Sprintf("%v %+v", x, d); strings.Contains(s, "app-bearer") || strings.Contains(s, "refresh-1") {
		t.Fatalf("secrets print: %s", s)
	}
}

func TestXDefaults(t *testing.T) {
	cfg, err := Parse("c.yaml", []byte(xConfig("    enabled: true\n    user_id: '1'\n    bearer_token: t\n    mentions: true\n")), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	x := cfg.Connectors.X
	if x.BaseURL != "https://api.x.com" || time.Duration(x.PollInterval) != time.Minute || x.ReadBudget.PerDay != 1000 ||
		x.ReadBudget.PerPoll != 100 || x.DMs.PollInterval != x.PollInterval || x.IncludeOwn || x.IncludeRetweets || !x.ResponsesOn() {
		t.Fatalf("defaults %+v", x)
	}
	// mentions defaults to what config.yaml shows: on.
	cfg, err = Parse("c.yaml", []byte(xConfig("    enabled: true\n    user_id: '1'\n    bearer_token: t\n")), noEnv)
	if err != nil || !cfg.Connectors.X.Mentions {
		t.Fatalf("mentions left out: %v, mentions %v", err, cfg.Connectors.X.Mentions)
	}
	// A local proxy or fake may be plain http.
	if _, err := Parse("c.yaml", []byte(xConfig("    enabled: true\n    user_id: '1'\n    bearer_token: t\n    base_url: http://127.0.0.1:8080\n")), noEnv); err != nil {
		t.Fatalf("loopback http base_url: %v", err)
	}
	// Left out entirely: disabled, no error.
	cfg, err = Parse("c.yaml", []byte(xConfig("    enabled: false\n")), noEnv)
	if err != nil || cfg.Connectors.X.Enabled {
		t.Fatalf("disabled section: %v", err)
	}
}

func TestXConfigErrors(t *testing.T) {
	base := "    enabled: true\n    user_id: '1'\n    bearer_token: t\n"
	tests := []struct {
		name, x, want string
	}{
		{"handle instead of id", "    enabled: true\n    user_id: '@acme'\n    mentions: true\n    bearer_token: t\n", "c.yaml:6:14: user_id \"@acme\": want the account's numeric X user id"},
		{"reads nothing", base + "    mentions: false\n", "c.yaml:5:14: the x connector reads nothing"},
		{"remote http base url", base + "    base_url: http://api.x.com\n", "c.yaml:8:15: a base_url on another host must be https"},
		{"no bearer", "    enabled: true\n    user_id: '1'\n    mentions: true\n", "c.yaml:5:5: mentions and searches need the app's bearer token"},
		{"bad base url", base + "    mentions: true\n    base_url: api.x.com\n", "c.yaml:9:15: base_url \"api.x.com\": want a scheme and host only"},
		{"base url with path", base + "    mentions: true\n    base_url: https://api.x.com/2\n", "c.yaml:9:15: base_url"},
		{"search name", base + "    searches:\n      - name: Brand Name\n        query: acme\n", "c.yaml:9:15: search name \"Brand Name\""},
		{"duplicate search", base + "    searches:\n      - name: a\n        query: x\n      - name: a\n        query: y\n", "c.yaml:11:15: search name \"a\" is also used by searches[0]"},
		{"empty query", base + "    searches:\n      - name: a\n        query: '  '\n", "c.yaml:10:16: search \"a\" has no query"},
		{"long query", base + "    searches:\n      - name: a\n        query: " + strings.Repeat("a", 4090) + "\n", "c.yaml:10:16: search \"a\": query is 4090 characters"},
		{"poll too often", base + "    mentions: true\n    poll_interval: 1s\n", "c.yaml:9:20: poll_interval 1s: use at least 10s"},
		{"per poll too small", base + "    mentions: true\n    read_budget:\n      per_poll: 5\n", "c.yaml:10:17: per_poll 5: use between 10"},
		{"per poll above per day", base + "    mentions: true\n    read_budget:\n      per_day: 50\n      per_poll: 100\n", "c.yaml:11:17: per_poll 100"},
		{"negative per day", base + "    mentions: true\n    read_budget:\n      per_day: -1\n", "c.yaml:10:16: per_day cannot be negative"},
		{"unknown key", base + "    mentions: true\n    max_results: 5\n", "c.yaml:9:5: unknown field \"max_results\""},
		{"dms without client id", base + "    dms:\n      enabled: true\n      refresh_token_file: /nonexistent/x-token\n", "client_id"},
		{"dms inline refresh token", base + "    dms:\n      enabled: true\n      client_id: c\n      refresh_token: abc\n", "c.yaml:11:22: X refresh tokens are single-use"},
		{"dms without refresh token", base + "    dms:\n      enabled: true\n      client_id: c\n", "c.yaml:9:7: dms need refresh_token_file"},
		{"dms missing token file", base + "    dms:\n      enabled: true\n      client_id: c\n      refresh_token_file: /nonexistent/x-token\n", "c.yaml:11:27: reading refresh_token_file"},
		{"dms poll too often", base + "    dms:\n      enabled: true\n      client_id: c\n      refresh_token_file: /nonexistent/t\n      poll_interval: 2s\n", "c.yaml:12:22: poll_interval 2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(xConfig(tt.x)), noEnv)
			wantError(t, err, tt.want)
			if strings.Contains(err.Error(), "abc\"") && strings.Contains(tt.x, "refresh_token: abc") {
				t.Fatalf("error shows the refresh token: %v", err)
			}
		})
	}
}

func TestXEmptyRefreshTokenFile(t *testing.T) {
	dir := secretFiles(t, map[string]string{"tok": "\n"})
	y := xConfig("    enabled: true\n    user_id: '1'\n    dms:\n      enabled: true\n      client_id: c\n      refresh_token_file: tok\n")
	_, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y), noEnv)
	if err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Fatalf("error %v, want the empty token file reported", err)
	}
}

// TestXDocSnippetParses keeps the commented configuration in docs/x.md
// valid: pasted under connectors: it loads, and disabled by default.
func TestXDocSnippetParses(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "x.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## Configuration")
	if !ok {
		t.Fatal("docs/x.md has no Configuration section")
	}
	_, rest, _ = strings.Cut(rest, "```yaml\n")
	snippet, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("no yaml block in the Configuration section")
	}
	y := "connectors:\n  intake:\n    enabled: false\n" + snippet
	cfg, err := Parse("c.yaml", []byte(y), noEnv)
	if err != nil {
		t.Fatalf("the snippet does not load:\n%v", err)
	}
	if cfg.Connectors.X.Enabled || cfg.Connectors.X.ReadBudget.PerDay != 1000 {
		t.Fatalf("snippet config %+v", cfg.Connectors.X)
	}
	// Turned on with the values it asks for, it validates.
	y = strings.Replace(y, "    enabled: false\n    # The account's", "    enabled: true\n    # The account's", 1)
	lookup := env(map[string]string{"SWITCHBOARD_X_USER_ID": "2244994945", "SWITCHBOARD_X_BEARER_TOKEN": "tok"})
	if cfg, err = Parse("c.yaml", []byte(y), lookup); err != nil || !cfg.Connectors.X.Enabled {
		t.Fatalf("the snippet turned on: %v", err)
	}
}

// TestXOAuth1 loads OAuth 1.0a user credentials for DMs, the secrets from
// files, instead of the OAuth 2.0 refresh flow.
func TestXOAuth1(t *testing.T) {
	dir := secretFiles(t, map[string]string{"cs": "consumer-secret-1\n", "ats": "token-secret-1\n"})
	y := xConfig(`    enabled: true
    user_id: '2244994945'
    mentions: false
    dms:
      enabled: true
      oauth1:
        consumer_key: ck-1
        consumer_secret_file: cs
        access_token: 2244994945-AbCdEf
        access_token_secret_file: ats
`)
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Connectors.X.DMs.OAuth1
	if !o.IsSet() || o.ConsumerKey != "ck-1" || o.ConsumerSecret.Reveal() != "consumer-secret-1" || o.AccessToken != "2244994945-AbCdEf" ||
		o.AccessTokenSecret.Reveal() != "token-secret-1" {
		t.Fatalf("oauth1 %+v", o)
	}
	if s := fmt.Sprintf("%v %+v", cfg.Connectors.X, o); strings.Contains(s, "secret-1") {
		t.Fatalf("secrets print: %s", s)
	}
}

func TestXOAuth1Errors(t *testing.T) {
	base := "    enabled: true\n    user_id: '1'\n    dms:\n      enabled: true\n"
	full := "      oauth1:\n        consumer_key: ck\n        consumer_secret: cs\n        access_token: 1-at\n        access_token_secret: ats\n"
	tests := []struct {
		name, x, want string
	}{
		{"with client_id", base + "      client_id: c\n" + full, "c.yaml:9:18: client_id belongs to the OAuth 2.0 refresh flow, and dms use oauth1"},
		{"with refresh token file", base + full + "      refresh_token_file: /nonexistent/t\n", "c.yaml:14:27: refresh_token_file belongs to the OAuth 2.0 refresh flow"},
		{"no token secret", base + "      oauth1:\n        consumer_key: ck\n        consumer_secret: cs\n        access_token: 1-at\n",
			"c.yaml:10:9: oauth1 needs access_token_secret (or access_token_secret_file)"},
		{"no consumer key", base + "      oauth1:\n        consumer_secret: cs\n        access_token: 1-at\n        access_token_secret: ats\n",
			"c.yaml:10:9: oauth1 needs consumer_key"},
		{"another account's token", strings.Replace(base+full, "1-at", "987-at", 1),
			"c.yaml:12:23: access_token belongs to X user 987, not to user_id 1"},
		{"missing secret file", base + "      oauth1:\n        consumer_key: ck\n        consumer_secret_file: /nonexistent/cs\n        access_token: 1-at\n        access_token_secret: ats\n",
			"c.yaml:11:31: reading consumer_secret_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(xConfig(tt.x)), noEnv)
			wantError(t, err, tt.want)
			if strings.Contains(err.Error(), "ats") || strings.Contains(err.Error(), ": cs") {
				t.Fatalf("error shows a secret: %v", err)
			}
		})
	}
}
