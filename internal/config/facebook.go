package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Facebook configures the Facebook Pages connector: one poller per page, each
// with its own token, checkpoint and status, plus an optional receiver for
// Page webhooks that makes a page poll at once. See docs/facebook.md.
type Facebook struct {
	// GraphVersion pins the Graph API version of every request ("v26.0").
	// Empty means DefaultFacebookGraphVersion, never the app's floating default.
	GraphVersion string `yaml:"graph_version"`
	// BaseURL overrides https://graph.facebook.com/ (an egress proxy, or a
	// fake in tests). Empty means Facebook itself.
	BaseURL string `yaml:"base_url"`
	// AppsecretProof adds appsecret_proof (an HMAC of the token with
	// webhook.app_secret) to every request, as apps with "Require App
	// Secret" demand.
	AppsecretProof bool `yaml:"appsecret_proof"`
	// Webhook receives Page webhooks.
	Webhook FacebookWebhook `yaml:"webhook"`
	// Pages lists the pages to poll; none leaves the connector off.
	Pages []FacebookPage `yaml:"pages"`
}

// FacebookWebhook configures the Page webhook receiver. Polling stays the
// source of truth: a webhook only makes the next poll of its page happen now.
type FacebookWebhook struct {
	// Enabled mounts the receiver on the daemon's HTTP listener.
	Enabled bool `yaml:"enabled"`
	// Path is the callback path given to Facebook (default /webhooks/facebook).
	Path string `yaml:"path"`
	// VerifyToken is the "Verify Token" typed into the app dashboard; it
	// answers the hub.verify_token subscription handshake.
	VerifyToken     secret.Secret `yaml:"verify_token"`
	VerifyTokenFile string        `yaml:"verify_token_file"`
	// AppSecret is the Facebook app's secret; it checks X-Hub-Signature-256.
	AppSecret     secret.Secret `yaml:"app_secret"`
	AppSecretFile string        `yaml:"app_secret_file"`
}

// FacebookPage is one Facebook Page polled with its own page access token.
type FacebookPage struct {
	// ID is the numeric page id.
	ID string `yaml:"id"`
	// Name labels the page in logs; it defaults to the id.
	Name string `yaml:"name"`
	// Token is the page access token. With token_file the file is read again
	// whenever the page's poller (re)starts, so a rotated token is picked up
	// without restarting the daemon.
	Token     secret.Secret `yaml:"token"`
	TokenFile string        `yaml:"token_file"`
	// PollInterval is the time between polls (default 1m, at least 10s).
	PollInterval yamlfile.Duration `yaml:"poll_interval"`
	// Backfill is how far back the very first poll of the page reads
	// (default 7d). Later polls continue from the checkpoint, however old.
	Backfill yamlfile.Duration `yaml:"backfill"`
	// WatchWindow is how old a post can be and still have its comments
	// read on every poll (default 30d, between 1d and 365d). An idle poll
	// costs one feed request per 100 posts in the window.
	WatchWindow yamlfile.Duration `yaml:"watch_window"`
	// SweepInterval is how often the comments of posts older than the
	// window (up to a year) are read (default 6h, between 1h and 23h: below
	// the ingest stream's smallest duplicate window).
	SweepInterval yamlfile.Duration `yaml:"sweep_interval"`
	// Ingest lists what to read: visitor_posts, comments (comments and
	// replies on the page's feed), messages (Messenger) and page_posts (the
	// page's own posts; off unless listed). Empty means visitor_posts,
	// comments and messages.
	Ingest []string `yaml:"ingest"`
}

// What a page can ingest (FacebookPage.Ingest values).
const (
	FacebookIngestVisitorPosts = "visitor_posts"
	FacebookIngestComments     = "comments"
	FacebookIngestMessages     = "messages"
	FacebookIngestPagePosts    = "page_posts"
)

// Defaults and bounds of the facebook section.
const (
	DefaultFacebookGraphVersion = "v26.0"
	DefaultFacebookWebhookPath  = "/webhooks/facebook"
	DefaultFacebookPollInterval = time.Minute
	DefaultFacebookBackfill     = 7 * 24 * time.Hour
	MinFacebookPollInterval     = 10 * time.Second
	MaxFacebookBackfill         = 365 * 24 * time.Hour
	DefaultFacebookWatchWindow  = 30 * 24 * time.Hour
	MinFacebookWatchWindow      = 24 * time.Hour
	MaxFacebookWatchWindow      = 365 * 24 * time.Hour
	DefaultFacebookSweep        = 6 * time.Hour
	MinFacebookSweep            = time.Hour
	MaxFacebookSweep            = 23 * time.Hour
)

// Wants reports whether the page ingests what (a FacebookIngest* value).
func (pg FacebookPage) Wants(what string) bool {
	if len(pg.Ingest) == 0 {
		return what == FacebookIngestVisitorPosts || what == FacebookIngestComments || what == FacebookIngestMessages
	}
	return slices.Contains(pg.Ingest, what)
}

// Label is the page's name, or its id when it has none.
func (pg FacebookPage) Label() string {
	if pg.Name != "" {
		return pg.Name
	}
	return pg.ID
}

var (
	graphVersionRE = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)
	pageIDRE       = regexp.MustCompile(`^[0-9]{1,30}$`)
)

