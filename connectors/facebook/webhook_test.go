package facebook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors/facebook"
	"github.com/switchboard/switchboard/internal/testclock"
	"github.com/switchboard/switchboard/internal/testwait"
)

const (
	verifyToken = "v3rify-me"
	appSecret   = "0123456789abcdef-app-secret"
)

type counter struct{ n atomic.Int32 }

func (c *counter) Trigger() { c.n.Add(1) }

func sign(body string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func newWebhook(t *testing.T, pages map[string]facebook.Trigger, now func() time.Time) *facebook.Webhook {
	t.Helper()
	if now == nil {
		now = func() time.Time { return t0 }
	}
	w, err := facebook.NewWebhook(facebook.WebhookConfig{VerifyToken: verifyToken, AppSecret: appSecret, Pages: pages, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// feedChange is a signed-able feed notification for page, sent at sent.
func feedChange(page string, sent time.Time, comment string) string {
	return fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","post_id":"%s_123","comment_id":"%s","created_time":%d,"from":{"id":"9001","name":"Maija"},"message":"Hei"}}]}]}`,
		page, sent.Unix(), page, comment, sent.Unix()-1)
}

func post(w http.Handler, body, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/facebook", strings.NewReader(body))
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, req)
	return rec
}

func TestWebhookHandshake(t *testing.T) {
	w := newWebhook(t, nil, nil)
	tests := []struct {
		name   string
		query  url.Values
		code   int
		answer string
	}{
		{"ok", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"1158201444"}}, 200, "1158201444"},
		{"wrong token", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"guess"}, "hub.challenge": {"1"}}, 403, ""},
		{"no token", url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1"}}, 403, ""},
		{"wrong mode", url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"1"}}, 403, ""},
		{"script challenge", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"<script>"}}, 400, ""},
		{"no challenge", url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/facebook?"+tt.query.Encode(), nil))
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.code, rec.Body)
			}
			if tt.code == 200 && rec.Body.String() != tt.answer {
				t.Fatalf("answer %q, want the challenge %q", rec.Body, tt.answer)
			}
			if tt.code != 200 && strings.Contains(rec.Body.String(), verifyToken) {
				t.Fatal("the verify token was echoed")
			}
		})
	}
}

func TestWebhookNotifications(t *testing.T) {
	feed := feedChange("111000111", t0.Add(-time.Second), "123_456")
	ms := t0.Add(-2 * time.Second).UnixMilli()
	messaging := fmt.Sprintf(`{"object":"page","entry":[{"id":"222000222","time":%d,"messaging":[{"sender":{"id":"7001"},"recipient":{"id":"222000222"},"timestamp":%d,"message":{"mid":"m_1","text":"Hei"}}]},{"id":"111000111","time":%d,"changes":[]}]}`, ms, ms, ms)
	old := feedChange("111000111", t0.Add(-6*time.Minute), "123_457")
	future := feedChange("111000111", t0.Add(2*time.Minute), "123_458")
	noTime := `{"object":"page","entry":[{"id":"111000111","changes":[]}]}`
	tests := []struct {
		name, body, sig string
		code            int
		one, two        int32
	}{
		{"feed change", feed, sign(feed), 200, 1, 0},
		{"messenger and feed", messaging, sign(messaging), 200, 1, 1},
		{"unknown page", `{"object":"page","entry":[{"id":"999","time":1}]}`, sign(`{"object":"page","entry":[{"id":"999","time":1}]}`), 200, 0, 0},
		{"sent 6 minutes ago", old, sign(old), 200, 0, 0},
		{"sent in the future", future, sign(future), 200, 0, 0},
		{"no time", noTime, sign(noTime), 200, 0, 0},
		{"bad signature", feed, sign(feed + " "), 403, 0, 0},
		{"no signature", feed, "", 403, 0, 0},
		{"sha1 only", feed, "sha1=abc", 403, 0, 0},
		{"not hex", feed, "sha256=zz", 403, 0, 0},
		{"other object", `{"object":"user","entry":[{"id":"111000111"}]}`, sign(`{"object":"user","entry":[{"id":"111000111"}]}`), 400, 0, 0},
		{"not json", `entry=1`, sign(`entry=1`), 400, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			one, two := &counter{}, &counter{}
			w := newWebhook(t, map[string]facebook.Trigger{"111000111": one, "222000222": two}, nil)
			rec := post(w, tt.body, tt.sig)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.code, rec.Body)
			}
			if one.n.Load() != tt.one || two.n.Load() != tt.two {
				t.Fatalf("triggers %d/%d, want %d/%d", one.n.Load(), two.n.Load(), tt.one, tt.two)
			}
		})
	}
	t.Run("method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		newWebhook(t, nil, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("PUT answered %d", rec.Code)
		}
	})
}

