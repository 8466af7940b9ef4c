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
}

// splitReply separates the new text of a reply from the quoted earlier mail
// and the signature. It knows the quote headers of common clients in
// English, Finnish, Swedish and German: "On ... wrote:", "... kirjoitti:",
// "-----Original Message-----", "-----Alkuperäinen viesti-----", Outlook's
// "From: / Sent:" (or "Lähettäjä: / Lähetetty:") block and its underscore
// line. Interleaved replies keep their unquoted lines.
func splitReply(body string) reply {
	lines := strings.Split(body, "\n")
	var r reply
	cut, sigAt := len(lines), -1
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t\r")
		if sigAt < 0 && isSignatureStart(line) {
			sigAt = i
			continue
		}
		if isQuoteHeader(lines, i) {
			cut = i
			r.Quoted = true
			break
		}
	}
	end := cut
	if sigAt >= 0 && sigAt < cut {
		end = sigAt
		from := sigAt
		if isSignatureDelimiter(strings.TrimRight(lines[sigAt], " \t\r")) {
			from++ // the "-- " line itself is not part of the signature
		}
		r.Signature = strings.TrimSpace(strings.Join(lines[from:cut], "\n"))
	}
	var kept []string
	for _, l := range lines[:end] {
		if strings.HasPrefix(strings.TrimLeft(l, " "), ">") {
			r.Quoted = true
			continue
		}
		kept = append(kept, l)
	}
	r.New = strings.TrimSpace(strings.Join(kept, "\n"))
	return r
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

// isQuoteHeader reports whether lines[i] starts the quoted earlier mail.
func isQuoteHeader(lines []string, i int) bool {
	l := strings.ToLower(strings.TrimSpace(lines[i]))
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
	if next := joinNext(lines, i); next != "" && startsAttribution(l) && isAttribution(next) {
		// The next line alone may already look like an attribution (it
		// holds "<address> wrote:"); this line belongs to it when it is
		// cut open or is the dated "On ..." start.
		if !isAttribution(strings.ToLower(strings.TrimSpace(lines[i+1]))) ||
			strings.HasSuffix(l, "<") || strings.HasPrefix(l, "on ") && strings.ContainsAny(l, "0123456789") {
			return true
		}
	}
	if hasPrefixAny(l, outlookFrom) {
		for j := i + 1; j < len(lines) && j <= i+3; j++ {
			if hasPrefixAny(strings.ToLower(strings.TrimSpace(lines[j])), outlookSent) {
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

// joinNext joins line i with the next non-empty line, for a wrapped
// attribution; "" when there is none.
func joinNext(lines []string, i int) string {
	if i+1 >= len(lines) {
		return ""
	}
	next := strings.ToLower(strings.TrimSpace(lines[i+1]))
	if next == "" || strings.HasPrefix(next, ">") {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(lines[i])) + " " + next
}

func hasPrefixAny(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
