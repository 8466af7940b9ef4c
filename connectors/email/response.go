package email

import (
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/message"
)

// Why a mail in the Sent mailbox is no response; the reason label of
// switchboard_email_sent_skipped_total.
const (
	// skipNoReference: it names no mail it answers (no In-Reply-To, no
	// References): a conversation the company started.
	skipNoReference = "no_reference"
	// skipAutoReply: an automatic reply (an acknowledgement, an
	// out-of-office notice) is no answer, however fast.
	skipAutoReply = "auto_reply"
	// skipInternal: every recipient is an own or a team address: a
	// forward inside the company, not an answer to the customer.
	skipInternal = "internal"
	// skipUnreadable: not even its header could be read (a bug).
	skipUnreadable = "unreadable"
)

// sentResponse turns the header of a mail sent from the account (m,
// INTERNALDATE arrived) into the company's response, or says why it is
// none (skip, with a detail for the debug log). own are the account's own
// and the teams' addresses; now is the reading time.
//
// The response's ids are made exactly as a received mail's envelope makes
// them: its id from its own Message-ID (or content hash), InReplyTo the
// envelope id of the mail it answers (In-Reply-To, else the last
// References entry) and ThreadID the thread root (the first References
// entry), so the customer's envelope and the answer to it agree.
func sentResponse(m *parsedMail, own ownAddresses, arrived, now time.Time) (r *message.Response, skip, detail string) {
	id := m.sourceID()
	thread, parent := threadOf(m, id)
	if parent == "" {
		return nil, skipNoReference, "no In-Reply-To or References"
	}
	if d := autoReply(m); d != "" {
		return nil, skipAutoReply, d
	}
	if d := internalOnly(m, own); d != "" {
		return nil, skipInternal, d
	}
	at, _ := mailTime(m.Date, arrived, now)
	return &message.Response{
		Version:   message.SchemaVersion,
		ID:        message.MakeID(Channel, id),
		Channel:   Channel,
		Kind:      string(message.KindEmail),
		SourceID:  id,
		InReplyTo: message.MakeID(Channel, parent),
		ThreadID:  thread,
		By:        m.author().ID,
		At:        at.UTC(),
		Status:    message.StatusResponded,
	}, "", ""
}

// internalOnly describes a mail whose every recipient (To, Cc, Bcc) is an
// own or a team address, or returns "" (also for a mail without
// recipients: whom it went to is unknown).
func internalOnly(m *parsedMail, own ownAddresses) string {
	rcpts := append(append(append([]address(nil), m.To...), m.Cc...), parseAddresses(strings.Join(m.Header.Values("Bcc"), ", "))...)
	if len(rcpts) == 0 {
		return ""
	}
	for _, a := range rcpts {
		if !own.match(a.Email) {
			return ""
		}
	}
	return "sent only to own addresses, first " + rcpts[0].Email
}
