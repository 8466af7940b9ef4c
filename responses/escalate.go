package responses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/lifecycle"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/decisions"
)

// Escalation is published on <prefix>.escalation.<team> when an item waits
// past a level of its first-response target (docs/responses.md).
type Escalation struct {
	// V is the format version (message.SchemaVersion).
	V int `json:"v"`
	// ID is "<item>:<team>:<level>", the Nats-Msg-Id: one per item, team
	// and level, whatever restarts happen.
	ID string `json:"id"`
	// Item is the envelope id of the unanswered item.
	Item string `json:"item"`
	// Team is the team that has not answered.
	Team string `json:"team"`
	// Channel, Kind and Priority are the item's.
	Channel  string `json:"channel"`
	Kind     string `json:"kind"`
	Priority string `json:"priority,omitempty"`
	// Level is the escalation level (1: the target itself), of Levels.
	Level  int `json:"level"`
	Levels int `json:"levels"`
	// Target is the first-response target (Go duration text) and Calendar
	// the business hours it is counted in.
	Target   string `json:"target"`
	Calendar string `json:"calendar"`
	// CreatedAt is when the customer wrote, RoutedAt when it was routed,
	// DueAt when this level was due, EscalatedAt now.
	CreatedAt   time.Time `json:"created_at"`
	RoutedAt    time.Time `json:"routed_at"`
	DueAt       time.Time `json:"due_at"`
	EscalatedAt time.Time `json:"escalated_at"`
	// AgeSeconds is EscalatedAt - CreatedAt; Age the same for people ("1h5m").
	AgeSeconds float64 `json:"age_seconds"`
	Age        string  `json:"age"`
	// Author and Snippet say who wrote what (from the decision record).
	Author  string `json:"author,omitempty"`
	Snippet string `json:"snippet,omitempty"`
	// Link opens the item in Switchboard (empty without http.external_url).
	Link string `json:"link,omitempty"`
}

// escalationLoop looks for due escalations and items to forget every
// CheckInterval until ctx ends.
func (t *Tracker) escalationLoop(ctx context.Context) {
	lifecycle.Every(ctx, t.cfg.CheckInterval, t.checkDue)
}

// dueBatch bounds the items attended to per check; the rest wait for the
// next one.
const dueBatch = 1000

// dueItem is a copy of an open item taken under the lock.
type dueItem struct {
	id, channel, kind, priority string
	created, routed, forget     time.Time
	teams                       []teamState
}

// CheckNow escalates what is due now, forgets open items older than
// ForgetAfter and expires responses past the match window. Run does this
// every CheckInterval; tests moving the clock call it to check at once.
func (t *Tracker) CheckNow(ctx context.Context) { t.checkDue(ctx) }

// checkDue is CheckNow.
func (t *Tracker) checkDue(ctx context.Context) {
	t.checkMu.Lock()
	defer t.checkMu.Unlock()
	now := t.now()
	t.mu.Lock()
	for _, sr := range t.recent.prune(now) {
		t.metrics.unmatchedResponse(sr.Channel, "no_item")
		t.log.Info("a response answered no routed item within the match window",
			zap.String("id", sr.ID), zap.String("in_reply_to", sr.InReplyTo), zap.String("thread_id", sr.ThreadID))
	}
	var due []dueItem
	for _, it := range t.idx.dueBy(now, dueBatch) {
		due = append(due, dueItem{id: it.id, channel: it.channel, kind: it.kind, priority: it.priority,
			created: it.created.time(), routed: it.routed.time(), forget: it.forget.time(), teams: slices.Clone(it.teams)})
	}
	t.mu.Unlock()
	for _, d := range due {
		if ctx.Err() != nil {
			return
		}
		if err := t.attend(ctx, d, now); err != nil && ctx.Err() == nil {
			t.log.Warn("escalating an item failed; trying again at the next check", zap.String("id", d.id), zap.Error(err))
		}
	}
}

