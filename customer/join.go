package customer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/identity"
)

// How the store changes customers without transactions: every change is
// a compare-and-set of one KV entry, ordered so that a crash (or a
// concurrent writer) at any point leaves something a later reader can
// finish or repair.
//
//   - A new key: its pointer (k.<hash>) is claimed first, then the customer
//     record lists it. A pointer to a record that does not list the key is
//     stale and the key counts as unknown, so a crash in between only
//     costs a retry.
//   - A merge of record B into A (A is always the smaller slot name, so
//     forwards never form a cycle): B is marked Forward=A keeping its
//     data (the commit point), A absorbs B, B's keys are re-pointed to A,
//     and B is stripped to a bare forward. Whoever reads a forward that
//     still has data finishes the merge.
//   - A split: the record keeps one part and lists the others in Parts
//     (the commit point); the parts are created, their keys re-pointed,
//     and Parts cleared. Whoever reads pending Parts finishes the split.

// joinRequest asks join to put keys into one customer.
type joinRequest struct {
	keys []*keyState // keys[0] is the primary key
	link *link       // the evidence; nil for a single key
	at   time.Time
	// channel is the message's channel ("" for ops and probable links).
	channel string
	// activity says the keys were seen in a message at `at` (their times
	// and the channel are updated); false for links made by ops or by name.
	activity bool
	// ops removes an apart pair between the link's keys instead of
	// refusing.
	ops bool
	// slot is the slot a new customer gets: the same in every attempt of
	// one operation, so that keys it claimed in a failed attempt are
	// recognized as its own.
	slot string
}

// Reasons for refusing a link.
const (
	ReasonMaxKeys = "not linked: the customer would have more than max_keys keys"
	ReasonApart   = "not linked: ops unlinked these customers"
)

