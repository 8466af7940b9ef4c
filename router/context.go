package router

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/conversation"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/rules"
)

// Records keeps the decision record of every item (router/decisions.Store).
type Records interface {
	Get(ctx context.Context, id string) (*decisions.Record, error)
	// Put stores rec if its record is at sequence expect (0: none yet),
	// else fails with decisions.ErrConflict.
	Put(ctx context.Context, rec *decisions.Record, expect uint64) (uint64, error)
	// UpdateSeq reads, changes and stores the record, retrying conflicts.
	UpdateSeq(ctx context.Context, id string, change func(*decisions.Record) (*decisions.Record, error)) (uint64, *decisions.Record, error)
}

// Customers links an item to its customer by the identity keys it carries
// (docs/customers.md). It returns nil when the item yields no key.
type Customers interface {
	Link(ctx context.Context, env *message.Envelope) (*message.Customer, error)
}

// Cases keeps each customer's cases: one customer's matter with one team.
type Cases interface {
	// Open returns the customer's open cases, most recently active first.
	Open(ctx context.Context, customer string, now time.Time) ([]conversation.Case, error)
	// Add adds the item to join when it is set, else opens a case of team
	// for the item, and returns the case's id.
	Add(ctx context.Context, customer, team, item string, join *conversation.Case, now time.Time) (string, error)
}

// followWait bounds how long an item waits for an earlier item it may
// follow (its parent, its conversation's or its author's previous item)
// to be recorded.
const followWait = 5 * time.Second

// followKeys are the keys an item registers under while it is routed, and
// waits on before it looks up what it may follow.
func followKeys(env *message.Envelope) []string {
	keys := []string{env.ID}
	if conversation.Private(env) {
		keys = append(keys, "conv:"+conversation.Key(env))
	}
	if env.Author.ID != "" {
		keys = append(keys, "author:"+env.Channel+":"+env.Author.ID)
	}
	return keys
}

// decideContext completes a.rec with what the item's own text could not
// decide: the item it answers, its private conversation, its customer and
// the customer's open cases (docs/architecture.md, "The router decides with
// context"), given the rules' decision d. Failing lookups cost context,
// never the item.
func (r *Router) decideContext(ctx context.Context, a *attemptState, d rules.Decision) {
	env := a.env
	seq := a.meta.Sequence.Stream
	in := conversation.Input{Env: env, Decided: d.Decided, Teams: uniq(d.Teams),
		Deferred: !d.Decided && d.Route != "", // a route with sticky: true
		Weak:     d.ModelDecided,
		Known:    func(t string) bool { return a.set.teams[t] != nil }}

	if env.ParentID != "" && r.records != nil {
		parentID := message.MakeID(env.Channel, env.ParentID)
		r.waitFor(ctx, a, parentID, ^uint64(0))
		in.Parent = r.prior(ctx, a, parentID)
	}
	if conversation.Private(env) && r.threads != nil {
		r.waitFor(ctx, a, "conv:"+conversation.Key(env), seq)
		e, err := r.threads.latest(ctx, env.Channel, env.ThreadID)
		if err != nil {
			a.log.Warn("conversation map unavailable; routing without the conversation", zap.Error(err))
		} else if e != nil {
			in.Latest = &conversation.Prior{ID: e.Item, Teams: e.Teams, Conversation: conversation.Key(env)}
		}
	}
	var customer *message.Customer
	if r.customers != nil {
		if env.Author.ID != "" {
			r.waitFor(ctx, a, "author:"+env.Channel+":"+env.Author.ID, seq)
		}
		c, err := r.customers.Link(ctx, env)
		if err != nil {
			a.log.Warn("customer identity unavailable; routing without the customer", zap.Error(err))
		}
		customer = c
	}
	now := r.now().UTC()
	if customer != nil && r.cases != nil {
		open, err := r.cases.Open(ctx, customer.ID, now)
		if err != nil {
			a.log.Warn("cases unavailable; routing without the customer's open cases", zap.Error(err))
		}
		in.Cases = open
	}

	res := conversation.Resolve(in)
	a.rec.Teams, a.rec.Reason, a.rec.Followed, a.rec.Conversation = res.Teams, res.Reason, res.Followed, res.Conversation
	a.rec.Customer = customer
	if customer == nil || r.cases == nil || len(res.Teams) == 0 {
		return
	}
	c := &message.Case{Team: res.Teams[0], FollowUp: res.Case != nil}
	if res.Related != nil {
		c.Related = &message.CaseRef{ID: res.Related.ID, Team: res.Related.Team}
	}
	id, err := r.cases.Add(ctx, customer.ID, c.Team, env.ID, res.Case, now)
	if err != nil {
		a.log.Warn("recording the case failed; the item goes without one", zap.Error(err))
		return
	}
	c.ID = id
	a.rec.Case = c
}

// waitFor waits for earlier in-flight items registered under key, and
// counts the wait.
func (r *Router) waitFor(ctx context.Context, a *attemptState, key string, before uint64) {
	if r.inflight.wait(ctx, key, before, followWait) {
		r.metrics.Redelivery("waited_for_earlier_item")
		a.log.Debug("waited for an earlier item of the same conversation or author", zap.String("key", key))
	}
}

// prior returns the routed item id as something the item may follow, or
// nil when it was not routed (never seen, noise, the page's own post).
func (r *Router) prior(ctx context.Context, a *attemptState, id string) *conversation.Prior {
	rec, err := r.records.Get(ctx, id)
	if errors.Is(err, decisions.ErrNotFound) {
		return nil
	}
	if err != nil {
		a.log.Warn("decision record of the parent unavailable; routing without it", zap.String("parent", id), zap.Error(err))
		return nil
	}
	if rec.Outcome == decisions.OutcomeNoise || len(rec.Teams) == 0 {
		return nil
	}
	conv := rec.Conversation
	if conv == "" {
		conv = rec.ID
	}
	return &conversation.Prior{ID: rec.ID, Teams: rec.Teams, Conversation: conv}
}

// remember records a routed item as its private conversation's latest, so
// that a follow-up that decides nothing goes where it went.
func (r *Router) remember(ctx context.Context, a *attemptState) {
	env := a.env
	if r.threads == nil || !conversation.Private(env) || len(a.rec.Teams) == 0 {
		return
	}
	if err := r.threads.put(ctx, env.Channel, env.ThreadID, env.ID, a.rec.Teams); err != nil {
		a.log.Warn("updating the conversation map failed; a follow-up may not find this item", zap.Error(err))
	}
}
