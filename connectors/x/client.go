package x

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/message"
)

// The endpoints the client calls, as named in errors, logs and metrics.
const (
	EndpointMentions   = "GET /2/users/:id/mentions"
	EndpointUserTweets = "GET /2/users/:id/tweets"
	EndpointSearch     = "GET /2/tweets/search/recent"
	EndpointDMEvents   = "GET /2/dm_events"
	EndpointMe         = "GET /2/users/me"
	EndpointToken      = "POST /2/oauth2/token"
)

// Fields and expansions requested for posts and DM events.
const (
	tweetFields     = "created_at,conversation_id,lang,referenced_tweets,author_id,in_reply_to_user_id,note_tweet"
	tweetExpansions = "author_id,referenced_tweets.id"
	userFields      = "username,name"
	// The account's own posts need only what links a reply: no text
	// fields, and no expansion of the replied-to post (which X would bill
	// as one more read).
	replyFields     = "created_at,referenced_tweets,author_id,in_reply_to_user_id"
	replyExpansions = "author_id"
	dmEventFields   = "id,event_type,text,sender_id,dm_conversation_id,created_at,referenced_tweets,attachments"
	dmExpansions    = "sender_id"
)

// maxBody caps how much of a response is read.
const maxBody = 8 << 20

// Auth authorizes a request: it sets the Authorization header (a bearer
// token, or an OAuth 1.0a signature). It is called again for every retry.
type Auth interface {
	Authorize(ctx context.Context, req *http.Request) error
}

// StaticToken is a fixed bearer token (the app-only token). It never
// prints: formatting shows "[redacted]".
type StaticToken string

// Authorize sends the token as a bearer token.
func (s StaticToken) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+string(s))
	return nil
}

// String hides the token.
func (s StaticToken) String() string { return "[redacted]" }

// GoString hides the token from %#v.
func (s StaticToken) GoString() string { return s.String() }

// Client is a small typed X API v2 client for the endpoints this connector
// uses. Its methods are safe for concurrent use.
type Client struct {
	base string
	hc   *http.Client
	// App authenticates mentions and searches; User authenticates DMs.
	App, User Auth
	// Retries is how many times a 5xx or network failure is retried, spaced
	// by Backoff.
	Retries int
	Backoff backoff.Policy

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	// onLimit is told every rate-limit header seen (for metrics).
	onLimit func(endpoint string, remaining int)

	mu     sync.Mutex
	limits map[string]rateLimit
}

// rateLimit is the last x-rate-limit-* state seen for an endpoint.
type rateLimit struct {
	remaining int
	reset     time.Time
}

// NewClient returns a client for the API at baseURL (e.g.
// https://api.x.com). hc may be nil for a client with a 30 s timeout.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{
		base:    strings.TrimRight(baseURL, "/"),
		hc:      hc,
		Retries: 2,
		Backoff: backoff.Policy{Min: time.Second, Max: 30 * time.Second},
		now:     time.Now,
		sleep:   backoff.Sleep,
		limits:  map[string]rateLimit{},
	}
}

// PageQuery selects one page of a post timeline or search.
type PageQuery struct {
	// SinceID and UntilID bound the post ids (both exclusive).
	SinceID, UntilID string
	// Token is the next_token of the previous page.
	Token string
	// MaxResults is the page size (mentions 5-100, search 10-100).
	MaxResults int
}

// Mentions returns one page of posts mentioning userID, newest first.
func (c *Client) Mentions(ctx context.Context, userID string, q PageQuery) (*TweetPage, error) {
	return c.tweetPage(ctx, EndpointMentions, "/2/users/"+url.PathEscape(userID)+"/mentions", tweetValues(q, "pagination_token"))
}

// UserTweets returns one page of the posts userID wrote, newest first,
// without retweets (exclude=retweets: X does not send them, so they are
// not read).
// It asks only for the fields that link a reply to the post it answers.
func (c *Client) UserTweets(ctx context.Context, userID string, q PageQuery) (*TweetPage, error) {
	v := tweetValues(q, "pagination_token")
	v.Set("tweet.fields", replyFields)
	v.Set("expansions", replyExpansions)
	v.Set("exclude", "retweets")
	return c.tweetPage(ctx, EndpointUserTweets, "/2/users/"+url.PathEscape(userID)+"/tweets", v)
}

