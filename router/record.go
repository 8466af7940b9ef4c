package router

import (
	"context"
	"errors"
	"strings"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/router/decisions"
)

// persist records the decision in a.rec as the item's decision record
// before anything is delivered, and returns the record instead when this
// very message (same stream sequence) was decided before: the caller then
// keeps that decision. The common case — a message never decided before —
// costs one write and no read. Failures are logged: a missing record costs
// the trace and a follow-up's context, never the item.
func (r *Router) persist(ctx context.Context, a *attemptState, noise bool) (prev *decisions.Record) {
	if r.records == nil {
		return nil
	}
	seq := a.meta.Sequence.Stream
	fresh := r.decisionRecord(a, noise, nil)
	stored, err := r.records.Put(ctx, fresh, 0)
	if err == nil {
		a.record, a.recordSeq = fresh, stored
		return nil
	}
	if !errors.Is(err, decisions.ErrConflict) {
		a.log.Warn("decision record not stored; the trace will miss this decision", zap.Error(err))
		return nil
	}
	// The item has a record: this message decided before (keep that), or
	// an earlier message of the same item (a replay, a reroute) did.
	stored, next, err := r.records.UpdateSeq(ctx, a.env.ID, func(cur *decisions.Record) (*decisions.Record, error) {
		if cur != nil && cur.Seq == seq && cur.Outcome != "" {
			prev = cur
			return nil, nil
		}
		prev = nil
		return r.decisionRecord(a, noise, cur), nil
	})
	if err != nil {
		a.log.Warn("decision record not stored; the trace will miss this decision", zap.Error(err))
		return nil
	}
	if prev != nil {
		a.record, a.recordSeq = nil, 0 // recordOutcome reads it again
		return prev
	}
	a.record, a.recordSeq = next, stored
	return nil
}

// decisionRecord is the decision in a.rec as a record, on top of what cur
// (the item's record from an earlier message, or nil) holds.
func (r *Router) decisionRecord(a *attemptState, noise bool, cur *decisions.Record) *decisions.Record {
	env, p := a.env, a.rec
	now := r.now().UTC()
	next := &decisions.Record{}
	if cur != nil {
		*next = *cur
	}
	next.ID, next.Seq, next.Kind, next.ThreadID, next.ParentID = env.ID, a.meta.Sequence.Stream, string(env.Kind), env.ThreadID, env.ParentID
	next.Author = firstOf(env.Author.Name, env.Author.Handle, env.Author.Email)
	next.Snippet = decisions.Snippet(env.Subject, env.Text)
	next.CreatedAt, next.ReceivedAt, next.RoutedAt, next.UpdatedAt = env.CreatedAt, env.ReceivedAt, p.RoutedAt, now
	next.RulesVersion, next.Lang = p.Version, firstOf(env.Lang, p.Lang)
	next.Topics, next.Priority, next.Tags = p.Topics, p.Priority, p.Tags
	next.Routes = next.Routes[:0:0]
	for _, id := range p.Matched {
		next.Routes = append(next.Routes, decisions.RouteMatch{ID: id})
	}
	next.Model, next.Route, next.ModelDecided = p.Scores, p.Route, p.ModelDecided
	next.Reason, next.Followed, next.Conversation = p.Reason, p.Followed, p.Conversation
	next.Customer, next.Case = p.Customer, p.Case
	next.Delivery = nil
	kind := decisions.EventRouted
	if team, _ := replayOf(a.msg); team != "" || p.Reason == decisions.ReasonReplay {
		kind = decisions.EventReplay
	}
	ev := decisions.Event{At: now, Kind: kind, Teams: p.Teams, Detail: p.Reason}
	if p.Reason == decisions.ReasonReroute {
		ev.Kind, ev.By, ev.Detail = decisions.EventReroute, p.RerouteBy, p.RerouteNote
	}
	if p.Followed != "" {
		ev.Detail += " " + p.Followed
	}
	if noise {
		next.Outcome, next.Teams = decisions.OutcomeNoise, nil
		ev.Teams, ev.Detail = nil, "noise: "+strings.Join(p.Matched, ", ")
	} else {
		next.Outcome, next.Teams = decisions.OutcomeRouted, p.Teams
	}
	next.AddEvent(ev)
	return next
}

// recordOutcome adds what this attempt delivered (and dead-lettered, with
// the reason per team) to the item's decision record, and remembers the
// item as its private conversation's latest. When this attempt wrote the
// record it stores the next version without reading it again (one write);
// otherwise, or when another writer changed it meanwhile (the response
// tracker), it reads, changes and writes.
func (r *Router) recordOutcome(ctx context.Context, a *attemptState, dead map[string]string) {
	if a.env == nil || a.rec == nil {
		return
	}
	r.remember(ctx, a)
	if r.records == nil {
		return
	}
	now := r.now().UTC()
	outcome := func(cur *decisions.Record) *decisions.Record {
		if cur == nil {
			// The decision was not recorded (the store failed then); keep
			// at least the outcome.
			cur = &decisions.Record{ID: a.env.ID, Seq: a.meta.Sequence.Stream, Outcome: decisions.OutcomeRouted, Teams: a.rec.Teams,
				Reason: a.rec.Reason, RoutedAt: a.rec.RoutedAt, CreatedAt: a.env.CreatedAt, ReceivedAt: a.env.ReceivedAt,
				Kind: string(a.env.Kind), Snippet: decisions.Snippet(a.env.Subject, a.env.Text)}
		}
		cur.UpdatedAt = now
		if a.meta.NumDelivered > 1 {
			cur.AddEvent(decisions.Event{At: now, Kind: decisions.EventRetry, Teams: a.rec.Teams})
		}
		for _, d := range a.deliveries {
			cur.SetDelivery(d)
		}
		for team, reason := range dead {
			cur.Outcome = decisions.OutcomeDead
			cur.AddEvent(decisions.Event{At: now, Kind: decisions.EventDead, Teams: []string{team}, Detail: reason})
		}
		return cur
	}
	if a.record != nil && a.recordSeq != 0 {
		next := *a.record
		next.History = append(next.History[:0:0], a.record.History...)
		next.Delivery = append(next.Delivery[:0:0], a.record.Delivery...)
		if _, err := r.records.Put(ctx, outcome(&next), a.recordSeq); err == nil {
			return
		} else if !errors.Is(err, decisions.ErrConflict) {
			a.log.Warn("delivery outcome not recorded; the trace will miss this attempt", zap.Error(err))
			return
		}
	}
	_, _, err := r.records.UpdateSeq(ctx, a.env.ID, func(cur *decisions.Record) (*decisions.Record, error) {
		return outcome(cur), nil
	})
	if err != nil {
		a.log.Warn("delivery outcome not recorded; the trace will miss this attempt", zap.Error(err))
	}
}

// adopt replaces the decision in p with the one recorded in prev.
func (p *progressRecord) adopt(prev *decisions.Record) {
	p.Teams, p.Reason, p.Followed, p.Conversation = prev.Teams, prev.Reason, prev.Followed, prev.Conversation
	p.Customer, p.Case = prev.Customer, prev.Case
	p.Topics, p.Priority, p.Tags, p.Scores = prev.Topics, prev.Priority, prev.Tags, prev.Model
	p.Route, p.ModelDecided = prev.Route, prev.ModelDecided
	p.Matched = p.Matched[:0:0]
	for _, rt := range prev.Routes {
		p.Matched = append(p.Matched, rt.ID)
	}
	if prev.RulesVersion != "" {
		p.Version = prev.RulesVersion
	}
	if !prev.RoutedAt.IsZero() {
		p.RoutedAt = prev.RoutedAt
	}
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
