package opsauth

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/testclock"
)

const (
	adminToken = "admin-token-0123456789abcdef"
	roToken    = "read-only-token-0123456789"
)

func newAuth(t *testing.T, o Options) (*Auth, *testclock.Clock) {
	t.Helper()
	c := testclock.New(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	if o.Tokens == nil {
		o.Tokens = []Token{{Name: "alice", Role: RoleAdmin, Value: adminToken}, {Name: "grafana", Role: RoleReadOnly, Value: roToken}}
	}
	o.Now = c.Now
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a, c
}

// echo answers 200 with who asked and the CSRF token it got.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, _ := IdentityFrom(r.Context())
	w.Write([]byte(id.Name + " " + string(id.Role) + " " + CSRFToken(r.Context())))
})

// login posts the login form and returns the session cookie.
func login(t *testing.T, a *Auth, token string) (*http.Cookie, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/ui/login", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	w := httptest.NewRecorder()
	if _, err := a.Login(w, req, token); err != nil {
		t.Fatalf("login: %v", err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies", len(cookies))
	}
	// The CSRF token comes from a page the session opens.
	page := httptest.NewRequest(http.MethodGet, "/ui/", nil)
	page.AddCookie(cookies[0])
	pw := httptest.NewRecorder()
	a.Page(RoleReadOnly, echo).ServeHTTP(pw, page)
	f := strings.Fields(pw.Body.String())
	if len(f) != 3 {
		t.Fatalf("page after login: %d %q", pw.Code, pw.Body.String())
	}
	return cookies[0], f[2]
}

func TestAPIBearer(t *testing.T) {
	a, _ := newAuth(t, Options{})
	tests := []struct {
		name, method, auth string
		need               Role
		want               int
	}{
		{"no token", "GET", "", RoleReadOnly, 401},
		{"wrong token", "GET", "Bearer nope-nope-nope-nope", RoleReadOnly, 401},
		{"not bearer", "GET", "Basic " + adminToken, RoleReadOnly, 401},
		{"read-only reads", "GET", "Bearer " + roToken, RoleReadOnly, 200},
		{"admin reads", "GET", "Bearer " + adminToken, RoleReadOnly, 200},
		{"lower-case scheme", "GET", "bearer " + adminToken, RoleReadOnly, 200},
		{"read-only cannot act", "POST", "Bearer " + roToken, RoleAdmin, 403},
		{"admin acts without CSRF (a bearer cannot be forged cross-site)", "POST", "Bearer " + adminToken, RoleAdmin, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "/v1/messages", nil)
			req.RemoteAddr = strings.ReplaceAll(tt.name, " ", "") + ":1" // each case its own address: no rate limit
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			w := httptest.NewRecorder()
			a.API(tt.need, echo).ServeHTTP(w, req)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body.String())
			}
			if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if w.Code != 200 && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("API failure is not JSON: %q", w.Header().Get("Content-Type"))
			}
			if strings.Contains(w.Body.String(), adminToken) || strings.Contains(w.Body.String(), roToken) {
				t.Fatal("answer repeats a token")
			}
		})
	}
}

func TestNoTokensRefuses(t *testing.T) {
	a, _ := newAuth(t, Options{Tokens: []Token{}})
	for _, h := range []http.Handler{a.API(RoleReadOnly, echo), a.Page(RoleReadOnly, echo)} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/ui/", nil))
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "http.ops.tokens") {
			t.Fatalf("without tokens: %d %s", w.Code, w.Body.String())
		}
	}
	if _, err := a.Login(httptest.NewRecorder(), httptest.NewRequest("POST", "/ui/login", nil), "anything"); err != ErrNoTokens {
		t.Fatalf("login without tokens: %v", err)
	}
}

func TestPageRedirectsToLogin(t *testing.T) {
	a, _ := newAuth(t, Options{})
	w := httptest.NewRecorder()
	a.Page(RoleReadOnly, echo).ServeHTTP(w, httptest.NewRequest("GET", "/ui/messages?team=billing", nil))
	if w.Code != http.StatusSeeOther {
		t.Fatalf("status %d", w.Code)
	}
	if loc := w.Header().Get("Location"); loc != "/ui/login?next="+url.QueryEscape("/ui/messages?team=billing") {
		t.Fatalf("Location %q", loc)
	}
}

