package x

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/x/xtest"
	"github.com/switchboard/switchboard/internal/secret"
)

// dmOAuth1Options reads only DMs, signed with OAuth 1.0a user context.
func dmOAuth1Options(e *env) Options {
	o := e.options()
	o.Mentions = false
	o.BearerToken = ""
	o.DMs = &DMOptions{OAuth1: &OAuth1Credentials{
		ConsumerKey: e.api.ConsumerKey, ConsumerSecret: secret.Secret(e.api.ConsumerSecret),
		AccessToken: e.api.AccessToken, AccessTokenSecret: secret.Secret(e.api.AccessTokenSecret),
	}}
	return o
}

// TestDMsOAuth1: DMs read with OAuth 1.0a: every request is signed (the
// fake verifies each signature, timestamp and nonce), no token is ever
// refreshed, and paging and checkpoints work as with OAuth 2.0.
func TestDMsOAuth1(t *testing.T) {
	e := newEnv(t)
	e.api.AddDM(dms(1, 3)...)
	r := e.start(dmOAuth1Options(e))
	e.step.waitPolled(t, dmsName)
	e.api.AddDM(dms(10, 12)...) // three pages of 5 in one poll, one clock second
	e.step.next(t, dmsName)
	e.clk.Advance(3 * time.Hour) // nothing expires
	e.api.AddDM(dm(30, "2002", "myöhemmin"))
	e.step.next(t, dmsName)

	want := append(ids(1, 3), ids(17, 5)...)
	want = append(want, ids(12, 5)...)
	want = append(want, ids(10, 2)...)
	want = append(want, pid(30))
	if got := e.pub.SourceIDs(); !equal(got, want) {
		t.Fatalf("published %v\nwant      %v", got, want)
	}
	if f := e.api.OAuth1Failures(); len(f) != 0 {
		t.Fatalf("the fake refused signatures: %v", f)
	}
	nonces := map[string]bool{}
	for _, rq := range e.api.Requests(xtest.DMEvents) {
		if !strings.HasPrefix(rq.Auth, "OAuth ") || !strings.Contains(rq.Auth, `oauth_token="`+percentEncode(e.api.AccessToken)+`"`) {
			t.Fatalf("request not signed: %q", rq.Auth)
		}
		_, rest, _ := strings.Cut(rq.Auth, `oauth_nonce="`)
		n, _, _ := strings.Cut(rest, `"`)
		if nonces[n] {
			t.Fatalf("nonce %s sent twice", n)
		}
		nonces[n] = true
		if strings.Contains(rq.Auth, percentEncode(e.api.ConsumerSecret)) || strings.Contains(rq.Auth, percentEncode(e.api.AccessTokenSecret)) {
			t.Fatal("a secret travelled in the header")
		}
	}
	if n := len(e.api.Requests(xtest.Token)); n != 0 {
		t.Fatalf("%d OAuth 2.0 token requests with OAuth 1.0a", n)
	}
	if n := len(e.api.Requests(xtest.Me)); n != 0 {
		t.Fatalf("%d /2/users/me requests with OAuth 1.0a: config check matches its access token to user_id", n)
	}
	if st := r.status(t, dmsName); st.State != connectors.StateRunning || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}

// TestDMsOAuth1Refused: X refusing the signature (revoked or regenerated
// token, wrong secret, a clock off) or DM access makes the stream
// unauthorized, with what to check and without a secret; nothing is
// retried as a token refresh.
func TestDMsOAuth1Refused(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(e *env, o *Options)
		fakeSays  string
		wantError []string
	}{
		{"token revoked", func(e *env, _ *Options) { e.api.RevokeOAuth1() }, "revoked",
			[]string{"refused the OAuth 1.0a signature", "HTTP 401", "connectors.x.dms.oauth1", "access_token_secret", "clock"}},
		{"wrong consumer secret", func(_ *env, o *Options) { o.DMs.OAuth1.ConsumerSecret = "not-the-secret" }, "wrong signature",
			[]string{"refused the OAuth 1.0a signature", "consumer_secret"}},
		{"clock ten minutes off", func(e *env, _ *Options) {
			e.api.Now = func() time.Time { return e.clk.Now().Add(10 * time.Minute) }
		}, "stale timestamp", []string{"refused the OAuth 1.0a signature", "clock"}},
		{"no DM permission", func(e *env, _ *Options) {
			e.api.Fail(xtest.DMEvents, xtest.Fault{Status: 403, Sticky: true, Body: `{"title":"Forbidden","type":"about:blank","status":403,"detail":"Forbidden"}`})
		}, "", []string{"HTTP 403", "Read and write and Direct message", "regenerate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.api.AddDM(dms(1, 1)...)
			o := dmOAuth1Options(e)
			tt.setup(e, &o)
			r := e.start(o)
			st := r.waitState(t, dmsName, connectors.StateUnauthorized)
			for _, w := range tt.wantError {
				if !strings.Contains(st.LastError, w) {
					t.Fatalf("last_error %q lacks %q", st.LastError, w)
				}
			}
			for _, s := range []string{e.api.ConsumerSecret, e.api.AccessTokenSecret, percentEncode(e.api.ConsumerSecret), "not-the-secret"} {
				if strings.Contains(st.LastError, s) {
					t.Fatalf("last_error shows a secret: %q", st.LastError)
				}
			}
			if f := e.api.OAuth1Failures(); tt.fakeSays != "" && (len(f) == 0 || !strings.Contains(f[0], tt.fakeSays)) {
				t.Fatalf("the fake refused for %v, want %q", f, tt.fakeSays)
			}
			if len(e.pub.SourceIDs()) != 0 || len(e.api.Requests(xtest.Token)) != 0 {
				t.Fatal("published, or tried an OAuth 2.0 refresh")
			}
		})
	}
}

// TestDMOptionsExclusive: the two user-token flows do not mix, and OAuth
// 1.0a needs all four values.
func TestDMOptionsExclusive(t *testing.T) {
	e := newEnv(t)
	both := dmOAuth1Options(e)
	both.DMs.ClientID, both.DMs.RefreshToken, both.DMs.Store = "c", "r", &memTokens{}
	half := dmOAuth1Options(e)
	half.DMs.OAuth1.AccessTokenSecret = ""
	for name, o := range map[string]Options{"both flows": both, "no token secret": half} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
