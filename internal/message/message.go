// Package message defines the envelope: the one versioned JSON shape that every
// connector produces and the router consumes. See docs/message.md.
package message

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// SchemaVersion is the version of the envelope written by this build. Readers
// accept any envelope whose major version they know.
const SchemaVersion = 1

// Kind says what sort of item a message is on its channel.
type Kind string

// The kinds of item a connector can produce.
const (
	KindPost    Kind = "post"
	KindComment Kind = "comment"
	KindReply   Kind = "reply"
	KindMessage Kind = "message"
	KindMention Kind = "mention"
	KindDM      Kind = "dm"
	KindEmail   Kind = "email"
	KindWeb     Kind = "web"
)

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindPost, KindComment, KindReply, KindMessage, KindMention, KindDM, KindEmail, KindWeb:
		return true
	}
	return false
}

// DefaultKind is the usual kind of an item on channel, for a message
// written by hand (rules test, the console's rules page) that names none.
func DefaultKind(channel string) Kind {
	switch channel {
	case "facebook":
		return KindComment
	case "x":
		return KindMention
	case "email":
		return KindEmail
	}
	return KindWeb
}

// Author is who wrote a message, as far as the channel tells.
type Author struct {
	ID     string `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
	Handle string `json:"handle,omitempty"`
	Email  string `json:"email,omitempty"`
}

// Envelope is one customer message from any channel, normalized.
type Envelope struct {
	// Version is the schema version (SchemaVersion when written by this build).
	Version int `json:"v"`
	// ID is Switchboard's own id: "<channel>:<source_id>", stable across polls.
	ID string `json:"id"`
	// Channel names the connector instance type: facebook, x, email, web.
	Channel string `json:"channel"`
	// Kind is what the item is on its channel.
	Kind Kind `json:"kind"`
	// SourceID is the item's id on its channel.
	SourceID string `json:"source_id"`
	// ThreadID groups items of one conversation (post, tweet thread, mail thread).
	ThreadID string `json:"thread_id,omitempty"`
	// ParentID is the item this one answers, if any.
	ParentID string `json:"parent_id,omitempty"`
	// URL links to the item on its channel, when it has one.
	URL string `json:"url,omitempty"`
	// Author is who wrote the item.
	Author Author `json:"author"`
	// Subject is a title or mail subject, when the channel has one.
	Subject string `json:"subject,omitempty"`
	// Text is the message text as written.
	Text string `json:"text"`
	// Lang is a BCP 47 language tag ("fi", "en") when known.
	Lang string `json:"lang,omitempty"`
	// CreatedAt is when the author wrote the item (channel time).
	CreatedAt time.Time `json:"created_at"`
	// ReceivedAt is when Switchboard ingested the item.
	ReceivedAt time.Time `json:"received_at"`
	// Metadata holds channel-specific extras (page id, attachments, flags).
	Metadata map[string]string `json:"metadata,omitempty"`
}

// RoutedVersion is the version of the routed item format written by this
// build: the envelope's fields (whose v it replaces) plus the routing
// decision. Version 2 added route.reason, route.followed, customer and case.
const RoutedVersion = 2

// Route records which rules routed an item, and why it went where it went.
type Route struct {
	// RulesVersion is the content hash of the rules file that decided.
	RulesVersion string `json:"rules_version"`
	// Matched lists the ids of the rules that matched, in evaluation order.
	Matched []string `json:"matched,omitempty"`
	// Reason says which input decided the team: text (the item's own text:
	// a route or the model), parent (it answers an item that went there),
	// conversation (the latest item of its private conversation went
	// there), case (its customer's open case is there), default, replay or
	// reroute.
	Reason string `json:"reason,omitempty"`
	// Followed is the id of the item whose team this one took (reason
	// parent or conversation).
	Followed string `json:"followed,omitempty"`
}

// Customer is who wrote an item, as far as Switchboard could link the
// author's identities across channels (docs/customers.md).
type Customer struct {
	// ID is the customer's stable id.
	ID string `json:"id"`
	// Strength is "confirmed" (linked by a shared email address, phone or
	// order number, or by ops) or "probable" (the same name on two channels
	// close in time, and one message refers to the other channel).
	Strength string `json:"strength,omitempty"`
	// Channels are the channels the customer was seen on.
	Channels []string `json:"channels,omitempty"`
}

// Case is one customer's matter with one team: the item opened it or
// joined it (docs/customers.md).
type Case struct {
	// ID is the case id.
	ID string `json:"id"`
	// Team owns the case.
	Team string `json:"team"`
	// FollowUp says the item joined an open case rather than opening one.
	FollowUp bool `json:"follow_up,omitempty"`
	// Related names another open case of the same customer, with another
	// team, that the item did not join: neither team works blind.
	Related *CaseRef `json:"related,omitempty"`
}

// CaseRef names a case and its team.
type CaseRef struct {
	ID   string `json:"id"`
	Team string `json:"team"`
}

// Routed is an envelope after classification, as delivered to one team.
type Routed struct {
	Envelope
	// Team is the team whose queue this copy was delivered to.
	Team string `json:"team"`
	// Topics are the topics the matching rules assigned.
	Topics []string `json:"topics,omitempty"`
	// Priority is the priority the matching rules assigned ("normal" by default).
	Priority string `json:"priority,omitempty"`
	// Tags are free-form labels the matching rules assigned.
	Tags []string `json:"tags,omitempty"`
	// Route says which rules decided, and why.
	Route Route `json:"route"`
	// Customer is the customer the item was linked to (absent when none).
	Customer *Customer `json:"customer,omitempty"`
	// Case is the case the item opened or joined (absent without a customer).
	Case *Case `json:"case,omitempty"`
	// RoutedAt is when the router decided.
	RoutedAt time.Time `json:"routed_at"`
}

// MakeID returns the stable envelope id for an item of a channel.
func MakeID(channel, sourceID string) string { return channel + ":" + sourceID }

// Validate reports what is missing or wrong in e, naming each field.
func (e *Envelope) Validate() error {
	errs := validateHead(e.Version, e.Channel)
	if !e.Kind.Valid() {
		errs = append(errs, fmt.Errorf("kind: unknown kind %q", e.Kind))
	}
	if e.SourceID == "" {
		errs = append(errs, errors.New("source_id: missing"))
	}
	if e.ID != MakeID(e.Channel, e.SourceID) {
		errs = append(errs, fmt.Errorf("id: %q is not channel:source_id", e.ID))
	}
	if strings.TrimSpace(e.Text) == "" && strings.TrimSpace(e.Subject) == "" {
		errs = append(errs, errors.New("text: missing"))
	}
	return errors.Join(errs...)
}

// validateHead reports what is wrong in the version and channel that an
// envelope and a response both carry, naming each field.
func validateHead(version int, channel string) []error {
	var errs []error
	if version < 1 || version > SchemaVersion {
		errs = append(errs, fmt.Errorf("v: unsupported schema version %d", version))
	}
	if !validToken(channel) {
		errs = append(errs, fmt.Errorf("channel: %q must be lowercase letters, digits, '-' or '_'", channel))
	}
	return errs
}

// validToken reports whether s can be used as one NATS subject token.
func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ValidToken reports whether s is usable as a channel or team name: one NATS
// subject token of lowercase letters, digits, '-' or '_'.
func ValidToken(s string) bool { return validToken(s) }