// join links req.keys into one customer (merging the customers they
// belong to) as far as the caps and ops' unlinks allow, adds the link and
// returns the keys that joined, the primary first.
func (s *Store) join(ctx context.Context, req joinRequest) (joined, []*keyState, error) {
	var out joined
	slotOf := make(map[*keyState]string, len(req.keys))
	recs := map[string]*record{}
	for _, st := range req.keys {
		r, _, inflight, err := s.lookup(ctx, st)
		if err != nil {
			return out, nil, err
		}
		if inflight != "" && inflight != req.slot {
			return out, nil, errConflict // another writer is adding this key
		}
		if r != nil {
			slotOf[st] = r.Slot
			recs[r.Slot] = r
		}
	}

	// Decide who joins, starting from the primary key's customer.
	accepted := map[string]bool{}
	union := map[string]bool{}
	var pairs [][2]string
	var kept []*keyState
	linkKeys := map[string]bool{}
	if req.ops {
		for _, st := range req.keys {
			linkKeys[string(st.key)] = true
		}
	}
	for i, st := range req.keys {
		slot := slotOf[st]
		if slot != "" && accepted[slot] {
			kept = append(kept, st)
			continue
		}
		add := []string{string(st.key)}
		var addPairs [][2]string
		if slot != "" {
			add = add[:0]
			for _, m := range recs[slot].Keys {
				add = append(add, m.Key)
			}
			addPairs = recs[slot].Apart
		}
		grown := len(union)
		for _, k := range add {
			if !union[k] {
				grown++
			}
		}
		if i > 0 {
			if grown > s.cfg.MaxKeys {
				out.skipped = append(out.skipped, identity.Skip{Key: st.key, Reason: ReasonMaxKeys})
				continue
			}
			has := func(k string) bool { return union[k] || slices.Contains(add, k) }
			all := append(slices.Clip(pairs), addPairs...)
			if req.ops {
				all = slices.DeleteFunc(all, func(p [2]string) bool { return linkKeys[p[0]] && linkKeys[p[1]] })
			}
			if blocked, p := apart(all, has); blocked {
				out.skipped = append(out.skipped, identity.Skip{Key: st.key, Reason: fmt.Sprintf("%s (%s / %s)", ReasonApart, p[0], p[1])})
				continue
			}
		}
		for _, k := range add {
			union[k] = true
		}
		pairs = append(pairs, addPairs...)
		if slot != "" {
			accepted[slot] = true
		}
		kept = append(kept, st)
	}

	slots := make([]string, 0, len(accepted))
	for sl := range accepted {
		slots = append(slots, sl)
	}
	slices.Sort(slots)
	creating := len(slots) == 0
	target := ""
	if creating {
		target = req.slot
	} else {
		target = slots[0]
	}
	before := map[string]string{}
	for _, sl := range slots {
		before[sl] = recs[sl].id()
	}
	// The link travels with each merge, so that a merged customer is
	// connected even if this attempt fails after the merge.
	var l *link
	if req.link != nil && len(kept) > 1 {
		c := *req.link
		for _, st := range kept {
			c.Keys = append(c.Keys, string(st.key))
		}
		slices.Sort(c.Keys)
		c.Keys = slices.Compact(c.Keys)
		l = &c
	}
	for _, sl := range slots[min(1, len(slots)):] {
		if err := s.merge(ctx, sl, target, l); err != nil {
			return out, nil, err
		}
		s.tracef("%s: merged %s into %s via %+v", req.slot, sl, target, l)
	}

	// Pointers: claim the new keys, store new peers, refresh old entries.
	// A known key keeps its slot: the merges re-pointed the keys of the
	// other customers, and anything else that moved a key (a split) makes
	// the record step below start again.
	for _, st := range kept {
		unknown := slotOf[st] == ""
		cur := st
		if !unknown && slotOf[st] != target {
			fresh, err := s.keyState(ctx, st.key)
			if err != nil {
				return out, nil, err
			}
			cur = fresh
		}
		if !unknown && len(st.newPeers) == 0 && !s.stale(cur.e) {
			continue
		}
		if cur.rec != nil && cur.rec.Hub {
			return out, nil, errConflict // it became shared meanwhile: decide again
		}
		kr := editable[keyRecord](cur.e)
		kr.Key = string(st.key)
		if unknown {
			kr.Slot, kr.Claim = target, req.slot
		}
		for _, p := range st.newPeers {
			if !slices.Contains(kr.Peers, p) {
				kr.Peers = append(kr.Peers, p)
			}
		}
		if len(kr.Peers) > s.cfg.MaxPeers {
			return out, nil, errConflict // it became shared meanwhile: decide again
		}
		if _, err := save(ctx, s.v, cur.kvKey, kr, cur.e); err != nil {
			return out, nil, err
		}
		s.tracef("%s: pointer %s -> %s (unknown %v)", req.slot, st.key, kr.Slot, unknown)
	}

	// The customer record.
	var r *record
	for attempt := 0; ; attempt++ {
		if attempt == maxAttempts {
			return out, nil, errConflict
		}
		cur, e, err := s.loadRecord(ctx, target)
		if err != nil {
			return out, nil, err
		}
		switch {
		case creating && e.absent:
		case cur == nil || cur.Forward != "":
			return out, nil, errConflict // merged away or gone meanwhile: start again
		case len(cur.Parts) > 0:
			if err := s.finishSplit(ctx, target); err != nil {
				return out, nil, err
			}
			return out, nil, errConflict
		}
		for _, st := range kept {
			if slotOf[st] != "" && (cur == nil || !cur.has(string(st.key))) {
				return out, nil, errConflict // it left the customer meanwhile (a split)
			}
			if slotOf[st] == "" {
				// Claimed above; nobody takes a fresh claim, but check.
				now, err := s.keyState(ctx, st.key)
				if err != nil {
					return out, nil, err
				}
				if now.rec == nil || now.rec.Slot != target {
					return out, nil, errConflict
				}
			}
		}
		if cur != nil && !e.absent && !s.stale(e) && !s.wouldChange(cur, kept, l, req, linkKeys) {
			r = cur // the common case: nothing to write
			break
		}
		w := &record{}
		if cur != nil {
			w = cur.clone()
		}
		w.Slot = target
		changed := e.absent || s.stale(e)
		for i, st := range kept {
			k := string(st.key)
			j := w.index(k)
			if j < 0 {
				w.Keys = append(w.Keys, member{Key: k, First: req.at, Last: req.at})
				j, changed = len(w.Keys)-1, true
			} else if req.activity {
				changed = w.Keys[j].widen(req.at, req.at, s.lastSlack()) || changed
			}
			if i == 0 && req.activity && req.channel != "" {
				changed = w.Keys[j].see(req.channel, req.at, req.at, s.lastSlack()) || changed
			}
		}
		if l != nil && (len(w.Links) < s.cfg.MaxLinks || !subsetOfMembers(l.Keys, cur)) {
			changed = w.addLink(*l) || changed
		}
		if req.ops {
			n := len(w.Apart)
			w.Apart = slices.DeleteFunc(w.Apart, func(p [2]string) bool { return linkKeys[p[0]] && linkKeys[p[1]] })
			changed = changed || len(w.Apart) != n
		}
		if !changed {
			r = cur
			break
		}
		if _, err := save(ctx, s.v, prefixRecord+target, w, e); err != nil {
			if errors.Is(err, errConflict) {
				continue
			}
			return out, nil, err
		}
		r = w
		s.tracef("%s: record %s keys %v", req.slot, target, w.Keys)
		if s.stale(e) {
			if err := s.touchPointers(ctx, w); err != nil {
				return out, nil, err
			}
		}
		if len(w.components(nil)) > 1 {
			// A key that held it together left meanwhile (it became
			// shared): the customer is several again.
			ch, err := s.reshape(ctx, target, nil, nil, nil, "split: no longer connected")
			out.changes = append(out.changes, ch...)
			if err != nil {
				return out, nil, err
			}
			return out, nil, errConflict
		}
		break
	}
	out.slot, out.rec = target, r
	after := r.id()
	for _, sl := range slots {
		if before[sl] != after {
			why := "merged"
			if sl == target {
				why = "renamed"
			}
			out.changes = append(out.changes, Change{From: before[sl], To: []string{after}, Why: why})
		}
	}
	if len(kept) < len(req.keys) {
		if err := s.release(ctx, req.keys, req.slot); err != nil {
			return out, kept, err
		}
	}
	return out, kept, nil
}

