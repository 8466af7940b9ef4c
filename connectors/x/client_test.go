package x

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/x/xtest"
)

// testClient returns a client of api that never sleeps.
func testClient(api *xtest.Server) *Client {
	c := NewClient(api.URL, nil)
	c.App = StaticToken(api.AppToken)
	c.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return c
}

func fields(v string) []string { return strings.Split(v, ",") }

// TestClientRequestsAsDocumented checks every parameter the client sends
// against the API reference: the fake answers 400 to an unknown parameter,
// and only returns the fields and expansions asked for.
func TestClientRequestsAsDocumented(t *testing.T) {
	api := xtest.New(t)
	api.Now = func() time.Time { return t0.Add(time.Hour) }
	api.AddUser(xtest.User{ID: "2001", Username: "maija", Name: "Maija"}, xtest.User{ID: account, Username: "acme", Name: "Acme"})
	parent := xtest.Post{ID: pid(1), Text: "parent", AuthorID: account, Terms: []string{"acme"}}
	reply := xtest.Post{ID: pid(2), Text: "@acme reply", AuthorID: "2001", Lang: "fi", ConversationID: pid(1),
		Refs: []xtest.Ref{{Type: "replied_to", ID: pid(1)}}, Mentions: []string{account}, Terms: []string{"acme"}}
	api.AddPost(parent, reply)
	c := testClient(api)
	ctx := t.Context()

	for _, call := range []struct {
		name string
		get  func() (*TweetPage, error)
	}{
		{"mentions", func() (*TweetPage, error) {
			return c.Mentions(ctx, account, PageQuery{SinceID: "1", MaxResults: 5})
		}},
		{"search", func() (*TweetPage, error) {
			return c.SearchRecent(ctx, "acme -is:retweet", PageQuery{SinceID: pid(0), MaxResults: 10})
		}},
	} {
		t.Run(call.name, func(t *testing.T) {
			page, err := call.get()
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Data) != 1 && call.name == "mentions" || page.Meta.ResultCount != len(page.Data) || page.Meta.NewestID != pid(2) {
				t.Fatalf("page %+v", page)
			}
			if len(page.Includes.Users) == 0 || len(page.Includes.Tweets) == 0 {
				t.Fatalf("includes %+v: author_id and referenced_tweets.id were not expanded", page.Includes)
			}
			reqs := api.Requests("")
			q := reqs[len(reqs)-1].Query
			for _, f := range []string{"created_at", "conversation_id", "lang", "referenced_tweets", "author_id"} {
				if !slices.Contains(fields(q.Get("tweet.fields")), f) {
					t.Errorf("tweet.fields %q lacks %s", q.Get("tweet.fields"), f)
				}
			}
			if q.Get("expansions") != "author_id,referenced_tweets.id" || q.Get("user.fields") != "username,name" {
				t.Errorf("expansions %q user.fields %q", q.Get("expansions"), q.Get("user.fields"))
			}
			var tw Tweet
			if err := json.Unmarshal(page.Data[0], &tw); err != nil || tw.ConversationID != pid(1) || tw.AuthorID != "2001" || tw.CreatedAt == "" || tw.Lang != "fi" {
				t.Fatalf("post %+v (%v): asked-for fields missing", tw, err)
			}
		})
	}

	// Paging: next_token comes back, and passing it continues.
	page, err := c.Mentions(ctx, account, PageQuery{MaxResults: 5})
	if err != nil || page.Meta.NextToken != "" {
		t.Fatalf("one page expected: %+v %v", page, err)
	}
}

