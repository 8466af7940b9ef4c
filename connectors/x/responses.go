package x

import (
	"errors"

	"github.com/switchboard/switchboard/internal/message"
)

// The account's own answers, as responses for the response tracker
// (docs/x.md, "Responses"): a reply links to the post it answers by
// in_reply_to; a sent DM to its conversation by thread_id, the
// dm_conversation_id the customer's DM envelopes carry. A reply carries no
// thread: a conversation_id is public and shared by every customer who
// replies under the same post.

// Kinds of X responses.
const (
	responseReply = "reply"
	responseDM    = "dm"
)

// replies turns a page of the account's own posts (newest first) into
// responses, oldest first: one for each reply to someone else's post.
// Original posts, replies continuing the account's own thread, edits of
// an earlier version and malformed posts are skipped and counted.
func (f filter) replies(page *TweetPage) converted {
	var out converted
	users := usersByID(page.Includes)
	for i, t := range out.posts(page) {
		parent := repliedTo(t)
		switch {
		case t.AuthorID != "" && t.AuthorID != f.userID:
			out.malformed("data[%d] (id %s): written by %s, not by the account", i, t.ID, message.Clip(t.AuthorID, 40))
			continue
		case parent == "":
			out.skip("not_reply")
			continue
		case t.InReplyToUserID == f.userID:
			out.skip("own_thread")
			continue
		case isEdit(t):
			out.skip("edit")
			continue
		}
		at := createdAt(t.CreatedAt, t.ID)
		if at.IsZero() {
			out.malformed("data[%d] (id %s): no created_at", i, t.ID)
			continue
		}
		out.responses = append(out.responses, &message.Response{
			Version:   message.SchemaVersion,
			ID:        message.MakeID(Channel, t.ID),
			Channel:   Channel,
			Kind:      responseReply,
			SourceID:  t.ID,
			InReplyTo: message.MakeID(Channel, parent),
			By:        by(users, f.userID),
			At:        at,
		})
	}
	reverse(out.responses)
	return out
}

// repliedTo returns the id of the post t replies to, or "".
func repliedTo(t Tweet) string {
	for _, r := range t.ReferencedTweets {
		if r.Type == "replied_to" && validID(r.ID) {
			return r.ID
		}
	}
	return ""
}

// isEdit reports whether t is a later version of an edited post: its
// first version was (or will be) the response.
func isEdit(t Tweet) bool {
	h := t.EditHistoryTweetIDs
	return len(h) > 1 && validID(h[0]) && h[0] != t.ID
}

// dmResponse is a DM the account sent, as a response in its conversation.
func dmResponse(ev DMEvent, users map[string]User, account string) (*message.Response, error) {
	if !validConversationID(ev.DMConversationID) {
		return nil, errors.New("the account's DM has no valid dm_conversation_id to link it by")
	}
	at := createdAt(ev.CreatedAt, ev.ID)
	if at.IsZero() {
		return nil, errors.New("the account's DM has no created_at")
	}
	return &message.Response{
		Version:  message.SchemaVersion,
		ID:       message.MakeID(Channel, ev.ID),
		Channel:  Channel,
		Kind:     responseDM,
		SourceID: ev.ID,
		ThreadID: ev.DMConversationID,
		By:       by(users, account),
		At:       at,
	}, nil
}

// by names the account: "@handle" when the page expanded it, else its id.
func by(users map[string]User, account string) string {
	if u, ok := users[account]; ok && validUsername(u.Username) {
		return "@" + u.Username
	}
	return account
}
