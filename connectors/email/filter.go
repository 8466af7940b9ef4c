package email

import (
	"strings"
)

// Why a mail is dropped instead of ingested; the reason label of the
// switchboard_email_dropped_total metric.
const (
	dropOwnAddress = "own_address"
	dropBounce     = "bounce"
	dropAutoReply  = "auto_reply"
	dropList       = "list"
)

// ownAddresses matches Switchboard's own and the teams' addresses: exact
// addresses and "@domain" entries, case-insensitively.
type ownAddresses struct {
	exact   map[string]bool
	domains map[string]bool
}

// newOwnAddresses builds the matcher; entries that are neither an address
// nor "@domain" are ignored (the configuration rejects them).
func newOwnAddresses(entries []string) ownAddresses {
	o := ownAddresses{exact: map[string]bool{}, domains: map[string]bool{}}
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case strings.HasPrefix(e, "@") && len(e) > 1:
			o.domains[e[1:]] = true
		case strings.Contains(e, "@"):
			o.exact[e] = true
		}
	}
	return o
}

// match reports whether addr is one of the own addresses.
func (o ownAddresses) match(addr string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return false
	}
	if o.exact[addr] {
		return true
	}
	_, dom, ok := strings.Cut(addr, "@")
	return ok && o.domains[dom]
}

// mailFilter decides which mail is noise.
type mailFilter struct {
	own         ownAddresses
	ingestLists bool
}

// drop returns why m must not be ingested, with a detail for the debug
// log, or "" when it is customer mail. The checks run from the most to the
// least certain: own addresses, bounces, auto-replies, list mail.
func (f mailFilter) drop(m *parsedMail) (reason, detail string) {
	for _, a := range append(append([]address(nil), m.From...), m.Sender...) {
		if f.own.match(a.Email) {
			return dropOwnAddress, "from " + a.Email
		}
	}
	if d := bounce(m); d != "" {
		return dropBounce, d
	}
	if d := autoReply(m); d != "" {
		return dropAutoReply, d
	}
	if !f.ingestLists {
		if d := listMail(m); d != "" {
			return dropList, d
		}
	}
	return "", ""
}

// bounce recognises delivery reports: multipart/report (delivery status
// and read receipts) and mail from MAILER-DAEMON or postmaster.
func bounce(m *parsedMail) string {
	if m.ContentType == "multipart/report" {
		_, params := mediaType(m.Header.Get("Content-Type"))
		return "Content-Type: multipart/report; report-type=" + params["report-type"]
	}
	for _, a := range m.From {
		local, _, _ := strings.Cut(strings.ToLower(a.Email), "@")
		if local == "mailer-daemon" || local == "postmaster" {
			return "from " + a.Email
		}
	}
	// "From: MAILER-DAEMON" without a domain parses to no address.
	if strings.Contains(strings.ToLower(m.Header.Get("From")), "mailer-daemon") {
		return "from MAILER-DAEMON"
	}
	return ""
}

// autoReplyHeaders mark vacation and other automatic replies; a value of
// "no" (or false, 0) means the header is present but says no.
var autoReplyHeaders = []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Mail-Autoreply"}

// autoReplySubjects start the subjects of out-of-office replies in Finnish
// and English (lowercase). "poissa" (away) must be the first word.
var autoReplySubjects = []string{
	"automaattinen vastaus", "poissaolo", "lomavastaaja",
	"out of office", "out of the office", "automatic reply", "auto reply", "auto-reply", "autoreply", "auto response", "autoresponse",
}

// autoReply recognises automatic replies (RFC 3834 Auto-Submitted, the
// X-Autoreply family, Precedence: auto_reply, a null Return-Path) and
// out-of-office subjects.
func autoReply(m *parsedMail) string {
	if v := headerWord(m.Header.Get("Auto-Submitted")); v != "" && v != "no" {
		return "Auto-Submitted: " + v
	}
	for _, k := range autoReplyHeaders {
		if v := headerWord(m.Header.Get(k)); m.Header.Has(k) && v != "no" && v != "false" && v != "0" {
			return k + ": " + v
		}
	}
	for _, k := range []string{"Precedence", "X-Precedence"} {
		if headerWord(m.Header.Get(k)) == "auto_reply" {
			return k + ": auto_reply"
		}
	}
	if rp := strings.TrimSpace(m.Header.Get("Return-Path")); rp == "<>" {
		return "Return-Path: <> (null sender)"
	}
	s := strings.ToLower(strings.TrimSpace(m.Subject))
	for _, p := range autoReplySubjects {
		if strings.HasPrefix(s, p) {
			return "subject " + quote(m.Subject)
		}
	}
	if w, _, _ := strings.Cut(strings.TrimLeft(s, " "), " "); strings.TrimRight(w, ":!.-") == "poissa" {
		return "subject " + quote(m.Subject)
	}
	return ""
}

// listMail recognises mailing-list and bulk mail.
func listMail(m *parsedMail) string {
	if id := m.Header.Get("List-Id"); id != "" {
		return "List-Id: " + oneLine(id)
	}
	switch v := headerWord(m.Header.Get("Precedence")); v {
	case "bulk", "list", "junk":
		return "Precedence: " + v
	}
	return ""
}

// headerWord is the lowercase first word of a structured header value,
// without parameters or comments ("auto-replied; owner-email=..." gives
// "auto-replied").
func headerWord(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, ";( \t"); i >= 0 {
		v = v[:i]
	}
	return v
}
