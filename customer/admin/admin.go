// Package admin is what ops do with customers across every place
// Switchboard keeps them: show a customer with their cases and recent
// items, link two keys ops know are one customer, unlink keys linked by
// mistake, and forget a customer for a GDPR erasure request — identity,
// cases, conversation entries and, when asked, their messages and decision
// records. The CLI (switchboard customers) and the HTTP API
// (/v1/customers/...) both call it.
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/identity"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/streamstore"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/cases"
	"github.com/switchboard/switchboard/router/conversation"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
)

// Admin works on customers. Customers is required; a nil Cases, Records,
// Threads, Corrections or Dead is skipped (that part of Switchboard is off,
// or has stored nothing yet).
type Admin struct {
	Customers   *customer.Store
	Cases       *cases.Store
	Records     *decisions.Store
	Threads     *router.Threads
	Corrections *corrections.Store
	Dead        *router.DeadLetters
	// JS, IngestStream and TeamStream locate the ingest stream and the
	// NATS team queues, for forgetting messages.
	JS                       jetstream.JetStream
	IngestStream, TeamStream string
}

// KeyError is a key that does not parse.
type KeyError struct {
	Key string
	Err error
}

// Error says which key and why.
func (e *KeyError) Error() string { return fmt.Sprintf("key %q: %v", e.Key, e.Err) }

// Unwrap returns the parse error.
func (e *KeyError) Unwrap() error { return e.Err }

// parseKey parses s as an identity key.
func (a *Admin) parseKey(s string) (identity.Key, error) {
	k, err := a.Customers.ParseKey(s)
	if err != nil {
		return "", &KeyError{Key: s, Err: err}
	}
	return k, nil
}

// Profile is everything known about one customer.
type Profile struct {
	Customer *customer.Customer `json:"customer"`
	// Cases are the customer's cases, newest first (open ones included).
	Cases []cases.Case `json:"cases,omitempty"`
}

// Show returns the customer holding key (any form customer.Store.ParseKey
// accepts: "email:matti@example.fi", "phone:040 123 4567", "x:2001").
func (a *Admin) Show(ctx context.Context, key string) (*Profile, error) {
	k, err := a.parseKey(key)
	if err != nil {
		return nil, err
	}
	c, err := a.Customers.Show(ctx, k)
	if err != nil {
		return nil, err
	}
	p := &Profile{Customer: c}
	if a.Cases != nil {
		if p.Cases, err = a.Cases.List(ctx, c.ID); err != nil {
			return nil, fmt.Errorf("showing %s: %w", key, err)
		}
	}
	return p, nil
}

// Link joins the customers of keys x and y (ops know they are one) and
// moves the cases of a customer whose id changed.
func (a *Admin) Link(ctx context.Context, x, y string) (*customer.Customer, []customer.Change, error) {
	kx, err := a.parseKey(x)
	if err != nil {
		return nil, nil, err
	}
	ky, err := a.parseKey(y)
	if err != nil {
		return nil, nil, err
	}
	c, changes, err := a.Customers.Link(ctx, kx, ky)
	if err != nil {
		return nil, nil, err
	}
	return c, changes, a.moveCases(ctx, changes)
}

// Unlink separates keys x and y, linked by mistake; they are never joined
// again.
func (a *Admin) Unlink(ctx context.Context, x, y string) ([]customer.Change, error) {
	kx, err := a.parseKey(x)
	if err != nil {
		return nil, err
	}
	ky, err := a.parseKey(y)
	if err != nil {
		return nil, err
	}
	changes, err := a.Customers.Unlink(ctx, kx, ky)
	if err != nil {
		return nil, err
	}
	return changes, a.moveCases(ctx, changes)
}

func (a *Admin) moveCases(ctx context.Context, changes []customer.Change) error {
	if a.Cases == nil {
		return nil
	}
	for _, ch := range changes {
		if len(ch.To) == 0 {
			continue
		}
		if err := a.Cases.Move(ctx, ch.From, ch.To[0], time.Now().UTC()); err != nil {
			return fmt.Errorf("moving the cases of %s to %s: %w", ch.From, ch.To[0], err)
		}
	}
	return nil
}

