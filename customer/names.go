package customer

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/message"
)

// Probable links. For every usable display name the store keeps one
// entry, n.<hash(name)>, listing who wrote under that name on which
// channel when (sightings: author key, channel, time buckets), and the
// messages by that name that refer to another channel (references). A
// reference links its author to the one author under the same name who
// wrote on the referred channel within the window. Never the name alone:
// no reference, no link; two or more such authors, no link (and a link
// made before the second one appeared is taken back). Every time the
// entry changes, every reference's candidates are computed again from the
// whole entry, so the outcome does not depend on the order the messages
// arrived in.
//
// Times are kept in buckets of a quarter window, and two buckets at most
// four apart are "within the window": links need messages at most 1¼
// windows apart, and an author writing every day costs a write only when
// a new bucket starts.

// nameEntry is stored at n.<hash(normalized name)>.
type nameEntry struct {
	Seen []sighting  `json:"seen,omitempty"`
	Refs []reference `json:"refs,omitempty"`
	// Common marks a name written under by more than maxAuthors authors:
	// too common to tell anyone apart by, so it links nothing and is not
	// tracked any more.
	Common bool `json:"common,omitempty"`
}

// sighting: the author key (its hash) wrote on channel in buckets B.
type sighting struct {
	Key string  `json:"k"`
	Ch  string  `json:"ch"`
	B   []int64 `json:"b"` // ascending, the newest maxBuckets
}

// reference: the author key (its hash), writing on channel Ch in bucket
// B, referred to the channels To. Cand are the matching authors (hashes,
// sorted; more than one means ambiguous).
type reference struct {
	Key  string            `json:"k"`
	Ch   string            `json:"ch"`
	To   identity.Channels `json:"to"`
	B    int64             `json:"b"`
	Cand []string          `json:"cand,omitempty"`
}

// Bounds of one name entry.
const (
	maxAuthors   = 8
	maxSightings = 4 * maxAuthors
	maxRefs      = 16
	maxBuckets   = 8
	// windowBuckets: buckets are a quarter window.
	windowBuckets = 4
)

func (s *Store) bucket(t time.Time) int64 {
	return t.UnixNano() / int64(s.cfg.ProbableWindow/windowBuckets)
}

// sight records that key wrote on channel in bucket b.
func (n *nameEntry) sight(key, channel string, b int64) bool {
	for i := range n.Seen {
		x := &n.Seen[i]
		if x.Key != key || x.Ch != channel {
			continue
		}
		if slices.Contains(x.B, b) {
			return false
		}
		x.B = append(x.B, b)
		slices.Sort(x.B)
		if len(x.B) > maxBuckets {
			x.B = x.B[len(x.B)-maxBuckets:]
		}
		return true
	}
	n.Seen = append(n.Seen, sighting{Key: key, Ch: channel, B: []int64{b}})
	authors := map[string]bool{}
	for _, x := range n.Seen {
		authors[x.Key] = true
	}
	if len(authors) > maxAuthors {
		// The references stay (frozen) so that their links are taken back.
		n.Seen, n.Common = nil, true
		return true
	}
	if len(n.Seen) > maxSightings {
		// Forget the author whose latest message is the oldest.
		oldest := 0
		for i, x := range n.Seen[:len(n.Seen)-1] {
			if x.B[len(x.B)-1] < n.Seen[oldest].B[len(n.Seen[oldest].B)-1] {
				oldest = i
			}
		}
		n.Seen = slices.Delete(n.Seen, oldest, oldest+1)
	}
	return true
}

// refer records a reference.
func (n *nameEntry) refer(r reference) bool {
	for _, x := range n.Refs {
		if x.Key == r.Key && x.Ch == r.Ch && x.To == r.To && x.B == r.B {
			return false
		}
	}
	n.Refs = append(n.Refs, r)
	if len(n.Refs) > maxRefs {
		oldest := 0
		for i, x := range n.Refs[:len(n.Refs)-1] {
			if x.B < n.Refs[oldest].B {
				oldest = i
			}
		}
		n.Refs = slices.Delete(n.Refs, oldest, oldest+1)
	}
	return true
}

