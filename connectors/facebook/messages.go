package facebook

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// messageFields are the fields of a Messenger message.
const messageFields = "id,created_time,message,from{id,name},sticker,attachments{mime_type,name,file_url}"

// conversationFields is the fields parameter of the conversations request:
// each conversation with its newest messages expanded.
func conversationFields() string {
	return "id,updated_time,link,messages.limit(" + strconv.Itoa(messagesLimit) + "){" + messageFields + "}"
}

// pollMessages reads the Messenger conversations updated since the kind's
// since and their new messages. The conversations edge has no time-based
// paging; it lists the most recently updated conversation first, so the pass
// stops paging at the first page that reaches a conversation older than
// since. An idle pass is one request.
func (p *Page) pollMessages(ctx context.Context, h *connectors.Handle, g *graphClient, cp *checkpoint) error {
	st := cp.Messages
	since := st.since()
	what := "conversations of page " + p.cfg.ID
	g.date = time.Time{}
	e, err := g.get(ctx, "messages", what, p.cfg.ID+"/conversations", url.Values{
		"platform": {"messenger"},
		"fields":   {conversationFields()},
		"limit":    {strconv.Itoa(convLimit)},
	})
	if err != nil {
		return err
	}
	start := p.passStart(g)
	err = p.publishPages(ctx, h, g, cp, st, "messages", what, e, func(e *edge) (b batch, more bool, err error) {
		reachedOld := false
		for conv := range readable(p, h, "conversations", e.Data, decodeConversation) {
			if conv.UpdatedTime.Unix() < since {
				reachedOld = true
				continue
			}
			items, err := p.messages(ctx, h, g, st, conv)
			if err != nil {
				return batch{}, false, err
			}
			b.add(items...)
		}
		return b, !reachedOld, nil
	})
	if err != nil {
		return err
	}
	st.complete(start)
	return nil
}

// messages reads the new messages of a conversation, newest first, from the
// expanded page on until one that earlier passes read. The page's own
// answers are responses, never ingested.
func (p *Page) messages(ctx context.Context, h *connectors.Handle, g *graphClient, st *kindState, conv conversationNode) ([]item, error) {
	var items []item
	what := "messages of conversation " + conv.ID
	var pg pager
	for e := conv.Messages; e != nil; {
		reachedOld := false
		for m := range readable(p, h, what, e.Data, decodeMessage) {
			if m.CreatedTime.Unix() < st.since() {
				reachedOld = true
				continue
			}
			if !st.isNew(m.ID, m.CreatedTime.Time) {
				continue
			}
			it := item{id: m.ID, t: m.CreatedTime.Time}
			switch {
			case !p.own(m.From):
				it.env = messageEnvelope(p.cfg.ID, conv, m)
			case h.TracksResponses():
				p.opts.Metrics.skippedOwn(p.cfg.ID)
				it.resp = p.messageResponse(conv.ID, m)
			default:
				p.opts.Metrics.skippedOwn(p.cfg.ID)
			}
			items = append(items, it)
		}
		if reachedOld || e.next() == "" {
			break
		}
		cursor := e.after()
		if err := pg.ok(cursor + e.next()); err != nil {
			return nil, err
		}
		var err error
		if cursor == "" {
			e, err = g.next(ctx, "messages", what, e.next())
		} else {
			// A nested expansion's paging.next need not carry the fields:
			// ask again with them and the cursor.
			e, err = g.get(ctx, "messages", what, conv.ID+"/messages", url.Values{
				"fields": {messageFields},
				"limit":  {strconv.Itoa(morePageLimit)},
				"after":  {cursor},
			})
		}
		if err != nil {
			return nil, err
		}
	}
	return items, nil
}
