package intake_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/connectors/intake"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
)

func start(t testing.TB) (*httptest.Server, *connectortest.Publisher) {
	srv, rec, _ := startWith(t, intake.Options{Token: "s3cret", MaxBodyBytes: 1024})
	return srv, rec
}

// startWith runs an intake configured by o under a supervisor, with its
// metrics on a registry of its own.
func startWith(t testing.TB, o intake.Options) (*httptest.Server, *connectortest.Publisher, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := intake.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	o.Metrics = m
	rec := &connectortest.Publisher{}
	c := intake.New(o)
	sup := connectors.NewSupervisor(connectors.SupervisorOptions{Publisher: rec, Checkpoints: &connectortest.Store{}, Backoff: backoff.Policy{Min: time.Millisecond, Max: time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	if err := sup.Start(ctx, c); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); sup.Wait() })
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	// Wait until the connector runs.
	testwait.Until(t, 5*time.Second, "the intake to run", func() bool {
		return sup.Statuses()[0].State == connectors.StateRunning
	})
	return srv, rec, reg
}

func post(t *testing.T, url, auth, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestIntake(t *testing.T) {
	srv, rec := start(t)
	const auth = "Bearer s3cret"
	tests := []struct {
		name, auth, ctype, body string
		code                    int
		errPart                 string
	}{
		{"accepted", auth, "application/json", `{"text":"Laskussa virhe","author":{"email":"a@b.fi"},"lang":"fi"}`, 202, ""},
		{"client id", auth, "application/json; charset=utf-8", `{"id":"form-77","text":"hi"}`, 202, ""},
		{"no auth", "", "application/json", `{"text":"x"}`, 401, "bearer"},
		{"wrong token", "Bearer nope", "application/json", `{"text":"x"}`, 401, "bearer"},
		{"basic auth", "Basic czNjcmV0", "application/json", `{"text":"x"}`, 401, "bearer"},
		{"bad json", auth, "application/json", `{"text":`, 400, "invalid JSON"},
		{"missing text", auth, "application/json", `{"subject":"only"}`, 400, "text is required"},
		{"blank text", auth, "application/json", `{"text":"   "}`, 400, "text is required"},
		{"unknown field", auth, "application/json", `{"text":"x","txet":"y"}`, 400, "unknown field"},
		{"two values", auth, "application/json", `{"text":"x"}{"text":"y"}`, 400, "more than one"},
		{"too big", auth, "application/json", `{"text":"` + strings.Repeat("a", 2000) + `"}`, 413, "exceeds 1024"},
		{"wrong type", auth, "text/plain", `hello`, 415, "application/json"},
		{"bad id", auth, "application/json", `{"id":"a b","text":"x"}`, 400, "id must not contain whitespace"},
		{"duplicate id", auth, "application/json", `{"id":"form-77","text":"hi again"}`, 200, ""},
		{"NUL in the id", auth, "application/json", `{"id":"a\u0000b","text":"x"}`, 400, "control"},
		{"escape in the id", auth, "application/json", `{"id":"a\u001b[2Jb","text":"x"}`, 400, "control"},
		{"bidi override in the id", auth, "application/json", `{"id":"abc\u202etxt","text":"x"}`, 400, "bidirectional"},
		{"long id", auth, "application/json", `{"id":"` + strings.Repeat("a", 201) + `","text":"x"}`, 400, "at most 200 bytes"},
		{"invalid UTF-8", auth, "application/json", "{\"text\":\"caf\xe9\"}", 400, "not valid UTF-8"},
		{"lone surrogate", auth, "application/json", `{"text":"x\ud800y"}`, 400, "high surrogate"},
		{"lone low surrogate", auth, "application/json", `{"text":"x\udc00"}`, 400, "low surrogate"},
		{"surrogate pair", auth, "application/json", `{"text":"emoji \ud83d\ude00"}`, 202, ""},
		{"escaped backslash then u", auth, "application/json", `{"text":"C:\\ud800"}`, 202, ""},
		{"text of the wrong type", auth, "application/json", `{"text":1}`, 400, "invalid JSON: text must be a string, not a number"},
		{"metadata of the wrong type", auth, "application/json", `{"text":"x","metadata":{"a":1}}`, 400, "metadata values must be strings, not a number"},
		{"not an object", auth, "application/json", `[1]`, 400, "must be an object, not an array"},
		{"bad time", auth, "application/json", `{"text":"x","created_at":"yesterday"}`, 400, "created_at must be an RFC 3339 time"},
		{"empty body", auth, "application/json", ``, 400, "the body is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, srv.URL, tt.auth, tt.ctype, tt.body)
			if code != tt.code {
				t.Fatalf("status %d, want %d (%v)", code, tt.code, body)
			}
			if tt.errPart != "" && !strings.Contains(body["error"].(string), tt.errPart) {
				t.Fatalf("error %q, want it to contain %q", body["error"], tt.errPart)
			}
			if e, _ := body["error"].(string); strings.Contains(e, "Go ") || strings.Contains(e, "intake.") || strings.Contains(e, "Request") {
				t.Fatalf("the error names Go types: %q", e)
			}
			if (tt.code == 202 || tt.code == 200) && !strings.HasPrefix(body["id"].(string), "web:") {
				t.Fatalf("id %v", body["id"])
			}
			if dup, _ := body["duplicate"].(bool); dup != (tt.code == 200) {
				t.Fatalf("duplicate %v with status %d", body["duplicate"], tt.code)
			}
		})
	}
	envs := rec.Envelopes()
	if len(envs) != 4 {
		t.Fatalf("published %d, want 4", len(envs))
	}
	e := envs[0]
	if e.Channel != "web" || e.Kind != message.KindWeb || e.Lang != "fi" || e.Author.Email != "a@b.fi" || e.Version != message.SchemaVersion {
		t.Fatalf("envelope %+v", e)
	}
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if envs[1].ID != "web:form-77" {
		t.Fatalf("client id not used: %s", envs[1].ID)
	}
}

