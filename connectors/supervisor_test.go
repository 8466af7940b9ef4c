package connectors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/connectors/connectortest"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/testwait"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// funcConnector runs f on every start.
type funcConnector struct {
	name string
	f    func(ctx context.Context, h *Handle, run int) error
	runs int
}

func (c *funcConnector) Name() string { return c.name }
func (c *funcConnector) Run(ctx context.Context, h *Handle) error {
	c.runs++
	return c.f(ctx, h, c.runs)
}

func waitState(t *testing.T, s *Supervisor, name string, want State) Status {
	t.Helper()
	var st Status
	testwait.Until(t, 5*time.Second, "connector "+name+" to reach "+string(want), func() bool {
		st, _ = s.Status(name)
		return st.State == want
	})
	return st
}

// memSupervisor is a supervisor on an in-memory publisher and checkpoint
// store that retries after 1ms, backing off up to max; o sets the rest.
func memSupervisor(max time.Duration, o SupervisorOptions) *Supervisor {
	o.Publisher, o.Checkpoints = &connectortest.Publisher{}, &connectortest.Store{}
	o.Backoff = backoff.Policy{Min: time.Millisecond, Max: max}
	return NewSupervisor(o)
}

// scrubbingLog is supervisor options with an observed debug log and a
// redactor that knows the secret known, for tests that it never shows.
func scrubbingLog(known secret.Secret) (SupervisorOptions, *observer.ObservedLogs) {
	red := secret.NewRedactor()
	red.Add(known)
	core, logs := observer.New(zap.DebugLevel)
	return SupervisorOptions{Log: zap.New(core), Redactor: red}, logs
}

func envelope(id string) *message.Envelope {
	return &message.Envelope{ID: "web:" + id, Channel: "web", Kind: message.KindWeb, SourceID: id, Text: "t"}
}

func TestSupervisorRestartsAndKeepsStatus(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := memSupervisor(5*time.Millisecond, SupervisorOptions{})
	restarted := make(chan struct{}, 1)
	c := &funcConnector{name: "flaky", f: func(ctx context.Context, h *Handle, run int) error {
		if run == 1 {
			if err := h.PublishAndCheckpoint(ctx, []byte("cp-1"), envelope("1"), envelope("2")); err != nil {
				return err
			}
			return errors.New("boom")
		}
		if run == 2 {
			panic("bad connector")
		}
		restarted <- struct{}{}
		<-ctx.Done()
		return nil
	}}
	if err := s.Start(ctx, c); err != nil {
		t.Fatal(err)
	}
	testwait.Receive(t, 5*time.Second, "the connector's third start", restarted)
	st := waitState(t, s, "flaky", StateRunning)
	if st.Ingested != 2 || st.Checkpoint != "cp-1" || st.Restarts != 2 {
		t.Fatalf("status %+v", st)
	}
	if !strings.Contains(st.LastError, "panicked: bad connector") {
		t.Fatalf("last error %q", st.LastError)
	}
	cancel()
	s.Wait()
	if got := s.Statuses()[0].State; got != StateStopped {
		t.Fatalf("state after stop = %s", got)
	}
}

func TestSupervisorUnauthorized(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := memSupervisor(time.Hour, SupervisorOptions{})
	c := &funcConnector{name: "fb.page", f: func(context.Context, *Handle, int) error {
		return fmt.Errorf("page 123: token expired: %w", ErrUnauthorized)
	}}
	if err := s.Start(ctx, c); err != nil {
		t.Fatal(err)
	}
	st := waitState(t, s, "fb.page", StateUnauthorized)
	if st.NextAttemptAt == nil || time.Until(*st.NextAttemptAt) < 30*time.Minute {
		t.Fatalf("unauthorized must retry slowly (backoff max): %+v", st.NextAttemptAt)
	}
	if got := s.Unauthorized(); len(got) != 1 || got[0] != "fb.page" {
		t.Fatalf("Unauthorized() = %v", got)
	}
}

