package customer

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/message"
)

// Store links identity keys into customers and keeps them in JetStream
// KV. It is safe for concurrent use, also by several processes sharing the
// bucket.
type Store struct {
	cfg    Config
	x      *identity.Extractor
	kv     jetstream.KeyValue
	stream jetstream.Stream
	v      *view

	// items holds recent item ids per key (nil when RecentItems is -1);
	// pub publishes to it without waiting for the ack.
	items       jetstream.KeyValue
	itemsStream jetstream.Stream
	pub         jetstream.JetStream

	now func() time.Time
	// inflightFor is how long a claimed key may wait for its customer
	// record before the claim counts as abandoned (defaultInflight).
	inflightFor time.Duration

	conflicts, itemErrors atomic.Uint64

	// trace, when set (by tests), is told every change the store makes.
	trace func(format string, args ...any)
}

func (s *Store) tracef(format string, args ...any) {
	if s.trace != nil {
		s.trace(format, args...)
	}
}

// maxAttempts bounds the retries of one operation that keeps losing
// compare-and-set races; each retry starts from fresh values, after a
// growing random wait (backoff: up to about a second in all).
const maxAttempts = 24

// maxForwards bounds how many merged-away records a lookup follows.
const maxForwards = 16

// defaultInflight is how long a key claimed for a customer waits for the
// customer's record to list it before another writer may take it over
// (the claimer crashed). A writer normally takes milliseconds.
const defaultInflight = 2 * time.Minute

// Open creates (or updates) the store's buckets and starts the cache that
// keeps the per-message path in memory. Close releases it.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	x, err := identity.New(cfg.Identity)
	if err != nil {
		return nil, err
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "Switchboard: customer identities (identity key → customer, customers, display-name index)",
		History:     1,
		TTL:         time.Duration(cfg.TTL),
		MaxBytes:    int64(cfg.MaxBytes),
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("creating or updating KV bucket %s: %w", cfg.Bucket, err)
	}
	s := &Store{cfg: cfg, x: x, kv: kv, now: time.Now, inflightFor: defaultInflight}
	if s.stream, err = js.Stream(ctx, "KV_"+cfg.Bucket); err != nil {
		return nil, fmt.Errorf("opening the stream of KV bucket %s: %w", cfg.Bucket, err)
	}
	if cfg.RecentItems > 0 {
		bucket := cfg.Bucket + "_items"
		s.items, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      bucket,
			Description: "Switchboard: recent item ids per customer identity key",
			History:     uint8(cfg.RecentItems),
			TTL:         time.Duration(cfg.TTL),
			MaxBytes:    int64(cfg.MaxBytes),
			Storage:     jetstream.FileStorage,
			Replicas:    cfg.Replicas,
		})
		if err != nil {
			return nil, fmt.Errorf("creating or updating KV bucket %s: %w", bucket, err)
		}
		if s.itemsStream, err = js.Stream(ctx, "KV_"+bucket); err != nil {
			return nil, fmt.Errorf("opening the stream of KV bucket %s: %w", bucket, err)
		}
		s.pub, err = jetstream.New(js.Conn(),
			jetstream.WithPublishAsyncMaxPending(4096),
			jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { s.itemErrors.Add(1) }))
		if err != nil {
			return nil, fmt.Errorf("opening JetStream for recent items: %w", err)
		}
	}
	if s.v, err = openView(ctx, kv, time.Duration(cfg.TTL), cfg.CacheEntries); err != nil {
		return nil, err
	}
	return s, nil
}

// Close waits (until ctx ends) for recent items still being written and
// stops the cache. The store is not usable afterwards.
func (s *Store) Close(ctx context.Context) error {
	var err error
	if s.pub != nil {
		select {
		case <-s.pub.PublishAsyncComplete():
		case <-ctx.Done():
			err = fmt.Errorf("closing the customer store: recent items not all written: %w", ctx.Err())
		}
	}
	s.v.close()
	return err
}

// ParseKey canonicalizes a key written by ops ("phone:040 123 4567").
func (s *Store) ParseKey(k string) (identity.Key, error) { return s.x.ParseKey(k) }

// Stats are counters for metrics.
type Stats struct {
	// CacheHits and CacheMisses count reads answered from memory and from
	// the server.
	CacheHits, CacheMisses uint64
	// Conflicts counts compare-and-set writes lost to a concurrent writer
	// (and retried).
	Conflicts uint64
	// ItemErrors counts recent-item writes the server did not acknowledge.
	ItemErrors uint64
}

// Stats returns the counters since Open.
func (s *Store) Stats() Stats {
	return Stats{CacheHits: s.v.hits.Load(), CacheMisses: s.v.misses.Load(),
		Conflicts: s.conflicts.Load(), ItemErrors: s.itemErrors.Load()}
}