// candidates returns the authors r may refer to: another author under the
// same name who wrote on a channel r refers to (not r's own channel)
// within the window.
func (n *nameEntry) candidates(r reference) []string {
	var out []string
	for _, x := range n.Seen {
		if x.Key == r.Key || x.Ch == r.Ch || identity.ChannelRef(x.Ch)&r.To == 0 || slices.Contains(out, x.Key) {
			continue
		}
		for _, b := range x.B {
			if b-r.B <= windowBuckets && r.B-b <= windowBuckets {
				out = append(out, x.Key)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// drop removes every trace of key (a hash) from the entry.
func (n *nameEntry) drop(key string) {
	n.Seen = slices.DeleteFunc(n.Seen, func(x sighting) bool { return x.Key == key })
	n.Refs = slices.DeleteFunc(n.Refs, func(x reference) bool { return x.Key == key })
	for i := range n.Refs {
		n.Refs[i].Cand = slices.DeleteFunc(n.Refs[i].Cand, func(c string) bool { return c == key })
	}
}

// nameAction is a probable link to make or take back.
type nameAction struct {
	link bool
	a, b string // key hashes
}

// probable records the author's sighting (and reference) under name and
// brings the probable links in line with the entry.
//
// The links follow the entry, not the steps that led to it: after writing
// the entry, probable makes the links its unambiguous references ask for
// and takes back those of ambiguous ones, then reads the entry again and
// repeats if someone else changed it meanwhile. So whichever writer is
// last leaves the links as the final entry says, even when several
// workers update one name at once. The entry is written before any link
// is made: a crash in between misses a link rather than making a wrong
// one.
//
// wrote reports whether the entry changed (and links may have with it).
func (s *Store) probable(ctx context.Context, env *message.Envelope, author *keyState, name string, refers identity.Channels, at time.Time) (_ []Change, wrote bool, _ error) {
	nk := prefixName + nameHash(name)
	hk := keyHash(author.key)
	b := s.bucket(at)
	var changes []Change
	written := false
	for attempt := range maxAttempts {
		if attempt > 0 {
			if err := s.backoff(ctx, attempt); err != nil {
				return changes, written, err
			}
		}
		cur, e, err := load[nameEntry](ctx, s.v, nk)
		if err != nil {
			return changes, written, err
		}
		if !written {
			if cur != nil && (cur.Common || !s.stale(e) && !newInEntry(cur, hk, env.Channel, b, refers)) {
				return changes, false, nil // the common case: nothing new
			}
			w := editable[nameEntry](e)
			w.sight(hk, env.Channel, b)
			if refers != 0 && !w.Common {
				w.refer(reference{Key: hk, Ch: env.Channel, To: refers, B: b})
			}

			if !w.Common {
				for i := range w.Refs {
					w.Refs[i].Cand = w.candidates(w.Refs[i])
				}
			}
			// The author's pointer lists the entry first, so that
			// forgetting the author always finds it.
			if err := s.listName(ctx, author.key, nk); err != nil {
				return changes, written, err
			}
			if e.rev, err = save(ctx, s.v, nk, w, e); err != nil {
				if errors.Is(err, errConflict) {
					continue
				}
				return changes, written, err
			}
			written, cur = true, w
			s.tracef("%s: name entry %s written rev %d refs %+v", env.ID, nk, e.rev, w.Refs)
		}
		if cur == nil {
			return changes, written, nil // forgotten meanwhile
		}
		ch, err := s.reconcile(ctx, cur, env.ID, at)
		changes = append(changes, ch...)
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return changes, written, err
		}
		after, err := s.v.get(ctx, nk)
		if err != nil {
			return changes, written, err
		}
		s.tracef("%s: reconciled rev %d, now %d", env.ID, e.rev, after.rev)
		if after.rev == e.rev {
			return changes, true, nil
		}
	}
	return changes, written, errConflict
}

// reconcile makes the probable links the entry's unambiguous references
// ask for and takes back the ones between a referrer and the candidates
// of its ambiguous references (unless another reference asks for them).
func (s *Store) reconcile(ctx context.Context, n *nameEntry, item string, at time.Time) ([]Change, error) {
	type pair struct{ a, b string }
	want := map[pair]bool{}
	var unwanted []pair
	for _, r := range n.Refs {
		if len(r.Cand) == 1 && !n.Common {
			want[pair{r.Key, r.Cand[0]}] = true
			continue
		}
		for _, c := range r.Cand {
			unwanted = append(unwanted, pair{r.Key, c})
		}
	}
	var changes []Change
	for _, p := range unwanted {
		if want[p] {
			continue
		}
		ch, err := s.nameLink(ctx, nameAction{a: p.a, b: p.b}, item, at)
		changes = append(changes, ch...)
		if err != nil {
			return changes, err
		}
	}
	for _, r := range n.Refs { // in entry order, so the result is the same for everyone
		if len(r.Cand) != 1 || n.Common {
			continue
		}
		ch, err := s.nameLink(ctx, nameAction{link: true, a: r.Key, b: r.Cand[0]}, item, at)
		changes = append(changes, ch...)
		if err != nil {
			return changes, err
		}
	}
	return changes, nil
}

// newInEntry reports whether the entry lacks this sighting or reference.
func newInEntry(n *nameEntry, key, channel string, b int64, refers identity.Channels) bool {
	seen := false
	for _, x := range n.Seen {
		if x.Key == key && x.Ch == channel && slices.Contains(x.B, b) {
			seen = true
			break
		}
	}
	if !seen {
		return true
	}
	if refers == 0 {
		return false
	}
	for _, x := range n.Refs {
		if x.Key == key && x.Ch == channel && x.To == refers && x.B == b {
			return false
		}
	}
	return true
}

// listName adds the name entry nk to k's pointer.
func (s *Store) listName(ctx context.Context, k identity.Key, nk string) error {
	for range maxAttempts {
		st, err := s.keyState(ctx, k)
		if err != nil {
			return err
		}
		if st.rec == nil || slices.Contains(st.rec.Names, nk) {
			return nil
		}
		w := editable[keyRecord](st.e)
		w.Names = append(w.Names, nk)
		if _, err := save(ctx, s.v, st.kvKey, w, st.e); err != nil {
			if errors.Is(err, errConflict) {
				continue
			}
			return err
		}
		return nil
	}
	return errConflict
}

// nameLink makes or takes back the probable link between two authors.
func (s *Store) nameLink(ctx context.Context, a nameAction, item string, at time.Time) ([]Change, error) {
	sa, err := s.stateByHash(ctx, a.a)
	if err != nil || sa == nil {
		return nil, err
	}
	sb, err := s.stateByHash(ctx, a.b)
	if err != nil || sb == nil {
		return nil, err
	}
	s.tracef("nameLink link=%v %s %s", a.link, sa.key, sb.key)
	if a.link {
		if sa.rec.Hub || sb.rec.Hub {
			return nil, nil
		}
		slot := newSlot()
		for attempt := range maxAttempts {
			if attempt > 0 {
				if err := s.backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			j, _, err := s.join(ctx, joinRequest{keys: []*keyState{sa, sb}, at: at, slot: slot,
				link: &link{Strength: Probable, By: byName, Item: item, At: at}})
			s.tracef("%s: nameLink join %s %s: %v", slot, sa.key, sb.key, err)
			if err != nil {
				_ = s.release(context.WithoutCancel(ctx), []*keyState{sa, sb}, slot)
			}
			if errors.Is(err, errConflict) {
				if sa, err = s.keyState(ctx, sa.key); err != nil {
					return nil, err
				}
				if sb, err = s.keyState(ctx, sb.key); err != nil {
					return nil, err
				}
				continue
			}
			return j.changes, err
		}
		return nil, errConflict
	}
	// Take back: drop the probable link between the two; split if it was
	// the only connection. Until it is gone: a split running at the same
	// time can move both keys to another record while this one drops the
	// link from the old one.
	ka, kb := string(sa.key), string(sb.key)
	drop := func(l link) bool {
		return l.By == byName && len(l.Keys) == 2 && slices.Contains(l.Keys, ka) && slices.Contains(l.Keys, kb)
	}
	var changes []Change
	for attempt := range maxAttempts {
		if attempt > 0 {
			if err := s.backoff(ctx, attempt); err != nil {
				return changes, err
			}
		}
		// Both sides are looked up, so that a merge of them still under
		// way is finished first and the link it brings is there to drop.
		if _, _, err := s.customerOf(ctx, sb.key); err != nil {
			return changes, err
		}
		r, _, err := s.customerOf(ctx, sa.key)
		if err != nil {
			return changes, err
		}
		if r == nil || !r.has(kb) || !slices.ContainsFunc(r.Links, drop) {
			s.tracef("nameLink unlink %s %s: not linked", sa.key, sb.key)
			return changes, nil
		}
		ch, err := s.reshape(ctx, r.Slot, nil, drop, nil, "split: probable link taken back (another author with the same name)")
		changes = append(changes, ch...)
		if err != nil && !errors.Is(err, errConflict) {
			return changes, err
		}
	}
	return changes, errConflict
}

// stateByHash reads the pointer k.<hash>; nil when it is gone.
func (s *Store) stateByHash(ctx context.Context, h string) (*keyState, error) {
	rec, _, err := load[keyRecord](ctx, s.v, prefixKey+h)
	if err != nil || rec == nil || rec.Key == "" {
		return nil, err
	}
	return s.keyState(ctx, identity.Key(rec.Key))
}
