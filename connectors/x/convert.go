package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/message"
)

// Channel is the envelope channel of X items.
const Channel = "x"

// filter says which items are not customer messages.
type filter struct {
	// userID is the account's own id: its posts and DMs are skipped.
	userID          string
	includeRetweets bool
	includeOwn      bool
	// responses turns the account's sent DMs into responses.
	responses bool
}

// converted is what one page yields.
type converted struct {
	// envs are the items to ingest, oldest first.
	envs []*message.Envelope
	// responses are the account's own answers on the page, oldest first.
	responses []*message.Response
	// newest and oldest are the extreme valid ids on the page (including
	// skipped items and the page's meta), "" when there are none.
	newest, oldest string
	// skipped counts items not ingested, by reason.
	skipped map[string]int
	// bad describes each malformed item, for the log.
	bad []string
	// reached is set for DM pages that got to the checkpointed event.
	reached bool
}

func (c *converted) skip(reason string) {
	if c.skipped == nil {
		c.skipped = map[string]int{}
	}
	c.skipped[reason]++
}

// malformed counts an item skipped as malformed and describes it (format
// and args, as fmt.Sprintf) for the log.
func (c *converted) malformed(format string, args ...any) {
	c.skip("malformed")
	c.bad = append(c.bad, fmt.Sprintf(format, args...))
}

// post decodes post i of a page, raw, and marks its id seen. A malformed
// post (not JSON, or without a valid id) is counted and described, and
// post reports false for it.
func (c *converted) post(i int, raw json.RawMessage) (Tweet, bool) {
	var t Tweet
	if err := json.Unmarshal(raw, &t); err != nil {
		c.see(rawID(raw))
		c.malformed("data[%d] (id %q): %v", i, rawID(raw), err)
		return Tweet{}, false
	}
	if !validID(t.ID) {
		c.malformed("data[%d]: invalid id %q", i, message.Clip(t.ID, 40))
		return Tweet{}, false
	}
	c.see(t.ID)
	return t, true
}

// posts yields the posts of page that decode, with their index in data,
// after marking the page's newest_id and oldest_id seen. Malformed posts
// are counted and described (see post) and not yielded.
func (c *converted) posts(page *TweetPage) iter.Seq2[int, Tweet] {
	return func(yield func(int, Tweet) bool) {
		c.see(page.Meta.NewestID)
		c.see(page.Meta.OldestID)
		for i, raw := range page.Data {
			if t, ok := c.post(i, raw); ok && !yield(i, t) {
				return
			}
		}
	}
}

// addEnvelope adds env, the envelope of item i (id), or, when err says
// why the item has none, counts and describes the item as malformed.
func (c *converted) addEnvelope(i int, id string, env *message.Envelope, err error) {
	if err != nil {
		c.malformed("data[%d] (id %s): %v", i, id, err)
		return
	}
	c.envs = append(c.envs, env)
}

func (c *converted) see(id string) {
	if !validID(id) {
		return
	}
	if c.newest == "" || compareIDs(id, c.newest) > 0 {
		c.newest = id
	}
	if c.oldest == "" || compareIDs(id, c.oldest) < 0 {
		c.oldest = id
	}
}

// decodePage decodes the body of a 200 answer of endpoint into a P. A
// body that is not a JSON object of the expected shape is a *DecodeError;
// malformed items inside data are left for the converter to skip one by
// one.
func decodePage[P any](endpoint string, body []byte) (*P, error) {
	if err := expectObject(body); err != nil {
		return nil, &DecodeError{Endpoint: endpoint, Err: err}
	}
	var p P
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, &DecodeError{Endpoint: endpoint, Err: err}
	}
	return &p, nil
}

// expectObject rejects a body that is not a JSON object (empty, null, an
// HTML error page sent with status 200).
func expectObject(body []byte) error {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return errors.New("empty body")
	}
	if b[0] != '{' {
		return fmt.Errorf("body is not a JSON object (starts with %q)", message.Clip(string(b), 20))
	}
	return nil
}

func usersByID(inc Includes) map[string]User {
	m := make(map[string]User, len(inc.Users))
	for _, u := range inc.Users {
		m[u.ID] = u
	}
	return m
}

