package x

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/x/xtest"
	"github.com/switchboard/switchboard/internal/message"
)

const repliesName = "x.replies"

// responseOptions reads mentions and the account's replies, with metrics.
func responseOptions(t *testing.T, e *env) (Options, *Metrics) {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	o := e.options()
	o.Responses, o.Metrics = true, m
	return o, m
}

// accountPost is a post by the account, n seconds after t0.
func accountPost(n int, text string, refs ...xtest.Ref) xtest.Post {
	return xtest.Post{ID: pid(n), Text: text, AuthorID: account, Refs: refs}
}

// TestReplyIsResponse: the account's reply 20 minutes after a customer's
// mention is a response linked to the mention's envelope, dated when it
// was written; its original posts, the continuation of its own thread,
// an edit and its retweets are not responses, and retweets are not even
// read.
func TestReplyIsResponse(t *testing.T) {
	e := newEnv(t)
	o, m := responseOptions(t, e)
	e.api.AddPost(accountPost(1, "Tervetuloa uusi palvelu!"))
	r := e.start(o)
	e.step.waitPolled(t, mentionsName)
	e.step.waitPolled(t, repliesName)

	mentionAt := t0.Add(10 * time.Second)
	e.api.AddPost(xtest.Post{ID: pid(10), Text: "@acme missä lasku?", AuthorID: "2001", Mentions: []string{account}, CreatedAt: mentionAt})
	e.step.next(t, mentionsName)
	mentionEnv := e.pub.BySourceID(pid(10))
	if mentionEnv == nil {
		t.Fatal("the mention was not ingested")
	}

	e.clk.Advance(21 * time.Minute)
	replyAt := mentionAt.Add(20 * time.Minute)
	reply := xtest.Snowflake(replyAt, 0)
	e.api.AddPost(
		xtest.Post{ID: reply, Text: "@maija Lasku lähti eilen.", AuthorID: account, ConversationID: pid(10), CreatedAt: replyAt,
			InReplyToUserID: "2001", Refs: []xtest.Ref{{Type: "replied_to", ID: pid(10)}}},
		xtest.Post{ID: xtest.Snowflake(replyAt, 1), Text: "Lisäksi…", AuthorID: account, ConversationID: pid(10),
			InReplyToUserID: account, Refs: []xtest.Ref{{Type: "replied_to", ID: reply}}},
		xtest.Post{ID: xtest.Snowflake(replyAt, 2), Text: "RT @maija: kiitos", AuthorID: account, Refs: []xtest.Ref{{Type: "retweeted", ID: pid(10)}}},
		accountPost(1300, "Huoltokatko huomenna"),
	)
	e.step.next(t, repliesName)

	got := e.resp.All()
	want := message.Response{Version: 1, ID: "x:" + reply, Channel: "x", Kind: "reply", SourceID: reply,
		InReplyTo: mentionEnv.ID, By: "@acme", At: replyAt}
	if len(got) != 1 || got[0].ID != want.ID || got[0].Kind != want.Kind || got[0].SourceID != want.SourceID ||
		got[0].InReplyTo != want.InReplyTo || got[0].ThreadID != "" || got[0].By != want.By || !got[0].At.Equal(want.At) ||
		got[0].Version != 1 || got[0].Channel != "x" {
		t.Fatalf("responses %+v\nwant [%+v]", got, want)
	}
	if d := got[0].At.Sub(mentionEnv.CreatedAt); d != 20*time.Minute {
		t.Fatalf("response %s after the mention, want 20m", d)
	}
	if e.pub.BySourceID(reply) != nil {
		t.Fatal("the account's reply was ingested as a customer item")
	}

	reqs := e.api.Requests(xtest.UserTweets)
	last := reqs[len(reqs)-1].Query
	if last.Get("exclude") != "retweets" || strings.Contains(last.Get("expansions"), "referenced_tweets") ||
		last.Get("since_id") != pid(1) || !strings.HasPrefix(reqs[len(reqs)-1].Auth, "Bearer app-token") {
		t.Fatalf("replies request %v", last)
	}
	// Read: the original post at the first poll; then the reply, the thread
	// continuation and the new original post. The retweet is never sent.
	if n := counterValue(t, m.reads.WithLabelValues("replies")); n != 4 {
		t.Fatalf("%v replies reads, want 4", n)
	}
	for reason, n := range map[string]float64{"not_reply": 2, "own_thread": 1} {
		if got := counterValue(t, m.skipped.WithLabelValues("replies", reason)); got != n {
			t.Errorf("skipped %s = %v, want %v", reason, got, n)
		}
	}
	if n := counterValue(t, m.responses.WithLabelValues("replies")); n != 1 {
		t.Errorf("responses metric %v", n)
	}
	var cp tweetCheckpoint
	e.checkpoint(repliesName, &cp)
	if cp.SinceID != pid(1300) {
		t.Fatalf("checkpoint %+v, want since_id %s", cp, pid(1300))
	}

	// The next poll reads from there; a repeat of the same reply is not
	// published twice.
	e.step.next(t, repliesName)
	if q := e.api.Requests(xtest.UserTweets); q[len(q)-1].Query.Get("since_id") != pid(1300) {
		t.Fatalf("next poll since_id %q", q[len(q)-1].Query.Get("since_id"))
	}
	if st := r.status(t, repliesName); st.State != connectors.StateRunning || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}

