// Package cases keeps customers' cases: one customer's matter with one
// team, opened by the customer's first routed item for that team and joined
// by the items that follow while it is open. A case is open until a
// response closes it or until the customer has been quiet for the window
// ops set (default 2 hours). The router asks for a customer's open cases
// before it decides and adds the item to one after (see
// router/conversation); the response tracker closes cases; a GDPR erasure
// forgets them.
//
// State is one JetStream KV entry per customer, updated with optimistic
// concurrency, bounded in cases and items per case, expiring with the
// bucket's TTL after the customer's last activity.
package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/router/conversation"
)

// Config says where cases are kept and how long they stay open.
type Config struct {
	// Bucket is the KV bucket's name.
	Bucket string
	// Window is how long a case stays open after its last item.
	Window time.Duration
	// TTL is how long a customer's cases are kept after their last change
	// (open or closed), for traces and ops.
	TTL time.Duration
	// Replicas is the bucket's replica count.
	Replicas int
}

// Limits that keep one customer's entry small.
const (
	maxCases        = 20 // the oldest closed cases go first
	maxItemsPerCase = 50 // the first item and the latest are kept
	maxTries        = 8  // optimistic-concurrency retries of one change
)

// Case is one customer's matter with one team.
type Case struct {
	// ID is the case id ("k" and 16 hex digits).
	ID string `json:"id"`
	// Team owns the case.
	Team string `json:"team"`
	// Opened and Last are when the case's first and latest items came.
	Opened time.Time `json:"opened"`
	Last   time.Time `json:"last"`
	// Items are the envelope ids of the case's items, oldest first (the
	// first and the latest maxItemsPerCase-1 are kept).
	Items []string `json:"items"`
	// ItemCount counts every item the case had.
	ItemCount int `json:"item_count"`
	// Closed is when a response or ops closed the case (zero: not closed);
	// ClosedBy says who.
	Closed   time.Time `json:"closed,omitzero"`
	ClosedBy string    `json:"closed_by,omitempty"`
}

// Open reports whether c is open at now within window.
func (c *Case) Open(now time.Time, window time.Duration) bool {
	return c.Closed.IsZero() && now.Sub(c.Last) <= window
}

// entry is the stored value of one customer.
type entry struct {
	Customer string  `json:"customer"`
	Cases    []*Case `json:"cases"`
}

// Store keeps cases.
type Store struct {
	kv     jetstream.KeyValue
	window time.Duration
}

// Open creates (or updates) the cases bucket.
func Open(ctx context.Context, js jetstream.JetStream, c Config) (*Store, error) {
	if c.Bucket == "" || c.Window <= 0 || c.TTL < c.Window {
		return nil, errors.New("cases: a bucket, a positive window and a TTL no shorter than the window are required")
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      c.Bucket,
		Description: "Switchboard: each customer's cases (one customer's matter with one team)",
		History:     1,
		TTL:         c.TTL,
		Storage:     jetstream.FileStorage,
		Replicas:    max(c.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("creating or updating KV bucket %s: %w", c.Bucket, err)
	}
	return &Store{kv: kv, window: c.Window}, nil
}

func key(customer string) string {
	sum := sha256.Sum256([]byte(customer))
	return "c." + hex.EncodeToString(sum[:16])
}

// caseID is deterministic, so an item added twice (a redelivery) opens
// the same case.
func caseID(customer, team, item string) string {
	sum := sha256.Sum256([]byte(customer + "\x00" + team + "\x00" + item))
	return "k" + hex.EncodeToString(sum[:8])
}

// load returns the customer's entry and its revision (0: none).
func (s *Store) load(ctx context.Context, customer string) (*entry, uint64, error) {
	kve, err := s.kv.Get(ctx, key(customer))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return &entry{Customer: customer}, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the cases of %s: %w", customer, err)
	}
	var e entry
	if err := json.Unmarshal(kve.Value(), &e); err != nil || e.Customer != customer {
		// Unreadable (or a hash collision): start afresh over it.
		return &entry{Customer: customer}, kve.Revision(), nil
	}
	return &e, kve.Revision(), nil
}

