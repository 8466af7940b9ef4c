package email

import (
	"strings"
)

// reply is a body split for classification.
type reply struct {
	// New is what the sender wrote this time: the body above the first
	// quote header or signature, without "> " quoted lines.
	New string
	// Signature is the block after a "-- " delimiter or a "Sent from my
	// phone" line, up to the quoted part.
	Signature string
	// Quoted reports that quoted earlier mail was cut off.
	Quoted bool
	// Cut reports that New was longer than the cap and holds its start.
	Cut bool
}

// splitReply separates the new text of a reply from the quoted earlier mail
// and the signature. It knows the quote headers of common clients in
// English, Finnish, Swedish and German: "On ... wrote:", "... kirjoitti:",
// "-----Original Message-----", "-----Alkuperäinen viesti-----", Outlook's
// "From: / Sent:" (or "Lähettäjä: / Lähetetty:") block and its underscore
// line. Interleaved replies keep their unquoted lines. New is made within
// maxNew bytes; the signature is a part of body, not a copy.
func splitReply(body string, maxNew int) reply {
	var r reply
	// Byte offsets: where the quoted part starts, and the signature.
	cut, sigAt, sigFrom := len(body), -1, -1
	for pos := 0; pos < len(body); {
		line, next := lineAt(body, pos)
		line = strings.TrimRight(line, " \t\r")
		if sigAt < 0 && isSignatureStart(line) {
			sigAt, sigFrom = pos, pos
			if isSignatureDelimiter(line) {
				sigFrom = next // the "-- " line itself is not part of the signature
			}
			pos = next
			continue
		}
		if isQuoteHeader(body, pos) {
			cut = pos
			r.Quoted = true
			break
		}
		pos = next
	}
	end := cut
	if sigAt >= 0 && sigAt < cut {
		end = sigAt
		r.Signature = strings.TrimSpace(body[min(sigFrom, cut):cut])
	}
	out := newTextSink(maxNew)
	for pos := 0; pos < end && !out.full(); {
		line, next := lineAt(body[:end], pos)
		pos = next
		if strings.HasPrefix(strings.TrimLeft(line, " "), ">") {
			r.Quoted = true
			continue
		}
		out.WriteString(line)
		_ = out.WriteByte('\n')
	}
	r.New, r.Cut = out.String(), out.full()
	return r
}

// lineAt returns the line of s starting at pos (without its line break)
// and the offset of the next line.
func lineAt(s string, pos int) (line string, next int) {
	if i := strings.IndexByte(s[pos:], '\n'); i >= 0 {
		return s[pos : pos+i], pos + i + 1
	}
	return s[pos:], len(s)
}

// lineAfter returns the n-th line after the one starting at pos (n >= 1),
// and whether there is one.
func lineAfter(s string, pos, n int) (string, bool) {
	_, pos = lineAt(s, pos)
	for ; n > 1 && pos < len(s); n-- {
		_, pos = lineAt(s, pos)
	}
	if pos >= len(s) {
		return "", false
	}
	line, _ := lineAt(s, pos)
	return line, true
}

// isSignatureDelimiter reports the RFC 3676 "-- " line (also without the
// trailing space, as many clients strip it).
func isSignatureDelimiter(line string) bool { return line == "--" || line == "-- " }

// mobileSignatures start the signature lines that mobile clients append.
var mobileSignatures = []string{
	"sent from my ", "sent from mail for windows", "sent from outlook", "get outlook for ",
	"lähetetty iphonesta", "lähetetty ipadista", "lähetetty android", "lähetetty puhelimesta",
	"lähetetty mobiililaitteesta", "lähetetty outlookista", "hanki outlook ", "skickat från min ",
	"von meinem iphone gesendet", "gesendet von meinem ",
}