func TestIntakeMethodAndNotRunning(t *testing.T) {
	c := intake.New(intake.Options{Token: "t", MaxBodyBytes: 1024, Log: zap.NewNop()})
	srv := httptest.NewServer(c)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET = %d", resp.StatusCode)
	}
	intake.SetStartWait(c, 50*time.Millisecond)
	code, _ := post(t, srv.URL, "Bearer t", "application/json", `{"text":"x"}`)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("post before Run = %d, want 503", code)
	}
}

// A request arriving just before the supervisor starts Run waits for it
// instead of failing (the HTTP server starts first in the daemon).
func TestIntakeWaitsForStart(t *testing.T) {
	rec := &connectortest.Publisher{}
	c := intake.New(intake.Options{Token: "t", MaxBodyBytes: 1024, Log: zap.NewNop()})
	srv := httptest.NewServer(c)
	defer srv.Close()
	done := make(chan int, 1)
	go func() {
		code, _ := post(t, srv.URL, "Bearer t", "application/json", `{"text":"early"}`)
		done <- code
	}()
	sup := connectors.NewSupervisor(connectors.SupervisorOptions{Publisher: rec, Checkpoints: &connectortest.Store{}, Backoff: backoff.Policy{Min: time.Millisecond, Max: time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); sup.Wait() }()
	if err := sup.Start(ctx, c); err != nil {
		t.Fatal(err)
	}
	if code := testwait.Receive(t, 10*time.Second, "the answer to the early post", done); code != http.StatusAccepted {
		t.Fatalf("early post = %d, want 202", code)
	}
	if envs := rec.Envelopes(); len(envs) != 1 || envs[0].Text != "early" {
		t.Fatalf("published %+v", envs)
	}
}

func FuzzIntakeBody(f *testing.F) {
	for _, s := range []string{`{"text":"x"}`, `{"text":1}`, `{"id":"a\u0000","text":"x"}`, `{"text":"\ud800\u0041"}`, `{"metadata":{"a":[]},"text":"x"}`, `{"created_at":"nope","text":"x"}`, `[]`, `null`, "\xff", `{"text":"\ud800"}`} {
		f.Add(s)
	}
	srv, _ := start(f)
	f.Fuzz(func(t *testing.T, body string) {
		// Any body gets 202 (or 200 for an id seen before) or 400 with a
		// reason, never a panic or a 5xx, and no reason names Go types.
		code, reply := post(t, srv.URL, "Bearer s3cret", "application/json", body)
		if code == http.StatusRequestEntityTooLarge && len(body) > 1024 {
			return
		}
		if code != http.StatusAccepted && code != http.StatusOK && (code != http.StatusBadRequest || reply["error"] == "") {
			t.Fatalf("status %d %v for %q", code, reply, body)
		}
		if e, _ := reply["error"].(string); strings.Contains(e, "Go ") || strings.Contains(e, "intake.") {
			t.Fatalf("error %q names Go types, for %q", e, body)
		}
	})
}

// Answers are counted by status, and requests over max_concurrent are
// turned away at once with Retry-After instead of piling up.
func TestIntakeMetricsAndConcurrencyCap(t *testing.T) {
	srv, _, reg := startWith(t, intake.Options{Token: "s3cret", MaxBodyBytes: 1 << 20, MaxConcurrent: 2})
	const auth = "Bearer s3cret"
	post(t, srv.URL, auth, "application/json", `{"id":"m1","text":"x"}`)
	post(t, srv.URL, auth, "application/json", `{"id":"m1","text":"x"}`)
	post(t, srv.URL, "", "application/json", `{"text":"x"}`)

	// Two slow bodies hold both slots; the third request is refused.
	var wg sync.WaitGroup
	release := make(chan struct{})
	var releaseOnce sync.Once
	// Released also when the test fails early: the server's Close waits
	// for the slow requests.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	started := make(chan struct{}, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr, pw := io.Pipe()
			go func() {
				_, _ = pw.Write([]byte(`{"text":"slow`))
				started <- struct{}{}
				<-release
				_, _ = pw.Write([]byte(`"}`))
				pw.Close()
			}()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, pr)
			req.Header.Set("Authorization", auth)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	testwait.Receive(t, 5*time.Second, "the first slow body", started)
	testwait.Receive(t, 5*time.Second, "the second slow body", started)
	// Until both slow requests hold their slot, a probe may get through.
	through := 0
	testwait.NoError(t, 30*time.Second, "a third request turned away", func() error {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"text":"x"}`))
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted {
			through++
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			return fmt.Errorf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		return nil
	})
	releaseOnce.Do(func() { close(release) })
	wg.Wait()
	for code, want := range map[string]float64{"202": float64(3 + through), "200": 1, "401": 1} {
		if got := counter(t, reg, code); got != want {
			t.Errorf("switchboard_intake_responses_total{code=%q} = %v, want %v", code, got, want)
		}
	}
	if got := counter(t, reg, "503"); got < 1 {
		t.Errorf("the refused request was not counted: %v", got)
	}
}

// counter reads switchboard_intake_responses_total{code} from reg.
func counter(t *testing.T, reg *prometheus.Registry, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "switchboard_intake_responses_total" && m.GetLabel()[0].GetValue() == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
