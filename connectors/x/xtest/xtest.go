// Package xtest is a fake X API v2 for tests: an httptest server serving
// the endpoints the x connector uses, with the response shapes of the public
// API reference:
//
//   - GET /2/users/:id/mentions, GET /2/users/:id/tweets (the user's own
//     posts, exclude=retweets,replies) and GET /2/tweets/search/recent: "data"
//     (only the fields asked for in tweet.fields), "includes.users"
//     (expansions=author_id), "includes.tweets" (expansions=
//     referenced_tweets.id, with a resource-not-found entry in "errors"
//     beside "data" for a referenced post that is gone), and "meta" with
//     newest_id, oldest_id, result_count and next_token; since_id, until_id,
//     max_results and pagination_token / next_token as documented, newest
//     first; an empty page is {"meta":{"result_count":0}} (with a next_token
//     when Filtered posts filled it: X filters after paging);
//   - GET /2/dm_events: newest first, max_results 1-100, pagination_token,
//     event_types, dm_event.fields, expansions=sender_id; no since_id (an
//     unknown parameter is a 400 invalid-request problem, as on X);
//   - GET /2/users/me: the user a request's user context acts for (data
//     with id, name and username, the default fields); user context only,
//     so the app-only token is a 403, as the reference says; where it is
//     silent the fake is strict: an OAuth 2.0 token must hold the scopes
//     the reference lists (tweet.read, users.read), and the user limit of
//     75 requests per 15 minutes applies by default;
//   - POST /2/oauth2/token with grant_type=refresh_token: single-use,
//     rotating refresh tokens, each acting for the user it was issued for
//     (AccountID, or another account: IssueRefreshTokenFor); access tokens
//     that expire;
//   - OAuth 1.0a user context (RFC 5849, HMAC-SHA1) on every endpoint that
//     takes a user: signatures verified, stale timestamps and reused nonces
//     refused with a 401 (oauth1.go);
//   - problem JSON on 4xx ({"title","detail","type","status"}), the
//     x-rate-limit-limit / -remaining / -reset headers on every answer and a
//     429 once a window's requests are spent.
//
// Faults (a 503, a malformed body, a canned 429) can be queued per endpoint.
package xtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Endpoint names used by Fail, Requests, Limits and OnRequest.
const (
	Mentions   = "mentions"
	UserTweets = "user_tweets"
	Search     = "search"
	DMEvents   = "dm_events"
	Me         = "users_me"
	Token      = "token"
)

// Problem types the fake answers with, as on X.
const (
	TypeInvalidRequest            = "https://api.twitter.com/2/problems/invalid-request"
	TypeNotFound                  = "https://api.twitter.com/2/problems/resource-not-found"
	TypeUnsupportedAuthentication = "https://api.twitter.com/2/problems/unsupported-authentication"
)

// twitterEpoch is the Snowflake epoch in Unix milliseconds.
const twitterEpoch = 1288834974657

// Snowflake returns the X id of an item created at t (seq tells apart items
// of the same millisecond, 0-4095). Ids of later items compare greater.
func Snowflake(t time.Time, seq int) string {
	ms := t.UnixMilli() - twitterEpoch
	return strconv.FormatUint(uint64(ms)<<22|uint64(seq&0xfff), 10)
}

// Ref is a referenced post: type replied_to, quoted or retweeted.
type Ref struct {
	Type string
	ID   string
}

// Post is a post the fake serves.
type Post struct {
	ID             string
	Text           string
	AuthorID       string
	ConversationID string
	Lang           string
	CreatedAt      time.Time
	// InReplyToUserID is set on replies.
	InReplyToUserID string
	// Refs are the referenced posts (reply parent, quoted, retweeted).
	Refs []Ref
	// Mentions are the user ids the post mentions: it is in their mentions
	// timelines.
	Mentions []string
	// Terms are what it matches in recent search: a query matches the post
	// when the query contains one of them.
	Terms []string
	// Raw, when set, is sent verbatim as the post's data item (malformed
	// posts).
	Raw json.RawMessage
	// Filtered drops the post from answers after paging (deleted or
	// protected meanwhile): the page it falls on is short, possibly empty,
	// while meta.next_token still leads on.
	Filtered bool
}

// DM is a DM event the fake serves.
type DM struct {
	ID             string
	EventType      string // MessageCreate (default), ParticipantsJoin, ParticipantsLeave
	Text           string
	SenderID       string
	ConversationID string
	CreatedAt      time.Time
	// RefTweetID is a shared post.
	RefTweetID string
	// Raw, when set, is sent verbatim as the event's data item.
	Raw json.RawMessage
	// Filtered drops the event from answers after paging, like
	// Post.Filtered.
	Filtered bool
}

