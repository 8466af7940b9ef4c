// Package fbtest is a fake Facebook Graph API for tests. It answers the
// requests the facebook connector makes (/{page-id}/feed, /{post-id}/comments,
// /{page-id}/conversations, /{conversation-id}/messages) with payloads shaped
// like the Graph API reference: ids like "PAGEID_POSTID", times like
// "2026-11-20T10:15:30+0000", absolute paging.next URLs (which carry
// access_token, as Facebook's do) and cursors, error objects
// {"error":{"message","type","code","error_subcode","is_transient","fbtrace_id"}}
// and the X-App-Usage / X-Business-Use-Case-Usage headers.
//
// Where the reference leaves a behaviour open, the fake takes the stricter
// one, so that the connector cannot come to depend on the lenient one:
//
//   - since on the feed selects posts by created_time, and the feed lists
//     posts newest created first: a new comment does not bring an old post
//     back (SinceOnUpdatedTime switches to the other reading, in which it
//     does, for the tests that cover it);
//   - a post's updated_time moves with every comment (documented), but
//     nothing else uses it;
//   - comments are top-level only unless filter(stream), chronological
//     unless order(reverse_chronological), and ranked whatever the order
//     asked for on a post that RankComments marks ("if the comments can be
//     ranked, then the order will always be ranked regardless of this
//     modifier"); summary(true) reports the order used and total_count,
//     which counts withheld and deleted comments too ("total_count can be
//     greater than or equal to the actual number of comments returned due
//     to comment privacy or deletion");
//   - a reply to a reply is stored as a reply to the top-level comment
//     (comments are two levels deep);
//   - a nested edge's paging.next carries only limit and the cursor, not the
//     expansion's filter, order, summary or fields: a client has to ask
//     again with its own parameters and the cursor;
//   - limit is at most 100; conversations come most recently updated first.
//
// It counts every request, per page and per edge.
package fbtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/testclock"
)

// TimeLayout is how the Graph API writes times.
const TimeLayout = "2006-01-02T15:04:05-0700"

// Profile is a "from" object.
type Profile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Post is a post on a page's feed.
type Post struct {
	ID          string
	From        Profile
	Message     string
	Created     time.Time
	Updated     time.Time
	Unpublished bool
	// Filtered drops the post from answers after paging, as the Graph API
	// does with items the token may not see: a page of results can then be
	// short, even empty, while paging.next goes on.
	Filtered bool
	// Ranked makes every comments request on the post answer in ranked
	// order, whatever order it asked for.
	Ranked   bool
	Comments []*Comment
}

// Comment is a comment on a post, or (Parent set) a reply to a comment.
type Comment struct {
	ID      string
	From    Profile
	Message string
	Created time.Time
	Parent  string
	// Hidden is the comment's is_hidden: hidden by the page, still returned.
	Hidden bool
	// Withheld comments count in total_count but are never returned (privacy).
	Withheld bool
	// Deleted comments are gone from answers; total_count still counts them.
	Deleted bool
}

// Conversation is a Messenger conversation of a page.
type Conversation struct {
	ID       string
	Updated  time.Time
	Messages []*Message
}

// Message is a Messenger message.
type Message struct {
	ID      string
	From    Profile
	Text    string
	Created time.Time
}

// page is one fake page.
type page struct {
	id, name, token string
	expired         int // 190 subcode answered for every request; 0: valid
	posts           []*Post
	convs           []*Conversation
	faults          []Fault
	bucPct          int
	requests        int
	byEdge          map[string]int
}

// Server is the fake Graph API.
type Server struct {
	srv     *httptest.Server
	version string
	clock   *testclock.Clock

	mu         sync.Mutex
	pages      map[string]*page
	posts      map[string]*Post
	postPage   map[string]string
	comments   map[string]*Comment
	convs      map[string]*Conversation
	convPage   map[string]string
	seq        int
	appSecret  string
	tokenInURL int
	badVersion int
	// lenient: since on updated_time, the feed newest updated first.
	lenient bool
}