// wouldChange reports whether join's update of cur would change it; it
// mirrors that update without copying the record, so that a message
// that tells nothing new costs no copy and no write.
func (s *Store) wouldChange(cur *record, kept []*keyState, l *link, req joinRequest, linkKeys map[string]bool) bool {
	slack := s.lastSlack()
	for i, st := range kept {
		j := cur.index(string(st.key))
		if j < 0 {
			return true
		}
		m := cur.Keys[j]
		if req.activity && (req.at.Before(m.First) || req.at.Sub(m.Last) > slack) {
			return true
		}
		if i == 0 && req.activity && req.channel != "" {
			sp, ok := m.Channels[req.channel]
			if !ok || req.at.Before(sp.First) || req.at.Sub(sp.Last) > slack {
				return true
			}
		}
	}
	if l != nil && (len(cur.Links) < s.cfg.MaxLinks || !subsetOfMembers(l.Keys, cur)) {
		redundant := false
		for _, e := range cur.Links {
			if stronger(e.Strength, l.Strength) && subset(l.Keys, e.Keys) {
				redundant = true
				break
			}
		}
		if !redundant {
			return true
		}
	}
	if req.ops {
		for _, p := range cur.Apart {
			if linkKeys[p[0]] && linkKeys[p[1]] {
				return true
			}
		}
	}
	return false
}

// subsetOfMembers reports whether every key is already a member of r.
func subsetOfMembers(keys []string, r *record) bool {
	if r == nil {
		return false
	}
	for _, k := range keys {
		if !r.has(k) {
			return false
		}
	}
	return true
}

