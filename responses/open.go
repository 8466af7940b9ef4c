package responses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/decisions"
)

// entry is an open item as stored in the bucket: the facts its service
// level follows from, and what was escalated. Due times are not stored:
// they are computed from the service levels in force at each start.
type entry struct {
	ID           string    `json:"id"`
	Conversation string    `json:"conversation"`
	Channel      string    `json:"channel"`
	Kind         string    `json:"kind"`
	Priority     string    `json:"priority,omitempty"`
	Teams        []string  `json:"teams"`
	CreatedAt    time.Time `json:"created_at"`
	RoutedAt     time.Time `json:"routed_at"`
	// Escalated maps a team to the highest level escalated for it.
	Escalated map[string]int `json:"escalated,omitempty"`
}

func (it *openItem) entry() entry {
	e := entry{ID: it.id, Conversation: it.conv, Channel: it.channel, Kind: it.kind, Priority: it.priority,
		CreatedAt: it.created, RoutedAt: it.routed, Teams: make([]string, len(it.teams))}
	for i, ts := range it.teams {
		e.Teams[i] = ts.team
		if ts.escalated > 0 {
			if e.Escalated == nil {
				e.Escalated = map[string]int{}
			}
			e.Escalated[ts.team] = ts.escalated
		}
	}
	return e
}

// item builds the in-memory item of e under the service levels in force.
func (t *Tracker) item(e entry) *openItem {
	it := &openItem{id: e.ID, conv: e.Conversation, channel: e.Channel, kind: e.Kind, priority: e.Priority,
		created: e.CreatedAt, routed: e.RoutedAt, forget: e.CreatedAt.Add(t.cfg.ForgetAfter)}
	if it.conv == "" {
		it.conv = it.id
	}
	for _, team := range e.Teams {
		ts := teamState{team: team, escalated: e.Escalated[team]}
		if t.policy != nil {
			if tg, ok := t.policy.Target(sla.Item{Team: team, Channel: e.Channel, Kind: e.Kind, Priority: e.Priority, Created: e.CreatedAt}); ok {
				ts.target, ts.calendar, ts.due = tg.Target, tg.Calendar, tg.Due
			}
		}
		it.teams = append(it.teams, ts)
	}
	return it
}

// entryOf returns the open-set entry of a decision record, or false when
// the record does not await a response: noise, no team, or answered.
func entryOf(rec *decisions.Record) (entry, bool) {
	if rec.Response != nil || rec.Outcome == decisions.OutcomeNoise || len(rec.Teams) == 0 {
		return entry{}, false
	}
	conv := rec.Conversation
	if conv == "" {
		conv = rec.ID
	}
	return entry{ID: rec.ID, Conversation: conv, Channel: rec.Channel, Kind: rec.Kind, Priority: rec.Priority,
		Teams: slices.Clone(rec.Teams), CreatedAt: rec.CreatedAt, RoutedAt: rec.RoutedAt}, true
}

// putEntry stores it in the bucket. The caller holds t.mu, so bucket
// writes of one item happen in the order of the index's changes (one
// connection publishes in order); it waits for the returned future before
// acking what caused the change.
func (t *Tracker) putEntry(it *openItem) (jetstream.PubAckFuture, error) {
	data, err := json.Marshal(it.entry())
	if err != nil {
		return nil, fmt.Errorf("encoding open item %s: %w", it.id, err)
	}
	f, err := t.js.PublishAsync(t.kvSubject(it.id), data)
	if err != nil {
		return nil, fmt.Errorf("storing open item %s: %w", it.id, err)
	}
	return f, nil
}

// deleteEntry removes the item id from the bucket; the caller holds t.mu.
func (t *Tracker) deleteEntry(id string) (jetstream.PubAckFuture, error) {
	m := nats.NewMsg(t.kvSubject(id))
	m.Header.Set("KV-Operation", "DEL")
	f, err := t.js.PublishMsgAsync(m)
	if err != nil {
		return nil, fmt.Errorf("removing open item %s: %w", id, err)
	}
	return f, nil
}

// kvSubject is the bucket subject of an item's key: a put is a publish on
// it, a delete one with the KV-Operation: DEL header (the key-value wire
// format), which lets bucket writes be pipelined.
func (t *Tracker) kvSubject(id string) string {
	return "$KV." + t.streams.subjects.Bucket + "." + key(id)
}

