// Package conversation decides where an item goes when its own text is not
// enough: a reply follows the item it answers, an item in a private
// conversation (Messenger, DM, mail) without a parent link follows the
// latest routed item of that conversation, and an item from a customer with
// an open case joins it. The order of authority is the item's own text,
// then its conversation, then its customer's open case, then the default
// team (docs/architecture.md, "The router decides with context").
//
// The package is pure: the router looks the context up (decision records,
// the conversation map, the case store) and asks Resolve; the rules' batch
// test asks the same function with context taken from the examples, so
// both decide alike.
package conversation

import (
	"slices"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/decisions"
)

// Reasons say which input decided: the decision record's reasons, which
// package decisions defines and documents.
const (
	ReasonText         = decisions.ReasonText
	ReasonParent       = decisions.ReasonParent
	ReasonConversation = decisions.ReasonConversation
	ReasonCase         = decisions.ReasonCase
	ReasonDefault      = decisions.ReasonDefault
)

// Private reports whether env's thread is a private conversation between
// the company and one customer: a Messenger chat, an X DM conversation, a
// mail thread, or a web-form thread the form named. A public thread — a
// Facebook post with its comments, an X conversation under one tweet — is
// shared by many customers, so its items never follow one another by
// thread, only by parent.
func Private(env *message.Envelope) bool {
	if env.ThreadID == "" {
		return false
	}
	switch env.Kind {
	case message.KindMessage, message.KindDM, message.KindEmail, message.KindWeb:
		return true
	}
	return false
}

// Prior is an earlier routed item that may decide for a new one.
type Prior struct {
	// ID is the earlier item's envelope id.
	ID string
	// Teams are the teams it was routed to.
	Teams []string
	// Conversation is its conversation key.
	Conversation string
}

// Case is a customer's open case.
type Case struct {
	// ID is the case id.
	ID string
	// Team owns the case.
	Team string
}

// Input is everything Resolve decides from.
type Input struct {
	// Env is the item being routed.
	Env *message.Envelope
	// Decided says the item's own text decided (a route that names a team,
	// or a confident model); Teams are the teams the rules chose (the
	// default team when nothing decided).
	Decided bool
	Teams   []string
	// Weak says the trained model, not a route, decided: the model reads
	// a short reply ("still nothing", "+1") as well as it can, but the
	// item it answers knows better, so a parent or a private conversation
	// to follow wins over the model.
	Weak bool
	// Deferred says a route chose Teams but deferred to the item's
	// conversation (sticky: true): Teams apply when there is nothing to
	// follow, and the reason is then the text's.
	Deferred bool
	// Parent is the routed item Env answers (nil: none, or not routed).
	Parent *Prior
	// Latest is the latest routed item of Env's private conversation (nil
	// when there is none or the conversation is public).
	Latest *Prior
	// Cases are the customer's open cases, most recently active first.
	Cases []Case
	// Known reports whether a team is declared in the rules in force;
	// earlier decisions naming removed teams are ignored. nil: all are.
	Known func(team string) bool
}

// Result is where the item goes and why.
type Result struct {
	// Teams receive the item.
	Teams []string
	// Reason is which input decided (a Reason constant).
	Reason string
	// Followed is the id of the item whose teams were taken (ReasonParent,
	// ReasonConversation).
	Followed string
	// Conversation is the item's conversation key: its parent's
	// conversation, else its private thread, else the item itself.
	Conversation string
	// Case is the open case the item joins (nil: it opens a new one).
	Case *Case
	// Related is another open case of the customer, with another team,
	// that the item did not join (nil: none).
	Related *Case
}

// Key returns the conversation key of a private thread.
func Key(env *message.Envelope) string { return env.Channel + ":" + env.ThreadID }

// Resolve decides where in.Env goes.
func Resolve(in Input) Result {
	env := in.Env
	res := Result{Conversation: env.ID}
	parent := known(in.Parent, in.Known)
	latest := known(in.Latest, in.Known)
	switch {
	case parent != nil && parent.Conversation != "":
		res.Conversation = parent.Conversation
	case Private(env):
		res.Conversation = Key(env)
	}

	followable := parent != nil || latest != nil && Private(env)
	switch {
	case in.Decided && !(in.Weak && followable) || len(in.Teams) == 0:
		res.Teams, res.Reason = in.Teams, ReasonText
	case parent != nil:
		res.Teams, res.Reason, res.Followed = parent.Teams, ReasonParent, parent.ID
	case latest != nil && Private(env):
		res.Teams, res.Reason, res.Followed = latest.Teams, ReasonConversation, latest.ID
	case in.Deferred:
		res.Teams, res.Reason = in.Teams, ReasonText
	default:
		res.Teams, res.Reason = in.Teams, ReasonDefault
	}

	cases := slices.DeleteFunc(slices.Clone(in.Cases), func(c Case) bool { return in.Known != nil && !in.Known(c.Team) })
	if len(cases) == 0 || len(res.Teams) == 0 {
		return res
	}
	if res.Reason == ReasonDefault || in.Deferred && res.Reason == ReasonText {
		// Nothing about the item itself decided: the customer's case does.
		c := cases[0]
		res.Teams, res.Reason, res.Case = []string{c.Team}, ReasonCase, &c
		return res
	}
	owner := res.Teams[0]
	for i := range cases {
		if cases[i].Team == owner {
			res.Case = &cases[i]
			break
		}
	}
	for i := range cases {
		if cases[i].Team != owner {
			res.Related = &cases[i]
			break
		}
	}
	return res
}

// known returns p without the teams the rules no longer declare, or nil
// when none is left.
func known(p *Prior, isKnown func(string) bool) *Prior {
	if p == nil || len(p.Teams) == 0 {
		return nil
	}
	if isKnown == nil {
		return p
	}
	teams := slices.DeleteFunc(slices.Clone(p.Teams), func(t string) bool { return !isKnown(t) })
	if len(teams) == 0 {
		return nil
	}
	q := *p
	q.Teams = teams
	return &q
}
