package router

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/bustest"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/targetspec"
	"github.com/switchboard/switchboard/internal/testwait"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/targets"
	"github.com/switchboard/switchboard/rules"
)

// fakeRules routes by the envelope text, so tests do not depend on the rule
// language: "to=a,b" sends to teams a and b, "noise" marks noise, "override"
// sets OverrideThread; anything else goes to triage. rename maps a team to
// another (a later rules version that renamed it).
type fakeRules struct {
	version string
	teams   []rules.Team
	rename  map[string]string
}

func (f *fakeRules) Version() string     { return f.version }
func (f *fakeRules) Teams() []rules.Team { return f.teams }

func (f *fakeRules) Classify(env *message.Envelope) rules.Decision {
	d := rules.Decision{Priority: "normal", Version: f.version, Teams: []string{"triage"}}
	for _, w := range strings.Fields(env.Text) {
		switch {
		case w == "noise":
			return rules.Decision{Noise: true, Decided: true, Version: f.version, Matched: []string{"noise"}}
		case w == "override":
			d.OverrideThread = true
		case strings.HasPrefix(w, "to="):
			d.Teams, d.Decided = nil, true
			for _, t := range strings.Split(strings.TrimPrefix(w, "to="), ",") {
				if r, ok := f.rename[t]; ok {
					t = r
				}
				d.Teams = append(d.Teams, t)
			}
			d.Matched = []string{"to"}
		}
	}
	return d
}

func natsTeam(name string) rules.Team {
	return rules.Team{Name: name, Targets: []targetspec.Spec{{Type: targetspec.NATS}}}
}

func teamOf(name string, targets ...targetspec.Spec) rules.Team {
	return rules.Team{Name: name, Targets: targets}
}

func webhookTarget(url string) targetspec.Spec {
	return targetspec.Spec{Type: targetspec.Webhook, URL: url, Format: targetspec.FormatJSON, Secret: "k", Timeout: 5 * time.Second}
}

// swapRules is a hot-swappable rules holder, like rules.Live.
type swapRules struct{ cur atomic.Pointer[fakeRules] }

func newSwap(r *fakeRules) *swapRules {
	s := &swapRules{}
	s.cur.Store(r)
	return s
}

func (s *swapRules) fn() RulesFunc { return func() Ruleset { return s.cur.Load() } }

// recMetrics records what the router reports.
type recMetrics struct {
	mu     sync.Mutex
	counts map[string]int
	gauges map[string]float64
}

func newRecMetrics() *recMetrics {
	return &recMetrics{counts: map[string]int{}, gauges: map[string]float64{}}
}

func (m *recMetrics) inc(k string) { m.mu.Lock(); m.counts[k]++; m.mu.Unlock() }
func (m *recMetrics) set(k string, v float64) {
	m.mu.Lock()
	m.gauges[k] = v
	m.mu.Unlock()
}

func (m *recMetrics) count(k string) int { m.mu.Lock(); defer m.mu.Unlock(); return m.counts[k] }
func (m *recMetrics) gauge(k string) (float64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.gauges[k]
	return v, ok
}

func (m *recMetrics) Routed(team string, _ time.Duration) { m.inc("routed/" + team) }
func (m *recMetrics) Delivered(team, tg string, _ time.Duration) {
	m.inc("delivered/" + team + "/" + tg)
}
func (m *recMetrics) Retried(team, tg, reason string) {
	m.inc("retried/" + team + "/" + tg + "/" + reason)
}
func (m *recMetrics) DeadLettered(reason, team, tg string) { m.inc("dead/" + reason + "/" + team) }
func (m *recMetrics) Redelivery(reason string)             { m.inc("redelivery/" + reason) }
func (m *recMetrics) Noise()                               { m.inc("noise") }
func (m *recMetrics) QueueDepth(team, tg string, d int64)  { m.set("depth/"+team+"/"+tg, float64(d)) }
func (m *recMetrics) CircuitOpen(team, tg string, open bool) {
	v := 0.0
	if open {
		v = 1
		m.inc("opened/" + team + "/" + tg)
	}
	m.set("circuit/"+team+"/"+tg, v)
}

// hook is a fake webhook receiver. It answers with status (atomically
// switchable), optionally hangs until the request's context ends, and
// records every request by Idempotency-Key.
type hook struct {
	srv    *httptest.Server
	status atomic.Int32
	hang   atomic.Bool
	// failFirst answers 500, unrecorded, to that many requests first.
	failFirst atomic.Int32

	mu       sync.Mutex
	requests map[string]int // Idempotency-Key → requests
	accepted map[string]int // Idempotency-Key → 2xx answers
	bodies   map[string]message.Routed
	total    int
}