// stale reports whether an entry should be rewritten so that it does not
// expire while in use.
func (s *Store) stale(e entry) bool {
	return !e.absent && !e.created.IsZero() && s.now().Sub(e.created) > time.Duration(s.cfg.TTL)/4
}

// lastSlack is how far a "last seen" time may lag before it is rewritten.
func (s *Store) lastSlack() time.Duration { return min(time.Duration(s.cfg.TTL)/16, time.Hour) }

// merge merges the customer at src into the one at dst (dst < src); via
// is the link that joins them.
func (s *Store) merge(ctx context.Context, src, dst string, via *link) error {
	r, e, err := s.loadRecord(ctx, src)
	if err != nil {
		return err
	}
	switch {
	case r == nil:
		return errConflict // gone meanwhile
	case r.Forward != "":
		if err := s.finishMerge(ctx, src, 0); err != nil {
			return err
		}
		return errConflict // merged elsewhere meanwhile: decide again
	case len(r.Parts) > 0:
		if err := s.finishSplit(ctx, src); err != nil {
			return err
		}
		return errConflict
	}
	w := editable[record](e)
	w.Forward, w.Via = dst, via
	if _, err := save(ctx, s.v, prefixRecord+src, w, e); err != nil {
		return err
	}
	s.tracef("merge %s -> %s", src, dst)
	return s.finishMerge(ctx, src, 0)
}

// finishMerge completes the merge of the record at slot into the one its
// Forward names, if it is not complete.
func (s *Store) finishMerge(ctx context.Context, slot string, depth int) error {
	if depth > maxForwards {
		return fmt.Errorf("finishing the merge of customer record %s: more than %d merged records in a row", slot, maxForwards)
	}
	for range maxAttempts {
		r, e, err := s.loadRecord(ctx, slot)
		if err != nil {
			return err
		}
		if r == nil || r.Forward == "" || len(r.Keys) == 0 {
			return nil
		}
		t, te, err := s.loadRecord(ctx, r.Forward)
		if err != nil {
			return err
		}
		switch {
		case t == nil:
			// The target is gone (forgotten, or expired): this customer
			// stands alone again.
			w := editable[record](e)
			w.Forward = ""
			if _, err := save(ctx, s.v, prefixRecord+slot, w, e); err != nil && !errors.Is(err, errConflict) {
				return err
			}
			continue
		case t.Forward != "":
			if err := s.finishMerge(ctx, r.Forward, depth+1); err != nil {
				return err
			}
			w := editable[record](e)
			w.Forward = t.Forward
			if _, err := save(ctx, s.v, prefixRecord+slot, w, e); err != nil && !errors.Is(err, errConflict) {
				return err
			}
			continue
		case len(t.Parts) > 0:
			if err := s.finishSplit(ctx, r.Forward); err != nil {
				return err
			}
			continue
		}
		disconnected := false
		if !slices.Contains(t.Former, slot) {
			tw := editable[record](te)
			tw.absorb(editable[record](e))
			if r.Via != nil {
				tw.addLink(*r.Via)
			}
			if _, err := save(ctx, s.v, prefixRecord+r.Forward, tw, te); err != nil {
				if errors.Is(err, errConflict) {
					continue
				}
				return err
			}
			disconnected = len(tw.components(nil)) > 1
			s.tracef("absorbed %s into %s: %v", slot, r.Forward, tw.Keys)
		}
		for _, m := range r.Keys {
			if err := s.repoint(ctx, identity.Key(m.Key), slot, r.Forward); err != nil {
				return err
			}
		}
		if _, err := save(ctx, s.v, prefixRecord+slot, &record{Slot: slot, Forward: r.Forward}, e); err != nil {
			if errors.Is(err, errConflict) {
				continue
			}
			return err
		}
		s.tracef("stripped %s", slot)
		if disconnected {
			// The key that joined them left meanwhile (it became shared).
			if _, err := s.reshape(ctx, r.Forward, nil, nil, nil, "split: no longer connected"); err != nil && !errors.Is(err, errConflict) {
				return err
			}
		}
		return nil
	}
	return errConflict
}