// tweets turns a page of posts (newest first) into envelopes, skipping the
// account's own posts and retweets as f says and malformed posts always.
func (f filter) tweets(page *TweetPage) converted {
	var out converted
	users := usersByID(page.Includes)
	for i, t := range out.posts(page) {
		switch {
		case !f.includeOwn && f.userID != "" && t.AuthorID == f.userID:
			out.skip("own")
			continue
		case !f.includeRetweets && isRetweet(t):
			out.skip("retweet")
			continue
		}
		env, err := tweetEnvelope(t, users, f.userID)
		out.addEnvelope(i, t.ID, env, err)
	}
	reverse(out.envs)
	return out
}

// dms turns a page of DM events (newest first) into envelopes, stopping at
// the first event not newer than lastID (the checkpoint; "" for none).
func (f filter) dms(page *DMPage, lastID string) converted {
	var out converted
	users := usersByID(page.Includes)
	for i, raw := range page.Data {
		var ev DMEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			id := rawID(raw)
			if lastID != "" && validID(id) && compareIDs(id, lastID) <= 0 {
				out.reached = true
				break
			}
			out.see(id)
			out.malformed("data[%d] (id %q): %v", i, id, err)
			continue
		}
		if !validID(ev.ID) {
			out.malformed("data[%d]: invalid id %q", i, message.Clip(ev.ID, 40))
			continue
		}
		if lastID != "" && compareIDs(ev.ID, lastID) <= 0 {
			out.reached = true
			break
		}
		out.see(ev.ID)
		if ev.EventType != "" && ev.EventType != "MessageCreate" {
			out.skip("event_type")
			continue
		}
		if f.userID != "" && ev.SenderID == f.userID {
			if f.responses {
				if r, err := dmResponse(ev, users, f.userID); err != nil {
					out.bad = append(out.bad, fmt.Sprintf("data[%d] (id %s): %v", i, ev.ID, err))
				} else {
					out.responses = append(out.responses, r)
				}
			}
			if !f.includeOwn {
				out.skip("own")
				continue
			}
		}
		env, err := dmEnvelope(ev, users, f.userID)
		out.addEnvelope(i, ev.ID, env, err)
	}
	reverse(out.envs)
	reverse(out.responses)
	return out
}

func isRetweet(t Tweet) bool {
	for _, r := range t.ReferencedTweets {
		if r.Type == "retweeted" {
			return true
		}
	}
	return false
}

// tweetEnvelope normalizes one post read for account (its user id). The
// envelope does not depend on which stream read the post, so a post that is
// both a mention and a search hit is the same envelope in both.
func tweetEnvelope(t Tweet, users map[string]User, account string) (*message.Envelope, error) {
	text := t.Text
	if t.NoteTweet != nil && strings.TrimSpace(t.NoteTweet.Text) != "" {
		text = t.NoteTweet.Text // the full text of a long post
	}
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("post has no text")
	}
	author := authorOf(t.AuthorID, users)
	link := "https://x.com/i/web/status/" + t.ID
	if author.Handle != "" {
		link = "https://x.com/" + author.Handle + "/status/" + t.ID
	}
	thread := t.ID
	if validID(t.ConversationID) {
		thread = t.ConversationID
	}
	meta := map[string]string{"account_id": account}
	var replyTo, quoted string
	for _, r := range t.ReferencedTweets {
		if !validID(r.ID) {
			continue
		}
		switch r.Type {
		case "replied_to":
			if replyTo == "" {
				replyTo = r.ID
			}
		case "quoted":
			if quoted == "" {
				quoted = r.ID
			}
		}
	}
	parent := replyTo
	if parent == "" {
		parent = quoted
	}
	if quoted != "" {
		meta["quoted_id"] = quoted
	}
	if validID(t.InReplyToUserID) {
		meta["in_reply_to_user_id"] = t.InReplyToUserID
	}
	if replyTo != "" {
		meta["reply_to_id"] = replyTo
	}
	if h := t.EditHistoryTweetIDs; len(h) > 1 && validID(h[0]) && h[0] != t.ID {
		meta["edit_of"] = h[0]
	}
	return &message.Envelope{
		Version:   message.SchemaVersion,
		ID:        message.MakeID(Channel, t.ID),
		Channel:   Channel,
		Kind:      message.KindMention,
		SourceID:  t.ID,
		ThreadID:  thread,
		ParentID:  parent,
		URL:       link,
		Author:    author,
		Text:      text,
		Lang:      normalizeLang(t.Lang),
		CreatedAt: createdAt(t.CreatedAt, t.ID),
		Metadata:  meta,
	}, nil
}

