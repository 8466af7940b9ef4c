package email

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"

	"github.com/switchboard/switchboard/internal/message"
)

// Limits of the MIME walk, so that a hostile mail costs bounded work.
const (
	maxDepth    = 24  // nested multiparts
	maxParts    = 500 // MIME entities in one mail
	maxProblems = 12  // problem descriptions kept
	maxNameLen  = 200 // attachment name bytes
	// defaultMaxText caps the readable text of one mail (the body with
	// quotes and signature) unless the account sets max_text_bytes;
	// minMaxText is the smallest cap an account may set.
	defaultMaxText = 128 << 10
	minMaxText     = 4 << 10
	// textBudgetParts is how many times maxText the text of all the parts
	// of one mail may add up to: enough for the plain and the HTML version
	// of a multipart/alternative, bounded however many parts there are.
	textBudgetParts = 4
)

// readPolicy is what an account decides about reading each of its mails.
type readPolicy struct {
	// maxText caps the readable text of a mail in bytes (defaultMaxText
	// when 0): every text transformation stops there.
	maxText int
	// trusted are the authserv-ids whose Authentication-Results headers
	// are believed.
	trusted authservIDs
}

// textLimit is the cap on a mail's readable text.
func (p readPolicy) textLimit() int {
	if p.maxText <= 0 {
		return defaultMaxText
	}
	return p.maxText
}

// attachment describes a non-text part of a mail; its content is not kept.
type attachment struct {
	Name   string `json:"name,omitempty"`
	Type   string `json:"type"`
	Size   int    `json:"size"`
	Inline bool   `json:"inline,omitempty"`
}

// parsedMail is one mail read from its raw bytes: the headers Switchboard
// uses, the readable body, attachment metadata, and what was wrong with it.
// Parsing never fails: whatever could not be read is described in Problems.
type parsedMail struct {
	// Header is the top-level header.
	Header textproto.Header
	// MessageID is the Message-ID without angle brackets ("" when missing).
	MessageID string
	// InReplyTo and References are the message ids the mail refers to.
	InReplyTo, References []string
	// From, Sender, ReplyTo, To and Cc are the parsed address headers.
	From, Sender, ReplyTo, To, Cc []address
	// Subject is the decoded subject on one line.
	Subject string
	// Date is the Date header; zero when missing or unreadable.
	Date time.Time
	// ContentType is the top-level media type, lowercase.
	ContentType string
	// Lang is the first Content-Language tag, if any.
	Lang string
	// Body is the readable text of the mail (text/plain preferred, else
	// HTML turned into text), with quotes and signatures still in it.
	Body string
	// BodyFromHTML reports that Body was made from HTML.
	BodyFromHTML bool
	// BodyCut reports that the readable text was longer than the cap and
	// Body holds its start.
	BodyCut bool
	// Auth is the receiving server's verdict on the sender, from trusted
	// Authentication-Results headers.
	Auth authVerdict
	// FromFields is the number of From header fields (DMARC is about a
	// mail with exactly one).
	FromFields int
	// Attachments lists the non-text parts.
	Attachments []attachment
	// CharsetGuessed reports that a text's charset label could not be
	// trusted and its bytes were decoded best-effort.
	CharsetGuessed bool
	// Truncated reports that the raw mail was cut at the size limit.
	Truncated bool
	// Problems describes what was malformed (empty for a clean mail).
	Problems []string
	// Undecodable says why only the header of the mail was read ("" when
	// it was read whole).
	Undecodable string

	// rawBody is the undecoded body, for the fallback id of a mail without
	// a Message-ID.
	rawBody []byte
}

// parseMail reads a raw RFC 5322 mail. truncated tells that raw was cut at
// the size limit, so that an unfinished MIME structure is expected rather
// than reported as malformed. The readable text is capped by p while it is
// produced, so the work and memory of one mail are bounded by its size and
// the cap, whatever its structure.
func parseMail(raw []byte, truncated bool, p readPolicy) *parsedMail {
	m := &parsedMail{Truncated: truncated}
	h, body, malformed := splitHeader(raw)
	if malformed {
		m.problem("malformed header lines (the header was read up to the first line that is not a field)")
	}
	m.readHeader(h, body, p)

	limit := p.textLimit()
	w := &mimeWalker{m: m, maxText: limit, budget: textBudgetParts * limit}
	c := w.entity(h, body, "text/plain", 0)
	m.Body, m.BodyFromHTML, m.BodyCut = c.text, c.html && c.text != "", c.cut
	return m
}