// TestSentDMIsResponse: a DM the account sends is a response in the
// conversation its customer's DM envelopes carry as thread_id, and is not
// ingested as a customer item.
func TestSentDMIsResponse(t *testing.T) {
	for _, responses := range []bool{true, false} {
		t.Run(map[bool]string{true: "responses on", false: "responses off"}[responses], func(t *testing.T) {
			e := newEnv(t)
			o := dmOptions(e, &memTokens{})
			o.Responses = responses
			e.start(o)
			e.step.waitPolled(t, dmsName)
			e.api.AddDM(dm(10, "2001", "lasku?"), dm(12, account, "Katsotaan heti."))
			e.step.next(t, dmsName)

			if got := e.pub.SourceIDs(); !equal(got, []string{pid(10)}) {
				t.Fatalf("published %v: only the customer's DM", got)
			}
			customer := e.pub.BySourceID(pid(10))
			got := e.resp.All()
			if !responses {
				if len(got) != 0 {
					t.Fatalf("responses %+v with responses off", got)
				}
				return
			}
			if len(got) != 1 || got[0].ID != "x:"+pid(12) || got[0].Kind != "dm" || got[0].SourceID != pid(12) ||
				got[0].ThreadID != customer.ThreadID || got[0].ThreadID != "2001-"+account || got[0].InReplyTo != "" ||
				got[0].By != "@acme" || !got[0].At.Equal(t0.Add(12*time.Second)) {
				t.Fatalf("responses %+v", got)
			}
		})
	}
}

// TestRepliesBudgetTooSmall: a daily budget that only covers the customer
// streams skips the replies stream on every poll, says so in its status
// and a metric, and never requests it; mentions flow as before.
func TestRepliesBudgetTooSmall(t *testing.T) {
	e := newEnv(t)
	o, m := responseOptions(t, e)
	o.ReadsPerDay, o.ReadsPerPoll = 12, 10 // 10 kept for mentions, a page of replies needs 5 more
	e.api.AddPost(mentions(1, 3)...)
	e.api.AddPost(accountPost(5, "@maija kiitos", xtest.Ref{Type: "replied_to", ID: pid(1)}))
	r := e.start(o)
	e.step.waitPolled(t, mentionsName)
	e.step.waitPolled(t, repliesName)
	e.step.next(t, repliesName)

	st := r.status(t, repliesName)
	if st.State != connectors.StateRunning || !strings.Contains(st.LastError, "x.replies skipped") ||
		!strings.Contains(st.LastError, "raise per_day to at least 15") || !strings.Contains(st.LastError, "responses: false") {
		t.Fatalf("replies status %+v", st)
	}
	if n := counterValue(t, m.pollsSkipped.WithLabelValues("replies", "budget")); n != 2 {
		t.Fatalf("polls_skipped %v, want 2", n)
	}
	if n := len(e.api.Requests(xtest.UserTweets)); n != 0 || len(e.resp.All()) != 0 {
		t.Fatalf("%d replies requests, %d responses", n, len(e.resp.All()))
	}
	e.api.AddPost(mention(9, "lisää"))
	e.step.next(t, mentionsName)
	if got := e.pub.SourceIDs(); !equal(got, append(ids(1, 3), pid(9))) {
		t.Fatalf("mentions published %v", got)
	}
	if st := r.status(t, mentionsName); st.LastError != "" {
		t.Fatalf("mentions status %+v", st)
	}
}

// TestRepliesYieldToCustomers: the replies stream reads only while the
// day's budget keeps a full poll for the customer streams; when it does
// not, the stream skips with a status saying when it resumes, and the next
// day it reads what it missed.
func TestRepliesYieldToCustomers(t *testing.T) {
	e := newEnv(t)
	o, m := responseOptions(t, e)
	o.ReadsPerDay, o.ReadsPerPoll = 20, 10 // 10 kept for mentions
	e.api.AddPost(accountPost(1, "@maija hei", xtest.Ref{Type: "replied_to", ID: pid(0)}), mention(2, "moi"))
	r := e.start(o)
	e.step.waitPolled(t, mentionsName) // reads 1 of 20
	e.step.waitPolled(t, repliesName)  // reads 1
	if n := len(e.resp.All()); n != 1 {
		t.Fatalf("%d responses at the first poll, want 1", n)
	}

	e.api.AddPost(mentions(10, 8)...)
	e.step.next(t, mentionsName) // reads 8: 10 left, all of them kept
	e.api.AddPost(accountPost(30, "@maija selvä", xtest.Ref{Type: "replied_to", ID: pid(17)}))
	before := len(e.api.Requests(xtest.UserTweets))
	e.step.next(t, repliesName)
	st := r.status(t, repliesName)
	if !strings.Contains(st.LastError, "10 reads left today and the 10 kept for the customer streams come first") ||
		!strings.Contains(st.LastError, "resumes at 2025-03-11T00:00:00Z") {
		t.Fatalf("replies status %+v", st)
	}
	if len(e.api.Requests(xtest.UserTweets)) != before || counterValue(t, m.pollsSkipped.WithLabelValues("replies", "budget")) != 1 {
		t.Fatal("the replies stream read with the budget kept for customers")
	}

	e.clk.Advance(12 * time.Hour) // the next UTC day
	e.step.next(t, repliesName)
	got := e.resp.All()
	if len(got) != 2 || got[1].SourceID != pid(30) || got[1].InReplyTo != "x:"+pid(17) {
		t.Fatalf("responses %+v", got)
	}
}

