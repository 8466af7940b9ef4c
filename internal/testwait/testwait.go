// Package testwait is the one way tests wait for something to happen: a
// condition polled until it holds (Until, NoError), a value received or sent
// (Receive, Send), a done channel closed (Closed), each bounded by a timeout
// and failing the test saying what it waited for. Tests never sleep for a
// fixed time.
package testwait

import (
	"testing"
	"time"
)

// DefaultTimeout bounds a wait when the caller passes 0. It is generous
// because CI machines are slow and loaded; a passing test never waits it out.
const DefaultTimeout = 10 * time.Second

// pollEvery is how often the condition is checked.
const pollEvery = 5 * time.Millisecond

// Until polls cond until it returns true and fails t (Fatalf) when it has
// not within timeout (DefaultTimeout when 0). what names the awaited event
// for the failure message.
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := poll(timeout, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	}); err != nil {
		t.Fatalf("timed out after %s waiting for %s", orDefault(timeout), what)
	}
}

// NoError polls check until it returns nil and fails t when it has not
// within timeout (DefaultTimeout when 0), reporting check's last error.
func NoError(t testing.TB, timeout time.Duration, what string, check func() error) {
	t.Helper()
	if err := poll(timeout, check); err != nil {
		t.Fatalf("timed out after %s waiting for %s: last error: %v", orDefault(timeout), what, err)
	}
}

// Receive waits for a value on ch and returns it, failing t when none
// arrives within timeout (DefaultTimeout when 0) or ch is closed.
func Receive[T any](t testing.TB, timeout time.Duration, what string, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(orDefault(timeout))
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("channel closed while waiting for %s", what)
		}
		return v
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", orDefault(timeout), what)
	}
	panic("unreachable")
}

// Closed waits until ch is closed (a done channel), failing t when it is
// not within timeout (DefaultTimeout when 0) or a value arrives instead.
func Closed[T any](t testing.TB, timeout time.Duration, what string, ch <-chan T) {
	t.Helper()
	timer := time.NewTimer(orDefault(timeout))
	defer timer.Stop()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatalf("a value arrived while waiting for %s (a close)", what)
		}
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", orDefault(timeout), what)
	}
}

// Send sends v on ch, failing t when nobody receives it within timeout
// (DefaultTimeout when 0).
func Send[T any](t testing.TB, timeout time.Duration, what string, ch chan<- T, v T) {
	t.Helper()
	timer := time.NewTimer(orDefault(timeout))
	defer timer.Stop()
	select {
	case ch <- v:
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", orDefault(timeout), what)
	}
}

type notYet struct{}

func (notYet) Error() string { return "condition not met" }

var errNotYet error = notYet{}

func orDefault(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}

// poll runs check until it returns nil or the timeout passes, and returns
// check's last error in that case.
func poll(timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(orDefault(timeout))
	for {
		err := check()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(pollEvery)
	}
}
