package facebook_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/facebook"
	"github.com/switchboard/switchboard/connectors/facebook/fbtest"
	"github.com/switchboard/switchboard/internal/testwait"
)

// TestRateLimits: a rate-limit error pauses the page's requests for the
// time the usage header estimates (or a minute, doubling). Meanwhile the
// page is backing off with the error as last_error, and its restarts make
// no request; when the pause is over the same items are read.
func TestRateLimits(t *testing.T) {
	noHeader := func(code int) fbtest.Fault {
		f := fbtest.RateLimited(pageID, code, 0)
		f.Header = nil
		return f
	}
	tests := []struct {
		name  string
		fault fbtest.Fault
		pause time.Duration
	}{
		{"app limit 4", fbtest.RateLimited(pageID, 4, 7), 7 * time.Minute},
		{"user limit 17", fbtest.RateLimited(pageID, 17, 3), 3 * time.Minute},
		{"page limit 32", fbtest.RateLimited(pageID, 32, 11), 11 * time.Minute},
		{"custom limit 613", fbtest.RateLimited(pageID, 613, 2), 2 * time.Minute},
		{"page BUC 80001", fbtest.RateLimited(pageID, 80001, 19), 19 * time.Minute},
		{"no usage header", noHeader(80001), time.Minute},
		{"http 429", fbtest.Fault{Status: 429, Body: "<html>Too Many Requests</html>"}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t)
			post := fake.AddPost(pageID, visitor, "hei", t0.Add(-time.Hour))
			fake.Fail(pageID, tt.fault)
			e := newEnv(t, fake)
			e.start(e.opts(), pageConfig(pageID, pageToken))
			if err := e.wait(pageID); err == nil {
				t.Fatal("the rate-limited poll succeeded")
			}
			restartsWhilePaused := func() {
				t.Helper()
				before := e.status(pageID).Restarts
				testwait.Until(t, 10*time.Second, "restarts while the page is paused", func() bool {
					return e.status(pageID).Restarts >= before+3
				})
				if n := fake.Requests(pageID); n != 1 {
					t.Fatalf("%d requests: the page was called while paused", n)
				}
				s := e.waitState(pageID, connectors.StateBackingOff)
				if !strings.Contains(s.LastError, "rate limited") {
					t.Fatalf("last error %q", s.LastError)
				}
			}
			restartsWhilePaused()
			fake.Advance(tt.pause - time.Second)
			restartsWhilePaused()
			fake.Advance(time.Second)
			e.mustPoll(pageID)
			if e.pub.(*memPub).get(post) == nil {
				t.Fatal("the post was not ingested after the rate limit lifted")
			}
			e.waitState(pageID, connectors.StateRunning)
			if n := e.metric("switchboard_facebook_rate_limited_total", map[string]string{"page": pageID}); n != 1 {
				t.Errorf("rate_limited_total = %v", n)
			}
			if n := e.metric("switchboard_facebook_graph_requests_total", map[string]string{"page": pageID, "outcome": "rate_limited"}); n != 1 {
				t.Errorf("rate-limited requests = %v", n)
			}
			e.assertNoLeak(pageToken)
		})
	}
}

func TestSlowsDownBeforeTheWall(t *testing.T) {
	tests := []struct {
		pct   int
		pause time.Duration
	}{{80, time.Second}, {95, 5 * time.Second}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.pct), func(t *testing.T) {
			fake := newFake(t)
			for i := range 130 {
				fake.AddPost(pageID, visitor, fmt.Sprintf("p%d", i), t0.Add(-time.Duration(i+1)*time.Minute))
			}
			fake.SetUsage(pageID, tt.pct)
			e := newEnv(t, fake)
			e.start(e.opts(), ingesting(facebook.Ingest{VisitorPosts: true}))
			e.mustPoll(pageID)
			// Two feed pages: one pause between them, none longer.
			if got := e.sleeps.waited(time.Second); !slices.Equal(got, []time.Duration{tt.pause}) {
				t.Fatalf("usage %d%%: paused %v, want [%s]", tt.pct, got, tt.pause)
			}
			if n := e.metric("switchboard_facebook_usage_percent", map[string]string{"page": pageID, "header": "business_use_case"}); n != float64(tt.pct) {
				t.Errorf("usage metric %v", n)
			}
		})
	}
}

