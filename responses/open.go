package responses

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/decisions"
)

// The open set is not stored twice. The decision records stream keeps one
// message per item (its latest record), so the tracker rebuilds the open
// set at start by replaying the records changed within ForgetAfter; after
// that it sees every record this process writes as it is written
// (decisions.Store.OnChange), without reading the stream back (following
// a stream that rewrites one message per subject costs the NATS server
// more than the routing itself; docs/BENCHMARKS.md). Every change of a
// record opens, updates or closes its item. Only what the records do not
// hold is kept in the bucket: how far each item was escalated.

// entry is the part of an item its service level follows from.
type entry struct {
	ID, Conversation, Channel, Kind, Priority string
	Teams                                     []string
	CreatedAt, RoutedAt                       time.Time
}

// marks maps a team to the highest level escalated for it, per item; it
// is the bucket's value for the item.
type marks map[string]int

// item builds the in-memory item of e under the service levels in force,
// with the escalations already done.
func (t *Tracker) item(e entry, done marks) *openItem {
	it := &openItem{id: e.ID, conv: e.Conversation, channel: e.Channel, kind: e.Kind, priority: e.Priority,
		created: at(e.CreatedAt), routed: at(e.RoutedAt), forget: at(e.CreatedAt.Add(t.cfg.ForgetAfter))}
	if it.conv == "" {
		it.conv = it.id
	}
	for _, team := range e.Teams {
		ts := teamState{team: team, escalated: done[team]}
		if t.policy != nil {
			if tg, ok := t.policy.Target(sla.Item{Team: team, Channel: e.Channel, Kind: e.Kind, Priority: e.Priority, Created: e.CreatedAt}); ok {
				ts.target, ts.calendar, ts.due = tg.Target, tg.Calendar, instants(tg.Due)
			}
		}
		it.teams = append(it.teams, ts)
	}
	return it
}

// recordView is the part of a decision record the tracker reads from every
// change: decoding only it skips the history, deliveries, routes and model
// scores, which are most of a record.
type recordView struct {
	ID           string              `json:"id"`
	Channel      string              `json:"channel"`
	Kind         string              `json:"kind"`
	CreatedAt    time.Time           `json:"created_at"`
	RoutedAt     time.Time           `json:"routed_at"`
	Outcome      string              `json:"outcome"`
	Teams        []string            `json:"teams"`
	Priority     string              `json:"priority"`
	Conversation string              `json:"conversation"`
	Response     *decisions.Response `json:"response"`
}

func (v *recordView) record() *decisions.Record {
	return &decisions.Record{ID: v.ID, Channel: v.Channel, Kind: v.Kind, CreatedAt: v.CreatedAt, RoutedAt: v.RoutedAt,
		Outcome: v.Outcome, Teams: v.Teams, Priority: v.Priority, Conversation: v.Conversation, Response: v.Response}
}

// entryOf returns the open-set entry of a decision record, or false when
// the record does not await a response: noise, no team, or answered.
func entryOf(rec *decisions.Record) (entry, bool) {
	if rec.Response != nil || !awaits(rec) {
		return entry{}, false
	}
	return entry{ID: rec.ID, Conversation: conversationOf(rec), Channel: rec.Channel, Kind: rec.Kind, Priority: rec.Priority,
		Teams: slices.Clone(rec.Teams), CreatedAt: rec.CreatedAt, RoutedAt: rec.RoutedAt}, true
}

// loadMarks reads how far open items were escalated.
func (t *Tracker) loadMarks(ctx context.Context) (map[string]marks, error) {
	out := map[string]marks{}
	w, err := t.streams.marks.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("reading escalation marks: %w", err)
	}
	defer func() { _ = w.Stop() }()
	for {
		var kve jetstream.KeyValueEntry
		select {
		case kve = <-w.Updates():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if kve == nil {
			return out, nil // every stored value is read
		}
		var m struct {
			ID    string `json:"id"`
			Marks marks  `json:"escalated"`
		}
		if err := json.Unmarshal(kve.Value(), &m); err != nil || m.ID == "" {
			t.log.Warn("skipping an unreadable escalation mark", zap.String("key", kve.Key()), zap.Error(err))
			continue
		}
		out[m.ID] = m.Marks
	}
}

// storeMarks records how far item id was escalated.
func (t *Tracker) storeMarks(ctx context.Context, id string, m marks) error {
	data, err := json.Marshal(struct {
		ID    string `json:"id"`
		Marks marks  `json:"escalated"`
	}{id, m})
	if err != nil {
		return fmt.Errorf("encoding the escalations of %s: %w", id, err)
	}
	if _, err := t.streams.marks.Put(ctx, key(id), data); err != nil {
		return fmt.Errorf("storing the escalations of %s: %w", id, err)
	}
	return nil
}