// dmEnvelope normalizes one DM event received by account (its user id).
func dmEnvelope(ev DMEvent, users map[string]User, account string) (*message.Envelope, error) {
	text := ev.Text
	if strings.TrimSpace(text) == "" {
		if ev.Attachments == nil || len(ev.Attachments.MediaKeys) == 0 {
			return nil, errors.New("DM has no text")
		}
		text = "[attachment]"
	}
	author := authorOf(ev.SenderID, users)
	meta := map[string]string{"account_id": account}
	env := &message.Envelope{
		Version:   message.SchemaVersion,
		ID:        message.MakeID(Channel, ev.ID),
		Channel:   Channel,
		Kind:      message.KindDM,
		SourceID:  ev.ID,
		Author:    author,
		Text:      text,
		CreatedAt: createdAt(ev.CreatedAt, ev.ID),
	}
	if validConversationID(ev.DMConversationID) {
		env.ThreadID = ev.DMConversationID
		env.URL = "https://x.com/messages/" + ev.DMConversationID
		meta["dm_conversation_id"] = ev.DMConversationID
	}
	for _, r := range ev.ReferencedTweets {
		if validID(r.ID) {
			meta["referenced_post_id"] = r.ID
			break
		}
	}
	if ev.Attachments != nil && len(ev.Attachments.MediaKeys) > 0 {
		meta["attachments"] = strconv.Itoa(len(ev.Attachments.MediaKeys))
	}
	env.Metadata = meta
	return env, nil
}

// authorOf is the author of an item written by the user id: the id when
// it is valid, and the name and handle when the page expanded the user.
func authorOf(id string, users map[string]User) message.Author {
	var a message.Author
	if validID(id) {
		a.ID = id
	}
	if u, ok := users[id]; ok {
		a.Name = u.Name
		if validUsername(u.Username) {
			a.Handle = u.Username
		}
	}
	return a
}

// twitterEpoch is the Snowflake epoch in Unix milliseconds.
const twitterEpoch = 1288834974657

// createdAt parses created_at, falling back to the time in the Snowflake id.
func createdAt(s, id string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n < 1<<22 {
		return time.Time{}
	}
	return time.UnixMilli(int64(n>>22) + twitterEpoch).UTC()
}

// normalizeLang drops X's pseudo language codes ("und" undetermined, "zxx"
// no text, "qme" media only, "qht" hashtags only and the other q* codes).
func normalizeLang(l string) string {
	l = strings.TrimSpace(l)
	if l == "" || l == "und" || l == "zxx" || len(l) == 3 && l[0] == 'q' || len(l) > 35 {
		return ""
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return ""
		}
	}
	return l
}

// validID reports whether s is an X id: 1-19 digits.
func validID(s string) bool { return message.Digits(s, 19) }

// validConversationID accepts "<id>-<id>" (one-to-one) or "<id>" (group).
func validConversationID(s string) bool {
	a, b, two := strings.Cut(s, "-")
	return validID(a) && (!two || validID(b))
}

func validUsername(s string) bool {
	if s == "" || len(s) > 15 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// compareIDs orders two valid ids numerically.
func compareIDs(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// maxID returns the greater of two ids, either of which may be "".
func maxID(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case compareIDs(a, b) >= 0:
		return a
	}
	return b
}

// rawID digs the id out of an item that did not decode, for the log.
func rawID(raw json.RawMessage) string {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(v.ID, &s) == nil {
		return message.Clip(s, 40)
	}
	return message.Clip(string(v.ID), 40)
}

func reverse[T any](s []T) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
