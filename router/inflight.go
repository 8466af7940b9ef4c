package router

import (
	"context"
	"sync"
	"time"
)

// inflight knows which items this router is routing right now, so that an
// item that may follow another one — a reply and the comment it answers, two
// messages of one chat, two messages of one author — waits until the
// earlier one's decision is recorded before it looks the decision up.
// Without it, a reply fetched in the same batch as its parent would find no
// decision record and go to the default team.
//
// Items register under their keys when fetched, in stream order, and
// finish once their decision record is written. An item waits only for
// items fetched before it, each wait bounded, so waits cannot form a cycle
// and a stuck item delays its followers by at most the bound.
type inflight struct {
	mu    sync.Mutex
	byKey map[string][]*flight
}

// flight is one item being routed.
type flight struct {
	seq  uint64
	keys []string
	done chan struct{}
}

func newInflight() *inflight { return &inflight{byKey: map[string][]*flight{}} }

// add registers the item at stream sequence seq under keys ("" keys are
// skipped) and returns it; call finish when its decision is recorded.
func (f *inflight) add(seq uint64, keys ...string) *flight {
	fl := &flight{seq: seq, done: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		if k == "" {
			continue
		}
		fl.keys = append(fl.keys, k)
		f.byKey[k] = append(f.byKey[k], fl)
	}
	return fl
}

// finish removes fl and wakes whoever waits for it. It is idempotent.
func (f *inflight) finish(fl *flight) {
	if fl == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-fl.done:
		return
	default:
	}
	close(fl.done)
	for _, k := range fl.keys {
		list := f.byKey[k]
		for i, other := range list {
			if other == fl {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(f.byKey, k)
		} else {
			f.byKey[k] = list
		}
	}
}

// wait blocks until every item registered under key with a sequence below
// before has finished, ctx ends, or limit passes. It reports whether it
// waited at all (for the metric and the log).
func (f *inflight) wait(ctx context.Context, key string, before uint64, limit time.Duration) (waited bool) {
	if key == "" {
		return false
	}
	f.mu.Lock()
	var pending []chan struct{}
	for _, fl := range f.byKey[key] {
		if fl.seq < before {
			pending = append(pending, fl.done)
		}
	}
	f.mu.Unlock()
	if len(pending) == 0 {
		return false
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	for _, done := range pending {
		select {
		case <-done:
		case <-t.C:
			return true
		case <-ctx.Done():
			return true
		}
	}
	return true
}