// New starts a fake Graph API answering version (e.g. "v26.0") at a clock
// set to now; it stops when the test ends.
func New(tb testing.TB, version string, now time.Time) *Server {
	tb.Helper()
	s := &Server{
		version: version, clock: testclock.New(now.UTC()),
		pages: map[string]*page{}, posts: map[string]*Post{}, postPage: map[string]string{},
		comments: map[string]*Comment{}, convs: map[string]*Conversation{}, convPage: map[string]string{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL to configure (with a trailing slash).
func (s *Server) URL() string { return s.srv.URL + "/" }

// Client is an HTTP client for the fake.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// SinceOnUpdatedTime switches the feed to the lenient reading some reports
// describe: since selects posts by updated_time and the feed lists the most
// recently updated first, so a new comment brings its post back.
func (s *Server) SinceOnUpdatedTime() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lenient = true
}

// RequireAppsecretProof makes every request need appsecret_proof for secret.
func (s *Server) RequireAppsecretProof(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appSecret = secret
}

// Now returns the fake clock.
func (s *Server) Now() time.Time { return s.clock.Now() }

// Advance moves the fake clock forward.
func (s *Server) Advance(d time.Duration) { s.clock.Advance(d) }

// AddPage creates a page answering to token.
func (s *Server) AddPage(id, name, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[id] = &page{id: id, name: name, token: token, byEdge: map[string]int{}}
}

// PageProfile is the "from" of things the page itself writes.
func (s *Server) PageProfile(id string) Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Profile{ID: id, Name: s.pages[id].name}
}

// SetToken replaces the token a page answers to, and clears an expiry.
func (s *Server) SetToken(pageID, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[pageID].token, s.pages[pageID].expired = token, 0
}

// ExpireToken makes every request of the page fail with code 190 and subcode.
func (s *Server) ExpireToken(pageID string, subcode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[pageID].expired = subcode
}

// Fail queues answers for the next requests of a page.
func (s *Server) Fail(pageID string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[pageID].faults = append(s.pages[pageID].faults, faults...)
}

// ClearFaults drops the queued and sticky faults of a page.
func (s *Server) ClearFaults(pageID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[pageID].faults = nil
}

// SetUsage sets the call_count percentage the page's
// X-Business-Use-Case-Usage header reports.
func (s *Server) SetUsage(pageID string, pct int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[pageID].bucPct = pct
}

// AddPost adds a post created at created by from, and returns its id
// ("PAGEID_POSTID").
func (s *Server) AddPost(pageID string, from Profile, msg string, created time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	p := &Post{ID: fmt.Sprintf("%s_%d", pageID, 100000+s.seq), From: from, Message: msg, Created: created.UTC(), Updated: created.UTC()}
	s.pages[pageID].posts = append(s.pages[pageID].posts, p)
	s.posts[p.ID], s.postPage[p.ID] = p, pageID
	return p.ID
}

// Unpublish marks a post as not published (scheduled or an ad's dark post).
func (s *Server) Unpublish(postID string) {
	s.updatePost(postID, func(p *Post) { p.Unpublished = true })
}

// Filter makes a post count in the feed's paging but be left out of the
// answers (the Graph API's privacy filtering after paging).
func (s *Server) Filter(postID string) { s.updatePost(postID, func(p *Post) { p.Filtered = true }) }

// RankComments makes the comments of a post come in ranked order whatever
// order is asked for.
func (s *Server) RankComments(postID string) { s.updatePost(postID, func(p *Post) { p.Ranked = true }) }

// AddComment adds a comment on a post (a reply when parent is a comment id;
// a reply to a reply becomes a reply to its top-level comment) and moves the
// post's updated_time. It returns the comment id.
func (s *Server) AddComment(postID string, from Profile, msg string, created time.Time, parent string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	p := s.posts[postID]
	if pc := s.comments[parent]; pc != nil && pc.Parent != "" {
		parent = pc.Parent
	}
	_, postNum, _ := strings.Cut(postID, "_")
	c := &Comment{ID: fmt.Sprintf("%s_%d", postNum, 500000+s.seq), From: from, Message: msg, Created: created.UTC(), Parent: parent}
	p.Comments = append(p.Comments, c)
	s.comments[c.ID] = c
	if c.Created.After(p.Updated) {
		p.Updated = c.Created
	}
	return c.ID
}

// HideComment sets a comment's is_hidden; it is still returned.
func (s *Server) HideComment(id string) { s.updateComment(id, func(c *Comment) { c.Hidden = true }) }

// Withhold makes a comment count in total_count but never be returned.
func (s *Server) Withhold(id string) { s.updateComment(id, func(c *Comment) { c.Withheld = true }) }

// DeleteComment removes a comment from answers (total_count keeps it).
func (s *Server) DeleteComment(id string) { s.updateComment(id, func(c *Comment) { c.Deleted = true }) }

// updatePost changes post postID under the server's lock.
func (s *Server) updatePost(postID string, change func(*Post)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(s.posts[postID])
}

// updateComment changes comment id under the server's lock.
func (s *Server) updateComment(id string, change func(*Comment)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(s.comments[id])
}

// AddMessage adds a Messenger message to conversation convID of a page
// (creating it) and moves its updated_time. It returns the message id.
func (s *Server) AddMessage(pageID, convID string, from Profile, text string, created time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[convID]
	if c == nil {
		c = &Conversation{ID: convID}
		s.convs[convID], s.convPage[convID] = c, pageID
		s.pages[pageID].convs = append(s.pages[pageID].convs, c)
	}
	s.seq++
	m := &Message{ID: fmt.Sprintf("m_%08dAbCdEf", s.seq), From: from, Text: text, Created: created.UTC()}
	c.Messages = append(c.Messages, m)
	if m.Created.After(c.Updated) {
		c.Updated = m.Created
	}
	return m.ID
}

// Requests returns how many requests a page's token made (all edges).
func (s *Server) Requests(pageID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pages[pageID].requests
}

// EdgeRequests returns how many requests a page made to edge ("feed",
// "comments", "conversations", "messages").
func (s *Server) EdgeRequests(pageID, edge string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pages[pageID].byEdge[edge]
}

// TokenInURL returns how many requests carried access_token in the URL.
func (s *Server) TokenInURL() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenInURL
}

