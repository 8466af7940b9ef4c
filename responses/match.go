package responses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/decisions"
)

// seenResponse is a response the tracker saw, kept for the match window so
// that it also answers items routed after it arrived (the router may lag
// behind the connectors).
type seenResponse struct {
	message.Response
	// conv is the conversation it answers ("" when not known yet).
	conv string
	// expires is when it stops answering newly routed items.
	expires time.Time
	// matched says it answered at least one item.
	matched bool
}

// onlyNamed reports whether the response answers the item it names alone:
// a team tool's "no response needed" says nothing of the conversation.
func (r *seenResponse) onlyNamed() bool { return r.Status == message.StatusNoResponseNeeded }

// recentResponses holds the responses of the match window. The tracker
// holds its lock.
type recentResponses struct {
	byID   map[string]*seenResponse
	byItem map[string][]*seenResponse
	byConv map[string][]*seenResponse
	// order is by arrival, for expiry.
	order []*seenResponse
}

func newRecent() *recentResponses {
	return &recentResponses{byID: map[string]*seenResponse{}, byItem: map[string][]*seenResponse{}, byConv: map[string][]*seenResponse{}}
}

// add keeps r until expires and returns it, or the one already kept with
// the same id (a redelivery).
func (c *recentResponses) add(r *message.Response, expires time.Time) (*seenResponse, bool) {
	if old, ok := c.byID[r.ID]; ok {
		return old, false
	}
	sr := &seenResponse{Response: *r, expires: expires}
	c.byID[r.ID] = sr
	if r.InReplyTo != "" {
		c.byItem[r.InReplyTo] = append(c.byItem[r.InReplyTo], sr)
	}
	c.order = append(c.order, sr)
	return sr, true
}

// setConversation records the conversation sr answers.
func (c *recentResponses) setConversation(sr *seenResponse, conv string) {
	if sr.conv != "" || conv == "" || sr.onlyNamed() {
		return
	}
	sr.conv = conv
	c.byConv[conv] = append(c.byConv[conv], sr)
}

// match returns the first response that answers an item id of
// conversation conv created at created: one naming it, else the earliest
// of its conversation written at or after it.
func (c *recentResponses) match(id, conv string, created time.Time) *seenResponse {
	var best *seenResponse
	for _, sr := range c.byItem[id] {
		if best == nil || sr.At.Before(best.At) {
			best = sr
		}
	}
	if best != nil {
		return best
	}
	for _, sr := range c.byConv[conv] {
		if !sr.At.Before(created) && (best == nil || sr.At.Before(best.At)) {
			best = sr
		}
	}
	return best
}

// prune forgets responses expired at now and returns those that answered
// nothing.
func (c *recentResponses) prune(now time.Time) (unmatched []*seenResponse) {
	n := 0
	for n < len(c.order) && !c.order[n].expires.After(now) {
		sr := c.order[n]
		delete(c.byID, sr.ID)
		c.byItem[sr.InReplyTo] = without(c.byItem[sr.InReplyTo], sr)
		if len(c.byItem[sr.InReplyTo]) == 0 {
			delete(c.byItem, sr.InReplyTo)
		}
		if sr.conv != "" {
			c.byConv[sr.conv] = without(c.byConv[sr.conv], sr)
			if len(c.byConv[sr.conv]) == 0 {
				delete(c.byConv, sr.conv)
			}
		}
		if !sr.matched {
			unmatched = append(unmatched, sr)
		}
		c.order[n] = nil
		n++
	}
	c.order = c.order[n:]
	return unmatched
}

