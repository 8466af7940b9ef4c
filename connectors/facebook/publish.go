package facebook

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/message"
)

// item is one thing a pass read: a customer's item to ingest (env), the
// page's own answer (resp, when responses are tracked), or neither (the
// page's own post, or an answer while responses are not tracked), which is
// only remembered as read.
type item struct {
	id   string
	t    time.Time
	env  *message.Envelope
	resp *message.Response
}

// batch is what one page of answers yields: its items, and the watched
// posts' marks to remember once the items are stored.
type batch struct {
	items []item
	marks map[string]postMark
}

func (b *batch) add(its ...item) { b.items = append(b.items, its...) }

func (b *batch) mark(postID string, m postMark) {
	if b.marks == nil {
		b.marks = map[string]postMark{}
	}
	b.marks[postID] = m
}

// publishPages publishes a pass over the pages of an edge, from its first
// page e on: read turns a page into a batch and says whether the pages
// after it are wanted, and each batch is published with st before the next
// page is fetched. The pass ends at the last page, at a page read does not
// want more after, or with an error where paging repeats itself; kind and
// what name the pass and the edge for errors and metrics.
func (p *Page) publishPages(ctx context.Context, h *connectors.Handle, g *graphClient, cp *checkpoint, st *kindState, kind, what string, e *edge, read func(*edge) (b batch, more bool, err error)) error {
	var pg pager
	for {
		b, more, err := read(e)
		if err != nil {
			return err
		}
		if err := p.publish(ctx, h, cp, st, b); err != nil {
			return err
		}
		next := e.next()
		if next == "" || !more {
			return nil
		}
		if err := pg.ok(next); err != nil {
			return err
		}
		if e, err = g.next(ctx, kind, what, next); err != nil {
			return err
		}
	}
}

// publish stores the envelopes of a batch in creation order, then its
// responses, then the checkpoint that marks them read. The checkpoint is
// saved only after JetStream acked every envelope and response; on failure
// the items stay unread, so the next pass reads them again and the dedup
// drops the ones already stored.
func (p *Page) publish(ctx context.Context, h *connectors.Handle, cp *checkpoint, st *kindState, b batch) error {
	prev := map[string]*postMark{}
	for id, m := range b.marks {
		if cp.Posts == nil {
			cp.Posts = map[string]postMark{}
		}
		if old, ok := cp.Posts[id]; ok {
			prev[id] = &old
		} else {
			prev[id] = nil
		}
		cp.Posts[id] = m
	}
	if len(b.items) == 0 {
		return nil // the marks are saved with the poll's checkpoint
	}
	sort.SliceStable(b.items, func(i, j int) bool { return b.items[i].t.Before(b.items[j].t) })
	var envs []*message.Envelope
	var resps []*message.Response
	for _, it := range b.items {
		st.markSeen(it.id, it.t)
		if it.env != nil {
			envs = append(envs, it.env)
		}
		if it.resp != nil {
			resps = append(resps, it.resp)
		}
	}
	_, err := h.Publish(ctx, envs...)
	if err == nil {
		err = h.PublishResponses(ctx, resps...)
	}
	if err == nil {
		err = h.SaveCheckpoint(ctx, cp.encode())
	}
	if err != nil {
		for _, it := range b.items {
			delete(st.Seen, it.id)
		}
		for id, old := range prev {
			if old == nil {
				delete(cp.Posts, id)
			} else {
				cp.Posts[id] = *old
			}
		}
		return fmt.Errorf("storing %d facebook items and %d responses: %w", len(envs), len(resps), err)
	}
	return nil
}
