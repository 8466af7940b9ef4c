package email

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/internal/message"
)

// Channel is the envelope channel of mail.
const Channel = "email"

// Size limits of the envelope, so that it always fits a JetStream message
// (1 MiB by default) even after JSON escaping.
const (
	maxText     = 32 << 10 // Text: the new text of the mail
	maxBodyFull = 96 << 10 // metadata body_full: the whole body
	maxSubject  = 998      // a header line's limit
	maxMetaLen  = 2 << 10  // any other metadata value
	// maxAttachmentsMeta caps the JSON list of attachments in metadata
	// "attachments": up to 500 parts with 200-byte names would otherwise
	// make an envelope too big to publish, on every retry.
	maxAttachmentsMeta = 8 << 10
)

// Flags in the envelope's metadata "flags" (comma-separated), also the flag
// label of switchboard_email_flagged_total.
const (
	flagTruncated      = "truncated"       // the mail was over max_message_bytes
	flagMalformed      = "malformed"       // see metadata "problems"
	flagCharsetGuessed = "charset_guessed" // a charset label was wrong or unknown
	flagTextTruncated  = "text_truncated"  // the body was over max_text_bytes, or text, body_full or the attachment list was cut to fit
	flagUndecodable    = "undecodable"     // reading the mail failed; only its header was read
)

// origin says where a mail was read.
type origin struct {
	Account     string
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	// Size is the mail's full size on the server (RFC822.SIZE).
	Size int64
	// Arrived is the server's INTERNALDATE.
	Arrived time.Time
}

// sourceID is the mail's stable id on the email channel: its Message-ID, or
// a hash of its content when it has none. The same mail read again (after a
// UIDVALIDITY change, from another mailbox or another account) gets the same
// id, so the ingest stream's deduplication stores it once.
func (m *parsedMail) sourceID() string {
	if id := idFromMessageID(m.MessageID); id != "" {
		return id
	}
	return idWithoutMessageID(m.Header, m.rawBody)
}

// envelope turns a parsed mail into an ingest envelope. Text is the new text
// of the mail (without quoted replies and the signature); the whole body is
// kept in metadata body_full when it differs. now is the ingest time.
func (m *parsedMail) envelope(o origin, now time.Time) *message.Envelope {
	id := m.sourceID()
	thread, parent := threadOf(m, id)
	meta := map[string]string{
		"account":     o.Account,
		"mailbox":     o.Mailbox,
		"uid":         strconv.FormatUint(uint64(o.UID), 10),
		"uidvalidity": strconv.FormatUint(uint64(o.UIDValidity), 10),
	}
	if o.Size > 0 {
		meta["size"] = strconv.FormatInt(o.Size, 10)
	}
	if m.MessageID != "" {
		meta["message_id"] = capMeta(m.MessageID)
	}
	setAddrs(meta, "from", m.From)
	setAddrs(meta, "to", m.To)
	setAddrs(meta, "cc", m.Cc)
	if len(m.ReplyTo) > 0 && (len(m.From) == 0 || !strings.EqualFold(m.ReplyTo[0].Email, m.From[0].Email)) {
		setAddrs(meta, "reply_to", m.ReplyTo)
	}
	if id := m.Header.Get("List-Id"); id != "" {
		meta["list_id"] = capMeta(oneLine(id))
	}
	m.setAuthMeta(meta)

	var flags []string
	if m.Truncated {
		flags = append(flags, flagTruncated)
	}
	if len(m.Problems) > 0 {
		flags = append(flags, flagMalformed)
		meta["problems"] = capMeta(strings.Join(m.Problems, "; "))
	}
	if m.CharsetGuessed {
		flags = append(flags, flagCharsetGuessed)
	}
	if m.Undecodable != "" {
		flags = append(flags, flagUndecodable)
		problems := append([]string{m.Undecodable}, m.Problems...)
		meta["problems"] = capMeta(strings.Join(problems, "; "))
		if r := m.Header.Get("Received"); r != "" {
			meta["received"] = capMeta(oneLine(r))
		}
	}

	full := m.Body
	text := full
	textCut := m.BodyCut
	if full != "" {
		meta["text_source"] = "text/plain"
		if m.BodyFromHTML {
			meta["text_source"] = "text/html"
		}
		r := splitReply(full, maxText)
		if r.New != "" {
			text = r.New
		}
		textCut = textCut || r.Cut
		if r.Quoted {
			meta["quoted"] = "true"
		}
		if r.Signature != "" {
			meta["signature"] = capMeta(r.Signature)
		}
	}
	if text != full {
		var cut bool
		meta["body_full"], cut = capText(full, maxBodyFull)
		textCut = textCut || cut
	}
	text, cut := capText(text, maxText)
	textCut = textCut || cut
	switch {
	case m.Undecodable != "":
		text = fmt.Sprintf("(could not be decoded; the original is in mailbox %q, uid %d)", o.Mailbox, o.UID)
	case strings.TrimSpace(text) == "":
		text = placeholderText(m.Attachments)
	}
	if len(m.Attachments) > 0 {
		list, cut := attachmentList(m.Attachments)
		meta["attachments"] = list
		meta["attachment_count"] = strconv.Itoa(len(m.Attachments))
		textCut = textCut || cut
	}
	if textCut {
		flags = append(flags, flagTextTruncated)
	}
	if len(flags) > 0 {
		meta["flags"] = strings.Join(flags, ",")
	}

	created, dateOK := mailTime(m.Date, o.Arrived, now)
	if !dateOK && !m.Date.IsZero() {
		meta["date_header"] = capMeta(m.Header.Get("Date"))
	}

	return &message.Envelope{
		Version:    message.SchemaVersion,
		ID:         message.MakeID(Channel, id),
		Channel:    Channel,
		Kind:       message.KindEmail,
		SourceID:   id,
		ThreadID:   thread,
		ParentID:   parent,
		Author:     m.author(),
		Subject:    message.Cut(m.Subject, maxSubject),
		Text:       text,
		Lang:       m.Lang,
		CreatedAt:  created.UTC(),
		ReceivedAt: now.UTC(),
		Metadata:   meta,
	}
}

