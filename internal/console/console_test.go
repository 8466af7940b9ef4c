package console

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/opsauth"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/internal/trace"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/rules"
)

const (
	adminToken    = "admin-token-0123456789abcdef"
	roToken       = "read-only-token-0123456789"
	webhookSecret = "hunter2-signing-secret"
	webhookPath   = "services/T000/B000/XyZsecretPath"
	hostile       = `Laskussani on virhe <script>alert("x")</script> & "quotes"`
)

const testRules = `default_team: triage
teams:
  - name: triage
  - name: billing
    description: Invoices & <payments>
    targets:
      - type: nats
      - type: webhook
        url: https://hooks.example.com/` + webhookPath + `
        secret: ` + webhookSecret + `
  - name: logistics
routes:
  - id: billing
    team: billing
    match: {text: {any: [lasku]}}
  - id: logistics
    team: logistics
    match: {text: {any: [paketti]}}
`

// statuses is a fixed connector list.
type statuses []connectors.Status

func (s statuses) Statuses() []connectors.Status { return s }

// rerouter remembers what it was asked.
type rerouter struct {
	mu    sync.Mutex
	calls []string
}

func (r *rerouter) Reroute(_ context.Context, id string, teams []string, by string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, id+" → "+strings.Join(teams, ",")+" by "+by)
	return nil
}

// serviceLevels is a fixed report.
type serviceLevels struct{}

func (serviceLevels) ServiceLevels(_ context.Context, q SLQuery) (*SLReport, error) {
	row := SLRow{Team: "billing", Channel: "<email>", Items: 10, Responded: 8, FirstResponseMedian: 42 * time.Minute,
		FirstResponseP90: 3 * time.Hour, Target: 4 * time.Hour, PastTarget: 1}
	for i := range 3 {
		row.Series = append(row.Series, SLPoint{Start: q.Since.Add(time.Duration(i) * q.Bucket), Items: 3, Responded: 2 + i%2, FirstResponseMedian: time.Duration(i+1) * 20 * time.Minute})
	}
	return &SLReport{Rows: []SLRow{row}}, nil
}

type fixture struct {
	t       *testing.T
	srv     *httptest.Server
	b       *bus.Bus
	store   *decisions.Store
	reroute *rerouter
	reloads *ReloadLog
	deadSeq uint64
}

