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

const day = 24 * time.Hour

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

// graphSemantics are the two readings of since on the feed: the fake's
// default (since on created_time; a comment does not bring its post back)
// and the lenient one some reports describe. The connector must work
// against both.
var graphSemantics = []struct {
	name  string
	apply func(*fbtest.Server)
}{
	{"since on created_time", func(*fbtest.Server) {}},
	{"since on updated_time", (*fbtest.Server).SinceOnUpdatedTime},
}

func TestFeedPostsCommentsRepliesAndPaging(t *testing.T) {
	fake := newFake(t)
	page := fake.PageProfile(pageID)
	// Before the backfill window: neither the post nor its comment is read.
	old := fake.AddPost(pageID, visitor, "vanha", t0.Add(-30*day))
	fake.AddComment(old, visitor2, "vanha kommentti", t0.Add(-29*day), "")
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
	// Enough visitor posts to need three feed pages of 100.
	want := []string{c1, r2, v1}
	for i := range 210 {
		want = append(want, fake.AddPost(pageID, visitor2, fmt.Sprintf("kysymys %d", i), t0.Add(-time.Duration(200+i)*time.Minute)))
	}

	e := newEnv(t, fake)
	e.start(e.opts(), feedOnly())
	e.mustPoll(pageID)

	pub := e.pub.(*memPub)
	if got := pub.ids(); !slices.Equal(got, sourceIDs(want...)) {
		t.Fatalf("ingested %d items %v\nwant %d %v", len(got), got, len(want), sourceIDs(want...))
	}
	if n := e.metric("switchboard_facebook_graph_requests_total", map[string]string{"page": pageID, "kind": "feed"}); n != 3 {
		t.Errorf("feed requests = %v, want 3 pages of 100", n)
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
	for i := range 105 {
		id := fake.AddPost(pageID, visitor, fmt.Sprintf("kysymys %d", i), t0.Add(-time.Duration(10+i)*time.Minute))
		if i < 100 {
			fake.Filter(id) // the whole first page of 100
		} else {
			want = append(want, id)
		}
	}
	e := newEnv(t, fake)
	e.start(e.opts(), ingesting(facebook.Ingest{VisitorPosts: true}))
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
	e.start(e.opts(), ingesting(facebook.Ingest{PagePosts: true}))
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

// costs are Graph requests by edge.
type costs struct{ all, feed, comments, conv, messages int }

func snapCosts(fake *fbtest.Server) costs {
	return costs{fake.Requests(pageID), fake.EdgeRequests(pageID, "feed"), fake.EdgeRequests(pageID, "comments"),
		fake.EdgeRequests(pageID, "conversations"), fake.EdgeRequests(pageID, "messages")}
}

func (a costs) to(b costs) costs {
	return costs{b.all - a.all, b.feed - a.feed, b.comments - a.comments, b.conv - a.conv, b.messages - a.messages}
}

// TestIdlePollCost measures what polling costs: an idle poll of a page
// with 100 posts in its watch window is two requests (the feed with every
// post's newest comments expanded, and the conversations), and new
// comments and replies on any watched post — however old, whatever since
// applies to — are found within those two requests. A burst larger than
// the expanded page costs one more request.
func TestIdlePollCost(t *testing.T) {
	for _, sem := range graphSemantics {
		t.Run(sem.name, func(t *testing.T) {
			fake := newFake(t)
			sem.apply(fake)
			var posts []string
			for i := range 100 { // one every 7 hours: 29 days back
				created := t0.Add(-time.Duration(i)*7*time.Hour - time.Hour)
				p := fake.AddPost(pageID, visitor, fmt.Sprintf("post %d", i), created)
				fake.AddComment(p, visitor2, "kommentti", created.Add(30*time.Minute), "")
				posts = append(posts, p)
			}
			fake.AddPost(pageID, visitor, "ikivanha", t0.Add(-400*day))
			fake.AddMessage(pageID, "t_100", visitor, "Hei, missä tilaukseni?", t0.Add(-time.Hour))

			e := newEnv(t, fake)
			e.start(e.opts(), pageConfig(pageID, pageToken))
			e.mustPoll(pageID)
			pub := e.pub.(*memPub)
			backfilled, _ := pub.count()

			for i := range 3 {
				fake.Advance(time.Minute)
				before := snapCosts(fake)
				e.trigger(pageID)
				if d := before.to(snapCosts(fake)); d != (costs{all: 2, feed: 1, conv: 1}) {
					t.Fatalf("idle poll %d cost %+v, want one feed and one conversations request", i, d)
				}
			}
			if _, attempts := pub.count(); attempts != backfilled {
				t.Fatalf("idle polls published again: %d publish attempts for %d items", attempts, backfilled)
			}

			// A comment on a 20-day-old post and a reply on a 28-day-old
			// post's comment: older than every watermark, found in the same
			// two requests.
			fake.Advance(time.Minute)
			mid, oldest := posts[68], posts[95]
			c1 := fake.AddComment(mid, visitor, "vieläkin rikki", fake.Now().Add(-10*time.Second), "")
			top := fake.AddComment(oldest, visitor2, "kysyn uudestaan", fake.Now().Add(-8*time.Second), "")
			r1 := fake.AddComment(oldest, visitor, "sama täällä", fake.Now().Add(-5*time.Second), top)
			before := snapCosts(fake)
			e.trigger(pageID)
			if d := before.to(snapCosts(fake)); d != (costs{all: 2, feed: 1, conv: 1}) {
				t.Fatalf("poll with new comments on old posts cost %+v, want 2 requests", d)
			}
			for _, id := range []string{c1, top, r1} {
				if pub.get(id) == nil {
					t.Fatalf("new comment %s on an old post not ingested", id)
				}
			}
			if env := pub.get(r1); env.Kind != message.KindReply || env.ParentID != top || env.ThreadID != oldest {
				t.Fatalf("reply %+v", env)
			}

			// More new comments than the expanded page holds: read on to the
			// first one read before, in one more request.
			fake.Advance(time.Minute)
			var burst []string
			for i := range 70 {
				burst = append(burst, fake.AddComment(posts[10], visitor, fmt.Sprintf("spam %d", i), fake.Now().Add(-time.Duration(70-i)*time.Second), ""))
			}
			before = snapCosts(fake)
			e.trigger(pageID)
			if d := before.to(snapCosts(fake)); d != (costs{all: 3, feed: 1, comments: 1, conv: 1}) {
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
			if n := e.metric("switchboard_facebook_comment_full_reads_total", nil); n != 0 {
				t.Fatalf("%v posts read to the end; the answers were newest first", n)
			}
		})
	}
}

// TestIdlePollCostBeyondOneFeedPage: with more watched posts than one feed
// page holds, an idle poll reads every feed page: ceil(posts/100) + 1.
func TestIdlePollCostBeyondOneFeedPage(t *testing.T) {
	fake := newFake(t)
	for i := range 250 {
		created := t0.Add(-time.Duration(i) * 2 * time.Hour)
		p := fake.AddPost(pageID, visitor, fmt.Sprintf("post %d", i), created)
		fake.AddComment(p, visitor2, "kommentti", created.Add(time.Minute), "")
	}
	e := newEnv(t, fake)
	e.start(e.opts(), pageConfig(pageID, pageToken))
	e.mustPoll(pageID)
	fake.Advance(time.Minute)
	before := snapCosts(fake)
	e.trigger(pageID)
	if d := before.to(snapCosts(fake)); d != (costs{all: 4, feed: 3, conv: 1}) {
		t.Fatalf("idle poll of 250 watched posts cost %+v, want three feed pages and the conversations", d)
	}
}

// TestCommentOrderIsNotTrusted: the reference says ranked comments come
// ranked whatever order is asked for. Such a post is read to the end, but
// only when its total_count changed.
func TestCommentOrderIsNotTrusted(t *testing.T) {
	fake := newFake(t)
	post := fake.AddPost(pageID, visitor, "arvonta", t0.Add(-3*day))
	for i := range 60 {
		fake.AddComment(post, visitor2, strings.Repeat("x", 1+i%7), t0.Add(-2*day+time.Duration(i)*time.Minute), "")
	}
	fake.RankComments(post)
	e := newEnv(t, fake)
	e.start(e.opts(), feedOnly())
	e.mustPoll(pageID)
	pub := e.pub.(*memPub)
	if n, _ := pub.count(); n != 61 {
		t.Fatalf("ingested %d, want the post and its 60 comments", n)
	}

	fake.Advance(time.Minute)
	before := snapCosts(fake)
	e.trigger(pageID)
	if d := before.to(snapCosts(fake)); d != (costs{all: 1, feed: 1}) {
		t.Fatalf("idle poll of a ranked post cost %+v: an unchanged total_count must not read it again", d)
	}

	fake.Advance(time.Minute)
	c := fake.AddComment(post, visitor, "a", fake.Now().Add(-time.Second), "") // ranked last
	before = snapCosts(fake)
	e.trigger(pageID)
	if d := before.to(snapCosts(fake)); d != (costs{all: 2, feed: 1, comments: 1}) {
		t.Fatalf("poll with a new ranked comment cost %+v, want the feed and the rest of the comments", d)
	}
	if pub.get(c) == nil {
		t.Fatal("a new comment ranked on the last page was not ingested")
	}
	if stored, attempts := pub.count(); stored != attempts {
		t.Fatalf("%d publish attempts for %d items", attempts, stored)
	}
	if n := e.metric("switchboard_facebook_comment_full_reads_total", map[string]string{"reason": "unordered"}); n != 2 {
		t.Errorf("full reads = %v, want 2 (the first poll and the changed count)", n)
	}
}

// TestCountMismatchReadsThePostOnce: total_count grew by two, but only one
// new comment can be seen (the other is withheld): the post is read to the
// end once, and not again while nothing changes.
func TestCountMismatchReadsThePostOnce(t *testing.T) {
	fake := newFake(t)
	post := fake.AddPost(pageID, visitor, "tarjous", t0.Add(-3*day))
	for i := range 40 {
		fake.AddComment(post, visitor2, fmt.Sprintf("k%d", i), t0.Add(-2*day+time.Duration(i)*time.Minute), "")
	}
	e := newEnv(t, fake)
	e.start(e.opts(), feedOnly())
	e.mustPoll(pageID)

	fake.Advance(time.Minute)
	hidden := fake.AddComment(post, visitor, "yksityinen", fake.Now().Add(-20*time.Second), "")
	fake.Withhold(hidden)
	seen := fake.AddComment(post, visitor, "julkinen", fake.Now().Add(-10*time.Second), "")
	before := snapCosts(fake)
	e.trigger(pageID)
	if d := before.to(snapCosts(fake)); d != (costs{all: 2, feed: 1, comments: 1}) {
		t.Fatalf("poll with a count mismatch cost %+v, want the feed and one full read", d)
	}
	if e.pub.(*memPub).get(seen) == nil {
		t.Fatal("the visible new comment was not ingested")
	}
	fake.Advance(time.Minute)
	before = snapCosts(fake)
	e.trigger(pageID)
	if d := before.to(snapCosts(fake)); d != (costs{all: 1, feed: 1}) {
		t.Fatalf("the next idle poll cost %+v: the new count must be remembered", d)
	}
	if n := e.metric("switchboard_facebook_comment_full_reads_total", map[string]string{"reason": "count_mismatch"}); n != 1 {
		t.Errorf("count mismatch reads = %v, want 1", n)
	}
}

// TestHiddenDeletedAndNestedComments: a hidden comment is ingested and
// marked; a comment deleted before the poll is never seen; a reply to a
// reply is a reply to the top-level comment (Graph keeps two levels).
func TestHiddenDeletedAndNestedComments(t *testing.T) {
	fake := newFake(t)
	post := fake.AddPost(pageID, visitor, "kysymys", t0.Add(-time.Hour))
	top := fake.AddComment(post, visitor2, "vastaus?", t0.Add(-50*time.Minute), "")
	reply := fake.AddComment(post, visitor, "ei vielä", t0.Add(-40*time.Minute), top)
	deep := fake.AddComment(post, visitor2, "odotan minäkin", t0.Add(-30*time.Minute), reply)
	rude := fake.AddComment(post, visitor, "%&!#", t0.Add(-20*time.Minute), "")
	fake.HideComment(rude)
	gone := fake.AddComment(post, visitor2, "poistettu", t0.Add(-10*time.Minute), "")
	fake.DeleteComment(gone)

	e := newEnv(t, fake)
	e.start(e.opts(), feedOnly())
	e.mustPoll(pageID)
	pub := e.pub.(*memPub)
	if got := pub.ids(); !slices.Equal(got, sourceIDs(post, top, reply, deep, rude)) {
		t.Fatalf("ingested %v", got)
	}
	if env := pub.get(deep); env.Kind != message.KindReply || env.ParentID != top {
		t.Fatalf("reply to a reply: kind %s parent %s, want a reply to %s", env.Kind, env.ParentID, top)
	}
	if env := pub.get(rude); env.Metadata["hidden"] != "true" {
		t.Fatalf("hidden comment metadata %v", env.Metadata)
	}
	if env := pub.get(top); env.Metadata["hidden"] != "" {
		t.Fatalf("visible comment marked hidden: %v", env.Metadata)
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
	var long []string
	for i := range 40 {
		long = append(long, fake.AddMessage(pageID, "t_999", visitor2, fmt.Sprintf("osa %d", i), t0.Add(-time.Duration(40-i)*time.Minute)))
	}
	want = append(want, long...)
	// A conversation before the backfill window.
	fake.AddMessage(pageID, "t_1", visitor, "vanha", t0.Add(-20*day))

	e := newEnv(t, fake)
	e.start(e.opts(), ingesting(facebook.Ingest{Messages: true}))
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
	// The oldest messages of the long conversation came from a further
	// page, asked for with the fields (not from a bare paging.next).
	if env := pub.get(long[0]); env.Text != "osa 0" || env.Author.ID != visitor2.ID {
		t.Fatalf("message from the further page: %+v", env)
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
	for i := range 130 {
		fake.AddPost(pageID, visitor, fmt.Sprintf("p%d", i), t0.Add(-time.Duration(i+1)*time.Minute))
	}
	e := newEnv(t, fake)
	o := e.opts()
	o.AppSecret = "app-secret-xyz"
	e.start(o, ingesting(facebook.Ingest{VisitorPosts: true}))
	e.mustPoll(pageID)
	if n, _ := e.pub.(*memPub).count(); n != 130 {
		t.Fatalf("ingested %d posts, want 130 across two pages (the proof must ride on paging links too)", n)
	}
	e.assertNoLeak(pageToken, "app-secret-xyz")
}
