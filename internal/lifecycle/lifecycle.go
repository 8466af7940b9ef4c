// Package lifecycle starts a program's components in order and stops them
// in the reverse order, each under its name in the log: what started last
// (the HTTP server, the connectors) stops first, and what everything
// depends on (the backbone) stops last. A start that fails stops what
// already started, in the same reverse order, so nothing is closed under a
// component still using it.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Component is one part of a program. Every field but Name is optional.
type Component struct {
	// Name says what it is in logs and errors: "nats", "router".
	Name string
	// Start builds or starts it. ctx lives until the component is stopped
	// (goroutines started here may keep it), and ends early if the program
	// is told to stop while Start runs. An error stops the start: the
	// components started before it stop, in reverse order, and Start must
	// itself release what it got before failing.
	Start func(ctx context.Context) error
	// Run runs in its own goroutine once Start returned, with the same
	// ctx, until ctx ends. Returning before that, with or without an
	// error, stops the program.
	Run func(ctx context.Context) error
	// Stop releases it within ctx's deadline. It is called after the
	// component's ctx was cancelled and before waiting for Run to return,
	// so it can end a Run that does not watch ctx (an HTTP server).
	Stop func(ctx context.Context) error
}

// Options configure Run.
type Options struct {
	// Log hears each component start and stop, and every failure.
	Log *zap.Logger
	// StopTimeout bounds stopping every component (the whole stop, not
	// each one); a component that has not stopped by then is left behind
	// with a warning and the next is stopped.
	StopTimeout time.Duration
	// Ready, when set, is called once every component started.
	Ready func()
	// Inject, when set, is called before each component starts; an error
	// it returns fails that start. Tests inject failures with it.
	Inject func(name string) error
}

// started is a component that started: its context and its Run's end.
type started struct {
	c      Component
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned; nil without Run
	err    error         // Run's result, once done is closed
}

// Run starts cs in order, then waits until ctx ends or a component's Run
// returns, then stops every started component in the reverse order within
// o.StopTimeout. It returns why the program stopped: nil when ctx ended,
// else the start or run error, naming the component. Problems while
// stopping are logged, not returned: the program stopped either way.
func Run(ctx context.Context, o Options, cs ...Component) error {
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	failed := make(chan *started, len(cs))
	var up []*started
	var cause error
	ranOut := func(s *started) {
		cause = s.err
		if cause == nil {
			cause = errors.New("it returned before shutdown")
		}
		cause = fmt.Errorf("%s stopped: %w", s.c.Name, cause)
		log.Error("component stopped unexpectedly; stopping the others", zap.String("component", s.c.Name), zap.Error(s.err))
	}
	for _, c := range cs {
		if ctx.Err() != nil {
			break // told to stop while starting: stop what started, cleanly
		}
		select {
		case s := <-failed: // a component already running gave up
			ranOut(s)
		default:
		}
		if cause != nil {
			break
		}
		s, err := start(ctx, c, o.Inject, failed)
		if err != nil {
			if ctx.Err() == nil {
				cause = fmt.Errorf("starting %s: %w", c.Name, err)
				log.Error("component failed to start; stopping what started", zap.String("component", c.Name), zap.Error(err))
			}
			break
		}
		log.Debug("component started", zap.String("component", c.Name))
		up = append(up, s)
	}
	if cause == nil && ctx.Err() == nil {
		if o.Ready != nil {
			o.Ready()
		}
		select {
		case <-ctx.Done():
		case s := <-failed:
			ranOut(s)
		}
	}
	stop(up, o.StopTimeout, log)
	return cause
}

// start starts one component; a Run that ends is reported on failed.
func start(parent context.Context, c Component, inject func(string) error, failed chan<- *started) (*started, error) {
	if inject != nil {
		if err := inject(c.Name); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	s := &started{c: c, cancel: cancel}
	if c.Start != nil {
		detach := context.AfterFunc(parent, cancel) // a stop while starting
		err := c.Start(ctx)
		detach()
		if err != nil {
			cancel()
			return nil, err
		}
	}
	if c.Run != nil {
		s.done = make(chan struct{})
		go func() {
			defer close(s.done)
			s.err = c.Run(ctx)
			if ctx.Err() == nil {
				failed <- s
			}
		}()
	}
	return s, nil
}

// stop stops up in reverse order within timeout.
func stop(up []*started, timeout time.Duration, log *zap.Logger) {
	if len(up) == 0 {
		return
	}
	log.Info("stopping: the components stop in reverse order", zap.Int("components", len(up)), zap.Duration("timeout", timeout))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for i := len(up) - 1; i >= 0; i-- {
		s := up[i]
		name := zap.String("component", s.c.Name)
		began := time.Now()
		s.cancel()
		if s.c.Stop != nil {
			if err := s.c.Stop(ctx); err != nil {
				log.Warn("component did not stop cleanly", name, zap.Error(err))
			}
		}
		if s.done != nil {
			select {
			case <-s.done:
				if s.err != nil && !errors.Is(s.err, context.Canceled) {
					log.Warn("component ended with an error while stopping", name, zap.Error(s.err))
				}
			case <-ctx.Done():
				log.Warn("component did not stop within the shutdown timeout; leaving it", name, zap.Duration("timeout", timeout))
			}
		}
		log.Debug("component stopped", name, zap.Duration("took", time.Since(began)))
	}
}