// eventType is the DM's event type, MessageCreate when left out.
func (d DM) eventType() string {
	if d.EventType == "" {
		return "MessageCreate"
	}
	return d.EventType
}

// User is an account the fake knows.
type User struct {
	ID, Username, Name string
}

// Fault is a canned answer served instead of the real one.
type Fault struct {
	Status int // 0 means 200
	Body   string
	Header http.Header
	// Sticky keeps the fault for every later request.
	Sticky bool
}

// Request is one request the fake received.
type Request struct {
	Endpoint string
	Query    url.Values
	// Auth is the Authorization header.
	Auth string
	// Form is the body of a token request.
	Form url.Values
}

// Server is a running fake X API. Configure it before the code under test
// starts; the Add* methods and Fail are safe to call at any time.
type Server struct {
	// URL is the base URL to configure as the API host.
	URL string
	// AppToken is the app-only bearer token mentions and search accept.
	AppToken string
	// AccountID is the user the account's user context acts for: the
	// OAuth 1.0a access token (which begins with it) and the refresh tokens
	// IssueRefreshToken hands out.
	AccountID string
	// ClientID and ClientSecret are the OAuth 2.0 client; with a secret the
	// token endpoint requires HTTP basic authentication.
	ClientID, ClientSecret string
	// ConsumerKey and ConsumerSecret are the App's OAuth 1.0a consumer
	// credentials (its API Key and Secret), AccessToken and
	// AccessTokenSecret the account's: requests signed with them are the
	// account's user context.
	ConsumerKey, ConsumerSecret, AccessToken, AccessTokenSecret string
	// OAuth1Window is how far an oauth_timestamp may be from the fake's
	// clock, either way (default 5m).
	OAuth1Window time.Duration
	// AccessTTL is the lifetime of issued access tokens (default 2h).
	AccessTTL time.Duration
	// Scope is the scope reported for issued tokens.
	Scope string
	// Limits caps requests per Window per endpoint and token (0 or absent:
	// no limit, but the headers are still sent with a limit of 1000).
	Limits map[string]int
	// Window is the rate-limit window (default 15m).
	Window time.Duration
	// SearchWindow is how far back recent search reaches (default 7 days):
	// an older since_id or until_id is a 400 invalid-request problem.
	SearchWindow time.Duration
	// Now is the fake's clock (default time.Now).
	Now func() time.Time
	// OnRequest, when set, is called before each request is served, with the
	// endpoint and how many requests it had (1 for the first). Tests use it
	// to add posts while a poll pages.
	OnRequest func(endpoint string, n int)

	srv *httptest.Server

	mu    sync.Mutex
	users map[string]User
	posts map[string]Post
	dms   map[string]DM
	// refresh maps each valid refresh token to the user it acts for.
	refresh  map[string]string
	access   map[string]userToken
	faults   map[string][]Fault
	requests []Request
	counts   map[string]int
	windows  map[string]*window
	tokenGen int
	// nonces holds every OAuth 1.0a nonce accepted; oauth1Revoked makes
	// the access token invalid; oauth1Failures lists refusal reasons.
	nonces         map[string]bool
	oauth1Revoked  bool
	oauth1Failures []string
}

// userToken is an issued OAuth 2.0 user access token.
type userToken struct {
	user, scope string
	expiry      time.Time
}

type window struct {
	used  int
	reset time.Time
}

