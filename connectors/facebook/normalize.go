package facebook

import (
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/message"
)

// Channel is the envelope channel of everything this connector produces.
const Channel = "facebook"

// facebookWeb is where relative Facebook links (conversation links) point.
const facebookWeb = "https://www.facebook.com"

// postEnvelope normalizes a post on the page's feed, read from page pageID.
func postEnvelope(pageID string, p postNode) *message.Envelope {
	text := strings.TrimSpace(p.Message)
	if text == "" {
		text = strings.TrimSpace(p.Story)
	}
	meta := map[string]string{"page_id": pageID, "object": "visitor_post"}
	if p.From != nil && p.From.ID == pageID {
		meta["object"] = "page_post"
	}
	if p.Attachments != nil && len(p.Attachments.Data) > 0 {
		text = withAttachment(meta, text, p.Attachments.Data[0])
	}
	env := envelope(message.KindPost, p.ID, p.From, text, p.CreatedTime.Time, meta)
	env.ThreadID, env.URL = p.ID, p.PermalinkURL
	return env
}

// commentEnvelope normalizes a comment or reply on post postID. A comment
// whose parent is another comment is a reply; its parent_id is that comment.
func commentEnvelope(pageID, postID string, c commentNode) *message.Envelope {
	kind, parent := message.KindComment, postID
	if c.Parent != nil && c.Parent.ID != "" && c.Parent.ID != postID {
		kind, parent = message.KindReply, c.Parent.ID
	}
	meta := map[string]string{"page_id": pageID, "post_id": postID, "object": string(kind)}
	if c.IsHidden {
		meta["hidden"] = "true" // the page hid it; it may still need an answer
	}
	text := strings.TrimSpace(c.Message)
	if c.Attachment != nil {
		text = withAttachment(meta, text, *c.Attachment)
	}
	env := envelope(kind, c.ID, c.From, text, c.CreatedTime.Time, meta)
	env.ThreadID, env.ParentID, env.URL = postID, parent, c.PermalinkURL
	return env
}

// messageEnvelope normalizes a Messenger message of conversation conv.
func messageEnvelope(pageID string, conv conversationNode, m messageNode) *message.Envelope {
	meta := map[string]string{"page_id": pageID, "conversation_id": conv.ID, "object": "message"}
	text := strings.TrimSpace(m.Message)
	if m.Attachments != nil && len(m.Attachments.Data) > 0 {
		a := m.Attachments.Data[0]
		addAttachment(meta, a.MimeType, a.FileURL)
		if a.Name != "" {
			meta["attachment_name"] = a.Name
		}
		if text == "" {
			text = placeholder(a.MimeType)
		}
	}
	if text == "" && m.Sticker != "" {
		meta["sticker_url"] = m.Sticker
		text = placeholder("sticker")
	}
	link := conv.Link
	if strings.HasPrefix(link, "/") {
		link = facebookWeb + link
	}
	env := envelope(message.KindMessage, m.ID, m.From, text, m.CreatedTime.Time, meta)
	env.ThreadID, env.URL = conv.ID, link
	return env
}

// envelope is the envelope of the facebook item id of kind, written by
// from at created, with its text (the no-text placeholder when empty) and
// meta; the caller adds the thread, parent and URL.
func envelope(kind message.Kind, id string, from *profile, text string, created time.Time, meta map[string]string) *message.Envelope {
	if text == "" {
		text = placeholder("")
	}
	return &message.Envelope{
		Version:   message.SchemaVersion,
		ID:        message.MakeID(Channel, id),
		Channel:   Channel,
		Kind:      kind,
		SourceID:  id,
		Author:    author(from),
		Text:      text,
		CreatedAt: created,
		Metadata:  meta,
	}
}

func author(p *profile) message.Author {
	if p == nil {
		return message.Author{}
	}
	return message.Author{ID: p.ID, Name: p.Name}
}

func addAttachment(meta map[string]string, typ, url string) {
	if typ != "" {
		meta["attachment_type"] = typ
	}
	if url != "" {
		meta["attachment_url"] = url
	}
}

// withAttachment records a post's or comment's attachment in meta and
// returns text, or the attachment's placeholder when text is empty.
func withAttachment(meta map[string]string, text string, a attachment) string {
	typ := firstNonEmpty(a.MediaType, a.Type)
	addAttachment(meta, typ, a.URL)
	if text == "" {
		return placeholder(typ)
	}
	return text
}

// placeholder is the text of an item that has none (a photo, a sticker), so
// that it still routes and shows what it was.
func placeholder(typ string) string {
	typ = strings.ToLower(strings.TrimSpace(typ))
	switch {
	case typ == "":
		return "[no text]"
	case strings.HasPrefix(typ, "image/"), strings.Contains(typ, "photo"):
		return "[photo]"
	case strings.HasPrefix(typ, "video/"), strings.Contains(typ, "video"):
		return "[video]"
	case strings.HasPrefix(typ, "audio/"):
		return "[audio]"
	case strings.Contains(typ, "sticker"):
		return "[sticker]"
	case strings.Contains(typ, "gif"), strings.Contains(typ, "animated"):
		return "[gif]"
	}
	return "[attachment]"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
