// Package customer links the identity keys of messages into customers and
// keeps them in JetStream KV: who wrote this, on which channels have they
// written, and is it the person who wrote on another channel yesterday.
//
// # Model
//
// Package identity turns an envelope into keys ("fb:7011223344",
// "email:matti@example.fi", "phone:+358401234567", "order:1180442", …).
// A customer is a set of keys joined by links:
//
//   - confirmed: keys that occur in one message (the author's id and an
//     address, phone or order number in the text), or that ops linked;
//   - probable: the same normalized display name on two channels within
//     Config.ProbableWindow, and one of the messages refers to the other
//     channel ("laitoin sähköpostia", "I DM'd you") — never the name alone,
//     and only when exactly one author with that name wrote on the
//     referred channel in the window (a second one takes the link back).
//
// A customer is Confirmed when its confirmed links alone connect all its
// keys, else Probable. False links are worse than missed ones, so a key
// seen with more than Config.MaxPeers person keys (an office switchboard,
// a family or support address) is shared: it leaves its customer and
// links nothing again; a customer never grows beyond Config.MaxKeys; a
// name used by more than eight authors links nothing; and keys ops
// unlinked are never joined again until ops link them.
//
// # Ids and order
//
// A customer's id is derived from its earliest key: the key whose
// earliest message was written first (created_at, not processing time),
// ties broken by the smaller key. The partition of keys into customers
// is a function of the set of messages — the links are kept as evidence
// and customers are recomputed from it when a key turns out shared or a
// probable link is taken back — and so is the id: the same messages in
// any order, by any number of workers or processes, give the same
// customers with the same ids. Caps (MaxKeys, MaxLinks), the bounded name
// index and ops' link and unlink make the outcome depend on order when
// they take effect; they refuse rather than guess, and say so in
// Result.Skipped. When a message changes a customer's id (a merge, an
// earlier key joining, a split) Result.Changes says from which to which,
// so that what is kept per id (open cases) can follow.
//
// # Storage
//
// One KV bucket (Config.Bucket) holds, under keys that carry no personal
// data: k.<hash(key)> → which customer holds the key (or that it is
// shared); c.<random slot> → the customer record (keys with first and
// last time and channels, links, ops' unlinks); n.<hash(name)> → who wrote
// under a display name on which channel when, and which messages referred
// to another channel. A second bucket (Bucket+"_items") keeps the last
// Config.RecentItems item ids per key as KV history, written without
// waiting for the ack. Every entry expires Config.TTL after it last
// changed; entries in use are rewritten every TTL/4.
//
// Every change is a compare-and-set of one entry, ordered so that a crash
// or a concurrent writer at any point leaves something the next reader
// finishes: a new key's pointer is claimed before the customer record
// lists it (others wait for a fresh claim, take over an abandoned one,
// and a failed attempt releases its claims); a merge first marks the
// merged-away record as forwarding (keeping its data and the justifying
// link), then the target absorbs it, keys are re-pointed and the
// forwarding record is stripped; a split writes the remaining part with
// the other parts pending, then creates them and re-points their keys.
//
// Reads go through an in-memory cache kept fresh by a KV watch, so a
// message of a known customer that tells nothing new costs no round trip
// and no write (besides the recent item). See docs/customers.md.
package customer
