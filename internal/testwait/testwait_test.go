package testwait

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// fakeT records a failure instead of stopping the test.
type fakeT struct {
	testing.TB
	failed atomic.Bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed.Store(true)
	panic(fatal{})
}

type fatal struct{}

func run(f func()) (fataled bool) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(fatal); !ok {
				panic(p)
			}
			fataled = true
		}
	}()
	f()
	return false
}

func TestUntil(t *testing.T) {
	var n atomic.Int32
	Until(t, time.Second, "three polls", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 {
		t.Fatalf("polled %d times, want 3", n.Load())
	}
	ft := &fakeT{}
	if !run(func() { Until(ft, 20*time.Millisecond, "never", func() bool { return false }) }) {
		t.Fatal("Until did not fail on a condition that never holds")
	}
}

func TestNoError(t *testing.T) {
	ft := &fakeT{}
	if !run(func() { NoError(ft, 20*time.Millisecond, "never", func() error { return errors.New("no") }) }) {
		t.Fatal("NoError did not fail on a check that never passes")
	}
	var n atomic.Int32
	NoError(t, time.Second, "second try", func() error {
		if n.Add(1) < 2 {
			return errors.New("first")
		}
		return nil
	})
}

func TestReceive(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if v := Receive(t, time.Second, "a value", ch); v != 7 {
		t.Fatalf("got %d, want 7", v)
	}
	ft := &fakeT{}
	if !run(func() { Receive(ft, 20*time.Millisecond, "nothing", make(chan int)) }) {
		t.Fatal("Receive did not fail when nothing arrived")
	}
	closed := make(chan int)
	close(closed)
	if !run(func() { Receive(ft, time.Second, "closed", closed) }) {
		t.Fatal("Receive did not fail on a closed channel")
	}
}

func TestSend(t *testing.T) {
	ch := make(chan int, 1)
	Send(t, time.Second, "a free slot", ch, 7)
	if v := <-ch; v != 7 {
		t.Fatalf("got %d, want 7", v)
	}
	ft := &fakeT{}
	if !run(func() { Send(ft, 20*time.Millisecond, "a receiver", make(chan int), 1) }) {
		t.Fatal("Send did not fail when nobody received")
	}
}

func TestClosed(t *testing.T) {
	done := make(chan struct{})
	close(done)
	Closed(t, time.Second, "a closed channel", done)
	ft := &fakeT{}
	if !run(func() { Closed(ft, 20*time.Millisecond, "an open channel", make(chan struct{})) }) {
		t.Fatal("Closed did not fail on a channel that stays open")
	}
	v := make(chan int, 1)
	v <- 1
	if !run(func() { Closed(ft, time.Second, "a value", v) }) {
		t.Fatal("Closed did not fail on a value")
	}
}