func without(list []*seenResponse, sr *seenResponse) []*seenResponse {
	for i, x := range list {
		if x == sr {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// loadRecent reads the responses of the match window back into memory, so
// that after a restart they still answer items routed late.
func (t *Tracker) loadRecent(ctx context.Context) error {
	stream, err := t.js.Stream(ctx, t.streams.subjects.ResponseStream)
	if err != nil {
		return fmt.Errorf("reading recent responses: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading recent responses: %w", err)
	}
	if info.State.Msgs == 0 {
		return nil
	}
	start := time.Now().Add(-t.cfg.MatchWindow) // the server's clock stamped the stream
	c, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start})
	if err != nil {
		return fmt.Errorf("reading recent responses: %w", err)
	}
	if ci := c.CachedInfo(); ci != nil && ci.NumPending == 0 {
		return nil
	}
	for {
		m, err := c.Next(jetstream.FetchMaxWait(2 * time.Second))
		if err != nil {
			return nil // read all there was (a timeout: nothing newer)
		}
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("reading recent responses: %w", err)
		}
		var r message.Response
		if json.Unmarshal(m.Data(), &r) == nil && r.Validate() == nil {
			var conv string
			if r.InReplyTo != "" {
				if rec, err := t.records.Get(ctx, r.InReplyTo); err == nil {
					conv = conversationOf(rec)
				}
			}
			if conv == "" && r.ThreadID != "" {
				conv = r.Channel + ":" + r.ThreadID
			}
			t.mu.Lock()
			sr, _ := t.recent.add(&r, t.now().Add(t.cfg.MatchWindow-time.Since(meta.Timestamp)))
			sr.matched = true // answered before the restart, or counted then
			t.recent.setConversation(sr, conv)
			t.mu.Unlock()
		}
		if meta.NumPending == 0 || meta.Sequence.Stream >= info.State.LastSeq {
			return nil
		}
	}
}

func conversationOf(rec *decisions.Record) string {
	if rec.Conversation != "" {
		return rec.Conversation
	}
	return rec.ID
}

// awaits reports whether a record is of an item that awaits responses at
// all (routed to a team, not noise).
func awaits(rec *decisions.Record) bool {
	return rec.Outcome != decisions.OutcomeNoise && len(rec.Teams) > 0
}

// followResponses matches responses to items until ctx ends.
// The responses consumer acks all messages up to the one acked
// (jetstream.AckAllPolicy): a batch is matched concurrently and acked with
// one ack when every response in it is done. When one fails, nothing in the
// batch is acked; the failed ones return after a second, the others after
// the ack wait, and matching them again changes nothing.
func (t *Tracker) followResponses(ctx context.Context, cons jetstream.Consumer) {
	s := t.follow(cons, t.cfg.Workers*4, "responses")
	for {
		msgs, ok := s.next(ctx)
		if !ok {
			return
		}
		failed := make([]bool, len(msgs))
		slots := make(chan struct{}, t.cfg.Workers)
		var wg sync.WaitGroup
		for i, m := range msgs {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				failed[i] = !t.handleResponse(ctx, m)
			})
		}
		wg.Wait()
		if !slices.Contains(failed, true) {
			if err := msgs[len(msgs)-1].Ack(); err != nil {
				t.log.Debug("acking responses failed; they will be matched again", zap.Error(err))
			}
			continue
		}
		for i, m := range msgs {
			if failed[i] {
				_ = m.NakWithDelay(time.Second)
			}
		}
	}
}

// handleResponse links one response to the items it answers; it reports
// false when that failed and the response must be matched again. An
// unreadable or invalid response is dropped (and counted).
func (t *Tracker) handleResponse(ctx context.Context, m jetstream.Msg) bool {
	var r message.Response
	if err := json.Unmarshal(m.Data(), &r); err != nil {
		t.log.Warn("dropping an unreadable response", zap.String("subject", m.Subject()), zap.Error(err))
		t.metrics.unmatchedResponse("unknown", "invalid")
		return true
	}
	if r.Status == "" {
		r.Status = message.StatusResponded
	}
	if err := r.Validate(); err != nil {
		t.log.Warn("dropping an invalid response", zap.String("id", r.ID), zap.Error(err))
		t.metrics.unmatchedResponse(r.Channel, "invalid")
		return true
	}
	if err := t.matchResponse(ctx, &r); err != nil {
		if ctx.Err() == nil {
			t.log.Warn("matching a response failed; retrying", zap.String("id", r.ID), zap.Error(err))
		}
		return false
	}
	return true
}

