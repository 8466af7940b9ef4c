package router

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/decisions"
)

// StateConfig names the JetStream key-value buckets the router keeps its
// state in.
type StateConfig struct {
	// ProgressBucket holds progress records of items being retried.
	ProgressBucket string
	// ThreadBucket holds the thread-to-team map; empty turns stickiness off.
	ThreadBucket string
	// ThreadTTL is how long a thread stays with its team after its last item.
	ThreadTTL time.Duration
	// Replicas is the buckets' replica count.
	Replicas int
}

// progressTTL bounds how long a progress record outlives an item that was
// never finished (it is deleted when the item is).
const progressTTL = 7 * 24 * time.Hour

// OpenState creates (or updates) the router's buckets. threads is nil when
// c.ThreadBucket is empty.
func OpenState(ctx context.Context, js jetstream.JetStream, c StateConfig) (progress *Progress, threads *Threads, err error) {
	replicas := max(c.Replicas, 1)
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      c.ProgressBucket,
		Description: "Switchboard router: routing decision and accepted targets of items being retried",
		History:     1,
		TTL:         progressTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("creating or updating KV bucket %s: %w", c.ProgressBucket, err)
	}
	progress = &Progress{kv: kv}
	if c.ThreadBucket == "" {
		return progress, nil, nil
	}
	if c.ThreadTTL <= 0 {
		return nil, nil, fmt.Errorf("thread bucket %s: the TTL must be positive", c.ThreadBucket)
	}
	tkv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      c.ThreadBucket,
		Description: "Switchboard router: thread to team map (thread stickiness)",
		History:     1,
		TTL:         c.ThreadTTL,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("creating or updating KV bucket %s: %w", c.ThreadBucket, err)
	}
	return progress, &Threads{kv: tkv, ttl: c.ThreadTTL, now: time.Now}, nil
}

// hashKey turns free text into a KV key token (KV keys allow only a small
// alphabet; envelope and thread ids hold anything).
func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Progress remembers, for an item being retried, the routing decision and
// which targets already accepted it, so that a retry delivers only what is
// missing (a webhook that accepted is not called again) and routes exactly
// as the first attempt did, even after a rules reload. Records are written
// only when an attempt leaves something to retry and deleted when the item
// is done, so the common path costs nothing. Losing a record is harmless:
// every target is idempotent by itself.
type Progress struct{ kv jetstream.KeyValue }

