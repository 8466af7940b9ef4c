package intake_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/connectors/intake"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/testwait"
)

func start(t testing.TB) (*httptest.Server, *connectortest.Publisher) {
	t.Helper()
	rec := &connectortest.Publisher{}
	c := intake.New("s3cret", 1024, zap.NewNop())
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
	return srv, rec
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
		{"bad id", auth, "application/json", `{"id":"a b","text":"x"}`, 400, "id must be"},
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
			if tt.code == 202 && !strings.HasPrefix(body["id"].(string), "web:") {
				t.Fatalf("id %v", body["id"])
			}
		})
	}
	envs := rec.Envelopes()
	if len(envs) != 2 {
		t.Fatalf("published %d, want 2", len(envs))
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
	c := intake.New("t", 1024, zap.NewNop())
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
	c := intake.New("t", 1024, zap.NewNop())
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
	for _, s := range []string{`{"text":"x"}`, `{"text":1}`, `{"created_at":"nope","text":"x"}`, `[]`, `null`, "\xff", `{"text":"\ud800"}`} {
		f.Add(s)
	}
	srv, _ := start(f)
	f.Fuzz(func(t *testing.T, body string) {
		// Any body gets 202 or 400 with a reason, never a panic or a 5xx.
		code, reply := post(t, srv.URL, "Bearer s3cret", "application/json", body)
		if code == http.StatusRequestEntityTooLarge && len(body) > 1024 {
			return
		}
		if code != http.StatusAccepted && (code != http.StatusBadRequest || reply["error"] == "") {
			t.Fatalf("status %d %v for %q", code, reply, body)
		}
	})
}
