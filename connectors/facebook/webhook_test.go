package facebook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors/facebook"
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

func newWebhook(t *testing.T, pages map[string]facebook.Trigger) *facebook.Webhook {
	t.Helper()
	w, err := facebook.NewWebhook(verifyToken, appSecret, pages, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookHandshake(t *testing.T) {
	w := newWebhook(t, nil)
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
	feed := `{"object":"page","entry":[{"id":"111000111","time":1795169730,"changes":[{"field":"feed","value":{"item":"comment","verb":"add","post_id":"111000111_123","comment_id":"123_456","created_time":1795169729,"from":{"id":"9001","name":"Maija"},"message":"Hei"}}]}]}`
	messaging := `{"object":"page","entry":[{"id":"222000222","time":1795169730123,"messaging":[{"sender":{"id":"7001"},"recipient":{"id":"222000222"},"timestamp":1795169730000,"message":{"mid":"m_1","text":"Hei"}}]},{"id":"111000111","time":1795169730123,"changes":[]}]}`
	tests := []struct {
		name, body, sig string
		code            int
		one, two        int32
	}{
		{"feed change", feed, sign(feed), 200, 1, 0},
		{"messenger and feed", messaging, sign(messaging), 200, 1, 1},
		{"unknown page", `{"object":"page","entry":[{"id":"999"}]}`, sign(`{"object":"page","entry":[{"id":"999"}]}`), 200, 0, 0},
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
			w := newWebhook(t, map[string]facebook.Trigger{"111000111": one, "222000222": two})
			req := httptest.NewRequest(http.MethodPost, "/webhooks/facebook", strings.NewReader(tt.body))
			if tt.sig != "" {
				req.Header.Set("X-Hub-Signature-256", tt.sig)
			}
			rec := httptest.NewRecorder()
			w.ServeHTTP(rec, req)
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
		newWebhook(t, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("PUT answered %d", rec.Code)
		}
	})
}

// TestWebhookTriggersImmediatePoll: with an hour between polls, a webhook
// makes the page poll at once and the new comment arrives in seconds.
func TestWebhookTriggersImmediatePoll(t *testing.T) {
	fake := newFake(t)
	post := fake.AddPost(pageID, visitor, "hei", t0.Add(-time.Hour))
	e := newEnv(t, fake)
	e.start(e.opts(), pageConfig(pageID, pageToken))
	e.mustPoll(pageID)
	w, err := facebook.NewWebhook(verifyToken, appSecret, map[string]facebook.Trigger{pageID: e.runs[pageID].page}, e.log, e.metrics)
	if err != nil {
		t.Fatal(err)
	}
	fake.Advance(10 * time.Second)
	c := fake.AddComment(post, visitor2, "Nopeasti perille", fake.Now().Add(-time.Second), "")
	body := `{"object":"page","entry":[{"id":"` + pageID + `","time":1795169730,"changes":[{"field":"feed","value":{"item":"comment","verb":"add"}}]}]}`
	req := httptest.NewRequest(http.MethodPost, "/webhooks/facebook", strings.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", sign(body))
	rec := httptest.NewRecorder()
	w.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("webhook answered %d", rec.Code)
	}
	e.mustPoll(pageID)
	if e.pub.(*memPub).get(c) == nil {
		t.Fatal("the comment announced by the webhook was not ingested")
	}
	if n := e.metric("switchboard_facebook_webhook_requests_total", map[string]string{"result": "accepted"}); n != 1 {
		t.Errorf("accepted webhooks = %v", n)
	}
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"object":"page","entry":[{"id":"111000111","time":1795169730,"changes":[{"field":"feed","value":{"item":"comment"}}]}]}`))
	f.Add([]byte(`{"object":"page","entry":[{"id":"1","messaging":[]},{"id":"1"},{"id":"x"},{"id":""},{}]}`))
	f.Add([]byte(`{"object":"page","entry":null}`))
	f.Add([]byte(`{"object":"instagram"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ids, err := facebook.ParseWebhook(body)
		if err != nil && ids != nil {
			t.Fatal("ids with an error")
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if id == "" || len(id) > 30 || strings.Trim(id, "0123456789") != "" || seen[id] {
				t.Fatalf("unusable or repeated page id %q in %v", id, ids)
			}
			seen[id] = true
		}
		if slices.Contains(ids, "") {
			t.Fatal("empty id")
		}
	})
}