// progressRecord is the stored state of one ingest message (one stream
// sequence: a replayed copy of an envelope has its own).
type progressRecord struct {
	Seq      uint64   `json:"seq"`
	ID       string   `json:"id"`
	Version  string   `json:"rules_version"`
	Teams    []string `json:"teams"`
	Topics   []string `json:"topics,omitempty"`
	Priority string   `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Matched  []string `json:"matched,omitempty"`
	// Lang is the language the rules detected, for an item without one.
	Lang string `json:"lang,omitempty"`
	// Reason, Followed and Conversation say how the teams were chosen
	// (conversation.Resolve); a retry keeps them.
	Reason       string `json:"reason,omitempty"`
	Followed     string `json:"followed,omitempty"`
	Conversation string `json:"conversation,omitempty"`
	// Customer and Case link the item to its customer and case.
	Customer *message.Customer `json:"customer,omitempty"`
	Case     *message.Case     `json:"case,omitempty"`
	// Scores are the model's top teams, when the rules have a model.
	Scores []decisions.Score `json:"scores,omitempty"`
	// Route is the rules' deciding route; ModelDecided says the model
	// chose the team instead.
	Route        string `json:"route,omitempty"`
	ModelDecided bool   `json:"model_decided,omitempty"`
	// RerouteBy and RerouteNote are the operator's, for a reroute.
	RerouteBy   string    `json:"reroute_by,omitempty"`
	RerouteNote string    `json:"reroute_note,omitempty"`
	RoutedAt    time.Time `json:"routed_at"`
	// Done lists, per team, the ids of the targets that accepted the item.
	Done map[string][]string `json:"done,omitempty"`
	// Closed maps a finished team to "delivered" or its dead-letter reason.
	Closed map[string]string `json:"closed,omitempty"`
}

func (p *progressRecord) done(team, target string) bool { return slices.Contains(p.Done[team], target) }

func (p *progressRecord) markDone(team, target string) {
	if p.Done == nil {
		p.Done = map[string][]string{}
	}
	if !p.done(team, target) {
		p.Done[team] = append(p.Done[team], target)
	}
}

func (p *progressRecord) close(team, how string) {
	if p.Closed == nil {
		p.Closed = map[string]string{}
	}
	p.Closed[team] = how
}

func progressKey(id string, seq uint64) string {
	return "p." + hashKey(id) + "." + strconv.FormatUint(seq, 10)
}

// load returns the record of (id, seq), or nil when there is none.
func (p *Progress) load(ctx context.Context, id string, seq uint64) (*progressRecord, error) {
	e, err := p.kv.Get(ctx, progressKey(id, seq))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading progress of %s: %w", id, err)
	}
	var rec progressRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return nil, fmt.Errorf("decoding progress of %s: %w", id, err)
	}
	if rec.ID != id || rec.Seq != seq || len(rec.Teams) == 0 {
		return nil, nil // not ours (cannot happen short of a hash collision)
	}
	return &rec, nil
}

func (p *Progress) save(ctx context.Context, rec *progressRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding progress of %s: %w", rec.ID, err)
	}
	if _, err := p.kv.Put(ctx, progressKey(rec.ID, rec.Seq), data); err != nil {
		return fmt.Errorf("saving progress of %s: %w", rec.ID, err)
	}
	return nil
}

func (p *Progress) remove(ctx context.Context, id string, seq uint64) error {
	if err := p.kv.Purge(ctx, progressKey(id, seq)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("removing progress of %s: %w", id, err)
	}
	return nil
}

// Threads is the conversation map: for every private conversation (a
// Messenger chat, an X DM conversation, a mail thread, a web-form thread;
// see conversation.Private) the latest routed item and its teams, so that
// a follow-up whose text decides nothing goes where the conversation went
// last. An entry expires TTL after the conversation's last item.
//
// Entries written by earlier versions (the teams of a thread's first item,
// keyed the same way) read as the conversation's latest teams; entries of
// public threads (a post's comments) are never read any more and expire.
type Threads struct {
	kv  jetstream.KeyValue
	ttl time.Duration
	now func() time.Time
}

// threadEntry is the stored value of one conversation.
type threadEntry struct {
	// Teams received the conversation's latest routed item.
	Teams []string `json:"teams"`
	// Item is that item's envelope id.
	Item string `json:"item,omitempty"`
	// First is the item that claimed the thread (entries written by
	// earlier versions, which kept the first item).
	First string `json:"first,omitempty"`
	// Seen is when the conversation last had an item.
	Seen time.Time `json:"seen"`
}

func threadKey(channel, thread string) string { return "t." + hashKey(channel, thread) }

// latest returns the conversation's latest routed item, or nil.
func (t *Threads) latest(ctx context.Context, channel, thread string) (*threadEntry, error) {
	kve, err := t.kv.Get(ctx, threadKey(channel, thread))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the conversation map: %w", err)
	}
	var e threadEntry
	if err := json.Unmarshal(kve.Value(), &e); err != nil || len(e.Teams) == 0 {
		return nil, nil // unreadable: as if absent; the next put overwrites it
	}
	if e.Item == "" {
		e.Item = e.First
	}
	return &e, nil
}

// put records id, routed to teams, as the conversation's latest item.
func (t *Threads) put(ctx context.Context, channel, thread, id string, teams []string) error {
	data, err := json.Marshal(threadEntry{Teams: teams, Item: id, Seen: t.now().UTC()})
	if err != nil {
		return fmt.Errorf("encoding the conversation map entry: %w", err)
	}
	if _, err := t.kv.Put(ctx, threadKey(channel, thread), data); err != nil {
		return fmt.Errorf("updating the conversation map: %w", err)
	}
	return nil
}

// Forget deletes a conversation's entry (a customer's erasure).
func (t *Threads) Forget(ctx context.Context, channel, thread string) error {
	if err := t.kv.Purge(ctx, threadKey(channel, thread)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("deleting the conversation map entry: %w", err)
	}
	return nil
}

// maxTeamsScan bounds the progress records TeamsInUse reads.
const maxTeamsScan = 10000

// teams lists the teams the progress records name, none twice.
func (p *Progress) teams(ctx context.Context) ([]string, error) {
	lister, err := p.kv.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing progress records: %w", err)
	}
	defer func() { _ = lister.Stop() }()
	var teams []string
	n := 0
	for key := range lister.Keys() {
		if n++; n > maxTeamsScan {
			break
		}
		e, err := p.kv.Get(ctx, key)
		if err != nil {
			continue // finished meanwhile
		}
		var rec progressRecord
		if json.Unmarshal(e.Value(), &rec) != nil {
			continue
		}
		for _, t := range rec.Teams {
			if _, closed := rec.Closed[t]; !closed && !slices.Contains(teams, t) {
				teams = append(teams, t)
			}
		}
	}
	return teams, nil
}