// Ref is what a routed item carries about its customer: the field
// `customer` of the routed item.
type Ref struct {
	// ID is the customer's stable id (see the package documentation).
	ID string `json:"id"`
	// Strength is confirmed or probable.
	Strength Strength `json:"strength"`
	// Channels are the channels the customer wrote on, sorted.
	Channels []string `json:"channels"`
}

// Result is what Observe learned from one envelope.
type Result struct {
	// Customer is the envelope's customer, nil when the envelope yields no
	// usable key (the company's own message, an author without any id).
	Customer *Ref
	// Keys are the envelope's keys, as extracted (including any that were
	// then skipped).
	Keys []identity.Key
	// Changes are customer ids that stopped meaning the same keys because
	// of this envelope: merged into another, or split. Whatever is kept
	// per customer id (open cases) moves accordingly.
	Changes []Change
	// Skipped are keys and links left out, with the reason.
	Skipped []identity.Skip
}

// Change says that the customer From is now the customers To.
type Change struct {
	From string   `json:"from"`
	To   []string `json:"to"`
	// Why is "merged", "renamed" (an earlier key joined, so the id derives
	// from it now), or "split: <reason>".
	Why string `json:"why"`
}

// Observe records what env tells about its customer and returns the
// customer: the keys it yields are looked up; keys seen together are
// linked (merging customers when they belonged to different ones); a
// probable link is made when the author's display name and a reference to
// another channel say so; the item is added to the author key's recent
// items.
//
// The common case — known keys, nothing new — reads only from memory and
// writes nothing but the recent item (asynchronously). Observe is
// idempotent: the same envelope again changes nothing. On error, Result
// still holds whatever was established before it.
func (s *Store) Observe(ctx context.Context, env *message.Envelope) (Result, error) {
	ks := s.x.Keys(env)
	res := Result{Keys: ks.All(), Skipped: ks.Skipped}
	if len(res.Keys) == 0 {
		return res, nil
	}
	at := env.CreatedAt
	if at.IsZero() {
		at = env.ReceivedAt
	}
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC()
	var (
		out  joined
		err  error
		tgts []*keyState
	)
	slot := newSlot() // the slot of a new customer, the same in every attempt
	for attempt := 0; ; attempt++ {
		out, tgts, err = s.observeOnce(ctx, env, ks, at, slot)
		if err != nil {
			// Give back the keys this attempt claimed (see release).
			for _, k := range res.Keys {
				_ = s.releaseKey(context.WithoutCancel(ctx), k, slot)
			}
		}
		if !errors.Is(err, errConflict) {
			break
		}
		s.conflicts.Add(1)
		if attempt == maxAttempts {
			return res, fmt.Errorf("recording the customer of %s: still conflicting after %d attempts", env.ID, attempt)
		}
		if err := s.backoff(ctx, attempt+1); err != nil {
			return res, fmt.Errorf("recording the customer of %s: %w", env.ID, err)
		}
	}
	res.Changes = append(res.Changes, out.changes...)
	res.Skipped = append(res.Skipped, out.skipped...)
	if err != nil {
		return res, fmt.Errorf("recording the customer of %s: %w", env.ID, err)
	}
	// The name index records every author with a usable name, shared key
	// or not, so that which references are ambiguous does not depend on
	// the order messages arrive in; links to or from a shared key are
	// never made.
	r := out.rec // the customer as join left it, unless the name index changes it
	if ks.Name != "" && len(ks.Author) > 0 {
		author := &keyState{key: ks.Author[0]}
		ch, wrote, err := s.probable(ctx, env, author, ks.Name, ks.Refers, at)
		res.Changes = append(res.Changes, ch...)
		if err != nil {
			return res, fmt.Errorf("looking for probable links of %s: %w", env.ID, err)
		}
		if wrote {
			r = nil
		}
	}
	if len(tgts) == 0 {
		return res, nil
	}
	primary := tgts[0]
	s.recordItem(env, primary.key, at)
	if r == nil {
		if r, _, err = s.customerOf(ctx, primary.key); err != nil {
			return res, fmt.Errorf("reading the customer of %s: %w", env.ID, err)
		}
	}
	if r != nil {
		res.Customer = &Ref{ID: r.id(), Strength: r.strength(), Channels: slices.Clone(r.channelNames())}
	}
	return res, nil
}

// joined is what one join did.
type joined struct {
	slot    string
	rec     *record // the customer afterwards (read-only)
	changes []Change
	skipped []identity.Skip
}

