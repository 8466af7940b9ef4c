package responses_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/responses"
	"github.com/switchboard/switchboard/responses/report"
	"github.com/switchboard/switchboard/router/decisions"
)

// A team tool reports over HTTP what no channel shows; the same signal
// twice is stored once, an unknown id is 404.
func TestHandledEndpoint(t *testing.T) {
	t0 := realBase()
	h := startHarness(t, t0)
	mail := envelope("email", message.KindEmail, "a/b@customer.example", "a/b@customer.example", "", "Soittakaa minulle", t0)
	h.routeAt(t0.Add(time.Minute), mail, nil, "", "billing")
	h.waitOpen(1)

	mux := http.NewServeMux()
	mux.Handle("POST /v1/messages/{id}/handled", responses.HandledHandler(h.records, h.pub, h.clock.Now))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(id, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/v1/messages/"+url.PathEscape(id)+"/handled", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		data, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(data, &out)
		return resp.StatusCode, out
	}

	tests := []struct {
		name, id, body string
		code           int
		want           string
	}{
		{"unknown item", "email:nope@x", `{"by": "maija"}`, http.StatusNotFound, "no routed item"},
		{"bad status", mail.ID, `{"status": "done", "by": "maija"}`, http.StatusBadRequest, "status"},
		{"nobody", mail.ID, `{"status": "responded"}`, http.StatusBadRequest, "by"},
		{"unknown field", mail.ID, `{"by": "maija", "colour": "red"}`, http.StatusBadRequest, "colour"},
		{"not JSON", mail.ID, `by=maija`, http.StatusBadRequest, "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := post(tt.id, tt.body)
			if code != tt.code || !strings.Contains(out["error"].(string), tt.want) {
				t.Fatalf("%d %v, want %d mentioning %q", code, out, tt.code, tt.want)
			}
		})
	}

	h.clock.Set(t0.Add(2 * time.Hour))
	body := `{"status": "responded", "by": "maija", "note": "called the customer"}`
	code, out := post(mail.ID, body)
	if code != http.StatusAccepted || out["duplicate"] != false || out["id"] != "handled:"+mail.ID+":responded" {
		t.Fatalf("first signal: %d %v", code, out)
	}
	if code, out = post(mail.ID, body); code != http.StatusAccepted || out["duplicate"] != true {
		t.Fatalf("same signal again: %d %v", code, out)
	}
	got := h.answered(mail.ID)
	if got.Channel != "handled" || got.By != "maija" || got.Note != "called the customer" || got.DelaySeconds != 2*3600 {
		t.Fatalf("recorded response: %+v", got)
	}
	h.waitOpen(0)

	// A later signal is history, not a new first response.
	h.clock.Set(t0.Add(3 * time.Hour))
	if code, _ := post(mail.ID, `{"status": "resolved", "by": "matti"}`); code != http.StatusAccepted {
		t.Fatalf("resolved: %d", code)
	}
	waitFor(t, "the resolved event", func() bool {
		rec := h.record(mail.ID)
		last := rec.History[len(rec.History)-1]
		return last.Kind == decisions.EventHandled && last.By == "matti" && rec.Response.By == "maija"
	})
}

// "No response needed" closes the item, out of the response rate.
func TestNoResponseNeeded(t *testing.T) {
	t0 := realBase()
	h := startHarness(t, t0)
	ctx := context.Background()
	spam := envelope("facebook", message.KindComment, "104_5", "104_0", "104_0", "Voita iPhone!", t0)
	real := envelope("facebook", message.KindComment, "104_6", "104_0", "104_0", "Onko tätä kokoa?", t0)
	h.routeAt(t0.Add(time.Minute), spam, nil, "", "comms")
	h.route(real, nil, "", "comms")
	h.waitOpen(2)
	if _, _, err := responses.MarkHandled(ctx, h.records, h.pub, spam.ID, responses.Signal{Status: message.StatusNoResponseNeeded, By: "cli:ops"}, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := h.answered(spam.ID); got.Status != message.StatusNoResponseNeeded {
		t.Fatalf("status %q", got.Status)
	}
	h.waitOpen(1) // only the item named; the other comment still awaits
	rep, err := report.Build(ctx, h.records, h.policy, report.Options{Since: t0.Add(-time.Hour), Now: t0.Add(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Teams[0]; r.Routed != 2 || r.NoResponseNeeded != 1 || r.Responded != 0 || r.OpenNow != 1 {
		t.Fatalf("report: %+v", r)
	}
}

// Escalations reach the webhook, retried until it accepts them.
func TestEscalationWebhook(t *testing.T) {
	for _, format := range []string{"slack", "json"} {
		t.Run(format, func(t *testing.T) {
			got := make(chan *http.Request, 4)
			bodies := make(chan []byte, 4)
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if calls.Add(1) == 1 {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				got <- r
				bodies <- body
			}))
			defer srv.Close()
			t0 := realBase()
			h := newHarness(t, defaultPolicy, t0)
			h.tcfg.Webhook = responses.WebhookConfig{URL: srv.URL, Format: format}
			h.start()
			dm := envelope("x", message.KindDM, "dm_7", "1-2", "", "Missä tilaukseni?", t0)
			h.routeAt(t0.Add(time.Minute), dm, nil, "high", "logistics")
			h.waitOpen(1)
			h.clock.Set(t0.Add(2*time.Hour + time.Minute)) // high priority halves the 4h private target
			h.tracker.CheckNow(context.Background())

			req := receive(t, got)
			body := receive(t, bodies)
			if key := req.Header.Get("Idempotency-Key"); key != dm.ID+":logistics:1" {
				t.Fatalf("Idempotency-Key %q", key)
			}
			if format == "slack" {
				var msg struct{ Text string }
				if err := json.Unmarshal(body, &msg); err != nil {
					t.Fatal(err)
				}
				for _, s := range []string{"*logistics*", "x dm", "2h1m0s", "target 2h0m0s", "priority high", "Missä tilaukseni?", "<https://switchboard.example.com/ui/messages/x:dm_7|Open in Switchboard>"} {
					if !strings.Contains(msg.Text, s) {
						t.Errorf("slack text lacks %q:\n%s", s, msg.Text)
					}
				}
				return
			}
			var esc responses.Escalation
			if err := json.Unmarshal(body, &esc); err != nil {
				t.Fatal(err)
			}
			if esc.Item != dm.ID || esc.Team != "logistics" || esc.Priority != "high" || esc.Level != 1 {
				t.Fatalf("escalation: %+v", esc)
			}
		})
	}
}

func receive[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatal("timed out waiting for the webhook")
	}
	panic("unreachable")
}