func TestSessionCookie(t *testing.T) {
	tests := []struct {
		name       string
		external   string
		tls        bool
		wantSecure bool
	}{
		{"plain http", "", false, false},
		{"over TLS", "", true, true},
		{"behind an https proxy", "https://switchboard.example.com", false, true},
		{"behind an http proxy", "http://switchboard.internal", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAuth(t, Options{ExternalURL: tt.external, SessionTTL: time.Hour})
			req := httptest.NewRequest(http.MethodPost, "/ui/login", nil)
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			id, err := a.Login(w, req, "  "+adminToken+"\n")
			if err != nil || id.Name != "alice" || !id.CanAct() {
				t.Fatalf("login: %+v %v", id, err)
			}
			c := w.Result().Cookies()[0]
			if c.Name != CookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != tt.wantSecure || c.Path != "/" || c.MaxAge != 3600 {
				t.Fatalf("cookie %+v", c)
			}
			if c.Value == adminToken || len(c.Value) < 40 {
				t.Fatalf("cookie value %q is not a fresh random session id", c.Value)
			}
		})
	}
}

func TestSessionLifecycle(t *testing.T) {
	a, clk := newAuth(t, Options{SessionTTL: time.Hour})
	cookie, csrf := login(t, a, roToken)
	get := func() int {
		req := httptest.NewRequest("GET", "/ui/", nil)
		req.AddCookie(cookie)
		w := httptest.NewRecorder()
		a.Page(RoleReadOnly, echo).ServeHTTP(w, req)
		return w.Code
	}
	if code := get(); code != 200 {
		t.Fatalf("with the session: %d", code)
	}
	if csrf == "" || csrf == cookie.Value {
		t.Fatalf("csrf token %q", csrf)
	}
	clk.Advance(59 * time.Minute)
	if code := get(); code != 200 {
		t.Fatalf("before expiry: %d", code)
	}
	clk.Advance(2 * time.Minute)
	if code := get(); code != http.StatusSeeOther {
		t.Fatalf("after expiry: %d, want the login redirect", code)
	}

	cookie, _ = login(t, a, roToken)
	req := httptest.NewRequest("POST", "/ui/logout", nil)
	req.AddCookie(cookie)
	w := httptest.NewRecorder()
	a.Logout(w, req)
	if c := w.Result().Cookies()[0]; c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("logout cookie %+v", c)
	}
	if code := get(); code != http.StatusSeeOther {
		t.Fatalf("after logout: %d", code)
	}
}

func TestCSRFAndRoles(t *testing.T) {
	a, _ := newAuth(t, Options{})
	adminCookie, adminCSRF := login(t, a, adminToken)
	roCookie, roCSRF := login(t, a, roToken)
	tests := []struct {
		name   string
		cookie *http.Cookie
		form   url.Values
		header map[string]string
		need   Role
		want   int
	}{
		{"admin with the token", adminCookie, url.Values{CSRFField: {adminCSRF}}, nil, RoleAdmin, 200},
		{"admin with the token in a header", adminCookie, nil, map[string]string{CSRFHeader: adminCSRF}, RoleAdmin, 200},
		{"no token", adminCookie, url.Values{"seq": {"1"}}, nil, RoleAdmin, 403},
		{"another session's token", adminCookie, url.Values{CSRFField: {roCSRF}}, nil, RoleAdmin, 403},
		{"cross-site", adminCookie, url.Values{CSRFField: {adminCSRF}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, RoleAdmin, 403},
		{"other origin", adminCookie, url.Values{CSRFField: {adminCSRF}}, map[string]string{"Origin": "https://evil.example"}, RoleAdmin, 403},
		{"read-only cannot act", roCookie, url.Values{CSRFField: {roCSRF}}, nil, RoleAdmin, 403},
		{"read-only may post a read (playground)", roCookie, url.Values{CSRFField: {roCSRF}}, nil, RoleReadOnly, 200},
		{"no session", nil, url.Values{CSRFField: {adminCSRF}}, nil, RoleAdmin, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://127.0.0.1:7480/ui/dead/replay", strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.cookie != nil {
				req.AddCookie(tt.cookie)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			a.Page(tt.need, echo).ServeHTTP(w, req)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body.String())
			}
		})
	}
}

