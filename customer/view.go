package customer

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// view is a read-through cache of a KV bucket, kept fresh by a watch on the
// bucket, so that the per-message path reads from memory and only changes
// go to the server.
//
// Every entry carries the revision it was read or written at; an update
// from the watch, a read and the store's own write each replace an entry
// only with a higher revision, so they can arrive in any order. Writes are
// compare-and-set on the revision the writer read (KV Update/Create), so a
// stale entry never overwrites a newer value: the write fails, the writer
// reads fresh from the server and tries again. A read-only decision can
// be stale for as long as the watch lags another process's write (usually
// well under a millisecond with the embedded server).
//
// Entries older than the bucket's TTL are treated as gone (the server
// removes them without telling the watch). The cache holds at most
// capacity entries and drops the least recently used.
type view struct {
	kv       jetstream.KeyValue
	ttl      time.Duration
	capacity int
	now      func() time.Time
	// maxStale bounds how long an entry is trusted without news from the
	// server (a read or a watch update): older ones are read again, so
	// that a process whose watch missed something (it has not been seen
	// to in tests, but a watch is no transaction log) converges anyway.
	maxStale time.Duration

	mu      sync.Mutex
	entries map[string]*list.Element // of *centry
	lru     *list.List

	hits, misses atomic.Uint64
	// seen is the revision of the last update the watch delivered.
	seen    atomic.Uint64
	watcher jetstream.KeyWatcher
	done    chan struct{}
}

// centry is one cached key.
type centry struct {
	key     string
	val     []byte
	rev     uint64
	created time.Time
	absent  bool      // known not to exist (rev of the delete marker, or 0)
	known   bool      // val/absent hold an answer (false while the first read is in flight)
	decoded any       // the value decoded, for rev
	checked time.Time // when the server last confirmed val (read, write or watch)
}

// entry is one value as read: absent, or val at rev.
type entry struct {
	val     []byte
	rev     uint64
	created time.Time
	absent  bool
	decoded any
}

// defaultMaxStale is view.maxStale.
const defaultMaxStale = time.Hour

// errConflict means a compare-and-set lost to another writer.
var errConflict = errors.New("concurrent change")

// openView starts watching kv. It returns once the watch is in place, so
// that every later write is seen.
func openView(ctx context.Context, kv jetstream.KeyValue, ttl time.Duration, capacity int) (*view, error) {
	v := &view{kv: kv, ttl: ttl, capacity: capacity, now: time.Now, maxStale: defaultMaxStale,
		entries: map[string]*list.Element{}, lru: list.New(), done: make(chan struct{})}
	// The watch outlives ctx (it is stopped by close), so it gets its own.
	w, err := kv.WatchAll(context.WithoutCancel(ctx), jetstream.UpdatesOnly())
	if err != nil {
		return nil, fmt.Errorf("watching KV bucket %s: %w", kv.Bucket(), err)
	}
	v.watcher = w
	go v.follow()
	return v, nil
}

// follow applies the watch's updates until it stops.
func (v *view) follow() {
	defer close(v.done)
	for e := range v.watcher.Updates() {
		if e == nil {
			continue
		}
		gone := e.Operation() == jetstream.KeyValueDelete || e.Operation() == jetstream.KeyValuePurge
		v.offer(e.Key(), e.Value(), e.Revision(), e.Created(), gone, false)
		v.seen.Store(e.Revision())
	}
}

// close stops the watch.
func (v *view) close() {
	if v.watcher != nil {
		_ = v.watcher.Stop()
		<-v.done
	}
}

// offer stores a value seen at rev unless the cache knows a newer one.
// insert says whether to add a key the cache does not hold (reads and own
// writes do; the watch only refreshes what is cached).
func (v *view) offer(key string, val []byte, rev uint64, created time.Time, gone, insert bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	el, ok := v.entries[key]
	if !ok {
		if !insert {
			return
		}
		el = v.add(key)
	}
	c := el.Value.(*centry)
	if c.known && rev <= c.rev && !(rev == 0 && c.rev == 0) {
		if rev == c.rev {
			c.checked = v.now()
		}
		return
	}
	c.val, c.rev, c.created, c.absent, c.known, c.decoded = val, rev, created, gone, true, nil
	c.checked = v.now()
}

