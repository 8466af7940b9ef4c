package router

import (
	"context"
	"strings"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/router/decisions"
)

// record writes what this attempt decided and delivered into the item's
// decision record (merging with what the record holds from earlier
// attempts, reroutes and responses) and remembers the item as its private
// conversation's latest. dead lists the teams whose copy was dead-lettered
// in this attempt, with the reason. Failures are logged: a missing record
// costs the trace and a follow-up's context, never the item.
func (r *Router) record(ctx context.Context, a *attemptState, noise bool, dead map[string]string) {
	if a.env == nil || a.rec == nil {
		return
	}
	if !noise {
		r.remember(ctx, a)
	}
	if r.records == nil {
		return
	}
	env, p := a.env, a.rec
	now := r.now().UTC()
	kind := decisions.EventRouted
	if a.meta.NumDelivered > 1 {
		kind = decisions.EventRetry
	}
	if team, _ := replayOf(a.msg); team != "" || p.Reason == decisions.ReasonReplay {
		kind = decisions.EventReplay
	}
	ev := decisions.Event{At: now, Kind: kind, Teams: p.Teams, Detail: p.Reason}
	if p.Reason == decisions.ReasonReroute && a.meta.NumDelivered <= 1 {
		ev.Kind, ev.By, ev.Detail = decisions.EventReroute, p.RerouteBy, p.RerouteNote
	}
	if p.Followed != "" {
		ev.Detail += " " + p.Followed
	}
	if noise {
		ev.Teams, ev.Detail = nil, "noise: "+strings.Join(p.Matched, ", ")
	}
	_, err := r.records.Update(ctx, env.ID, func(cur *decisions.Record) (*decisions.Record, error) {
		next := &decisions.Record{}
		if cur != nil {
			*next = *cur
		}
		next.Seq, next.Kind, next.ThreadID, next.ParentID = a.meta.Sequence.Stream, string(env.Kind), env.ThreadID, env.ParentID
		next.Author = firstOf(env.Author.Name, env.Author.Handle, env.Author.Email)
		next.Snippet = decisions.Snippet(env.Subject, env.Text)
		next.CreatedAt, next.ReceivedAt = env.CreatedAt, env.ReceivedAt
		if next.RoutedAt.IsZero() {
			next.RoutedAt = p.RoutedAt
		}
		next.UpdatedAt = now
		next.RulesVersion, next.Lang = p.Version, firstOf(env.Lang, p.Lang)
		next.Topics, next.Priority, next.Tags = p.Topics, p.Priority, p.Tags
		next.Routes = next.Routes[:0:0]
		for _, id := range p.Matched {
			next.Routes = append(next.Routes, decisions.RouteMatch{ID: id})
		}
		next.Model, next.Route, next.ModelDecided = p.Scores, p.Route, p.ModelDecided
		next.Reason, next.Followed, next.Conversation = p.Reason, p.Followed, p.Conversation
		next.Customer, next.Case = p.Customer, p.Case
		switch {
		case noise:
			next.Outcome, next.Teams = decisions.OutcomeNoise, nil
		case len(dead) > 0:
			next.Outcome, next.Teams = decisions.OutcomeDead, p.Teams
		default:
			next.Outcome, next.Teams = decisions.OutcomeRouted, p.Teams
		}
		next.AddEvent(ev)
		for _, d := range a.deliveries {
			next.SetDelivery(d)
		}
		for team, reason := range dead {
			next.AddEvent(decisions.Event{At: now, Kind: decisions.EventDead, Teams: []string{team}, Detail: reason})
		}
		return next, nil
	})
	if err != nil {
		a.log.Warn("decision record not stored; the trace will miss this attempt", zap.Error(err))
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