// TestFailedRequestsBackOff: a request that fails ends the poll; the page
// shows backing_off with the error, and the supervisor's backoff retries
// it. Nothing is skipped.
func TestFailedRequestsBackOff(t *testing.T) {
	tests := []struct {
		name   string
		faults []fbtest.Fault
		words  string
	}{
		{"is_transient", []fbtest.Fault{fbtest.Transient(), fbtest.Transient()}, "code 2"},
		{"html 502", []fbtest.Fault{{Status: 502, Body: "<html><body>Bad Gateway</body></html>"}}, "HTTP 502"},
		{"not json 200", []fbtest.Fault{{Status: 200, Body: "<html>oops</html>"}}, "malformed list response"},
		{"other graph error", []fbtest.Fault{{Status: 400, Error: &fbtest.GraphError{Message: "(#100) Invalid parameter", Type: "OAuthException", Code: 100}}}, "code 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t)
			post := fake.AddPost(pageID, visitor, "hei", t0.Add(-time.Hour))
			fake.Fail(pageID, tt.faults...)
			e := newEnv(t, fake)
			e.start(e.opts(), feedOnly())
			for range tt.faults {
				if err := e.wait(pageID); err == nil || !strings.Contains(err.Error(), tt.words) {
					t.Fatalf("poll: %v, want the error with %q", err, tt.words)
				}
			}
			e.mustPoll(pageID) // restarted by the supervisor
			if e.pub.(*memPub).get(post) == nil {
				t.Fatal("not ingested after the restart")
			}
			s := e.waitState(pageID, connectors.StateRunning)
			if s.Restarts != uint64(len(tt.faults)) || !strings.Contains(s.LastError, "facebook page page-"+pageID) || !strings.Contains(s.LastError, tt.words) {
				t.Fatalf("restarts %d, last error %q", s.Restarts, s.LastError)
			}
		})
	}
}

// TestEveryRequestFailsShowsBackingOff: a page whose every request fails is
// backing_off with its last error, never running, until the requests work
// again.
func TestEveryRequestFailsShowsBackingOff(t *testing.T) {
	fake := newFake(t)
	post := fake.AddPost(pageID, visitor, "hei", t0.Add(-time.Hour))
	f := fbtest.Transient()
	f.Sticky = true
	fake.Fail(pageID, f)
	e := newEnv(t, fake)
	e.start(e.opts(), pageConfig(pageID, pageToken))
	testwait.Until(t, 10*time.Second, "a few failed polls", func() bool { return e.status(pageID).Restarts >= 3 })
	s := e.waitState(pageID, connectors.StateBackingOff)
	if !strings.Contains(s.LastError, "code 2") || s.NextAttemptAt == nil {
		t.Fatalf("status %+v: want the Graph error and the next attempt", s)
	}
	if s.LastSuccess != nil {
		t.Fatalf("a page whose every request failed has a last success: %v", s.LastSuccess)
	}
	fake.ClearFaults(pageID)
	testwait.Until(t, 10*time.Second, "the post once the requests work", func() bool { return e.pub.(*memPub).get(post) != nil })
	e.waitState(pageID, connectors.StateRunning)
}

func TestMalformedItemIsSkippedAlone(t *testing.T) {
	fake := newFake(t)
	fake.Fail(pageID, fbtest.Fault{Status: 200, Body: `{"data":[` +
		`{"id":"111000111_1","created_time":"eilen","message":"rikki"},` +
		`{"id":"111000111_2","created_time":"2026-11-20T10:00:00+0000","updated_time":"2026-11-20T10:00:00+0000","message":"kunnossa","from":{"id":"9001","name":"Maija"}}` +
		`],"paging":{"cursors":{"before":"QQ","after":"Qg"}}}`})
	e := newEnv(t, fake)
	e.start(e.opts(), feedOnly())
	e.mustPoll(pageID)
	if got := e.pub.(*memPub).ids(); !slices.Equal(got, sourceIDs("111000111_2")) {
		t.Fatalf("ingested %v", got)
	}
	if n := e.metric("switchboard_facebook_malformed_items_total", map[string]string{"page": pageID}); n != 1 {
		t.Errorf("malformed items = %v", n)
	}
	if s := e.status(pageID); !strings.Contains(s.LastError, `malformed post "111000111_1"`) {
		t.Errorf("last error %q", s.LastError)
	}
}

