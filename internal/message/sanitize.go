package message

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsMultiLineMetadata reports whether metadata key holds text of several
// lines (a mail's whole body, its signature), which Sanitize keeps; every
// other metadata value is made one line.
func IsMultiLineMetadata(key string) bool { return key == "body_full" || key == "signature" }

// Sanitize makes an envelope from outside safe to route, store and show,
// in one place (connectors.Handle.Publish calls it for every envelope):
//
//   - invalid UTF-8 becomes U+FFFD;
//   - one-line fields (ids, author, subject, language, metadata keys and
//     values) lose control characters, bidirectional formatting (U+202E
//     and friends) and line breaks, which become spaces;
//   - text fields (text, and the metadata listed by IsMultiLineMetadata)
//     keep newlines and tabs but lose the other control characters and the
//     bidirectional overrides and isolates;
//   - url and metadata *_url values are kept only when they are absolute
//     http or https URLs;
//   - attachment names (metadata attachment_name, and the names in the
//     JSON list metadata attachments) are display names only: no
//     directories, no "..".
//
// It keeps ID equal to MakeID(Channel, SourceID) when it was.
func (e *Envelope) Sanitize() {
	derived := e.ID == MakeID(e.Channel, e.SourceID)
	e.Channel = OneLine(e.Channel)
	e.SourceID = OneLine(e.SourceID)
	if derived {
		e.ID = MakeID(e.Channel, e.SourceID)
	} else {
		e.ID = OneLine(e.ID)
	}
	e.Kind = Kind(OneLine(string(e.Kind)))
	e.ThreadID = OneLine(e.ThreadID)
	e.ParentID = OneLine(e.ParentID)
	e.URL = WebURL(e.URL)
	e.Author = Author{ID: OneLine(e.Author.ID), Name: OneLine(e.Author.Name), Handle: OneLine(e.Author.Handle), Email: OneLine(e.Author.Email)}
	e.Subject = OneLine(e.Subject)
	e.Text = Text(e.Text)
	e.Lang = OneLine(e.Lang)
	if e.Metadata != nil {
		meta := make(map[string]string, len(e.Metadata))
		for k, v := range e.Metadata {
			k = OneLine(k)
			switch {
			case IsMultiLineMetadata(k):
				v = Text(v)
			case k == "url" || strings.HasSuffix(k, "_url"):
				if v = WebURL(v); v == "" {
					continue
				}
			case k == "attachment_name":
				v = DisplayName(v)
			case k == "attachments":
				v = attachmentList(v)
			default:
				v = OneLine(v)
			}
			meta[k] = v
		}
		e.Metadata = meta
	}
}

// formatting reports whether r is invisible bidirectional formatting that
// can make text display in another order than it is stored: the embeddings,
// overrides and isolates (U+202A–U+202E, U+2066–U+2069).
func formatting(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// OneLine returns s as one line: valid UTF-8, without control characters,
// line or paragraph separators (each becomes a space) or bidirectional
// formatting (dropped, with the marks U+200E and U+200F).
func OneLine(s string) string {
	if clean(s, false) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085':
			return ' '
		case unicode.IsControl(r) || formatting(r) || r == '\u200e' || r == '\u200f':
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// Text returns s as text: valid UTF-8, newlines, carriage returns and tabs
// kept, other control characters and bidirectional overrides and isolates
// dropped.
func Text(s string) string {
	if clean(s, true) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r == '\r' || !unicode.IsControl(r) && !formatting(r) {
			return r
		}
		return -1
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// clean reports whether s needs no change (the common case, without
// allocating).
func clean(s string, text bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if !text || c != '\n' && c != '\t' && c != '\r' {
					return false
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unicode.IsControl(r) || formatting(r) ||
			!text && (r == '\u2028' || r == '\u2029' || r == '\u200e' || r == '\u200f') {
			return false
		}
		i += size
	}
	return true
}

// WebURL returns raw when it is an absolute http or https URL without
// control characters or spaces, and "" otherwise (a javascript: or data:
// URL, a relative one).
func WebURL(raw string) string {
	if raw == "" || OneLine(raw) != raw || strings.ContainsAny(raw, " \\") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https") {
		return ""
	}
	return raw
}

// DisplayName returns a file name fit to show: one line, its last path
// element only (no directories, no ".."), "attachment" when nothing is left.
func DisplayName(name string) string {
	name = OneLine(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.Trim(name, ".") == "" {
		return "attachment"
	}
	return name
}

// attachmentList sanitizes the JSON list of attachments a channel puts in
// metadata "attachments" ([{"name": …, "type": …, "size": …}]): each name
// a display name, every other string one line. A value that is not such a
// list is made one line.
func attachmentList(v string) string {
	var list []map[string]json.RawMessage
	if json.Unmarshal([]byte(v), &list) != nil {
		return OneLine(v)
	}
	changed := false
	for _, a := range list {
		for k, raw := range a {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				continue // a number, a flag
			}
			c := OneLine(s)
			if k == "name" {
				c = DisplayName(s)
			}
			if c != s {
				a[k], _ = json.Marshal(c)
				changed = true
			}
		}
	}
	if !changed {
		return v
	}
	out, err := json.Marshal(list)
	if err != nil {
		return OneLine(v)
	}
	return string(out)
}