// add inserts an empty entry, evicting the least recently used one when
// full. mu is held.
func (v *view) add(key string) *list.Element {
	for v.lru.Len() >= v.capacity {
		old := v.lru.Back()
		v.lru.Remove(old)
		delete(v.entries, old.Value.(*centry).key)
	}
	el := v.lru.PushFront(&centry{key: key})
	v.entries[key] = el
	return el
}

// cached returns the cached answer for key, if any.
func (v *view) cached(key string) (entry, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	el, ok := v.entries[key]
	if !ok {
		return entry{}, false
	}
	c := el.Value.(*centry)
	if !c.known || v.now().Sub(c.checked) > v.maxStale {
		return entry{}, false
	}
	if !c.absent && v.ttl > 0 && v.now().Sub(c.created) > v.ttl {
		// Expired on the server by now.
		return entry{absent: true, rev: c.rev}, true
	}
	v.lru.MoveToFront(el)
	return entry{val: c.val, rev: c.rev, created: c.created, absent: c.absent, decoded: c.decoded}, true
}

// get returns key's value, from the cache when it holds one.
func (v *view) get(ctx context.Context, key string) (entry, error) {
	if e, ok := v.cached(key); ok {
		v.hits.Add(1)
		return e, nil
	}
	v.misses.Add(1)
	return v.fresh(ctx, key)
}

// fresh reads key from the server and caches the answer.
func (v *view) fresh(ctx context.Context, key string) (entry, error) {
	v.mu.Lock()
	el, ok := v.entries[key]
	if !ok {
		el = v.add(key) // a placeholder, so the watch records updates during the read
	}
	before := el.Value.(*centry).rev
	v.mu.Unlock()
	kve, err := v.kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		// Gone (deleted, purged, expired, or never written). The read does
		// not tell the revision of a delete marker, so the entry is
		// marked absent unless the watch brought something newer while the
		// read was under way.
		v.mu.Lock()
		if el, ok := v.entries[key]; ok {
			if c := el.Value.(*centry); c.rev == before {
				c.val, c.absent, c.known, c.decoded = nil, true, true, nil
				c.checked = v.now()
			}
		}
		v.mu.Unlock()
	case err != nil:
		return entry{}, fmt.Errorf("reading %s: %w", key, err)
	default:
		v.offer(key, kve.Value(), kve.Revision(), kve.Created(), false, true)
	}
	if e, ok := v.cached(key); ok {
		return e, nil
	}
	// Evicted at once by a flood of other keys: answer from the read.
	if err != nil {
		return entry{absent: true}, nil
	}
	return entry{val: kve.Value(), rev: kve.Revision(), created: kve.Created()}, nil
}

// remember caches the decoded form of key's value at rev.
func (v *view) remember(key string, rev uint64, decoded any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if el, ok := v.entries[key]; ok {
		if c := el.Value.(*centry); c.known && c.rev == rev {
			c.decoded = decoded
		}
	}
}

// put writes val if key is still at rev (0: if it does not exist), and
// caches it with its decoded form. It returns errConflict when another
// writer came first.
func (v *view) put(ctx context.Context, key string, val []byte, rev uint64, absent bool, decoded any) (uint64, error) {
	var (
		nrev uint64
		err  error
	)
	if absent {
		nrev, err = v.kv.Create(ctx, key, val)
	} else {
		nrev, err = v.kv.Update(ctx, key, val, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) {
		// Refresh, so the retry starts from the winner's value.
		if _, ferr := v.fresh(ctx, key); ferr != nil {
			return 0, ferr
		}
		return 0, errConflict
	}
	if err != nil {
		return 0, fmt.Errorf("writing %s: %w", key, err)
	}
	v.offer(key, val, nrev, v.now(), false, true)
	if decoded != nil {
		v.remember(key, nrev, decoded)
	}
	return nrev, nil
}

// purge removes key and every trace of it from the bucket's stream: the
// KV purge (which the other processes' watches see) and then the purge
// marker itself.
func (v *view) purge(ctx context.Context, stream jetstream.Stream, subject, key string) error {
	if err := v.kv.Purge(ctx, key); err != nil {
		return fmt.Errorf("purging %s: %w", key, err)
	}
	if err := stream.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
		return fmt.Errorf("purging the marker of %s: %w", key, err)
	}
	v.mu.Lock()
	if el, ok := v.entries[key]; ok {
		c := el.Value.(*centry)
		c.val, c.absent, c.known, c.decoded = nil, true, true, nil
	}
	v.mu.Unlock()
	return nil
}
