package connectors

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/secret"
	"go.uber.org/zap"
)

// Observer is told about state changes and publishes (for metrics).
type Observer interface {
	StateChanged(connector string, from, to State)
	Ingested(channel string, duplicate bool)
	ConnectorError(connector string)
	// Refused counts a publish the backbone refused for lack of room; why
	// is what is full: "store full" or "stream full" (the ingest stream).
	Refused(channel, why string)
}

// Supervisor runs connectors, restarting each one that fails.
type Supervisor struct {
	pub     Publisher
	resp    ResponsePublisher
	store   CheckpointStore
	backoff backoff.Policy
	log     *zap.Logger
	obs     Observer
	red     *secret.Redactor
	now     func() time.Time

	mu       sync.Mutex
	statuses map[string]*status
	wg       sync.WaitGroup
}

// SupervisorOptions configures a Supervisor.
type SupervisorOptions struct {
	// Publisher stores what connectors publish.
	Publisher Publisher
	// Checkpoints keeps each connector's checkpoint.
	Checkpoints CheckpointStore
	// Backoff spaces the restarts of a failing connector; a connector whose
	// credentials were rejected waits Backoff.Max.
	Backoff backoff.Policy
	// Log receives the supervisor's logs (nil: none).
	Log *zap.Logger
	// Observer is told about state changes and publishes (nil: none).
	Observer Observer
	// Redactor scrubs every known secret from a connector's errors before
	// they are logged or stored in its status (nil: none are known).
	Redactor *secret.Redactor
	// Responses stores the company's responses connectors see (nil:
	// responses are not tracked; Handle.PublishResponses does nothing).
	Responses ResponsePublisher
}

// NewSupervisor returns a supervisor configured by o.
func NewSupervisor(o SupervisorOptions) *Supervisor {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	return &Supervisor{pub: o.Publisher, resp: o.Responses, store: o.Checkpoints, backoff: o.Backoff, log: o.Log, obs: o.Observer,
		red: o.Redactor, now: time.Now, statuses: map[string]*status{}}
}

// Start runs c in the background until ctx ends. Names must be unique.
func (s *Supervisor) Start(ctx context.Context, c Connector) error {
	name := c.Name()
	if !validName(name) {
		return fmt.Errorf("connector name %q: use letters, digits, '-', '_' and '.'", name)
	}
	st := &status{s: Status{Name: name, State: StateStarting}, red: s.red}
	if s.obs != nil {
		st.onChange = s.obs.StateChanged
		st.onIngest = s.obs.Ingested
		st.onRefuse = s.obs.Refused
	}
	s.mu.Lock()
	if _, dup := s.statuses[name]; dup {
		s.mu.Unlock()
		return fmt.Errorf("connector %q configured twice", name)
	}
	s.statuses[name] = st
	s.mu.Unlock()
	// Only now: a duplicate must not move the first one's state gauge.
	if s.obs != nil {
		s.obs.StateChanged(name, "", StateStarting)
	}
	h := &Handle{name: name, pub: s.pub, resp: s.resp, store: s.store, status: st, now: s.now, log: s.log.With(zap.String("connector", name))}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.loop(ctx, c, h, st)
	}()
	return nil
}

// Wait blocks until every started connector has stopped.
func (s *Supervisor) Wait() { s.wg.Wait() }

// Statuses returns a snapshot of every connector, sorted by name.
func (s *Supervisor) Statuses() []Status {
	s.mu.Lock()
	out := make([]Status, 0, len(s.statuses))
	for _, st := range s.statuses {
		out = append(out, st.snapshot())
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Status returns a snapshot of the connector named name, and whether one
// was started.
func (s *Supervisor) Status(name string) (Status, bool) {
	s.mu.Lock()
	st, ok := s.statuses[name]
	s.mu.Unlock()
	if !ok {
		return Status{}, false
	}
	return st.snapshot(), true
}

// Pending returns the names of connectors that have not finished their
// first attempt (a poll that succeeded or failed, a publish, or for the
// intake, serving): until then the daemon is not ready.
func (s *Supervisor) Pending() []string {
	var names []string
	for _, st := range s.Statuses() {
		if st.FirstAttemptAt == nil && st.State != StateStopped {
			names = append(names, st.Name)
		}
	}
	return names
}

// Unauthorized returns the names of connectors whose credentials were rejected.
func (s *Supervisor) Unauthorized() []string {
	var names []string
	for _, st := range s.Statuses() {
		if st.State == StateUnauthorized {
			names = append(names, st.Name)
		}
	}
	return names
}

func (s *Supervisor) loop(ctx context.Context, c Connector, h *Handle, st *status) {
	log := s.log.With(zap.String("connector", c.Name()))
	failures := 0
	for {
		// A connector whose credentials were rejected stays unauthorized
		// while it tries again, until something works (status.recovered):
		// its state, gauge and alert do not flap at every retry.
		if st.snapshot().State != StateUnauthorized {
			st.setState(StateRunning)
		}
		started := s.now()
		err := s.runSafely(ctx, c, h, log)
		if ctx.Err() != nil {
			st.setState(StateStopped)
			log.Info("connector stopped")
			return
		}
		if err == nil {
			err = errors.New("connector returned without an error before shutdown")
		}
		err = s.red.Error(err) // it is logged and stored below
		if s.now().Sub(started) > s.backoff.Max {
			failures = 0 // it ran well for a while: start the backoff over
		}
		failures++
		if why := fullReason(err); why != "" {
			if !s.pause(ctx, log, st, why, err, failures) {
				return
			}
			continue
		}
		st.failed(err, s.now())
		if s.obs != nil {
			s.obs.ConnectorError(c.Name())
		}
		state, delay := StateBackingOff, s.backoff.Delay(failures)
		if errors.Is(err, ErrUnauthorized) {
			state, delay = StateUnauthorized, s.backoff.Max
			log.Error("connector credentials rejected; fix them in the configuration, then it resumes from its checkpoint",
				zap.Error(err), zap.Duration("retry_in", delay))
		} else {
			log.Warn("connector failed; restarting after backoff", zap.Error(err), zap.Duration("retry_in", delay), zap.Int("failures", failures))
		}
		next := s.now().Add(delay).UTC()
		st.mu.Lock()
		st.s.Restarts++
		st.s.NextAttemptAt = &next
		st.mu.Unlock()
		st.setState(state)
		if backoff.Sleep(ctx, delay) != nil {
			st.setState(StateStopped)
			return
		}
	}
}

// runSafely turns a connector panic into an error so one bad connector never
// takes the daemon down; the stack goes to the log (scrubbed, like every
// connector error), for whoever fixes the connector.
func (s *Supervisor) runSafely(ctx context.Context, c Connector, h *Handle, log *zap.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("connector panicked: %v", r)
			log.Error("connector panicked; it restarts after the backoff",
				zap.String("panic", s.red.Scrub(fmt.Sprint(r))), zap.String("stack", s.red.Scrub(string(debug.Stack()))))
		}
	}()
	return c.Run(ctx, h)
}

func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