// TestReplayedWebhookTriggersNoPoll: a correctly signed notification sent
// again triggers nothing, however often; a new notification does. Once the
// first copy is too old to count, a copy is stale anyway.
func TestReplayedWebhookTriggersNoPoll(t *testing.T) {
	c := testclock.New(t0)
	page := &counter{}
	w := newWebhook(t, map[string]facebook.Trigger{pageID: page}, c.Now)
	body := feedChange(pageID, t0, "123_456")
	if rec := post(w, body, sign(body)); rec.Code != 200 || page.n.Load() != 1 {
		t.Fatalf("first delivery: %d, %d triggers", rec.Code, page.n.Load())
	}
	for i := range 10 {
		c.Advance(20 * time.Second)
		if rec := post(w, body, sign(body)); rec.Code != 200 {
			t.Fatalf("replay %d answered %d: Facebook must not be told to send it again", i, rec.Code)
		}
	}
	if n := page.n.Load(); n != 1 {
		t.Fatalf("10 replays triggered %d more polls, want none", n-1)
	}
	next := feedChange(pageID, c.Now(), "123_457")
	if post(w, next, sign(next)); page.n.Load() != 2 {
		t.Fatal("a new notification did not trigger")
	}
	c.Advance(10 * time.Minute)
	if post(w, body, sign(body)); page.n.Load() != 2 {
		t.Fatal("an old notification triggered after it was forgotten")
	}
}

