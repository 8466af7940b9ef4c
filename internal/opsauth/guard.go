package opsauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// API guards a JSON endpoint: the request needs a bearer token (or, for
// GET and HEAD, a console session) whose role allows need. Failures are
// JSON: 401 without a valid token, 403 for a role that may not act or a
// cross-site request, 429 after too many failures, 503 when no ops token
// is configured.
func (a *Auth) API(need Role, h http.Handler) http.Handler {
	return a.guard(need, h, func(w http.ResponseWriter, r *http.Request, code int, msg string) {
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard ops"`)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
	})
}

// Page guards a console page or form action: a request without a valid
// session (or bearer token) is sent to the login form, which returns to
// the page afterwards; a state-changing request made with the session
// cookie must carry the session's CSRF token (CSRFField or CSRFHeader) and
// come from the console's own origin. Other failures are plain text.
func (a *Auth) Page(need Role, h http.Handler) http.Handler {
	return a.guard(need, h, func(w http.ResponseWriter, r *http.Request, code int, msg string) {
		if code == http.StatusUnauthorized {
			next := ""
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				next = r.URL.RequestURI()
			}
			http.Redirect(w, r, a.LoginURL(next), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, msg, code)
	})
}

// LoginURL is the login form's address, returning to next afterwards
// (when next is a console path).
func (a *Auth) LoginURL(next string) string {
	if next = SafeNext(next, ""); next == "" {
		return a.loginPath
	}
	return a.loginPath + "?next=" + url.QueryEscape(next)
}

// refuse writes a failure: status code and a message for people.
type refuse func(w http.ResponseWriter, r *http.Request, code int, msg string)

func (a *Auth) guard(need Role, h http.Handler, fail refuse) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.Enabled() {
			fail(w, r, http.StatusServiceUnavailable, ErrNoTokens.Error())
			return
		}
		unsafe := !safeMethod(r.Method)
		if unsafe {
			// A browser's cross-site form post is refused before anything
			// else; non-browser clients send no Sec-Fetch-Site or Origin.
			if err := a.origin.Check(r); err != nil {
				fail(w, r, http.StatusForbidden, "cross-site request refused")
				return
			}
		}
		ri, code, msg, wait := a.authenticate(r)
		if code != 0 {
			if wait > 0 {
				w.Header().Set("Retry-After", RetryAfterHeader(wait))
			}
			fail(w, r, code, msg)
			return
		}
		if ri.id.Session && unsafe {
			// ParseForm reads the body: bound it first.
			r.Body = http.MaxBytesReader(w, r.Body, a.maxForm)
			got := r.Header.Get(CSRFHeader)
			if got == "" {
				got = r.PostFormValue(CSRFField)
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(ri.csrf)) != 1 {
				fail(w, r, http.StatusForbidden, "the form is stale or was not sent by the console (CSRF token missing or wrong): reload the page and try again")
				return
			}
		}
		if !ri.id.Role.allows(need) {
			fail(w, r, http.StatusForbidden, fmt.Sprintf("the ops token %q is %s: it may look but not act", ri.id.Name, ri.id.Role))
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri)))
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticate finds the request's identity: a bearer token, else a
// session cookie (for any method; unsafe ones are CSRF-checked by the
// caller). code is non-zero when it fails; wait is set with a 429.
func (a *Auth) authenticate(r *http.Request) (ri *requestInfo, code int, msg string, wait time.Duration) {
	now := a.now()
	client := clientAddr(r)
	if h := r.Header.Get("Authorization"); h != "" {
		if wait := a.failures.wait(client, now); wait > 0 {
			return nil, http.StatusTooManyRequests, tooMany(wait), wait
		}
		scheme, value, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, http.StatusUnauthorized, "use Authorization: Bearer <ops token>", 0
		}
		t, ok := a.match(strings.TrimSpace(value))
		if !ok {
			a.failures.failed(client, now)
			return nil, http.StatusUnauthorized, "unknown ops token", 0
		}
		return &requestInfo{id: Identity{Name: t.name, Role: t.role}}, 0, "", 0
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if ss, ok := a.sessions.get(c.Value, now); ok {
			return &requestInfo{id: ss.id, csrf: ss.csrf}, 0, "", 0
		}
	}
	return nil, http.StatusUnauthorized, "an ops token is required (Authorization: Bearer <ops token>, or log in at " + a.loginPath + ")", 0
}

// match finds the configured token equal to v, comparing with every one
// in constant time.
func (a *Auth) match(v string) (token, bool) {
	sum := sha256.Sum256([]byte(v))
	var found token
	ok := false
	for _, t := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 {
			found, ok = t, true
		}
	}
	return found, ok
}

// clientAddr is the address failures are counted by: the peer's IP.
// Forwarded headers are not trusted (anyone can send them), so behind a
// reverse proxy every client shares the proxy's count.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func tooMany(wait time.Duration) string {
	return fmt.Sprintf("too many wrong ops tokens from this address; try again in %s", wait.Round(time.Second)+time.Second)
}

// Login errors.
var (
	// ErrBadToken: the token given at the login form is not an ops token.
	ErrBadToken = errors.New("that is not an ops token")
	// ErrCrossSite: the login form was posted from another site.
	ErrCrossSite = errors.New("cross-site login refused")
)

// LimitedError says the client made too many failed attempts.
type LimitedError struct {
	// RetryAfter is how long until the next attempt is allowed.
	RetryAfter time.Duration
}

func (e *LimitedError) Error() string { return tooMany(e.RetryAfter) }

// Login checks a token from the login form and, when it is an ops token,
// starts a session and sets its cookie on w. Errors: ErrNoTokens,
// ErrCrossSite, ErrBadToken, *LimitedError.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request, value string) (Identity, error) {
	if !a.Enabled() {
		return Identity{}, ErrNoTokens
	}
	if err := a.origin.Check(r); err != nil {
		return Identity{}, ErrCrossSite
	}
	now := a.now()
	client := clientAddr(r)
	if wait := a.failures.wait(client, now); wait > 0 {
		return Identity{}, &LimitedError{RetryAfter: wait}
	}
	t, ok := a.match(strings.TrimSpace(value))
	if !ok {
		a.failures.failed(client, now)
		return Identity{}, ErrBadToken
	}
	id := Identity{Name: t.name, Role: t.role, Session: true}
	cookie, _ := a.sessions.start(id, now, a.ttl)
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    cookie,
		Path:     "/",
		MaxAge:   int(a.ttl / time.Second),
		HttpOnly: true,
		Secure:   a.secure(r),
		SameSite: http.SameSiteStrictMode,
	})
	return id, nil
}

// Logout ends the request's session, if any, and clears its cookie.
func (a *Auth) Logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		a.sessions.end(c.Value)
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure(r), SameSite: http.SameSiteStrictMode,
	})
}

// secure reports whether cookies must be Secure: the request came over
// TLS, or people reach the console over https through a proxy.
func (a *Auth) secure(r *http.Request) bool { return r.TLS != nil || a.secureAlways }

// RetryAfterHeader formats a wait for the Retry-After header.
func RetryAfterHeader(wait time.Duration) string {
	return strconv.Itoa(int(wait.Round(time.Second)/time.Second) + 1)
}

// SafeNext returns next when it is a path of the console (under /ui/) on
// this host, and fallback otherwise, so that the login form cannot be made
// to send people elsewhere.
func SafeNext(next, fallback string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.ContainsAny(next, "\\\x00\r\n") || strings.Contains(next, "//") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" || u.User != nil {
		return fallback
	}
	return next
}
