package x

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/connectors/x/xtest"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/testwait"
)

const mentionsName = "x.mentions"

// TestMentionsPagingAndSinceID: a first start reads only the newest page;
// later polls page through everything since the checkpoint with the same
// since_id on every page, and the first page's newest id becomes the next
// since_id only after the last page. A post arriving while a poll pages is
// read by the next poll.
func TestMentionsPagingAndSinceID(t *testing.T) {
	e := newEnv(t)
	e.api.AddPost(mentions(1, 15)...)
	r := e.start(e.options())

	e.step.waitPolled(t, mentionsName)
	if got, want := e.pub.SourceIDs(), ids(11, 5); !equal(got, want) {
		t.Fatalf("first start published %v, want the newest page oldest first %v", got, want)
	}
	if n := len(e.api.Requests(xtest.Me)); n != 0 {
		t.Fatalf("%d /2/users/me requests: the app bearer token acts for no user", n)
	}
	var cp tweetCheckpoint
	e.checkpoint(mentionsName, &cp)
	if cp.SinceID != pid(15) || cp.UntilID != "" || cp.Newest != "" {
		t.Fatalf("checkpoint after first start: %+v", cp)
	}

	e.api.AddPost(mentions(20, 12)...) // three pages: 31..27, 26..22, 21..20
	e.api.OnRequest = func(endpoint string, n int) {
		if endpoint == xtest.Mentions && n == 3 { // page 2 of the second poll
			e.api.AddPost(mention(40, "late"))
		}
	}
	before := len(e.api.Requests(xtest.Mentions))
	e.step.next(t, mentionsName)
	reqs := e.api.Requests(xtest.Mentions)[before:]
	if len(reqs) != 3 {
		t.Fatalf("second poll made %d requests, want 3 pages", len(reqs))
	}
	for i, rq := range reqs {
		if rq.Query.Get("since_id") != pid(15) {
			t.Fatalf("page %d since_id %q, want %s", i+1, rq.Query.Get("since_id"), pid(15))
		}
		if (rq.Query.Get("pagination_token") != "") != (i > 0) {
			t.Fatalf("page %d pagination_token %q", i+1, rq.Query.Get("pagination_token"))
		}
	}
	want := append(ids(11, 5), append(ids(27, 5), append(ids(22, 5), ids(20, 2)...)...)...)
	if got := e.pub.SourceIDs(); !equal(got, want) {
		t.Fatalf("published %v\nwant %v", got, want)
	}
	e.checkpoint(mentionsName, &cp)
	if cp.SinceID != pid(31) || cp.UntilID != "" || cp.Newest != "" {
		t.Fatalf("checkpoint after paging: %+v, want since_id %s", cp, pid(31))
	}

	e.step.next(t, mentionsName)
	if got := e.pub.SourceIDs(); got[len(got)-1] != pid(40) || len(got) != len(want)+1 {
		t.Fatalf("the post that arrived mid-poll was not read next: %v", got)
	}
	e.step.next(t, mentionsName) // nothing new
	last := e.api.Requests(xtest.Mentions)
	if q := last[len(last)-1].Query; q.Get("since_id") != pid(40) {
		t.Fatalf("idle poll since_id %q, want %s", q.Get("since_id"), pid(40))
	}
	st := r.status(t, mentionsName)
	if st.State != connectors.StateRunning || st.LastError != "" || st.Ingested != uint64(len(want)+1) || st.LastSuccess == nil {
		t.Fatalf("status %+v", st)
	}
	if !strings.Contains(st.Checkpoint, `"budget"`) || !strings.Contains(st.Checkpoint, `"left_today"`) {
		t.Fatalf("status checkpoint does not show the read budget: %s", st.Checkpoint)
	}
}

