package facebook_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors/facebook"
	"github.com/switchboard/switchboard/connectors/facebook/fbtest"
	"github.com/switchboard/switchboard/internal/message"
)

const pageID, pageToken = "111000111", "EAAG-page-one-token-do-not-log"

func newFake(t *testing.T) *fbtest.Server {
	fake := fbtest.New(t, version, t0)
	fake.AddPage(pageID, "Acme Oy", pageToken)
	return fake
}

func sourceIDs(ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = message.MakeID(facebook.Channel, id)
	}
	sort.Strings(out)
	return out
}

func TestFeedPostsCommentsRepliesAndPaging(t *testing.T) {
	fake := newFake(t)
	page := fake.PageProfile(pageID)
	// Before the backfill window: neither the post nor its comment is read.
	old := fake.AddPost(pageID, visitor, "vanha", t0.Add(-30*24*time.Hour))
	fake.AddComment(old, visitor2, "vanha kommentti", t0.Add(-29*24*time.Hour), "")
	// The page's own post with a visitor's comment, the page's reply and a
	// visitor's reply.
	own := fake.AddPost(pageID, page, "Tervetuloa!", t0.Add(-2*time.Hour))
	c1 := fake.AddComment(own, visitor, "Laskussa on virhe", t0.Add(-90*time.Minute), "")
	fake.AddComment(own, page, "Selvitämme asian", t0.Add(-80*time.Minute), c1)
	r2 := fake.AddComment(own, visitor2, "Minulla sama", t0.Add(-70*time.Minute), c1)
	// A visitor post the page commented on.
	v1 := fake.AddPost(pageID, visitor, "Paketti ei tullut", t0.Add(-time.Hour))
	fake.AddComment(v1, page, "Pahoittelut, tarkistamme", t0.Add(-50*time.Minute), "")
	// An unpublished (scheduled) page post.
	sched := fake.AddPost(pageID, page, "tuleva kampanja", t0.Add(-3*time.Hour))
	fake.Unpublish(sched)
	// Enough visitor posts to need three feed pages of 25.
	want := []string{c1, r2, v1}
	for i := range 60 {
		want = append(want, fake.AddPost(pageID, visitor2, fmt.Sprintf("kysymys %d", i), t0.Add(-time.Duration(200+i)*time.Minute)))
	}

	e := newEnv(t, fake)
	cfg := pageConfig(pageID, pageToken)
	cfg.Ingest.Messages = false
	e.start(e.opts(), cfg)
	e.mustPoll(pageID)

	pub := e.pub.(*memPub)
	if got := pub.ids(); !slices.Equal(got, sourceIDs(want...)) {
		t.Fatalf("ingested %d items %v\nwant %d %v", len(got), got, len(want), sourceIDs(want...))
	}
	if n := fake.EdgeRequests(pageID, "feed"); n != 3 {
		t.Errorf("feed requests = %d, want 3 pages of 25", n)
	}
	tests := []struct {
		id                 string
		kind               message.Kind
		thread, parent     string
		author, text, obj  string
		created            time.Time
		urlPart            string
		attachmentOrPostID string
	}{
		{v1, message.KindPost, v1, "", visitor.ID, "Paketti ei tullut", "visitor_post", t0.Add(-time.Hour), "/posts/", ""},
		{c1, message.KindComment, own, own, visitor.ID, "Laskussa on virhe", "comment", t0.Add(-90 * time.Minute), "comment_id=" + c1, own},
		{r2, message.KindReply, own, c1, visitor2.ID, "Minulla sama", "reply", t0.Add(-70 * time.Minute), "comment_id=" + r2, own},
	}
	for _, tt := range tests {
		env := pub.get(tt.id)
		if env == nil {
			t.Fatalf("%s not ingested", tt.id)
		}
		if env.Kind != tt.kind || env.ThreadID != tt.thread || env.ParentID != tt.parent || env.Author.ID != tt.author ||
			env.Text != tt.text || !env.CreatedAt.Equal(tt.created) || !strings.Contains(env.URL, tt.urlPart) ||
			env.Metadata["object"] != tt.obj || env.Metadata["page_id"] != pageID || env.Author.Name == "" {
			t.Errorf("%s: envelope %+v", tt.id, env)
		}
		if tt.attachmentOrPostID != "" && env.Metadata["post_id"] != tt.attachmentOrPostID {
			t.Errorf("%s: post_id %q", tt.id, env.Metadata["post_id"])
		}
	}
	// The page's own post, its comment and its reply were skipped and counted.
	if n := e.metric("switchboard_facebook_own_items_skipped_total", map[string]string{"page": pageID}); n != 3 {
		t.Errorf("own items skipped = %v, want 3", n)
	}
	if fake.TokenInURL() != 0 || fake.BadVersion() != 0 {
		t.Errorf("requests with the token in the URL: %d, with another Graph version: %d", fake.TokenInURL(), fake.BadVersion())
	}
	e.assertNoLeak(pageToken)
}

