package identity

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/internal/message"
)

// Config says what, besides the channels' own ids, counts as an identity
// key, and what never does. The zero value is usable: no patterns, no
// exclusions, the default metadata fields and cap.
type Config struct {
	// Patterns are named regular expressions (Go syntax) for identifiers in
	// text, such as order or customer numbers: {"order": `\b11\d{5}\b`,
	// "customer": `(?i)asiakasnumero:?\s*(\d{6})`}. A match, or its first
	// capture group when the expression has one, becomes the key
	// "<name>:<value>" (lowercased, whitespace removed). A name is a
	// lowercase word that is not a built-in kind (fb, x, xh, email, phone,
	// web).
	Patterns map[string]string `yaml:"patterns"`
	// OwnDomains are the company's own mail domains: an address there or
	// at a subdomain is never a customer key, and a message from one is
	// the company's own.
	OwnDomains []string `yaml:"own_domains"`
	// OwnKeys are the company's own identifiers in any form ParseKey
	// accepts ("phone:09 123 4567", "email:info@yritys.fi", "fb:<page
	// id>"): never customer keys, and a message from one is the
	// company's own. Page and account ids the connectors put in metadata
	// (page_id, account_id) are recognized without being listed.
	OwnKeys []string `yaml:"own_keys"`
	// MetadataFields are the envelope metadata fields searched for
	// identifiers like the text (default: signature, phone, email,
	// customer_number — the mail signature and what web forms send).
	MetadataFields []string `yaml:"metadata_fields"`
	// MaxTextKeys caps the identifiers one message's subject, text and
	// metadata may yield (default 8). A message with more (a pasted
	// customer list, a newsletter, a forwarded thread) yields none from
	// its text: linking through it would be a guess.
	MaxTextKeys int `yaml:"max_text_keys"`
}

// DefaultMetadataFields are searched when Config.MetadataFields is empty.
var DefaultMetadataFields = []string{"signature", "phone", "email", "customer_number"}

// DefaultMaxTextKeys is MaxTextKeys when zero.
const DefaultMaxTextKeys = 8

// maxScanBytes bounds how much of each text field is searched.
const maxScanBytes = 16 << 10

// roleLocals are mailbox names of machines and shared desks: never a
// person's key, whoever's domain they are at.
var roleLocals = map[string]bool{
	"noreply": true, "no-reply": true, "no_reply": true, "donotreply": true, "do-not-reply": true, "do_not_reply": true,
	"mailer-daemon": true, "postmaster": true, "bounce": true, "bounces": true, "notification": true, "notifications": true,
	"hostmaster": true, "webmaster": true, "abuse": true,
}

// Extractor turns envelopes into identity keys. It is safe for concurrent
// use.
type Extractor struct {
	patterns   []pattern
	ownDomains []string
	own        map[Key]bool
	fields     []string
	maxText    int
}

type pattern struct {
	name string
	re   *regexp.Regexp
	// lit is a literal every match contains (lowercased when fold): a text
	// without it is not searched, which makes most patterns nearly free.
	lit  string
	fold bool
}

// requiredLiteral returns the longest literal that every match of re
// contains, and whether it matches case-insensitively ("" when there is
// none, or when case folding could make a lowercase comparison wrong).
func requiredLiteral(expr string) (lit string, fold bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	var walk func(re *syntax.Regexp) (string, bool)
	walk = func(re *syntax.Regexp) (string, bool) {
		switch re.Op {
		case syntax.OpLiteral:
			return string(re.Rune), re.Flags&syntax.FoldCase != 0
		case syntax.OpCapture, syntax.OpPlus:
			return walk(re.Sub[0])
		case syntax.OpRepeat:
			if re.Min >= 1 {
				return walk(re.Sub[0])
			}
		case syntax.OpConcat:
			best, bestFold := "", false
			for _, sub := range re.Sub {
				if l, f := walk(sub); len(l) > len(best) {
					best, bestFold = l, f
				}
			}
			return best, bestFold
		}
		return "", false
	}
	lit, fold = walk(re.Simplify())
	if fold {
		for _, r := range lit {
			if r >= utf8.RuneSelf {
				return "", false // Unicode folding is more than ToLower
			}
		}
		lit = strings.ToLower(lit)
	}
	return lit, fold
}

