package config

import (
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Defaults of the x section, applied to options left out or set to zero.
const (
	// DefaultXBaseURL is the X API host.
	DefaultXBaseURL = "https://api.x.com"
	// DefaultXPollInterval is how often each X stream polls.
	DefaultXPollInterval = time.Minute
	// DefaultXReadsPerDay is the default daily read budget (posts and DM
	// events read, summed over every X stream).
	DefaultXReadsPerDay = 1000
	// DefaultXReadsPerPoll is the default read budget of one poll of one stream.
	DefaultXReadsPerPoll = 100
	// MinXPollInterval keeps polls well inside X's rate limits.
	MinXPollInterval = 10 * time.Second
	// maxXQueryLength is the longest recent-search query any X access
	// level accepts; lower levels accept less (512 characters), which X
	// itself reports when the query is sent.
	maxXQueryLength = 4096
	// xQueryExclusionsLength is the room kept for the "(", ")" and
	// " -is:retweet -from:<user id>" the connector adds to each query.
	xQueryExclusionsLength = len("() -is:retweet -from:") + 19
)

// X configures the x connector: mentions of one account, recent-search
// queries and the account's direct messages, read from the X API v2 within a
// read budget. See docs/x.md.
type X struct {
	// Enabled turns the X connector on.
	Enabled bool `yaml:"enabled"`
	// BaseURL is the API host (default https://api.x.com). Tests point it
	// at a local fake.
	BaseURL string `yaml:"base_url"`
	// UserID is the numeric user id of the account whose mentions and DMs
	// are read; its own posts are skipped unless IncludeOwn is set.
	UserID string `yaml:"user_id"`
	// BearerToken is the App-only bearer token used for mentions and searches.
	BearerToken     secret.Secret `yaml:"bearer_token"`
	BearerTokenFile string        `yaml:"bearer_token_file"`
	// Mentions turns on the mentions stream (GET /2/users/:id/mentions).
	Mentions bool `yaml:"mentions"`
	// Searches are recent-search queries, one stream and checkpoint each.
	Searches []XSearch `yaml:"searches"`
	// DMs configures the direct-message stream (GET /2/dm_events), read
	// with an OAuth 2.0 user token.
	DMs XDMs `yaml:"dms"`
	// PollInterval is the pause between two polls of one stream (default 1m).
	PollInterval yamlfile.Duration `yaml:"poll_interval"`
	// ReadBudget caps how many posts and DM events are read (X bills reads).
	ReadBudget XReadBudget `yaml:"read_budget"`
	// IncludeRetweets ingests retweets too (default: skipped).
	IncludeRetweets bool `yaml:"include_retweets"`
	// IncludeOwn ingests the account's own posts and DMs too (default: skipped).
	IncludeOwn bool `yaml:"include_own"`
	// Responses publishes the account's own answers as responses when the
	// daemon tracks them (default true): its sent DMs, and its replies,
	// read from its own posts at poll_interval when mentions or searches
	// are on (stream x.replies, which costs reads). See ResponsesOn.
	Responses *bool `yaml:"responses"`
}

// ResponsesOn reports whether the account's answers are published as
// responses: responses left out means yes.
func (c *X) ResponsesOn() bool { return c.Responses == nil || *c.Responses }

// XSearch is one recent-search query.
type XSearch struct {
	// Name identifies the query in the connector name ("x.search.<name>"),
	// its checkpoint and metrics: lowercase letters, digits, '-' and '_'.
	Name string `yaml:"name"`
	// Query is the X search query, e.g. `"Acme Oy" OR #acme -is:reply`.
	Query string `yaml:"query"`
}

// XDMs configures the DM stream and the account's user credentials it
// needs: either the OAuth 2.0 refresh flow (ClientID, RefreshTokenFile) or
// OAuth 1.0a user context (OAuth1), not both.
//
// X refresh tokens are single-use: every refresh returns a new one, which
// the connector writes back to RefreshTokenFile, so that file must be
// writable by the daemon. OAuth 1.0a tokens do not expire or rotate.
type XDMs struct {
	// Enabled turns the DM stream on.
	Enabled bool `yaml:"enabled"`
	// ClientID is the OAuth 2.0 client id of the X app.
	ClientID string `yaml:"client_id"`
	// ClientSecret is the OAuth 2.0 client secret of a confidential client
	// (leave empty for a public client).
	ClientSecret     secret.Secret `yaml:"client_secret"`
	ClientSecretFile string        `yaml:"client_secret_file"`
	// RefreshToken is read from RefreshTokenFile; an inline value is refused
	// because the rotated token could not be saved.
	RefreshToken     secret.Secret `yaml:"refresh_token"`
	RefreshTokenFile string        `yaml:"refresh_token_file"`
	// OAuth1 signs the DM requests with OAuth 1.0a user context instead of
	// the refresh flow.
	OAuth1 XOAuth1 `yaml:"oauth1"`
	// PollInterval overrides the x poll_interval for DMs (0: the same).
	PollInterval yamlfile.Duration `yaml:"poll_interval"`
}

// XOAuth1 are OAuth 1.0a user-context credentials: the App's consumer key
// and secret (the Developer Console's "API Key and Secret") and the
// account's access token and secret, generated for the account itself.
type XOAuth1 struct {
	// ConsumerKey is the App's API Key.
	ConsumerKey string `yaml:"consumer_key"`
	// ConsumerSecret is the App's API Key Secret (or consumer_secret_file).
	ConsumerSecret     secret.Secret `yaml:"consumer_secret"`
	ConsumerSecretFile string        `yaml:"consumer_secret_file"`
	// AccessToken is the account's access token; X's begin with the
	// numeric id of the account they act for.
	AccessToken string `yaml:"access_token"`
	// AccessTokenSecret is its secret (or access_token_secret_file).
	AccessTokenSecret     secret.Secret `yaml:"access_token_secret"`
	AccessTokenSecretFile string        `yaml:"access_token_secret_file"`
}

// IsSet reports whether any OAuth 1.0a value is configured.
func (o XOAuth1) IsSet() bool { return o != XOAuth1{} }

// XReadBudget caps reads; 0 (or left out) selects the default.
type XReadBudget struct {
	// PerDay caps reads per UTC day over all X streams (default 1000).
	PerDay int `yaml:"per_day"`
	// PerPoll caps reads of one poll of one stream (default 100, at least
	// 10, the smallest page recent search serves).
	PerPoll int `yaml:"per_poll"`
}

var (
	xUserID     = regexp.MustCompile(`^[0-9]{1,19}$`)
	xSearchName = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)
)