// validate reports problems in the facebook section at p and fills in the
// defaults, so the rest of the program sees complete values.
func (c *Facebook) validate(p yamlfile.Path, report func(yamlfile.Path, string, ...any)) {
	if c.GraphVersion == "" {
		c.GraphVersion = DefaultFacebookGraphVersion
	}
	if !graphVersionRE.MatchString(c.GraphVersion) {
		report(p.Child("graph_version"), "graph_version %q: want a Graph API version like %s", c.GraphVersion, DefaultFacebookGraphVersion)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			report(p.Child("base_url"), "base_url %q: want an http(s) URL like https://graph.facebook.com/ without query or credentials", c.BaseURL)
		} else if msg := remoteNeedsHTTPS(c.BaseURL); msg != "" {
			report(p.Child("base_url"), "%s", msg)
		} else if !strings.HasSuffix(c.BaseURL, "/") {
			c.BaseURL += "/"
		}
	}
	if c.AppsecretProof && c.Webhook.AppSecret == "" {
		report(p.Child("appsecret_proof"), "appsecret_proof needs the app secret in webhook.app_secret (or webhook.app_secret_file)")
	}
	c.Webhook.validate(p.Child("webhook"), len(c.Pages), report)
	seen := map[string]int{}
	for i := range c.Pages {
		c.Pages[i].validate(p.Child("pages").Child(i), seen, i, report)
	}
}

func (w *FacebookWebhook) validate(p yamlfile.Path, pages int, report func(yamlfile.Path, string, ...any)) {
	if w.Path == "" {
		w.Path = DefaultFacebookWebhookPath
	}
	if !w.Enabled {
		return
	}
	switch {
	case !strings.HasPrefix(w.Path, "/") || strings.ContainsAny(w.Path, " ?#{}") || w.Path == "/":
		report(p.Child("path"), "webhook path %q: want an absolute path like %s", w.Path, DefaultFacebookWebhookPath)
	case strings.HasPrefix(w.Path, "/v1/") || slices.Contains([]string{"/healthz", "/readyz", "/metrics"}, w.Path):
		report(p.Child("path"), "webhook path %q is taken by the daemon's own API; use e.g. %s", w.Path, DefaultFacebookWebhookPath)
	}
	if w.AppSecret == "" {
		report(p.Child("app_secret"), "the facebook webhook needs app_secret (or app_secret_file) to check X-Hub-Signature-256")
	}
	if w.VerifyToken == "" {
		report(p.Child("verify_token"), "the facebook webhook needs verify_token (or verify_token_file) for the subscription handshake")
	}
	if pages == 0 {
		report(p.Child("enabled"), "the facebook webhook is enabled but no pages are configured")
	}
}

func (pg *FacebookPage) validate(p yamlfile.Path, seen map[string]int, i int, report func(yamlfile.Path, string, ...any)) {
	switch {
	case pg.ID == "":
		report(p.Child("id"), "page id is required (the numeric id shown in the page's About section)")
	case !pageIDRE.MatchString(pg.ID):
		report(p.Child("id"), "page id %q: want the numeric page id, not its name or URL", pg.ID)
	default:
		if j, dup := seen[pg.ID]; dup {
			report(p.Child("id"), "page %s is configured twice (also pages[%d]); one poller per page keeps checkpoints apart", pg.ID, j)
		}
		seen[pg.ID] = i
	}
	if pg.Token == "" {
		report(p.Child("token"), "page %s needs a page access token (token, or a non-empty token_file)", pg.ID)
	}
	if pg.PollInterval == 0 {
		pg.PollInterval = yamlfile.Duration(DefaultFacebookPollInterval)
	} else if time.Duration(pg.PollInterval) < MinFacebookPollInterval {
		report(p.Child("poll_interval"), "poll_interval %s is below the minimum of %s (Graph API rate limits)", pg.PollInterval, yamlfile.Duration(MinFacebookPollInterval))
	}
	if pg.Backfill == 0 {
		pg.Backfill = yamlfile.Duration(DefaultFacebookBackfill)
	} else if pg.Backfill < 0 || time.Duration(pg.Backfill) > MaxFacebookBackfill {
		report(p.Child("backfill"), "backfill %s: want between 1s and %s", pg.Backfill, yamlfile.Duration(MaxFacebookBackfill))
	}
	if pg.WatchWindow == 0 {
		pg.WatchWindow = yamlfile.Duration(DefaultFacebookWatchWindow)
	} else if w := time.Duration(pg.WatchWindow); w < MinFacebookWatchWindow || w > MaxFacebookWatchWindow {
		report(p.Child("watch_window"), "watch_window %s: want between 1d and 365d", pg.WatchWindow)
	}
	if pg.SweepInterval == 0 {
		pg.SweepInterval = yamlfile.Duration(DefaultFacebookSweep)
	} else if d := time.Duration(pg.SweepInterval); d < MinFacebookSweep || d > MaxFacebookSweep {
		report(p.Child("sweep_interval"), "sweep_interval %s: want between 1h and 23h (below the ingest stream's 24h minimum duplicate window)", pg.SweepInterval)
	}
	kinds := map[string]bool{}
	for j, w := range pg.Ingest {
		switch w {
		case FacebookIngestVisitorPosts, FacebookIngestComments, FacebookIngestMessages, FacebookIngestPagePosts:
		default:
			report(p.Child("ingest").Child(j), "ingest %q: use visitor_posts, comments, messages or page_posts", w)
		}
		if kinds[w] {
			report(p.Child("ingest").Child(j), "ingest %q is listed twice", w)
		}
		kinds[w] = true
	}
}