// BadVersion returns how many requests used another Graph API version.
func (s *Server) BadVersion() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.badVersion
}

var pathRE = regexp.MustCompile(`^/(v[0-9]+\.[0-9]+)/([A-Za-z0-9_]+)/(feed|comments|conversations|messages)$`)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Date", s.clock.Now().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if r.Method != http.MethodGet || m == nil {
		writeError(w, http.StatusBadRequest, GraphError{Message: "Unknown path components: " + r.URL.Path, Type: "OAuthException", Code: 2500, TraceID: "D1"})
		return
	}
	version, id, edgeName := m[1], m[2], m[3]
	if version != s.version {
		s.badVersion++
	}
	q := r.URL.Query()
	if q.Has("access_token") {
		s.tokenInURL++
	}
	pageID := s.owner(id, edgeName)
	pg := s.pages[pageID]
	if pg == nil {
		writeError(w, http.StatusBadRequest, GraphError{Message: "Unsupported get request. Object with ID '" + id + "' does not exist", Type: "GraphMethodException", Code: 100, Subcode: 33, TraceID: "D2"})
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = q.Get("access_token")
	}
	if token != pg.token {
		writeError(w, http.StatusBadRequest, GraphError{Message: "Invalid OAuth access token - Cannot parse access token", Type: "OAuthException", Code: 190, TraceID: "D3"})
		return
	}
	pg.requests++
	pg.byEdge[edgeName]++
	w.Header().Set("X-App-Usage", `{"call_count":2,"total_cputime":1,"total_time":1}`)
	w.Header().Set("X-Business-Use-Case-Usage", fmt.Sprintf(`{"%s":[{"type":"pages","call_count":%d,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}`, pg.id, pg.bucPct))
	if s.appSecret != "" {
		mac := hmac.New(sha256.New, []byte(s.appSecret))
		mac.Write([]byte(token))
		if q.Get("appsecret_proof") != hex.EncodeToString(mac.Sum(nil)) {
			writeError(w, http.StatusBadRequest, GraphError{Message: "Invalid appsecret_proof provided in the API argument", Type: "GraphMethodException", Code: 100, TraceID: "D4"})
			return
		}
	}
	if pg.expired != 0 {
		f := TokenExpired(pg.expired)
		writeError(w, f.Status, *f.Error)
		return
	}
	if len(pg.faults) > 0 {
		f := pg.faults[0]
		if !f.Sticky {
			pg.faults = pg.faults[1:]
		}
		writeFault(w, f)
		return
	}
	limit := 25
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			writeError(w, http.StatusBadRequest, GraphError{Message: "(#100) The limit parameter must not exceed 100", Type: "OAuthException", Code: 100, TraceID: "D5"})
			return
		}
		limit = n
	}
	offset := decodeCursor(q.Get("after"))
	var out map[string]any
	switch edgeName {
	case "feed":
		out = s.feed(pg, q, limit, offset)
	case "comments":
		out = s.commentsEdge(s.posts[id], commentOptsOf(q.Get("filter"), q.Get("order"), q.Get("summary"), limit), q.Get("fields"), offset, pg.token)
	case "conversations":
		out = s.conversations(pg, q, limit, offset)
	case "messages":
		out = s.messagesEdge(s.convs[id], limit, q.Get("fields"), offset, pg.token)
	}
	_ = json.NewEncoder(w).Encode(out)
}

// owner returns the page an object belongs to.
func (s *Server) owner(id, edgeName string) string {
	switch edgeName {
	case "comments":
		return s.postPage[id]
	case "messages":
		return s.convPage[id]
	}
	return id
}
