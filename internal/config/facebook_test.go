package config

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fbYAML wraps a facebook section into a config that is valid otherwise.
func fbYAML(section string) string {
	return "connectors:\n  intake: {enabled: false}\n  facebook:\n" + section
}

func TestFacebookDefaults(t *testing.T) {
	y := fbYAML(`    pages:
      - id: "1234567890"
        token: ${PAGE_TOKEN}
`)
	cfg, err := Parse("c.yaml", []byte(y), env(map[string]string{"PAGE_TOKEN": "EAAtok"}))
	if err != nil {
		t.Fatal(err)
	}
	fb := cfg.Connectors.Facebook
	if fb.GraphVersion != DefaultFacebookGraphVersion || fb.Webhook.Path != DefaultFacebookWebhookPath {
		t.Fatalf("defaults: version %q path %q", fb.GraphVersion, fb.Webhook.Path)
	}
	p := fb.Pages[0]
	if time.Duration(p.PollInterval) != time.Minute || time.Duration(p.Backfill) != 7*24*time.Hour ||
		time.Duration(p.WatchWindow) != 30*24*time.Hour || time.Duration(p.SweepInterval) != 6*time.Hour {
		t.Fatalf("page defaults: poll %s backfill %s watch window %s sweep %s", p.PollInterval, p.Backfill, p.WatchWindow, p.SweepInterval)
	}
	if p.Token.Reveal() != "EAAtok" || p.Label() != "1234567890" {
		t.Fatalf("token %q label %q", p.Token.Reveal(), p.Label())
	}
	for what, want := range map[string]bool{
		FacebookIngestVisitorPosts: true, FacebookIngestComments: true,
		FacebookIngestMessages: true, FacebookIngestPagePosts: false,
	} {
		if p.Wants(what) != want {
			t.Errorf("Wants(%s) = %v, want %v", what, !want, want)
		}
	}
	// The token never prints.
	out := fmt.Sprintf("%v %+v %#v", fb, fb, p)
	b, _ := json.Marshal(cfg)
	if strings.Contains(out, "EAAtok") || strings.Contains(string(b), "EAAtok") {
		t.Fatalf("token leaked: %s %s", out, b)
	}
}

