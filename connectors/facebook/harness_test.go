package facebook_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/connectors/facebook"
	"github.com/switchboard/switchboard/connectors/facebook/fbtest"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/metrictest"
	"github.com/switchboard/switchboard/internal/testwait"
)

const version = "v26.0"

// t0 is the fake Graph API's clock at the start of every test.
var t0 = time.Date(2026, 11, 20, 10, 15, 30, 0, time.UTC)

var (
	visitor  = fbtest.Profile{ID: "9001", Name: "Maija Meikäläinen"}
	visitor2 = fbtest.Profile{ID: "9002", Name: "Ville Virtanen"}
)

// memPub is the in-memory ingest store with the lookups these tests use.
type memPub struct{ connectortest.Publisher }

// ids returns the stored envelope ids, sorted.
func (m *memPub) ids() []string {
	var ids []string
	for _, e := range m.Envelopes() {
		ids = append(ids, e.ID)
	}
	sort.Strings(ids)
	return ids
}

func (m *memPub) get(sourceID string) *message.Envelope { return m.BySourceID(sourceID) }

func (m *memPub) count() (stored, attempts int) { return len(m.Envelopes()), m.Attempts() }

// sleeper replaces real waits: it records them and moves the fake clock.
type sleeper struct {
	fake *fbtest.Server
	mu   sync.Mutex
	all  []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.all = append(s.all, d)
	s.mu.Unlock()
	s.fake.Advance(d)
	return nil
}

// waited returns the recorded waits of at least min.
func (s *sleeper) waited(min time.Duration) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for _, d := range s.all {
		if d >= min {
			out = append(out, d)
		}
	}
	return out
}

// tenv runs page connectors under a real supervisor against a fake Graph API.
type tenv struct {
	t     *testing.T
	fake  *fbtest.Server
	pub   connectors.Publisher
	store connectors.CheckpointStore
	// resps stores the page's responses; nil: responses are not tracked.
	resps *connectortest.Responses
	// respPub, when set, stores the responses instead of resps.
	respPub  connectors.ResponsePublisher
	sup      *connectors.Supervisor
	cancel   context.CancelFunc
	startCtx context.Context
	reg      *prometheus.Registry
	metrics  *facebook.Metrics
	sleeps   *sleeper
	logs     *observer.ObservedLogs
	log      *zap.Logger
	runs     map[string]*pageRun
}

// pageRun is one started page.
type pageRun struct {
	page  *facebook.Page
	polls chan error
	mu    sync.Mutex
	at    []time.Time // the fake clock at the end of every poll
}

// pollTimes returns the fake clock at the end of every poll so far.
func (r *pageRun) pollTimes() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.at...)
}

func newEnv(t *testing.T, fake *fbtest.Server) *tenv {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	reg := prometheus.NewRegistry()
	m, err := facebook.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	return &tenv{
		t: t, fake: fake, pub: &memPub{}, store: &connectortest.Store{}, resps: &connectortest.Responses{}, reg: reg, metrics: m,
		sleeps: &sleeper{fake: fake}, logs: logs, log: zap.New(core), runs: map[string]*pageRun{},
	}
}

// opts are the connector options every test uses.
func (e *tenv) opts() facebook.Options {
	return facebook.Options{
		BaseURL: e.fake.URL(), Version: version, HTTPClient: e.fake.Client(),
		Log: e.log, Metrics: e.metrics, Now: e.fake.Now, Sleep: e.sleeps.sleep,
	}
}

// pageConfig is a page reading everything but its own posts, polled only
// when triggered.
func pageConfig(id, token string) facebook.PageConfig {
	return facebook.PageConfig{
		ID: id, Label: "page-" + id, Token: func() (string, error) { return token, nil },
		PollInterval: time.Hour, Backfill: 7 * 24 * time.Hour,
		Ingest: facebook.Ingest{VisitorPosts: true, Comments: true, Messages: true},
	}
}

// feedOnly is the test page's config that reads the feed only, so that
// faults hit feed requests.
func feedOnly() facebook.PageConfig {
	cfg := pageConfig(pageID, pageToken)
	cfg.Ingest.Messages = false
	return cfg
}

// ingesting is the test page's config reading only what in asks for.
func ingesting(in facebook.Ingest) facebook.PageConfig {
	cfg := pageConfig(pageID, pageToken)
	cfg.Ingest = in
	return cfg
}