// applyDefaults fills the options left out.
func (c *X) applyDefaults() {
	if c.BaseURL == "" {
		c.BaseURL = DefaultXBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.PollInterval == 0 {
		c.PollInterval = yamlfile.Duration(DefaultXPollInterval)
	}
	if c.DMs.PollInterval == 0 {
		c.DMs.PollInterval = c.PollInterval
	}
	if c.ReadBudget.PerDay == 0 {
		c.ReadBudget.PerDay = DefaultXReadsPerDay
	}
	if c.ReadBudget.PerPoll == 0 {
		c.ReadBudget.PerPoll = DefaultXReadsPerPoll
	}
}

// validate fills defaults and reports problems in the x section at p. A
// disabled section is not checked, so a half-written one can wait.
func (c *X) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {
	c.applyDefaults()
	if !c.Enabled {
		return
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		report(p.Child("base_url"), "base_url %q: want a scheme and host only, like https://api.x.com", c.BaseURL)
	} else if msg := remoteNeedsHTTPS(c.BaseURL); msg != "" {
		report(p.Child("base_url"), "%s", msg)
	}
	if !xUserID.MatchString(c.UserID) {
		report(p.Child("user_id"), "user_id %q: want the account's numeric X user id, not its @handle", c.UserID)
	}
	if !c.Mentions && len(c.Searches) == 0 && !c.DMs.Enabled {
		report(p.Child("enabled"), "the x connector reads nothing: turn on mentions, add searches, or enable dms")
	}
	if (c.Mentions || len(c.Searches) > 0) && c.BearerToken == "" {
		report(p.Child("bearer_token"), "mentions and searches need the app's bearer token (bearer_token or bearer_token_file)")
	}
	seen := map[string]int{}
	for i, s := range c.Searches {
		sp := p.Child("searches").Child(i)
		if !xSearchName.MatchString(s.Name) {
			report(sp.Child("name"), "search name %q: use 1-40 lowercase letters, digits, '-' or '_' (it names the checkpoint)", s.Name)
		} else if j, dup := seen[s.Name]; dup {
			report(sp.Child("name"), "search name %q is also used by searches[%d]; names must be unique", s.Name, j)
		} else {
			seen[s.Name] = i
		}
		q := strings.TrimSpace(s.Query)
		switch {
		case q == "":
			report(sp.Child("query"), "search %q has no query", s.Name)
		case len(q)+xQueryExclusionsLength > maxXQueryLength:
			report(sp.Child("query"), "search %q: query is %d characters; X accepts at most %d, less the %d the connector appends to skip retweets and own posts",
				s.Name, len(q), maxXQueryLength, xQueryExclusionsLength)
		}
	}
	if time.Duration(c.PollInterval) < MinXPollInterval {
		report(p.Child("poll_interval"), "poll_interval %s: use at least %s", c.PollInterval, yamlfile.Duration(MinXPollInterval))
	}
	b := c.ReadBudget
	if b.PerDay < 0 {
		report(p.Child("read_budget").Child("per_day"), "per_day cannot be negative")
	}
	if b.PerPoll < 10 || (b.PerDay > 0 && b.PerPoll > b.PerDay) {
		report(p.Child("read_budget").Child("per_poll"), "per_poll %d: use between 10 (the smallest page recent search serves) and per_day (%d)", b.PerPoll, b.PerDay)
	}
	c.DMs.validate(p.Child("dms"), c.UserID, report)
}

// validate reports problems in the dms subsection at p; userID is the
// account's.
func (d *XDMs) validate(p yamlfile.Path, userID string, report func(yamlfile.Path, string, ...any)) {
	if !d.Enabled {
		return
	}
	if d.PollInterval != 0 && time.Duration(d.PollInterval) < MinXPollInterval {
		report(p.Child("poll_interval"), "poll_interval %s: use at least %s", d.PollInterval, yamlfile.Duration(MinXPollInterval))
	}
	if d.OAuth1.IsSet() {
		d.validateOAuth1(p, userID, report)
		return
	}
	if strings.TrimSpace(d.ClientID) == "" {
		report(p.Child("client_id"), "dms need the OAuth 2.0 client_id of the X app")
	}
	switch {
	case d.RefreshTokenFile == "" && d.RefreshToken != "":
		report(p.Child("refresh_token"), "X refresh tokens are single-use and each refresh returns a new one that must be saved: put the token in a file the daemon can write and set refresh_token_file instead")
	case d.RefreshTokenFile == "":
		report(p.Child("refresh_token_file"), "dms need refresh_token_file: a file holding the OAuth 2.0 refresh token (scopes tweet.read users.read dm.read offline.access), writable by the daemon")
	case d.RefreshToken == "":
		if _, err := os.Stat(d.RefreshTokenFile); err == nil { // a missing file is reported by the loader
			report(p.Child("refresh_token_file"), "refresh_token_file %s is empty", d.RefreshTokenFile)
		}
	}
}

// validateOAuth1 reports an incomplete oauth1 subsection, a refresh flow
// configured beside it, and an access token of another account.
func (d *XDMs) validateOAuth1(p yamlfile.Path, userID string, report func(yamlfile.Path, string, ...any)) {
	for key, set := range map[string]bool{
		"client_id":     d.ClientID != "",
		"client_secret": d.ClientSecret != "" && d.ClientSecretFile == "", "client_secret_file": d.ClientSecretFile != "",
		"refresh_token": d.RefreshToken != "" && d.RefreshTokenFile == "", "refresh_token_file": d.RefreshTokenFile != "",
	} {
		if set {
			report(p.Child(key), "%s belongs to the OAuth 2.0 refresh flow, and dms use oauth1: configure one of them, not both", key)
		}
	}
	o, op := d.OAuth1, p.Child("oauth1")
	for _, v := range []struct {
		key, value string
		file       bool
	}{
		{"consumer_key", o.ConsumerKey, false}, {"consumer_secret", o.ConsumerSecret.Reveal(), true},
		{"access_token", o.AccessToken, false}, {"access_token_secret", o.AccessTokenSecret.Reveal(), true},
	} {
		switch {
		case strings.TrimSpace(v.value) != "":
		case v.file:
			report(op.Child(v.key), "oauth1 needs %s (or %s_file)", v.key, v.key)
		default:
			report(op.Child(v.key), "oauth1 needs %s", v.key)
		}
	}
	// X's access tokens begin with the id of the account they act for: a
	// token generated while logged in as someone else would read that
	// person's DMs.
	if owner, _, ok := strings.Cut(o.AccessToken, "-"); ok && xUserID.MatchString(owner) && xUserID.MatchString(userID) && owner != userID {
		report(op.Child("access_token"), "access_token belongs to X user %s, not to user_id %s: generate the access token and secret "+
			"while logged in as the account whose DMs are read", owner, userID)
	}
}
