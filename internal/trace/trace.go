// Package trace answers "where did it go, and why" for one item: its
// decision record (router/decisions) with the envelope it was routed from
// (the ingest stream), and finds items by team, channel, text and time.
// The HTTP API (GET /v1/messages/{id}, GET /v1/messages), the console and
// the trace and messages commands all look items up through it; it also
// formats a trace and a result page for people.
package trace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/decisions"
)

// Trace is what Switchboard knows about one item.
type Trace struct {
	// ID is the envelope id.
	ID string `json:"id"`
	// Envelope is the item as ingested; nil when the ingest stream no
	// longer holds it (EnvelopeError says why).
	Envelope      *message.Envelope `json:"envelope,omitempty"`
	EnvelopeError string            `json:"envelope_error,omitempty"`
	// Decision is the decision record: teams, why, deliveries and the
	// history (first routing, retries, dead letters, reroutes, replays).
	Decision *decisions.Record `json:"decision"`
}

// Finder looks items up; *Source is one.
type Finder interface {
	// Trace returns the item id's trace; errors wrap decisions.ErrNotFound
	// when there is no record.
	Trace(ctx context.Context, id string) (*Trace, error)
	// Search returns a page of records, most recently changed first.
	Search(ctx context.Context, q decisions.Query) (*decisions.Page, error)
}

// Source reads traces from JetStream.
type Source struct {
	// JS is the JetStream API.
	JS jetstream.JetStream
	// IngestStream is the ingest stream's name (the envelope of a record is
	// at its Seq there).
	IngestStream string
	// Records is the decision record store.
	Records *decisions.Store
}

// Trace returns the item id's decision record and envelope.
func (s *Source) Trace(ctx context.Context, id string) (*Trace, error) {
	rec, err := s.Records.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	t := &Trace{ID: id, Decision: rec}
	env, err := s.envelope(ctx, rec)
	if err != nil {
		t.EnvelopeError = err.Error()
	}
	t.Envelope = env
	return t, nil
}

// envelope reads the record's envelope from the ingest stream.
func (s *Source) envelope(ctx context.Context, rec *decisions.Record) (*message.Envelope, error) {
	if rec.Seq == 0 {
		return nil, errors.New("the record names no ingest message")
	}
	st, err := s.JS.Stream(ctx, s.IngestStream)
	if err != nil {
		return nil, fmt.Errorf("opening ingest stream %s: %w", s.IngestStream, err)
	}
	m, err := st.GetMsg(ctx, rec.Seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("ingest message %d is no longer kept (older than the ingest stream's max_age, or erased)", rec.Seq)
	}
	if err != nil {
		return nil, fmt.Errorf("reading ingest message %d: %w", rec.Seq, err)
	}
	var env message.Envelope
	if err := json.Unmarshal(m.Data, &env); err != nil {
		return nil, fmt.Errorf("ingest message %d is not an envelope: %w", rec.Seq, err)
	}
	if env.ID != rec.ID {
		return nil, fmt.Errorf("ingest message %d holds %q, not this item", rec.Seq, env.ID)
	}
	return &env, nil
}

// Search returns the records q selects, most recently changed first.
func (s *Source) Search(ctx context.Context, q decisions.Query) (*decisions.Page, error) {
	return s.Records.Search(ctx, q)
}