// update applies change to the customer's entry and stores it, retrying on
// a concurrent change. change returns false to store nothing.
func (s *Store) update(ctx context.Context, customer string, change func(*entry) (bool, error)) error {
	for range maxTries {
		e, rev, err := s.load(ctx, customer)
		if err != nil {
			return err
		}
		ok, err := change(e)
		if err != nil || !ok {
			return err
		}
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encoding the cases of %s: %w", customer, err)
		}
		if rev == 0 {
			_, err = s.kv.Create(ctx, key(customer), data)
		} else {
			_, err = s.kv.Update(ctx, key(customer), data, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return fmt.Errorf("storing the cases of %s: %w", customer, err)
		}
	}
	return fmt.Errorf("storing the cases of %s: too many concurrent changes", customer)
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Open returns the customer's open cases, most recently active first.
func (s *Store) Open(ctx context.Context, customer string, now time.Time) ([]conversation.Case, error) {
	e, _, err := s.load(ctx, customer)
	if err != nil {
		return nil, err
	}
	var open []*Case
	for _, c := range e.Cases {
		if c.Open(now, s.window) {
			open = append(open, c)
		}
	}
	sort.SliceStable(open, func(i, j int) bool { return open[i].Last.After(open[j].Last) })
	out := make([]conversation.Case, len(open))
	for i, c := range open {
		out[i] = conversation.Case{ID: c.ID, Team: c.Team}
	}
	return out, nil
}

// Add adds item to join when it is set and still open, else to the
// customer's open case of team, else opens a case of team for it; it
// returns the case's id. An item already in a case stays there (a
// redelivery changes nothing).
func (s *Store) Add(ctx context.Context, customer, team, item string, join *conversation.Case, now time.Time) (string, error) {
	var id string
	err := s.update(ctx, customer, func(e *entry) (bool, error) {
		for _, c := range e.Cases {
			if slices.Contains(c.Items, item) {
				id = c.ID
				return false, nil
			}
		}
		var target *Case
		for _, c := range e.Cases {
			if !c.Open(now, s.window) {
				continue
			}
			if join != nil && c.ID == join.ID {
				target = c
				break
			}
			if target == nil && c.Team == team {
				target = c
			}
		}
		if target == nil {
			target = &Case{ID: caseID(customer, team, item), Team: team, Opened: now}
			e.Cases = append(e.Cases, target)
		}
		target.Items = appendBounded(target.Items, item)
		target.ItemCount++
		target.Last = now
		e.trim()
		id = target.ID
		return true, nil
	})
	return id, err
}

// Close closes the case id of customer (a response answered it, or ops
// closed it); by says who. Closing a closed or unknown case does nothing.
func (s *Store) Close(ctx context.Context, customer, id, by string, now time.Time) error {
	return s.update(ctx, customer, func(e *entry) (bool, error) {
		for _, c := range e.Cases {
			if c.ID == id && c.Closed.IsZero() {
				c.Closed, c.ClosedBy = now, by
				return true, nil
			}
		}
		return false, nil
	})
}

// List returns every case kept for the customer, newest first.
func (s *Store) List(ctx context.Context, customer string) ([]Case, error) {
	e, _, err := s.load(ctx, customer)
	if err != nil {
		return nil, err
	}
	out := make([]Case, 0, len(e.Cases))
	for _, c := range e.Cases {
		out = append(out, *c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Last.After(out[j].Last) })
	return out, nil
}

// Forget deletes every case of the customer (an erasure) and returns them.
func (s *Store) Forget(ctx context.Context, customer string) ([]Case, error) {
	list, err := s.List(ctx, customer)
	if err != nil {
		return nil, err
	}
	if err := s.kv.Purge(ctx, key(customer)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("deleting the cases of %s: %w", customer, err)
	}
	return list, nil
}

// Move gives the cases of customer from to customer to (two customers
// were found to be one and kept to's id). Cases of the same team that are
// both open are merged into to's. Moving a customer without cases does
// nothing.
func (s *Store) Move(ctx context.Context, from, to string, now time.Time) error {
	if from == to {
		return nil
	}
	moved, err := s.List(ctx, from)
	if err != nil || len(moved) == 0 {
		return err
	}
	err = s.update(ctx, to, func(e *entry) (bool, error) {
		for i := range moved {
			m := &moved[i]
			var into *Case
			for _, c := range e.Cases {
				if c.ID == m.ID || (c.Team == m.Team && c.Open(now, s.window) && m.Open(now, s.window)) {
					into = c
					break
				}
			}
			if into == nil {
				e.Cases = append(e.Cases, m)
				continue
			}
			for _, it := range m.Items {
				if !slices.Contains(into.Items, it) {
					into.Items = appendBounded(into.Items, it)
					into.ItemCount++
				}
			}
			if m.Last.After(into.Last) {
				into.Last = m.Last
			}
			if m.Opened.Before(into.Opened) {
				into.Opened = m.Opened
			}
		}
		e.trim()
		return true, nil
	})
	if err != nil {
		return err
	}
	if err := s.kv.Purge(ctx, key(from)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("deleting the moved cases of %s: %w", from, err)
	}
	return nil
}

// appendBounded appends item, keeping the first item and the latest ones.
func appendBounded(items []string, item string) []string {
	items = append(items, item)
	if len(items) > maxItemsPerCase {
		items = append(items[:1], items[len(items)-maxItemsPerCase+1:]...)
	}
	return items
}

// trim drops the oldest closed (or longest quiet) cases beyond maxCases.
func (e *entry) trim() {
	if len(e.Cases) <= maxCases {
		return
	}
	sort.SliceStable(e.Cases, func(i, j int) bool { return e.Cases[i].Last.After(e.Cases[j].Last) })
	e.Cases = e.Cases[:maxCases]
}