// finishSplit completes a split of the record at slot whose parts are not
// all written yet.
func (s *Store) finishSplit(ctx context.Context, slot string) error {
	for range maxAttempts {
		r, e, err := s.loadRecord(ctx, slot)
		if err != nil {
			return err
		}
		if r == nil || len(r.Parts) == 0 {
			return nil
		}
		for i := range r.Parts {
			p := &r.Parts[i]
			pe, err := s.v.get(ctx, prefixRecord+p.Slot)
			if err != nil {
				return err
			}
			if pe.absent {
				if _, err := save(ctx, s.v, prefixRecord+p.Slot, p, pe); err != nil && !errors.Is(err, errConflict) {
					return err
				}
			}
			for _, m := range p.Keys {
				if err := s.repoint(ctx, identity.Key(m.Key), slot, p.Slot); err != nil {
					return err
				}
			}
		}
		w := editable[record](e)
		w.Parts = nil
		if _, err := save(ctx, s.v, prefixRecord+slot, w, e); err != nil {
			if errors.Is(err, errConflict) {
				continue
			}
			return err
		}
		return nil
	}
	return errConflict
}

// repoint moves k's pointer from slot from to slot to, if it still points
// at from, or at a record merged into from (a slower writer may have
// pointed it at the merged-away record after from took over).
func (s *Store) repoint(ctx context.Context, k identity.Key, from, to string) error {
	for range maxAttempts {
		st, err := s.keyState(ctx, k)
		if err != nil {
			return err
		}
		if st.rec != nil {
			at, err := s.follow(ctx, st.rec.Slot)
			if err != nil {
				return err
			}
			if at != from {
				return nil
			}
		}
		w := editable[keyRecord](st.e)
		w.Key, w.Slot = string(k), to
		if _, err := save(ctx, s.v, st.kvKey, w, st.e); err != nil {
			if errors.Is(err, errConflict) {
				continue
			}
			return err
		}
		s.tracef("repoint %s %s -> %s", k, from, to)
		return nil
	}
	return errConflict
}

// follow returns the slot that slot was merged into (through a chain of
// merges; slot itself when it was not), without finishing anything.
func (s *Store) follow(ctx context.Context, slot string) (string, error) {
	for range maxForwards {
		if slot == "" {
			return "", nil
		}
		r, _, err := s.loadRecord(ctx, slot)
		if err != nil || r == nil || r.Forward == "" {
			return slot, err
		}
		slot = r.Forward
	}
	return slot, nil
}

// touchPointers rewrites the pointers of r's keys that would otherwise
// expire before r (and restores missing ones).
func (s *Store) touchPointers(ctx context.Context, r *record) error {
	for _, m := range r.Keys {
		st, err := s.keyState(ctx, identity.Key(m.Key))
		if err != nil {
			return err
		}
		if st.rec != nil && st.rec.Slot != r.Slot && st.rec.Slot != "" {
			continue // moved on; not ours to touch
		}
		if st.rec != nil && !s.stale(st.e) {
			continue
		}
		w := editable[keyRecord](st.e)
		w.Key, w.Slot = m.Key, r.Slot
		if _, err := save(ctx, s.v, st.kvKey, w, st.e); err != nil && !errors.Is(err, errConflict) {
			return err
		}
	}
	return nil
}

