package customer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/switchboard/switchboard/identity"
)

// Strength says how sure the store is that a customer's keys are one
// person.
type Strength string

const (
	// Confirmed: every key is connected to the others by shared
	// identifiers (two keys in one message: an email address, a phone or
	// an order number written next to the author's own id) or by ops.
	Confirmed Strength = "confirmed"
	// Probable: some keys are connected only by a probable link: the same
	// display name on two channels within the window, and one of the
	// messages refers to the other channel.
	Probable Strength = "probable"
)

// Who made a link.
const (
	byMessage = "message" // keys in one message
	byName    = "name"    // a probable link by name and reference
	byOps     = "ops"     // customers link
)

// KV key prefixes. Keys hold no personal data: identity keys and names are
// hashed, and customer records live under random slot names.
const (
	prefixKey    = "k." // k.<hash(identity key)> → keyRecord
	prefixRecord = "c." // c.<slot> → record
	prefixName   = "n." // n.<hash(normalized name)> → nameEntry
	prefixItems  = "i." // i.<hash(identity key)> (items bucket) → item, with history
)

// hashOf turns a string into a KV key token.
func hashOf(kind, s string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func keyHash(k identity.Key) string { return hashOf("key", string(k)) }
func nameHash(n string) string      { return hashOf("name", n) }

// fingerprint is a 32-bit digest of a key, used where the store only needs
// to count distinct keys (a key's peers): it cannot be turned back into
// the key, and so many keys share each value that it does not identify
// one either.
func fingerprint(k identity.Key) uint32 {
	h := sha256.Sum256([]byte("peer\x00" + string(k)))
	return binary.BigEndian.Uint32(h[:4])
}

// customerID is the stable id of a customer whose earliest key is k.
func customerID(k string) string { return "c" + hashOf("customer", k)[:16] }

// newSlot returns a random slot name.
func newSlot() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// keyRecord is stored at k.<hash(key)>: which customer holds the key, or
// that it is shared by too many to identify anyone.
type keyRecord struct {
	Key string `json:"key"`
	// Slot is the customer record holding the key ("" for none). On a hub
	// it is the customer the key is still being taken out of.
	Slot string `json:"slot,omitempty"`
	// Claim is the token of the operation that claimed the key for Slot;
	// until Slot's record lists the key, other writers wait for it (see
	// Store.lookup).
	Claim string `json:"claim,omitempty"`
	// Peers are fingerprints of the person keys seen in messages with this
	// one, up to MaxPeers+1.
	Peers []uint32 `json:"peers,omitempty"`
	// Hub marks a key seen with more than MaxPeers person keys: a shared
	// address or phone. It links nothing and identifies nobody.
	Hub bool `json:"hub,omitempty"`
	// Names are the name-index entries that list this key (hashes), so
	// that forgetting it can remove it there.
	Names []string `json:"names,omitempty"`
}

// record is one customer, stored at c.<slot>.
type record struct {
	Slot string `json:"slot"`
	// Keys are the customer's identity keys.
	Keys []member `json:"keys,omitempty"`
	// Links are the evidence that joins them: each is a set of keys seen
	// together (in one message, by ops, or by name).
	Links []link `json:"links,omitempty"`
	// Apart lists pairs of keys ops separated: they are never joined again.
	Apart [][2]string `json:"apart,omitempty"`
	// Former are the slots merged into this one; their forward records are
	// deleted with this one.
	Former []string `json:"former,omitempty"`
	// Forward is set when this slot was merged into another. While a
	// merge is incomplete the record keeps its data, so that whoever reads
	// it can finish the merge; afterwards only Slot and Forward remain.
	Forward string `json:"forward,omitempty"`
	// Via is the link that justified the merge, added to the target with
	// this record's data.
	Via *link `json:"via,omitempty"`
	// Parts are customers split off this one whose own records may not be
	// written yet; whoever reads this record finishes the split.
	Parts []record `json:"parts,omitempty"`
	// derived holds what is computed from the record once it is decoded
	// (it is then shared read-only by all readers).
	derived *derived
	// Origin is the customer this one was split off, until that split is
	// known to be complete (every key re-pointed here): before keys move
	// on from here, the split is finished, so that no late re-pointing
	// sends a key to a record that no longer holds it.
	Origin string `json:"origin,omitempty"`
}

// member is one key of a customer.
type member struct {
	Key string `json:"key"`
	// First is when the earliest message with the key was written
	// (created_at, not when it was processed, so it does not depend on the
	// order messages arrive in); Last, the latest, to within touchEvery.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Channels are the channels of the messages this key was the primary
	// key of (the author's own id, else the first identifier found), so
	// that a split customer's channels go with its keys.
	Channels map[string]span `json:"channels,omitempty"`
}

// link joins keys.
type link struct {
	Keys     []string  `json:"keys"` // sorted
	Strength Strength  `json:"strength"`
	By       string    `json:"by"`
	Item     string    `json:"item,omitempty"` // the envelope that made it
	At       time.Time `json:"at"`
}

// span is a first and last time.
type span struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// clone returns a deep copy of r, to change without touching the cached
// original.
func (r *record) clone() *record {
	c := *r
	c.Keys = make([]member, len(r.Keys))
	for i, m := range r.Keys {
		c.Keys[i] = m
		if m.Channels != nil {
			c.Keys[i].Channels = make(map[string]span, len(m.Channels))
			for k, v := range m.Channels {
				c.Keys[i].Channels[k] = v
			}
		}
	}
	c.Links = make([]link, len(r.Links))
	for i, l := range r.Links {
		c.Links[i] = l
		c.Links[i].Keys = slices.Clone(l.Keys)
	}
	c.Apart = slices.Clone(r.Apart)
	c.Former = slices.Clone(r.Former)
	if r.Via != nil {
		v := *r.Via
		v.Keys = slices.Clone(v.Keys)
		c.Via = &v
	}
	c.derived = nil
	c.Parts = nil
	for _, p := range r.Parts {
		c.Parts = append(c.Parts, *p.clone())
	}
	return &c
}

func (r *record) has(k string) bool { return r.index(k) >= 0 }

func (r *record) index(k string) int {
	for i, m := range r.Keys {
		if m.Key == k {
			return i
		}
	}
	return -1
}

// earliest returns the key the customer id derives from: the one with the
// earliest First, ties broken by the smaller key. Both are properties of
// the set of messages, not of the order they were processed in.
func (r *record) earliest() string {
	best := -1
	for i, m := range r.Keys {
		if best < 0 || m.First.Before(r.Keys[best].First) || m.First.Equal(r.Keys[best].First) && m.Key < r.Keys[best].Key {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return r.Keys[best].Key
}

// derived is what Observe reports about a record, computed once per
// decoded revision.
type derived struct {
	id       string
	strength Strength
	channels []string
}

// derive fills r.derived; load calls it before the record is shared.
func (r *record) derive() {
	r.derived = &derived{id: r.computeID(), strength: r.computeStrength(), channels: r.computeChannelNames()}
}

// id is the customer's stable id ("" for a record without keys).
func (r *record) id() string {
	if r.derived != nil {
		return r.derived.id
	}
	return r.computeID()
}

func (r *record) computeID() string {
	if e := r.earliest(); e != "" {
		return customerID(e)
	}
	return ""
}

// strength is Confirmed when the confirmed links alone connect every key.
func (r *record) strength() Strength {
	if r.derived != nil {
		return r.derived.strength
	}
	return r.computeStrength()
}

func (r *record) computeStrength() Strength {
	if len(r.Keys) <= 1 {
		return Confirmed
	}
	if len(r.components(func(l link) bool { return l.Strength == Confirmed })) > 1 {
		return Probable
	}
	return Confirmed
}

// channels returns the channels the customer wrote on, with the first and
// last time, merged over its keys.
func (r *record) channels() map[string]span {
	out := map[string]span{}
	for _, m := range r.Keys {
		for c, s := range m.Channels {
			if o, ok := out[c]; ok {
				if o.First.Before(s.First) {
					s.First = o.First
				}
				if o.Last.After(s.Last) {
					s.Last = o.Last
				}
			}
			out[c] = s
		}
	}
	return out
}

// channelNames lists the channels seen, sorted (shared: do not change).
func (r *record) channelNames() []string {
	if r.derived != nil {
		return r.derived.channels
	}
	return r.computeChannelNames()
}

func (r *record) computeChannelNames() []string {
	var out []string
	for _, m := range r.Keys {
		for c := range m.Channels {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// components groups the record's keys by the links use accepts (nil: all),
// each group sorted, groups ordered by their first key.
func (r *record) components(use func(link) bool) [][]string {
	parent := make(map[string]string, len(r.Keys))
	find := func(k string) string {
		for parent[k] != k {
			parent[k] = parent[parent[k]]
			k = parent[k]
		}
		return k
	}
	for _, m := range r.Keys {
		parent[m.Key] = m.Key
	}
	for _, l := range r.Links {
		if use != nil && !use(l) {
			continue
		}
		var first string
		for _, k := range l.Keys {
			if _, ok := parent[k]; !ok {
				continue
			}
			if first == "" {
				first = k
				continue
			}
			a, b := find(first), find(k)
			if a != b {
				if a < b {
					parent[b] = a
				} else {
					parent[a] = b
				}
			}
		}
	}
	groups := map[string][]string{}
	for _, m := range r.Keys {
		root := find(m.Key)
		groups[root] = append(groups[root], m.Key)
	}
	out := make([][]string, 0, len(groups))
	for _, g := range groups {
		slices.Sort(g)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// addLink adds l unless an existing link of at least its strength already
// contains its keys; links l makes redundant are dropped. It reports
// whether anything changed.
func (r *record) addLink(l link) bool {
	if len(l.Keys) < 2 {
		return false
	}
	for _, e := range r.Links {
		if stronger(e.Strength, l.Strength) && subset(l.Keys, e.Keys) {
			return false
		}
	}
	r.Links = slices.DeleteFunc(r.Links, func(e link) bool {
		return stronger(l.Strength, e.Strength) && subset(e.Keys, l.Keys)
	})
	r.Links = append(r.Links, l)
	return true
}

// stronger reports whether a is at least as strong as b.
func stronger(a, b Strength) bool { return a == Confirmed || b == Probable }

// subset reports whether every element of a (sorted) is in b (sorted).
func subset(a, b []string) bool {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			return false
		}
	}
	return true
}

// apart reports whether keys holds both keys of one of pairs.
func apart(pairs [][2]string, has func(string) bool) (bool, [2]string) {
	for _, p := range pairs {
		if has(p[0]) && has(p[1]) {
			return true, p
		}
	}
	return false, [2]string{}
}

// absorb adds o's keys, links, channels, apart pairs and former slots to r.
func (r *record) absorb(o *record) {
	for _, m := range o.Keys {
		r.addMember(m)
	}
	for _, l := range o.Links {
		r.addLink(l)
	}
	for _, p := range o.Apart {
		r.addApart(p)
	}
	for _, f := range append(slices.Clip(o.Former), o.Slot) {
		if f != r.Slot && !slices.Contains(r.Former, f) {
			r.Former = append(r.Former, f)
		}
	}
}

// addMember adds m, or widens the times of the key already there. It
// reports whether anything changed.
func (r *record) addMember(m member) bool {
	i := r.index(m.Key)
	if i < 0 {
		r.Keys = append(r.Keys, m)
		return true
	}
	changed := r.Keys[i].widen(m.First, m.Last, 0)
	for c, s := range m.Channels {
		changed = r.Keys[i].see(c, s.First, s.Last, 0) || changed
	}
	return changed
}

// widen moves First back to first and Last forward to last; Last only
// when it moves by more than slack (a write per message just to say
// "still active" would cost more than it tells).
func (m *member) widen(first, last time.Time, slack time.Duration) bool {
	changed := false
	if first.Before(m.First) {
		m.First, changed = first, true
	}
	if last.Sub(m.Last) > slack {
		m.Last, changed = last, true
	}
	return changed
}

// see records a message of this key on channel, like widen.
func (m *member) see(channel string, first, last time.Time, slack time.Duration) bool {
	s, ok := m.Channels[channel]
	if !ok {
		if m.Channels == nil {
			m.Channels = map[string]span{}
		}
		m.Channels[channel] = span{First: first, Last: last}
		return true
	}
	changed := false
	if first.Before(s.First) {
		s.First, changed = first, true
	}
	if last.Sub(s.Last) > slack {
		s.Last, changed = last, true
	}
	if changed {
		m.Channels[channel] = s
	}
	return changed
}

func (r *record) addApart(p [2]string) {
	if p[1] < p[0] {
		p[0], p[1] = p[1], p[0]
	}
	if !slices.Contains(r.Apart, p) {
		r.Apart = append(r.Apart, p)
	}
}

// part returns the part of r made of keys (links restricted to them, apart
// pairs that name one of them), under slot.
func (r *record) part(slot string, keys []string) record {
	in := func(k string) bool { return slices.Contains(keys, k) }
	p := record{Slot: slot}
	for _, m := range r.Keys {
		if in(m.Key) {
			p.Keys = append(p.Keys, m)
		}
	}
	for _, l := range r.Links {
		var ks []string
		for _, k := range l.Keys {
			if in(k) {
				ks = append(ks, k)
			}
		}
		if len(ks) >= 2 {
			l.Keys = ks
			p.addLink(l)
		}
	}
	for _, a := range r.Apart {
		if in(a[0]) || in(a[1]) {
			p.addApart(a)
		}
	}
	return p
}
