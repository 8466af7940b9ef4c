package decisions

import "time"

// Response is the first response to an item: the company's answer seen on
// a channel, or a team tool's report that the item was handled. The
// response tracker (package responses) writes it; reports and the console
// read it.
type Response struct {
	// ID is the response's own id (message.Response.ID).
	ID string `json:"id"`
	// At is when the response was written.
	At time.Time `json:"at"`
	// By names who answered: the page, the account, the address, or the
	// person or tool that reported it.
	By string `json:"by,omitempty"`
	// Channel is where the response was seen ("handled" for a team tool's
	// signal); Kind is what it is there.
	Channel string `json:"channel"`
	Kind    string `json:"kind,omitempty"`
	// Status is responded, resolved or no_response_needed.
	Status string `json:"status"`
	// Note is a team tool's free-form note.
	Note string `json:"note,omitempty"`
	// DelaySeconds is the time from the customer's message (CreatedAt) to
	// the response; RoutedDelaySeconds from routing (RoutedAt). Negative
	// values are stored as 0.
	DelaySeconds       float64 `json:"delay_seconds"`
	RoutedDelaySeconds float64 `json:"routed_delay_seconds"`
}

// Delay is DelaySeconds as a duration.
func (r *Response) Delay() time.Duration { return time.Duration(r.DelaySeconds * float64(time.Second)) }