// New starts a fake X API that t closes at its end.
func New(t testing.TB) *Server {
	const account = "1500000000000000001"
	s := &Server{
		AppToken:    "app-token-" + randHex(),
		AccountID:   account,
		ClientID:    "client-id",
		ConsumerKey: "consumer-key-" + randHex(),
		// The secrets hold characters that percent-encoding must handle.
		ConsumerSecret:    "consumer secret+" + randHex(),
		AccessToken:       account + "-" + randHex(),
		AccessTokenSecret: "token/secret~" + randHex(),
		OAuth1Window:      5 * time.Minute,
		nonces:            map[string]bool{},
		AccessTTL:         2 * time.Hour,
		Scope:             "tweet.read users.read dm.read offline.access",
		Limits:            map[string]int{Me: 75},
		Window:            15 * time.Minute,
		SearchWindow:      7 * 24 * time.Hour,
		Now:               time.Now,
		users:             map[string]User{},
		posts:             map[string]Post{},
		dms:               map[string]DM{},
		refresh:           map[string]string{},
		access:            map[string]userToken{},
		faults:            map[string][]Fault{},
		counts:            map[string]int{},
		windows:           map[string]*window{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2/users/{id}/mentions", s.serveMentions)
	mux.HandleFunc("GET /2/users/{id}/tweets", s.serveUserTweets)
	mux.HandleFunc("GET /2/tweets/search/recent", s.serveSearch)
	mux.HandleFunc("GET /2/dm_events", s.serveDMEvents)
	mux.HandleFunc("GET /2/users/me", s.serveMe)
	mux.HandleFunc("POST /2/oauth2/token", s.serveToken)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

func randHex() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// AddUser makes users known (for expansions and mentions timelines).
func (s *Server) AddUser(us ...User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range us {
		s.users[u.ID] = u
	}
}

// AddPost adds or replaces posts.
func (s *Server) AddPost(ps ...Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		s.posts[p.ID] = p
	}
}

// AddDM adds DM events.
func (s *Server) AddDM(ds ...DM) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range ds {
		s.dms[d.ID] = d
	}
}

// IssueRefreshToken returns a new valid refresh token of the account
// (AccountID), as the authorization flow would.
func (s *Server) IssueRefreshToken() string {
	return s.IssueRefreshTokenFor(s.AccountID)
}

// IssueRefreshTokenFor returns a new valid refresh token acting for user
// (as the authorization flow would, logged in as that user): the access
// tokens and rotated refresh tokens issued for it act for user too.
func (s *Server) IssueRefreshTokenFor(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "rt-" + randHex()
	s.refresh[tok] = user
	return tok
}

// ValidRefreshTokens returns the refresh tokens not used yet.
func (s *Server) ValidRefreshTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t := range s.refresh {
		out = append(out, t)
	}
	return out
}

// ExpireAccessTokens makes every issued access token invalid (as if they
// had expired or been revoked early).
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access = map[string]userToken{}
}

// RevokeRefreshTokens makes every refresh token invalid (the user revoked
// the app).
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh = map[string]string{}
}

// RevokeOAuth1 makes the OAuth 1.0a access token invalid (the account
// revoked the App, or the token was regenerated).
func (s *Server) RevokeOAuth1() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth1Revoked = true
}

// OAuth1Failures returns why OAuth 1.0a requests were refused, in order.
func (s *Server) OAuth1Failures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.oauth1Failures)
}

// InvalidatePaginationTokens makes every pagination token handed out so far
// invalid.
func (s *Server) InvalidatePaginationTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenGen++
}

// Fail queues faults for endpoint, served in order to its next requests.
func (s *Server) Fail(endpoint string, fs ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = append(s.faults[endpoint], fs...)
}

// Requests returns the requests endpoint received ("" for all), in order.
func (s *Server) Requests(endpoint string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if endpoint == "" || r.Endpoint == endpoint {
			out = append(out, r)
		}
	}
	return out
}

// begin records a request, serves a queued fault (exactly as given: no
// rate-limit headers unless the fault has them) and applies the rate limit.
// It reports whether the request was answered already.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, endpoint string, form url.Values) bool {
	s.mu.Lock()
	s.counts[endpoint]++
	n := s.counts[endpoint]
	s.requests = append(s.requests, Request{Endpoint: endpoint, Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), Form: form})
	hook := s.OnRequest
	s.mu.Unlock()
	if hook != nil {
		hook(endpoint, n)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.faults[endpoint]; len(q) > 0 {
		f := q[0]
		if !f.Sticky {
			s.faults[endpoint] = q[1:]
		}
		for k, vs := range f.Header {
			for _, v := range vs {
				w.Header().Set(k, v)
			}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(f.Body))
		return true
	}
	if endpoint != Token {
		if limited := s.rateLimit(w, endpoint, r.Header.Get("Authorization")); limited {
			writeJSON(w, http.StatusTooManyRequests, problem("Too Many Requests", "Too Many Requests", "about:blank", http.StatusTooManyRequests))
			return true
		}
	}
	return false
}