// TestWebhookBodyLimits: a body over 256 KiB is refused without being
// read whole, and an unsigned one before its body is read at all.
func TestWebhookBodyLimits(t *testing.T) {
	page := &counter{}
	w := newWebhook(t, map[string]facebook.Trigger{pageID: page}, nil)
	big := feedChange(pageID, t0, strings.Repeat("1", 300<<10))
	if rec := post(w, big, sign(big)); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("300 KiB body answered %d", rec.Code)
	}
	// Without Content-Length (chunked), the reader stops at the limit.
	read := &countingReader{r: strings.NewReader(big)}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/facebook", read)
	req.ContentLength = -1
	req.Header.Set("X-Hub-Signature-256", sign(big))
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || read.n > 257<<10 {
		t.Fatalf("chunked 300 KiB body: %d after reading %d bytes", rec.Code, read.n)
	}
	unsigned := &countingReader{r: strings.NewReader(big)}
	req = httptest.NewRequest(http.MethodPost, "/webhooks/facebook", unsigned)
	rec = httptest.NewRecorder()
	w.ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || unsigned.n != 0 {
		t.Fatalf("unsigned body: %d after reading %d bytes, want 403 before reading", rec.Code, unsigned.n)
	}
	if page.n.Load() != 0 {
		t.Fatal("a refused body triggered a poll")
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestWebhookConcurrencyCap: slow senders hold at most 16 slots; the next
// one is answered 503 at once.
func TestWebhookConcurrencyCap(t *testing.T) {
	w := newWebhook(t, map[string]facebook.Trigger{pageID: &counter{}}, nil)
	srv := httptest.NewServer(w)
	defer srv.Close()
	body := feedChange(pageID, t0, "123_456")
	var writers []*io.PipeWriter
	done := make(chan int, 16)
	for range 16 {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		req, err := http.NewRequest(http.MethodPost, srv.URL, pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Hub-Signature-256", sign(body))
		go func() {
			resp, err := srv.Client().Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		if _, err := pw.Write([]byte(body[:10])); err != nil { // the handler holds its slot now
			t.Fatal(err)
		}
	}
	var code int
	testwait.Until(t, 10*time.Second, "a 503 for the 17th sender", func() bool {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", sign(body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		code = resp.StatusCode
		return code == http.StatusServiceUnavailable
	})
	for _, pw := range writers {
		_, _ = pw.Write([]byte(body[10:]))
		pw.Close()
	}
	for range 16 {
		if c := testwait.Receive(t, 10*time.Second, "a slow sender's answer", done); c != 200 {
			t.Fatalf("a slow sender got %d", c)
		}
	}
}

// TestWebhookTriggersImmediatePoll: with an hour between polls, a webhook
// makes the page poll at once and the new comment arrives in seconds.
func TestWebhookTriggersImmediatePoll(t *testing.T) {
	fake := newFake(t)
	p := fake.AddPost(pageID, visitor, "hei", t0.Add(-time.Hour))
	e := newEnv(t, fake)
	e.start(e.opts(), pageConfig(pageID, pageToken))
	e.mustPoll(pageID)
	w, err := facebook.NewWebhook(facebook.WebhookConfig{VerifyToken: verifyToken, AppSecret: appSecret,
		Pages: map[string]facebook.Trigger{pageID: e.runs[pageID].page}, Log: e.log, Metrics: e.metrics, Now: fake.Now})
	if err != nil {
		t.Fatal(err)
	}
	fake.Advance(10 * time.Second)
	c := fake.AddComment(p, visitor2, "Nopeasti perille", fake.Now().Add(-time.Second), "")
	body := feedChange(pageID, fake.Now(), c)
	if rec := post(w, body, sign(body)); rec.Code != 200 {
		t.Fatalf("webhook answered %d", rec.Code)
	}
	e.mustPoll(pageID)
	if e.pub.(*memPub).get(c) == nil {
		t.Fatal("the comment announced by the webhook was not ingested")
	}
	if n := e.metric("switchboard_facebook_webhook_requests_total", map[string]string{"result": "accepted"}); n != 1 {
		t.Errorf("accepted webhooks = %v", n)
	}
	// The same notification again: no poll.
	if rec := post(w, body, sign(body)); rec.Code != 200 {
		t.Fatalf("replay answered %d", rec.Code)
	}
	if n := e.metric("switchboard_facebook_webhook_requests_total", map[string]string{"result": "replayed"}); n != 1 {
		t.Errorf("replayed webhooks = %v", n)
	}
	if n := e.metric("switchboard_facebook_triggers_total", nil); n != 1 {
		t.Errorf("triggers = %v: the replay reached the poller", n)
	}
}

// TestTriggeredPollsKeepThePacing: webhook triggers bring a poll forward,
// but never to less than 10s after the previous poll started, and not at
// all while usage is high: then the scheduled (slower) poll reads it.
func TestTriggeredPollsKeepThePacing(t *testing.T) {
	t.Run("normal usage", func(t *testing.T) {
		fake := newFake(t)
		e := newEnv(t, fake)
		cfg := pageConfig(pageID, pageToken)
		cfg.PollInterval = time.Minute
		e.start(e.opts(), cfg)
		e.mustPoll(pageID)
		for range 5 {
			e.trigger(pageID)
		}
		at := e.runs[pageID].pollTimes()
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap < 10*time.Second {
				t.Fatalf("polls at %v: %s apart, want at least 10s", at, gap)
			}
		}
		if n := e.metric("switchboard_facebook_triggers_total", map[string]string{"result": "polled"}); n != 5 {
			t.Errorf("triggered polls = %v", n)
		}
	})
	t.Run("high usage", func(t *testing.T) {
		fake := newFake(t)
		fake.SetUsage(pageID, 80)
		e := newEnv(t, fake)
		cfg := pageConfig(pageID, pageToken)
		cfg.PollInterval = time.Minute
		e.start(e.opts(), cfg)
		e.mustPoll(pageID)
		before := fake.Requests(pageID)
		for i := range 10 {
			e.runs[pageID].page.Trigger()
			testwait.Until(t, 10*time.Second, "the trigger deferred", func() bool {
				return e.metric("switchboard_facebook_triggers_total", map[string]string{"result": "deferred"}) == float64(i+1)
			})
		}
		if n := fake.Requests(pageID) - before; n != 0 {
			t.Fatalf("10 triggers at 80%% usage made %d requests, want none before the schedule", n)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"object":"page","entry":[{"id":"111000111","time":1795169730,"changes":[{"field":"feed","value":{"item":"comment"}}]}]}`))
	f.Add([]byte(`{"object":"page","entry":[{"id":"1","time":1795169730123,"messaging":[]},{"id":"1","time":"x"},{"id":"x"},{"id":""},{}]}`))
	f.Add([]byte(`{"object":"page","entry":[{"id":"7","time":-1},{"id":"8","time":1e300},{"id":"9","time":99999999999999999999}]}`))
	f.Add([]byte(`{"object":"page","entry":null}`))
	f.Add([]byte(`{"object":"instagram"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		entries, err := facebook.ParseWebhook(body)
		if err != nil && entries != nil {
			t.Fatal("entries with an error")
		}
		seen := map[string]bool{}
		for _, e := range entries {
			if e.PageID == "" || len(e.PageID) > 30 || strings.Trim(e.PageID, "0123456789") != "" || seen[e.PageID] {
				t.Fatalf("unusable or repeated page id %q in %v", e.PageID, entries)
			}
			seen[e.PageID] = true
			if !e.Time.IsZero() && (e.Time.Before(time.Unix(0, 0)) || e.Time.Year() > 33658) {
				t.Fatalf("entry time %v out of range", e.Time)
			}
		}
	})
}
