package identity

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/message"
)

// Key is one canonical identity key, "<kind>:<value>": "fb:7011223344",
// "x:1234", "xh:matti_m", "email:matti@example.fi", "phone:+358401234567",
// "web:visitor-1", or "<pattern name>:<value>" for a configured pattern.
// Two envelopes that yield the same Key are about the same customer.
type Key string

// The built-in key kinds. Configured patterns add kinds of their own.
const (
	// KindFacebook is a Facebook user id (the author of a comment, post or
	// Messenger message; page-scoped, so one person may have several).
	KindFacebook = "fb"
	// KindX is an X user id (numeric, stable across handle changes).
	KindX = "x"
	// KindXHandle is an X handle, lowercased, without the "@".
	KindXHandle = "xh"
	// KindEmail is an email address, lowercased.
	KindEmail = "email"
	// KindPhone is a phone number in E.164 ("+358401234567").
	KindPhone = "phone"
	// KindWeb is the author id an HTTP intake client sent (a visitor or
	// account id of the company's own web service).
	KindWeb = "web"
)

// reservedKinds cannot be used as pattern names.
var reservedKinds = map[string]bool{
	KindFacebook: true, KindX: true, KindXHandle: true, KindEmail: true, KindPhone: true, KindWeb: true,
	// Channel names, so that an author key of another channel
	// ("<channel>:<id>") can never be confused with a pattern's key.
	"facebook": true,
}

// maxValueLen bounds a key's value: longer is not an identifier.
const maxValueLen = 200

// Kind is the part of k before the first ':'.
func (k Key) Kind() string {
	kind, _, _ := strings.Cut(string(k), ":")
	return kind
}

// Value is the part of k after the first ':'.
func (k Key) Value() string {
	_, v, _ := strings.Cut(string(k), ":")
	return v
}

// String returns k as written.
func (k Key) String() string { return string(k) }

// Person reports whether k names a person's own account or address (a
// channel id, an email address, a phone number), as opposed to a
// reference such as an order number. Only person keys count as the peers
// of a key when the store decides whether a key is shared by too many
// customers (see customer.Config.MaxPeers); an X handle is not counted
// because it always arrives together with the X user id.
func (k Key) Person() bool {
	switch k.Kind() {
	case KindFacebook, KindX, KindEmail, KindPhone, KindWeb:
		return true
	}
	return false
}

// validKind reports whether s can be a key kind: a lowercase letter, then
// lowercase letters, digits, '-' or '_', at most 32 bytes.
func validKind(s string) bool {
	if s == "" || len(s) > 32 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// cleanValue lowercases an id and rejects what cannot be one: empty, too
// long, not UTF-8, or containing whitespace or control characters.
func cleanValue(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxValueLen || !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError || r == '\u00a0' || r == '\u2028' || r == '\u2029' {
			return "", false
		}
	}
	return strings.ToLower(s), true
}

// digitsOnly reports whether s is 1-30 ASCII digits.
func digitsOnly(s string) bool { return message.Digits(s, 30) }

// xHandle canonicalizes an X handle: without "@", lowercased, 1-15 of
// [a-z0-9_].
func xHandle(s string) (string, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "@")
	if s == "" || len(s) > 15 {
		return "", false
	}
	s = strings.ToLower(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "", false
		}
	}
	return s, true
}

// parseKey canonicalizes "<kind>:<value>" written by a person (ops on the
// command line): it accepts any spelling the extractor would normalize
// ("phone:040 123 4567", "email:Matti@Example.FI", "xh:@Matti") and
// returns the canonical key.
func parseKey(s string) (Key, error) {
	kind, value, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found || kind == "" {
		return "", fmt.Errorf("identity key %q: want KIND:VALUE (fb, x, xh, email, phone, web or a pattern name)", s)
	}
	kind = strings.ToLower(kind)
	// v is the canonical value and ok whether there is one; problem
	// says what is wrong with the value when there is not.
	var (
		v       string
		ok      bool
		problem string
	)
	switch kind {
	case KindFacebook, KindX:
		v = strings.TrimSpace(value)
		ok, problem = digitsOnly(v), fmt.Sprintf("a %s id is digits", kind)
	case KindXHandle:
		v, ok = xHandle(value)
		problem = "an X handle is 1-15 letters, digits or '_'"
	case KindEmail:
		v, ok = canonicalEmail(value)
		problem = "not an email address"
	case KindPhone:
		v, ok = ParsePhone(value)
		problem = "not a phone number (Finnish national like 040 123 4567, or +country)"
	default:
		// A pattern's kind, "web", or the author key of a channel this
		// build has no special case for ("<channel>:<id>"). A kind nobody
		// uses is not an error here: the key is simply unknown to the
		// store.
		if !validKind(kind) {
			return "", fmt.Errorf("identity key %q: invalid kind %q", s, kind)
		}
		v, ok = patternValue(value)
		problem = "empty or invalid value"
	}
	if !ok {
		return "", fmt.Errorf("identity key %q: %s", s, problem)
	}
	return Key(kind + ":" + v), nil
}

// patternValue canonicalizes what a pattern matched (or an id of another
// kind): whitespace removed, lowercased.
func patternValue(s string) (string, bool) {
	s = strings.Join(strings.Fields(s), "")
	return cleanValue(s)
}
