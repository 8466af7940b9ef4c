package connectors

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Backoff is a capped exponential backoff with full jitter.
type Backoff struct {
	Min, Max time.Duration
}

// Delay returns the wait before attempt n (n >= 1 is the first retry): a
// random duration in [d/2, d] where d = min(Max, Min·2^(n-1)).
func (b Backoff) Delay(n int, rnd func(int64) int64) time.Duration {
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	half := int64(d / 2)
	if half <= 0 {
		return d
	}
	return time.Duration(half + rnd(half+1))
}

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
	store   CheckpointStore
	backoff Backoff
	log     *zap.Logger
	obs     Observer
	now     func() time.Time

	mu       sync.Mutex
	statuses map[string]*status
	wg       sync.WaitGroup
}

// NewSupervisor returns a supervisor publishing through pub and keeping
// checkpoints in store. obs may be nil.
func NewSupervisor(pub Publisher, store CheckpointStore, backoff Backoff, log *zap.Logger, obs Observer) *Supervisor {
	return &Supervisor{pub: pub, store: store, backoff: backoff, log: log, obs: obs, now: time.Now, statuses: map[string]*status{}}
}

// Start runs c in the background until ctx ends. Names must be unique.
func (s *Supervisor) Start(ctx context.Context, c Connector) error {
	name := c.Name()
	if !validName(name) {
		return fmt.Errorf("connector name %q: use letters, digits, '-', '_' and '.'", name)
	}
	st := &status{s: Status{Name: name, State: StateStarting}}
	if s.obs != nil {
		st.onChange = s.obs.StateChanged
		st.onIngest = s.obs.Ingested
		st.onRefuse = s.obs.Refused
		s.obs.StateChanged(name, "", StateStarting)
	}
	s.mu.Lock()
	if _, dup := s.statuses[name]; dup {
		s.mu.Unlock()
		return fmt.Errorf("connector %q configured twice", name)
	}
	s.statuses[name] = st
	s.mu.Unlock()
	h := &Handle{name: name, pub: s.pub, store: s.store, status: st, now: s.now}
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
		st.setState(StateRunning)
		started := s.now()
		err := runSafely(ctx, c, h)
		if ctx.Err() != nil {
			st.setState(StateStopped)
			log.Info("connector stopped")
			return
		}
		if err == nil {
			err = errors.New("connector returned without an error before shutdown")
		}
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
		state, delay := StateBackingOff, s.backoff.Delay(failures, rand.Int64N)
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
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			st.setState(StateStopped)
			return
		case <-t.C:
		}
	}
}

// runSafely turns a connector panic into an error so one bad connector never
// takes the daemon down.
func runSafely(ctx context.Context, c Connector, h *Handle) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("connector panicked: %v", r)
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
