package facebook

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	fb "github.com/huandu/facebook/v2"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/message"
)

// Fields read from the feed. filter(stream) lists comments and replies in
// one list (a reply names its comment in "parent"); order(reverse_chronological)
// puts the newest first, so a pass stops reading a post's comments at the
// first one it read before.
const (
	postFields    = "id,created_time,updated_time,message,story,permalink_url,is_published,from{id,name},attachments{media_type,type,url}"
	commentFields = "id,created_time,message,permalink_url,from{id,name},parent{id},attachment{media_type,type,url}"
)

// feedFields is the fields parameter of the feed request.
func (p *Page) feedFields() string {
	if !p.cfg.Ingest.Comments {
		return postFields
	}
	return postFields + ",comments.filter(stream).order(reverse_chronological).limit(" +
		strconv.Itoa(commentsLimit) + "){" + commentFields + "}"
}

// pollFeed reads the posts whose updated_time is at or after the kind's
// since (posts created since then, and older posts with new comments), and
// their new comments and replies. It follows paging.next to the end of what
// is new; an idle pass is one request.
func (p *Page) pollFeed(ctx context.Context, h *connectors.Handle, g *graphClient, cp *checkpoint) error {
	st := cp.Feed
	since := st.since()
	what := "feed of page " + p.cfg.ID
	g.date = time.Time{}
	e, err := g.get(ctx, "feed", what, p.cfg.ID+"/feed", fb.Params{
		"fields": p.feedFields(),
		"since":  strconv.FormatInt(since, 10),
		"limit":  strconv.Itoa(feedLimit),
	})
	if err != nil {
		return err
	}
	start := p.passStart(g)
	var pg pager
	for {
		items, current, err := p.feedPage(ctx, h, g, st, since, e)
		if err != nil {
			return err
		}
		if err := p.publish(ctx, h, cp, st, items); err != nil {
			return err
		}
		next := e.next()
		// Without any post still in range the rest of the feed is older
		// (a guard in case the API ever ignored since).
		if next == "" || !current {
			break
		}
		if err := pg.ok(next); err != nil {
			return err
		}
		if e, err = g.next(ctx, "feed", what, next); err != nil {
			return err
		}
	}
	st.complete(start)
	return nil
}

// feedPage reads one page of the feed. current reports whether any post in it
// changed at or after since, or whether the page held no readable post at
// all: the Graph API filters items after paging, so an empty or short page
// says nothing about the pages after it.
func (p *Page) feedPage(ctx context.Context, h *connectors.Handle, g *graphClient, st *kindState, since int64, e *edge) (items []item, current bool, err error) {
	decoded := 0
	for _, raw := range e.Data {
		post, err := decodePost(raw)
		if err != nil {
			p.malformed(h, "feed", err)
			continue
		}
		decoded++
		if post.UpdatedTime.Unix() < since {
			continue // nothing new can be on it: a comment moves updated_time
		}
		current = true
		if st.isNew(post.ID, post.CreatedTime.Time) && (post.IsPublished == nil || *post.IsPublished) {
			switch {
			case p.own(post.From) && !p.cfg.Ingest.PagePosts:
				p.opts.Metrics.skippedOwn(p.cfg.ID)
				items = append(items, item{id: post.ID, t: post.CreatedTime.Time})
			case p.own(post.From) || p.cfg.Ingest.VisitorPosts:
				items = append(items, item{id: post.ID, t: post.CreatedTime.Time, env: postEnvelope(p.cfg.ID, post)})
			}
		}
		if p.cfg.Ingest.Comments {
			cs, err := p.comments(ctx, h, g, st, post)
			if err != nil {
				return nil, false, err
			}
			items = append(items, cs...)
		}
	}
	return items, current || decoded == 0, nil
}

// comments reads the new comments and replies of a post, newest first, from
// the expanded first page on and through paging.next until one that earlier
// passes read.
func (p *Page) comments(ctx context.Context, h *connectors.Handle, g *graphClient, st *kindState, post postNode) ([]item, error) {
	return p.newEntries(ctx, h, g, st, "feed", "comments of post "+post.ID, post.Comments, func(raw json.RawMessage) (entry, error) {
		c, err := decodeComment(raw)
		return entry{id: c.ID, t: c.CreatedTime.Time, from: c.From, env: func() *message.Envelope { return commentEnvelope(p.cfg.ID, post.ID, c) }}, err
	})
}

// entry is one decoded comment or message, as newEntries needs it.
type entry struct {
	id   string
	t    time.Time
	from *profile
	// env builds the envelope; not called for the page's own entries.
	env func() *message.Envelope
}

// newEntries walks an edge of comments or messages, newest first, from the
// expanded first page through paging.next until an entry that earlier passes
// read. Malformed entries are reported and skipped; the page's own entries
// are kept without an envelope, so that they count as read but are never
// ingested. kind names the Graph call in metrics, what the edge in errors.
func (p *Page) newEntries(ctx context.Context, h *connectors.Handle, g *graphClient, st *kindState, kind, what string, first *edge, decode func(json.RawMessage) (entry, error)) ([]item, error) {
	var items []item
	var pg pager
	for e := first; e != nil; {
		reachedOld := false
		for _, raw := range e.Data {
			en, err := decode(raw)
			if err != nil {
				p.malformed(h, what, err)
				continue
			}
			if en.t.Unix() < st.since() {
				reachedOld = true
				continue
			}
			if !st.isNew(en.id, en.t) {
				continue
			}
			if p.own(en.from) {
				p.opts.Metrics.skippedOwn(p.cfg.ID)
				items = append(items, item{id: en.id, t: en.t})
				continue
			}
			items = append(items, item{id: en.id, t: en.t, env: en.env()})
		}
		next := e.next()
		if reachedOld || next == "" {
			break
		}
		if err := pg.ok(next); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		var err error
		if e, err = g.next(ctx, kind, what, next); err != nil {
			return nil, err
		}
	}
	return items, nil
}
