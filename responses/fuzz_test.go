package responses_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/responses"
	"github.com/switchboard/switchboard/router/decisions"
)

// The handled endpoint answers any path and body with 202, 400 or 404,
// never a panic or a 5xx, against a real store.
func FuzzHandled(f *testing.F) {
	// The server logs to no test: a log line inside the fuzz target would
	// fail it.
	ctx := context.Background()
	b, err := bus.Open(ctx, bustest.Config(f), zap.NewNop())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(b.Close)
	records, err := decisions.Open(ctx, b.JS, decisions.Config{Stream: "SWITCHBOARD_DECISIONS", Subjects: "switchboard.decision", MaxAge: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	subjects := responses.Subjects{Prefix: "switchboard", ResponseStream: "SWITCHBOARD_RESPONSES", EscalationStream: "SWITCHBOARD_ESCALATIONS", Bucket: "switchboard_escalated"}
	if _, err := responses.Open(ctx, b.JS, responses.Config{Subjects: subjects, MaxAge: 24 * time.Hour, ForgetAfter: time.Hour}); err != nil {
		f.Fatal(err)
	}
	if _, err := records.Update(ctx, "web:1", func(*decisions.Record) (*decisions.Record, error) {
		return &decisions.Record{Outcome: decisions.OutcomeRouted, Teams: []string{"billing"}, Kind: "web"}, nil
	}); err != nil {
		f.Fatal(err)
	}
	h := responses.HandledHandler(records, responses.NewPublisher(b.JS, subjects), func() time.Time { return time.Unix(1_800_000_000, 0) })
	for _, s := range [][2]string{
		{"web:1", `{"status": "resolved", "by": "maija"}`},
		{"web:1", `{"status": "responded", "by": "` + strings.Repeat("x", 300) + `"}`},
		{"web%3A1", `{"by": "maija", "note": "\u0000"}`},
		{"web:2", `{"by": "maija"}`},
		{"", `{}`},
		{"web:1/../x", `[`},
		{"%zz", `{"by": 1}`},
		{" eb:U", `{"by": "maija"}`},
		{"web:1%0D%0ANats-Msg-Id:%20x", `{"by": "maija"}`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, id, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.URL = &url.URL{Path: "/v1/messages/" + id + "/handled", RawPath: "/v1/messages/" + id + "/handled"}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusAccepted, http.StatusBadRequest, http.StatusNotFound:
		default:
			data, _ := io.ReadAll(w.Body)
			t.Fatalf("id %q body %q: %d %s", id, body, w.Code, data)
		}
	})
}