func TestFailedAttemptsAreLimited(t *testing.T) {
	a, clk := newAuth(t, Options{FailureBurst: 3, FailureEvery: time.Minute})
	attempt := func(addr, token string) (int, string) {
		req := httptest.NewRequest("GET", "/v1/messages", nil)
		req.RemoteAddr = addr
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		a.API(RoleReadOnly, echo).ServeHTTP(w, req)
		return w.Code, w.Header().Get("Retry-After")
	}
	for i := range 3 {
		if code, _ := attempt("192.0.2.7:1000", "wrong-wrong-wrong-wrong"); code != 401 {
			t.Fatalf("failure %d: %d", i+1, code)
		}
	}
	// Now even the right token waits: guessing must not continue.
	if code, retry := attempt("192.0.2.7:1001", adminToken); code != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("after the burst: %d Retry-After %q", code, retry)
	}
	// The login form shares the count.
	req := httptest.NewRequest("POST", "/ui/login", nil)
	req.RemoteAddr = "192.0.2.7:1002"
	var le *LimitedError
	if _, err := a.Login(httptest.NewRecorder(), req, adminToken); err == nil || !asLimited(err, &le) {
		t.Fatalf("login after the burst: %v", err)
	}
	// Another address is not affected.
	if code, _ := attempt("192.0.2.8:1000", adminToken); code != 200 {
		t.Fatalf("another address: %d", code)
	}
	clk.Advance(time.Minute)
	if code, _ := attempt("192.0.2.7:1003", adminToken); code != 200 {
		t.Fatalf("after a minute: %d", code)
	}
}

func asLimited(err error, le **LimitedError) bool {
	l, ok := err.(*LimitedError)
	*le = l
	return ok && l.RetryAfter > 0
}

func TestLoginErrors(t *testing.T) {
	a, _ := newAuth(t, Options{})
	req := httptest.NewRequest("POST", "/ui/login", nil)
	if _, err := a.Login(httptest.NewRecorder(), req, "not-a-token-at-all"); err != ErrBadToken {
		t.Fatalf("wrong token: %v", err)
	}
	req = httptest.NewRequest("POST", "/ui/login", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if _, err := a.Login(httptest.NewRecorder(), req, adminToken); err != ErrCrossSite {
		t.Fatalf("cross-site login: %v", err)
	}
}

func TestSessionsAreBounded(t *testing.T) {
	a, clk := newAuth(t, Options{MaxSessions: 3})
	var first *http.Cookie
	for i := range 5 {
		c, _ := login(t, a, adminToken)
		if i == 0 {
			first = c
		}
		clk.Advance(time.Second)
	}
	if n := a.sessions.len(); n != 3 {
		t.Fatalf("%d sessions kept, want 3", n)
	}
	if _, ok := a.sessions.get(first.Value, clk.Now()); ok {
		t.Fatal("the oldest session was kept")
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name   string
		tokens []Token
	}{
		{"no name", []Token{{Role: RoleAdmin, Value: adminToken}}},
		{"bad role", []Token{{Name: "a", Role: "root", Value: adminToken}}},
		{"repeated", []Token{{Name: "a", Role: RoleAdmin, Value: adminToken}, {Name: "b", Role: RoleReadOnly, Value: adminToken}}},
	}
	for _, tt := range tests {
		if _, err := New(Options{Tokens: tt.tokens}); err == nil {
			t.Errorf("%s: no error", tt.name)
		} else if strings.Contains(err.Error(), adminToken) {
			t.Errorf("%s: error repeats the token", tt.name)
		}
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/ui/messages?team=billing", "/ui/messages?team=billing"},
		{"/ui/", "/ui/"},
		{"", "/ui/"},
		{"https://evil.example/ui/", "/ui/"},
		{"//evil.example/ui/", "/ui/"},
		{"/ui//evil.example", "/ui/"},
		{"/ui/\\evil", "/ui/"},
		{"/v1/messages", "/ui/"},
		{"/ui/x\r\nSet-Cookie: a=b", "/ui/"},
	}
	for _, tt := range tests {
		if got := SafeNext(tt.in, "/ui/"); got != tt.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/ui/", "/ui/messages?id=web:1", "//x", "/ui/../../etc", "https://a/ui/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := SafeNext(next, "")
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || !strings.HasPrefix(got, "/ui/") || strings.Contains(got, "//") {
			t.Fatalf("SafeNext(%q) = %q leaves the console", next, got)
		}
	})
}

func TestLoadOrCreateToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "ops-token")
	v, created, err := LoadOrCreateToken(path)
	if err != nil || !created || len(v) != 64 {
		t.Fatalf("first call: %q %v %v", v, created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", st.Mode(), err)
	}
	again, created, err := LoadOrCreateToken(path)
	if err != nil || created || again != v {
		t.Fatalf("second call: %q %v %v", again, created, err)
	}
	if err := os.WriteFile(path, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateToken(path); err == nil || strings.Contains(err.Error(), "short") {
		t.Fatalf("a short token file: %v", err)
	}
}