// reshape removes keys and the links drop selects from the customer at
// slot, records an apart pair, and splits what is left into its connected
// parts: the part with the earliest key keeps the slot (and so, usually,
// the id), the others become new customers. why explains the split in the
// Change it returns.
func (s *Store) reshape(ctx context.Context, slot string, remove []string, drop func(link) bool, pair *[2]string, why string) ([]Change, error) {
	for range maxAttempts {
		r, e, err := s.loadRecord(ctx, slot)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return nil, nil
		}
		if r.Forward != "" {
			return nil, errConflict
		}
		if len(r.Parts) > 0 {
			if err := s.finishSplit(ctx, slot); err != nil {
				return nil, err
			}
			continue
		}
		if settled, err := s.settle(ctx, r, e); err != nil || !settled {
			if err != nil {
				return nil, err
			}
			continue
		}
		beforeID := r.id()
		w := editable[record](e)
		w.Keys = slices.DeleteFunc(w.Keys, func(m member) bool { return slices.Contains(remove, m.Key) })
		changed := len(w.Keys) != len(r.Keys) || pair != nil
		var links []link
		for _, l := range w.Links {
			if drop != nil && drop(l) {
				changed = true
				continue
			}
			l.Keys = slices.DeleteFunc(slices.Clone(l.Keys), func(k string) bool { return slices.Contains(remove, k) })
			if len(l.Keys) >= 2 {
				links = append(links, l)
			}
		}
		w.Links = links
		if pair != nil {
			w.addApart(*pair)
		}
		if !changed && len(w.components(nil)) <= 1 {
			return nil, nil
		}
		if len(w.Keys) == 0 {
			if err := s.purgeRecords(ctx, w); err != nil {
				return nil, err
			}
			return []Change{{From: beforeID, Why: why}}, nil
		}
		comps := w.components(nil)
		earliest := w.earliest()
		main := 0
		for i, c := range comps {
			if slices.Contains(c, earliest) {
				main = i
			}
		}
		nw := w.part(slot, comps[main])
		nw.Former = w.Former
		for i, c := range comps {
			if i != main {
				p := w.part(newSlot(), c)
				p.Origin = slot
				nw.Parts = append(nw.Parts, p)
			}
		}
		if _, err := save(ctx, s.v, prefixRecord+slot, &nw, e); err != nil {
			if errors.Is(err, errConflict) {
				continue
			}
			return nil, err
		}
		s.tracef("reshape %s (%s): keys %v parts %d", slot, why, nw.Keys, len(nw.Parts))
		if err := s.finishSplit(ctx, slot); err != nil {
			return nil, err
		}
		ids := []string{nw.id()}
		for i := range nw.Parts {
			ids = append(ids, nw.Parts[i].id())
		}
		if len(ids) == 1 && ids[0] == beforeID {
			return nil, nil
		}
		return []Change{{From: beforeID, To: ids, Why: why}}, nil
	}
	return nil, errConflict
}

// settle finishes what may still send keys to r: the split that created
// it and the merges into it. It reports false when it changed r (read it
// again).
func (s *Store) settle(ctx context.Context, r *record, e entry) (bool, error) {
	for _, f := range r.Former {
		fr, _, err := s.loadRecord(ctx, f)
		if err != nil {
			return false, err
		}
		if fr != nil && fr.Forward != "" && len(fr.Keys) > 0 {
			if err := s.finishMerge(ctx, f, 0); err != nil {
				return false, err
			}
		}
	}
	if r.Origin == "" {
		return true, nil
	}
	if err := s.finishSplit(ctx, r.Origin); err != nil {
		return false, err
	}
	w := editable[record](e)
	w.Origin = ""
	if _, err := save(ctx, s.v, prefixRecord+r.Slot, w, e); err != nil && !errors.Is(err, errConflict) {
		return false, err
	}
	return false, nil
}

