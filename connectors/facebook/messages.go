package facebook

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	fb "github.com/huandu/facebook/v2"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/message"
)

// messageFields are the fields of a Messenger message.
const messageFields = "id,created_time,message,from{id,name},sticker,attachments{mime_type,name,file_url}"

// conversationFields is the fields parameter of the conversations request:
// each conversation with its newest messages expanded.
const conversationFields = "id,updated_time,link,messages.limit(25){" + messageFields + "}"

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
	e, err := g.get(ctx, "messages", what, p.cfg.ID+"/conversations", fb.Params{
		"platform": "messenger",
		"fields":   conversationFields,
		"limit":    strconv.Itoa(convLimit),
	})
	if err != nil {
		return err
	}
	start := p.passStart(g)
	var pg pager
	for {
		var items []item
		reachedOld := false
		for _, raw := range e.Data {
			conv, err := decodeConversation(raw)
			if err != nil {
				p.malformed(h, "conversations", err)
				continue
			}
			if conv.UpdatedTime.Unix() < since {
				reachedOld = true
				continue
			}
			ms, err := p.messages(ctx, h, g, st, conv)
			if err != nil {
				return err
			}
			items = append(items, ms...)
		}
		if err := p.publish(ctx, h, cp, st, items); err != nil {
			return err
		}
		next := e.next()
		if reachedOld || next == "" {
			break
		}
		if err := pg.ok(next); err != nil {
			return err
		}
		if e, err = g.next(ctx, "messages", what, next); err != nil {
			return err
		}
	}
	st.complete(start)
	return nil
}

// messages reads the new messages of a conversation, newest first, until one
// that earlier passes read. The page's own answers are skipped.
func (p *Page) messages(ctx context.Context, h *connectors.Handle, g *graphClient, st *kindState, conv conversationNode) ([]item, error) {
	return p.newEntries(ctx, h, g, st, "messages", "messages of conversation "+conv.ID, conv.Messages, func(raw json.RawMessage) (entry, error) {
		m, err := decodeMessage(raw)
		return entry{id: m.ID, t: m.CreatedTime.Time, from: m.From, env: func() *message.Envelope { return messageEnvelope(p.cfg.ID, conv, m) }}, err
	})
}