// TestClientErrors maps every kind of failure to the right error.
func TestClientErrors(t *testing.T) {
	tests := []struct {
		name         string
		fault        xtest.Fault
		unauthorized bool
		check        func(t *testing.T, err error)
	}{
		{name: "401 problem", fault: xtest.Fault{Status: 401, Body: `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`},
			unauthorized: true, check: wantMsg("GET /2/users/:id/mentions: HTTP 401: Unauthorized")},
		{name: "403 problem", fault: xtest.Fault{Status: 403, Body: `{"title":"Forbidden","type":"about:blank","status":403,"detail":"Forbidden"}`},
			unauthorized: true, check: wantMsg("HTTP 403: Forbidden")},
		{name: "400 invalid request", fault: xtest.Fault{Status: 400, Body: `{"errors":[{"parameters":{"since_id":["1"]},"message":"Invalid 'since_id':'1'."}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}`},
			check: func(t *testing.T, err error) {
				var ae *APIError
				if !errors.As(err, &ae) || !ae.staleID() || !strings.Contains(err.Error(), "Invalid 'since_id'") {
					t.Fatalf("%v: want a stale since_id error", err)
				}
			}},
		{name: "429 with reset", fault: xtest.Fault{Status: 429, Body: `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`,
			Header: http.Header{"X-Rate-Limit-Reset": {"1741608300"}, "X-Rate-Limit-Remaining": {"0"}}},
			check: func(t *testing.T, err error) {
				var rl *RateLimitError
				if !errors.As(err, &rl) || rl.Reset.Unix() != 1741608300 || !strings.Contains(err.Error(), "2025-03-10T12:05:00Z") {
					t.Fatalf("%v: want a rate limit until the reset", err)
				}
			}},
		{name: "429 retry-after", fault: xtest.Fault{Status: 429, Body: `{"errors":[{"code":88,"message":"Rate limit exceeded"}]}`, Header: http.Header{"Retry-After": {"60"}}},
			check: func(t *testing.T, err error) {
				var rl *RateLimitError
				if !errors.As(err, &rl) || rl.Reset.IsZero() || !strings.Contains(err.Error(), "Rate limit exceeded") {
					t.Fatalf("%v", err)
				}
			}},
		{name: "malformed 200", fault: xtest.Fault{Status: 200, Body: `{"data":[`},
			check: func(t *testing.T, err error) {
				var de *DecodeError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), "malformed response") {
					t.Fatalf("%v", err)
				}
			}},
		{name: "HTML 200", fault: xtest.Fault{Status: 200, Body: `<html>maintenance</html>`},
			check: func(t *testing.T, err error) {
				var de *DecodeError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), "not a JSON object") {
					t.Fatalf("%v", err)
				}
			}},
		{name: "HTML 404", fault: xtest.Fault{Status: 404, Body: `<html>no</html>`}, check: wantMsg("HTTP 404: Not Found")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := xtest.New(t)
			api.AddUser(xtest.User{ID: account})
			api.Fail(xtest.Mentions, tt.fault)
			c := testClient(api)
			c.now = func() time.Time { return t0 }
			_, err := c.Mentions(t.Context(), account, PageQuery{MaxResults: 5})
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, connectors.ErrUnauthorized) != tt.unauthorized {
				t.Fatalf("%v: unauthorized=%v, want %v", err, !tt.unauthorized, tt.unauthorized)
			}
			tt.check(t, err)
			if strings.Contains(err.Error(), api.AppToken) {
				t.Fatalf("error shows the token: %v", err)
			}
		})
	}
}

func wantMsg(s string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q lacks %q", err, s)
		}
	}
}

// TestClientRetries5xx: 5xx answers are retried with growing waits, then
// the last error is returned; a success in between ends the retries.
func TestClientRetries5xx(t *testing.T) {
	api := xtest.New(t)
	api.AddUser(xtest.User{ID: account})
	api.AddPost(mention(1, "a"))
	c := testClient(api)
	var waits []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }

	api.Fail(xtest.Mentions, xtest.Fault{Status: 502}, xtest.Fault{Status: 503})
	page, err := c.Mentions(t.Context(), account, PageQuery{MaxResults: 5})
	if err != nil || len(page.Data) != 1 {
		t.Fatalf("after two 5xx: %v %+v", err, page)
	}
	if len(waits) != 2 || waits[0] < c.Backoff.Ceiling(1)/2 || waits[0] > c.Backoff.Ceiling(1) ||
		waits[1] < c.Backoff.Ceiling(2)/2 || waits[1] > c.Backoff.Ceiling(2) {
		t.Fatalf("waits %v, want the backoff's first two (up to 1s, then up to 2s)", waits)
	}
	api.Fail(xtest.Mentions, xtest.Fault{Status: 500}, xtest.Fault{Status: 500}, xtest.Fault{Status: 500})
	_, err = c.Mentions(t.Context(), account, PageQuery{MaxResults: 5})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 500 || errors.Is(err, connectors.ErrUnauthorized) {
		t.Fatalf("after three 5xx: %v", err)
	}
}

