package x

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/x/xtest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/testwait"
)

const dmsName = "x.dms"

// dmOptions reads only DMs, with a fresh refresh token.
func dmOptions(e *env, tokens TokenStore) Options {
	o := e.options()
	o.Mentions = false
	o.BearerToken = ""
	o.DMs = &DMOptions{ClientID: e.api.ClientID, RefreshToken: secret.Secret(e.api.IssueRefreshToken()), Store: tokens, StoreName: "/etc/switchboard/x-refresh-token"}
	return o
}

func dm(n int, sender, text string) xtest.DM {
	return xtest.DM{ID: pid(n), Text: text, SenderID: sender, ConversationID: "2001-" + account}
}

func dms(from, n int) []xtest.DM {
	var out []xtest.DM
	for i := 0; i < n; i++ {
		out = append(out, dm(from+i, "2001", "hei"))
	}
	return out
}

// TestDMsPageUntilCheckpoint: DMs have no since_id; a poll pages newest
// first and stops at the page holding the checkpointed event.
func TestDMsPageUntilCheckpoint(t *testing.T) {
	e := newEnv(t)
	tokens := &memTokens{}
	e.api.AddDM(dms(1, 8)...)
	o := dmOptions(e, tokens)
	first := o.DMs.RefreshToken.Reveal()
	r := e.start(o)
	e.step.waitPolled(t, dmsName)
	if got := e.pub.SourceIDs(); !equal(got, ids(4, 5)) {
		t.Fatalf("first start published %v, want the newest page %v", got, ids(4, 5))
	}
	var cp dmCheckpoint
	e.checkpoint(dmsName, &cp)
	if cp.LastID != pid(8) || cp.Token != "" {
		t.Fatalf("checkpoint %+v", cp)
	}
	if valid := e.api.ValidRefreshTokens(); len(valid) != 1 || valid[0] != tokens.last() || tokens.last() == first {
		t.Fatalf("rotated refresh token not saved: saved %v, valid at X %v", tokens.saved, valid)
	}

	e.api.AddDM(dm(10, "2001", "lasku?"), dm(11, "2002", "paketti"), dm(12, account, "vastaus"),
		xtest.DM{ID: pid(13), EventType: "ParticipantsJoin", SenderID: "2002", ConversationID: pid(13)},
		dm(14, "2001", "a"), dm(15, "2001", "b"), dm(16, "2002", "c"))
	before := len(e.api.Requests(xtest.DMEvents))
	e.step.next(t, dmsName)
	reqs := e.api.Requests(xtest.DMEvents)[before:]
	if len(reqs) != 2 {
		t.Fatalf("poll made %d requests, want 2: the second page holds the checkpointed event", len(reqs))
	}
	for i, rq := range reqs {
		q := rq.Query
		if q.Has("since_id") || q.Get("event_types") != "MessageCreate" || q.Get("expansions") != "sender_id" {
			t.Fatalf("request %d query %v", i, q)
		}
		for _, f := range []string{"sender_id", "dm_conversation_id", "created_at", "text"} {
			if !slices.Contains(strings.Split(q.Get("dm_event.fields"), ","), f) {
				t.Fatalf("dm_event.fields %q lacks %s", q.Get("dm_event.fields"), f)
			}
		}
		if (q.Get("pagination_token") != "") != (i == 1) {
			t.Fatalf("request %d pagination_token %q", i, q.Get("pagination_token"))
		}
		if !strings.HasPrefix(rq.Auth, "Bearer at-") {
			t.Fatalf("DMs must use the user access token, sent %q", rq.Auth)
		}
	}
	want := append(ids(4, 5), pid(11), pid(14), pid(15), pid(16), pid(10))
	if got := e.pub.SourceIDs(); !equal(got, want) {
		t.Fatalf("published %v\nwant      %v (own DM skipped)", got, want)
	}
	e.checkpoint(dmsName, &cp)
	if cp.LastID != pid(16) || cp.Token != "" || cp.Newest != "" {
		t.Fatalf("checkpoint %+v", cp)
	}
	got := e.pub.BySourceID(pid(10))
	wantEnv := message.Envelope{ID: "x:" + pid(10), Channel: "x", Kind: message.KindDM, SourceID: pid(10), ThreadID: "2001-" + account,
		URL: "https://x.com/messages/2001-" + account, Author: message.Author{ID: "2001", Name: "Maija Meikäläinen", Handle: "maija"}, Text: "lasku?"}
	if got.ID != wantEnv.ID || got.Kind != wantEnv.Kind || got.ThreadID != wantEnv.ThreadID || got.URL != wantEnv.URL ||
		got.Author != wantEnv.Author || got.Text != wantEnv.Text || !got.CreatedAt.Equal(t0.Add(10*time.Second)) ||
		got.Metadata["dm_conversation_id"] != "2001-"+account || got.Metadata["account_id"] != account {
		t.Fatalf("DM envelope\n got %+v\nwant %+v", *got, wantEnv)
	}
	if st := r.status(t, dmsName); st.LastError != "" || st.Ingested != 10 {
		t.Fatalf("status %+v", st)
	}
}

