package targets

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/targetspec"
)

func testItem() *message.Routed {
	return &message.Routed{
		Envelope: message.Envelope{
			Version: 1, ID: "web:42", Channel: "web", Kind: message.KindWeb, SourceID: "42",
			Author: message.Author{Name: "Maija <admin>"}, Subject: "Lasku", Text: "Laskussa on virhe & muuta\ntoinen rivi",
			URL:       "https://example.com/c/42?a=1&b=2",
			CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), ReceivedAt: time.Date(2025, 1, 2, 3, 4, 6, 0, time.UTC),
		},
		Team: "billing", Topics: []string{"invoice"}, Priority: "high",
		Route: message.Route{RulesVersion: "v1", Matched: []string{"billing"}},
	}
}

// received is one request a fake webhook got.
type received struct {
	header http.Header
	body   []byte
}

// fakeHook is a webhook receiver answering with status(n) for the n-th
// request (from 1) and recording every request.
type fakeHook struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []received
	status func(n int) (int, http.Header)
}

func newFakeHook(t *testing.T, status func(n int) (int, http.Header)) *fakeHook {
	t.Helper()
	h := &fakeHook{status: status}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, received{header: r.Header.Clone(), body: body})
		n := len(h.reqs)
		h.mu.Unlock()
		code, hdr := h.status(n)
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *fakeHook) requests() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.reqs...)
}

func TestWebhookRequest(t *testing.T) {
	for _, format := range []string{targetspec.FormatJSON, targetspec.FormatSlack} {
		t.Run(format, func(t *testing.T) {
			hook := newFakeHook(t, func(int) (int, http.Header) { return http.StatusOK, nil })
			secret := "s3cret"
			w, err := NewWebhook(targetspec.Spec{Type: targetspec.Webhook, URL: hook.URL + "/hooks/T000/B000/XXXX?token=abc", Secret: "s3cret", Format: format}, nil)
			if err != nil {
				t.Fatal(err)
			}
			item := testItem()
			data, _ := json.Marshal(item)
			if err := w.Deliver(context.Background(), item, data); err != nil {
				t.Fatalf("deliver: %v", err)
			}
			reqs := hook.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if got := r.header.Get("Idempotency-Key"); got != `"web:42:billing"` {
				t.Errorf("Idempotency-Key %q", got)
			}
			if got := r.header.Get(HeaderTeam); got != "billing" {
				t.Errorf("team header %q", got)
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("content type %q", got)
			}
			ts := r.header.Get(HeaderTimestamp)
			if err := Verify([]byte(secret), ts, r.header.Get(HeaderSignature), r.body, time.Now(), 5*time.Minute); err != nil {
				t.Errorf("signature does not verify: %v", err)
			}
			if err := Verify([]byte("wrong"), ts, r.header.Get(HeaderSignature), r.body, time.Now(), 5*time.Minute); err == nil {
				t.Error("signature verifies with the wrong secret")
			}
			switch format {
			case targetspec.FormatJSON:
				var got message.Routed
				if err := json.Unmarshal(r.body, &got); err != nil || got.ID != "web:42" || got.Team != "billing" || got.Text != item.Text {
					t.Errorf("json body %s (%v)", r.body, err)
				}
			case targetspec.FormatSlack:
				var got struct{ Text string }
				if err := json.Unmarshal(r.body, &got); err != nil {
					t.Fatalf("slack body %s: %v", r.body, err)
				}
				for _, want := range []string{"*[high] billing* · web/web from Maija &lt;admin&gt;", "> Laskussa on virhe &amp; muuta\n> toinen rivi", "<https://example.com/c/42?a=1&b=2|Open on web>", "*Lasku*"} {
					if !strings.Contains(got.Text, want) {
						t.Errorf("slack text %q lacks %q", got.Text, want)
					}
				}
			}
		})
	}
}

