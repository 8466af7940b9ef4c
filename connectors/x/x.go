package x

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/secret"
)

// DefaultBaseURL is the X API host.
const DefaultBaseURL = "https://api.x.com"

// The smallest max_results each endpoint accepts: a page needs at least
// this much of the read budget.
const (
	minMentionsPage = 5
	minRepliesPage  = 5
	minSearchPage   = 10
	minDMPage       = 1
	// maxPage is the largest max_results of every endpoint used.
	maxPage = 100
)

// Options configures the X streams of one account.
type Options struct {
	// BaseURL is the API host (default https://api.x.com).
	BaseURL string
	// UserID is the account's numeric user id.
	UserID string
	// BearerToken is the app-only token for mentions and searches.
	BearerToken secret.Secret
	// Mentions turns on the mentions stream.
	Mentions bool
	// Searches are the recent-search streams.
	Searches []Search
	// DMs turns on the DM stream when not nil.
	DMs *DMOptions
	// PollInterval is the pause between polls of one stream.
	PollInterval time.Duration
	// ReadsPerDay and ReadsPerPoll are the read budget.
	ReadsPerDay, ReadsPerPoll int
	// IncludeRetweets and IncludeOwn keep what is skipped by default.
	IncludeRetweets, IncludeOwn bool
	// Responses publishes the account's own answers as responses, when the
	// daemon tracks them: its sent DMs (read anyway) and, when mentions or
	// searches are read, its replies to posts ("x.replies", GET
	// /2/users/:id/tweets, which costs reads).
	Responses bool
	// HTTPClient is used for every request (nil: a 30 s timeout client).
	HTTPClient *http.Client
	// Metrics may be nil.
	Metrics *Metrics
	// Log receives the connectors' logs.
	Log *zap.Logger
	// Redactor learns the user tokens X issues for DMs, so that they are
	// scrubbed from logs and statuses like the configured secrets (nil:
	// they are not registered).
	Redactor *secret.Redactor
}

// Search is one recent-search stream.
type Search struct {
	// Name names the stream ("x.search.<name>").
	Name string
	// Query is the X search query.
	Query string
}

// DMOptions configures the DM stream's user credentials: either the
// OAuth 2.0 refresh flow (ClientID, ClientSecret, RefreshToken, Store) or
// OAuth 1.0a user context (OAuth1), never both.
type DMOptions struct {
	// ClientID is the OAuth 2.0 client id of the App.
	ClientID string
	// ClientSecret authenticates a confidential client (empty for a public
	// client).
	ClientSecret secret.Secret
	// RefreshToken is the current refresh token; rotated ones go to Store.
	RefreshToken secret.Secret
	Store        TokenStore
	// StoreName names the store in messages (the refresh token file).
	StoreName string
	// OAuth1, when set, signs the DM requests with OAuth 1.0a user context
	// instead of the refresh flow.
	OAuth1 *OAuth1Credentials
	// PollInterval overrides Options.PollInterval when positive.
	PollInterval time.Duration
}

// OAuth1Credentials are OAuth 1.0a user-context credentials: the App's
// consumer key and secret (its "API Key and Secret") and the account's
// access token and secret. None of them expires.
type OAuth1Credentials struct {
	ConsumerKey       string
	ConsumerSecret    secret.Secret
	AccessToken       string
	AccessTokenSecret secret.Secret
}

// hooks lets tests control time. sleep is told which connector waits
// ("" for the shared client's retries) and why.
type hooks struct {
	now   func() time.Time
	sleep func(ctx context.Context, name string, d time.Duration, why string) error
	// pageSize overrides the page size (max_results, default 100).
	pageSize int
}

// New returns one connector per configured stream: "x.mentions",
// "x.search.<name>" and "x.dms". They share one client (rate limits) and one
// read budget.
func New(o Options) ([]connectors.Connector, error) {
	return newStreams(o, hooks{})
}