func newHook(t *testing.T, status int) *hook {
	t.Helper()
	h := &hook{requests: map[string]int{}, accepted: map[string]int{}, bodies: map[string]message.Routed{}}
	h.status.Store(int32(status))
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.hang.Load() {
			// Read the body first: only then does the server notice the
			// client giving up and cancel the request's context.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		if h.failFirst.Add(-1) >= 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		key := r.Header.Get(targets.HeaderIdempotencyKey)
		var item message.Routed
		_ = json.NewDecoder(r.Body).Decode(&item)
		code := int(h.status.Load())
		h.mu.Lock()
		h.total++
		h.requests[key]++
		if code/100 == 2 {
			h.accepted[key]++
			h.bodies[key] = item
		}
		h.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) url() string { return h.srv.URL + "/hook/sekret-path" }

func (h *hook) stats() (total int, requests, accepted map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total, maps(h.requests), maps(h.accepted)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// testConfig is a router configuration with short delays for tests.
func testConfig(b *bus.Bus) Config {
	return Config{
		Stream:          b.Subjects.IngestStream,
		FilterSubject:   b.Subjects.AllIngest(),
		Consumer:        "router",
		AckWait:         5 * time.Second,
		MaxDeliver:      100,
		Workers:         4,
		RetryMin:        20 * time.Millisecond,
		RetryMax:        200 * time.Millisecond,
		AttemptTimeout:  2 * time.Second,
		BreakerFailures: 3,
		BreakerCooldown: 100 * time.Millisecond,
		FetchWait:       100 * time.Millisecond,
	}
}

// harness is a router running on an embedded bus.
type harness struct {
	t       *testing.T
	b       *bus.Bus
	rt      *Router
	metrics *recMetrics
	dead    *DeadLetters
	records *decisions.Store
	stop    func()
}

type harnessOpts struct {
	cfg       func(*Config)
	redis     targets.RedisClient
	noThreads bool
	// customers and cases, when set, give the router a customer model.
	customers Customers
	cases     Cases
}

func startRouter(t *testing.T, b *bus.Bus, rf RulesFunc, o harnessOpts) *harness {
	t.Helper()
	cfg := testConfig(b)
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc := StateConfig{ProgressBucket: "test_progress", ThreadBucket: "test_threads", ThreadTTL: time.Hour, Replicas: 1}
	if o.noThreads {
		sc.ThreadBucket = ""
	}
	progress, threads, err := OpenState(ctx, b.JS, sc)
	if err != nil {
		t.Fatal(err)
	}
	records, err := decisions.Open(ctx, b.JS, decisions.Config{Stream: b.Subjects.DecisionStream, Subjects: b.Subjects.Decisions(), MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: b, metrics: newRecMetrics(), records: records,
		dead: NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.IngestStream, b.Subjects.Dead)}
	h.rt = New(cfg, Deps{
		JS:    b.JS,
		Rules: rf,
		Targets: &targets.Factory{
			NATS:  targets.NewNATS(b.JS, b.Subjects.TeamStream, b.Subjects.Team),
			Redis: o.redis,
		},
		Dead:      h.dead,
		Progress:  progress,
		Threads:   threads,
		Records:   records,
		Customers: o.customers,
		Cases:     o.cases,
		Metrics:   h.metrics,
		Log:       bustest.Logger(t),
	})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.rt.Run(runCtx, 5*time.Second) }()
	stopped := false
	h.stop = func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		if err := testwait.Receive(t, 15*time.Second, "the router to stop", done); err != nil {
			t.Errorf("router run: %v", err)
		}
	}
	t.Cleanup(h.stop)
	return h
}

var envSeq atomic.Int64

// envelope returns a valid envelope with a unique id.
func envelope(text string) *message.Envelope {
	n := envSeq.Add(1)
	now := time.Now().UTC()
	return &message.Envelope{
		Version: 1, ID: fmt.Sprintf("web:m%d", n), Channel: "web", Kind: message.KindWeb,
		SourceID: fmt.Sprintf("m%d", n), Text: text, CreatedAt: now, ReceivedAt: now,
	}
}

func (h *harness) publish(envs ...*message.Envelope) {
	h.t.Helper()
	for _, env := range envs {
		if _, err := h.b.PublishIngest(context.Background(), env); err != nil {
			h.t.Fatal(err)
		}
	}
}

// allAcked reports whether the router acked everything in the ingest stream.
func (h *harness) allAcked() bool {
	ctx := context.Background()
	s, err := h.b.JS.Stream(ctx, h.b.Subjects.IngestStream)
	if err != nil {
		return false
	}
	si, err := s.Info(ctx)
	if err != nil {
		return false
	}
	c, err := h.b.JS.Consumer(ctx, h.b.Subjects.IngestStream, "router")
	if err != nil {
		return false
	}
	ci, err := c.Info(ctx)
	if err != nil {
		return false
	}
	return ci.NumAckPending == 0 && ci.NumPending == 0 && ci.AckFloor.Stream >= si.State.LastSeq
}

func (h *harness) waitAcked(d time.Duration) {
	h.t.Helper()
	testwait.Until(h.t, d, "the router to ack every ingest message", h.allAcked)
}

// teamIDs returns the envelope ids in team's NATS queue, in order.
func teamIDs(t *testing.T, b *bus.Bus, team string) []string {
	t.Helper()
	var ids []string
	for _, r := range teamItemsOf(t, b, team) {
		ids = append(ids, r.ID)
	}
	return ids
}

// teamItemsOf returns the routed items in team's NATS queue, in order.
func teamItemsOf(t *testing.T, b *bus.Bus, team string) []message.Routed {
	t.Helper()
	var items []message.Routed
	for _, m := range bustest.Messages(context.Background(), t, b.JS, b.Subjects.TeamStream) {
		if m.Subject != b.Subjects.Team(team) {
			continue
		}
		var r message.Routed
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatalf("team item %d is not a routed item: %v", m.Sequence, err)
		}
		if r.Team != team {
			t.Fatalf("item for %s on %s's subject", r.Team, team)
		}
		items = append(items, r)
	}
	return items
}

// distinct reports the number of distinct values and whether any repeats.
func distinct(ids []string) (n int, dup string) {
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] && dup == "" {
			dup = id
		}
		seen[id] = true
	}
	return len(seen), dup
}

func key(id, team string) string { return `"` + id + ":" + team + `"` }

func consumerInfo(t *testing.T, b *bus.Bus) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := b.JS.Consumer(context.Background(), b.Subjects.IngestStream, "router")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ci
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