// rateLimit sets the x-rate-limit-* headers and reports whether the
// window's requests are spent.
func (s *Server) rateLimit(w http.ResponseWriter, endpoint, auth string) bool {
	limit := s.Limits[endpoint]
	shown := limit
	if shown == 0 {
		shown = 1000
	}
	now := s.Now()
	// Limits apply per app (bearer token) or per user (user tokens).
	who := "user"
	if auth == "Bearer "+s.AppToken {
		who = "app"
	}
	key := endpoint + "\x00" + who
	win := s.windows[key]
	if win == nil || !now.Before(win.reset) {
		win = &window{reset: now.Add(s.Window)}
		s.windows[key] = win
	}
	win.used++
	remaining := shown - win.used
	if remaining < 0 {
		remaining = 0
	}
	w.Header().Set("x-rate-limit-limit", strconv.Itoa(shown))
	w.Header().Set("x-rate-limit-remaining", strconv.Itoa(remaining))
	w.Header().Set("x-rate-limit-reset", strconv.FormatInt(win.reset.Unix(), 10))
	return limit > 0 && win.used > limit
}

func problem(title, detail, typ string, status int) map[string]any {
	return map[string]any{"title": title, "detail": detail, "type": typ, "status": status}
}

func invalidRequest(param, value, msg string) map[string]any {
	return map[string]any{
		"errors": []any{map[string]any{
			"parameters": map[string][]string{param: {value}},
			"message":    msg,
		}},
		"title":  "Invalid Request",
		"detail": "One or more parameters to your request was invalid.",
		"type":   TypeInvalidRequest,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// checkParams answers 400 for a parameter the endpoint does not know.
func checkParams(w http.ResponseWriter, q url.Values, allowed ...string) bool {
	for k := range q {
		if !slices.Contains(allowed, k) {
			writeJSON(w, http.StatusBadRequest, invalidRequest(k, q.Get(k),
				fmt.Sprintf("The query parameter [%s] is not one of [%s]", k, strings.Join(allowed, ","))))
			return false
		}
	}
	return true
}

// maxResults parses max_results within [lo, hi], defaulting to def.
func maxResults(w http.ResponseWriter, q url.Values, lo, hi, def int) (int, bool) {
	v := q.Get("max_results")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		writeJSON(w, http.StatusBadRequest, invalidRequest("max_results", v,
			fmt.Sprintf("The `max_results` query parameter value [%s] is not between %d and %d", v, lo, hi)))
		return 0, false
	}
	return n, true
}

func validID(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func cmpID(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// idTime is the creation time in a Snowflake id.
func idTime(id string) time.Time {
	n, _ := strconv.ParseUint(id, 10, 64)
	return time.UnixMilli(int64(n>>22) + twitterEpoch)
}

// cursor encodes "continue below id" for endpoint.
func (s *Server) cursor(endpoint, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d:%s", endpoint, s.tokenGen, id)))
}

func (s *Server) decodeCursor(endpoint, tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != endpoint || parts[1] != strconv.Itoa(s.tokenGen) || !validID(parts[2]) {
		return "", false
	}
	return parts[2], true
}

// caller is who a request authenticates as.
type caller int

const (
	callerNone caller = iota
	callerApp         // the app-only bearer token
	callerUser        // an OAuth 2.0 user access token or an OAuth 1.0a signature
)

// identity is who a request authenticates as.
type identity struct {
	caller caller
	// user is the user id user context acts for.
	user string
	// scope lists an OAuth 2.0 user token's scopes; oauth1 marks OAuth
	// 1.0a, which has the App's permissions instead.
	scope  string
	oauth1 bool
}

// authenticate checks the Authorization header. s.mu must not be held.
func (s *Server) authenticate(r *http.Request) identity {
	h := r.Header.Get("Authorization")
	if scheme, _, _ := strings.Cut(h, " "); strings.EqualFold(scheme, "OAuth") {
		if why := s.checkOAuth1(r); why != "" {
			s.mu.Lock()
			s.oauth1Failures = append(s.oauth1Failures, why)
			s.mu.Unlock()
			return identity{}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return identity{caller: callerUser, user: s.AccountID, oauth1: true}
	}
	tok, _ := strings.CutPrefix(h, "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	ut, user := s.access[tok]
	switch {
	case tok == "":
		return identity{}
	case tok == s.AppToken:
		return identity{caller: callerApp}
	case user && s.Now().Before(ut.expiry):
		return identity{caller: callerUser, user: ut.user, scope: ut.scope}
	}
	return identity{}
}

// userContext answers a request that does not authenticate as a user, as
// the endpoints that take user context only do: 403 for the app-only
// token, 401 without valid credentials. It reports whether id is a user.
func userContext(w http.ResponseWriter, id identity) bool {
	switch id.caller {
	case callerApp:
		writeJSON(w, http.StatusForbidden, problem("Unsupported Authentication",
			"Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
			TypeUnsupportedAuthentication, http.StatusForbidden))
		return false
	case callerNone:
		unauthorized(w)
		return false
	}
	return true
}

func unauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, problem("Unauthorized", "Unauthorized", "about:blank", http.StatusUnauthorized))
}

// appAuth accepts the app bearer token and user context alike, as the post
// timelines and search do.
func (s *Server) appAuth(w http.ResponseWriter, r *http.Request) bool {
	if s.authenticate(r).caller == callerNone {
		unauthorized(w)
		return false
	}
	return true
}

var tweetParams = []string{"since_id", "until_id", "max_results", "start_time", "end_time",
	"expansions", "tweet.fields", "user.fields", "media.fields", "place.fields", "poll.fields"}

// knownUser reports whether the path's user id is a user of the fake, and
// answers X's Not Found error (with status 200, as X does) when it is not.
// s.mu is held.
func (s *Server) knownUser(w http.ResponseWriter, id string) bool {
	if _, known := s.users[id]; !known {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []any{map[string]any{
			"value": id, "detail": fmt.Sprintf("Could not find user with id: [%s].", id), "title": "Not Found Error",
			"resource_type": "user", "parameter": "id", "resource_id": id, "type": TypeNotFound,
		}}})
		return false
	}
	return true
}

// timelineQuery begins a request for the timeline (endpoint Mentions or
// UserTweets) of the user id in the path: it authenticates the app and
// checks the parameters (pagination_token, tweetParams and the timeline's
// extra ones) and max_results (5-100, default 10). On false it has
// answered.
func (s *Server) timelineQuery(w http.ResponseWriter, r *http.Request, endpoint string, extra ...string) (q url.Values, id string, n int, ok bool) {
	if s.begin(w, r, endpoint, nil) || !s.appAuth(w, r) {
		return nil, "", 0, false
	}
	q = r.URL.Query()
	if !checkParams(w, q, slices.Concat([]string{"pagination_token"}, extra, tweetParams)...) {
		return nil, "", 0, false
	}
	n, ok = maxResults(w, q, 5, 100, 10)
	return q, r.PathValue("id"), n, ok
}

// serveTimeline answers the timeline of user id: a page of n of the posts
// that match, or X's not-found answer for a user it does not know.
func (s *Server) serveTimeline(w http.ResponseWriter, q url.Values, endpoint, id string, n int, match func(Post) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.knownUser(w, id) {
		return
	}
	s.servePosts(w, q, endpoint, "pagination_token", n, match)
}

func (s *Server) serveMentions(w http.ResponseWriter, r *http.Request) {
	q, id, n, ok := s.timelineQuery(w, r, Mentions)
	if !ok {
		return
	}
	s.serveTimeline(w, q, Mentions, id, n, func(p Post) bool { return slices.Contains(p.Mentions, id) })
}

// serveUserTweets answers the posts a user wrote, newest first; exclude
// leaves out retweets and/or replies before paging, as X does.
func (s *Server) serveUserTweets(w http.ResponseWriter, r *http.Request) {
	q, id, n, ok := s.timelineQuery(w, r, UserTweets, "exclude")
	if !ok {
		return
	}
	exclude := splitList(q.Get("exclude"))
	for _, e := range exclude {
		if e != "retweets" && e != "replies" {
			writeJSON(w, http.StatusBadRequest, invalidRequest("exclude", e,
				fmt.Sprintf("The `exclude` query parameter value [%s] is not one of [replies,retweets]", e)))
			return
		}
	}
	has := func(p Post, typ string) bool {
		return slices.ContainsFunc(p.Refs, func(r Ref) bool { return r.Type == typ })
	}
	s.serveTimeline(w, q, UserTweets, id, n, func(p Post) bool {
		return p.AuthorID == id &&
			!(slices.Contains(exclude, "retweets") && has(p, "retweeted")) &&
			!(slices.Contains(exclude, "replies") && has(p, "replied_to"))
	})
}

func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request) {
	if s.begin(w, r, Search, nil) || !s.appAuth(w, r) {
		return
	}
	q := r.URL.Query()
	if !checkParams(w, q, append([]string{"query", "next_token", "pagination_token", "sort_order"}, tweetParams...)...) {
		return
	}
	n, ok := maxResults(w, q, 10, 100, 10)
	if !ok {
		return
	}
	query := q.Get("query")
	if strings.TrimSpace(query) == "" {
		writeJSON(w, http.StatusBadRequest, invalidRequest("query", "", "The `query` query parameter can not be empty"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	oldest := s.Now().Add(-s.SearchWindow)
	for _, param := range []string{"since_id", "until_id"} {
		if v := q.Get(param); v != "" && validID(v) && idTime(v).Before(oldest) {
			writeJSON(w, http.StatusBadRequest, invalidRequest(param, v, fmt.Sprintf(
				"Invalid '%s':'%s'. '%s' must be a tweet id created after %s.", param, v, param, oldest.UTC().Format(time.RFC3339))))
			return
		}
	}
	noRetweets := strings.Contains(query, "-is:retweet")
	var notFrom []string
	for _, f := range strings.Fields(query) {
		if v, ok := strings.CutPrefix(f, "-from:"); ok {
			notFrom = append(notFrom, v)
		}
	}
	tokenParam := "next_token"
	if q.Get("pagination_token") != "" {
		tokenParam = "pagination_token"
	}
	s.servePosts(w, q, Search, tokenParam, n, func(p Post) bool {
		if noRetweets && slices.ContainsFunc(p.Refs, func(r Ref) bool { return r.Type == "retweeted" }) {
			return false
		}
		if slices.Contains(notFrom, p.AuthorID) {
			return false
		}
		return slices.ContainsFunc(p.Terms, func(t string) bool { return strings.Contains(query, t) })
	})
}

// pageStart returns the id a page of endpoint starts below: the one the
// pagination token in q's tokenParam names, or else below. A token the
// fake did not hand out is answered with X's invalid-request problem and
// false.
func (s *Server) pageStart(w http.ResponseWriter, q url.Values, endpoint, tokenParam, below string) (string, bool) {
	tok := q.Get(tokenParam)
	if tok == "" {
		return below, true
	}
	id, ok := s.decodeCursor(endpoint, tok)
	if !ok {
		writeJSON(w, http.StatusBadRequest, invalidRequest(tokenParam, tok, fmt.Sprintf("The `%s` query parameter value [%s] is not valid", tokenParam, tok)))
		return "", false
	}
	return id, true
}

// servePosts answers a post list: newest first, bounded by since_id and
// until_id, one page of n from the cursor. s.mu is held.
func (s *Server) servePosts(w http.ResponseWriter, q url.Values, endpoint, tokenParam string, n int, match func(Post) bool) {
	since, until := q.Get("since_id"), q.Get("until_id")
	for param, v := range map[string]string{"since_id": since, "until_id": until} {
		if v != "" && !validID(v) {
			writeJSON(w, http.StatusBadRequest, invalidRequest(param, v, fmt.Sprintf("The `%s` query parameter value [%s] is not valid", param, v)))
			return
		}
	}
	below, ok := s.pageStart(w, q, endpoint, tokenParam, until)
	if !ok {
		return
	}
	page, next := pageOf(s.posts, n, func(p Post) bool {
		return match(p) && (since == "" || cmpID(p.ID, since) > 0) && (below == "" || cmpID(p.ID, below) < 0)
	}, func(last string) string { return s.cursor(endpoint, last) })
	if len(page) == 0 {
		writeEmptyPage(w, next)
		return
	}
	fields := splitList(q.Get("tweet.fields"))
	expansions := splitList(q.Get("expansions"))
	resp := map[string]any{}
	var data []any
	for _, p := range page {
		data = append(data, s.postJSON(p, fields))
	}
	resp["data"] = data
	includes := map[string]any{}
	var errs []any
	if slices.Contains(expansions, "author_id") {
		var users []any
		seen := map[string]bool{}
		for _, p := range page {
			if u, ok := s.users[p.AuthorID]; ok && !seen[u.ID] {
				seen[u.ID] = true
				users = append(users, userJSON(u))
			}
		}
		if len(users) > 0 {
			includes["users"] = users
		}
	}
	if slices.Contains(expansions, "referenced_tweets.id") {
		var tweets []any
		seen := map[string]bool{}
		for _, p := range page {
			for _, ref := range p.Refs {
				if seen[ref.ID] {
					continue
				}
				seen[ref.ID] = true
				if rp, ok := s.posts[ref.ID]; ok {
					tweets = append(tweets, s.postJSON(rp, fields))
					continue
				}
				errs = append(errs, map[string]any{
					"value": ref.ID, "detail": fmt.Sprintf("Could not find tweet with referenced_tweets.id: [%s].", ref.ID),
					"title": "Not Found Error", "resource_type": "tweet", "parameter": "referenced_tweets.id",
					"resource_id": ref.ID, "type": TypeNotFound,
				})
			}
		}
		if len(tweets) > 0 {
			includes["tweets"] = tweets
		}
	}
	if len(includes) > 0 {
		resp["includes"] = includes
	}
	if len(errs) > 0 {
		resp["errors"] = errs
	}
	meta := pageMeta(len(page), next)
	meta["newest_id"], meta["oldest_id"] = page[0].ID, page[len(page)-1].ID
	resp["meta"] = meta
	writeJSON(w, http.StatusOK, resp)
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// postJSON renders p with the default fields (id, text,
// edit_history_tweet_ids) and the requested ones.
func (s *Server) postJSON(p Post, fields []string) any {
	if p.Raw != nil {
		return p.Raw
	}
	m := map[string]any{"id": p.ID, "text": p.Text, "edit_history_tweet_ids": []string{p.ID}}
	has := func(f string) bool { return slices.Contains(fields, f) }
	if has("author_id") && p.AuthorID != "" {
		m["author_id"] = p.AuthorID
	}
	if has("conversation_id") {
		conv := p.ConversationID
		if conv == "" {
			conv = p.ID
		}
		m["conversation_id"] = conv
	}
	if has("created_at") {
		m["created_at"] = createdAt(p.CreatedAt, p.ID)
	}
	if has("lang") && p.Lang != "" {
		m["lang"] = p.Lang
	}
	if has("in_reply_to_user_id") && p.InReplyToUserID != "" {
		m["in_reply_to_user_id"] = p.InReplyToUserID
	}
	if has("referenced_tweets") && len(p.Refs) > 0 {
		var refs []any
		for _, r := range p.Refs {
			refs = append(refs, map[string]string{"type": r.Type, "id": r.ID})
		}
		m["referenced_tweets"] = refs
	}
	if has("note_tweet") && len(p.Text) > 280 {
		m["note_tweet"] = map[string]any{"text": p.Text}
		m["text"] = p.Text[:280]
	}
	return m
}

// userJSON renders u; id, name and username are the default user fields.
func userJSON(u User) any {
	return map[string]any{"id": u.ID, "name": u.Name, "username": u.Username}
}

func (s *Server) serveDMEvents(w http.ResponseWriter, r *http.Request) {
	if s.begin(w, r, DMEvents, nil) {
		return
	}
	if !userContext(w, s.authenticate(r)) {
		return
	}
	q := r.URL.Query()
	if !checkParams(w, q, "dm_event.fields", "event_types", "expansions", "max_results", "pagination_token",
		"media.fields", "tweet.fields", "user.fields") {
		return
	}
	n, ok := maxResults(w, q, 1, 100, 100)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	below, ok := s.pageStart(w, q, DMEvents, "pagination_token", "")
	if !ok {
		return
	}
	types := splitList(q.Get("event_types"))
	page, next := pageOf(s.dms, n, func(d DM) bool {
		return (len(types) == 0 || slices.Contains(types, d.eventType())) && (below == "" || cmpID(d.ID, below) < 0)
	}, func(last string) string { return s.cursor(DMEvents, last) })
	if len(page) == 0 {
		writeEmptyPage(w, next)
		return
	}
	fields := splitList(q.Get("dm_event.fields"))
	has := func(f string) bool { return slices.Contains(fields, f) }
	var data []any
	senders := map[string]bool{}
	var users []any
	for _, d := range page {
		if d.Raw != nil {
			data = append(data, d.Raw)
			continue
		}
		et := d.eventType()
		m := map[string]any{"id": d.ID, "event_type": et}
		if et == "MessageCreate" {
			m["text"] = d.Text
		}
		if has("sender_id") && d.SenderID != "" {
			m["sender_id"] = d.SenderID
		}
		if has("dm_conversation_id") && d.ConversationID != "" {
			m["dm_conversation_id"] = d.ConversationID
		}
		if has("created_at") {
			m["created_at"] = createdAt(d.CreatedAt, d.ID)
		}
		if has("referenced_tweets") && d.RefTweetID != "" {
			m["referenced_tweets"] = []any{map[string]string{"id": d.RefTweetID}}
		}
		data = append(data, m)
		if u, ok := s.users[d.SenderID]; ok && !senders[u.ID] && slices.Contains(splitList(q.Get("expansions")), "sender_id") {
			senders[u.ID] = true
			users = append(users, userJSON(u))
		}
	}
	resp := map[string]any{"data": data}
	if len(users) > 0 {
		resp["includes"] = map[string]any{"users": users}
	}
	resp["meta"] = pageMeta(len(page), next)
	writeJSON(w, http.StatusOK, resp)
}

// meScopes are the OAuth 2.0 scopes GET /2/users/me requires.
var meScopes = []string{"tweet.read", "users.read"}

// serveMe answers GET /2/users/me: the user the request's user context
// acts for, with the default user fields (id, name, username); a user the
// fake does not know (AddUser) is named after its id.
func (s *Server) serveMe(w http.ResponseWriter, r *http.Request) {
	if s.begin(w, r, Me, nil) {
		return
	}
	id := s.authenticate(r)
	if !userContext(w, id) {
		return
	}
	if !id.oauth1 {
		for _, need := range meScopes {
			if !slices.Contains(strings.Fields(id.scope), need) {
				writeJSON(w, http.StatusForbidden, problem("Forbidden",
					fmt.Sprintf("The access token lacks the %s scope this endpoint requires.", need), "about:blank", http.StatusForbidden))
				return
			}
		}
	}
	if !checkParams(w, r.URL.Query(), "user.fields", "expansions", "tweet.fields") {
		return
	}
	s.mu.Lock()
	u, known := s.users[id.user]
	s.mu.Unlock()
	if !known {
		u = User{ID: id.user, Username: "user" + id.user, Name: "User " + id.user}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": userJSON(u)})
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "Malformed request body."})
		return
	}
	if s.begin(w, r, Token, r.PostForm) {
		return
	}
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if s.ClientSecret != "" {
		id, secret, ok := r.BasicAuth()
		if !ok || id != s.ClientID || secret != s.ClientSecret {
			oauthErr(http.StatusUnauthorized, "unauthorized_client", "Missing valid authorization header")
			return
		}
	} else if r.PostForm.Get("client_id") != s.ClientID {
		oauthErr(http.StatusBadRequest, "invalid_request", "Missing required parameter [client_id].")
		return
	}
	if r.PostForm.Get("grant_type") != "refresh_token" {
		oauthErr(http.StatusBadRequest, "invalid_request", "Value passed for the grant type was invalid.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := r.PostForm.Get("refresh_token")
	user, valid := s.refresh[old]
	if !valid {
		oauthErr(http.StatusBadRequest, "invalid_request", "Value passed for the token was invalid.")
		return
	}
	delete(s.refresh, old) // single use
	next, access := "rt-"+randHex(), "at-"+randHex()
	s.refresh[next] = user
	s.access[access] = userToken{user: user, scope: s.Scope, expiry: s.Now().Add(s.AccessTTL)}
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":    "bearer",
		"expires_in":    int(s.AccessTTL / time.Second),
		"access_token":  access,
		"scope":         s.Scope,
		"refresh_token": next,
	})
}

// pageItem is what the fake pages: a Post or a DM.
type pageItem interface {
	itemID() string
	filtered() bool
}

func (p Post) itemID() string { return p.ID }
func (p Post) filtered() bool { return p.Filtered }
func (d DM) itemID() string   { return d.ID }
func (d DM) filtered() bool   { return d.Filtered }

// pageOf takes the items keep accepts, sorts them newest first and returns
// the first n, without the filtered ones (X filters after paging, so a page
// can come back short or empty), and the cursor to the rest ("" when there
// is none).
func pageOf[T pageItem](items map[string]T, n int, keep func(T) bool, cursor func(lastID string) string) (page []T, next string) {
	var all []T
	for _, it := range items {
		if keep(it) {
			all = append(all, it)
		}
	}
	slices.SortFunc(all, func(a, b T) int { return cmpID(b.itemID(), a.itemID()) })
	paged := all[:min(n, len(all))]
	if len(all) > len(paged) {
		next = cursor(paged[len(paged)-1].itemID())
	}
	return slices.DeleteFunc(slices.Clone(paged), T.filtered), next
}

// pageMeta is the meta of a page of count items: result_count, and
// next_token when there is more.
func pageMeta(count int, next string) map[string]any {
	meta := map[string]any{"result_count": count}
	if next != "" {
		meta["next_token"] = next
	}
	return meta
}

// writeEmptyPage answers a page with no data, as X does: only meta.
func writeEmptyPage(w http.ResponseWriter, next string) {
	writeJSON(w, http.StatusOK, map[string]any{"meta": pageMeta(0, next)})
}

// createdAt renders an item's created_at as X does: at, or else the time
// in its Snowflake id, in UTC with milliseconds.
func createdAt(at time.Time, id string) string {
	if at.IsZero() {
		at = idTime(id)
	}
	return at.UTC().Format("2006-01-02T15:04:05.000Z")
}
