// Package backoff is the one retry schedule and the one context-aware wait
// of Switchboard: a capped exponential backoff with jitter, used by the
// connector supervisor, the router's redeliveries and the connectors'
// request retries.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is a capped exponential backoff with jitter: retry n waits a
// random duration in [d/2, d], where d = min(Max, Min·2^(n-1)). The jitter
// keeps failures that happened together from retrying together; the lower
// half-bound keeps the schedule growing.
type Policy struct {
	// Min is the delay before the first retry (before jitter).
	Min time.Duration
	// Max caps every delay.
	Max time.Duration
}

// Delay returns the wait before retry n (n >= 1 is the first retry; n < 1
// counts as 1).
func (p Policy) Delay(n int) time.Duration { return p.delay(n, rand.Int64N) }

// Ceiling returns the longest Delay(n) can be: min(Max, Min·2^(n-1)).
func (p Policy) Ceiling(n int) time.Duration {
	d := p.Min
	if d <= 0 {
		return 0
	}
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// delay is Delay with the random source given (rnd(k) is in [0, k)).
func (p Policy) delay(n int, rnd func(int64) int64) time.Duration {
	d := p.Ceiling(n)
	half := int64(d / 2)
	if half <= 0 {
		return d
	}
	return time.Duration(half + rnd(d.Nanoseconds()-half+1))
}

// Sleep waits d, or less when ctx ends first, and then returns ctx.Err();
// a d of 0 or less returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