// TestClientNetworkErrorHidesURL: a transport failure names the endpoint,
// never the URL with the search text.
func TestClientNetworkErrorHidesURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := NewClient("http://"+addr, &http.Client{Timeout: time.Second})
	c.App = StaticToken("tok-secret")
	c.sleep = func(ctx context.Context, _ time.Duration) error { return nil }
	_, err = c.SearchRecent(t.Context(), "secret-campaign", PageQuery{MaxResults: 10})
	if err == nil || !strings.Contains(err.Error(), EndpointSearch) || strings.Contains(err.Error(), "secret-campaign") || strings.Contains(err.Error(), "tok-secret") {
		t.Fatalf("error %v", err)
	}
}

// TestRateLimitWait: x-rate-limit-remaining 0 makes the client report the
// wait until x-rate-limit-reset; any remaining requests mean no wait.
func TestRateLimitWait(t *testing.T) {
	now := t0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-rate-limit-limit", "10")
		w.Header().Set("x-rate-limit-remaining", r.URL.Query().Get("left"))
		w.Header().Set("x-rate-limit-reset", "1741608600") // t0 + 10m
		w.Write([]byte(`{"meta":{"result_count":0}}`))
	}))
	defer srv.Close()
	c := NewClient(srv.URL, nil)
	c.App = StaticToken("t")
	c.now = func() time.Time { return now }
	get := func(left string) {
		t.Helper()
		if _, err := c.get(t.Context(), EndpointSearch, "/", map[string][]string{"left": {left}}, c.App, c.Retries); err != nil {
			t.Fatal(err)
		}
	}
	get("3")
	if d, _ := c.RateLimitWait(EndpointSearch); d != 0 {
		t.Fatalf("wait %v with requests left", d)
	}
	get("0")
	if d, reset := c.RateLimitWait(EndpointSearch); d != 10*time.Minute+time.Second || reset.Unix() != 1741608600 {
		t.Fatalf("wait %v until %v", d, reset)
	}
	if d, _ := c.RateLimitWait(EndpointMentions); d != 0 {
		t.Fatal("limits are per endpoint")
	}
	now = t0.Add(11 * time.Minute)
	if d, _ := c.RateLimitWait(EndpointSearch); d != 0 {
		t.Fatalf("wait %v after the reset", d)
	}
}