func TestWebhookUnsignedWithoutSecret(t *testing.T) {
	hook := newFakeHook(t, func(int) (int, http.Header) { return http.StatusNoContent, nil })
	w, err := NewWebhook(targetspec.Spec{URL: hook.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Deliver(context.Background(), testItem(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got := hook.requests()[0].header.Get(HeaderSignature); got != "" {
		t.Fatalf("signature %q without a secret", got)
	}
}

func TestWebhookAnswers(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    http.Header
		ok        bool
		permanent bool
		retry     time.Duration
	}{
		{"200", 200, nil, true, false, 0},
		{"202", 202, nil, true, false, 0},
		{"400 refuses the item", 400, nil, false, true, 0},
		{"413 too large", 413, nil, false, true, 0},
		{"415", 415, nil, false, true, 0},
		{"422", 422, nil, false, true, 0},
		{"401 is a config problem: retry", 401, nil, false, false, 0},
		{"404 retry", 404, nil, false, false, 0},
		{"429 with Retry-After seconds", 429, http.Header{"Retry-After": {"7"}}, false, false, 7 * time.Second},
		{"503 with Retry-After date", 503, http.Header{"Retry-After": {time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}}, false, false, 89 * time.Second},
		{"500", 500, nil, false, false, 0},
		{"redirect not followed", 302, http.Header{"Location": {"https://elsewhere.example/"}}, false, false, 0},
		{"bad Retry-After ignored", 503, http.Header{"Retry-After": {"soon"}}, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := newFakeHook(t, func(int) (int, http.Header) { return tt.status, tt.header })
			w, err := NewWebhook(targetspec.Spec{URL: hook.URL + "/secret-path"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = w.Deliver(context.Background(), testItem(), []byte(`{}`))
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("permanent %v, want %v (%v)", IsPermanent(err), tt.permanent, err)
			}
			if got := RetryAfter(err); got < tt.retry || got > tt.retry+2*time.Second {
				t.Errorf("retry after %s, want about %s", got, tt.retry)
			}
			if err != nil && strings.Contains(err.Error(), "secret-path") {
				t.Errorf("error leaks the URL path: %v", err)
			}
			if n := len(hook.requests()); n != 1 {
				t.Errorf("%d requests, want 1 (redirects are not followed)", n)
			}
		})
	}
}

func TestWebhookTimeoutAndNetworkErrorsDoNotLeakURL(t *testing.T) {
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(block)
	w, err := NewWebhook(targetspec.Spec{URL: slow.URL + "/services/T1/B2/sekret?token=sekret2", Timeout: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = w.Deliver(context.Background(), testItem(), []byte(`{}`))
	if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a transient deadline error, got %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("timeout of 100ms took %s", took)
	}
	if strings.Contains(err.Error(), "sekret") {
		t.Fatalf("error leaks the URL: %v", err)
	}

	// Nothing listens: connection refused, transient, no URL in the error.
	l := httptest.NewServer(http.NotFoundHandler())
	url := l.URL
	l.Close()
	w, _ = NewWebhook(targetspec.Spec{URL: url + "/sekret"}, nil)
	err = w.Deliver(context.Background(), testItem(), []byte(`{}`))
	if err == nil || IsPermanent(err) || strings.Contains(err.Error(), "sekret") {
		t.Fatalf("refused connection: %v", err)
	}
}

func TestNewWebhookRejects(t *testing.T) {
	tests := []struct{ name, url, format, want string }{
		{"relative", "/hooks", "", "absolute http(s) URL"},
		{"plain http to a remote host", "http://hooks.example.com/x?token=sekret", "", "use https"},
		{"ftp", "ftp://127.0.0.1/x", "", "absolute http(s) URL"},
		{"bad format", "https://hooks.example.com/sekret", "xml", `format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWebhook(targetspec.Spec{URL: tt.url, Format: tt.format}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "sekret") {
				t.Fatalf("error leaks the URL: %v", err)
			}
		})
	}
	for _, ok := range []string{"https://hooks.example.com/x", "http://localhost:8080/x", "http://127.0.0.1/x", "http://[::1]:9/x"} {
		if _, err := NewWebhook(targetspec.Spec{URL: ok}, nil); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestWebhookNameAndID(t *testing.T) {
	a, _ := NewWebhook(targetspec.Spec{URL: "https://hooks.slack.com/services/T1/B1/sekret"}, nil)
	b, _ := NewWebhook(targetspec.Spec{URL: "https://hooks.slack.com/services/T1/B2/other"}, nil)
	if a.Name() != "webhook:hooks.slack.com" {
		t.Errorf("name %q", a.Name())
	}
	if a.ID() == b.ID() || strings.Contains(a.ID(), "sekret") || !strings.HasPrefix(a.ID(), "webhook:") {
		t.Errorf("ids %q %q", a.ID(), b.ID())
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("k")
	body := []byte(`{"id":"x"}`)
	now := time.Unix(1_700_000_000, 0)
	ts := "1700000000"
	sig := Sign(secret, ts, body)
	tests := []struct {
		name           string
		ts, sig        string
		body           []byte
		now            time.Time
		wantErrContain string
	}{
		{"good", ts, sig, body, now, ""},
		{"within tolerance", ts, sig, body, now.Add(4 * time.Minute), ""},
		{"too old", ts, sig, body, now.Add(6 * time.Minute), "outside the tolerance"},
		{"from the future", ts, sig, body, now.Add(-6 * time.Minute), "outside the tolerance"},
		{"body changed", ts, sig, []byte(`{"id":"y"}`), now, "mismatch"},
		{"timestamp changed", "1700000001", sig, body, now, "mismatch"},
		{"not a number", "yesterday", sig, body, now, "not a Unix time"},
		{"empty signature", ts, "", body, now, "mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(secret, tt.ts, tt.sig, tt.body, tt.now, 5*time.Minute)
			if tt.wantErrContain == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErrContain) {
				t.Fatalf("err %v, want %q", err, tt.wantErrContain)
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	tests := []struct{ id, team, want string }{
		{"web:42", "billing", `"web:42:billing"`},
		{`email:<a"b\c@x>`, "t", `"email:<a\"b\\c@x>:t"`},
	}
	for _, tt := range tests {
		item := &message.Routed{Envelope: message.Envelope{ID: tt.id}, Team: tt.team}
		if got := IdempotencyKey(item); got != tt.want {
			t.Errorf("%q: got %s want %s", tt.id, got, tt.want)
		}
	}
	item := &message.Routed{Envelope: message.Envelope{ID: "email:<ä@x>"}, Team: "t"}
	if got := IdempotencyKey(item); !strings.HasPrefix(got, `"sha256:`) || len(got) != 2+7+64 {
		t.Errorf("non-ASCII key %s", got)
	}
}

func TestSlackBodyTruncatesOnRuneBoundary(t *testing.T) {
	item := testItem()
	item.Text = strings.Repeat("ä", 4000)
	item.URL = "javascript:alert(1)"
	body, err := SlackBody(item)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Text string }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got.Text, "…") || strings.Contains(got.Text, "\uFFFD") || strings.Contains(got.Text, "javascript") {
		t.Fatalf("slack text tail %q", got.Text[len(got.Text)-20:])
	}
}

func FuzzSlackBody(f *testing.F) {
	f.Add("hello", "Subject", "Maija", "https://example.com/x", "high")
	f.Add("<!channel> & <@U123>", "", "", "https://x/|>", "")
	f.Add(strings.Repeat("ö", 3001), "\x00", "\xff", "http://[::1", "normal")
	f.Fuzz(func(t *testing.T, text, subject, author, url, prio string) {
		item := testItem()
		item.Text, item.Subject, item.Author.Name, item.URL, item.Priority = text, subject, author, url, prio
		body, err := SlackBody(item)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Text string }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		// Only our own link may open a Slack control sequence.
		if n := strings.Count(got.Text, "<"); n > 1 {
			t.Fatalf("unescaped '<' in %q", got.Text)
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	f.Add("120")
	f.Add("0")
	f.Add("-5")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("99999999999999999999")
	f.Fuzz(func(t *testing.T, v string) {
		if d := retryAfter(v, now); d < 0 {
			t.Fatalf("negative delay %s for %q", d, v)
		}
	})
}

func FuzzIdempotencyKey(f *testing.F) {
	f.Add("web:1", "billing")
	f.Add("email:<x\"y@z>", "t")
	f.Add("x:\r\n", "a")
	f.Fuzz(func(t *testing.T, id, team string) {
		k := IdempotencyKey(&message.Routed{Envelope: message.Envelope{ID: id}, Team: team})
		if len(k) < 2 || k[0] != '"' || k[len(k)-1] != '"' {
			t.Fatalf("not a quoted string: %q", k)
		}
		for i := 0; i < len(k); i++ {
			if k[i] < 0x20 || k[i] > 0x7e {
				t.Fatalf("byte %#x in header value %q", k[i], k)
			}
		}
		if k != IdempotencyKey(&message.Routed{Envelope: message.Envelope{ID: id}, Team: team}) {
			t.Fatal("not stable")
		}
	})
}

func TestFactoryWebhookAllowList(t *testing.T) {
	f := &Factory{AllowedWebhookHosts: []string{"hooks.slack.com", "*.example.com", "127.0.0.1"}}
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/services/T0/B0/SECRET", true},
		{"https://HOOKS.Slack.com./services/SECRET", true},
		{"https://team.example.com/hook?sig=SECRET", true},
		{"https://a.b.example.com:8443/hook", true},
		{"http://127.0.0.1:9000/hook", true},
		{"https://example.com/SECRET", false},              // the wildcard is for subdomains
		{"https://hooks.slack.com.evil.net/SECRET", false}, // a suffix is not the host
		{"https://evilexample.com/SECRET", false},
		{"https://user:SECRET@evil.net/", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := f.New("billing", targetspec.Spec{Type: targetspec.Webhook, URL: tt.url})
			if (err == nil) != tt.ok {
				t.Fatalf("error %v, want allowed %v", err, tt.ok)
			}
			if err != nil && (!strings.Contains(err.Error(), "delivery.webhook.allowed_hosts") || strings.Contains(err.Error(), "SECRET")) {
				t.Fatalf("error %q must name the key and never the URL's path, query or password", err)
			}
		})
	}
	// No list: any host.
	if _, err := (&Factory{}).New("billing", targetspec.Spec{Type: targetspec.Webhook, URL: "https://anywhere.example.net/x"}); err != nil {
		t.Fatalf("without an allow-list: %v", err)
	}
}