// wait waits for bucket writes to be acked.
func wait(ctx context.Context, fs []jetstream.PubAckFuture) error {
	for _, f := range fs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("storing the open set: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// loadOpen rebuilds the in-memory index from the bucket.
func (t *Tracker) loadOpen(ctx context.Context) error {
	w, err := t.streams.open.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("reading the open set: %w", err)
	}
	defer func() { _ = w.Stop() }()
	now := t.now()
	var forgotten []string
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		var kve jetstream.KeyValueEntry
		select {
		case kve = <-w.Updates():
		case <-ctx.Done():
			return ctx.Err()
		}
		if kve == nil {
			break // the initial values are all read
		}
		var e entry
		if err := json.Unmarshal(kve.Value(), &e); err != nil || e.ID == "" {
			t.log.Warn("skipping an unreadable open-set entry", zap.String("key", kve.Key()), zap.Error(err))
			continue
		}
		it := t.item(e)
		if !now.Before(it.forget) {
			forgotten = append(forgotten, e.ID) // the escalation loop reports and removes it
		}
		t.idx.put(it)
	}
	if len(forgotten) > 0 {
		t.log.Info("open items past forget_after found at start", zap.Int("items", len(forgotten)))
	}
	return nil
}

// recordBatch is how many decision records are handled per pull.
const recordBatch = 512

// followRecords opens an item for every routed decision record, until ctx
// ends.
func (t *Tracker) followRecords(ctx context.Context, cons jetstream.Consumer) {
	s := t.follow(cons, recordBatch, "decision records")
	for {
		msgs, ok := s.next(ctx)
		if !ok {
			return
		}
		done, err := t.handleRecords(ctx, msgs)
		if done > 0 {
			if err := msgs[done-1].Ack(); err != nil { // acks every message before it too
				t.log.Warn("acking decision records failed; they will be handled again", zap.Error(err))
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			t.log.Warn("handling a decision record failed; retrying", zap.Error(err))
			for _, m := range msgs[done:] {
				_ = m.NakWithDelay(time.Second)
			}
		}
	}
}

// handleRecords applies msgs in order and returns how many are done (the
// first ones), with the error that stopped it.
func (t *Tracker) handleRecords(ctx context.Context, msgs []jetstream.Msg) (int, error) {
	var futures []jetstream.PubAckFuture
	// The prefix whose bucket writes are all issued; acked once they are.
	issued := 0
	for i, m := range msgs {
		var rec decisions.Record
		if err := json.Unmarshal(m.Data(), &rec); err != nil || rec.ID == "" {
			t.log.Warn("skipping an unreadable decision record", zap.String("subject", m.Subject()), zap.Error(err))
			issued = i + 1
			continue
		}
		fs, answer, err := t.applyRecord(&rec)
		if err == nil && answer != nil {
			err = t.answerLate(ctx, &rec, answer)
		}
		if err != nil {
			werr := wait(ctx, futures)
			if werr != nil {
				return 0, werr
			}
			return issued, err
		}
		futures = append(futures, fs...)
		issued = i + 1
	}
	if err := wait(ctx, futures); err != nil {
		return 0, err
	}
	return issued, nil
}

// applyRecord brings the open set in line with one decision record. It
// returns the bucket writes to wait for, or a response seen before the item
// was routed that answers it (the caller writes it into the record).
func (t *Tracker) applyRecord(rec *decisions.Record) ([]jetstream.PubAckFuture, *seenResponse, error) {
	now := t.now()
	e, awaits := entryOf(rec)
	if awaits && !now.Before(e.CreatedAt.Add(t.cfg.ForgetAfter)) {
		awaits = false // too old to track (a replayed dead letter of last month)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.idx.get(rec.ID)
	if !awaits {
		if cur == nil {
			return nil, nil, nil
		}
		t.idx.remove(rec.ID)
		f, err := t.deleteEntry(rec.ID)
		return []jetstream.PubAckFuture{f}, nil, err
	}
	if cur != nil && sameTeams(cur, e.Teams) && cur.priority == e.Priority && cur.conv == e.Conversation {
		return nil, nil, nil // a later change of an item already open (a delivery, a retry)
	}
	if cur == nil {
		if r := t.recent.match(rec.ID, e.Conversation, e.CreatedAt); r != nil {
			return nil, r, nil
		}
	}
	it := t.item(e)
	if cur != nil {
		// Rerouted: the teams that had the item keep their escalations.
		for i := range it.teams {
			for _, old := range cur.teams {
				if old.team == it.teams[i].team {
					it.teams[i].escalated = old.escalated
				}
			}
		}
	} else {
		for _, team := range e.Teams {
			t.metrics.awaited(team, e.Channel)
		}
	}
	t.idx.put(it)
	f, err := t.putEntry(it)
	return []jetstream.PubAckFuture{f}, nil, err
}

func sameTeams(it *openItem, teams []string) bool {
	if len(it.teams) != len(teams) {
		return false
	}
	for i := range teams {
		if it.teams[i].team != teams[i] {
			return false
		}
	}
	return true
}

// answerLate writes a response that arrived before its item was routed
// into the item's record.
func (t *Tracker) answerLate(ctx context.Context, rec *decisions.Record, r *seenResponse) error {
	_, err := t.answer(ctx, rec.ID, r)
	if err != nil {
		return err
	}
	t.mu.Lock()
	r.matched = true
	t.mu.Unlock()
	return nil
}

// errNoRecord says an item has no decision record (erased, or never routed).
var errNoRecord = errors.New("no decision record")
