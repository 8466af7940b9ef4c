package main

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors/x/xtest"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/testwait"
)

// TestEndToEndXMentionToTeamQueue runs the daemon against a fake X API: a
// mention is polled, routed by the rules to its team, and the X streams
// show in /v1/connectors and /metrics.
func TestEndToEndXMentionToTeamQueue(t *testing.T) {
	api := xtest.New(t)
	api.AddUser(xtest.User{ID: "1500000000000000001", Username: "acme", Name: "Acme"}, xtest.User{ID: "2001", Username: "maija", Name: "Maija"})
	id := xtest.Snowflake(time.Now().Add(-time.Minute), 0)
	api.AddPost(xtest.Post{ID: id, Text: "@acme missä on lasku?", AuthorID: "2001", Lang: "fi",
		Mentions: []string{"1500000000000000001"}, Terms: []string{"acme"}})

	cfg, _ := testConfig(t)
	x := &cfg.Connectors.X
	x.Enabled, x.BaseURL, x.UserID, x.BearerToken, x.Mentions = true, api.URL, "1500000000000000001", secret.Secret(api.AppToken), true
	x.Searches = []config.XSearch{{Name: "brand", Query: "acme"}}
	d, _ := startDaemon(t, cfg)

	got := teamItems(t, cfg, "billing", 1)
	if len(got) != 1 || got[0].ID != "x:"+id || got[0].Author.Handle != "maija" || got[0].URL != "https://x.com/maija/status/"+id {
		t.Fatalf("billing got %+v", got)
	}
	get := func(path string) string {
		t.Helper()
		_, body := httpGet(t, d.httpAddr, path)
		return body
	}
	// The post is both a mention and a search hit: once both streams polled
	// one of them saw a duplicate, and the team got it once.
	testwait.Until(t, 10*time.Second, "a duplicate in /v1/connectors", func() bool {
		return strings.Contains(get("/v1/connectors"), `"duplicates": 1`)
	})
	if got := teamItems(t, cfg, "billing", 1); len(got) != 1 {
		t.Fatalf("billing got the post %d times", len(got))
	}
	if m := get("/metrics"); !strings.Contains(m, `switchboard_x_reads_total{stream="mentions"} 1`) || !strings.Contains(m, "switchboard_x_read_budget_remaining 998") {
		t.Errorf("metrics lack the X reads and budget:\n%.3000s", m)
	}
	// The account's replies are a stream of their own (responses are on by
	// default), shown whether or not this daemon tracks responses.
	if c := get("/v1/connectors"); !strings.Contains(c, `"x.replies"`) {
		t.Errorf("no x.replies in /v1/connectors:\n%.3000s", c)
	}
}

// TestEndToEndXDMWithOAuth1 wires DMs read with OAuth 1.0a user context:
// the fake verifies every signature, and the DM reaches its team.
func TestEndToEndXDMWithOAuth1(t *testing.T) {
	api := xtest.New(t)
	const account = "1500000000000000001"
	api.AddUser(xtest.User{ID: account, Username: "acme", Name: "Acme"}, xtest.User{ID: "2001", Username: "maija", Name: "Maija"})
	id := xtest.Snowflake(time.Now().Add(-time.Minute), 0)
	api.AddDM(xtest.DM{ID: id, Text: "missä on lasku?", SenderID: "2001", ConversationID: "2001-" + account})

	cfg, _ := testConfig(t)
	x := &cfg.Connectors.X
	x.Enabled, x.BaseURL, x.UserID, x.Mentions = true, api.URL, account, false
	x.DMs.Enabled = true
	x.DMs.OAuth1 = config.XOAuth1{ConsumerKey: api.ConsumerKey, ConsumerSecret: secret.Secret(api.ConsumerSecret),
		AccessToken: api.AccessToken, AccessTokenSecret: secret.Secret(api.AccessTokenSecret)}
	startDaemon(t, cfg)

	got := teamItems(t, cfg, "billing", 1)
	if len(got) != 1 || got[0].ID != "x:"+id || got[0].ThreadID != "2001-"+account {
		t.Fatalf("billing got %+v", got)
	}
	if f := api.OAuth1Failures(); len(f) != 0 {
		t.Fatalf("the fake refused signatures: %v", f)
	}
}
