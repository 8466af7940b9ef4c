package facebook

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
)

// commentFields are the fields of a comment.
const commentFields = "id,created_time,message,permalink_url,is_hidden,from{id,name},parent{id},attachment{media_type,type,url}"

// orderNewestFirst is the summary order of comments newest first.
const orderNewestFirst = "reverse_chronological"

// commentsExpansion is the comments part of a feed request's fields:
// filter(stream) lists comments and replies in one list (a reply names its
// comment in "parent"); order(reverse_chronological) asks for the newest
// first; summary(true) reports the order actually used and total_count.
func commentsExpansion() string {
	return "comments.filter(stream).order(" + orderNewestFirst + ").summary(true).limit(" +
		strconv.Itoa(commentsLimit) + "){" + commentFields + "}"
}

// commentScan is how one pass judges comments.
type commentScan struct {
	// kind names the pass in metrics: "feed" or "sweep".
	kind string
	// st is the pass's progress; new comments are marked seen in it.
	st *kindState
	// from is where the comments of a post start being new.
	from func(post postNode) int64
	// seen reports a comment the pass or another one already took.
	seen func(id string) bool
	// known returns a post's total_count at its last complete read.
	known func(postID string) (int, bool)
}

// postComments reads the new comments and replies of post: those created
// at or after sc.from(post) that were not taken before. It starts from the
// page expanded in the feed answer and reads further only when it must:
//
//   - newest first (the summary says so and the times agree): until the
//     first comment older than from; a burst bigger than the expanded page
//     costs one more request per 100 comments;
//   - in any other order (ranked, chronological, or a summary missing):
//     everything, but only when total_count differs from the last complete
//     read, or none was recorded;
//   - and, newest first, everything when total_count grew by more than the
//     new comments found (a comment the order hid).
//
// It returns the items and the total_count to remember (ok false: none).
func (p *Page) postComments(ctx context.Context, h *connectors.Handle, g *graphClient, sc commentScan, post postNode) (items []item, count int, ok bool, err error) {
	e := post.Comments
	if e == nil {
		return nil, 0, false, nil // no comment on the post
	}
	from := sc.from(post)
	sum := e.Summary
	known, haveKnown := sc.known(post.ID)
	ordered := sum != nil && sum.Order == orderNewestFirst
	full := !ordered && !(haveKnown && sum != nil && sum.TotalCount == known)
	if full && e.next() != "" {
		order := "no summary"
		if sum != nil {
			order = sum.Order
		}
		p.fullRead(post.ID, "unordered", order)
	}
	what := "comments of post " + post.ID
	found := 0
	var pg pager
	var prev time.Time // the previous comment's time, across pages
	for {
		reachedOld := false
		for c := range readable(p, h, what, e.Data, decodeComment) {
			t := c.CreatedTime.Time
			if ordered && !prev.IsZero() && t.After(prev) {
				ordered, full = false, true // not newest first after all
				p.fullRead(post.ID, "unordered", "times out of order")
			}
			prev = t
			if t.Unix() < from {
				reachedOld = true
				continue
			}
			if sc.seen(c.ID) || !sc.st.isNewFrom(c.ID, t, from) {
				continue
			}
			found++
			items = append(items, p.commentItem(h, post.ID, c))
		}
		if e.next() == "" {
			break
		}
		if !full {
			if !ordered {
				break // the count did not change: nothing new is hidden further
			}
			if reachedOld {
				if !haveKnown || sum == nil || sum.TotalCount-known <= found {
					break
				}
				full = true // more comments than found: read them all once
				p.fullRead(post.ID, "count_mismatch", "")
			}
		}
		next := e.after()
		if next == "" {
			next = e.next()
		}
		if err := pg.ok(next); err != nil {
			return nil, 0, false, err
		}
		if e, err = p.moreComments(ctx, g, sc.kind, what, post.ID, e); err != nil {
			return nil, 0, false, err
		}
	}
	if sum == nil {
		return items, 0, false, nil
	}
	return items, sum.TotalCount, true, nil
}

// moreComments reads the page after e of a post's comments. It asks again
// with its own filter, order, summary and fields and the cursor: a nested
// expansion's paging.next need not carry them. Without a cursor it follows
// paging.next.
func (p *Page) moreComments(ctx context.Context, g *graphClient, kind, what, postID string, e *edge) (*edge, error) {
	cursor := e.after()
	if cursor == "" {
		return g.next(ctx, kind, what, e.next())
	}
	return g.get(ctx, kind, what, postID+"/comments", url.Values{
		"fields":  {commentFields},
		"filter":  {"stream"},
		"order":   {orderNewestFirst},
		"summary": {"true"},
		"limit":   {strconv.Itoa(morePageLimit)},
		"after":   {cursor},
	})
}

// commentItem is one new comment: a customer's to ingest, or the page's own
// answer (a response when they are tracked, never ingested).
func (p *Page) commentItem(h *connectors.Handle, postID string, c commentNode) item {
	it := item{id: c.ID, t: c.CreatedTime.Time}
	if p.own(c.From) {
		p.opts.Metrics.skippedOwn(p.cfg.ID)
		if h.TracksResponses() {
			it.resp = p.commentResponse(postID, c)
		}
		return it
	}
	it.env = commentEnvelope(p.cfg.ID, postID, c)
	return it
}

// fullRead records that a post's comments are read to the end.
func (p *Page) fullRead(postID, reason, detail string) {
	p.opts.Metrics.fullRead(p.cfg.ID, reason)
	p.log.Debug("facebook reading all comments of a post", zap.String("post_id", postID),
		zap.String("reason", reason), zap.String("detail", detail))
}
