package opsauth

import (
	"math"
	"sync"
	"time"
)

// limiter counts failed attempts per client address in token buckets:
// burst attempts, then one per every. It keeps at most max addresses; when
// full, it forgets the ones whose buckets refilled, and if none did, every
// new address shares one bucket (so a flood of addresses cannot evict the
// one being limited).
type limiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	max     int
	buckets map[string]*bucket
	shared  bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, every time.Duration, max int) *limiter {
	return &limiter{burst: float64(burst), every: every, max: max, buckets: map[string]*bucket{}}
}

// refill brings b up to now.
func (l *limiter) refill(b *bucket, now time.Time) {
	if b.at.IsZero() {
		b.tokens, b.at = l.burst, now
		return
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(d)/float64(l.every))
		b.at = now
	}
}

// bucketOf returns key's bucket, creating it when there is room. Called
// with mu held.
func (l *limiter) bucketOf(key string, now time.Time, create bool) *bucket {
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if !create {
		return nil
	}
	if len(l.buckets) >= l.max {
		for k, b := range l.buckets {
			l.refill(b, now)
			if b.tokens >= l.burst {
				delete(l.buckets, k)
			}
		}
		if len(l.buckets) >= l.max {
			return &l.shared
		}
	}
	b := &bucket{}
	l.buckets[key] = b
	return b
}

// wait returns how long key must wait before its next attempt (0: it may
// try now).
func (l *limiter) wait(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketOf(key, now, false)
	if b == nil {
		if len(l.buckets) < l.max {
			return 0
		}
		b = &l.shared
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.every))
}

// failed spends one attempt of key's.
func (l *limiter) failed(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketOf(key, now, true)
	l.refill(b, now)
	b.tokens = math.Max(0, b.tokens-1)
}