// SearchRecent returns one page of posts of the last 7 days matching query,
// newest first.
func (c *Client) SearchRecent(ctx context.Context, query string, q PageQuery) (*TweetPage, error) {
	v := tweetValues(q, "next_token")
	v.Set("query", query)
	return c.tweetPage(ctx, EndpointSearch, "/2/tweets/search/recent", v)
}

// tweetPage gets one page of posts from endpoint (at path, with the
// query v) with the app's bearer token.
func (c *Client) tweetPage(ctx context.Context, endpoint, path string, v url.Values) (*TweetPage, error) {
	data, err := c.get(ctx, endpoint, path, v, c.App, c.Retries)
	if err != nil {
		return nil, err
	}
	return decodePage[TweetPage](endpoint, data)
}

// tweetValues is the query of a page of posts: the fields and expansions
// the connector reads and q's bounds, with q's token in tokenParam (the
// endpoint's name for it: pagination_token or next_token).
func tweetValues(q PageQuery, tokenParam string) url.Values {
	v := url.Values{}
	v.Set("tweet.fields", tweetFields)
	v.Set("expansions", tweetExpansions)
	v.Set("user.fields", userFields)
	if q.MaxResults > 0 {
		v.Set("max_results", strconv.Itoa(q.MaxResults))
	}
	if q.SinceID != "" {
		v.Set("since_id", q.SinceID)
	}
	if q.UntilID != "" {
		v.Set("until_id", q.UntilID)
	}
	if q.Token != "" {
		v.Set(tokenParam, q.Token)
	}
	return v
}

// DMEvents returns one page of the user's MessageCreate DM events, newest
// first. token is the next_token of the previous page ("" for the newest).
func (c *Client) DMEvents(ctx context.Context, token string, maxResults int) (*DMPage, error) {
	v := url.Values{}
	v.Set("event_types", "MessageCreate")
	v.Set("dm_event.fields", dmEventFields)
	v.Set("expansions", dmExpansions)
	v.Set("user.fields", userFields)
	if maxResults > 0 {
		v.Set("max_results", strconv.Itoa(maxResults))
	}
	if token != "" {
		v.Set("pagination_token", token)
	}
	data, err := c.get(ctx, EndpointDMEvents, "/2/dm_events", v, c.User, c.Retries)
	if err != nil {
		return nil, err
	}
	return decodePage[DMPage](EndpointDMEvents, data)
}

// Me returns the user the User credentials act for (GET /2/users/me, with
// the default fields id, name and username). It asks once: a 5xx or
// network failure is returned, not retried, since the caller can do
// without the answer. An answer without a numeric data.id is a
// DecodeError; one with only errors names X's first.
func (c *Client) Me(ctx context.Context) (*User, error) {
	data, err := c.get(ctx, EndpointMe, "/2/users/me", url.Values{}, c.User, 0)
	if err != nil {
		return nil, err
	}
	me, err := decodePage[struct {
		Data   *User    `json:"data"`
		Errors Problems `json:"errors"`
	}](EndpointMe, data)
	switch {
	case err != nil:
		return nil, err
	case me.Data == nil && len(me.Errors) > 0:
		return nil, fmt.Errorf("%s: X answered with errors only: %s", EndpointMe, me.Errors[0])
	case me.Data == nil || !validID(me.Data.ID):
		return nil, &DecodeError{Endpoint: EndpointMe, Err: errors.New("no numeric data.id")}
	}
	return me.Data, nil
}

