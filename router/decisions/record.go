// Package decisions keeps a decision record for every item the router
// decided: where it went and why (rules version, matched routes and words,
// model scores, the conversation, customer and case it was linked to), how
// each delivery target answered, and what happened to it afterwards
// (retries, dead letters, reroutes, replays, responses). Records live in a
// JetStream stream with one subject per item and a per-subject limit of one,
// so looking one up by id is a single direct get, and their retention
// follows the ingest stream's.
package decisions

import (
	"time"

	"github.com/switchboard/switchboard/internal/message"
)

// RecordVersion is the version of the record format written by this build.
const RecordVersion = 1

// Outcomes of a decision.
const (
	// OutcomeRouted: delivered (or being delivered) to Teams.
	OutcomeRouted = "routed"
	// OutcomeNoise: a noise route matched; kept, delivered to no team.
	OutcomeNoise = "noise"
	// OutcomeDead: the item, or one team's copy, is in the dead-letter stream.
	OutcomeDead = "dead"
)

// Reasons say which input decided the teams (the order of authority in
// docs/architecture.md).
const (
	// ReasonText: the item's own text decided (a route or the model).
	ReasonText = "text"
	// ReasonParent: the text decided nothing; the item follows the item it answers.
	ReasonParent = "parent"
	// ReasonConversation: the text decided nothing and the channel has no
	// parent link; the item follows the latest routed item of its conversation.
	ReasonConversation = "conversation"
	// ReasonCase: the text decided nothing; the item joins its customer's open case.
	ReasonCase = "case"
	// ReasonDefault: nothing decided; the default team.
	ReasonDefault = "default"
	// ReasonReplay: an operator replayed a dead letter to its team.
	ReasonReplay = "replay"
	// ReasonReroute: an operator rerouted the item to another team.
	ReasonReroute = "reroute"
	// ReasonRetry: a retry of an earlier attempt, routed as that attempt was.
	ReasonRetry = "retry"
)

// Event kinds in a record's history.
const (
	EventRouted    = "routed"
	EventRetry     = "retry"
	EventDelivered = "delivered"
	EventDead      = "dead"
	EventReroute   = "reroute"
	EventReplay    = "replay"
	EventResponse  = "response"
	EventHandled   = "handled"
	// EventEscalated: the item waited past a service-level target.
	EventEscalated = "escalated"
)

// maxHistory bounds a record's history; the first event is always kept.
const maxHistory = 32

// maxSnippet bounds the text kept in a record for search and lists (the
// whole envelope stays in the ingest stream at Seq).
const maxSnippet = 280

// Record is what Switchboard knows about one item's routing.
type Record struct {
	// V is the record format version (RecordVersion).
	V int `json:"v"`
	// ID is the envelope id.
	ID string `json:"id"`
	// Seq is the ingest stream sequence of the message routed last (a
	// replayed copy has its own).
	Seq uint64 `json:"seq"`
	// Channel and Kind are the envelope's.
	Channel string `json:"channel"`
	Kind    string `json:"kind"`
	// ThreadID and ParentID are the envelope's.
	ThreadID string `json:"thread_id,omitempty"`
	ParentID string `json:"parent_id,omitempty"`
	// Author is the author's display name or handle, for lists.
	Author string `json:"author,omitempty"`
	// Snippet is the subject and the start of the text, for search and lists.
	Snippet string `json:"snippet"`
	// CreatedAt is when the customer wrote the item; ReceivedAt when it was
	// ingested; RoutedAt when the router first decided.
	CreatedAt  time.Time `json:"created_at"`
	ReceivedAt time.Time `json:"received_at"`
	RoutedAt   time.Time `json:"routed_at"`
	// UpdatedAt is when the record last changed.
	UpdatedAt time.Time `json:"updated_at"`

	// Outcome is OutcomeRouted, OutcomeNoise or OutcomeDead.
	Outcome string `json:"outcome"`
	// Teams received (or are receiving) the item.
	Teams []string `json:"teams,omitempty"`
	// Reason says which input decided the teams (a Reason constant).
	Reason string `json:"reason"`
	// RulesVersion is the version of the rules that decided.
	RulesVersion string `json:"rules_version,omitempty"`
	// Routes are the routes that matched, in evaluation order.
	Routes []RouteMatch `json:"routes,omitempty"`
	// Route is the route the first team came from (the rules' decision),
	// when a route decided; ModelDecided says the rules' model chose the
	// team instead, because no route named one.
	Route        string `json:"route,omitempty"`
	ModelDecided bool   `json:"model_decided,omitempty"`
	// Model is the classifier's top teams with probabilities, when the
	// rules have a model.
	Model []Score `json:"model,omitempty"`
	// Lang is the item's language, declared or detected.
	Lang string `json:"lang,omitempty"`
	// Topics, Priority and Tags are what the rules assigned.
	Topics   []string `json:"topics,omitempty"`
	Priority string   `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`

	// Followed is the id of the item whose team this one took (Reason
	// parent or conversation).
	Followed string `json:"followed,omitempty"`
	// Conversation is the key of the conversation the item belongs to.
	Conversation string `json:"conversation,omitempty"`
	// Customer is the customer the item was linked to.
	Customer *Customer `json:"customer,omitempty"`
	// Case is the case the item opened or joined.
	Case *Case `json:"case,omitempty"`
	// Response is the first response to the item (nil: none seen yet).
	Response *Response `json:"response,omitempty"`

	// Delivery is each target's latest outcome.
	Delivery []Delivery `json:"delivery,omitempty"`
	// History lists what happened, oldest first (bounded; the first event
	// is always kept).
	History []Event `json:"history"`
}

