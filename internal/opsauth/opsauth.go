// Package opsauth decides who may use the ops console and the HTTP API
// beyond the intake: named ops tokens with a role (admin or read-only),
// checked as a bearer token on API calls or once in a login form that
// starts a server-side session (an HttpOnly, SameSite=Strict cookie);
// per-session CSRF tokens on every state-changing request from a browser;
// a limit on failed attempts. It renders no HTML: the console does.
//
// One Auth guards every path that needs it: Page for console pages (a
// missing login redirects to the login form), API for JSON endpoints (a
// missing token is a 401). See docs/console.md.
package opsauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Role is what a token may do.
type Role string

// Roles.
const (
	// RoleReadOnly may see every page and endpoint and act on nothing.
	RoleReadOnly Role = "read-only"
	// RoleAdmin may also act: replay dead letters, reroute items.
	RoleAdmin Role = "admin"
)

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleReadOnly, RoleAdmin:
		return r, nil
	}
	return "", fmt.Errorf("ops role %q: use admin or read-only", s)
}

// allows reports whether a holder of r may do what needs need.
func (r Role) allows(need Role) bool { return r == RoleAdmin || need == RoleReadOnly }

// Token is one ops token.
type Token struct {
	// Name says whose token it is.
	Name string
	// Role is what it may do.
	Role Role
	// Value is the secret itself.
	Value string
}

// Identity is who made a request.
type Identity struct {
	// Name is the token's name.
	Name string
	// Role is the token's role.
	Role Role
	// Session says the request came with a console session cookie (not a
	// bearer token).
	Session bool
}

// CanAct reports whether the identity may change anything.
func (i Identity) CanAct() bool { return i.Role.allows(RoleAdmin) }

// Form field and header that carry the CSRF token.
const (
	// CSRFField is the hidden form field of every console form.
	CSRFField = "csrf_token"
	// CSRFHeader carries the token on a script's request made with the
	// session cookie.
	CSRFHeader = "X-CSRF-Token"
)

// CookieName is the session cookie's name.
const CookieName = "switchboard_session"

// Options configures an Auth; zero fields take the documented defaults.
type Options struct {
	// Tokens are the ops tokens. None: every guarded path answers 503
	// saying how to configure one.
	Tokens []Token
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration
	// ExternalURL is the address people reach the console at; an https
	// URL makes the session cookie Secure (as does a request over TLS).
	ExternalURL string
	// LoginPath is where pages send people without a session (default
	// "/ui/login").
	LoginPath string
	// MaxSessions caps the sessions kept (default 10000); the ones closest
	// to expiry make way.
	MaxSessions int
	// FailureBurst failed attempts (a wrong token at the login form or as
	// a bearer) are allowed from one client address, then one more per
	// FailureEvery (defaults 10 and 30s); beyond that the address gets 429.
	FailureBurst int
	FailureEvery time.Duration
	// MaxFormBytes caps the body of a guarded form post (default 1 MiB).
	MaxFormBytes int64
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Auth checks ops tokens and console sessions. Safe for concurrent use.
type Auth struct {
	tokens       []token
	ttl          time.Duration
	secureAlways bool
	loginPath    string
	maxForm      int64
	now          func() time.Time
	sessions     *sessions
	failures     *limiter
	origin       *http.CrossOriginProtection
}

// token is a configured token, kept as its hash so that comparing takes
// the same time whatever the lengths.
type token struct {
	name string
	role Role
	sum  [sha256.Size]byte
}

// ErrNoTokens is why guarded paths refuse when no ops token is configured.
var ErrNoTokens = errors.New("the ops console and API are off: no ops token is configured " +
	"(list one under http.ops.tokens, or let the daemon generate <data_dir>/ops-token; see docs/console.md)")

// New returns an Auth for o.
func New(o Options) (*Auth, error) {
	a := &Auth{
		ttl:       o.SessionTTL,
		loginPath: o.LoginPath,
		maxForm:   o.MaxFormBytes,
		now:       o.Now,
		origin:    http.NewCrossOriginProtection(),
	}
	if a.ttl <= 0 {
		a.ttl = 12 * time.Hour
	}
	if a.loginPath == "" {
		a.loginPath = "/ui/login"
	}
	if a.maxForm <= 0 {
		a.maxForm = 1 << 20
	}
	if a.now == nil {
		a.now = time.Now
	}
	if o.ExternalURL != "" {
		u, err := url.Parse(o.ExternalURL)
		if err != nil {
			return nil, fmt.Errorf("ops external URL: %w", err)
		}
		a.secureAlways = u.Scheme == "https"
	}
	seen := map[[sha256.Size]byte]bool{}
	for _, t := range o.Tokens {
		if t.Name == "" || t.Value == "" {
			return nil, errors.New("an ops token needs a name and a value")
		}
		if _, err := ParseRole(string(t.Role)); err != nil {
			return nil, fmt.Errorf("ops token %s: %w", t.Name, err)
		}
		sum := sha256.Sum256([]byte(t.Value))
		if seen[sum] {
			return nil, fmt.Errorf("ops token %s repeats another ops token", t.Name)
		}
		seen[sum] = true
		a.tokens = append(a.tokens, token{name: t.Name, role: t.Role, sum: sum})
	}
	maxSessions := o.MaxSessions
	if maxSessions <= 0 {
		maxSessions = 10000
	}
	a.sessions = newSessions(maxSessions)
	burst, every := o.FailureBurst, o.FailureEvery
	if burst <= 0 {
		burst = 10
	}
	if every <= 0 {
		every = 30 * time.Second
	}
	a.failures = newLimiter(burst, every, 10000)
	return a, nil
}

// Enabled reports whether any ops token is configured.
func (a *Auth) Enabled() bool { return len(a.tokens) > 0 }

type ctxKey struct{}

// requestInfo is what a guard learned about a request.
type requestInfo struct {
	id   Identity
	csrf string
}

// IdentityFrom returns who made the request a guard let through.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	ri, ok := ctx.Value(ctxKey{}).(*requestInfo)
	if !ok {
		return Identity{}, false
	}
	return ri.id, true
}

// CSRFToken returns the CSRF token forms of the request's session must
// carry in CSRFField; "" for a request without a session.
func CSRFToken(ctx context.Context) string {
	ri, ok := ctx.Value(ctxKey{}).(*requestInfo)
	if !ok {
		return ""
	}
	return ri.csrf
}