// start runs pages until the test ends.
func (e *tenv) start(opts facebook.Options, cfgs ...facebook.PageConfig) {
	e.t.Helper()
	if e.sup == nil {
		so := connectors.SupervisorOptions{Publisher: e.pub, Checkpoints: e.store, Backoff: backoff.Policy{Min: 5 * time.Millisecond, Max: 20 * time.Millisecond}, Log: e.log}
		switch {
		case e.respPub != nil:
			so.Responses = e.respPub
		case e.resps != nil:
			so.Responses = e.resps
		}
		e.sup = connectors.NewSupervisor(so)
		ctx, cancel := context.WithCancel(context.Background())
		e.cancel = cancel
		e.t.Cleanup(e.stop)
		e.startCtx = ctx
	}
	for _, cfg := range cfgs {
		p, err := facebook.NewPage(cfg, opts)
		if err != nil {
			e.t.Fatal(err)
		}
		run := &pageRun{page: p, polls: make(chan error, 1000)}
		facebook.OnPoll(p, func(err error) {
			run.mu.Lock()
			run.at = append(run.at, e.fake.Now())
			run.mu.Unlock()
			select {
			case run.polls <- err:
			default: // a page failing in a loop: the tests that count polls do not let it
			}
		})
		if err := e.sup.Start(e.startCtx, p); err != nil {
			e.t.Fatal(err)
		}
		e.runs[cfg.ID] = run
	}
}

// stop ends every page and waits for them.
func (e *tenv) stop() {
	if e.sup == nil {
		return
	}
	e.cancel()
	e.sup.Wait()
	e.sup = nil
}

// wait returns the result of the next poll of page id.
func (e *tenv) wait(id string) error {
	e.t.Helper()
	return testwait.Receive(e.t, 10*time.Second, "a poll of page "+id, e.runs[id].polls)
}

// responses returns the stored responses by source id.
func (e *tenv) responses() map[string]*message.Response {
	out := map[string]*message.Response{}
	if e.resps != nil {
		for _, r := range e.resps.All() {
			out[r.SourceID] = r
		}
	}
	return out
}

// mustPoll waits for the next poll of page id and fails on its error.
func (e *tenv) mustPoll(id string) {
	e.t.Helper()
	if err := e.wait(id); err != nil {
		e.t.Fatalf("poll of page %s: %v", id, err)
	}
}

// trigger makes page id poll now and waits for it.
func (e *tenv) trigger(id string) {
	e.t.Helper()
	e.runs[id].page.Trigger()
	e.mustPoll(id)
}

// status returns the supervisor's status of page id.
func (e *tenv) status(id string) connectors.Status {
	e.t.Helper()
	st, ok := e.sup.Status("facebook." + id)
	if !ok {
		e.t.Fatalf("no status for page %s", id)
	}
	return st
}

// waitState waits until page id reaches state.
func (e *tenv) waitState(id string, state connectors.State) connectors.Status {
	e.t.Helper()
	var st connectors.Status
	testwait.Until(e.t, 10*time.Second, "page "+id+" to reach "+string(state), func() bool {
		st = e.status(id)
		return st.State == state
	})
	return st
}

// metric returns the value of a metric with the given labels (0 if absent).
func (e *tenv) metric(name string, labels map[string]string) float64 {
	e.t.Helper()
	return metrictest.Value(e.t, e.reg, name, labels)
}

// assertNoLeak fails if a secret shows in logs, statuses or metrics.
func (e *tenv) assertNoLeak(secrets ...string) {
	e.t.Helper()
	var all strings.Builder
	for _, entry := range e.logs.All() {
		all.WriteString(entry.Message)
		for k, v := range entry.ContextMap() {
			fmt.Fprintf(&all, " %s=%v", k, v)
		}
		all.WriteByte('\n')
	}
	if e.sup != nil {
		for _, s := range e.sup.Statuses() {
			fmt.Fprintf(&all, "%+v\n", s)
		}
	}
	mfs, _ := e.reg.Gather()
	for _, mf := range mfs {
		fmt.Fprintf(&all, "%v\n", mf)
	}
	for _, s := range secrets {
		if strings.Contains(all.String(), s) {
			e.t.Fatalf("secret %q leaked into logs, statuses or metrics:\n%s", s, all.String())
		}
	}
}