func newStreams(o Options, hk hooks) ([]connectors.Connector, error) {
	if hk.now == nil {
		hk.now = time.Now
	}
	if hk.sleep == nil {
		hk.sleep = func(ctx context.Context, _ string, d time.Duration, _ string) error { return backoff.Sleep(ctx, d) }
	}
	if hk.pageSize <= 0 {
		hk.pageSize = maxPage
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if !validID(o.UserID) {
		return nil, fmt.Errorf("x: user_id %q is not a numeric X user id", o.UserID)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Minute
	}
	if o.ReadsPerDay <= 0 || o.ReadsPerPoll <= 0 {
		return nil, errors.New("x: the read budget must be positive")
	}
	client := NewClient(o.BaseURL, o.HTTPClient)
	client.now = hk.now
	client.sleep = func(ctx context.Context, d time.Duration) error { return hk.sleep(ctx, "", d, waitRetry) }
	client.onLimit = o.Metrics.rateLimit
	if o.BearerToken != "" {
		client.App = StaticToken(o.BearerToken.Reveal())
	}
	budget := NewBudget(o.ReadsPerDay, o.ReadsPerPoll, hk.now)
	budget.onChange = o.Metrics.budget
	o.Metrics.budgetPerDay(o.ReadsPerDay)
	o.Metrics.budget(o.ReadsPerDay)
	f := filter{userID: o.UserID, includeRetweets: o.IncludeRetweets, includeOwn: o.IncludeOwn, responses: o.Responses}
	base := func(name, stream, endpoint string, interval time.Duration) poller {
		return poller{
			name: name, stream: stream, endpoint: endpoint, interval: interval,
			client: client, budget: budget, filter: f, now: hk.now, pageSize: hk.pageSize,
			sleep: func(ctx context.Context, d time.Duration, why string) error { return hk.sleep(ctx, name, d, why) },
			log:   o.Log.With(zap.String("connector", name)), metrics: o.Metrics,
		}
	}
	var out []connectors.Connector
	if (o.Mentions || len(o.Searches) > 0) && o.BearerToken == "" {
		return nil, errors.New("x: mentions and searches need the app bearer token")
	}
	if len(o.Searches) > 0 && o.ReadsPerPoll < minSearchPage || o.Mentions && o.ReadsPerPoll < minMentionsPage {
		return nil, fmt.Errorf("x: the per-poll read budget (%d) is below the smallest page X serves (%d for mentions, %d for search)",
			o.ReadsPerPoll, minMentionsPage, minSearchPage)
	}
	if o.Mentions {
		out = append(out, &TweetStream{poller: base("x.mentions", "mentions", EndpointMentions, o.PollInterval), userID: o.UserID, minPage: minMentionsPage})
	}
	for _, s := range o.Searches {
		if strings.TrimSpace(s.Query) == "" {
			return nil, fmt.Errorf("x: search %q has no query", s.Name)
		}
		q := searchQuery(s.Query, o.UserID, o.IncludeRetweets, o.IncludeOwn)
		out = append(out, &TweetStream{poller: base("x.search."+s.Name, "search."+s.Name, EndpointSearch, o.PollInterval), query: q, minPage: minSearchPage})
	}
	if o.DMs != nil {
		d := o.DMs
		interval := o.PollInterval
		if d.PollInterval > 0 {
			interval = d.PollInterval
		}
		s := &DMStream{poller: base("x.dms", "dms", EndpointDMEvents, interval), tokenFile: d.StoreName}
		if err := s.authenticate(client, d, o, hk); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	// Replies answer public posts: without mentions or searches there is
	// nothing for them to answer.
	if o.Responses && (o.Mentions || len(o.Searches) > 0) {
		r := &TweetStream{poller: base("x.replies", "replies", EndpointUserTweets, o.PollInterval), userID: o.UserID, minPage: minRepliesPage, replies: true}
		r.keep = o.ReadsPerPoll * len(out)
		if o.ReadsPerDay < r.keep+minRepliesPage {
			o.Log.Warn("the read budget leaves no room for the account's replies: x.replies skips every poll",
				zap.Int("per_day", o.ReadsPerDay), zap.Int("kept_for_customer_streams", r.keep))
		}
		out = append(out, r)
	}
	return out, nil
}

// authenticate sets up the DM stream's user credentials on client: an
// OAuth 1.0a signer, or an OAuth 2.0 token renewed with the refresh token.
func (s *DMStream) authenticate(client *Client, d *DMOptions, o Options, hk hooks) error {
	if c := d.OAuth1; c != nil {
		if c.ConsumerKey == "" || c.ConsumerSecret == "" || c.AccessToken == "" || c.AccessTokenSecret == "" {
			return errors.New("x: OAuth 1.0a for DMs needs the consumer key and secret and the access token and secret")
		}
		if d.RefreshToken != "" || d.ClientID != "" {
			return errors.New("x: DMs use either OAuth 1.0a or the OAuth 2.0 refresh token, not both")
		}
		o.Redactor.Add(c.ConsumerSecret, c.AccessTokenSecret)
		signer := NewOAuth1(c.ConsumerKey, c.ConsumerSecret.Reveal(), c.AccessToken, c.AccessTokenSecret.Reveal())
		signer.now = hk.now
		client.User, s.oauth1 = signer, true
		return nil
	}
	if d.Store == nil || d.RefreshToken == "" || d.ClientID == "" {
		return errors.New("x: DMs need a client id, a refresh token and a store for the rotated token, or OAuth 1.0a credentials")
	}
	ut := NewUserToken(client, d.ClientID, d.ClientSecret.Reveal(), d.RefreshToken.Reveal(), d.Store, o.Log.With(zap.String("connector", "x.dms")), o.Metrics)
	ut.now, ut.red = hk.now, o.Redactor
	client.User, s.user = ut, ut
	return nil
}

// searchQuery narrows a configured query so X does not bill for what would
// be skipped anyway: retweets and the account's own posts (unless kept).
func searchQuery(q, userID string, includeRetweets, includeOwn bool) string {
	q = strings.TrimSpace(q)
	var extra []string
	if !includeRetweets && !strings.Contains(q, "is:retweet") {
		extra = append(extra, "-is:retweet")
	}
	if !includeOwn {
		extra = append(extra, "-from:"+userID)
	}
	if len(extra) == 0 {
		return q
	}
	return "(" + q + ") " + strings.Join(extra, " ")
}