// TestFilteredFeedPageDoesNotEndThePass: the Graph API filters items after
// paging, so a feed page can come back empty while paging.next goes on. The
// pass must follow it: the posts on the next page are new, and stopping
// would move the watermark past them for good.
func TestFilteredFeedPageDoesNotEndThePass(t *testing.T) {
	fake := newFake(t)
	var want []string
	for i := range 30 {
		id := fake.AddPost(pageID, visitor, fmt.Sprintf("kysymys %d", i), t0.Add(-time.Duration(10+i)*time.Minute))
		if i < 25 {
			fake.Filter(id) // the whole first page of 25
		} else {
			want = append(want, id)
		}
	}
	e := newEnv(t, fake)
	cfg := pageConfig(pageID, pageToken)
	cfg.Ingest.Messages = false
	e.start(e.opts(), cfg)
	e.mustPoll(pageID)

	if got := e.pub.(*memPub).ids(); !slices.Equal(got, sourceIDs(want...)) {
		t.Fatalf("ingested %v, want the posts behind the empty page %v", got, sourceIDs(want...))
	}
	if n := fake.EdgeRequests(pageID, "feed"); n != 2 {
		t.Errorf("feed requests = %d, want 2 (the empty page and the next)", n)
	}
}

func TestPagePostsWhenAsked(t *testing.T) {
	fake := newFake(t)
	own := fake.AddPost(pageID, fake.PageProfile(pageID), "Uusi tuote", t0.Add(-time.Hour))
	v := fake.AddPost(pageID, visitor, "Hei", t0.Add(-time.Hour))
	e := newEnv(t, fake)
	cfg := pageConfig(pageID, pageToken)
	cfg.Ingest = facebook.Ingest{PagePosts: true}
	e.start(e.opts(), cfg)
	e.mustPoll(pageID)
	pub := e.pub.(*memPub)
	if got := pub.ids(); !slices.Equal(got, sourceIDs(own)) {
		t.Fatalf("ingested %v, want only the page post %s (not visitor post %s)", got, own, v)
	}
	if env := pub.get(own); env.Metadata["object"] != "page_post" {
		t.Fatalf("object %q", env.Metadata["object"])
	}
	if fake.EdgeRequests(pageID, "conversations") != 0 {
		t.Fatal("conversations read although messages are not ingested")
	}
}

// TestIdlePollCost proves the cheap-polling claim: a poll that finds nothing
// costs one feed and one conversations request however many posts the page
// has, and a new comment on an old post is still found in that one request.
func TestIdlePollCost(t *testing.T) {
	fake := newFake(t)
	var posts []string
	for i := range 300 {
		p := fake.AddPost(pageID, visitor, fmt.Sprintf("post %d", i), t0.Add(-6*24*time.Hour+time.Duration(i)*time.Minute))
		fake.AddComment(p, visitor2, "kommentti", t0.Add(-5*24*time.Hour+time.Duration(i)*time.Minute), "")
		posts = append(posts, p)
	}
	ancient := fake.AddPost(pageID, visitor, "ikivanha", t0.Add(-400*24*time.Hour))
	fake.AddMessage(pageID, "t_100", visitor, "Hei, missä tilaukseni?", t0.Add(-time.Hour))

	e := newEnv(t, fake)
	e.start(e.opts(), pageConfig(pageID, pageToken))
	e.mustPoll(pageID)
	pub := e.pub.(*memPub)
	if n, _ := pub.count(); n != 601 {
		t.Fatalf("backfill ingested %d items, want 300 posts + 300 comments + 1 message", n)
	}

	type counts struct{ all, feed, comments, conv, messages int }
	snap := func() counts {
		return counts{fake.Requests(pageID), fake.EdgeRequests(pageID, "feed"), fake.EdgeRequests(pageID, "comments"),
			fake.EdgeRequests(pageID, "conversations"), fake.EdgeRequests(pageID, "messages")}
	}
	delta := func(a, b counts) counts {
		return counts{b.all - a.all, b.feed - a.feed, b.comments - a.comments, b.conv - a.conv, b.messages - a.messages}
	}

	for i := range 3 { // idle polls
		fake.Advance(time.Minute)
		before := snap()
		e.trigger(pageID)
		if d := delta(before, snap()); d != (counts{all: 2, feed: 1, conv: 1}) {
			t.Fatalf("idle poll %d cost %+v, want one feed and one conversations request", i, d)
		}
	}
	if _, attempts := pub.count(); attempts != 601 {
		t.Fatalf("idle polls published again: %d publish attempts", attempts)
	}

	// New comments on the oldest post in range and on a post from before the
	// backfill window: found in the single feed request.
	fake.Advance(time.Minute)
	c1 := fake.AddComment(posts[0], visitor, "vieläkin rikki", fake.Now().Add(-10*time.Second), "")
	c2 := fake.AddComment(ancient, visitor2, "muistatteko tämän?", fake.Now().Add(-5*time.Second), "")
	before := snap()
	e.trigger(pageID)
	if d := delta(before, snap()); d != (counts{all: 2, feed: 1, conv: 1}) {
		t.Fatalf("poll with two new comments cost %+v, want 2 requests", d)
	}
	for _, id := range []string{c1, c2} {
		if pub.get(id) == nil {
			t.Fatalf("new comment %s on an old post not ingested", id)
		}
	}
	if pub.get(ancient) != nil {
		t.Fatal("a post from before the backfill window was ingested")
	}

	// More new comments than the expanded first page holds: paging.next is
	// followed to the end of what is new, and no further.
	fake.Advance(time.Minute)
	var burst []string
	for i := range 70 {
		burst = append(burst, fake.AddComment(posts[10], visitor, fmt.Sprintf("spam %d", i), fake.Now().Add(-time.Duration(70-i)*time.Second), ""))
	}
	before = snap()
	e.trigger(pageID)
	if d := delta(before, snap()); d != (counts{all: 3, feed: 1, comments: 1, conv: 1}) {
		t.Fatalf("poll with 70 new comments cost %+v, want feed + one comments page + conversations", d)
	}
	for _, id := range burst {
		if pub.get(id) == nil {
			t.Fatalf("comment %s of the burst not ingested", id)
		}
	}
	if stored, attempts := pub.count(); stored != attempts {
		t.Fatalf("%d publish attempts for %d items: something was read twice", attempts, stored)
	}
}