// readHeader fills in what the mail's top-level header h says; body is the
// raw body after it.
func (m *parsedMail) readHeader(h textproto.Header, body []byte, p readPolicy) {
	m.Header, m.rawBody = h, body
	if h.Len() == 0 {
		m.problem("no header")
	}
	if ids := msgIDs(h.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = msgIDs(h.Get("In-Reply-To"))
	m.References = msgIDs(h.Get("References"))
	m.From = parseAddresses(h.Get("From"))
	m.Sender = parseAddresses(h.Get("Sender"))
	m.ReplyTo = parseAddresses(h.Get("Reply-To"))
	m.To = parseAddresses(strings.Join(h.Values("To"), ", "))
	m.Cc = parseAddresses(strings.Join(h.Values("Cc"), ", "))
	m.Subject = decodeHeaderText(h.Get("Subject"))
	if d := h.Get("Date"); d != "" {
		if t, ok := parseDate(d); ok {
			m.Date = t
		} else {
			m.problem("unreadable Date " + quote(d))
		}
	}
	if lang := contentLanguage(h.Get("Content-Language")); lang != "" {
		m.Lang = lang
	}
	m.ContentType, _ = mediaType(h.Get("Content-Type"))
	m.FromFields = len(h.Values("From"))
	m.Auth = p.trusted.verdict(h)
}

// problem records what was malformed, once each, keeping the first
// maxProblems.
func (m *parsedMail) problem(s string) {
	if len(m.Problems) < maxProblems && !slices.Contains(m.Problems, s) {
		m.Problems = append(m.Problems, s)
	}
}

// content is the readable text of one MIME entity.
type content struct {
	text string
	// html reports that the text was made from HTML.
	html bool
	// cut reports that text was lost to the cap.
	cut bool
}

// mimeWalker walks the MIME tree of one mail.
type mimeWalker struct {
	m     *parsedMail
	parts int
	// maxText caps the text of the mail and of each part; budget is what
	// the parts read so far left of the text all parts may make together.
	maxText int
	budget  int
}

// newSink returns the sink for the next text part: at most maxText, and
// at most what is left of the budget.
func (w *mimeWalker) newSink() *textSink {
	return newTextSink(min(w.maxText, w.budget))
}

// spent charges the text of a part to the budget.
func (w *mimeWalker) spent(s *textSink) {
	w.budget = max(w.budget-s.len(), 0)
}

// entity returns the readable text of the entity with header h and raw body,
// recording attachments and problems on the mail. defaultType applies when
// the entity has no Content-Type (text/plain, or message/rfc822 in a digest).
func (w *mimeWalker) entity(h textproto.Header, body []byte, defaultType string, depth int) content {
	w.parts++
	mt, params := mediaType(h.Get("Content-Type"))
	switch {
	case mt == "":
		mt = defaultType
	case !validMediaType(mt):
		w.m.problem("bad Content-Type " + quote(h.Get("Content-Type")) + "; read as text/plain")
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxDepth {
			w.m.problem(fmt.Sprintf("MIME parts nested deeper than %d; the inner ones ignored", maxDepth))
			return content{}
		}
		parts, closed, found := splitMultipart(body, params["boundary"])
		if found {
			if !closed && !w.m.Truncated {
				w.m.problem(mt + " ends without its closing boundary")
			}
			return w.multipart(mt, params, parts, depth)
		}
		w.m.problem(mt + " without a boundary line; its body read as text")
		mt, params = "text/plain", map[string]string{}
	}
	return w.leaf(h, body, mt, params)
}

// multipart combines the parts of a multipart entity.
func (w *mimeWalker) multipart(mt string, params map[string]string, raw [][]byte, depth int) content {
	childDefault := "text/plain"
	if mt == "multipart/digest" {
		childDefault = "message/rfc822"
	}
	var kids []content
	for _, r := range raw {
		if w.parts >= maxParts {
			w.m.problem(fmt.Sprintf("more than %d MIME parts; the rest ignored", maxParts))
			break
		}
		ph, pb, malformed := splitHeader(r)
		if malformed {
			w.m.problem("a part of " + mt + " has malformed header lines")
		}
		kids = append(kids, w.entity(ph, pb, childDefault, depth+1))
	}
	if mt == "multipart/alternative" {
		return pickAlternative(kids)
	}
	// mixed, related, signed, report and anything unknown: every readable
	// part in order, joined within the cap.
	out := newTextSink(w.maxText)
	allHTML, cut, wrote := true, false, false
	for _, k := range kids {
		cut = cut || k.cut
		if k.text == "" {
			continue
		}
		if wrote {
			out.WriteString("\n\n")
		}
		out.WriteString(k.text)
		allHTML = allHTML && k.html
		wrote = true
	}
	if !wrote {
		return content{cut: cut}
	}
	return content{text: out.String(), html: allHTML, cut: cut || out.full()}
}

// pickAlternative chooses among the versions of a multipart/alternative:
// the first one written as plain text, unless it is only a "view this in
// HTML" stub; else the last (richest) version that has text.
func pickAlternative(kids []content) content {
	var plain, rich *content
	for i := range kids {
		k := &kids[i]
		if k.text == "" {
			continue
		}
		if !k.html && plain == nil {
			plain = k
		}
		rich = k
	}
	if plain != nil && rich != nil && rich.html && isHTMLStub(plain.text, rich.text) {
		return *rich
	}
	if plain != nil {
		return *plain
	}
	if rich != nil {
		return *rich
	}
	// No version has text; say whether one lost it to the cap.
	cut := false
	for _, k := range kids {
		cut = cut || k.cut
	}
	return content{cut: cut}
}

// isHTMLStub reports whether plain is a short "this mail needs an HTML
// viewer" placeholder for the much longer html text.
func isHTMLStub(plain, html string) bool {
	return len(plain) < 200 && len(html) > 2*len(plain) && strings.Contains(strings.ToLower(plain), "html")
}

// leaf reads a non-multipart entity: text is returned, anything else is
// recorded as an attachment.
func (w *mimeWalker) leaf(h textproto.Header, body []byte, mt string, params map[string]string) content {
	disp, dparams := mediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = message.Cut(decodeHeaderText(name), maxNameLen)
	data, problem := decodeTransfer(h.Get("Content-Transfer-Encoding"), body)
	if problem != "" {
		w.m.problem(problem)
	}
	isText := mt == "text/plain" || mt == "text/html" || mt == "text/enriched"
	if isText && (disp == "" || disp == "inline" && name == "") {
		isHTML := mt == "text/html"
		out := w.newSink()
		if out.limit == 0 {
			// The parts before used up the budget: this one is not even
			// decoded.
			return content{html: isHTML, cut: len(bytes.TrimSpace(data)) > 0}
		}
		cs := params["charset"]
		if cs == "" && isHTML {
			cs = sniffHTMLCharset(data)
		}
		text, guessed := decodeCharset(cs, data)
		if guessed {
			w.m.CharsetGuessed = true
		}
		switch {
		case isHTML:
			htmlToText(text, out)
		case strings.EqualFold(params["format"], "flowed"):
			unflow(text, strings.EqualFold(params["delsp"], "yes"), out)
		default:
			out.WriteString(text)
		}
		w.spent(out)
		return content{text: out.String(), html: isHTML, cut: out.full()}
	}
	a := attachment{Name: name, Type: mt, Size: len(data), Inline: disp == "inline" || disp == "" && h.Get("Content-Id") != ""}
	if a.Name == "" && mt == "message/rfc822" {
		// A forwarded or bounced mail: name it by its subject.
		ih, _, _ := splitHeader(data)
		if s := decodeHeaderText(ih.Get("Subject")); s != "" {
			a.Name = message.Cut(s, maxNameLen-4) + ".eml"
		}
	}
	w.m.Attachments = append(w.m.Attachments, a)
	return content{}
}

// validMediaType reports whether mt is "type/subtype" made of RFC 2045
// token characters.
func validMediaType(mt string) bool {
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "" || sub == "" || len(mt) > 127 {
		return false
	}
	for _, r := range typ + sub {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?=`, r) {
			return false
		}
	}
	return true
}

// sniffHTMLCharset finds a <meta charset> (or http-equiv Content-Type)
// declaration near the start of an HTML body.
func sniffHTMLCharset(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	s := strings.ToLower(string(b))
	for off := 0; ; {
		i := strings.Index(s[off:], "charset=")
		if i < 0 {
			return ""
		}
		off += i + len("charset=")
		v := strings.TrimLeft(s[off:], `"' `)
		end := strings.IndexAny(v, `"'; />`)
		if end < 0 {
			end = len(v)
		}
		if cs := v[:end]; cs != "" && len(cs) < 40 {
			return cs
		}
	}
}

// unflow writes format=flowed text (RFC 3676) to out with its soft line
// breaks joined: a line ending in a space continues on the next line,
// unless it is the "-- " signature delimiter. Quote depth is kept, and
// space-stuffing is undone. It stops as soon as out is full.
func unflow(s string, delsp bool, out *textSink) {
	curDepth, open, first := 0, false, true
	for more := true; more && !out.full(); {
		var l string
		l, s, more = strings.Cut(s, "\n")
		l = strings.TrimSuffix(l, "\r")
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		body := strings.TrimPrefix(l[depth:], " ") // space-stuffing
		if open && depth != curDepth {
			open = false
		}
		flowed := strings.HasSuffix(body, " ") && body != "-- "
		if flowed && delsp {
			body = body[:len(body)-1]
		}
		if !open {
			// A new line: its quote prefix, written once for all the
			// flowed lines it is made of.
			if !first {
				_ = out.WriteByte('\n')
			}
			first = false
			if depth > 0 {
				out.WriteString(l[:depth])
				_ = out.WriteByte(' ')
			}
		}
		out.WriteString(body)
		curDepth, open = depth, flowed
	}
}

// contentLanguage returns the first tag of a Content-Language value when
// it looks like a BCP 47 tag ("fi", "en-GB").
func contentLanguage(v string) string {
	tag, _, _ := strings.Cut(v, ",")
	tag = strings.TrimSpace(tag)
	if tag == "" || len(tag) > 35 {
		return ""
	}
	for i, r := range tag {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r == '-' || r >= '0' && r <= '9')) {
			return ""
		}
	}
	return tag
}
