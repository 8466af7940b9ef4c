package customer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/identity"
)

// Errors of the ops operations.
var (
	// ErrUnknownKey: the store holds no customer with this key.
	ErrUnknownKey = errors.New("no customer has this key")
	// ErrSharedKey: the key is shared by too many customers to identify
	// one (see Config.MaxPeers).
	ErrSharedKey = errors.New("the key is shared by too many customers to identify one")
	// ErrNotLinked: the two keys are not the same customer.
	ErrNotLinked = errors.New("the keys are not the same customer")
)

// Customer is everything the store knows about one customer.
type Customer struct {
	ID       string   `json:"id"`
	Strength Strength `json:"strength"`
	// Keys are the customer's identity keys, earliest first.
	Keys []KeyInfo `json:"keys"`
	// Links are the evidence that joins the keys.
	Links []Link `json:"links,omitempty"`
	// Channels are the channels the customer wrote on.
	Channels []ChannelInfo `json:"channels,omitempty"`
	// Apart are pairs of keys ops unlinked; they are never joined again.
	Apart [][2]identity.Key `json:"apart,omitempty"`
	// Recent are the latest items of all the keys, newest first.
	Recent []Item `json:"recent,omitempty"`
}

// KeyInfo is one key of a customer.
type KeyInfo struct {
	Key identity.Key `json:"key"`
	// First and Last are when the earliest and latest messages with the
	// key were written (Last to within an hour).
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// Link is one piece of evidence joining keys.
type Link struct {
	Keys     []identity.Key `json:"keys"`
	Strength Strength       `json:"strength"`
	// By is "message" (the keys were in one message, Item), "name" (a
	// probable link made by Item's reference to another channel) or "ops".
	By   string    `json:"by"`
	Item string    `json:"item,omitempty"`
	At   time.Time `json:"at"`
}

// ChannelInfo is one channel a customer wrote on.
type ChannelInfo struct {
	Channel string    `json:"channel"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
}

// Show returns the customer holding k.
func (s *Store) Show(ctx context.Context, k identity.Key) (*Customer, error) {
	st, err := s.keyState(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("showing %s: %w", k, err)
	}
	if st.rec != nil && st.rec.Hub {
		return nil, fmt.Errorf("showing %s: %w", k, ErrSharedKey)
	}
	r, _, err := s.recordOf(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("showing %s: %w", k, err)
	}
	if r == nil {
		return nil, fmt.Errorf("showing %s: %w", k, ErrUnknownKey)
	}
	c := describe(r)
	if c.Recent, err = s.recent(ctx, r); err != nil {
		return nil, fmt.Errorf("showing %s: %w", k, err)
	}
	return c, nil
}

// describe turns a record into a Customer (without recent items).
func describe(r *record) *Customer {
	c := &Customer{ID: r.id(), Strength: r.strength()}
	keys := slices.Clone(r.Keys)
	slices.SortFunc(keys, func(a, b member) int {
		if c := a.First.Compare(b.First); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	for _, m := range keys {
		c.Keys = append(c.Keys, KeyInfo{Key: identity.Key(m.Key), First: m.First, Last: m.Last})
	}
	for _, l := range r.Links {
		ks := make([]identity.Key, len(l.Keys))
		for i, k := range l.Keys {
			ks[i] = identity.Key(k)
		}
		c.Links = append(c.Links, Link{Keys: ks, Strength: l.Strength, By: l.By, Item: l.Item, At: l.At})
	}
	chs := r.channels()
	for _, name := range r.channelNames() {
		c.Channels = append(c.Channels, ChannelInfo{Channel: name, First: chs[name].First, Last: chs[name].Last})
	}
	for _, p := range r.Apart {
		c.Apart = append(c.Apart, [2]identity.Key{identity.Key(p[0]), identity.Key(p[1])})
	}
	return c
}

// recent returns the latest items of r's keys, newest first.
func (s *Store) recent(ctx context.Context, r *record) ([]Item, error) {
	if s.items == nil {
		return nil, nil
	}
	var items []Item
	for _, m := range r.Keys {
		hist, err := s.items.History(ctx, prefixItems+keyHash(identity.Key(m.Key)))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading recent items of %s: %w", m.Key, err)
		}
		for _, e := range hist {
			var it Item
			if e.Operation() == jetstream.KeyValuePut && json.Unmarshal(e.Value(), &it) == nil && it.ID != "" {
				items = append(items, it)
			}
		}
	}
	slices.SortFunc(items, func(a, b Item) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	items = slices.CompactFunc(items, func(a, b Item) bool { return a.ID == b.ID })
	if len(items) > s.cfg.RecentItems {
		items = items[:s.cfg.RecentItems]
	}
	return items, nil
}

// Link joins the customers of a and b (creating either key when the store
// does not know it) with a confirmed link by ops, and lifts an unlink
// between exactly these two keys. It refuses a shared key, a customer
// that would exceed max_keys, and customers kept apart by an unlink of
// other keys (naming them). It returns the customer and the ids that
// changed.
func (s *Store) Link(ctx context.Context, a, b identity.Key) (*Customer, []Change, error) {
	if a == b {
		return nil, nil, fmt.Errorf("linking %s to itself", a)
	}
	now := s.now().UTC()
	slot := newSlot()
	for attempt := range maxAttempts {
		if attempt > 0 {
			if err := s.backoff(ctx, attempt); err != nil {
				return nil, nil, fmt.Errorf("linking %s and %s: %w", a, b, err)
			}
		}
		sa, err := s.keyState(ctx, a)
		if err != nil {
			return nil, nil, fmt.Errorf("linking %s and %s: %w", a, b, err)
		}
		sb, err := s.keyState(ctx, b)
		if err != nil {
			return nil, nil, fmt.Errorf("linking %s and %s: %w", a, b, err)
		}
		for _, st := range []*keyState{sa, sb} {
			if st.rec != nil && st.rec.Hub {
				return nil, nil, fmt.Errorf("linking %s and %s: %s: %w", a, b, st.key, ErrSharedKey)
			}
		}
		j, _, err := s.join(ctx, joinRequest{keys: []*keyState{sa, sb}, at: now, ops: true, slot: slot,
			link: &link{Strength: Confirmed, By: byOps, At: now}})
		if err != nil {
			_ = s.release(context.WithoutCancel(ctx), []*keyState{sa, sb}, slot)
		}
		if errors.Is(err, errConflict) {
			s.conflicts.Add(1)
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("linking %s and %s: %w", a, b, err)
		}
		if len(j.skipped) > 0 {
			return nil, j.changes, fmt.Errorf("linking %s and %s: %s", a, b, j.skipped[0].Reason)
		}
		c, err := s.Show(ctx, a)
		return c, j.changes, err
	}
	return nil, nil, fmt.Errorf("linking %s and %s: still conflicting after %d attempts", a, b, maxAttempts)
}

// Unlink separates a and b, which must be the same customer: it removes
// the fewest links it can find on the paths between them (the weakest
// and latest first), splits the customer accordingly, and records that
// the two are never joined again (until ops link them). It returns the
// changes: the customer's id and the ids of the parts.
func (s *Store) Unlink(ctx context.Context, a, b identity.Key) ([]Change, error) {
	var changes []Change
	for attempt := range maxAttempts {
		if attempt > 0 {
			if err := s.backoff(ctx, attempt); err != nil {
				return changes, fmt.Errorf("unlinking %s and %s: %w", a, b, err)
			}
		}
		rb, _, err := s.customerOf(ctx, b)
		if err != nil {
			return changes, fmt.Errorf("unlinking %s and %s: %w", a, b, err)
		}
		ra, _, err := s.customerOf(ctx, a)
		if err != nil {
			return changes, fmt.Errorf("unlinking %s and %s: %w", a, b, err)
		}
		if ra == nil || rb == nil || ra.Slot != rb.Slot || a == b {
			if attempt == 0 {
				return nil, fmt.Errorf("unlinking %s and %s: %w", a, b, ErrNotLinked)
			}
			return changes, nil // separated
		}
		cut := cutLinks(ra, string(a), string(b))
		drop := func(l link) bool {
			return slices.ContainsFunc(cut, func(c link) bool { return slices.Equal(c.Keys, l.Keys) && c.At.Equal(l.At) && c.By == l.By })
		}
		pair := [2]string{string(a), string(b)}
		ch, err := s.reshape(ctx, ra.Slot, nil, drop, &pair, "split: unlinked by ops")
		changes = append(changes, ch...)
		if err != nil && !errors.Is(err, errConflict) {
			return changes, fmt.Errorf("unlinking %s and %s: %w", a, b, err)
		}
		// Look again: a split running at the same time may have moved
		// both keys elsewhere before this one took effect.
	}
	return changes, fmt.Errorf("unlinking %s and %s: still conflicting after %d attempts", a, b, maxAttempts)
}

// cutLinks chooses links whose removal separates a from b: while a path
// joins them, it removes the weakest link on the shortest path (probable
// before confirmed, then the latest).
func cutLinks(r *record, a, b string) []link {
	links := slices.Clone(r.Links)
	var cut []link
	for len(links) > 0 {
		path := linkPath(links, a, b)
		if path == nil {
			break
		}
		worst := path[0]
		for _, i := range path[1:] {
			l, w := links[i], links[worst]
			if l.Strength == Probable && w.Strength == Confirmed || l.Strength == w.Strength && l.At.After(w.At) {
				worst = i
			}
		}
		cut = append(cut, links[worst])
		links = slices.Delete(links, worst, worst+1)
	}
	return cut
}

// linkPath returns the indexes of the links on a shortest path from key a
// to key b, nil when there is none.
func linkPath(links []link, a, b string) []int {
	type step struct {
		from string
		via  int
	}
	prev := map[string]step{a: {via: -1}}
	queue := []string{a}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		if k == b {
			var path []int
			for k != a {
				st := prev[k]
				path = append(path, st.via)
				k = st.from
			}
			return path
		}
		for i, l := range links {
			if !slices.Contains(l.Keys, k) {
				continue
			}
			for _, n := range l.Keys {
				if _, seen := prev[n]; !seen {
					prev[n] = step{from: k, via: i}
					queue = append(queue, n)
				}
			}
		}
	}
	return nil
}

// Forgotten is what Forget removed.
type Forgotten struct {
	// ID is the customer's id ("" when the key was known but belonged to
	// no customer).
	ID string `json:"id"`
	// Keys are the identity keys removed.
	Keys []identity.Key `json:"keys"`
	// Items are the recent item ids that were kept for them (the messages
	// themselves are elsewhere: the caller deletes them).
	Items []string `json:"items,omitempty"`
}

// Forget erases the customer holding k, for a GDPR erasure request: its
// record and the records merged into it, the pointers of all its keys,
// their recent items, and their sightings and references in the name
// index, each removed with its KV history and purge marker so that the
// bucket keeps no trace of the keys. A shared key (or a key without a
// customer) is forgotten alone.
//
// What remains: 32-bit fingerprints of the keys in the peer lists of
// other customers' keys (they cannot be turned back into a key), and the
// customer's messages, cases and routed items elsewhere, which the caller
// deletes using the returned ids. A message of the same customer that is
// being processed at the same moment can recreate a key; run Forget again
// after stopping its channel if that matters.
func (s *Store) Forget(ctx context.Context, k identity.Key) (*Forgotten, error) {
	// Recent items still being written would come back after the purge.
	if s.pub != nil {
		select {
		case <-s.pub.PublishAsyncComplete():
		case <-ctx.Done():
			return nil, fmt.Errorf("forgetting %s: waiting for recent items to be written: %w", k, ctx.Err())
		}
	}
	st, err := s.keyState(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("forgetting %s: %w", k, err)
	}
	if st.rec == nil {
		return nil, fmt.Errorf("forgetting %s: %w", k, ErrUnknownKey)
	}
	r, _, err := s.recordOf(ctx, st) // finishes pending merges and splits
	if err != nil {
		return nil, fmt.Errorf("forgetting %s: %w", k, err)
	}
	out := &Forgotten{}
	keys := []identity.Key{k}
	if r != nil {
		out.ID = r.id()
		if recent, err := s.recent(ctx, r); err == nil {
			for _, it := range recent {
				out.Items = append(out.Items, it.ID)
			}
		}
		for _, m := range r.Keys {
			if identity.Key(m.Key) != k {
				keys = append(keys, identity.Key(m.Key))
			}
		}
	}
	// The other keys, then the record, then the given key: a Forget cut
	// short can be run again with the same key.
	for _, key := range keys[1:] {
		if err := s.forgetKey(ctx, key); err != nil {
			return out, fmt.Errorf("forgetting %s: %w", k, err)
		}
		out.Keys = append(out.Keys, key)
	}
	if r != nil {
		if err := s.purgeRecords(ctx, r); err != nil {
			return out, fmt.Errorf("forgetting %s: %w", k, err)
		}
	}
	if err := s.forgetKey(ctx, k); err != nil {
		return out, fmt.Errorf("forgetting %s: %w", k, err)
	}
	out.Keys = append([]identity.Key{k}, out.Keys...)
	return out, nil
}

// forgetKey removes one key's name-index entries, recent items and
// pointer.
func (s *Store) forgetKey(ctx context.Context, k identity.Key) error {
	st, err := s.keyState(ctx, k)
	if err != nil {
		return err
	}
	hk := keyHash(k)
	if st.rec != nil {
		for _, nk := range st.rec.Names {
			if err := s.forgetInName(ctx, nk, hk); err != nil {
				return err
			}
		}
	}
	if s.itemsStream != nil {
		subject := "$KV." + s.items.Bucket() + "." + prefixItems + hk
		if err := s.itemsStream.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
			return fmt.Errorf("purging the recent items of %s: %w", k, err)
		}
	}
	return s.purgeKV(ctx, st.kvKey)
}

// forgetInName removes key hash hk from the name entry nk (the whole
// entry when nothing else is left in it).
func (s *Store) forgetInName(ctx context.Context, nk, hk string) error {
	for range maxAttempts {
		cur, e, err := load[nameEntry](ctx, s.v, nk)
		if err != nil || cur == nil {
			return err
		}
		w := editable[nameEntry](e)
		w.drop(hk)
		if len(w.Seen) == 0 && len(w.Refs) == 0 {
			return s.purgeKV(ctx, nk)
		}
		// The bucket keeps one revision per key, so the rewrite leaves no
		// older one behind.
		if _, err := save(ctx, s.v, nk, w, e); err != nil {
			if errors.Is(err, errConflict) {
				continue
			}
			return err
		}
		return nil
	}
	return errConflict
}
