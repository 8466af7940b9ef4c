package facebook_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors/facebook"
)

// TestEveryCommentInTheWindowIsRead replays the lost-comments run: 38
// comments and replies written over a few polls on posts between an hour
// and 29 days old. Every one is ingested once, against either reading of
// since, and an idle poll stays at two requests.
func TestEveryCommentInTheWindowIsRead(t *testing.T) {
	for _, sem := range graphSemantics {
		t.Run(sem.name, func(t *testing.T) {
			fake := newFake(t)
			sem.apply(fake)
			page := fake.PageProfile(pageID)
			var posts []string
			for _, age := range []time.Duration{time.Hour, 26 * time.Hour, 3 * day, 6 * day, 9 * day, 14 * day, 20 * day, 25 * day, 29 * day} {
				posts = append(posts, fake.AddPost(pageID, visitor, "postaus", t0.Add(-age)))
			}
			e := newEnv(t, fake)
			e.start(e.opts(), pageConfig(pageID, pageToken))
			e.mustPoll(pageID)
			pub := e.pub.(*memPub)
			base, _ := pub.count()

			rng := rand.New(rand.NewPCG(1, 2))
			var want []string
			tops := map[string][]string{}
			for poll, n := range []int{6, 7, 6, 7, 6, 6} { // 38 comments and replies
				fake.Advance(time.Minute)
				for range n {
					p := posts[rng.IntN(len(posts))]
					parent := ""
					if ts := tops[p]; len(ts) > 0 && rng.IntN(2) == 0 {
						parent = ts[rng.IntN(len(ts))]
					}
					author := visitor
					switch rng.IntN(3) {
					case 1:
						author = visitor2
					case 2:
						author = page
					}
					id := fake.AddComment(p, author, fmt.Sprintf("kommentti %d", len(want)), fake.Now().Add(-time.Duration(rng.IntN(50))*time.Second), parent)
					if parent == "" {
						tops[p] = append(tops[p], id)
					}
					if author != page {
						want = append(want, id)
					}
				}
				before := snapCosts(fake)
				e.trigger(pageID)
				if d := before.to(snapCosts(fake)); d.feed != 1 || d.comments != 0 {
					t.Fatalf("poll %d cost %+v, want one feed request", poll, d)
				}
			}
			for _, id := range want {
				if pub.get(id) == nil {
					t.Errorf("comment %s not ingested", id)
				}
			}
			if stored, attempts := pub.count(); stored != base+len(want) || attempts != stored {
				t.Fatalf("stored %d in %d attempts, want %d once each", stored, attempts, base+len(want))
			}
		})
	}
}

// TestSweepReadsOlderPosts: comments on posts older than the window are
// not read by every poll, but by the sweep every 6 hours, back to a year.
func TestSweepReadsOlderPosts(t *testing.T) {
	for _, sem := range graphSemantics {
		t.Run(sem.name, func(t *testing.T) {
			fake := newFake(t)
			sem.apply(fake)
			recent := fake.AddPost(pageID, visitor, "uusi", t0.Add(-2*day))
			old := fake.AddPost(pageID, visitor, "kuukausi sitten", t0.Add(-40*day))
			older := fake.AddPost(pageID, visitor, "keväällä", t0.Add(-200*day))
			ancient := fake.AddPost(pageID, visitor, "toissa vuonna", t0.Add(-400*day))
			e := newEnv(t, fake)
			e.start(e.opts(), pageConfig(pageID, pageToken))
			e.mustPoll(pageID)
			pub := e.pub.(*memPub)

			fake.Advance(time.Minute)
			c1 := fake.AddComment(old, visitor2, "vielä yksi kysymys", fake.Now().Add(-time.Second), "")
			c2 := fake.AddComment(older, visitor2, "takuu?", fake.Now().Add(-time.Second), "")
			c3 := fake.AddComment(ancient, visitor2, "hei", fake.Now().Add(-time.Second), "")
			c4 := fake.AddComment(recent, visitor2, "kiitos", fake.Now().Add(-time.Second), "")
			e.trigger(pageID)
			if pub.get(c4) == nil {
				t.Fatal("a comment on a watched post waited for the sweep")
			}
			if pub.get(c1) != nil || pub.get(c2) != nil {
				t.Fatal("older posts were read by a regular poll")
			}

			fake.Advance(6 * time.Hour)
			before := snapCosts(fake)
			e.trigger(pageID)
			if d := before.to(snapCosts(fake)); d != (costs{all: 3, feed: 2, conv: 1}) {
				t.Fatalf("poll with the sweep cost %+v, want the feed, one sweep page and the conversations", d)
			}
			for _, id := range []string{c1, c2} {
				if pub.get(id) == nil {
					t.Fatalf("the sweep missed comment %s", id)
				}
			}
			if pub.get(c3) != nil {
				t.Fatal("a post older than the sweep horizon was swept")
			}
			if n := e.metric("switchboard_facebook_graph_requests_total", map[string]string{"kind": "sweep"}); n != 2 {
				t.Errorf("sweep requests = %v, want 2 (the first poll and this one)", n)
			}
			if stored, attempts := pub.count(); stored != attempts {
				t.Fatalf("%d attempts for %d items", attempts, stored)
			}
		})
	}
}