// TestRepliesNotTracked: when the daemon does not track responses, the
// replies stream spends nothing and says why.
func TestRepliesNotTracked(t *testing.T) {
	e := newEnv(t)
	e.untracked = true
	o, m := responseOptions(t, e)
	e.api.AddPost(accountPost(1, "@maija hei", xtest.Ref{Type: "replied_to", ID: pid(0)}), mention(2, "moi"))
	r := e.start(o)
	e.step.waitPolled(t, mentionsName)
	e.step.waitPolled(t, repliesName)
	if st := r.status(t, repliesName); !strings.Contains(st.LastError, "does not track responses") {
		t.Fatalf("status %+v", st)
	}
	if n := len(e.api.Requests(xtest.UserTweets)); n != 0 || counterValue(t, m.pollsSkipped.WithLabelValues("replies", "not_tracked")) != 1 {
		t.Fatalf("%d requests with responses not tracked", n)
	}
	if got := e.pub.SourceIDs(); !equal(got, []string{pid(2)}) {
		t.Fatalf("published %v", got)
	}
}

// TestRepliesNeedPublicStreams: replies answer public posts, so without
// mentions or searches there is no replies stream (and DMs still yield
// responses).
func TestRepliesNeedPublicStreams(t *testing.T) {
	e := newEnv(t)
	o := dmOptions(e, &memTokens{})
	o.Responses = true
	cs, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name() == repliesName {
			t.Fatal("a replies stream without mentions or searches")
		}
	}
	o, _ = responseOptions(t, e)
	o.Responses = false
	if cs, _ = New(o); len(cs) != 1 || cs[0].Name() != mentionsName {
		t.Fatalf("responses off: %d streams", len(cs))
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

// TestRepliesConvert: which of the account's posts are responses, and how
// they read.
func TestRepliesConvert(t *testing.T) {
	post := func(id, extra string) string {
		return `{"id":"` + id + `","text":"t","author_id":"` + account + `","created_at":"2025-03-10T12:20:00.000Z","edit_history_tweet_ids":["` + id + `"]` + extra + `}`
	}
	reply := `,"in_reply_to_user_id":"2001","referenced_tweets":[{"type":"replied_to","id":"10"}]`
	tests := []struct {
		name, data, users string
		by, skipped       string // by of the one response, or why it was skipped
	}{
		{name: "reply", data: post("20", reply), users: `[{"id":"` + account + `","username":"acme","name":"Acme"}]`, by: "@acme"},
		{name: "handle unknown", data: post("20", reply), by: account},
		{name: "quote is not a reply", data: post("20", `,"referenced_tweets":[{"type":"quoted","id":"10"}]`), skipped: "not_reply"},
		{name: "own thread", data: post("20", `,"in_reply_to_user_id":"`+account+`","referenced_tweets":[{"type":"replied_to","id":"19"}]`), skipped: "own_thread"},
		{name: "edit", data: strings.Replace(post("20", reply), `["20"]`, `["18","20"]`, 1), skipped: "edit"},
		{name: "someone else's", data: strings.Replace(post("20", reply), `"author_id":"`+account, `"author_id":"2002`, 1), skipped: "malformed"},
		{name: "no id", data: `{"text":"t"}`, skipped: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"data":[` + tt.data + `]`
			if tt.users != "" {
				body += `,"includes":{"users":` + tt.users + `}`
			}
			page, err := decodePage[TweetPage](EndpointUserTweets, []byte(body+`}`))
			if err != nil {
				t.Fatal(err)
			}
			c := filter{userID: account}.replies(page)
			if tt.skipped != "" {
				if len(c.responses) != 0 || c.skipped[tt.skipped] != 1 {
					t.Fatalf("responses %+v, skipped %v; want skipped %s", c.responses, c.skipped, tt.skipped)
				}
				return
			}
			if len(c.responses) != 1 {
				t.Fatalf("responses %+v, skipped %v", c.responses, c.skipped)
			}
			r := c.responses[0]
			if r.ID != "x:20" || r.InReplyTo != "x:10" || r.By != tt.by || r.Kind != "reply" || r.ThreadID != "" ||
				!r.At.Equal(time.Date(2025, 3, 10, 12, 20, 0, 0, time.UTC)) || r.Validate() != nil {
				t.Fatalf("response %+v", *r)
			}
		})
	}
}
