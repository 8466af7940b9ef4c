package lifecycle

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/testwait"
)

func TestEveryCallsAtOnceThenPeriodicallyUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, time.Millisecond, func(context.Context) { calls.Add(1) })
	}()
	testwait.Until(t, 5*time.Second, "three calls", func() bool { return calls.Load() >= 3 })
	cancel()
	testwait.Closed(t, 5*time.Second, "Every returning once its context ended", done)
}

func TestEveryCallsOnceWhenAlreadyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	Every(ctx, time.Hour, func(context.Context) { calls++ })
	if calls != 1 {
		t.Fatalf("called %d times, want 1 (at once, then stop)", calls)
	}
}