// TestPostLeavingTheWindow: a post crossing the window's edge has every
// comment read once: by the feed passes while it is watched, by the sweep
// after, with nothing between them lost or read twice.
func TestPostLeavingTheWindow(t *testing.T) {
	fake := newFake(t)
	post := fake.AddPost(pageID, visitor, "reunalla", t0.Add(-30*day+30*time.Minute))
	fake.AddComment(post, visitor2, "ensimmäinen", t0.Add(-time.Hour), "")
	e := newEnv(t, fake)
	e.start(e.opts(), feedOnly())
	e.mustPoll(pageID)
	pub := e.pub.(*memPub)

	var want []string
	for range 4 { // polls 20 minutes apart: the post leaves after the second
		fake.Advance(20 * time.Minute)
		want = append(want, fake.AddComment(post, visitor2, "lisää", fake.Now().Add(-30*time.Second), ""))
		e.trigger(pageID)
	}
	if pub.get(want[0]) == nil || pub.get(want[1]) == nil {
		t.Fatal("comments while the post was watched were not read")
	}
	if pub.get(want[2]) != nil {
		t.Fatal("the post was still watched after it left the window")
	}
	fake.Advance(6 * time.Hour)
	want = append(want, fake.AddComment(post, visitor2, "vielä", fake.Now().Add(-time.Minute), ""))
	e.trigger(pageID)
	for _, id := range want {
		if pub.get(id) == nil {
			t.Fatalf("comment %s lost at the window's edge", id)
		}
	}
	if stored, attempts := pub.count(); stored != attempts {
		t.Fatalf("%d attempts for %d items: the sweep took again what the feed took", attempts, stored)
	}
}

// TestWindowConfiguration: a shorter window watches fewer posts (and leaves
// the rest to the sweep).
func TestWindowConfiguration(t *testing.T) {
	fake := newFake(t)
	var ids []string
	for i := range 10 {
		ids = append(ids, fake.AddPost(pageID, visitor, "p", t0.Add(-time.Duration(i)*day-time.Hour)))
	}
	e := newEnv(t, fake)
	cfg := feedOnly()
	cfg.WatchWindow = 3 * day
	e.start(e.opts(), cfg)
	e.mustPoll(pageID)
	fake.Advance(time.Minute)
	var got []string
	for _, id := range ids {
		got = append(got, fake.AddComment(id, visitor2, "k", fake.Now().Add(-time.Second), ""))
	}
	e.trigger(pageID)
	pub := e.pub.(*memPub)
	var read []int
	for i, c := range got {
		if pub.get(c) != nil {
			read = append(read, i)
		}
	}
	if !slices.Equal(read, []int{0, 1, 2}) {
		t.Fatalf("comments read on posts %v days old, want 0..2 with a 3-day window", read)
	}
	if _, err := facebook.NewPage(facebook.PageConfig{ID: "1", Token: func() (string, error) { return "", nil }, PollInterval: time.Minute,
		WatchWindow: -time.Hour, Ingest: facebook.Ingest{Comments: true}}, facebook.Options{}); err == nil {
		t.Fatal("a negative window was accepted")
	}
}