func TestCheckpointNotAdvancedWhenPublishFails(t *testing.T) {
	pub := &connectortest.Publisher{}
	pub.Fail(errors.New("nats down"))
	store := &connectortest.Store{}
	st := &status{}
	h := &Handle{name: "c", pub: pub, store: store, status: st, now: time.Now}
	err := h.PublishAndCheckpoint(context.Background(), []byte("new"), envelope("1"))
	if err == nil {
		t.Fatal("want error")
	}
	if cp, _ := store.Load(context.Background(), "c"); cp != nil {
		t.Fatalf("checkpoint advanced to %q although the publish failed", cp)
	}
}

func TestSupervisorRejectsBadAndDuplicateNames(t *testing.T) {
	s := memSupervisor(time.Millisecond, SupervisorOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); s.Wait() }()
	block := func(ctx context.Context, _ *Handle, _ int) error { <-ctx.Done(); return nil }
	if err := s.Start(ctx, &funcConnector{name: "bad name", f: block}); err == nil {
		t.Fatal("want error for a name with a space")
	}
	if err := s.Start(ctx, &funcConnector{name: "a", f: block}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, &funcConnector{name: "a", f: block}); err == nil {
		t.Fatal("want error for a duplicate name")
	}
}

// A connector's errors reach the log and the status scrubbed of every
// secret the redactor knows, and still classify (ErrUnauthorized).
func TestSupervisorScrubsSecrets(t *testing.T) {
	const pw = "pw-S3cret"
	o, logs := scrubbingLog(pw)
	s := memSupervisor(time.Hour, o)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	paused := make(chan Status, 1)
	c := &funcConnector{name: "email.support", f: func(_ context.Context, h *Handle, _ int) error {
		h.Failed(errors.New("paused after the server said " + pw))
		paused <- s.Statuses()[0]
		return fmt.Errorf(`T1 NO [AUTHENTICATIONFAILED] T1 LOGIN "u" "%s": %w`, pw, ErrUnauthorized)
	}}
	if err := s.Start(ctx, c); err != nil {
		t.Fatal(err)
	}
	if st := testwait.Receive(t, 0, "the connector's handled failure", paused); strings.Contains(st.LastError, pw) || !strings.Contains(st.LastError, secret.Redacted) {
		t.Fatalf("Handle.Failed stored %q", st.LastError)
	}
	st := waitState(t, s, "email.support", StateUnauthorized)
	if strings.Contains(st.LastError, pw) || !strings.Contains(st.LastError, "AUTHENTICATIONFAILED") {
		t.Fatalf("last error %q", st.LastError)
	}
	logged := false
	for _, e := range logs.All() {
		line := fmt.Sprint(e.Message, e.ContextMap())
		if strings.Contains(line, pw) {
			t.Fatalf("secret logged: %s", line)
		}
		logged = logged || strings.Contains(line, "AUTHENTICATIONFAILED")
	}
	if !logged {
		t.Fatalf("the failure was not logged: %v", logs.All())
	}
}

// stateLog records every state change the supervisor reports.
type stateLog struct {
	mu      sync.Mutex
	changes []string
}

func (o *stateLog) StateChanged(name string, from, to State) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.changes = append(o.changes, fmt.Sprintf("%s:%s>%s", name, from, to))
}
func (o *stateLog) Ingested(string, bool)  {}
func (o *stateLog) ConnectorError(string)  {}
func (o *stateLog) Refused(string, string) {}

func (o *stateLog) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.changes...)
}

