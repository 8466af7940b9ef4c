package router

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/testwait"
)

func TestInflightWaitsForEarlierItemsOnly(t *testing.T) {
	f := newInflight()
	parent := f.add(10, "facebook:c1", "")
	later := f.add(30, "facebook:c1")

	// Nothing earlier under another key, or only later items: no wait.
	if f.wait(context.Background(), "facebook:other", 20, time.Second) {
		t.Fatal("waited for a key nobody holds")
	}
	if f.wait(context.Background(), "facebook:c1", 5, time.Second) {
		t.Fatal("waited for items fetched after the waiter")
	}

	done := make(chan bool, 1)
	go func() { done <- f.wait(context.Background(), "facebook:c1", 20, 5*time.Second) }()
	select {
	case <-done:
		t.Fatal("the wait returned before the earlier item finished")
	case <-time.After(20 * time.Millisecond):
	}
	f.finish(parent)
	f.finish(parent) // idempotent
	if !testwait.Receive(t, 0, "the wait to end once the earlier item finished", done) {
		t.Fatal("wait reported it did not wait")
	}
	f.finish(later)
	f.mu.Lock()
	n := len(f.byKey)
	f.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d keys left after every item finished", n)
	}
}

func TestInflightWaitIsBounded(t *testing.T) {
	f := newInflight()
	f.add(1, "k") // never finishes
	start := time.Now()
	if !f.wait(context.Background(), "k", 2, 30*time.Millisecond) {
		t.Fatal("wait said it did not wait")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the wait was not bounded by its limit")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if !f.wait(ctx, "k", 2, time.Hour) {
		t.Fatal("wait said it did not wait")
	}
}