// New validates c and returns its extractor. The error names each bad
// field ("patterns.order: …", "own_keys[2]: …").
func New(c Config) (*Extractor, error) {
	var errs []error
	x := &Extractor{own: map[Key]bool{}, maxText: c.MaxTextKeys, fields: c.MetadataFields}
	names := make([]string, 0, len(c.Patterns))
	for n := range c.Patterns {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		expr := c.Patterns[n]
		switch {
		case !validKind(n):
			errs = append(errs, fmt.Errorf("patterns.%s: a name is a lowercase letter followed by lowercase letters, digits, '-' or '_'", n))
			continue
		case reservedKinds[n]:
			errs = append(errs, fmt.Errorf("patterns.%s: %q is a built-in key kind", n, n))
			continue
		case strings.TrimSpace(expr) == "":
			errs = append(errs, fmt.Errorf("patterns.%s: the regular expression is empty", n))
			continue
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("patterns.%s: %w", n, err))
			continue
		}
		if re.MatchString("") {
			errs = append(errs, fmt.Errorf("patterns.%s: %q matches the empty string", n, expr))
			continue
		}
		lit, fold := requiredLiteral(expr)
		x.patterns = append(x.patterns, pattern{name: n, re: re, lit: lit, fold: fold})
	}
	for i, d := range c.OwnDomains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if !validDomain(d) {
			errs = append(errs, fmt.Errorf("own_domains[%d]: %q is not a domain name", i, c.OwnDomains[i]))
			continue
		}
		x.ownDomains = append(x.ownDomains, d)
	}
	for i, s := range c.OwnKeys {
		k, err := parseKey(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("own_keys[%d]: %w", i, err))
			continue
		}
		x.own[k] = true
	}
	for i, f := range c.MetadataFields {
		if strings.TrimSpace(f) == "" {
			errs = append(errs, fmt.Errorf("metadata_fields[%d]: empty field name", i))
		}
	}
	if len(x.fields) == 0 {
		x.fields = DefaultMetadataFields
	}
	switch {
	case c.MaxTextKeys < 0:
		errs = append(errs, fmt.Errorf("max_text_keys: %d must not be negative", c.MaxTextKeys))
	case c.MaxTextKeys == 0:
		x.maxText = DefaultMaxTextKeys
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return x, nil
}

// ParseKey canonicalizes a key written by a person ("phone:040 123 4567"
// → "phone:+358401234567", "email:Matti@Example.FI" →
// "email:matti@example.fi"). The error says what is wrong with it.
func (x *Extractor) ParseKey(s string) (Key, error) { return parseKey(s) }

// Keys are the identity keys one envelope yields.
type Keys struct {
	// Author are the channel's own ids of the author, the primary one
	// first: fb:<id>; x:<id> and xh:<handle>; email:<address>; web:<id>
	// (and email:<address> when an intake client sent one). Empty for the
	// company's own messages and for authors without an id.
	Author []Key
	// Found are the identifiers in the subject, text and searched
	// metadata: email addresses, phone numbers, pattern matches; without
	// duplicates and without the author's keys.
	Found []Key
	// Skipped says what was left out and why.
	Skipped []Skip
	// Name is the author's display name as NormalizeName returns it.
	Name string
	// Refers are the other channels the text says the author used; only
	// looked for when Name is usable (the one use of a reference is a
	// probable link by name).
	Refers Channels
}

// All returns Author and Found together.
func (k Keys) All() []Key { return append(slices.Clip(k.Author), k.Found...) }

// Skip is a key, or a whole message's identifiers, left out.
type Skip struct {
	// Key is the key left out, "" when a whole group was.
	Key Key `json:"key,omitempty"`
	// Reason says why, for ops.
	Reason string `json:"reason"`
}

// Reasons for leaving a key out.
const (
	ReasonOwn         = "the company's own identifier"
	ReasonOwnMessage  = "the company's own message"
	ReasonRole        = "a role or machine address (noreply, postmaster, …)"
	ReasonTooManyKeys = "too many identifiers in one message"
	ReasonBadAuthorID = "the author id is not valid for the channel"
)

// Keys returns what env yields. It never fails: what cannot be used is
// left out (and listed in Skipped when it is worth telling).
func (x *Extractor) Keys(env *message.Envelope) Keys {
	var out Keys
	author, skipped, own := x.authorKeys(env)
	out.Skipped = skipped
	if own {
		out.Skipped = append(out.Skipped, Skip{Reason: ReasonOwnMessage})
		return out
	}
	out.Author = author
	seen := map[Key]bool{}
	for _, k := range author {
		seen[k] = true
	}
	var found []Key
	add := func(k Key) bool {
		if seen[k] {
			return true
		}
		seen[k] = true
		if why := x.excluded(k); why != "" {
			out.Skipped = append(out.Skipped, Skip{Key: k, Reason: why})
			return true
		}
		found = append(found, k)
		return len(found) <= x.maxText
	}
	x.scan(env.Subject, add)
	x.scan(env.Text, add)
	for _, f := range x.fields {
		if v, ok := env.Metadata[f]; ok {
			x.scan(v, add)
		}
	}
	if len(found) > x.maxText {
		out.Skipped = append(out.Skipped, Skip{Reason: fmt.Sprintf("%s (more than %d)", ReasonTooManyKeys, x.maxText)})
		found = nil
	}
	out.Found = found
	out.Name = NormalizeName(env.Author.Name)
	if out.Name != "" && len(out.Author) > 0 {
		out.Refers = References(env.Subject + "\n" + env.Text)
		out.Refers &^= ChannelRef(env.Channel)
	}
	return out
}