// TestDMsEmptyPageGoesOn: a DM page emptied by filtering after paging, with
// a next_token, does not end the cycle before the checkpointed event.
func TestDMsEmptyPageGoesOn(t *testing.T) {
	e := newEnv(t)
	e.api.AddDM(dms(1, 8)...)
	e.start(dmOptions(e, &memTokens{}))
	e.step.waitPolled(t, dmsName) // the newest page: 4..8

	e.api.AddDM(dms(10, 13)...) // pages of 5: 22..18, 17..13, 12..10, then 8..4
	for i := 13; i <= 17; i++ {
		d := dm(i, "2001", "hei")
		d.Filtered = true
		e.api.AddDM(d)
	}
	e.step.next(t, dmsName)
	want := append(ids(4, 5), ids(18, 5)...)
	want = append(want, ids(10, 3)...)
	if got := e.pub.SourceIDs(); !equal(got, want) {
		t.Fatalf("published %v\nwant      %v", got, want)
	}
	var cp dmCheckpoint
	e.checkpoint(dmsName, &cp)
	if cp.LastID != pid(22) || cp.Token != "" || cp.Newest != "" {
		t.Fatalf("checkpoint %+v, want last_event_id %s", cp, pid(22))
	}
}

// TestDMsInterruptedCycleResumes: a cycle cut by the per-poll budget goes
// on from the saved pagination token; a token X no longer accepts pages
// again from the newest. Either way nothing is lost and the checkpoint ends
// at the newest event.
func TestDMsInterruptedCycleResumes(t *testing.T) {
	for _, invalidate := range []bool{false, true} {
		name := "saved token"
		if invalidate {
			name = "token refused"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.api.AddDM(dms(1, 8)...)
			o := dmOptions(e, &memTokens{})
			o.ReadsPerPoll = 5 // one page per poll
			r := e.start(o)
			e.step.waitPolled(t, dmsName)

			e.api.AddDM(dms(10, 12)...) // pid(10)..pid(21)
			e.step.next(t, dmsName)
			var cp dmCheckpoint
			e.checkpoint(dmsName, &cp)
			if cp.LastID != pid(8) || cp.Newest != pid(21) || cp.Token == "" {
				t.Fatalf("checkpoint of the cut cycle %+v", cp)
			}
			e.api.AddDM(dm(30, "2002", "uusi"))
			if invalidate {
				e.api.InvalidatePaginationTokens()
			}
			for i := 0; i < 6; i++ {
				e.step.next(t, dmsName)
			}
			got := e.pub.SourceIDs()
			want := append(ids(4, 5), ids(10, 12)...)
			want = append(want, pid(30))
			slices.Sort(got)
			slices.Sort(want)
			if !equal(got, want) {
				t.Fatalf("published %v\nwant      %v", got, want)
			}
			e.checkpoint(dmsName, &cp)
			if cp.LastID != pid(30) || cp.Token != "" {
				t.Fatalf("final checkpoint %+v", cp)
			}
			if st := r.status(t, dmsName); st.Restarts != 0 {
				t.Fatalf("status %+v", st)
			}
		})
	}
}