// observeOnce is one attempt of Observe's linking; errConflict means
// "start again from fresh values". It returns the keys that ended up in
// the customer, the primary one first.
func (s *Store) observeOnce(ctx context.Context, env *message.Envelope, ks identity.Keys, at time.Time, slot string) (joined, []*keyState, error) {
	var out joined
	all := ks.All()
	states := make([]*keyState, 0, len(all))
	// Peers count every person key of the message, shared or not, so that
	// whether a key is shared does not depend on the order of messages.
	var persons []uint32
	for _, k := range all {
		if k.Person() {
			persons = append(persons, fingerprint(k))
		}
		st, err := s.keyState(ctx, k)
		if err != nil {
			return out, nil, err
		}
		if st.rec != nil && st.rec.Hub {
			if st.rec.Slot != "" { // a makeHub cut short
				ch, err := s.finishHub(ctx, st)
				out.changes = append(out.changes, ch...)
				if err != nil {
					return out, nil, err
				}
			}
			out.skipped = append(out.skipped, identity.Skip{Key: k, Reason: ReasonShared})
			continue
		}
		states = append(states, st)
	}
	// A key seen with too many person keys is shared, and leaves its
	// customer before anything is linked through it.
	active := states[:0:0]
	for _, st := range states {
		st.newPeers = newPeers(st, persons)
		peers := len(st.newPeers)
		if st.rec != nil {
			peers += len(st.rec.Peers)
		}
		if peers > s.cfg.MaxPeers {
			ch, err := s.makeHub(ctx, st)
			out.changes = append(out.changes, ch...)
			if err != nil {
				return out, nil, err
			}
			out.skipped = append(out.skipped, identity.Skip{Key: st.key, Reason: ReasonShared})
			continue
		}
		active = append(active, st)
	}
	if len(active) == 0 {
		return out, nil, nil
	}
	var l *link
	if len(active) > 1 {
		l = &link{Strength: Confirmed, By: byMessage, Item: env.ID, At: at}
	}
	j, kept, err := s.join(ctx, joinRequest{keys: active, link: l, at: at, channel: env.Channel, activity: true, slot: slot})
	out.slot, out.rec = j.slot, j.rec
	out.changes = append(out.changes, j.changes...)
	out.skipped = append(out.skipped, j.skipped...)
	return out, kept, err
}

// ReasonShared is the skip reason of a key seen with too many others.
const ReasonShared = "shared by too many customers (an office phone, a family or support address): links nothing"