// Erased is what Forget removed.
type Erased struct {
	// Customer is the identity removed: the customer id and its keys.
	Customer *customer.Forgotten `json:"customer"`
	// Cases are the customer's cases, removed.
	Cases []cases.Case `json:"cases,omitempty"`
	// Items are the customer's items found (recent items and decision
	// records naming the customer).
	Items []string `json:"items"`
	// Conversations are the private conversations whose entry in the
	// conversation map was removed.
	Conversations []string `json:"conversations,omitempty"`
	// Records counts decision records removed (with messages) or cleared
	// of the customer (without).
	Records int `json:"records"`
	// Messages are the ingest stream sequences deleted (with messages).
	Messages []uint64 `json:"messages,omitempty"`
	// TeamCopies counts routed copies deleted from the NATS team queues
	// (with messages).
	TeamCopies int `json:"team_copies,omitempty"`
	// Corrections counts operators' corrections of the items deleted (with
	// messages): they hold the start of the text.
	Corrections int `json:"corrections,omitempty"`
	// DeadLetters are the dead-letter stream sequences deleted (with
	// messages): they hold the whole envelope.
	DeadLetters []uint64 `json:"dead_letters,omitempty"`
}

// Forget erases the customer holding key: their identity record and keys,
// cases and conversation-map entries; with messages also their messages in
// the ingest stream (per-message delete), their routed copies in the NATS
// team queues, their decision records (which hold a snippet of the text),
// the operators' corrections of them and their dead letters; without, the
// decision records only lose the link to the customer. Copies already
// delivered to a Redis stream or a webhook are the teams' to delete
// (docs/customers.md). It returns what it removed
// even when it stops on an error; run it again to finish.
func (a *Admin) Forget(ctx context.Context, key string, messages bool) (*Erased, error) {
	k, err := a.parseKey(key)
	if err != nil {
		return nil, err
	}
	// Find the items while the identity still says whose they are.
	out := &Erased{}
	var id string
	if c, err := a.Customers.Show(ctx, k); err == nil {
		id = c.ID
		for _, it := range c.Recent {
			out.Items = appendNew(out.Items, it.ID)
		}
	} else if !errors.Is(err, customer.ErrUnknownKey) && !errors.Is(err, customer.ErrSharedKey) {
		return nil, fmt.Errorf("forgetting %s: %w", key, err)
	}
	var records []*decisions.Record
	if a.Records != nil && id != "" {
		if records, err = a.recordsOf(ctx, id); err != nil {
			return out, fmt.Errorf("forgetting %s: finding their decision records: %w", key, err)
		}
		for _, r := range records {
			out.Items = appendNew(out.Items, r.ID)
		}
	}
	forgotten, err := a.Customers.Forget(ctx, k)
	if err != nil {
		return out, err
	}
	out.Customer = forgotten
	for _, it := range forgotten.Items {
		out.Items = appendNew(out.Items, it)
	}
	if id == "" {
		id = forgotten.ID
	}
	if a.Cases != nil && id != "" {
		if out.Cases, err = a.Cases.Forget(ctx, id); err != nil {
			return out, fmt.Errorf("forgetting %s: %w", key, err)
		}
	}
	// Records of items found only through recent items.
	if a.Records != nil {
		for _, item := range out.Items {
			if slices.ContainsFunc(records, func(r *decisions.Record) bool { return r.ID == item }) {
				continue
			}
			r, err := a.Records.Get(ctx, item)
			if errors.Is(err, decisions.ErrNotFound) {
				continue
			}
			if err != nil {
				return out, fmt.Errorf("forgetting %s: %w", key, err)
			}
			records = append(records, r)
		}
	}
	if messages && a.JS != nil {
		if err := a.deleteCopies(ctx, records, out); err != nil {
			return out, fmt.Errorf("forgetting %s: %w", key, err)
		}
	}
	for _, r := range records {
		if err := a.forgetItem(ctx, r, messages, out); err != nil {
			return out, fmt.Errorf("forgetting %s: %w", key, err)
		}
	}
	if messages {
		if err := a.forgetKept(ctx, out); err != nil {
			return out, fmt.Errorf("forgetting %s: %w", key, err)
		}
	}
	return out, nil
}

// forgetKept deletes what ops kept of out's items besides the messages:
// the operators' corrections and the dead letters.
func (a *Admin) forgetKept(ctx context.Context, out *Erased) error {
	if a.Corrections != nil {
		for _, item := range out.Items {
			n, err := a.Corrections.Delete(ctx, item)
			out.Corrections += n
			if err != nil {
				return err
			}
		}
	}
	if a.Dead != nil && len(out.Items) > 0 {
		ids := make(map[string]bool, len(out.Items))
		for _, item := range out.Items {
			ids[item] = true
		}
		seqs, err := a.Dead.Forget(ctx, ids)
		out.DeadLetters = append(out.DeadLetters, seqs...)
		if err != nil {
			return err
		}
	}
	return nil
}