// TestDMTokenRefresh: an access token X refuses is refreshed once; every
// rotated refresh token is saved, and a restart from the saved one works.
func TestDMTokenRefresh(t *testing.T) {
	e := newEnv(t)
	tokens := &memTokens{}
	e.api.AddDM(dms(1, 2)...)
	o := dmOptions(e, tokens)
	r := e.start(o)
	e.step.waitPolled(t, dmsName)

	e.api.ExpireAccessTokens() // X refuses the cached access token early
	e.api.AddDM(dm(5, "2001", "uusi"))
	e.step.next(t, dmsName)
	if got := e.pub.SourceIDs(); !equal(got, []string{pid(1), pid(2), pid(5)}) {
		t.Fatalf("published %v", got)
	}
	if len(tokens.saved) != 2 {
		t.Fatalf("saved %d rotated refresh tokens, want 2", len(tokens.saved))
	}
	if valid := e.api.ValidRefreshTokens(); len(valid) != 1 || valid[0] != tokens.last() {
		t.Fatal("the saved refresh token is not the one X accepts")
	}
	if st := r.status(t, dmsName); st.LastError != "" {
		t.Fatalf("status %+v", st)
	}

	// The access token expires by time: renewed before it is used, so
	// the poll needs one request only.
	e.clk.Advance(2 * time.Hour)
	before := len(e.api.Requests(xtest.DMEvents))
	e.step.next(t, dmsName)
	if len(tokens.saved) != 3 {
		t.Fatalf("saved %d tokens after expiry, want 3", len(tokens.saved))
	}
	if n := len(e.api.Requests(xtest.DMEvents)) - before; n != 1 {
		t.Fatalf("%d DM requests after expiry, want 1 (refreshed before, not after a 401)", n)
	}

	// Restart from the saved token.
	r.stop()
	o.DMs.RefreshToken = secret.Secret(tokens.last())
	e.api.AddDM(dm(7, "2001", "restart"))
	r = e.start(o)
	e.step.waitPolled(t, dmsName)
	if got := e.pub.SourceIDs(); got[len(got)-1] != pid(7) {
		t.Fatalf("after restart published %v", got)
	}
	if st := r.status(t, dmsName); st.State != connectors.StateRunning || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}

// TestDMConfidentialClient: with a client secret the token endpoint is
// called with HTTP basic auth.
func TestDMConfidentialClient(t *testing.T) {
	for _, tt := range []struct {
		secret string
		ok     bool
	}{{"s3cret", true}, {"wrong", false}} {
		t.Run(tt.secret, func(t *testing.T) {
			e := newEnv(t)
			e.api.ClientSecret = "s3cret"
			e.api.AddDM(dms(1, 1)...)
			o := dmOptions(e, &memTokens{})
			o.DMs.ClientSecret = secret.Secret(tt.secret)
			r := e.start(o)
			if tt.ok {
				e.step.waitPolled(t, dmsName)
				if got := e.pub.SourceIDs(); !equal(got, []string{pid(1)}) {
					t.Fatalf("published %v", got)
				}
				return
			}
			st := r.waitState(t, dmsName, connectors.StateUnauthorized)
			if !strings.Contains(st.LastError, "unauthorized_client") || !strings.Contains(st.LastError, "client_secret") || strings.Contains(st.LastError, "wrong") {
				t.Fatalf("last_error %q", st.LastError)
			}
		})
	}
}