// makeHub marks a key that turned out to be shared so that it links
// nothing again, then takes it out of its customer (splitting the customer
// where it was the only connection). The mark comes first and keeps the
// customer's slot until the key is out, so that a crash in between is
// finished by the next message with the key.
func (s *Store) makeHub(ctx context.Context, st *keyState) ([]Change, error) {
	r, _, inflight, err := s.lookup(ctx, st)
	if err != nil {
		return nil, err
	}
	if inflight != "" {
		return nil, errConflict // being added to a customer: decide when it is there
	}
	w := editable[keyRecord](st.e)
	w.Key, w.Hub, w.Peers, w.Slot, w.Claim = string(st.key), true, nil, "", ""
	if r != nil {
		w.Slot = r.Slot
	}
	rev, err := save(ctx, s.v, st.kvKey, w, st.e)
	if err != nil {
		return nil, err
	}
	s.tracef("hub %s (in %s)", st.key, w.Slot)
	if w.Slot == "" {
		return nil, nil
	}
	data, _ := json.Marshal(w)
	return s.finishHub(ctx, &keyState{key: st.key, kvKey: st.kvKey, rec: w, e: entry{val: data, rev: rev, created: s.now()}})
}

// finishHub takes the hub st out of the customer its pointer still names
// (or the one that customer was merged or split into since: a split
// re-points the hub's pointer with the other keys).
func (s *Store) finishHub(ctx context.Context, st *keyState) ([]Change, error) {
	var changes []Change
	for attempt := range maxAttempts {
		if attempt > 0 {
			if err := s.backoff(ctx, attempt); err != nil {
				return changes, err
			}
			fresh, err := s.keyState(ctx, st.key)
			if err != nil {
				return changes, err
			}
			st = fresh
		}
		if st.rec == nil || !st.rec.Hub || st.rec.Slot == "" {
			return changes, nil
		}
		if err := s.finishMerge(ctx, st.rec.Slot, 0); err != nil && !errors.Is(err, errConflict) {
			return changes, err
		}
		slot, err := s.follow(ctx, st.rec.Slot)
		if err != nil {
			return changes, err
		}
		ch, err := s.reshape(ctx, slot, []string{string(st.key)}, nil, nil, "split: "+string(st.key)+" is shared by too many customers")
		changes = append(changes, ch...)
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return changes, err
		}
		// Out of that record; if a split moved it elsewhere meanwhile, the
		// pointer names the new place and the write below fails.
		w := editable[keyRecord](st.e)
		w.Slot = ""
		if _, err := save(ctx, s.v, st.kvKey, w, st.e); err != nil {
			if errors.Is(err, errConflict) {
				continue
			}
			return changes, err
		}
		return changes, nil
	}
	return changes, errConflict
}

// release deletes the pointers of keys that the operation with the given
// token claimed and no customer lists: a failed attempt gives back what it
// claimed, so that no other writer waits for a customer record it did not
// write (and two writers each holding a key the other needs cannot wait
// for each other).
func (s *Store) release(ctx context.Context, keys []*keyState, token string) error {
	for _, k := range keys {
		if err := s.releaseKey(ctx, k.key, token); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) releaseKey(ctx context.Context, k identity.Key, token string) error {
	st, err := s.keyState(ctx, k)
	if err != nil {
		return err
	}
	if st.rec == nil || st.rec.Claim != token || st.rec.Hub {
		return nil
	}
	if _, _, inflight, err := s.lookup(ctx, st); err != nil || inflight != token {
		return err
	}
	if err := s.kv.Delete(ctx, st.kvKey, jetstream.LastRevision(st.e.rev)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("releasing the claim on %s: %w", k, err)
	}
	s.tracef("%s: released %s", token, k)
	_, err = s.v.fresh(ctx, st.kvKey)
	return err
}

// purgeRecords deletes a customer record and the forward records of the
// customers merged into it, leaving no trace in the bucket.
func (s *Store) purgeRecords(ctx context.Context, r *record) error {
	for _, f := range append(slices.Clip(r.Former), r.Slot) {
		if err := s.purgeKV(ctx, prefixRecord+f); err != nil {
			return err
		}
	}
	return nil
}

// purgeKV removes one KV entry and its purge marker.
func (s *Store) purgeKV(ctx context.Context, key string) error {
	return s.v.purge(ctx, s.stream, "$KV."+s.kv.Bucket()+"."+key, key)
}