// forgetItem removes what one item left behind.
func (a *Admin) forgetItem(ctx context.Context, r *decisions.Record, messages bool, out *Erased) error {
	env := &message.Envelope{ID: r.ID, Channel: r.Channel, Kind: message.Kind(r.Kind), ThreadID: r.ThreadID}
	if a.Threads != nil && conversation.Private(env) {
		if err := a.Threads.Forget(ctx, r.Channel, r.ThreadID); err != nil {
			return err
		}
		out.Conversations = appendNew(out.Conversations, conversation.Key(env))
	}
	if !messages {
		_, err := a.Records.Update(ctx, r.ID, func(cur *decisions.Record) (*decisions.Record, error) {
			if cur == nil || cur.Customer == nil {
				return nil, nil
			}
			cur.Customer, cur.Case = nil, nil
			return cur, nil
		})
		if err == nil {
			out.Records++
		}
		return err
	}
	ok, err := a.Records.Delete(ctx, r.ID)
	if ok {
		out.Records++
	}
	return err
}

// copyWindow is how far around the times a record gives its item's
// copies are looked for in a stream.
const copyWindow = 2 * time.Minute

// deleteCopies deletes every copy of the records' items: in the ingest
// stream the message and the copies a reroute or a dead-letter replay
// published (a record keeps only the last one's sequence), between the
// first item's arrival and the last record's change; in the NATS team
// stream the routed copies, between the first routing and the last
// delivery. Each stream is read once and searched in full before anything
// in it is deleted: deleting inside a stream before a search by time can
// make the server start that search past what it should find.
func (a *Admin) deleteCopies(ctx context.Context, records []*decisions.Record, out *Erased) error {
	var ingest, team span
	for _, r := range records {
		ingest.add(r.ID, r.ReceivedAt, r.UpdatedAt)
		for _, d := range r.Delivery {
			if d.OK {
				team.add(r.ID, r.RoutedAt, d.At)
			}
		}
	}
	if a.TeamStream != "" {
		seqs, err := a.deleteIn(ctx, a.TeamStream, "a routed copy", team)
		out.TeamCopies = len(seqs)
		if err != nil {
			return err
		}
	}
	if a.IngestStream != "" {
		seqs, err := a.deleteIn(ctx, a.IngestStream, "a message", ingest)
		out.Messages = append(out.Messages, seqs...)
		if err != nil {
			return err
		}
	}
	return nil
}

// span is the items to find in a stream and the time they were stored in.
type span struct {
	ids        map[string]bool
	start, end time.Time
}

// add widens s to item id, stored between from and to.
func (s *span) add(id string, from, to time.Time) {
	if s.ids == nil {
		s.ids = map[string]bool{}
	}
	s.ids[id] = true
	if s.start.IsZero() || from.Before(s.start) {
		s.start = from
	}
	if to.After(s.end) {
		s.end = to
	}
}

// deleteIn reads stream once over s's time (widened by copyWindow),
// deletes every message whose JSON id is one of s's items and returns the
// sequences deleted; what names such a message in errors.
func (a *Admin) deleteIn(ctx context.Context, stream, what string, s span) ([]uint64, error) {
	if len(s.ids) == 0 {
		return nil, nil
	}
	start, end := s.start.Add(-copyWindow), s.end.Add(copyWindow)
	st, err := a.JS.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", stream, err)
	}
	occ := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start}
	var found []uint64
	err = streamstore.ReadWhile(ctx, a.JS, stream, occ, time.Second, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if meta.Timestamp.After(end) {
			return false
		}
		var item struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(m.Data(), &item) == nil && s.ids[item.ID] {
			found = append(found, meta.Sequence.Stream)
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", stream, err)
	}
	for i, seq := range found {
		if err := st.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) && !isNotFound(err) {
			return found[:i], fmt.Errorf("deleting %s (%s sequence %d): %w", what, stream, seq, err)
		}
	}
	return found, nil
}

// recordsOf returns every decision record that names the customer.
func (a *Admin) recordsOf(ctx context.Context, id string) ([]*decisions.Record, error) {
	var out []*decisions.Record
	q := decisions.Query{Customer: id, Limit: 500}
	for {
		p, err := a.Records.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Records...)
		if p.Next == 0 {
			return out, nil
		}
		q.Before = p.Next
	}
}

func appendNew(list []string, v string) []string {
	if v == "" || slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// isNotFound reports JetStream's "no message found" API error, which a
// deleted or expired sequence answers.
func isNotFound(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeMessageNotFound
}