// scan finds identifiers in one text, stopping when add says so.
func (x *Extractor) scan(s string, add func(Key) bool) {
	if s == "" {
		return
	}
	if len(s) > maxScanBytes {
		s = s[:maxScanBytes]
	}
	more := true
	if strings.IndexByte(s, '@') >= 0 {
		scanEmails(s, func(a string) bool {
			more = add(Key(KindEmail + ":" + a))
			return more
		})
	}
	if !more {
		return
	}
	scanPhones(s, func(p string) bool {
		more = add(Key(KindPhone + ":" + p))
		return more
	})
	lower := ""
	for _, p := range x.patterns {
		if !more {
			return
		}
		if p.fold {
			if lower == "" {
				lower = strings.ToLower(s)
			}
			if !strings.Contains(lower, p.lit) {
				continue
			}
		} else if !strings.Contains(s, p.lit) {
			continue
		}
		for _, m := range p.re.FindAllStringSubmatch(s, x.maxText+1) {
			v := m[0]
			if len(m) > 1 {
				v = m[1]
			}
			if v, ok := patternValue(v); ok {
				if more = add(Key(p.name + ":" + v)); !more {
					return
				}
			}
		}
	}
}

// authorKeys returns the author's own keys; own reports a message of the
// company itself.
func (x *Extractor) authorKeys(env *message.Envelope) (keys []Key, skipped []Skip, own bool) {
	a := env.Author
	id := strings.TrimSpace(a.ID)
	bad := func(k string) { skipped = append(skipped, Skip{Key: Key(k), Reason: ReasonBadAuthorID}) }
	// platformID keys the author's numeric id on a platform as kind, or
	// skips it when it is not digits; it reports true instead when the id
	// is the company's own account, ownID.
	platformID := func(kind, ownID string) (company bool) {
		switch {
		case id == "":
		case id == ownID:
			return true
		case digitsOnly(id):
			keys = append(keys, Key(kind+":"+id))
		default:
			bad(kind + ":" + clip(id))
		}
		return false
	}
	switch env.Channel {
	case "facebook":
		if platformID(KindFacebook, env.Metadata["page_id"]) {
			return nil, nil, true
		}
	case "x":
		if platformID(KindX, env.Metadata["account_id"]) {
			return nil, nil, true
		}
		if h, ok := xHandle(a.Handle); ok {
			keys = append(keys, Key(KindXHandle+":"+h))
		}
	case "email":
		if a.Email == "" {
			a.Email = id
		}
	case KindPhone:
		if p, ok := ParsePhone(id); ok {
			keys = append(keys, Key(KindPhone+":"+p))
		}
	default:
		// web, and any channel without a case of its own: the id the
		// channel gave, as "<channel>:<id>".
		if id != "" && validKind(env.Channel) {
			if v, ok := cleanValue(id); ok {
				keys = append(keys, Key(env.Channel+":"+v))
			} else {
				bad(env.Channel + ":" + clip(id))
			}
		}
	}
	if a.Email != "" {
		if e, ok := canonicalEmail(a.Email); ok {
			keys = append(keys, Key(KindEmail+":"+e))
		} else {
			bad(KindEmail + ":" + clip(a.Email))
		}
	}
	var out []Key
	for _, k := range keys {
		switch why := x.excluded(k); why {
		case "":
			out = append(out, k)
		case ReasonOwn:
			return nil, nil, true
		default:
			skipped = append(skipped, Skip{Key: k, Reason: why})
		}
	}
	return out, skipped, false
}

// excluded says why k may not be a customer key, or "".
func (x *Extractor) excluded(k Key) string {
	if x.own[k] {
		return ReasonOwn
	}
	if k.Kind() != KindEmail {
		return ""
	}
	addr := k.Value()
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at+1:]
	for _, d := range x.ownDomains {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return ReasonOwn
		}
	}
	if roleLocals[local] || strings.HasPrefix(local, "noreply") || strings.HasPrefix(local, "no-reply") || strings.HasPrefix(local, "bounce") {
		return ReasonRole
	}
	return ""
}

// clip shortens an invalid id for a Skip.
func clip(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.ToValidUTF8(s, "")
}