func TestRejectedToken(t *testing.T) {
	tests := []struct {
		subcode int
		words   string
	}{
		{458, "app was removed"}, {459, "checkpointed"}, {460, "password"},
		{463, "the token expired"}, {464, "unconfirmed"}, {467, "invalid"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.subcode), func(t *testing.T) {
			fake := newFake(t)
			fake.ExpireToken(pageID, tt.subcode)
			e := newEnv(t, fake)
			e.start(e.opts(), pageConfig(pageID, pageToken))
			err := e.wait(pageID)
			s := e.waitState(pageID, connectors.StateUnauthorized)
			for _, part := range []string{"facebook page page-" + pageID, tt.words, fmt.Sprintf("code 190 subcode %d", tt.subcode), "Create a new page access token"} {
				if !strings.Contains(s.LastError, part) {
					t.Errorf("last error %q lacks %q", s.LastError, part)
				}
			}
			if err == nil {
				t.Fatal("the poll did not fail")
			}
			if fake.EdgeRequests(pageID, "conversations") != 0 {
				t.Error("messages were still read with a rejected token")
			}
			if n := e.metric("switchboard_facebook_token_rejected", map[string]string{"page": pageID}); n != 1 {
				t.Errorf("token_rejected = %v", n)
			}
			e.assertNoLeak(pageToken)
		})
	}

	t.Run("missing permission", func(t *testing.T) {
		fake := newFake(t)
		post := fake.AddPost(pageID, visitor, "hei", t0.Add(-time.Hour))
		fake.Fail(pageID, fbtest.PermissionDenied())
		e := newEnv(t, fake)
		e.start(e.opts(), feedOnly())
		if err := e.wait(pageID); err == nil {
			t.Fatal("poll did not fail")
		}
		e.mustPoll(pageID) // the fault is gone: the retry succeeds
		s := e.waitState(pageID, connectors.StateRunning)
		if !strings.Contains(s.LastError, "lacks a permission") || !strings.Contains(s.LastError, "pages_read_user_content") || s.Restarts != 1 {
			t.Fatalf("restarts %d, last error %q", s.Restarts, s.LastError)
		}
		if e.pub.(*memPub).get(post) == nil {
			t.Fatal("not ingested after the permission was granted")
		}
		if n := e.metric("switchboard_facebook_token_rejected", map[string]string{"page": pageID}); n != 0 {
			t.Errorf("token_rejected still %v after a good request", n)
		}
	})
}

func TestTwoPagesOneFails(t *testing.T) {
	const otherID, otherToken = "222000222", "EAAG-page-two-token"
	fake := newFake(t)
	fake.AddPage(otherID, "Beta Oy", otherToken)
	fake.ExpireToken(pageID, 463)
	a := fake.AddPost(pageID, visitor, "sivu yksi", t0.Add(-time.Hour))
	b := fake.AddPost(otherID, visitor, "sivu kaksi", t0.Add(-time.Hour))
	e := newEnv(t, fake)
	e.start(e.opts(), pageConfig(pageID, pageToken), pageConfig(otherID, otherToken))
	e.mustPoll(otherID)
	e.waitState(pageID, connectors.StateUnauthorized)
	pub := e.pub.(*memPub)
	if pub.get(b) == nil || pub.get(a) != nil {
		t.Fatalf("ingested %v: want page two's post only", pub.ids())
	}
	// Page two keeps ingesting while page one stays unauthorized.
	fake.Advance(time.Minute)
	c := fake.AddComment(b, visitor2, "kommentti", fake.Now().Add(-time.Second), "")
	e.trigger(otherID)
	if pub.get(c) == nil {
		t.Fatal("page two stalled behind page one")
	}
	if s := e.status(otherID); s.State != connectors.StateRunning {
		t.Fatalf("page two state %s", s.State)
	}
	e.assertNoLeak(pageToken, otherToken)
}

// TestStopsPromptlyDuringRateLimitPause: with the real clock, a page paused
// for a rate limit (19 minutes) stops at once when the daemon stops.
func TestStopsPromptlyDuringRateLimitPause(t *testing.T) {
	fake := newFake(t)
	fake.AddPost(pageID, visitor, "hei", t0.Add(-time.Hour))
	fake.Fail(pageID, fbtest.RateLimited(pageID, 80001, 19))
	e := newEnv(t, fake)
	opts := e.opts()
	opts.Sleep = nil // the real timer
	e.start(opts, feedOnly())
	testwait.Until(t, 10*time.Second, "a rate-limit pause in the status", func() bool {
		return strings.Contains(e.status(pageID).LastError, "rate limited")
	})
	start := time.Now()
	e.stop()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stopping took %v", d)
	}
}
