package facebook

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// sweepFields is the fields parameter of a sweep's feed request: only what
// places a post, and its newest comments.
func sweepFields() string { return "id,created_time,updated_time," + commentsExpansion() }

// sweepDue reports whether the comments of posts older than the watch
// window are due to be read.
func (p *Page) sweepDue(cp *checkpoint) bool {
	if !p.cfg.Ingest.Comments || cp.Sweep == nil {
		return false
	}
	return p.opts.Now().Unix()-cp.Sweep.Watermark >= int64(p.cfg.SweepInterval/time.Second)
}

// pollSweep reads the new comments on the posts that are no longer watched:
// created before the window start, up to SweepHorizon ago. It runs every
// SweepInterval, after a feed pass. A post's comments are new from where the
// feed passes stopped reading them (Left, or the post's age reaching the
// window) or from the previous sweep, whichever is later. Posts are never
// ingested here: they were, while they were in the window.
func (p *Page) pollSweep(ctx context.Context, h *connectors.Handle, g *graphClient, cp *checkpoint) error {
	sw := cp.Sweep
	boundary := cp.feedFrom(p.cfg.WatchWindow)
	horizon := p.opts.Now().Add(-SweepHorizon).Unix()
	window := int64(p.cfg.WatchWindow / time.Second)
	sc := commentScan{
		kind: "sweep", st: sw,
		from: func(post postNode) int64 {
			if left, ok := cp.Left[post.ID]; ok {
				return max(sw.since(), left-int64(overlap/time.Second))
			}
			return max(sw.since(), post.CreatedTime.Unix()+window)
		},
		seen: func(id string) bool {
			_, feed := cp.Feed.Seen[id]
			_, left := cp.LeftSeen[id]
			return feed || left
		},
		known: func(string) (int, bool) { return 0, false },
	}
	what := "older posts of page " + p.cfg.ID
	g.date = time.Time{}
	e, err := g.get(ctx, "sweep", what, p.cfg.ID+"/feed", url.Values{
		"fields": {sweepFields()},
		"since":  {strconv.FormatInt(horizon, 10)},
		"limit":  {strconv.Itoa(feedLimit)},
	})
	if err != nil {
		return err
	}
	start := p.passStart(g)
	err = p.publishPages(ctx, h, g, cp, sw, "sweep", what, e, func(e *edge) (b batch, more bool, err error) {
		current, decoded := false, 0
		for _, raw := range e.Data {
			post, err := decodePost(raw)
			if err != nil {
				continue // the feed pass reports unreadable posts
			}
			decoded++
			created := post.CreatedTime.Unix()
			switch {
			case created >= boundary:
				current = true // watched: the feed pass reads it
				continue
			case created < horizon:
				current = current || post.UpdatedTime.Unix() >= horizon
				continue
			}
			current = true
			items, _, _, err := p.postComments(ctx, h, g, sc, post)
			if err != nil {
				return batch{}, false, err
			}
			b.add(items...)
		}
		return b, current || decoded == 0, nil
	})
	if err != nil {
		return err
	}
	cp.completeSweep(start)
	return nil
}