// replayMargin widens the replay for the NATS server's clock (which
// stamped the records) running behind the daemon's.
const replayMargin = time.Hour

// recordsConsumer is an ordered consumer on the decision records changed
// within ForgetAfter (by the server's clock, hence time.Now).
func (t *Tracker) recordsConsumer(ctx context.Context) (jetstream.Consumer, uint64, error) {
	stream, err := t.js.Stream(ctx, t.records.StreamName())
	if err != nil {
		return nil, 0, fmt.Errorf("following decision records: %w", err)
	}
	start := time.Now().Add(-t.cfg.ForgetAfter - replayMargin)
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start})
	if err != nil {
		return nil, 0, fmt.Errorf("following decision records: %w", err)
	}
	var pending uint64
	if ci := cons.CachedInfo(); ci != nil {
		pending = ci.NumPending
	}
	return cons, pending, nil
}

// recordBatch is how many decision records are read together at start.
const recordBatch = 512

// replayRecords applies the records stored when the tracker started (the
// ordered consumer's pending ones) to the open set.
func (t *Tracker) replayRecords(ctx context.Context, cons jetstream.Consumer, pending uint64) error {
	if pending == 0 {
		return nil
	}
	s := t.follow(cons, recordBatch, "decision records")
	defer s.stop()
	for {
		msgs, ok := s.next(ctx)
		if !ok {
			return ctx.Err()
		}
		for _, m := range msgs {
			var view recordView
			if err := decodeView(m.Data(), &view); err != nil || view.ID == "" {
				t.log.Warn("skipping an unreadable decision record", zap.String("subject", m.Subject()), zap.Error(err))
			} else if r := t.applyRecord(view.record(), true); r != nil {
				t.queueLate(view.ID, r)
			}
			meta, err := m.Metadata()
			if err == nil && meta.NumPending == 0 {
				return nil
			}
		}
	}
}

// observe applies a record this process just stored (decisions.Store's
// OnChange): quick, in the writer's goroutine; a response that was waiting
// for the item is written by the late-answer loop.
func (t *Tracker) observe(rec *decisions.Record) {
	if r := t.applyRecord(rec, false); r != nil {
		t.queueLate(rec.ID, r)
	}
}

// lateAnswer is a response to write into a newly routed item's record.
type lateAnswer struct {
	id string
	r  *seenResponse
}

func (t *Tracker) queueLate(id string, r *seenResponse) {
	t.lateMu.Lock()
	t.late = append(t.late, lateAnswer{id, r})
	t.lateMu.Unlock()
	select {
	case t.lateWake <- struct{}{}:
	default:
	}
}

// lateLoop writes queued late answers until ctx ends, retrying failures.
func (t *Tracker) lateLoop(ctx context.Context) {
	for {
		t.lateMu.Lock()
		work := t.late
		t.late = nil
		t.lateMu.Unlock()
		for i, la := range work {
			for delay := 100 * time.Millisecond; ; delay = min(2*delay, 30*time.Second) {
				_, err := t.answer(ctx, la.id, la.r)
				if err == nil {
					t.mu.Lock()
					la.r.matched = true
					t.mu.Unlock()
					break
				}
				if ctx.Err() != nil {
					t.lateMu.Lock()
					t.late = append(work[i:], t.late...)
					t.lateMu.Unlock()
					return
				}
				t.log.Warn("recording a response for a newly routed item failed; retrying", zap.String("id", la.id), zap.Error(err))
				sleep(ctx, delay)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.lateWake:
		}
	}
}

// applyRecord brings the open set in line with one decision record. It
// returns a response seen before the item was routed that answers it (the
// caller has it written into the record). replaying says the record is
// replayed at start: the item was counted as awaited before.
func (t *Tracker) applyRecord(rec *decisions.Record, replaying bool) *seenResponse {
	now := t.now()
	e, awaits := entryOf(rec)
	if awaits && !now.Before(e.CreatedAt.Add(t.cfg.ForgetAfter)) {
		awaits = false // too old to track (a replayed dead letter of last month)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.idx.get(rec.ID)
	if !awaits {
		t.idx.remove(rec.ID)
		return nil
	}
	if cur != nil && sameTeams(cur, e.Teams) && cur.priority == e.Priority && cur.conv == e.Conversation {
		return nil // a later change of an item already open (a delivery, a retry)
	}
	if cur == nil {
		if r := t.recent.match(rec.ID, e.Conversation, e.CreatedAt); r != nil {
			return r
		}
	}
	done := t.marks[rec.ID] // escalations before a restart
	if cur != nil {
		// Rerouted: the teams that had the item keep their escalations.
		done = marks{}
		for _, ts := range cur.teams {
			done[ts.team] = ts.escalated
		}
	} else if !replaying {
		for _, team := range e.Teams {
			t.metrics.awaited(team, e.Channel)
		}
	}
	t.idx.put(t.item(e, done))
	return nil
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
