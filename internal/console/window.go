package console

import (
	"sync"
	"time"
)

// window keeps samples of monotonically growing counters (routed items per
// team, ingested items per connector) so that the overview can say how
// much they grew in the last hour or day, like Prometheus's increase().
// Counters start at zero when the daemon starts, so a window reaching back
// before the start counts from the start (and says so).
type window struct {
	mu      sync.Mutex
	started time.Time
	keep    time.Duration
	samples []sample // oldest first
}

type sample struct {
	at time.Time
	v  map[string]float64
}

func newWindow(started time.Time, keep time.Duration) *window {
	return &window{started: started, keep: keep}
}

// add records the counters' values at at and forgets samples older than keep.
func (w *window) add(at time.Time, v map[string]float64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples = append(w.samples, sample{at: at, v: v})
	cut := 0
	for cut < len(w.samples)-1 && at.Sub(w.samples[cut].at) > w.keep {
		cut++
	}
	w.samples = w.samples[cut:]
}

// increase returns how much counter key grew from d before now up to cur
// (its value now), and since, the start of the span it covers: now-d, or
// the daemon's start when that is later.
func (w *window) increase(key string, cur float64, now time.Time, d time.Duration) (n float64, since time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	from := now.Add(-d)
	if !from.After(w.started) {
		return cur, w.started
	}
	// The value at the window's start is the last sample taken at or
	// before it; without one, the first sample after it.
	base, at, found := 0.0, time.Time{}, false
	for _, s := range w.samples {
		if !s.at.After(from) {
			base, at, found = s.v[key], s.at, true
			continue
		}
		if !found {
			base, at, found = s.v[key], s.at, true
		}
		break
	}
	if !found {
		return cur, w.started
	}
	if cur < base {
		return cur, at // a counter that went down was reset
	}
	return cur - base, at
}