// TestMentionsInterruptedPollResumesWithoutGap: a poll cut short by the
// per-poll budget, and one cut short by a failure and a restart, both
// continue where they stopped on the next poll.
func TestMentionsInterruptedPollResumesWithoutGap(t *testing.T) {
	tests := []struct {
		name      string
		interrupt func(e *env)
	}{
		{"per-poll budget", func(e *env) {}},
		{"server failure and restart", func(e *env) {
			e.api.OnRequest = func(endpoint string, n int) {
				if endpoint == xtest.Mentions && n == 3 { // page 2 of the second poll: fails 3 times (1 try + 2 retries)
					e.api.Fail(xtest.Mentions, xtest.Fault{Status: 503, Body: `{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}`},
						xtest.Fault{Status: 503}, xtest.Fault{Status: 503})
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			o := e.options()
			if tt.name == "per-poll budget" {
				o.ReadsPerPoll = 10 // two pages of 5
			}
			e.api.AddPost(mention(1, "old"))
			r := e.start(o)
			e.step.waitPolled(t, mentionsName)

			e.api.AddPost(mentions(10, 13)...) // pid(10)..pid(22)
			tt.interrupt(e)
			if tt.name == "per-poll budget" {
				e.step.next(t, mentionsName)
				var cp tweetCheckpoint
				e.checkpoint(mentionsName, &cp)
				if cp.SinceID != pid(1) || cp.UntilID != pid(13) || cp.Newest != pid(22) {
					t.Fatalf("checkpoint of the cut poll %+v, want since %s until %s newest %s", cp, pid(1), pid(13), pid(22))
				}
			} else {
				_, release := e.step.chans(mentionsName)
				release <- struct{}{}
				// The failed poll returns an error: the supervisor restarts
				// the connector, whose first poll resumes the window.
				e.step.waitPolled(t, mentionsName)
				if st := r.status(t, mentionsName); st.Restarts != 1 || !strings.Contains(st.LastError, "HTTP 503") {
					t.Fatalf("status after the failure: %+v", st)
				}
				if n := len(e.step.recorded(waitRetry)); n != 2 {
					t.Fatalf("%d retries before giving up, want 2", n)
				}
			}
			e.api.AddPost(mention(30, "newer")) // arrives while the window is still open
			if tt.name == "per-poll budget" {
				e.step.next(t, mentionsName) // reads the rest of the window
			}
			// The resume starts below the oldest post already published.
			wantUntil := pid(13)
			if tt.name != "per-poll budget" {
				wantUntil = pid(18)
			}
			var resumed bool
			for _, rq := range e.api.Requests(xtest.Mentions) {
				if u := rq.Query.Get("until_id"); u != "" {
					if u != wantUntil || rq.Query.Get("since_id") != pid(1) || rq.Query.Get("pagination_token") != "" {
						t.Fatalf("resume request %v, want since_id %s until_id %s", rq.Query, pid(1), wantUntil)
					}
					resumed = true
					break
				}
			}
			if !resumed {
				t.Fatal("no request resumed the window with until_id")
			}
			e.step.next(t, mentionsName) // then what is newer
			want := append([]string{pid(1)}, ids(18, 5)...)
			want = append(want, ids(13, 5)...)
			want = append(want, ids(10, 3)...)
			want = append(want, pid(30))
			if got := e.pub.SourceIDs(); !equal(got, want) {
				t.Fatalf("published %v\nwant    %v", got, want)
			}
			var cp tweetCheckpoint
			e.checkpoint(mentionsName, &cp)
			if cp.SinceID != pid(30) || cp.UntilID != "" {
				t.Fatalf("final checkpoint %+v", cp)
			}
		})
	}
}

// TestMentionsEmptyPageGoesOn: X filters posts after paging (deleted or
// protected meanwhile), so a page can be empty while meta.next_token leads
// on. The cycle must follow it: stopping there would move since_id past the
// posts on the later pages for good.
func TestMentionsEmptyPageGoesOn(t *testing.T) {
	e := newEnv(t)
	e.api.AddPost(mention(1, "old"))
	e.start(e.options())
	e.step.waitPolled(t, mentionsName)

	e.api.AddPost(mentions(10, 13)...) // pages of 5: 22..18, 17..13, 12..10
	for i := 13; i <= 17; i++ {
		p := mention(i, "viesti")
		p.Filtered = true
		e.api.AddPost(p)
	}
	e.step.next(t, mentionsName)
	want := append([]string{pid(1)}, ids(18, 5)...)
	want = append(want, ids(10, 3)...)
	if got := e.pub.SourceIDs(); !equal(got, want) {
		t.Fatalf("published %v\nwant      %v", got, want)
	}
	var cp tweetCheckpoint
	e.checkpoint(mentionsName, &cp)
	if cp.SinceID != pid(22) || cp.UntilID != "" || cp.Newest != "" {
		t.Fatalf("checkpoint %+v, want since_id %s", cp, pid(22))
	}
}

// TestMentionsRepeatedEmptyPageEndsThePoll: an answer that keeps sending an
// empty page with the same next_token cannot keep a poll paging forever.
func TestMentionsRepeatedEmptyPageEndsThePoll(t *testing.T) {
	e := newEnv(t)
	e.api.AddPost(mention(1, "old"))
	r := e.start(e.options())
	e.step.waitPolled(t, mentionsName)

	e.api.Fail(xtest.Mentions, xtest.Fault{Body: `{"meta":{"result_count":0,"next_token":"7140dibdnow9c7btw423x1dx0mt2j"}}`, Sticky: true})
	before := len(e.api.Requests(xtest.Mentions))
	e.step.next(t, mentionsName)
	if n := len(e.api.Requests(xtest.Mentions)) - before; n != 2 {
		t.Fatalf("%d requests, want 2: the second repeats the first's next_token", n)
	}
	if st := r.status(t, mentionsName); st.State != connectors.StateRunning || !strings.Contains(st.LastError, "repeating itself: true") {
		t.Fatalf("status %+v", st)
	}
	var cp tweetCheckpoint
	e.checkpoint(mentionsName, &cp)
	if cp.SinceID != pid(1) {
		t.Fatalf("checkpoint %+v moved", cp)
	}
}

// TestMentionsEnvelopes: replies and quotes get parent_id, the author is
// expanded, the account's own posts and retweets are skipped, a malformed
// post is skipped and reported, a partial error (a deleted parent) is
// logged and the page still ingested.
func TestMentionsEnvelopes(t *testing.T) {
	e := newEnv(t)
	core, logs := observer.New(zapcore.WarnLevel)
	e.log = zap.New(core)
	parent := xtest.Post{ID: pid(1), Text: "Our new product!", AuthorID: account}
	e.api.AddPost(parent, mention(2, "first"))
	r := e.start(e.options())
	e.step.waitPolled(t, mentionsName)

	long := strings.Repeat("pitkä teksti ", 30)
	e.api.AddPost(
		xtest.Post{ID: pid(10), Text: "@acme lasku on väärin", AuthorID: "2001", Lang: "fi", ConversationID: pid(1),
			InReplyToUserID: account, Refs: []xtest.Ref{{Type: "replied_to", ID: pid(1)}}, Mentions: []string{account}},
		xtest.Post{ID: pid(11), Text: "look @acme", AuthorID: "2002", Lang: "en", Refs: []xtest.Ref{{Type: "quoted", ID: pid(1)}}, Mentions: []string{account}},
		xtest.Post{ID: pid(12), Text: "@acme thanks all", AuthorID: account, Mentions: []string{account}},
		xtest.Post{ID: pid(13), Text: "RT @acme: Our new product!", AuthorID: "2002", Refs: []xtest.Ref{{Type: "retweeted", ID: pid(1)}}, Mentions: []string{account}},
		xtest.Post{ID: pid(14), Raw: []byte(`{"id":"` + pid(14) + `","text":42}`), Mentions: []string{account}},
		xtest.Post{ID: pid(15), Text: "@acme reply to a deleted post", AuthorID: "2001", Lang: "und", Refs: []xtest.Ref{{Type: "replied_to", ID: pid(5)}}, Mentions: []string{account}},
		xtest.Post{ID: pid(16), Text: "@acme " + long, AuthorID: "2002", Lang: "fi", Mentions: []string{account}},
	)
	e.step.next(t, mentionsName)
	// Two pages: 16..12 then 11..10, each published oldest first.
	if got, want := e.pub.SourceIDs(), []string{pid(2), pid(15), pid(16), pid(10), pid(11)}; !equal(got, want) {
		t.Fatalf("published %v, want %v (own post, retweet and malformed post skipped)", got, want)
	}
	reply := e.pub.BySourceID(pid(10))
	wantReply := message.Envelope{
		Version: 1, ID: "x:" + pid(10), Channel: "x", Kind: message.KindMention, SourceID: pid(10),
		ThreadID: pid(1), ParentID: pid(1), URL: "https://x.com/maija/status/" + pid(10),
		Author: message.Author{ID: "2001", Name: "Maija Meikäläinen", Handle: "maija"},
		Text:   "@acme lasku on väärin", Lang: "fi", CreatedAt: t0.Add(10 * time.Second),
	}
	if reply.ID != wantReply.ID || reply.Kind != wantReply.Kind || reply.ThreadID != wantReply.ThreadID || reply.ParentID != wantReply.ParentID ||
		reply.URL != wantReply.URL || reply.Author != wantReply.Author || reply.Text != wantReply.Text || reply.Lang != wantReply.Lang ||
		!reply.CreatedAt.Equal(wantReply.CreatedAt) || reply.Channel != "x" {
		t.Fatalf("reply envelope\n got %+v\nwant %+v", *reply, wantReply)
	}
	if reply.Metadata["account_id"] != account || reply.Metadata["reply_to_id"] != pid(1) || reply.Metadata["in_reply_to_user_id"] != account {
		t.Fatalf("reply metadata %v", reply.Metadata)
	}
	quote := e.pub.BySourceID(pid(11))
	if quote.ParentID != pid(1) || quote.Metadata["quoted_id"] != pid(1) || quote.ThreadID != pid(11) || quote.Lang != "en" {
		t.Fatalf("quote envelope %+v", *quote)
	}
	if orphan := e.pub.BySourceID(pid(15)); orphan.ParentID != pid(5) || orphan.Lang != "" {
		t.Fatalf("reply to a deleted post %+v (parent id kept, lang und dropped)", *orphan)
	}
	if lp := e.pub.BySourceID(pid(16)); lp.Text != "@acme "+long {
		t.Fatalf("long post text not taken from note_tweet: %q", lp.Text)
	}
	st := r.status(t, mentionsName)
	if !strings.Contains(st.LastError, "malformed") || !strings.Contains(st.LastError, pid(14)) {
		t.Fatalf("status last_error %q should name the malformed post", st.LastError)
	}
	if n := logs.FilterMessageSnippet("partial error").FilterField(zap.String("resource_id", pid(5))).Len(); n != 1 {
		t.Fatalf("partial error for the deleted parent logged %d times, want 1: %v", n, logs.All())
	}
	var cp tweetCheckpoint
	e.checkpoint(mentionsName, &cp)
	if cp.SinceID != pid(16) {
		t.Fatalf("checkpoint %+v: skipped posts must still move since_id", cp)
	}
}

// TestMentionsIncludeOwnAndRetweets keeps what is skipped by default.
func TestMentionsIncludeOwnAndRetweets(t *testing.T) {
	e := newEnv(t)
	e.api.AddPost(
		xtest.Post{ID: pid(1), Text: "@acme thanks", AuthorID: account, Mentions: []string{account}},
		xtest.Post{ID: pid(2), Text: "RT @acme: hi", AuthorID: "2002", Refs: []xtest.Ref{{Type: "retweeted", ID: pid(1)}}, Mentions: []string{account}},
	)
	o := e.options()
	o.IncludeOwn, o.IncludeRetweets = true, true
	e.start(o)
	e.step.waitPolled(t, mentionsName)
	if got := e.pub.SourceIDs(); !equal(got, []string{pid(1), pid(2)}) {
		t.Fatalf("published %v", got)
	}
}

// TestRateLimits: a 429 waits until x-rate-limit-reset and tries again; a
// response saying x-rate-limit-remaining: 0 makes the next request wait
// for the reset; a 429 without headers (the older error shape) waits the
// fallback.
func TestRateLimits(t *testing.T) {
	t.Run("429 waits for the reset", func(t *testing.T) {
		e := newEnv(t)
		e.api.AddPost(mentions(1, 3)...)
		reset := t0.Add(5 * time.Minute)
		e.api.Fail(xtest.Mentions, xtest.Fault{Status: 429,
			Body:   `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`,
			Header: http.Header{"X-Rate-Limit-Limit": {"450"}, "X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {itoa(reset.Unix())}}})
		r := e.start(e.options())
		e.step.waitPolled(t, mentionsName)
		waits := e.step.recorded(waitRateLimit)
		if len(waits) != 1 || waits[0].d != 5*time.Minute+time.Second || waits[0].name != mentionsName {
			t.Fatalf("rate-limit waits %+v, want one of 5m1s", waits)
		}
		if got := e.pub.SourceIDs(); !equal(got, ids(1, 3)) {
			t.Fatalf("after the wait published %v", got)
		}
		if st := r.status(t, mentionsName); !strings.Contains(st.LastError, "rate limited") || !strings.Contains(st.LastError, "HTTP 429") {
			t.Fatalf("status last_error %q", st.LastError)
		}
		if n := len(e.api.Requests(xtest.Mentions)); n != 2 {
			t.Fatalf("%d requests, want the 429 and its retry", n)
		}
	})
	t.Run("remaining 0 waits before the next request", func(t *testing.T) {
		e := newEnv(t)
		e.api.Limits[xtest.Mentions] = 2
		e.api.AddPost(mention(1, "a"))
		e.start(e.options())
		e.step.waitPolled(t, mentionsName)
		e.api.AddPost(mentions(10, 12)...) // three pages
		e.step.next(t, mentionsName)
		waits := e.step.recorded(waitRateLimit)
		if len(waits) != 1 || waits[0].d < 14*time.Minute || waits[0].d > 15*time.Minute+time.Second {
			t.Fatalf("waits %+v, want one until the 15-minute window resets", waits)
		}
		if n := len(e.api.Requests(xtest.Mentions)); n != 4 {
			t.Fatalf("%d requests, want 4 and no 429", n)
		}
		if got := len(e.pub.SourceIDs()); got != 13 {
			t.Fatalf("published %d, want 13", got)
		}
	})
	t.Run("429 without headers waits the fallback", func(t *testing.T) {
		e := newEnv(t)
		e.api.AddPost(mention(1, "a"))
		e.api.Fail(xtest.Mentions, xtest.Fault{Status: 429, Body: `{"errors":[{"code":88,"message":"Rate limit exceeded"}]}`})
		r := e.start(e.options())
		e.step.waitPolled(t, mentionsName)
		if waits := e.step.recorded(waitRateLimit); len(waits) != 1 || waits[0].d != rateLimitFallback {
			t.Fatalf("waits %+v, want the %s fallback", waits, rateLimitFallback)
		}
		if st := r.status(t, mentionsName); !strings.Contains(st.LastError, "Rate limit exceeded") {
			t.Fatalf("last_error %q", st.LastError)
		}
		if got := e.pub.SourceIDs(); !equal(got, []string{pid(1)}) {
			t.Fatalf("published %v", got)
		}
	})
}

// TestReadBudget: the day's budget stops every request once spent and says
// so in the status, survives a restart, and starts over the next UTC day.
func TestReadBudget(t *testing.T) {
	e := newEnv(t)
	e.api.AddPost(mentions(1, 5)...)
	o := e.options()
	o.ReadsPerDay, o.ReadsPerPoll = 12, 10
	r := e.start(o)
	e.step.waitPolled(t, mentionsName) // reads 5

	e.api.AddPost(mentions(10, 20)...)
	e.step.next(t, mentionsName) // reads 5, then 2 left < a page of 5
	st := r.status(t, mentionsName)
	if !strings.Contains(st.LastError, "daily X read budget of 12 reads used up") || !strings.Contains(st.LastError, "2025-03-11T00:00:00Z") {
		t.Fatalf("last_error %q, want the spent daily budget and when it resets", st.LastError)
	}
	var cp tweetCheckpoint
	e.checkpoint(mentionsName, &cp)
	if cp.Budget.Reads != 10 || cp.Budget.LeftToday != 2 || cp.Budget.PerDay != 12 || cp.Budget.Day != "2025-03-10" {
		t.Fatalf("checkpoint budget %+v", cp.Budget)
	}
	if !strings.Contains(st.Checkpoint, `"left_today":2`) {
		t.Fatalf("status checkpoint %s does not show the budget left", st.Checkpoint)
	}
	n := len(e.api.Requests(xtest.Mentions))
	e.step.next(t, mentionsName)
	if m := len(e.api.Requests(xtest.Mentions)); m != n {
		t.Fatalf("%d requests made with the budget spent", m-n)
	}

	// A restart the same day does not reset the budget.
	r.stop()
	r = e.start(o)
	e.step.waitPolled(t, mentionsName)
	if m := len(e.api.Requests(xtest.Mentions)); m != n {
		t.Fatalf("restart reset the day's budget: %d requests", m-n)
	}
	if st := r.status(t, mentionsName); !strings.Contains(st.LastError, "used up") {
		t.Fatalf("after restart last_error %q", st.LastError)
	}

	// The next UTC day reads again, from where the window stopped.
	e.clk.Advance(12 * time.Hour)
	e.step.next(t, mentionsName)
	if m := len(e.api.Requests(xtest.Mentions)); m != n+2 {
		t.Fatalf("next day made %d requests, want 2 (per-poll budget 10)", m-n)
	}
	e.checkpoint(mentionsName, &cp)
	if cp.Budget.Day != "2025-03-11" || cp.Budget.Reads != 10 {
		t.Fatalf("next day's budget %+v", cp.Budget)
	}
	if got := len(e.pub.SourceIDs()); got != 20 {
		t.Fatalf("published %d posts, want 20 (no gap, none twice)", got)
	}
}

// TestAppAuthFailures: 401 and 403 stop the stream as unauthorized with a
// message that says what to fix and never shows the token.
func TestAppAuthFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault *xtest.Fault
		token string
		want  []string
	}{
		{name: "wrong bearer token", token: "not-the-token", want: []string{"HTTP 401", "Unauthorized", "bearer_token"}},
		{name: "403 client forbidden", fault: &xtest.Fault{Status: 403, Sticky: true, Body: `{"client_id":"123","detail":"When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.","registration_url":"https://developer.twitter.com/en/docs/projects/overview","title":"Client Forbidden","required_enrollment":"Appropriate Level of API Access","reason":"client-not-enrolled","type":"https://api.twitter.com/2/problems/client-forbidden"}`},
			want: []string{"HTTP 403", "Client Forbidden", "attached to a Project", "access level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.api.AddPost(mention(1, "a"))
			o := e.options()
			if tt.token != "" {
				o.BearerToken = secret.Secret(tt.token)
			}
			if tt.fault != nil {
				e.api.Fail(xtest.Mentions, *tt.fault)
			}
			r := e.start(o)
			st := r.waitState(t, mentionsName, connectors.StateUnauthorized)
			for _, w := range tt.want {
				if !strings.Contains(st.LastError, w) {
					t.Fatalf("last_error %q lacks %q", st.LastError, w)
				}
			}
			if strings.Contains(st.LastError, e.api.AppToken) || tt.token != "" && strings.Contains(st.LastError, tt.token) {
				t.Fatalf("last_error shows the token: %q", st.LastError)
			}
			if len(e.pub.SourceIDs()) != 0 {
				t.Fatal("published without authorization")
			}
		})
	}
}

// TestMalformedResponseIsHandled: a body that is not the expected JSON is
// reported in the status, the checkpoint stays, and the next poll reads.
func TestMalformedResponseIsHandled(t *testing.T) {
	for _, body := range []string{`{"data":[{"id":"1","text":"x"}`, `<html>oops</html>`, `{"data":{"id":"1"}}`, ``} {
		t.Run(body, func(t *testing.T) {
			e := newEnv(t)
			e.api.AddPost(mention(1, "a"))
			r := e.start(e.options())
			e.step.waitPolled(t, mentionsName)
			e.api.AddPost(mention(2, "b"))
			e.api.Fail(xtest.Mentions, xtest.Fault{Status: 200, Body: body})
			e.step.next(t, mentionsName)
			st := r.status(t, mentionsName)
			if st.State != connectors.StateRunning || !strings.Contains(st.LastError, "malformed response") {
				t.Fatalf("status %+v", st)
			}
			var cp tweetCheckpoint
			e.checkpoint(mentionsName, &cp)
			if cp.SinceID != pid(1) {
				t.Fatalf("checkpoint moved on a malformed response: %+v", cp)
			}
			e.step.next(t, mentionsName)
			if got := e.pub.SourceIDs(); !equal(got, []string{pid(1), pid(2)}) {
				t.Fatalf("published %v", got)
			}
		})
	}
}

// TestUnknownUserIsAnError: X answers 200 with only an errors array for a
// user id it does not know; the stream backs off with a clear error.
func TestUnknownUserIsAnError(t *testing.T) {
	e := newEnv(t)
	o := e.options()
	o.UserID = "99"
	r := e.start(o)
	var st connectors.Status
	testwait.Until(t, 10*time.Second, "a restart of "+mentionsName, func() bool {
		st = r.status(t, mentionsName)
		return st.Restarts > 0
	})
	if !strings.Contains(st.LastError, "Could not find user with id: [99]") || !strings.Contains(st.LastError, "user_id") {
		t.Fatalf("last_error %q", st.LastError)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestStopsPromptlyDuringRateLimitWait: with the real clock, a stream
// waiting 15 minutes for a rate-limit window stops at once when the daemon
// stops.
func TestStopsPromptlyDuringRateLimitWait(t *testing.T) {
	api := xtest.New(t)
	api.AddUser(xtest.User{ID: account, Username: "acme", Name: "Acme Oy"})
	api.Fail(xtest.Mentions, xtest.Fault{Status: 429,
		Body:   `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`,
		Header: http.Header{"X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {itoa(time.Now().Add(15 * time.Minute).Unix())}}})
	cs, err := New(Options{BaseURL: api.URL, UserID: account, BearerToken: secret.Secret(api.AppToken), Mentions: true,
		PollInterval: time.Minute, ReadsPerDay: 1000, ReadsPerPoll: 100})
	if err != nil {
		t.Fatal(err)
	}
	sup := connectors.NewSupervisor(connectors.SupervisorOptions{Publisher: &connectortest.Publisher{}, Checkpoints: &connectortest.Store{}, Backoff: backoff.Policy{Min: time.Millisecond, Max: 5 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := sup.Start(ctx, cs[0]); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, 10*time.Second, "a rate-limit wait in the status", func() bool {
		return strings.Contains(sup.Statuses()[0].LastError, "rate limited")
	})
	start := time.Now()
	cancel()
	sup.Wait()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stopping took %v", d)
	}
	if st := sup.Statuses()[0]; st.State != connectors.StateStopped {
		t.Fatalf("state %s, want stopped", st.State)
	}
}