// newPeers returns the fingerprints in persons, other than st's own, that
// st's record does not list yet.
func newPeers(st *keyState, persons []uint32) []uint32 {
	own := fingerprint(st.key)
	var out []uint32
	for _, p := range persons {
		if p == own || slices.Contains(out, p) || st.rec != nil && slices.Contains(st.rec.Peers, p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// keyState is what the store knows about one identity key.
type keyState struct {
	key      identity.Key
	kvKey    string
	rec      *keyRecord // nil: no record (or an unreadable one)
	e        entry
	newPeers []uint32
}

func (s *Store) keyState(ctx context.Context, k identity.Key) (*keyState, error) {
	kk := prefixKey + keyHash(k)
	rec, e, err := load[keyRecord](ctx, s.v, kk)
	if err != nil {
		return nil, err
	}
	if rec != nil && rec.Key != string(k) {
		rec = nil // a hash collision, or garbage: treat as unknown
	}
	return &keyState{key: k, kvKey: kk, rec: rec, e: e}, nil
}

// load reads and decodes key through the cache; the value returned is
// shared and must not be modified (see editable).
func load[T any](ctx context.Context, v *view, key string) (*T, entry, error) {
	e, err := v.get(ctx, key)
	if err != nil || e.absent {
		return nil, e, err
	}
	if d, ok := e.decoded.(*T); ok {
		return d, e, nil
	}
	t := new(T)
	if err := json.Unmarshal(e.val, t); err != nil {
		return nil, e, nil // unreadable: as if absent, overwritten by the next write
	}
	if d, ok := any(t).(interface{ derive() }); ok {
		d.derive()
	}
	v.remember(key, e.rev, t)
	return t, e, nil
}

// editable returns a private copy of a loaded value.
func editable[T any](e entry) *T {
	t := new(T)
	if !e.absent {
		_ = json.Unmarshal(e.val, t)
	}
	return t
}

// save writes val over the entry read as e (compare-and-set).
func save[T any](ctx context.Context, v *view, key string, val *T, e entry) (uint64, error) {
	data, err := json.Marshal(val)
	if err != nil {
		return 0, fmt.Errorf("encoding %s: %w", key, err)
	}
	// The cached copy is shared by readers, so it is a fresh decode of
	// what was written, not val, which the caller may change again.
	var cached T
	if err := json.Unmarshal(data, &cached); err != nil {
		return v.put(ctx, key, data, e.rev, e.absent, nil)
	}
	if d, ok := any(&cached).(interface{ derive() }); ok {
		d.derive()
	}
	return v.put(ctx, key, data, e.rev, e.absent, &cached)
}

// loadRecord reads customer record slot; nil when there is none.
func (s *Store) loadRecord(ctx context.Context, slot string) (*record, entry, error) {
	return load[record](ctx, s.v, prefixRecord+slot)
}

// customerOf returns the record holding k, following merged-away records
// and finishing merges and splits it finds half done; nil when k belongs
// to no customer.
func (s *Store) customerOf(ctx context.Context, k identity.Key) (*record, entry, error) {
	st, err := s.keyState(ctx, k)
	if err != nil {
		return nil, entry{}, err
	}
	return s.recordOf(ctx, st)
}

// recordOf is customerOf for a key already read.
func (s *Store) recordOf(ctx context.Context, st *keyState) (*record, entry, error) {
	r, e, _, err := s.lookup(ctx, st)
	return r, e, err
}

// lookup is recordOf that also tells when k's pointer names a customer
// that does not list k, written less than inflightFor ago: a writer
// claimed the key and has not written the customer record yet (inflight
// is the claim's token; "-" for a pointer without one). An older such
// pointer is left over from a crash and the key counts as unknown.
func (s *Store) lookup(ctx context.Context, st *keyState) (r *record, e entry, inflight string, err error) {
	for range maxForwards {
		r, e, inflight, err = s.lookupOnce(ctx, st)
		if err != nil || r != nil || st.rec == nil {
			return r, e, inflight, err
		}
		// Not found where the pointer as read says: if the pointer has
		// moved on since it was read (a merge or split re-pointed it),
		// look again from where it points now.
		now, err := s.keyState(ctx, st.key)
		if err != nil {
			return nil, e, "", err
		}
		if now.e.rev == st.e.rev {
			return r, e, inflight, nil
		}
		st = now
	}
	return r, e, inflight, nil
}

func (s *Store) lookupOnce(ctx context.Context, st *keyState) (r *record, e entry, inflight string, err error) {
	if st.rec == nil || st.rec.Slot == "" || st.rec.Hub {
		return nil, entry{}, "", nil
	}
	slot := st.rec.Slot
	stale := func() (*record, entry, string, error) {
		if s.now().Sub(st.e.created) < s.inflightFor {
			return nil, e, cmp.Or(st.rec.Claim, "-"), nil
		}
		return nil, e, "", nil
	}
	for range maxForwards {
		r, e, err = s.loadRecord(ctx, slot)
		if err != nil {
			return nil, e, "", err
		}
		if r == nil {
			return stale()
		}
		if r.Forward != "" {
			if len(r.Keys) > 0 {
				if err := s.finishMerge(ctx, slot, 0); err != nil {
					return nil, e, "", err
				}
			}
			slot = r.Forward
			continue
		}
		if len(r.Parts) > 0 {
			if err := s.finishSplit(ctx, slot); err != nil {
				return nil, e, "", err
			}
			for _, p := range r.Parts {
				if p.has(string(st.key)) {
					slot = p.Slot
					break
				}
			}
			if slot != r.Slot {
				continue
			}
			if r, e, err = s.loadRecord(ctx, slot); err != nil || r == nil {
				return nil, e, "", err
			}
		}
		if r.has(string(st.key)) {
			return r, e, "", nil
		}
		return stale()
	}
	return nil, entry{}, "", fmt.Errorf("customer of %s: more than %d merged records in a row", st.key, maxForwards)
}

// backoff waits a little before attempt (1, 2, …) of an operation that
// lost a race, longer each time, so that the winner can finish.
func (s *Store) backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(min(attempt*attempt, 100))*int64(time.Millisecond)/2)) + 50*time.Microsecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recordItem adds env to the recent items of k, without waiting.
func (s *Store) recordItem(env *message.Envelope, k identity.Key, at time.Time) {
	if s.pub == nil {
		return
	}
	data, _ := json.Marshal(Item{ID: env.ID, Channel: env.Channel, At: at})
	m := nats.NewMsg("$KV." + s.items.Bucket() + "." + prefixItems + keyHash(k))
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, keyHash(k)+":"+env.ID)
	if _, err := s.pub.PublishMsgAsync(m); err != nil {
		s.itemErrors.Add(1)
	}
}

// Item is one recent item of a customer.
type Item struct {
	// ID is the envelope id.
	ID      string    `json:"id"`
	Channel string    `json:"channel"`
	At      time.Time `json:"at"`
}
