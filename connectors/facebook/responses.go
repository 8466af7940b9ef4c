package facebook

import (
	"github.com/switchboard/switchboard/internal/message"
)

// The page's own comments, replies and Messenger answers are its responses
// to customers. They are never ingested as customer items; when responses
// are tracked they are published as message.Response, linked to what they
// answer (docs/facebook.md, "Responses").

// responder names who answered: "page <name>". Graph gives the page's name
// in from for page-authored content (never the admin who wrote it).
func (p *Page) responder(from *profile) string {
	if from != nil && from.Name != "" {
		return "page " + from.Name
	}
	return "page " + p.cfg.Label
}

// commentResponse is the page's comment or reply on post postID. A
// top-level comment answers the post; a reply answers its parent comment.
// Graph keeps comments two levels deep, so a reply to a customer's reply
// names the top-level comment as its parent, and answers that. It has no
// thread id: a post is public and shared by many customers, and a thread id
// would mark every one of them answered.
func (p *Page) commentResponse(postID string, c commentNode) *message.Response {
	kind, answers := string(message.KindComment), postID
	if c.Parent != nil && c.Parent.ID != "" && c.Parent.ID != postID {
		kind, answers = string(message.KindReply), c.Parent.ID
	}
	return &message.Response{
		Version:   message.SchemaVersion,
		ID:        message.MakeID(Channel, c.ID),
		Channel:   Channel,
		Kind:      kind,
		SourceID:  c.ID,
		InReplyTo: message.MakeID(Channel, answers),
		By:        p.responder(c.From),
		At:        c.CreatedTime.Time,
	}
}

// messageResponse is the page's Messenger message in conversation convID:
// it answers the conversation, whose id the customer's envelopes carry as
// thread_id.
func (p *Page) messageResponse(convID string, m messageNode) *message.Response {
	return &message.Response{
		Version:  message.SchemaVersion,
		ID:       message.MakeID(Channel, m.ID),
		Channel:  Channel,
		Kind:     string(message.KindMessage),
		SourceID: m.ID,
		ThreadID: convID,
		By:       p.responder(m.From),
		At:       m.CreatedTime.Time,
	}
}
