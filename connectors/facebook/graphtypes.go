package facebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/message"
)

// graphTimeLayout is how the Graph API writes times: "2026-11-20T10:15:30+0000".
const graphTimeLayout = "2006-01-02T15:04:05-0700"

// graphTime is a Graph API timestamp.
type graphTime struct{ time.Time }

// UnmarshalJSON accepts the Graph API layout, RFC 3339 (date_format=c) and a
// unix timestamp (date_format=U).
func (t *graphTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("time %s: not a string or number", message.Clip(string(b), 40))
		}
		secs, err := n.Int64()
		if err != nil || secs < 0 || secs > 1<<40 {
			return fmt.Errorf("time %s: not a unix timestamp", message.Clip(n.String(), 40))
		}
		t.Time = time.Unix(secs, 0).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for _, layout := range []string{graphTimeLayout, time.RFC3339} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("time %q: want the Graph API format like 2026-11-20T10:15:30+0000", message.Clip(s, 40))
}

// profile is a "from" object: a person or a page.
type profile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// pagingInfo is the "paging" object of an edge.
type pagingInfo struct {
	Cursors *struct {
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"cursors"`
	Previous string `json:"previous"`
	Next     string `json:"next"`
}

// attachment is a comment's "attachment" or one of a post's "attachments".
type attachment struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	URL       string `json:"url"`
}

// objectRef is a reference like "parent": {"id": "..."}.
type objectRef struct {
	ID string `json:"id"`
}

// edge is one page of a list: {"data": [...], "paging": {...}} and, when
// asked for, "summary". The items stay undecoded so that one bad item is
// skipped alone.
type edge struct {
	Data    []json.RawMessage `json:"data"`
	Paging  *pagingInfo       `json:"paging"`
	Summary *edgeSummary      `json:"summary"`
}

// edgeSummary is a comments edge's summary (summary=true): the order the
// comments came in and how many there are ("total_count can be greater than
// or equal to the actual number of comments returned due to comment privacy
// or deletion").
type edgeSummary struct {
	Order      string `json:"order"`
	TotalCount int    `json:"total_count"`
}

// next returns the next page's URL, or "" at the end: only the absence of
// paging.next ends a list (a short or empty page does not).
func (e *edge) next() string {
	if e == nil || e.Paging == nil {
		return ""
	}
	return e.Paging.Next
}

// after returns the cursor of the next page, or "" when there is none.
func (e *edge) after() string {
	if e == nil || e.Paging == nil || e.Paging.Cursors == nil {
		return ""
	}
	return e.Paging.Cursors.After
}

// postNode is one post of the page feed, with its newest comments expanded.
type postNode struct {
	ID           string    `json:"id"`
	CreatedTime  graphTime `json:"created_time"`
	UpdatedTime  graphTime `json:"updated_time"`
	Message      string    `json:"message"`
	Story        string    `json:"story"`
	PermalinkURL string    `json:"permalink_url"`
	IsPublished  *bool     `json:"is_published"`
	From         *profile  `json:"from"`
	Attachments  *struct {
		Data []attachment `json:"data"`
	} `json:"attachments"`
	Comments *edge `json:"comments"`
}

// commentNode is one comment or reply (filter=stream lists both; a reply
// names the comment it answers in "parent").
type commentNode struct {
	ID           string      `json:"id"`
	CreatedTime  graphTime   `json:"created_time"`
	Message      string      `json:"message"`
	PermalinkURL string      `json:"permalink_url"`
	From         *profile    `json:"from"`
	Parent       *objectRef  `json:"parent"`
	Attachment   *attachment `json:"attachment"`
	// IsHidden: the page hid the comment (from everyone but its author and
	// the author's friends); it is still read.
	IsHidden bool `json:"is_hidden"`
}

// conversationNode is one Messenger conversation with its newest messages.
type conversationNode struct {
	ID          string    `json:"id"`
	UpdatedTime graphTime `json:"updated_time"`
	Link        string    `json:"link"`
	Messages    *edge     `json:"messages"`
}

// messageNode is one Messenger message.
type messageNode struct {
	ID          string    `json:"id"`
	CreatedTime graphTime `json:"created_time"`
	Message     string    `json:"message"`
	From        *profile  `json:"from"`
	Sticker     string    `json:"sticker"`
	Attachments *struct {
		Data []struct {
			MimeType string `json:"mime_type"`
			Name     string `json:"name"`
			FileURL  string `json:"file_url"`
		} `json:"data"`
	} `json:"attachments"`
}

// maxBody caps a Graph response the connector reads.
const maxBody = 16 << 20

// parseEdge decodes a list response ({"data": [...], "paging": {...}}).
func parseEdge(body []byte) (*edge, error) {
	var e edge
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("malformed list response: %v", err)
	}
	if e.Data == nil {
		return nil, errors.New(`malformed list response: no "data" array`)
	}
	return &e, nil
}

// decodePost decodes and checks one feed item.
func decodePost(raw json.RawMessage) (postNode, error) {
	p, err := decodeNode(raw, "post", "created_time", func(p postNode) (string, time.Time) { return p.ID, p.CreatedTime.Time })
	if err == nil && p.UpdatedTime.Before(p.CreatedTime.Time) {
		p.UpdatedTime = p.CreatedTime
	}
	return p, err
}

// decodeComment decodes and checks one comment.
func decodeComment(raw json.RawMessage) (commentNode, error) {
	return decodeNode(raw, "comment", "created_time", func(c commentNode) (string, time.Time) { return c.ID, c.CreatedTime.Time })
}

// decodeConversation decodes and checks one conversation.
func decodeConversation(raw json.RawMessage) (conversationNode, error) {
	return decodeNode(raw, "conversation", "updated_time", func(c conversationNode) (string, time.Time) { return c.ID, c.UpdatedTime.Time })
}

// decodeMessage decodes and checks one Messenger message.
func decodeMessage(raw json.RawMessage) (messageNode, error) {
	return decodeNode(raw, "message", "created_time", func(m messageNode) (string, time.Time) { return m.ID, m.CreatedTime.Time })
}

// decodeNode decodes one Graph object of a kind ("post", "comment", ...)
// and checks it: a valid id, and a time in its field timeField. stamp
// returns the object's id and that time.
func decodeNode[T any](raw json.RawMessage, kind, timeField string, stamp func(T) (id string, at time.Time)) (T, error) {
	var n T
	if err := json.Unmarshal(raw, &n); err != nil {
		return n, fmt.Errorf("malformed %s %s: %v", kind, rawID(raw), err)
	}
	id, at := stamp(n)
	if err := checkID(id); err != nil {
		return n, fmt.Errorf("malformed %s: %v", kind, err)
	}
	if at.IsZero() {
		return n, fmt.Errorf("malformed %s %s: no %s", kind, id, timeField)
	}
	return n, nil
}

// checkID accepts Graph object ids: printable, no spaces, bounded.
func checkID(id string) error {
	if id == "" {
		return errors.New("no id")
	}
	if len(id) > 200 || !utf8.ValidString(id) || strings.ContainsAny(id, " \t\r\n/?#") {
		return fmt.Errorf("unusable id %q", message.Clip(id, 40))
	}
	return nil
}

// rawID digs the id out of an item that did not decode, for the error message.
func rawID(raw json.RawMessage) string {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil || len(v.ID) == 0 {
		return "(no id)"
	}
	return message.Clip(string(v.ID), 60)
}