// A duplicate name is refused before anything about it is reported: the
// first connector's state gauge stays where it is.
func TestSupervisorDuplicateMovesNoState(t *testing.T) {
	obs := &stateLog{}
	s := memSupervisor(time.Millisecond, SupervisorOptions{Observer: obs})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); s.Wait() }()
	block := func(ctx context.Context, _ *Handle, _ int) error { <-ctx.Done(); return nil }
	if err := s.Start(ctx, &funcConnector{name: "a", f: block}); err != nil {
		t.Fatal(err)
	}
	waitState(t, s, "a", StateRunning)
	if err := s.Start(ctx, &funcConnector{name: "a", f: block}); err == nil {
		t.Fatal("want an error for a duplicate name")
	}
	if got, want := obs.get(), []string{"a:>starting", "a:starting>running"}; !slices.Equal(got, want) {
		t.Fatalf("state changes %q, want %q", got, want)
	}
}

// A panicking connector's stack is logged, scrubbed, and it restarts.
func TestSupervisorLogsPanicStack(t *testing.T) {
	const token = "tok-S3cret"
	o, logs := scrubbingLog(token)
	s := memSupervisor(time.Millisecond, o)
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); s.Wait() }()
	restarted := make(chan struct{})
	c := &funcConnector{name: "p", f: func(ctx context.Context, _ *Handle, run int) error {
		if run == 1 {
			panic("bad page with " + token)
		}
		close(restarted)
		<-ctx.Done()
		return nil
	}}
	if err := s.Start(ctx, c); err != nil {
		t.Fatal(err)
	}
	testwait.Closed(t, 5*time.Second, "the restart after the panic", restarted)
	entries := logs.FilterMessage("connector panicked; it restarts after the backoff").All()
	if len(entries) != 1 {
		t.Fatalf("panic logged %d times", len(entries))
	}
	f := entries[0].ContextMap()
	stack, _ := f["stack"].(string)
	if !strings.Contains(stack, "TestSupervisorLogsPanicStack") || !strings.Contains(stack, "goroutine") {
		t.Fatalf("no stack in the log: %v", f)
	}
	if strings.Contains(fmt.Sprint(f), token) || f["connector"] != "p" {
		t.Fatalf("log fields %v", f)
	}
}

// Rejected credentials keep the connector unauthorized while it retries,
// until something works; a connector is pending until its first attempt.
func TestSupervisorUnauthorizedUntilRecoveredAndPending(t *testing.T) {
	obs := &stateLog{}
	s := memSupervisor(time.Millisecond, SupervisorOptions{Observer: obs})
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); s.Wait() }()
	firstPoll, retrying := make(chan struct{}), make(chan Status)
	c := &funcConnector{name: "fb", f: func(ctx context.Context, h *Handle, run int) error {
		switch run {
		case 1:
			<-firstPoll
			return fmt.Errorf("token expired: %w", ErrUnauthorized)
		case 2:
			st, _ := s.Status("fb")
			retrying <- st
			return fmt.Errorf("still expired: %w", ErrUnauthorized)
		}
		h.Succeeded()
		<-ctx.Done()
		return nil
	}}
	if err := s.Start(ctx, c); err != nil {
		t.Fatal(err)
	}
	idle := &funcConnector{name: "intake", f: func(ctx context.Context, h *Handle, _ int) error { h.Serving(); <-ctx.Done(); return nil }}
	if err := s.Start(ctx, idle); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, 5*time.Second, "the intake to serve", func() bool { return slices.Equal(s.Pending(), []string{"fb"}) })
	close(firstPoll)
	if st := testwait.Receive(t, 5*time.Second, "the retry", retrying); st.State != StateUnauthorized {
		t.Fatalf("state during the retry: %s", st.State)
	}
	st := waitState(t, s, "fb", StateRunning)
	if st.FirstAttemptAt == nil || len(s.Pending()) != 0 {
		t.Fatalf("first attempt %v, pending %v", st.FirstAttemptAt, s.Pending())
	}
	var fb []string
	for _, ch := range obs.get() {
		if strings.HasPrefix(ch, "fb:") {
			fb = append(fb, ch)
		}
	}
	if want := []string{"fb:>starting", "fb:starting>running", "fb:running>unauthorized", "fb:unauthorized>running"}; !slices.Equal(fb, want) {
		t.Fatalf("state changes %q, want %q", fb, want)
	}
}