func TestFacebookFilesAndWebhook(t *testing.T) {
	dir := secretFiles(t, map[string]string{"page.tok": "EAAfile\n", "verify": "v3rify\n", "app.secret": "appsecret\n"})
	y := fbYAML(`    base_url: http://127.0.0.1:9/graph
    appsecret_proof: true
    webhook:
      enabled: true
      verify_token_file: verify
      app_secret_file: app.secret
    pages:
      - id: "42"
        name: Asiakaspalvelu
        token_file: page.tok
        poll_interval: 30s
        backfill: 2d
        watch_window: 14d
        sweep_interval: 2h
        ingest: [comments, page_posts]
`)
	cfg, err := Parse(filepath.Join(dir, "c.yaml"), []byte(y), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	fb := cfg.Connectors.Facebook
	p := fb.Pages[0]
	if p.Token.Reveal() != "EAAfile" || p.TokenFile != filepath.Join(dir, "page.tok") {
		t.Fatalf("token %q file %q", p.Token.Reveal(), p.TokenFile)
	}
	if fb.Webhook.VerifyToken.Reveal() != "v3rify" || fb.Webhook.AppSecret.Reveal() != "appsecret" {
		t.Fatal("webhook secrets not read from their files")
	}
	if fb.BaseURL != "http://127.0.0.1:9/graph/" {
		t.Fatalf("base_url %q: want a trailing slash added", fb.BaseURL)
	}
	if p.Wants(FacebookIngestVisitorPosts) || !p.Wants(FacebookIngestPagePosts) || p.Label() != "Asiakaspalvelu" {
		t.Fatalf("ingest %v label %q", p.Ingest, p.Label())
	}
	if time.Duration(p.PollInterval) != 30*time.Second || time.Duration(p.Backfill) != 48*time.Hour ||
		time.Duration(p.WatchWindow) != 14*24*time.Hour || time.Duration(p.SweepInterval) != 2*time.Hour {
		t.Fatalf("poll %s backfill %s watch window %s sweep %s", p.PollInterval, p.Backfill, p.WatchWindow, p.SweepInterval)
	}
}

func TestFacebookErrorsHavePositions(t *testing.T) {
	page := "    pages:\n      - id: \"42\"\n        token: t\n"
	tests := []struct{ name, section, want string }{
		{"bad version", "    graph_version: 24\n" + page, `c.yaml:4:20: graph_version "24"`},
		{"bad base url", "    base_url: ftp://x\n" + page, `c.yaml:4:15: base_url "ftp://x"`},
		{"remote http base url", "    base_url: http://graph.example.com/\n" + page, "c.yaml:4:15: a base_url on another host must be https"},
		{"proof without secret", "    appsecret_proof: true\n" + page, "c.yaml:4:22: appsecret_proof needs the app secret"},
		{"page name not id", "    pages:\n      - id: acme\n        token: t\n", `c.yaml:5:13: page id "acme": want the numeric page id`},
		{"missing id", "    pages:\n      - token: t\n", "c.yaml:5:9: page id is required"},
		{"missing token", "    pages:\n      - id: \"42\"\n", "c.yaml:5:9: page 42 needs a page access token"},
		{"duplicate page", page + "      - id: \"42\"\n        token: u\n", "c.yaml:7:13: page 42 is configured twice"},
		{"poll too fast", page + "        poll_interval: 1s\n", "c.yaml:7:24: poll_interval 1s is below the minimum"},
		{"negative backfill", page + "        backfill: -1h\n", "c.yaml:7:19: backfill -1h0m0s"},
		{"window too short", page + "        watch_window: 12h\n", "c.yaml:7:23: watch_window 12h0m0s: want between 1d and 365d"},
		{"window too long", page + "        watch_window: 400d\n", "c.yaml:7:23: watch_window 9600h0m0s: want between 1d and 365d"},
		{"sweep too often", page + "        sweep_interval: 5m\n", "c.yaml:7:25: sweep_interval 5m0s: want between 1h and 23h"},
		{"sweep too rare", page + "        sweep_interval: 1d\n", "c.yaml:7:25: sweep_interval 24h0m0s: want between 1h and 23h"},
		{"unknown ingest", page + "        ingest: [posts]\n", `c.yaml:7:18: ingest "posts": use visitor_posts`},
		{"ingest twice", page + "        ingest: [comments, comments]\n", `c.yaml:7:28: ingest "comments" is listed twice`},
		{"unknown key", page + "        access_token: x\n", `c.yaml:7:9: unknown field "access_token"`},
		{"both token and file", "    pages:\n      - id: \"42\"\n        token: t\n        token_file: /x\n", "c.yaml:6:16: set token or token_file, not both"},
		{"webhook without secrets", "    webhook: {enabled: true}\n" + page, "c.yaml:4:15: the facebook webhook needs app_secret"},
		{"webhook verify token", "    webhook: {enabled: true, app_secret: s}\n" + page, "c.yaml:4:15: the facebook webhook needs verify_token"},
		{"webhook bad path", "    webhook: {enabled: true, app_secret: s, verify_token: v, path: hooks}\n" + page, `c.yaml:4:68: webhook path "hooks"`},
		{"webhook path taken", "    webhook: {enabled: true, app_secret: s, verify_token: v, path: /v1/messages}\n" + page, `c.yaml:4:68: webhook path "/v1/messages" is taken`},
		{"webhook without pages", "    webhook: {enabled: true, app_secret: s, verify_token: v}\n", "c.yaml:4:24: the facebook webhook is enabled but no pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(fbYAML(tt.section)), noEnv)
			wantError(t, err, tt.want)
		})
	}
}