// TestRefreshToken: the refresh grant as documented, the rotated token
// returned, a refused grant unauthorized.
func TestRefreshToken(t *testing.T) {
	api := xtest.New(t)
	c := testClient(api)
	rt := api.IssueRefreshToken()
	tr, err := c.RefreshToken(t.Context(), api.ClientID, "", rt)
	if err != nil {
		t.Fatal(err)
	}
	if tr.AccessToken == "" || tr.RefreshToken == "" || tr.RefreshToken == rt || tr.ExpiresIn != 7200 || tr.TokenType != "bearer" {
		t.Fatalf("token response %+v", tr)
	}
	form := api.Requests(xtest.Token)[0].Form
	if form.Get("grant_type") != "refresh_token" || form.Get("refresh_token") != rt || form.Get("client_id") != api.ClientID {
		t.Fatalf("form %v", form)
	}
	_, err = c.RefreshToken(t.Context(), api.ClientID, "", rt) // single use
	var oe *OAuthError
	if !errors.As(err, &oe) || !errors.Is(err, connectors.ErrUnauthorized) || !strings.Contains(err.Error(), "Value passed for the token was invalid") {
		t.Fatalf("reused refresh token: %v", err)
	}
	if strings.Contains(err.Error(), rt) {
		t.Fatal("error shows the refresh token")
	}

	api.ClientSecret = "s3cret"
	tr2, err := c.RefreshToken(t.Context(), api.ClientID, "s3cret", tr.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if got := api.Requests(xtest.Token); !strings.HasPrefix(got[len(got)-1].Auth, "Basic ") {
		t.Fatalf("confidential client sent Authorization %q", got[len(got)-1].Auth)
	}
	api.Fail(xtest.Token, xtest.Fault{Status: 200, Body: `{"access_token":`})
	_, err = c.RefreshToken(t.Context(), api.ClientID, "s3cret", tr2.RefreshToken)
	var de *DecodeError
	if !errors.As(err, &de) || strings.Contains(err.Error(), "access_token\":") {
		t.Fatalf("malformed token response: %v", err)
	}
}

func fmtV(v any) string { return fmt.Sprintf("%v %+v %#v", v, v, v) }

// TestSecretsDoNotPrint: tokens held by the client never show in %v.
func TestSecretsDoNotPrint(t *testing.T) {
	tok := StaticToken("app-secret")
	ut := NewUserToken(nil, "id", "client-secret", "refresh-secret", &memTokens{}, nil, nil)
	for _, s := range []string{fmtV(tok), fmtV(ut), fmtV(&Client{App: tok, User: ut})} {
		if strings.Contains(s, "secret") && !strings.Contains(s, "[redacted]") || strings.Contains(s, "app-secret") || strings.Contains(s, "refresh-secret") || strings.Contains(s, "client-secret") {
			t.Fatalf("printed a secret: %s", s)
		}
	}
}

// TestMe: GET /2/users/me names the user the user token acts for; X's
// failures come back as they are, a 5xx without a retry.
func TestMe(t *testing.T) {
	api := xtest.New(t)
	api.AddUser(xtest.User{ID: account, Username: "acme", Name: "Acme Oy"})
	c := testClient(api)
	tr, err := c.RefreshToken(t.Context(), api.ClientID, "", api.IssueRefreshToken())
	if err != nil {
		t.Fatal(err)
	}
	c.User = StaticToken(tr.AccessToken)
	me, err := c.Me(t.Context())
	if err != nil || *me != (User{ID: account, Name: "Acme Oy", Username: "acme"}) {
		t.Fatalf("Me: %+v, %v", me, err)
	}
	if q := api.Requests(xtest.Me)[0].Query; len(q) != 0 {
		t.Fatalf("query %v: the default fields are all it needs", q)
	}

	var de *DecodeError
	var ae *APIError
	for _, tt := range []struct {
		name  string
		fault xtest.Fault
		is    func(error) bool
	}{
		{"503", xtest.Fault{Status: 503, Body: `{"title":"Service Unavailable"}`}, func(err error) bool { return errors.As(err, &ae) && ae.Status == 503 }},
		{"HTML", xtest.Fault{Body: `<html>`}, func(err error) bool { return errors.As(err, &de) }},
		{"no data", xtest.Fault{Body: `{"data":{"name":"x"}}`}, func(err error) bool { return errors.As(err, &de) }},
		{"errors only", xtest.Fault{Body: `{"errors":[{"title":"Not Found Error","detail":"gone"}]}`}, func(err error) bool {
			return strings.Contains(err.Error(), "errors only: Not Found Error: gone")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(api.Requests(xtest.Me))
			api.Fail(xtest.Me, tt.fault)
			if _, err := c.Me(t.Context()); err == nil || !tt.is(err) {
				t.Fatalf("Me: %v", err)
			}
			if n := len(api.Requests(xtest.Me)) - before; n != 1 {
				t.Fatalf("%d requests, want 1: Me is not retried", n)
			}
		})
	}

	c.User = c.App
	if _, err := c.Me(t.Context()); !errors.Is(err, connectors.ErrUnauthorized) {
		t.Fatalf("Me with the app-only token: %v", err)
	}
}
