package router

import (
	"context"
	"strings"

	"github.com/switchboard/switchboard/router/decisions"
)

// Recorder keeps the decision record of every item the router decided
// (Deps.Recorder; nil: none). It is called after each attempt settled,
// with what that attempt decided and delivered; merging it into what the
// item's record already holds is the Recorder's job. It must not block for
// long: the worker waits for it.
//
// MINIMAL HOOK, written by the console work so that its tests can find
// items through the real router; the lead's wiring of decision records
// replaces it.
type Recorder interface {
	Record(ctx context.Context, rec *decisions.Record)
}

// record reports an attempt to the Recorder. dead lists the teams whose
// copy was dead-lettered in this attempt.
func (r *Router) record(ctx context.Context, a *attemptState, noise bool, dead map[string]string) {
	if r.recorder == nil || a.env == nil || a.rec == nil {
		return
	}
	env, p := a.env, a.rec
	now := r.now().UTC()
	rec := &decisions.Record{
		ID: env.ID, Seq: a.meta.Sequence.Stream, Kind: string(env.Kind), ThreadID: env.ThreadID, ParentID: env.ParentID,
		Author: firstOf(env.Author.Name, env.Author.Handle, env.Author.Email), Snippet: decisions.Snippet(env.Subject, env.Text),
		CreatedAt: env.CreatedAt, ReceivedAt: env.ReceivedAt, RoutedAt: p.RoutedAt,
		Outcome: decisions.OutcomeRouted, Teams: p.Teams, RulesVersion: p.Version,
		Lang: firstOf(env.Lang, p.Lang), Topics: p.Topics, Priority: p.Priority, Tags: p.Tags,
		Delivery: a.deliveries,
	}
	for _, id := range p.Matched {
		rec.Routes = append(rec.Routes, decisions.RouteMatch{ID: id})
	}
	switch team, _ := replayOf(a.msg); {
	case team != "":
		rec.Reason = decisions.ReasonReplay
	case len(p.Matched) == 0:
		rec.Reason = decisions.ReasonDefault
	default:
		rec.Reason = decisions.ReasonText
	}
	kind := decisions.EventRouted
	if a.meta.NumDelivered > 1 {
		kind = decisions.EventRetry
	}
	if noise {
		rec.Outcome, rec.Teams = decisions.OutcomeNoise, nil
		rec.AddEvent(decisions.Event{At: now, Kind: kind, Detail: "noise: " + strings.Join(p.Matched, ", ")})
	} else {
		rec.AddEvent(decisions.Event{At: now, Kind: kind, Teams: p.Teams})
	}
	for team, reason := range dead {
		rec.Outcome = decisions.OutcomeDead
		rec.AddEvent(decisions.Event{At: now, Kind: decisions.EventDead, Teams: []string{team}, Detail: reason})
	}
	r.recorder.Record(ctx, rec)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
