package trace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/decisions"
)

// fixture is a real embedded backbone with a decision store.
type fixture struct {
	b   *bus.Bus
	src *Source
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	b := bustest.Open(t, nil)
	st, err := decisions.Open(context.Background(), b.JS, decisions.Config{Stream: "TEST_DECISIONS", Subjects: "test.decision", MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{b: b, src: &Source{JS: b.JS, IngestStream: b.Subjects.IngestStream, Records: st}}
}

// ingest stores env in the ingest stream and a routed record for it.
func (f *fixture) ingest(t *testing.T, env message.Envelope, teams ...string) {
	t.Helper()
	ctx := context.Background()
	env.Version, env.Kind, env.SourceID = message.SchemaVersion, message.KindWeb, strings.TrimPrefix(env.ID, env.Channel+":")
	data, _ := json.Marshal(env)
	ack, err := f.b.JS.Publish(ctx, f.b.Subjects.Ingest(env.Channel), data)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.src.Records.Update(ctx, env.ID, func(*decisions.Record) (*decisions.Record, error) {
		r := &decisions.Record{
			Seq: ack.Sequence, Kind: string(env.Kind), Author: env.Author.Name, Snippet: decisions.Snippet(env.Subject, env.Text),
			ReceivedAt: env.ReceivedAt, RoutedAt: env.ReceivedAt, Outcome: decisions.OutcomeRouted, Teams: teams,
			Reason: decisions.ReasonText, RulesVersion: "abc123", ThreadID: env.ThreadID,
			Routes:   []decisions.RouteMatch{{ID: "billing", Words: []string{"laskussani"}}},
			Delivery: []decisions.Delivery{{Team: teams[0], Target: "nats", OK: true, Attempts: 1, At: env.ReceivedAt}},
		}
		r.AddEvent(decisions.Event{At: env.ReceivedAt, Kind: decisions.EventRouted, Teams: teams})
		return r, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTraceAndAPI(t *testing.T) {
	f := newFixture(t)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	f.ingest(t, message.Envelope{ID: "web:1", Channel: "web", Text: "Laskussani on <script>alert(1)</script> virhe\x1b[31m", ReceivedAt: at, Author: message.Author{Name: "Maija"}}, "billing")
	f.ingest(t, message.Envelope{ID: "web:a/b", Channel: "web", Text: "paketti", ReceivedAt: at.Add(time.Minute), ThreadID: "t1"}, "logistics")

	mux := http.NewServeMux()
	mux.Handle("GET /v1/messages/{id...}", GetHandler(f.src))
	mux.Handle("GET /v1/messages", SearchHandler(f.src, func() time.Time { return at.Add(time.Hour) }))
	get := func(path string) (int, string) {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w.Code, w.Body.String()
	}

	tests := []struct {
		name, path string
		code       int
		want       []string
	}{
		{"one item", "/v1/messages/web:1", 200, []string{`"envelope"`, `"teams": [`, `"billing"`, `"history"`, `"laskussani"`}},
		{"an id with a slash", "/v1/messages/" + url.PathEscape("web:a/b"), 200, []string{`"logistics"`}},
		{"unknown", "/v1/messages/web:nope", 404, []string{"no decision record for web:nope"}},
		{"search by team", "/v1/messages?team=billing", 200, []string{`"web:1"`}},
		{"search by thread", "/v1/messages?thread=t1", 200, []string{`"web:a/b"`}},
		{"search by text", "/v1/messages?q=PAKETTI&since=2h", 200, []string{`"web:a/b"`}},
		{"bad limit", "/v1/messages?limit=0", 400, []string{"limit"}},
		{"bad since", "/v1/messages?since=yesterday", 400, []string{"since"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(tt.path)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Fatalf("body lacks %s:\n%s", w, body)
				}
			}
		})
	}
	_, body := get("/v1/messages?team=billing")
	if strings.Contains(body, "web:a/b") {
		t.Fatalf("billing search found a logistics item: %s", body)
	}

	tr, err := f.src.Trace(context.Background(), "web:1")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteText(&out, tr); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, w := range []string{"routed to billing", "billing (laskussani)", "Maija", "<script>alert(1)</script>", "accepted", "history"} {
		if !strings.Contains(text, w) {
			t.Fatalf("trace text lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "\x1b") {
		t.Fatalf("trace text passes an escape sequence to the terminal:\n%q", text)
	}
}

func TestEnvelopeGone(t *testing.T) {
	f := newFixture(t)
	f.ingest(t, message.Envelope{ID: "web:1", Channel: "web", Text: "hello", ReceivedAt: time.Now()}, "triage")
	ctx := context.Background()
	st, _ := f.b.JS.Stream(ctx, f.b.Subjects.IngestStream)
	if err := st.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := f.src.Trace(ctx, "web:1")
	if err != nil {
		t.Fatal(err)
	}
	if tr.Envelope != nil || !strings.Contains(tr.EnvelopeError, "no longer kept") {
		t.Fatalf("trace of an expired envelope: %+v", tr)
	}
	if _, err := f.src.Trace(ctx, "web:2"); !errors.Is(err, decisions.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    decisions.Query
		wantErr string
	}{
		{"", decisions.Query{}, ""},
		{"team=billing&channel=web&q=+lasku+&limit=20&before=99", decisions.Query{Team: "billing", Channel: "web", Text: "lasku", Limit: 20, Before: 99}, ""},
		{"since=2h&until=2026-12-01T11:30:00Z", decisions.Query{Since: now.Add(-2 * time.Hour), Until: time.Date(2026, 12, 1, 11, 30, 0, 0, time.UTC)}, ""},
		{"since=7d", decisions.Query{Since: now.Add(-7 * 24 * time.Hour)}, ""},
		{"outcome=dead&thread=t&customer=c", decisions.Query{Outcome: "dead", Thread: "t", Customer: "c"}, ""},
		{"since=1h&until=2h", decisions.Query{}, "until"},
		{"limit=501", decisions.Query{}, "limit"},
		{"limit=x", decisions.Query{}, "limit"},
		{"before=-1", decisions.Query{}, "before"},
		{"outcome=lost", decisions.Query{}, "outcome"},
		{"until=soon", decisions.Query{}, "until"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.in)
			got, err := ParseQuery(v, now)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalQuery(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			back, err := ParseQuery(Values(got), now)
			if err != nil || !equalQuery(back, got) {
				t.Fatalf("Values does not round-trip: %+v %v", back, err)
			}
		})
	}
}

func equalQuery(a, b decisions.Query) bool {
	return a.Team == b.Team && a.Channel == b.Channel && a.Outcome == b.Outcome && a.Thread == b.Thread && a.Customer == b.Customer &&
		a.Text == b.Text && a.Since.Equal(b.Since) && a.Until.Equal(b.Until) && a.Limit == b.Limit && a.Before == b.Before
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"team=a&since=2h", "limit=5&before=3", "until=2026-01-01T00:00:00Z", "since=%ff"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v, now)
		if err != nil {
			return
		}
		if q.Limit < 0 || q.Limit > MaxLimit {
			t.Fatalf("limit %d accepted", q.Limit)
		}
		if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
			t.Fatal("until before since accepted")
		}
	})
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain ä text", "plain ä text"},
		{"a\x1b[2Jb", "a\uFFFD[2Jb"},
		{"tab\tkept", "tab\tkept"},
		{"nl\nno", "nl\uFFFDno"},
		{"c1\u009bx", "c1\uFFFDx"},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