// attend forgets an item past ForgetAfter, or escalates it to the highest
// level due for each team not yet escalated that far (a daemon that was
// down past two levels publishes the higher one only).
func (t *Tracker) attend(ctx context.Context, d dueItem, now time.Time) error {
	if !now.Before(d.forget) {
		t.close(d.id)
		for _, ts := range d.teams {
			t.metrics.forgotten(ts.team, d.channel)
		}
		return nil
	}
	rec, err := t.records.Get(ctx, d.id)
	if errors.Is(err, decisions.ErrNotFound) {
		t.close(d.id) // the record was erased
		return nil
	}
	if err != nil {
		return err
	}
	if rec.Response != nil || !awaits(rec) {
		t.close(d.id) // answered; the response path closes it too
		return nil
	}
	for _, ts := range d.teams {
		level := 0
		for level < len(ts.due) && ts.due[level] <= at(now) {
			level++
		}
		if level <= ts.escalated {
			continue
		}
		if slices.Contains(rec.Teams, ts.team) {
			if err := t.escalate(ctx, rec, d, ts, level, now); err != nil {
				return err
			}
		}
		if err := t.markEscalated(ctx, d.id, ts.team, level); err != nil {
			return err
		}
	}
	return nil
}

// escalate publishes one escalation and notes it in the item's record.
func (t *Tracker) escalate(ctx context.Context, rec *decisions.Record, d dueItem, ts teamState, level int, now time.Time) error {
	age := now.Sub(d.created)
	esc := Escalation{
		V: message.SchemaVersion, ID: fmt.Sprintf("%s:%s:%d", d.id, ts.team, level), Item: d.id, Team: ts.team,
		Channel: d.channel, Kind: d.kind, Priority: d.priority, Level: level, Levels: len(ts.due),
		Target: ts.target.String(), Calendar: ts.calendar,
		CreatedAt: d.created, RoutedAt: d.routed, DueAt: ts.due[level-1].time(), EscalatedAt: now,
		AgeSeconds: age.Seconds(), Age: age.Round(time.Minute).String(),
		Author: rec.Author, Snippet: rec.Snippet,
	}
	if t.cfg.LinkBase != "" {
		esc.Link = t.cfg.LinkBase + "/ui/messages/" + url.PathEscape(d.id)
	}
	data, err := json.Marshal(esc)
	if err != nil {
		return fmt.Errorf("encoding escalation %s: %w", esc.ID, err)
	}
	msg := &nats.Msg{Subject: t.streams.subjects.Escalation(ts.team), Data: data}
	ack, err := t.js.PublishMsg(ctx, msg, jetstream.WithMsgID(esc.ID), jetstream.WithExpectStream(t.streams.subjects.EscalationStream))
	if err != nil {
		return fmt.Errorf("publishing escalation %s: %w", esc.ID, err)
	}
	ev := decisions.Event{At: now, Kind: decisions.EventEscalated, Teams: []string{ts.team}, By: "switchboard",
		Detail: fmt.Sprintf("level %d of %d: unanswered %s, target %s (%s)", level, len(ts.due), esc.Age, esc.Target, ts.calendar)}
	prefix := fmt.Sprintf("level %d of", level)
	if _, err := t.records.Update(ctx, d.id, func(r *decisions.Record) (*decisions.Record, error) {
		if r == nil {
			return nil, nil
		}
		for _, h := range r.History {
			if h.Kind == decisions.EventEscalated && slices.Equal(h.Teams, ev.Teams) && strings.HasPrefix(h.Detail, prefix) {
				return nil, nil // noted before a restart
			}
		}
		r.AddEvent(ev)
		return r, nil
	}); err != nil {
		return fmt.Errorf("noting escalation %s in the record: %w", esc.ID, err)
	}
	if !ack.Duplicate {
		t.metrics.escalation(ts.team, d.channel, level)
		t.log.Info("escalated an unanswered item", zap.String("id", d.id), zap.String("team", ts.team),
			zap.Int("level", level), zap.Duration("age", age), zap.Duration("target", ts.target))
	}
	return nil
}

// markEscalated records that team's escalations of item id reached level.
func (t *Tracker) markEscalated(ctx context.Context, id, team string, level int) error {
	t.mu.Lock()
	it := t.idx.get(id)
	if it == nil {
		t.mu.Unlock()
		return nil // answered meanwhile
	}
	done := marks{}
	for i := range it.teams {
		if it.teams[i].team == team && it.teams[i].escalated < level {
			it.teams[i].escalated = level
		}
		if e := it.teams[i].escalated; e > 0 {
			done[it.teams[i].team] = e
		}
	}
	t.idx.rescheduled(it)
	t.mu.Unlock()
	return t.storeMarks(ctx, id, done)
}
