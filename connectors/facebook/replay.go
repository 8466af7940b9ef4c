package facebook

import (
	"sync"
	"time"
)

// replays remembers the signatures of recent verified notifications, so
// that a notification sent again (by an attacker who captured it, or by a
// proxy) triggers nothing. Entries live as long as a notification counts as
// fresh (webhookMaxAge plus the allowed clock skew): an older copy is
// refused as stale anyway. It holds at most max entries; when full, the
// oldest is forgotten first. Safe for concurrent use.
type replays struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	seen  map[[32]byte]time.Time
	order []seenSig // insertion order, for expiry and eviction
}

// seenSig is one recorded signature.
type seenSig struct {
	sig [32]byte
	at  time.Time
}

func newReplays(ttl time.Duration, max int) *replays {
	return &replays{ttl: ttl, max: max, seen: map[[32]byte]time.Time{}}
}

// first records sig at now and reports whether it was not seen within ttl.
func (r *replays) first(sig [32]byte, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.order) > 0 {
		oldest := r.order[0]
		if len(r.order) < r.max && now.Sub(oldest.at) < r.ttl {
			break
		}
		if r.seen[oldest.sig].Equal(oldest.at) {
			delete(r.seen, oldest.sig)
		}
		r.order = r.order[1:]
	}
	if at, ok := r.seen[sig]; ok && now.Sub(at) < r.ttl {
		return false
	}
	r.seen[sig] = now
	r.order = append(r.order, seenSig{sig, now})
	return true
}
