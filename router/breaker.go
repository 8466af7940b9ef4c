package router

import (
	"sync"
	"time"
)

// breaker stops calls to a target that keeps failing: after threshold
// failures in a row it opens for cooldown, during which attempts fail
// fast; then one probe is let through, and its result closes or reopens
// it. A target that answers at all, even to refuse an item, is healthy.
type breaker struct {
	threshold int
	cooldown  time.Duration

	mu        sync.Mutex
	fails     int
	openUntil time.Time
	probing   bool
}

func newBreaker(threshold int, cooldown time.Duration) *breaker {
	if threshold < 1 {
		threshold = 1
	}
	return &breaker{threshold: threshold, cooldown: cooldown}
}

// allow reports whether an attempt may go ahead now; if not, wait is how
// long until the next probe can.
func (b *breaker) allow(now time.Time) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fails < b.threshold {
		return true, 0
	}
	if now.Before(b.openUntil) {
		return false, b.openUntil.Sub(now)
	}
	if b.probing {
		// Someone is probing; ask again after a cooldown at most.
		return false, b.cooldown
	}
	b.probing = true
	return true, 0
}

// done records an attempt's outcome; it reports whether the breaker is
// open afterwards and whether that changed.
func (b *breaker) done(now time.Time, healthy bool) (open, changed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasOpen := b.fails >= b.threshold
	b.probing = false
	if healthy {
		b.fails = 0
		return false, wasOpen
	}
	b.fails++
	if b.fails >= b.threshold {
		b.openUntil = now.Add(b.cooldown)
		return true, !wasOpen
	}
	return false, false
}