// matchResponse answers the items r answers: the item it names, and the
// open items of that item's conversation (or of its thread) written
// before it. It keeps r for the match window, for items routed later.
func (t *Tracker) matchResponse(ctx context.Context, r *message.Response) error {
	var named *decisions.Record
	t.mu.Lock()
	open := r.InReplyTo != "" && t.idx.get(r.InReplyTo) != nil
	t.mu.Unlock()
	if r.InReplyTo != "" && !open {
		// Not open: answered already, older than the open set, not routed
		// yet, or not an item at all; its record tells.
		rec, err := t.records.Get(ctx, r.InReplyTo)
		switch {
		case errors.Is(err, decisions.ErrNotFound):
		case err != nil:
			return err
		case awaits(rec):
			named = rec
		}
	}
	t.mu.Lock()
	sr, _ := t.recent.add(r, t.now().Add(t.cfg.MatchWindow))
	var ids []string
	conv := ""
	if named != nil {
		ids = append(ids, named.ID)
		conv = conversationOf(named)
	} else if it := t.idx.get(r.InReplyTo); it != nil {
		ids = append(ids, it.id)
		conv = it.conv
	} else if r.ThreadID != "" {
		conv = r.Channel + ":" + r.ThreadID
	}
	if sr.onlyNamed() {
		conv = ""
	}
	t.recent.setConversation(sr, conv)
	if conv != "" {
		for _, it := range t.idx.conversation(conv, r.At) {
			if it.id != r.InReplyTo {
				ids = append(ids, it.id)
			}
		}
	}
	t.mu.Unlock()

	for _, id := range ids {
		if _, err := t.answer(ctx, id, sr); err != nil {
			return err
		}
	}
	if len(ids) > 0 {
		t.mu.Lock()
		sr.matched = true
		t.mu.Unlock()
	}
	return nil
}

// answer writes sr into the record of item id as its first response
// (a later team-tool signal only adds a history event), closes the
// customer's case and removes the item from the open set. It reports
// whether sr was the first response.
func (t *Tracker) answer(ctx context.Context, id string, sr *seenResponse) (first bool, err error) {
	var seen *decisions.Record
	_, err = t.records.Update(ctx, id, func(rec *decisions.Record) (*decisions.Record, error) {
		seen, first = rec, false
		if rec == nil || !awaits(rec) {
			return nil, nil
		}
		ev := decisions.Event{At: sr.At, Kind: decisions.EventResponse, Teams: rec.Teams, By: sr.By, Detail: responseDetail(sr)}
		if sr.Channel == HandledChannel {
			ev.Kind = decisions.EventHandled
		}
		if rec.Response != nil {
			if rec.Response.ID == sr.ID || sr.Channel != HandledChannel || hasEvent(rec, ev) {
				return nil, nil
			}
			rec.AddEvent(ev) // a later signal is history, not the first response
			return rec, nil
		}
		rec.Response = &decisions.Response{
			ID: sr.ID, At: sr.At, By: sr.By, Channel: sr.Channel, Kind: sr.Kind, Status: sr.Status, Note: sr.Note,
			DelaySeconds:       max(sr.At.Sub(rec.CreatedAt), 0).Seconds(),
			RoutedDelaySeconds: max(sr.At.Sub(rec.RoutedAt), 0).Seconds(),
		}
		rec.AddEvent(ev)
		first = true
		return rec, nil
	})
	if err != nil {
		return false, fmt.Errorf("recording response %s on %s: %w", sr.ID, id, err)
	}
	if first {
		for _, team := range seen.Teams {
			t.metrics.answered(team, seen.Channel, sr.Status, sr.At.Sub(seen.CreatedAt))
		}
	}
	if seen != nil && seen.Case != nil && t.cases != nil && seen.Response != nil && seen.Response.ID == sr.ID &&
		sr.Status != message.StatusNoResponseNeeded {
		customer := ""
		if seen.Customer != nil {
			customer = seen.Customer.ID
		}
		by := sr.By
		if by == "" {
			by = sr.Channel
		}
		if err := t.cases.Close(ctx, customer, seen.Case.ID, by, sr.At); err != nil {
			return first, fmt.Errorf("closing case %s of %s: %w", seen.Case.ID, id, err)
		}
	}
	t.close(id)
	return first, nil
}

// close removes the item id from the open set (a no-op when it is not
// open). Its escalation marks expire with the bucket's TTL.
func (t *Tracker) close(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.idx.remove(id)
}

func responseDetail(sr *seenResponse) string {
	d := sr.Status + " on " + sr.Channel
	if sr.Kind != "" && sr.Kind != sr.Channel {
		d += " (" + sr.Kind + ")"
	}
	if sr.Note != "" {
		d += ": " + sr.Note
	}
	return d
}

func hasEvent(rec *decisions.Record, ev decisions.Event) bool {
	for _, h := range rec.History {
		if h.Kind == ev.Kind && h.By == ev.By && h.Detail == ev.Detail && h.At.Equal(ev.At) {
			return true
		}
	}
	return false
}
