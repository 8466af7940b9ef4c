package secret

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Redactor knows every configured secret and replaces each with Redacted
// wherever it appears in a text: the one place that scrubs logs, errors and
// statuses. It recognises a secret as written and in the forms a protocol
// or a server may echo it in (see Add and AddBasicAuth), because servers
// do echo credentials: an IMAP server answering LOGIN with the LOGIN line,
// an API quoting the token it refused.
//
// The daemon builds one and registers the configuration's secrets
// (config.Config.RegisterSecrets) and the rules' (rules.Rules.RegisterSecrets)
// as they are loaded; connectors add the credentials they obtain at run time
// (a refreshed token). Secrets are never removed: a rotated-out token is
// still a secret. A Redactor is safe for concurrent use; a nil *Redactor
// scrubs nothing.
type Redactor struct {
	mu   sync.RWMutex
	seen map[string]struct{}
	// forms are the registered forms, longest first, so that where one
	// secret contains another the whole goes; replaced as a new slice on
	// every change, never modified.
	forms []string
}

// NewRedactor returns a redactor that knows no secret yet.
func NewRedactor() *Redactor { return &Redactor{seen: map[string]struct{}{}} }

// Add registers each non-empty secret as written, and as echoed: escaped in
// an IMAP quoted string or a JSON string, URL-encoded (query and path), and
// a URL's password when the secret is a URL with one (a Redis or NATS URL).
func (r *Redactor) Add(secrets ...Secret) {
	var forms []string
	for _, s := range secrets {
		forms = append(forms, echoes(s.Reveal())...)
		if u, err := url.Parse(s.Reveal()); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				forms = append(forms, echoes(p)...)
			}
		}
	}
	r.add(forms)
}

// AddBasicAuth registers the credentials user and password send together:
// password as Add does, and the base64 of "user:password" (HTTP basic auth,
// also with both parts URL-encoded, as OAuth 2.0 clients send them) and of
// "\x00user\x00password" (SASL PLAIN).
func (r *Redactor) AddBasicAuth(user string, password Secret) {
	if password == "" {
		return
	}
	r.Add(password)
	p := password.Reveal()
	r.add([]string{
		base64.StdEncoding.EncodeToString([]byte(user + ":" + p)),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(user) + ":" + url.QueryEscape(p))),
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + p)),
	})
}

// echoes returns the forms s may be echoed in.
func echoes(s string) []string {
	if s == "" {
		return nil
	}
	quoted := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) // IMAP quoted string
	js, _ := json.Marshal(s)                                       // a string cannot fail
	return []string{s, quoted, string(js[1 : len(js)-1]), url.QueryEscape(s), url.PathEscape(s)}
}

func (r *Redactor) add(forms []string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	all := slices.Clone(r.forms)
	for _, f := range forms {
		if _, ok := r.seen[f]; f != "" && !ok {
			r.seen[f] = struct{}{}
			all = append(all, f)
		}
	}
	slices.SortStableFunc(all, func(a, b string) int { return len(b) - len(a) })
	r.forms = all
}

// Scrub returns s with every registered secret replaced by Redacted.
func (r *Redactor) Scrub(s string) string {
	if r == nil || s == "" {
		return s
	}
	r.mu.RLock()
	forms := r.forms
	r.mu.RUnlock()
	for _, f := range forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, Redacted)
		}
	}
	return s
}

// Error returns err with a scrubbed message (nil for nil). errors.Is and
// errors.As still see what err wraps, so a caller can classify it; what
// they find there is not scrubbed.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	return &scrubbed{err: err, msg: r.Scrub(err.Error())}
}

// scrubbed is an error whose message was scrubbed.
type scrubbed struct {
	err error
	msg string
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