func isSignatureStart(line string) bool {
	if isSignatureDelimiter(line) {
		return true
	}
	l := strings.ToLower(strings.TrimSpace(line))
	if len(l) > 50 { // a footer line, not a sentence that starts alike
		return false
	}
	for _, p := range mobileSignatures {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// attributionEnds end the "someone wrote:" line before a quoted reply.
var attributionEnds = []string{"kirjoitti:", "skrev:", "schrieb:", "a écrit :", "a écrit:", "escribió:", "scrisse:", "napisał(a):"}

// separators are whole lines that start forwarded or quoted mail.
var separators = []string{
	"-----original message-----", "----- original message -----",
	"-----alkuperäinen viesti-----", "----- alkuperäinen viesti -----",
	"-----ursprungligt meddelande-----", "-----ursprüngliche nachricht-----",
	"begin forwarded message:", "---------- forwarded message ---------",
	"---------- välitetty viesti ----------", "---------- vidarebefordrat meddelande ---------",
}

// outlookFrom and outlookSent start the header block Outlook writes above a
// quoted mail.
var (
	outlookFrom = []string{"from:", "lähettäjä:", "från:", "von:", "*from:*", "**from:**"}
	outlookSent = []string{"sent:", "date:", "lähetetty:", "päivämäärä:", "skickat:", "datum:", "gesendet:", "*sent:*", "**sent:**"}
)

// isQuoteHeader reports whether the line of body starting at pos starts
// the quoted earlier mail.
func isQuoteHeader(body string, pos int) bool {
	line, _ := lineAt(body, pos)
	l := strings.ToLower(strings.TrimSpace(line))
	if l == "" {
		return false
	}
	for _, s := range separators {
		if l == s {
			return true
		}
	}
	// Outlook's reply line: a row of underscores above the header block.
	if len(l) >= 10 && strings.Trim(l, "_") == "" {
		return true
	}
	// "On Mon, 3 Feb 2014, Matti <m@x> wrote:", possibly wrapped in two.
	if isAttribution(l) {
		return true
	}
	if next := joinNext(body, pos); next != "" && startsAttribution(l) && isAttribution(next) {
		// The next line alone may already look like an attribution (it
		// holds "<address> wrote:"); this line belongs to it when it is
		// cut open or is the dated "On ..." start.
		second, _ := lineAfter(body, pos, 1)
		if !isAttribution(strings.ToLower(strings.TrimSpace(second))) ||
			strings.HasSuffix(l, "<") || strings.HasPrefix(l, "on ") && strings.ContainsAny(l, "0123456789") {
			return true
		}
	}
	if hasPrefixAny(l, outlookFrom) {
		for n := 1; n <= 3; n++ {
			next, ok := lineAfter(body, pos, n)
			if !ok {
				break
			}
			if hasPrefixAny(strings.ToLower(strings.TrimSpace(next)), outlookSent) {
				return true
			}
		}
	}
	return false
}

// isAttribution reports whether l (lowercase) is a "someone wrote:" line.
func isAttribution(l string) bool {
	if len(l) > 300 || !strings.HasSuffix(l, ":") {
		return false
	}
	if strings.HasSuffix(l, "wrote:") {
		// Not "as I wrote:" in the new text: want a date, an address or "On".
		return strings.HasPrefix(l, "on ") || strings.ContainsAny(l, "@<0123456789")
	}
	for _, e := range attributionEnds {
		if strings.HasSuffix(l, e) {
			return true
		}
	}
	// Apple Mail in Finnish: "Matti <m@x> kirjoitti 3.2.2014 kello 10.15:"
	return strings.Contains(l, " kirjoitti ") && strings.ContainsAny(l, "0123456789")
}

// startsAttribution reports whether l can be the first line of an
// attribution wrapped over two lines.
func startsAttribution(l string) bool {
	for _, p := range []string{"on ", "am ", "le ", "el ", "den ", "ma ", "ti ", "ke ", "to ", "pe ", "la ", "su "} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return strings.ContainsAny(l, "@<")
}

// joinNext joins the line of body at pos with the next line, for a
// wrapped attribution; "" when the next line is missing, empty or quoted.
func joinNext(body string, pos int) string {
	next, ok := lineAfter(body, pos, 1)
	if !ok {
		return ""
	}
	next = strings.ToLower(strings.TrimSpace(next))
	if next == "" || strings.HasPrefix(next, ">") {
		return ""
	}
	line, _ := lineAt(body, pos)
	return strings.ToLower(strings.TrimSpace(line)) + " " + next
}

func hasPrefixAny(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