// TestDMAuthFailures: a revoked grant and a refused DM read both stop the
// stream as unauthorized, saying what to do, without showing a token.
func TestDMAuthFailures(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *env)
		want  []string
	}{
		{"refresh token revoked", func(e *env) { e.api.RevokeRefreshTokens() },
			[]string{"refused to refresh", "invalid_request", "re-authorize", "/etc/switchboard/x-refresh-token"}},
		{"DM access forbidden", func(e *env) {
			e.api.Fail(xtest.DMEvents, xtest.Fault{Status: 403, Sticky: true, Body: `{"title":"Forbidden","type":"about:blank","status":403,"detail":"Forbidden"}`})
		}, []string{"refused the DM user token", "HTTP 403", "dm.read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			o := dmOptions(e, &memTokens{})
			tt.setup(e)
			r := e.start(o)
			st := r.waitState(t, dmsName, connectors.StateUnauthorized)
			for _, w := range tt.want {
				if !strings.Contains(st.LastError, w) {
					t.Fatalf("last_error %q lacks %q", st.LastError, w)
				}
			}
			if strings.Contains(st.LastError, o.DMs.RefreshToken.Reveal()) || strings.Contains(st.LastError, "at-") {
				t.Fatalf("last_error shows a token: %q", st.LastError)
			}
		})
	}
}

// TestDMRotatedTokenNotSaved: when the rotated token cannot be saved the
// stream keeps reading but says so in its status.
func TestDMRotatedTokenNotSaved(t *testing.T) {
	e := newEnv(t)
	e.api.AddDM(dms(1, 1)...)
	r := e.start(dmOptions(e, &memTokens{fail: errors.New("read-only file system")}))
	e.step.waitPolled(t, dmsName)
	if got := e.pub.SourceIDs(); !equal(got, []string{pid(1)}) {
		t.Fatalf("published %v", got)
	}
	if st := r.status(t, dmsName); !strings.Contains(st.LastError, "rotated refresh token is not saved") || !strings.Contains(st.LastError, "read-only") {
		t.Fatalf("last_error %q", st.LastError)
	}
}

func TestFileTokenStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x-refresh-token")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := FileTokenStore{Path: path}
	if err := s.SaveRefreshToken(t.Context(), "new-token"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "new-token\n" {
		t.Fatalf("file holds %q (%v)", data, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	err = FileTokenStore{Path: filepath.Join(dir, "missing", "tok")}.SaveRefreshToken(t.Context(), "secret-token")
	if err == nil || !strings.Contains(err.Error(), "missing/tok") || strings.Contains(err.Error(), "secret-token") {
		t.Fatalf("error %v: want the path and never the token", err)
	}
}

// uncheckedMsg is the warning of a start whose account check X could not
// answer.
const uncheckedMsg = "could not check which X account the OAuth 2.0 token acts for; reading DMs anyway, the next start checks again"

// TestDMAccountChecked: with an OAuth 2.0 token the DM stream asks X whom
// it acts for before its first DM request. The account's token polls as
// always; when X cannot answer, a warning says why and the stream polls
// anyway, and the next start (here: a restart after a failed poll) asks
// again, unless the answer was had or the window is spent.
func TestDMAccountChecked(t *testing.T) {
	spent := http.Header{"X-Rate-Limit-Remaining": {"0"}, "X-Rate-Limit-Reset": {strconv.FormatInt(t0.Add(15*time.Minute).Unix(), 10)}}
	tests := []struct {
		name  string
		fault *xtest.Fault
		// reason is in the warning; asked is how many times /2/users/me
		// was asked after the restart.
		reason string
		asked  int
	}{
		{name: "the account's token", asked: 1},
		{name: "503", fault: &xtest.Fault{Status: 503, Body: `{"title":"Service Unavailable"}`}, reason: "HTTP 503", asked: 2},
		{name: "429", fault: &xtest.Fault{Status: 429, Body: `{"title":"Too Many Requests"}`, Header: spent}, reason: "rate limited", asked: 1},
		{name: "malformed", fault: &xtest.Fault{Body: `<html>maintenance</html>`}, reason: "malformed response", asked: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			core, logs := observer.New(zapcore.WarnLevel)
			e.log = zap.New(core)
			e.api.AddDM(dms(1, 2)...)
			if tt.fault != nil {
				e.api.Fail(xtest.Me, *tt.fault)
			}
			r := e.start(dmOptions(e, &memTokens{}))
			e.step.waitPolled(t, dmsName)
			if got := e.pub.SourceIDs(); !equal(got, ids(1, 2)) {
				t.Fatalf("published %v", got)
			}
			all := e.api.Requests("")
			me := slices.IndexFunc(all, func(r xtest.Request) bool { return r.Endpoint == xtest.Me })
			first := slices.IndexFunc(all, func(r xtest.Request) bool { return r.Endpoint == xtest.DMEvents })
			if me < 0 || me > first || !strings.HasPrefix(all[me].Auth, "Bearer at-") {
				t.Fatalf("requests %v: /2/users/me must come first, with the user token", all)
			}
			warned := logs.FilterMessage(uncheckedMsg).All()
			if tt.fault == nil && len(warned) != 0 || tt.fault != nil && (len(warned) != 1 || !strings.Contains(warned[0].ContextMap()["error"].(string), tt.reason)) {
				t.Fatalf("warnings %v, want one saying %q", warned, tt.reason)
			}
			if st := r.status(t, dmsName); st.State != connectors.StateRunning || st.LastError != "" {
				t.Fatalf("status %+v", st)
			}

			// A DM poll fails for good: the supervisor starts the stream again.
			e.api.Fail(xtest.DMEvents, xtest.Fault{Status: 503}, xtest.Fault{Status: 503}, xtest.Fault{Status: 503})
			e.step.next(t, dmsName)
			if st := r.status(t, dmsName); st.Restarts != 1 {
				t.Fatalf("status %+v, want one restart", st)
			}
			if n := len(e.api.Requests(xtest.Me)); n != tt.asked {
				t.Fatalf("/2/users/me asked %d times after the restart, want %d", n, tt.asked)
			}
		})
	}
}

// TestDMTokenOfAnotherAccount: a token authorized as another account reads
// nothing; the status names both accounts and no secret, the stream is
// unauthorized, and its restarts do not ask X again.
func TestDMTokenOfAnotherAccount(t *testing.T) {
	e := newEnv(t)
	e.api.AddDM(dms(1, 2)...)
	o := dmOptions(e, &memTokens{})
	o.DMs.RefreshToken = secret.Secret(e.api.IssueRefreshTokenFor("2001"))
	r := e.start(o)
	st := r.waitState(t, dmsName, connectors.StateUnauthorized)
	want := "x.dms: the OAuth 2.0 token acts for user 2001 (@maija), not user_id " + account + ", so no DMs are read"
	if !strings.HasPrefix(st.LastError, want) || !strings.Contains(st.LastError, o.DMs.StoreName) {
		t.Fatalf("last error %q\nwant it to begin %q and name the refresh token file", st.LastError, want)
	}
	testwait.Until(t, 0, "the supervisor to retry", func() bool { return r.status(t, dmsName).Restarts >= 3 })
	r.stop()
	if n := len(e.api.Requests(xtest.Me)); n != 1 {
		t.Fatalf("/2/users/me asked %d times, want once: the token's account cannot change", n)
	}
	if n := len(e.api.Requests(xtest.DMEvents)); n != 0 || len(e.pub.SourceIDs()) != 0 {
		t.Fatalf("%d DM requests, %d published: another account's DMs were read", n, len(e.pub.SourceIDs()))
	}
	tokens := append(e.api.ValidRefreshTokens(), o.DMs.RefreshToken.Reveal(), strings.TrimPrefix(e.api.Requests(xtest.Me)[0].Auth, "Bearer "))
	for _, tok := range tokens {
		if strings.Contains(r.status(t, dmsName).LastError, tok) {
			t.Fatal("the status shows a token")
		}
	}
}