// mailTime is when a mail was written: its Date header when that is
// plausible (from 1990 on and at most 48h after now), else the server's
// arrival time (INTERNALDATE), else now. dateOK reports that the Date
// header was used.
func mailTime(date, arrived, now time.Time) (t time.Time, dateOK bool) {
	if !date.IsZero() && !date.Before(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) && !date.After(now.Add(48*time.Hour)) {
		return date, true
	}
	if !arrived.IsZero() {
		return arrived, false
	}
	return now, false
}

// author is the first From address, else Sender, else Reply-To. Its id is
// the lowercase address: the customer's identity on this channel.
func (m *parsedMail) author() message.Author {
	for _, list := range [][]address{m.From, m.Sender, m.ReplyTo} {
		if len(list) > 0 {
			a := list[0]
			return message.Author{ID: strings.ToLower(a.Email), Name: a.Name, Email: a.Email}
		}
	}
	return message.Author{}
}

// attachmentList renders atts as a JSON array of at most maxAttachmentsMeta
// bytes, leaving out the attachments after the first that does not fit; cut
// reports that some were left out (attachment_count has them all).
func attachmentList(atts []attachment) (list string, cut bool) {
	var b strings.Builder
	b.WriteByte('[')
	for i, a := range atts {
		item, _ := json.Marshal(a)
		if b.Len()+len(item)+2 > maxAttachmentsMeta {
			cut = true
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(item)
	}
	b.WriteByte(']')
	return b.String(), cut
}

// placeholderText stands in for a mail without any text, naming its
// attachments, so that the envelope always says something.
func placeholderText(atts []attachment) string {
	if len(atts) == 0 {
		return "(no text)"
	}
	names := make([]string, 0, len(atts))
	for _, a := range atts {
		n := a.Name
		if n == "" {
			n = a.Type
		}
		names = append(names, n)
	}
	s, _ := capText("(no text; attachments: "+strings.Join(names, ", ")+")", maxMetaLen)
	return s
}

func setAddrs(meta map[string]string, key string, list []address) {
	if len(list) == 0 {
		return
	}
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
	}
	meta[key] = capMeta(strings.Join(parts, ", "))
}

// capText cuts s to at most n bytes on a character boundary, marking the
// cut with "…"; cut reports whether it did.
func capText(s string, n int) (out string, cut bool) {
	if len(s) <= n {
		return s, false
	}
	return message.Cut(s, n-len("…")) + "…", true
}

func capMeta(s string) string {
	out, _ := capText(s, maxMetaLen)
	return out
}
