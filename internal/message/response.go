package message

import (
	"errors"
	"fmt"
	"time"
)

// Response statuses: what a response says about the item it answers.
const (
	// StatusResponded: the company answered the customer.
	StatusResponded = "responded"
	// StatusResolved: the matter is settled (answered or not).
	StatusResolved = "resolved"
	// StatusNoResponseNeeded: a team decided the item needs no answer.
	StatusNoResponseNeeded = "no_response_needed"
)

// Response is the company's own answer to customers, seen on a channel (a
// page's comment reply, a Messenger message, an X reply or DM, a mail sent
// from the support address) or reported by a team's own tool. Connectors
// publish responses on <prefix>.response.<channel>; the response tracker
// links each to the routed items it answers. See docs/responses.md.
type Response struct {
	// Version is the schema version (SchemaVersion).
	Version int `json:"v"`
	// ID is "<channel>:<source_id>" of the response itself (for a team
	// tool's signal: "handled:<item id>:<status>").
	ID string `json:"id"`
	// Channel is where the response was seen: facebook, x, email, or
	// "handled" for an explicit signal.
	Channel string `json:"channel"`
	// Kind is what the response is on its channel: comment, reply, message,
	// dm, email; "handled" for an explicit signal.
	Kind string `json:"kind"`
	// SourceID is the response's id on its channel.
	SourceID string `json:"source_id"`
	// InReplyTo is the envelope id of the item the response answers, when
	// the channel links it (a comment's parent, a tweet's replied-to post, a
	// mail's In-Reply-To; an explicit signal's item).
	InReplyTo string `json:"in_reply_to,omitempty"`
	// ThreadID is the conversation the response belongs to, for channels
	// without a parent link (Messenger, DMs, mail threads); the thread id
	// as the channel's envelopes carry it.
	ThreadID string `json:"thread_id,omitempty"`
	// By names who answered: the page, the account, the address, or the
	// person or tool that reported it.
	By string `json:"by,omitempty"`
	// At is when the response was written (channel time, UTC).
	At time.Time `json:"at"`
	// Status is StatusResponded (the default), StatusResolved or
	// StatusNoResponseNeeded.
	Status string `json:"status,omitempty"`
	// Note is a free-form note from a team tool.
	Note string `json:"note,omitempty"`
}

// Validate reports what is missing or wrong in r.
func (r *Response) Validate() error {
	errs := validateHead(r.Version, r.Channel)
	if r.ID == "" {
		errs = append(errs, errors.New("id: missing"))
	}
	if r.InReplyTo == "" && r.ThreadID == "" {
		errs = append(errs, errors.New("in_reply_to or thread_id: one is needed to link the response"))
	}
	if r.At.IsZero() {
		errs = append(errs, errors.New("at: missing"))
	}
	switch r.Status {
	case "", StatusResponded, StatusResolved, StatusNoResponseNeeded:
	default:
		errs = append(errs, fmt.Errorf("status: %q: use responded, resolved or no_response_needed", r.Status))
	}
	return errors.Join(errs...)
}