func TestMessenger(t *testing.T) {
	fake := newFake(t)
	page := fake.PageProfile(pageID)
	var want []string
	// 30 conversations: two pages of 25.
	for i := range 30 {
		conv := fmt.Sprintf("t_%d", 500+i)
		want = append(want, fake.AddMessage(pageID, conv, visitor, fmt.Sprintf("kysymys %d", i), t0.Add(-time.Duration(100-i)*time.Minute)))
		fake.AddMessage(pageID, conv, page, "Kiitos viestistä!", t0.Add(-time.Duration(99-i)*time.Minute))
	}
	// One long conversation: more messages than the expanded page of 25.
	for i := range 40 {
		want = append(want, fake.AddMessage(pageID, "t_999", visitor2, fmt.Sprintf("osa %d", i), t0.Add(-time.Duration(40-i)*time.Minute)))
	}
	// A conversation before the backfill window.
	fake.AddMessage(pageID, "t_1", visitor, "vanha", t0.Add(-20*24*time.Hour))

	e := newEnv(t, fake)
	cfg := pageConfig(pageID, pageToken)
	cfg.Ingest = facebook.Ingest{Messages: true}
	e.start(e.opts(), cfg)
	e.mustPoll(pageID)
	pub := e.pub.(*memPub)
	if got := pub.ids(); !slices.Equal(got, sourceIDs(want...)) {
		t.Fatalf("ingested %d messages, want %d", len(got), len(want))
	}
	env := pub.get(want[0])
	if env.Kind != message.KindMessage || env.ThreadID != "t_500" || env.Author.ID != visitor.ID || env.Author.Email != "" ||
		env.URL != "https://www.facebook.com/"+pageID+"/inbox/t_500" || env.Metadata["conversation_id"] != "t_500" {
		t.Fatalf("message envelope %+v", env)
	}
	if n := e.metric("switchboard_facebook_own_items_skipped_total", map[string]string{"page": pageID}); n != 30 {
		t.Errorf("page answers skipped = %v, want 30", n)
	}
	if n := fake.EdgeRequests(pageID, "feed"); n != 0 {
		t.Fatalf("feed read although only messages are ingested")
	}

	// Idle: one request. Then a new message in an old conversation.
	fake.Advance(time.Minute)
	before := fake.Requests(pageID)
	e.trigger(pageID)
	if d := fake.Requests(pageID) - before; d != 1 {
		t.Fatalf("idle messenger poll cost %d requests, want 1", d)
	}
	fake.Advance(time.Minute)
	m := fake.AddMessage(pageID, "t_503", visitor, "Onko uutisia?", fake.Now().Add(-time.Second))
	e.trigger(pageID)
	if pub.get(m) == nil {
		t.Fatal("new message in an old conversation not ingested")
	}
}

func TestAppsecretProof(t *testing.T) {
	fake := newFake(t)
	fake.RequireAppsecretProof("app-secret-xyz")
	for i := range 30 {
		fake.AddPost(pageID, visitor, fmt.Sprintf("p%d", i), t0.Add(-time.Duration(i+1)*time.Minute))
	}
	e := newEnv(t, fake)
	o := e.opts()
	o.AppSecret = "app-secret-xyz"
	cfg := pageConfig(pageID, pageToken)
	cfg.Ingest.Messages = false
	e.start(o, cfg)
	e.mustPoll(pageID)
	if n, _ := e.pub.(*memPub).count(); n != 30 {
		t.Fatalf("ingested %d posts, want 30 across two pages (the proof must ride on paging links too)", n)
	}
	e.assertNoLeak(pageToken, "app-secret-xyz")
}