// RefreshToken trades a refresh token for a new access token (and a new
// refresh token: X's are single-use). clientSecret is empty for a public
// client; a confidential client authenticates with HTTP basic auth.
func (c *Client) RefreshToken(ctx context.Context, clientID, clientSecret, refreshToken string) (*TokenResponse, error) {
	form := url.Values{}
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", refreshToken)
	form.Set("client_id", clientID)
	body := []byte(form.Encode())
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/2/oauth2/token", bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("%s: building request: %w", EndpointToken, err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", userAgent)
		if clientSecret != "" {
			req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
		}
		status, hdr, data, err := c.do(req)
		if err != nil || status >= 500 {
			if err == nil {
				err = &APIError{Endpoint: EndpointToken, Status: status, Problem: problemOf(data, status)}
			}
			if again, err := c.retry(ctx, attempt, c.Retries, err); !again {
				return nil, err
			}
			continue
		}
		switch {
		case status == http.StatusOK:
			var tr TokenResponse
			if err := json.Unmarshal(data, &tr); err != nil {
				// Never show the body: it holds the tokens.
				return nil, &DecodeError{Endpoint: EndpointToken, Err: errors.New("response is not the expected JSON")}
			}
			if tr.AccessToken == "" {
				return nil, &DecodeError{Endpoint: EndpointToken, Err: errors.New("response has no access_token")}
			}
			return &tr, nil
		case status == http.StatusTooManyRequests:
			return nil, c.rateLimited(EndpointToken, hdr, data)
		default:
			var oe oauthError
			_ = json.Unmarshal(data, &oe)
			return nil, &OAuthError{Status: status, Code: oe.Error, Description: oe.Description}
		}
	}
}

const userAgent = "switchboard-x/1"

// get performs a GET with auth, retrying 5xx and network failures up to
// retries times, and returns the body of a 200 answer.
func (c *Client) get(ctx context.Context, endpoint, path string, q url.Values, auth Auth, retries int) ([]byte, error) {
	if auth == nil {
		return nil, fmt.Errorf("%s: no credentials configured", endpoint)
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
		if err != nil {
			// The URL holds the search text: name the endpoint instead.
			return nil, fmt.Errorf("%s: building the request failed (check connectors.x.base_url)", endpoint)
		}
		// Authorized per attempt: a retry is signed anew (OAuth 1.0a
		// nonces are single-use).
		if err := auth.Authorize(ctx, req); err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", userAgent)
		status, hdr, data, err := c.do(req)
		if err == nil {
			c.noteLimits(endpoint, hdr)
		}
		if err != nil || status >= 500 {
			if err == nil {
				err = &APIError{Endpoint: endpoint, Status: status, Problem: problemOf(data, status)}
			} else {
				err = fmt.Errorf("%s: %w", endpoint, err)
			}
			if again, err := c.retry(ctx, attempt, retries, err); !again {
				return nil, err
			}
			continue
		}
		switch status {
		case http.StatusOK:
			return data, nil
		case http.StatusTooManyRequests:
			return nil, c.rateLimited(endpoint, hdr, data)
		default:
			return nil, &APIError{Endpoint: endpoint, Status: status, Problem: problemOf(data, status)}
		}
	}
}

// do sends req and reads the (capped) body.
func (c *Client) do(req *http.Request) (int, http.Header, []byte, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, scrubURLError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading response: %w", err)
	}
	return resp.StatusCode, resp.Header, data, nil
}

// scrubURLError drops the request URL from a transport error; the message
// names the endpoint instead, and the query (search text) stays out of logs.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request failed: %w", ue.Op, ue.Err)
	}
	return err
}

func (c *Client) rateLimited(endpoint string, hdr http.Header, data []byte) error {
	rl := &RateLimitError{Endpoint: endpoint, Problem: problemOf(data, http.StatusTooManyRequests)}
	if reset, ok := parseEpoch(hdr.Get("x-rate-limit-reset")); ok {
		rl.Reset = reset
	} else if secs, err := strconv.Atoi(strings.TrimSpace(hdr.Get("Retry-After"))); err == nil && secs >= 0 {
		rl.Reset = c.now().Add(time.Duration(secs) * time.Second)
	}
	return rl
}

// noteLimits records the rate-limit headers of a response.
func (c *Client) noteLimits(endpoint string, h http.Header) {
	remaining, err := strconv.Atoi(strings.TrimSpace(h.Get("x-rate-limit-remaining")))
	if err != nil {
		return
	}
	reset, ok := parseEpoch(h.Get("x-rate-limit-reset"))
	if !ok {
		return
	}
	c.mu.Lock()
	c.limits[endpoint] = rateLimit{remaining: remaining, reset: reset}
	c.mu.Unlock()
	if c.onLimit != nil {
		c.onLimit(endpoint, remaining)
	}
}

