package router

import (
	"context"
	"strings"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/router/decisions"
)

// persist records the decision in a.rec as the item's decision record
// before anything is delivered, and returns the record instead when this
// very message (same stream sequence) was decided before: the caller then
// keeps that decision. Failures are logged: a missing record costs the
// trace and a follow-up's context, never the item.
func (r *Router) persist(ctx context.Context, a *attemptState, noise bool) (prev *decisions.Record) {
	if r.records == nil {
		return nil
	}
	env, p, seq := a.env, a.rec, a.meta.Sequence.Stream
	now := r.now().UTC()
	_, err := r.records.Update(ctx, env.ID, func(cur *decisions.Record) (*decisions.Record, error) {
		if cur != nil && cur.Seq == seq && cur.Outcome != "" {
			prev = cur
			return nil, nil
		}
		prev = nil
		next := &decisions.Record{}
		if cur != nil {
			*next = *cur
		}
		next.Seq, next.Kind, next.ThreadID, next.ParentID = seq, string(env.Kind), env.ThreadID, env.ParentID
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
		return next, nil
	})
	if err != nil {
		a.log.Warn("decision record not stored; the trace will miss this decision", zap.Error(err))
		return nil
	}
	return prev
}

// recordOutcome adds what this attempt delivered (and dead-lettered, with
// the reason per team) to the item's decision record, and remembers the
// item as its private conversation's latest.
func (r *Router) recordOutcome(ctx context.Context, a *attemptState, dead map[string]string) {
	if a.env == nil || a.rec == nil {
		return
	}
	r.remember(ctx, a)
	if r.records == nil {
		return
	}
	now := r.now().UTC()
	_, err := r.records.Update(ctx, a.env.ID, func(cur *decisions.Record) (*decisions.Record, error) {
		if cur == nil {
			// The decision was not recorded (the store failed then); keep
			// at least the outcome.
			cur = &decisions.Record{Seq: a.meta.Sequence.Stream, Outcome: decisions.OutcomeRouted, Teams: a.rec.Teams,
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
		return cur, nil
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