func newFixture(t *testing.T, hooks bool) *fixture {
	t.Helper()
	ctx := context.Background()
	b := bustest.Open(t, nil)
	store, err := decisions.Open(ctx, b.JS, decisions.Config{Stream: "TEST_DECISIONS", Subjects: "test.decision", MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, []byte(testRules), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Load(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := opsauth.New(opsauth.Options{Tokens: []opsauth.Token{
		{Name: "alice", Role: opsauth.RoleAdmin, Value: adminToken},
		{Name: "grafana", Role: opsauth.RoleReadOnly, Value: roToken},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := telemetry.NewMetrics()
	if err != nil {
		t.Fatal(err)
	}
	rm := telemetry.RouterMetrics{M: m}
	for range 3 {
		rm.Routed("billing", time.Millisecond)
	}
	rm.QueueDepth("billing", "nats", 7)
	rm.CircuitOpen("billing", "webhook:hooks.example.com", true)
	now := time.Now()
	f := &fixture{t: t, b: b, store: store, reloads: &ReloadLog{}}
	f.reloads.Reloaded(false, "bad123", errString("rules.yaml:3:5: unknown team \"bllling\""))
	d := Deps{
		Auth:     auth,
		Messages: &trace.Source{JS: b.JS, IngestStream: b.Subjects.IngestStream, Records: store},
		History:  store,
		Connectors: statuses{
			{Name: "intake", State: connectors.StateRunning, LastSuccess: &now, Ingested: 4},
			{Name: "facebook", State: connectors.StateUnauthorized, LastError: "graph API: token <expired>", LastErrorAt: &now, Checkpoint: "page-1:cursor-SECRETISH"},
		},
		Metrics:  m.Registry,
		Rules:    rules.NewLive(rs),
		Reloads:  f.reloads,
		Dead:     router.NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.IngestStream, b.Subjects.Dead),
		Backtest: IngestBacktester{JS: b.JS, Stream: b.Subjects.IngestStream, Filter: b.Subjects.Prefix + ".ingest.>"},
		Storage:  JetStreamStorage{JS: b.JS, Streams: []string{b.Subjects.IngestStream, b.Subjects.DeadStream}, DeadStream: b.Subjects.DeadStream},
	}
	if hooks {
		f.reroute = &rerouter{}
		d.Rerouter, d.ServiceLevels = f.reroute, serviceLevels{}
	}
	s, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(s.Handler())
	t.Cleanup(f.srv.Close)
	f.item("web:1", hostile, "billing", "t-1")
	f.item("web:2", "Paketti ei tullut", "logistics", "")
	f.deadSeq = f.dead("web:1", "billing")
	return f
}

type errString string

func (e errString) Error() string { return string(e) }

// item stores an envelope in the ingest stream and its decision record.
func (f *fixture) item(id, text, team, thread string) {
	f.t.Helper()
	ctx := context.Background()
	env := message.Envelope{Version: 1, ID: id, Channel: "web", Kind: message.KindWeb, SourceID: strings.TrimPrefix(id, "web:"),
		Text: text, ThreadID: thread, ReceivedAt: time.Now().UTC(), Author: message.Author{Name: "Maija <b>"}}
	data, _ := json.Marshal(env)
	ack, err := f.b.JS.Publish(ctx, f.b.Subjects.Ingest("web"), data)
	if err != nil {
		f.t.Fatal(err)
	}
	_, err = f.store.Update(ctx, id, func(*decisions.Record) (*decisions.Record, error) {
		r := &decisions.Record{Seq: ack.Sequence, Kind: "web", Author: env.Author.Name, Snippet: decisions.Snippet("", text),
			ReceivedAt: env.ReceivedAt, RoutedAt: env.ReceivedAt, Outcome: decisions.OutcomeRouted, Teams: []string{team},
			Reason: decisions.ReasonText, RulesVersion: "abc", ThreadID: thread, Routes: []decisions.RouteMatch{{ID: team, Words: []string{"<word>"}}},
			Customer: &decisions.Customer{ID: "cust-9", Strength: "confirmed"}}
		r.AddEvent(decisions.Event{At: env.ReceivedAt, Kind: decisions.EventRouted, Teams: r.Teams})
		return r, nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// dead stores a dead letter of item id for team and returns its sequence.
func (f *fixture) dead(id, team string) uint64 {
	f.t.Helper()
	env, _ := json.Marshal(map[string]any{"v": 1, "id": id, "channel": "web", "kind": "web", "source_id": strings.TrimPrefix(id, "web:"), "text": "x"})
	dl := router.DeadLetter{Reason: router.ReasonDeliveryFailed, Error: "webhook:hooks.example.com: 503 <busy>", Team: team, Target: "webhook:hooks.example.com",
		Subject: f.b.Subjects.Ingest("web"), StreamSeq: 1, Deliveries: 10, FailedAt: time.Now().UTC(), Envelope: env}
	data, _ := json.Marshal(dl)
	ack, err := f.b.JS.PublishMsg(context.Background(), &nats.Msg{Subject: f.b.Subjects.Dead(router.ReasonDeliveryFailed), Data: data})
	if err != nil {
		f.t.Fatal(err)
	}
	return ack.Sequence
}

// client is a browser-like client: it keeps cookies and does not follow
// redirects.
type client struct {
	f    *fixture
	c    *http.Client
	csrf string
}

func (f *fixture) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{f: f, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (c *client) do(method, path string, form url.Values) (int, string, http.Header) {
	c.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.f.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		c.csrf = string(m[1])
	}
	return resp.StatusCode, string(b), resp.Header
}

func (c *client) login(token string) {
	c.f.t.Helper()
	code, _, h := c.do("POST", "/ui/login", url.Values{"token": {token}, "next": {"/ui/messages"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/ui/messages" {
		c.f.t.Fatalf("login: %d to %q", code, h.Get("Location"))
	}
	c.do("GET", "/ui/", nil) // picks up the CSRF token
}

// pages are every console page an operator can open.
var pagePaths = []string{"/ui/", "/ui/messages", "/ui/messages?team=billing&q=lasku", "/ui/trace?id=web:1", "/ui/rules", "/ui/dead", "/ui/service-levels"}

func TestPagesNeedLogin(t *testing.T) {
	f := newFixture(t, false)
	c := f.client()
	for _, p := range append(pagePaths, "/ui/dead/1") {
		code, _, h := c.do("GET", p, nil)
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/ui/login?next=") {
			t.Errorf("GET %s without a login: %d %q", p, code, h.Get("Location"))
		}
	}
	for _, p := range []string{"/ui/dead/replay", "/ui/reroute", "/ui/rules/playground", "/ui/rules/backtest", "/ui/logout"} {
		if code, _, _ := c.do("POST", p, url.Values{}); code != http.StatusSeeOther {
			t.Errorf("POST %s without a login: %d", p, code)
		}
	}
	code, body, _ := c.do("GET", "/ui/login?next=/ui/rules", nil)
	if code != 200 || !strings.Contains(body, `value="/ui/rules"`) {
		t.Fatalf("login form: %d", code)
	}
	if code, _, _ := c.do("POST", "/ui/login", url.Values{"token": {"wrong-wrong-wrong-wrong"}}); code != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", code)
	}
	if code, _, _ := c.do("GET", "/ui/static/console.css", nil); code != 200 {
		t.Fatalf("stylesheet: %d", code)
	}
}

func TestEveryPageRendersSafely(t *testing.T) {
	for _, hooks := range []bool{false, true} {
		f := newFixture(t, hooks)
		for _, tok := range []string{adminToken, roToken} {
			c := f.client()
			c.login(tok)
			for _, p := range append(pagePaths, "/ui/dead/"+strconv.FormatUint(f.deadSeq, 10)) {
				code, body, h := c.do("GET", p, nil)
				if code != 200 {
					t.Fatalf("GET %s: %d\n%s", p, code, body)
				}
				if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") || h.Get("X-Frame-Options") != "DENY" {
					t.Fatalf("GET %s: security headers missing: %v", p, h)
				}
				checkSafe(t, p, body)
			}
		}
	}
}

// checkSafe fails when a page shows a secret or unescaped outside text.
func checkSafe(t *testing.T, page, body string) {
	t.Helper()
	for _, secret := range []string{adminToken, roToken, webhookSecret, webhookPath, "SECRETISH"} {
		if strings.Contains(body, secret) {
			t.Fatalf("%s renders a secret (%s)", page, secret)
		}
	}
	for _, raw := range []string{"<script", "<b>", "<payments>", "<word>", "<expired>", "<busy>", "<email>"} {
		if strings.Contains(body, raw) {
			t.Fatalf("%s renders %s unescaped", page, raw)
		}
	}
}

func TestTracePage(t *testing.T) {
	f := newFixture(t, true)
	c := f.client()
	c.login(adminToken)
	_, body, _ := c.do("GET", "/ui/trace?id=web:1", nil)
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", // the text, escaped
		"routed to billing", ">billing</a>", "&lt;word&gt;", "cust-9", "/ui/messages?channel=web&amp;thread=t-1", "Reroute",
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("trace page lacks %q:\n%s", want, body)
		}
	}
	if code, _, _ := c.do("GET", "/ui/trace?id=web:404", nil); code != 404 {
		t.Fatalf("unknown item: %d", code)
	}
	// The thread link finds the thread's items.
	_, body, _ = c.do("GET", "/ui/messages?thread=t-1&channel=web", nil)
	if !strings.Contains(body, "web:1") || strings.Contains(body, "web:2") {
		t.Fatalf("thread search:\n%s", body)
	}
}

func TestMessagesSearch(t *testing.T) {
	f := newFixture(t, false)
	c := f.client()
	c.login(roToken)
	tests := []struct {
		query      string
		code       int
		want, dont string
	}{
		{"team=billing", 200, "web:1", "web:2"},
		{"q=PAKETTI", 200, "web:2", "web:1"},
		{"team=logistics&since=1h", 200, "web:2", "web:1"},
		{"until=2020-01-01T00:00:00Z", 200, "No item matches", "web:1"},
		{"since=yesterday", 400, "since", "web:1"},
	}
	for _, tt := range tests {
		code, body, _ := c.do("GET", "/ui/messages?"+tt.query, nil)
		if code != tt.code || !strings.Contains(body, tt.want) || strings.Contains(strings.ToLower(body), strings.ToLower("/ui/trace?id="+url.QueryEscape(tt.dont))) {
			t.Errorf("%s: %d, want %d with %q and without %q", tt.query, code, tt.code, tt.want, tt.dont)
		}
	}
	// Paging: one per page, the next page link continues.
	_, body, _ := c.do("GET", "/ui/messages?limit=1", nil)
	m := regexp.MustCompile(`href="(/ui/messages\?[^"]*before=[0-9]+[^"]*)" id="older"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "web:2") {
		t.Fatalf("first page:\n%s", body)
	}
	_, body, _ = c.do("GET", strings.ReplaceAll(m[1], "&amp;", "&"), nil)
	if !strings.Contains(body, "/ui/trace?id=web%3a1") {
		t.Fatalf("second page lacks web:1:\n%s", body)
	}
}

func TestDeadLetterReplay(t *testing.T) {
	f := newFixture(t, false)
	ro := f.client()
	ro.login(roToken)
	_, body, _ := ro.do("GET", "/ui/dead", nil)
	if !strings.Contains(body, "delivery_failed") || strings.Contains(body, ">Replay</button>") {
		t.Fatalf("read-only dead list:\n%s", body)
	}
	seq := url.Values{"seq": {strconv.FormatUint(f.deadSeq, 10)}}
	if code, _, _ := ro.do("POST", "/ui/dead/replay", withCSRF(seq, ro.csrf)); code != http.StatusForbidden {
		t.Fatalf("read-only replay: %d, want 403", code)
	}

	admin := f.client()
	admin.login(adminToken)
	if code, _, _ := admin.do("POST", "/ui/dead/replay", seq); code != http.StatusForbidden {
		t.Fatalf("replay without the CSRF token: %d, want 403", code)
	}
	if code, _, _ := admin.do("POST", "/ui/dead/replay", withCSRF(seq, ro.csrf)); code != http.StatusForbidden {
		t.Fatalf("replay with another session's CSRF token: %d, want 403", code)
	}
	code, _, h := admin.do("POST", "/ui/dead/replay", withCSRF(seq, admin.csrf))
	if code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "replayed=") {
		t.Fatalf("replay: %d %q", code, h.Get("Location"))
	}
	_, body, _ = admin.do("GET", h.Get("Location"), nil)
	if !strings.Contains(body, "was replayed as ingest message") || strings.Contains(body, `href="/ui/dead/`+strconv.FormatUint(f.deadSeq, 10)+`"`) {
		t.Fatalf("after the replay:\n%s", body)
	}
	rec, err := f.store.Get(context.Background(), "web:1")
	if err != nil {
		t.Fatal(err)
	}
	last := rec.History[len(rec.History)-1]
	if last.Kind != decisions.EventReplay || last.By != "alice" {
		t.Fatalf("the decision record's history does not show the replay: %+v", rec.History)
	}
}

func withCSRF(v url.Values, token string) url.Values {
	out := url.Values{"csrf_token": {token}}
	for k, vs := range v {
		out[k] = vs
	}
	return out
}

func TestRulesPage(t *testing.T) {
	f := newFixture(t, false)
	c := f.client()
	c.login(roToken)
	_, body, _ := c.do("GET", "/ui/rules", nil)
	for _, want := range []string{"https://hooks.example.com/[redacted]", "secret: [redacted]", "rejected", "unknown team"} {
		if !strings.Contains(body, want) {
			t.Fatalf("rules page lacks %q:\n%s", want, body)
		}
	}
	// The playground: a read-only token may try a text.
	code, body, _ := c.do("POST", "/ui/rules/playground", withCSRF(url.Values{"text": {hostile}, "channel": {"email"}}, c.csrf))
	if code != 200 || !strings.Contains(body, `id="play-result"`) || !strings.Contains(body, "<dt>Teams</dt><dd>billing</dd>") {
		t.Fatalf("playground: %d\n%s", code, body)
	}
	checkSafe(t, "playground", body)
	if code, _, _ := c.do("POST", "/ui/rules/playground", url.Values{"text": {"x"}}); code != http.StatusForbidden {
		t.Fatalf("playground without CSRF: %d", code)
	}
	// The backtest: a candidate sending paketti to billing too.
	candidate := strings.Replace(testRules, "any: [paketti]", "any: [paketti, virhe]", 1)
	candidate = strings.Replace(candidate, "- id: logistics", "- id: logistics\n    continue: true", 1)
	candidate = strings.Replace(candidate, "any: [lasku]", "any: [paketti]", 1)
	code, body, _ = c.do("POST", "/ui/rules/backtest", withCSRF(url.Values{"candidate": {candidate}, "last": {"100"}}, c.csrf))
	if code != 200 || !strings.Contains(body, `id="backtest-result"`) || !strings.Contains(body, "would change team") {
		t.Fatalf("backtest: %d\n%s", code, body)
	}
	checkSafe(t, "backtest", body)
	code, body, _ = c.do("POST", "/ui/rules/backtest", withCSRF(url.Values{"candidate": {"teams: [\n"}}, c.csrf))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "does not load") {
		t.Fatalf("a broken candidate: %d\n%s", code, body)
	}
}

func TestOverviewAttention(t *testing.T) {
	f := newFixture(t, false)
	c := f.client()
	c.login(roToken)
	_, body, _ := c.do("GET", "/ui/", nil)
	for _, want := range []string{
		"Connector facebook is unauthorized",
		"target webhook https://hooks.example.com (json) keeps failing",
		"1 dead letter(s) wait",
		"The last rules reload",
		"nats (7)",
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("overview lacks %q:\n%s", want, body)
		}
	}
	att := body[strings.Index(body, `id="attention"`):strings.Index(body, "<h2>Connectors")]
	if strings.Index(att, "unauthorized") > strings.Index(att, "dead letter(s) wait") {
		t.Fatal("what is bad is not listed before what is a warning")
	}
}

func TestReroute(t *testing.T) {
	f := newFixture(t, true)
	ro := f.client()
	ro.login(roToken)
	_, body, _ := ro.do("GET", "/ui/trace?id=web:1", nil)
	if strings.Contains(body, `action="/ui/reroute"`) || !strings.Contains(body, "cannot reroute") {
		t.Fatalf("read-only trace page offers the reroute:\n%s", body)
	}
	if code, _, _ := ro.do("POST", "/ui/reroute", withCSRF(url.Values{"id": {"web:1"}, "team": {"logistics"}}, ro.csrf)); code != http.StatusForbidden {
		t.Fatalf("read-only reroute: %d", code)
	}
	admin := f.client()
	admin.login(adminToken)
	if code, _, _ := admin.do("POST", "/ui/reroute", withCSRF(url.Values{"id": {"web:1"}, "team": {"nope"}}, admin.csrf)); code != http.StatusBadRequest {
		t.Fatalf("reroute to an unknown team: %d", code)
	}
	code, _, h := admin.do("POST", "/ui/reroute", withCSRF(url.Values{"id": {"web:1"}, "team": {"logistics"}}, admin.csrf))
	if code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "rerouted=1") {
		t.Fatalf("reroute: %d %q", code, h.Get("Location"))
	}
	if len(f.reroute.calls) != 1 || f.reroute.calls[0] != "web:1 → logistics by alice" {
		t.Fatalf("Rerouter calls: %v", f.reroute.calls)
	}
}

func TestServiceLevels(t *testing.T) {
	f := newFixture(t, false)
	c := f.client()
	c.login(roToken)
	_, body, _ := c.do("GET", "/ui/service-levels", nil)
	if !strings.Contains(body, "arrives with the responses work") {
		t.Fatalf("service levels without the hook:\n%s", body)
	}
	f = newFixture(t, true)
	c = f.client()
	c.login(roToken)
	_, body, _ = c.do("GET", "/ui/service-levels?since=3d&bucket=day", nil)
	for _, want := range []string{`id="service-levels"`, "80%", "42m", "<svg", "polyline", "&lt;email&gt;"} {
		if !strings.Contains(body, want) {
			t.Fatalf("service levels lack %q:\n%s", want, body)
		}
	}
}

func TestRedactRules(t *testing.T) {
	tests := []struct{ in, want string }{
		{"url: https://hooks.slack.com/services/T/B/x", "url: https://hooks.slack.com/[redacted]"},
		{`url: "https://u:p@h.example/x?token=1"`, "url: https://h.example/[redacted]"},
		{"url: ${SLACK_URL}", "url: ${SLACK_URL}"},
		{"url: ${SLACK_URL:-https://hooks.slack.com/services/x}", "url: [redacted]"},
		{"secret: abc", "secret: [redacted]"},
		{"secret: ${HOOK_SECRET}", "secret: ${HOOK_SECRET}"},
		{"secret_file: /etc/x", "secret_file: /etc/x"},
		{"- {type: webhook, url: https://h.example/p/q, secret: 's'}", "- {type: webhook, url: https://h.example/[redacted], secret: [redacted]}"},
		{"description: app_secret handling", "description: app_secret handling"},
	}
	for _, tt := range tests {
		if got := RedactRules(tt.in); got != tt.want {
			t.Errorf("RedactRules(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWindow(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	w := newWindow(start, 25*time.Hour)
	for m := 0; m <= 180; m++ {
		w.add(start.Add(time.Duration(m)*time.Minute), map[string]float64{"k": float64(m)})
	}
	now := start.Add(180 * time.Minute)
	tests := []struct {
		d         time.Duration
		want      float64
		wantSince time.Time
	}{
		{time.Hour, 60, start.Add(120 * time.Minute)},
		{24 * time.Hour, 180, start},
		{10 * time.Minute, 10, start.Add(170 * time.Minute)},
	}
	for _, tt := range tests {
		n, since := w.increase("k", 180, now, tt.d)
		if n != tt.want || !since.Equal(tt.wantSince) {
			t.Errorf("increase over %s: %v since %s, want %v since %s", tt.d, n, since, tt.want, tt.wantSince)
		}
	}
	if n, _ := w.increase("other", 5, now, time.Hour); n != 5 {
		t.Errorf("a counter first seen within the hour: %v, want 5", n)
	}
}