// RouteMatch is one matched route and the words that matched in it.
type RouteMatch struct {
	ID    string   `json:"id"`
	Words []string `json:"words,omitempty"`
}

// Score is one team's probability from the model.
type Score struct {
	Team string  `json:"team"`
	P    float64 `json:"p"`
}

// Customer is the customer an item was linked to (the routed item's
// customer field).
type Customer = message.Customer

// Case is the case an item opened or joined (the routed item's case field).
type Case = message.Case

// CaseRef names a case and its team.
type CaseRef = message.CaseRef

// Delivery is one target's outcome for one team.
type Delivery struct {
	Team   string    `json:"team"`
	Target string    `json:"target"`
	OK     bool      `json:"ok"`
	Error  string    `json:"error,omitempty"`
	At     time.Time `json:"at"`
	// Attempts counts tries at this target.
	Attempts int `json:"attempts"`
}

// Event is one step in an item's history.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Teams are the teams the step concerned.
	Teams []string `json:"teams,omitempty"`
	// By names who acted (an operator, a team tool, a connector).
	By string `json:"by,omitempty"`
	// Detail says more, for people.
	Detail string `json:"detail,omitempty"`
}

// AddEvent appends e to the history, dropping the oldest events but the
// first when the history is full.
func (r *Record) AddEvent(e Event) {
	if len(r.History) >= maxHistory {
		r.History = append(r.History[:1], r.History[len(r.History)-maxHistory+2:]...)
	}
	r.History = append(r.History, e)
}

// SetDelivery records a target's outcome, replacing its earlier one.
func (r *Record) SetDelivery(d Delivery) {
	for i := range r.Delivery {
		if r.Delivery[i].Team == d.Team && r.Delivery[i].Target == d.Target {
			d.Attempts += r.Delivery[i].Attempts
			r.Delivery[i] = d
			return
		}
	}
	r.Delivery = append(r.Delivery, d)
}

// Snippet returns the searchable, displayable start of an item: its
// subject and text on one line, at most maxSnippet bytes of whole runes.
func Snippet(subject, text string) string {
	s := subject
	if s != "" && text != "" {
		s += " — "
	}
	s += text
	out := make([]rune, 0, min(len(s), maxSnippet))
	n, space := 0, false
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' || r == ' ' {
			space = true
			continue
		}
		if r < 0x20 || r == 0x7f {
			continue
		}
		if space && len(out) > 0 {
			if n+1 > maxSnippet {
				break
			}
			out = append(out, ' ')
			n++
		}
		space = false
		w := len(string(r))
		if n+w > maxSnippet {
			break
		}
		out = append(out, r)
		n += w
	}
	return string(out)
}