// RateLimitWait returns how long to wait before calling endpoint again: until
// the window resets (plus a second of slack) when the last response said
// x-rate-limit-remaining: 0, else 0.
func (c *Client) RateLimitWait(endpoint string) (time.Duration, time.Time) {
	c.mu.Lock()
	rl, ok := c.limits[endpoint]
	c.mu.Unlock()
	if !ok || rl.remaining > 0 {
		return 0, time.Time{}
	}
	d := rl.reset.Sub(c.now())
	if d <= 0 {
		return 0, time.Time{}
	}
	return d + time.Second, rl.reset
}

func parseEpoch(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// problemOf decodes an error body; a body that is not a problem object
// still yields a problem named after the HTTP status.
func problemOf(data []byte, status int) Problem {
	var p Problem
	if err := json.Unmarshal(data, &p); err != nil || (p.Title == "" && p.Detail == "" && p.Message == "") {
		// The older shape: {"errors":[{"code":88,"message":"..."}]}.
		var wrapped struct {
			Errors []Problem `json:"errors"`
		}
		if json.Unmarshal(data, &wrapped) == nil && len(wrapped.Errors) > 0 {
			p = wrapped.Errors[0]
		}
	}
	if p.Title == "" && p.Message == "" {
		p.Title = http.StatusText(status)
	}
	if p.Status == 0 {
		p.Status = status
	}
	return p
}

// APIError is a non-2xx answer of the API. 401 and 403 unwrap to
// connectors.ErrUnauthorized.
type APIError struct {
	Endpoint string
	Status   int
	Problem  Problem
}

// Error names the endpoint, the HTTP status and X's problem.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.Endpoint, e.Status, e.Problem)
}

// Unwrap marks credential failures.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		return connectors.ErrUnauthorized
	}
	return nil
}

// staleID reports whether e is X refusing a since_id or until_id, as
// recent search does for ids older than its 7-day window.
func (e *APIError) staleID() bool {
	if e.Status != http.StatusBadRequest {
		return false
	}
	for _, pe := range e.Problem.Errors {
		for param := range pe.Parameters {
			if param == "since_id" || param == "until_id" {
				return true
			}
		}
	}
	return false
}

// RateLimitError is a 429 answer; Reset is when the window reopens (zero
// when X did not say).
type RateLimitError struct {
	Endpoint string
	Reset    time.Time
	Problem  Problem
}

// Error names the endpoint and when the window reopens.
func (e *RateLimitError) Error() string {
	if e.Reset.IsZero() {
		return fmt.Sprintf("%s: rate limited (HTTP 429: %s)", e.Endpoint, e.Problem)
	}
	return fmt.Sprintf("%s: rate limited until %s (HTTP 429: %s)", e.Endpoint, e.Reset.UTC().Format(time.RFC3339), e.Problem)
}

// DecodeError is a 200 answer whose body is not the expected JSON.
type DecodeError struct {
	Endpoint string
	Err      error
}

// Error names the endpoint and what did not decode.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("%s: malformed response: %v", e.Endpoint, e.Err)
}

// Unwrap returns the decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// OAuthError is a refused token refresh. Rejected grants and client
// credentials unwrap to connectors.ErrUnauthorized.
type OAuthError struct {
	Status      int
	Code        string
	Description string
}

// Error names the token endpoint, the status and the OAuth error.
func (e *OAuthError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d", EndpointToken, e.Status)
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + message.Clip(e.Description, 300)
	}
	return msg
}

// Unwrap marks credential failures.
func (e *OAuthError) Unwrap() error {
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return connectors.ErrUnauthorized
	case e.Code == "invalid_grant" || e.Code == "invalid_request" || e.Code == "invalid_client" || e.Code == "unauthorized_client":
		return connectors.ErrUnauthorized
	}
	return nil
}

// retry decides after a failed attempt (5xx or network) of at most
// retries+1: it waits and returns true when another attempt may follow,
// else the error to give up with (the context's, when it ended).
func (c *Client) retry(ctx context.Context, attempt, retries int, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if attempt >= retries {
		return false, err
	}
	if serr := c.sleep(ctx, c.Backoff.Delay(attempt+1)); serr != nil {
		return false, serr
	}
	return true, nil
}
