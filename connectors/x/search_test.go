package x

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/x/xtest"
)

const brandName = "x.search.brand"

// searchOptions turns mentions off and searches for the brand, with pages
// of 10 (the smallest recent search serves).
func searchOptions(e *env) Options {
	e.pageSize = 10
	o := e.options()
	o.Mentions = false
	o.Searches = []Search{{Name: "brand", Query: `"Acme Oy" OR #acme`}}
	return o
}

// TestSearchQueryAndPaging: the configured query is sent with the
// exclusions of own posts and retweets, and recent search pages with
// next_token under a fixed since_id.
func TestSearchQueryAndPaging(t *testing.T) {
	e := newEnv(t)
	e.api.AddPost(xtest.Post{ID: pid(1), Text: "#acme old", AuthorID: "2001", Terms: []string{"#acme"}})
	r := e.start(searchOptions(e))
	e.step.waitPolled(t, brandName)

	var posts []xtest.Post
	for i := 10; i < 35; i++ { // 25 posts: pages of 10, 10, 5
		posts = append(posts, xtest.Post{ID: pid(i), Text: "love #acme", AuthorID: "2002", Terms: []string{"#acme"}})
	}
	posts = append(posts,
		xtest.Post{ID: pid(40), Text: "Acme Oy here: #acme sale", AuthorID: account, Terms: []string{"#acme"}},
		xtest.Post{ID: pid(41), Text: "RT @maija: #acme", AuthorID: "2002", Terms: []string{"#acme"}, Refs: []xtest.Ref{{Type: "retweeted", ID: pid(10)}}},
		xtest.Post{ID: pid(42), Text: "unrelated", AuthorID: "2002", Terms: []string{"#other"}},
	)
	e.api.AddPost(posts...)
	e.step.next(t, brandName)

	reqs := e.api.Requests(xtest.Search)
	wantQuery := `("Acme Oy" OR #acme) -is:retweet -from:` + account
	for i, rq := range reqs {
		q := rq.Query
		if q.Get("query") != wantQuery {
			t.Fatalf("request %d query %q, want %q", i, q.Get("query"), wantQuery)
		}
		if q.Get("max_results") != "10" {
			t.Fatalf("request %d max_results %q", i, q.Get("max_results"))
		}
		if q.Get("pagination_token") != "" {
			t.Fatalf("recent search pages with next_token, got pagination_token")
		}
	}
	if len(reqs) != 4 { // first start + 3 pages
		t.Fatalf("%d search requests, want 4", len(reqs))
	}
	for _, rq := range reqs[1:] {
		if rq.Query.Get("since_id") != pid(1) {
			t.Fatalf("since_id %q, want %s", rq.Query.Get("since_id"), pid(1))
		}
	}
	if reqs[2].Query.Get("next_token") == "" || reqs[3].Query.Get("next_token") == "" {
		t.Fatal("pages 2 and 3 did not send next_token")
	}
	got := e.pub.SourceIDs()
	if len(got) != 26 {
		t.Fatalf("published %d posts, want 26 (own post and retweet excluded by the query): %v", len(got), got)
	}
	for _, id := range got {
		if id == pid(40) || id == pid(41) || id == pid(42) {
			t.Fatalf("published %s, which the query excludes", id)
		}
	}
	if env := e.pub.BySourceID(pid(10)); env.Kind != "mention" || env.URL != "https://x.com/pekka/status/"+pid(10) {
		t.Fatalf("search envelope %+v", *env)
	}
	if st := r.status(t, brandName); st.LastError != "" || st.Ingested != 26 {
		t.Fatalf("status %+v", st)
	}
}

// TestSearchStaleSinceIDStartsOver: recent search refuses a since_id older
// than 7 days; the stream says so and starts from the newest posts.
func TestSearchStaleSinceIDStartsOver(t *testing.T) {
	e := newEnv(t)
	old := xtest.Snowflake(t0.Add(-8*24*time.Hour), 0)
	_ = e.store.Save(context.Background(), brandName, []byte(`{"v":1,"since_id":"`+old+`"}`))
	e.api.AddPost(xtest.Post{ID: pid(1), Text: "#acme", AuthorID: "2001", Terms: []string{"#acme"}})
	r := e.start(searchOptions(e))
	e.step.waitPolled(t, brandName)
	st := r.status(t, brandName)
	if st.State != connectors.StateRunning || !strings.Contains(st.LastError, "older than X keeps") || !strings.Contains(st.LastError, "since_id") {
		t.Fatalf("status %+v", st)
	}
	var cp tweetCheckpoint
	e.checkpoint(brandName, &cp)
	if cp.SinceID != "" {
		t.Fatalf("checkpoint %+v not reset", cp)
	}
	e.step.next(t, brandName)
	if got := e.pub.SourceIDs(); !equal(got, []string{pid(1)}) {
		t.Fatalf("published %v after starting over", got)
	}
}

// TestMentionAndSearchOverlapOnce: a post that is both a mention and a
// search hit becomes the same envelope in both streams, stored once.
func TestMentionAndSearchOverlapOnce(t *testing.T) {
	e := newEnv(t)
	both := xtest.Post{ID: pid(5), Text: "@acme #acme lasku", AuthorID: "2001", Mentions: []string{account}, Terms: []string{"#acme"}}
	e.api.AddPost(both,
		xtest.Post{ID: pid(6), Text: "@acme only a mention", AuthorID: "2001", Mentions: []string{account}},
		xtest.Post{ID: pid(7), Text: "#acme only a hit", AuthorID: "2002", Terms: []string{"#acme"}})
	o := searchOptions(e)
	o.Mentions = true
	r := e.start(o)
	e.step.waitPolled(t, mentionsName)
	e.step.waitPolled(t, brandName)
	got := e.pub.SourceIDs()
	if len(got) != 3 {
		t.Fatalf("stored %v, want 3 distinct posts", got)
	}
	m, s := r.status(t, mentionsName), r.status(t, brandName)
	if m.Ingested+s.Ingested != 3 || m.Duplicates+s.Duplicates != 1 {
		t.Fatalf("mentions %+v, search %+v: want 3 stored and 1 duplicate", m, s)
	}
}
