package facebook

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// postFields are the fields of a feed post.
const postFields = "id,created_time,updated_time,message,story,permalink_url,is_published,from{id,name},attachments{media_type,type,url}"

// feedFields is the fields parameter of a feed request: the posts, and with
// comments their newest comments expanded.
func (p *Page) feedFields() string {
	if !p.cfg.Ingest.Comments {
		return postFields
	}
	return postFields + "," + commentsExpansion()
}

// pollFeed reads the watched posts — those created since the window start
// (feedFrom) — with their new comments, and ingests the new posts (without
// comments to read, only the posts created since the watermark). It pages
// through the whole window: the feed's order is not relied upon, and since
// (which the reference does not say applies to created_time or to
// updated_time) only bounds the answer; posts created before the window
// start are the sweep's. An idle pass over up to 100 watched posts is one
// request.
func (p *Page) pollFeed(ctx context.Context, h *connectors.Handle, g *graphClient, cp *checkpoint) error {
	st := cp.Feed
	from := cp.feedFrom(p.cfg.WatchWindow)
	if !p.cfg.Ingest.Comments {
		from = st.since() // only new posts are wanted: no window to watch
	}
	commentsFrom := cp.commentsFrom()
	sc := commentScan{
		kind: "feed", st: st,
		from: func(postNode) int64 { return commentsFrom },
		seen: func(string) bool { return false },
		known: func(id string) (int, bool) {
			m, ok := cp.Posts[id]
			return m.Count, ok
		},
	}
	what := "feed of page " + p.cfg.ID
	g.date = time.Time{}
	e, err := g.get(ctx, "feed", what, p.cfg.ID+"/feed", url.Values{
		"fields": {p.feedFields()},
		"since":  {strconv.FormatInt(from, 10)},
		"limit":  {strconv.Itoa(feedLimit)},
	})
	if err != nil {
		return err
	}
	start := p.passStart(g)
	watched := map[string]bool{}
	// A page without any post in the window ends the pass: a guard in case
	// the API ever ignored since.
	err = p.publishPages(ctx, h, g, cp, st, "feed", what, e, func(e *edge) (batch, bool, error) {
		return p.feedPage(ctx, h, g, st, sc, from, e, watched)
	})
	if err != nil {
		return err
	}
	cp.completeFeed(start, p.cfg.WatchWindow, watched)
	return nil
}

// feedPage reads one page of the feed: the new posts and the new comments of
// every watched post on it. current reports whether any post on it was
// created or updated since from, or whether it held no readable post at all:
// the Graph API filters items after paging, so an empty or short page says
// nothing about the pages after it.
func (p *Page) feedPage(ctx context.Context, h *connectors.Handle, g *graphClient, st *kindState, sc commentScan, from int64, e *edge, watched map[string]bool) (b batch, current bool, err error) {
	decoded := 0
	for post := range readable(p, h, "feed", e.Data, decodePost) {
		decoded++
		created := post.CreatedTime.Unix()
		if created < from {
			// Older than the window (since followed updated_time): the
			// sweep reads its comments.
			current = current || post.UpdatedTime.Unix() >= from
			continue
		}
		current = true
		watched[post.ID] = true
		if st.isNew(post.ID, post.CreatedTime.Time) && (post.IsPublished == nil || *post.IsPublished) {
			switch {
			case p.own(post.From) && !p.cfg.Ingest.PagePosts:
				p.opts.Metrics.skippedOwn(p.cfg.ID)
				b.add(item{id: post.ID, t: post.CreatedTime.Time})
			case p.own(post.From) || p.cfg.Ingest.VisitorPosts:
				b.add(item{id: post.ID, t: post.CreatedTime.Time, env: postEnvelope(p.cfg.ID, post)})
			}
		}
		if !p.cfg.Ingest.Comments {
			continue
		}
		items, count, ok, err := p.postComments(ctx, h, g, sc, post)
		if err != nil {
			return batch{}, false, err
		}
		b.add(items...)
		if ok && count > 0 {
			b.mark(post.ID, postMark{Created: created, Count: count})
		}
	}
	return b, current || decoded == 0, nil
}
