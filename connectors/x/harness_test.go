package x

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/connectors/x/xtest"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/testclock"
	"github.com/switchboard/switchboard/internal/testwait"
)

// account is the user id of the account under test; its handle is "acme".
const account = "1500000000000000001"

// t0 is when every test starts (the fake clock's zero).
var t0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// pid returns the id of a post created n seconds after t0.
func pid(n int) string { return xtest.Snowflake(t0.Add(time.Duration(n)*time.Second), 0) }

// wait is one non-poll wait a connector asked for.
type wait struct {
	name, why string
	d         time.Duration
}

// stepper drives connectors poll by poll: each poll's end blocks in the
// sleep hook until the test lets the connector go on. Other waits (rate
// limits, retries) are recorded and pass at once, moving the clock.
type stepper struct {
	clk     *testclock.Clock
	mu      sync.Mutex
	polled  map[string]chan struct{}
	release map[string]chan struct{}
	waits   []wait
}

func newStepper(clk *testclock.Clock) *stepper {
	return &stepper{clk: clk, polled: map[string]chan struct{}{}, release: map[string]chan struct{}{}}
}

func (s *stepper) chans(name string) (chan struct{}, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.polled[name] == nil {
		s.polled[name], s.release[name] = make(chan struct{}), make(chan struct{})
	}
	return s.polled[name], s.release[name]
}

func (s *stepper) sleep(ctx context.Context, name string, d time.Duration, why string) error {
	if why != waitPoll {
		s.mu.Lock()
		s.waits = append(s.waits, wait{name: name, why: why, d: d})
		s.mu.Unlock()
		s.clk.Advance(d)
		return ctx.Err()
	}
	polled, release := s.chans(name)
	select {
	case polled <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-release:
		s.clk.Advance(d)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitPolled waits until connector name finished a poll.
func (s *stepper) waitPolled(t *testing.T, name string) {
	t.Helper()
	polled, _ := s.chans(name)
	testwait.Receive(t, 10*time.Second, name+" to finish a poll", polled)
}

// next lets connector name poll again and waits until that poll finished.
func (s *stepper) next(t *testing.T, name string) {
	t.Helper()
	_, release := s.chans(name)
	testwait.Send(t, 10*time.Second, name+" to wait for its next poll", release, struct{}{})
	s.waitPolled(t, name)
}

func (s *stepper) recorded(why string) []wait {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wait
	for _, w := range s.waits {
		if w.why == why {
			out = append(out, w)
		}
	}
	return out
}

// memTokens is a TokenStore in memory.
type memTokens struct {
	mu    sync.Mutex
	saved []string
	fail  error
}

func (m *memTokens) SaveRefreshToken(_ context.Context, tok string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.saved = append(m.saved, tok)
	return nil
}

func (m *memTokens) last() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.saved) == 0 {
		return ""
	}
	return m.saved[len(m.saved)-1]
}

// env is one test: a fake API, a clock, a stepper and the stores, shared by
// the runs of connectors started with start.
type env struct {
	t     *testing.T
	api   *xtest.Server
	clk   *testclock.Clock
	step  *stepper
	pub   *connectortest.Publisher
	store *connectortest.Store
	// resp stores responses; untracked starts supervisors without it (the
	// daemon does not track responses).
	resp      *connectortest.Responses
	untracked bool
	log       *zap.Logger
	// pageSize is the max_results the connectors ask for (small, so that
	// tests page).
	pageSize int
}

func newEnv(t *testing.T) *env {
	clk := testclock.New(t0)
	api := xtest.New(t)
	api.Now = clk.Now
	api.AddUser(xtest.User{ID: account, Username: "acme", Name: "Acme Oy"},
		xtest.User{ID: "2001", Username: "maija", Name: "Maija Meikäläinen"},
		xtest.User{ID: "2002", Username: "pekka", Name: "Pekka P"})
	return &env{t: t, api: api, clk: clk, step: newStepper(clk), pub: &connectortest.Publisher{}, store: &connectortest.Store{}, resp: &connectortest.Responses{},
		log: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), pageSize: 5}
}

// options returns options for the fake API with mentions on and a budget
// that does not get in the way.
func (e *env) options() Options {
	return Options{
		BaseURL:      e.api.URL,
		UserID:       account,
		BearerToken:  secret.Secret(e.api.AppToken),
		Mentions:     true,
		PollInterval: time.Minute,
		ReadsPerDay:  10000,
		ReadsPerPoll: 1000,
		Log:          e.log,
	}
}

// running is a started set of connectors.
type running struct {
	sup    *connectors.Supervisor
	cancel context.CancelFunc
}

// start runs the connectors built from o under a supervisor until the test
// ends (or stop is called).
func (e *env) start(o Options) *running {
	e.t.Helper()
	cs, err := newStreams(o, hooks{now: e.clk.Now, sleep: e.step.sleep, pageSize: e.pageSize})
	if err != nil {
		e.t.Fatalf("newStreams: %v", err)
	}
	so := connectors.SupervisorOptions{Publisher: e.pub, Checkpoints: e.store, Backoff: backoff.Policy{Min: time.Millisecond, Max: 5 * time.Millisecond}, Log: e.log}
	if !e.untracked {
		so.Responses = e.resp
	}
	sup := connectors.NewSupervisor(so)
	ctx, cancel := context.WithCancel(context.Background())
	for _, c := range cs {
		if err := sup.Start(ctx, c); err != nil {
			e.t.Fatal(err)
		}
	}
	r := &running{sup: sup, cancel: cancel}
	e.t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.cancel()
	r.sup.Wait()
}

func (r *running) status(t *testing.T, name string) connectors.Status {
	t.Helper()
	st, ok := r.sup.Status(name)
	if !ok {
		t.Fatalf("no connector %s", name)
	}
	return st
}

// waitState waits until connector name is in state want.
func (r *running) waitState(t *testing.T, name string, want connectors.State) connectors.Status {
	t.Helper()
	var st connectors.Status
	testwait.Until(t, 10*time.Second, name+" to reach "+string(want), func() bool {
		st = r.status(t, name)
		return st.State == want
	})
	return st
}

// checkpoint decodes the saved checkpoint of name into v.
func (e *env) checkpoint(name string, v any) {
	e.t.Helper()
	raw, _ := e.store.Load(context.Background(), name)
	if raw == nil {
		e.t.Fatalf("no checkpoint saved for %s", name)
	}
	reflect.ValueOf(v).Elem().SetZero() // fields left out must read as empty
	if err := json.Unmarshal(raw, v); err != nil {
		e.t.Fatalf("checkpoint of %s: %v", name, err)
	}
}

// mention returns a post by user 2001 mentioning the account.
func mention(n int, text string) xtest.Post {
	return xtest.Post{ID: pid(n), Text: "@acme " + text, AuthorID: "2001", Lang: "fi", Mentions: []string{account}}
}

// mentions returns n mentions with ids pid(from)..pid(from+n-1).
func mentions(from, n int) []xtest.Post {
	var out []xtest.Post
	for i := 0; i < n; i++ {
		out = append(out, mention(from+i, "viesti"))
	}
	return out
}

func ids(from, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, pid(from+i))
	}
	return out
}

func equal(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}
