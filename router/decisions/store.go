package decisions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/streamstore"
)

// Config names the stream records are kept in.
type Config struct {
	// Stream is the stream's name.
	Stream string
	// Subjects is the subject prefix: a record is stored on
	// <Subjects>.<channel>.<hash of the id>.
	Subjects string
	// MaxAge is how long a record is kept after its last change (the
	// ingest stream's max_age, so a record lives as long as its item).
	MaxAge time.Duration
	// Replicas is the stream's replica count.
	Replicas int
}

// Store reads and writes decision records.
type Store struct {
	stream    *streamstore.Stream
	observers observers
}

// ErrNotFound is returned by Get for an id without a record.
var ErrNotFound = errors.New("no decision record")

// maxUpdateTries bounds optimistic-concurrency retries of one update.
const maxUpdateTries = 8

// Open creates (or updates) the records stream and returns its store.
func Open(ctx context.Context, js jetstream.JetStream, c Config) (*Store, error) {
	st, err := streamstore.Open(ctx, js, "decision records", c.Subjects, jetstream.StreamConfig{
		Name:              c.Stream,
		Description:       "Switchboard: the decision record of every routed item, one subject per item",
		MaxMsgsPerSubject: 1,
		MaxAge:            c.MaxAge,
		Replicas:          c.Replicas,
	})
	if err != nil {
		return nil, err
	}
	return &Store{stream: st}, nil
}

// Attach returns the store of an existing records stream without creating
// or changing it: for client tools, which must not redefine the daemon's
// stream. jetstream.ErrStreamNotFound means no daemon has recorded yet.
func Attach(ctx context.Context, js jetstream.JetStream, c Config) (*Store, error) {
	st, err := streamstore.Attach(ctx, js, "decision records", c.Stream, c.Subjects)
	if err != nil {
		return nil, err
	}
	return &Store{stream: st}, nil
}

// Subject is the subject the record of an item of channel with id is kept on.
func (s *Store) Subject(channel, id string) string {
	return s.stream.Subject(channel, id)
}

// Get returns the record of the item id.
func (s *Store) Get(ctx context.Context, id string) (*Record, error) {
	rec, _, err := s.get(ctx, id)
	return rec, err
}

// get returns the record and the stream sequence it is stored at.
func (s *Store) get(ctx context.Context, id string) (*Record, uint64, error) {
	channel, ok := channelOf(id)
	if !ok {
		return nil, 0, fmt.Errorf("looking up %q: %w", id, ErrNotFound)
	}
	m, err := s.stream.Handle.GetLastMsgForSubject(ctx, s.Subject(channel, id))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, 0, fmt.Errorf("looking up %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the decision record of %s: %w", id, err)
	}
	var rec Record
	if err := json.Unmarshal(m.Data, &rec); err != nil {
		return nil, 0, fmt.Errorf("decoding the decision record of %s: %w", id, err)
	}
	if rec.ID != id {
		return nil, 0, fmt.Errorf("looking up %s: %w", id, ErrNotFound) // a hash collision
	}
	return &rec, m.Sequence, nil
}

// channelOf returns the channel part of an envelope id ("<channel>:<source
// id>"). The channel becomes a subject token, so anything but a valid one
// (an id from an HTTP path: "a b:1", "x.>:1") is not an envelope id; a
// space in a subject would break the connection's protocol.
func channelOf(id string) (string, bool) {
	for i := 0; i < len(id); i++ {
		if id[i] == ':' {
			return id[:i], message.ValidToken(id[:i])
		}
	}
	return "", false
}

// ErrConflict is Put's answer when the record is not at the expected
// sequence: another writer changed it (or created it) meanwhile.
var ErrConflict = errors.New("the decision record changed meanwhile")

// Put stores rec as its item's record if the record is still at stream
// sequence expect (0: the item has no record yet), and returns the
// sequence it is stored at. It fails with ErrConflict otherwise. It is the
// one write of a record: a writer that knows the record (it wrote it last)
// stores the next version without reading it again.
func (s *Store) Put(ctx context.Context, rec *Record, expect uint64) (uint64, error) {
	channel, ok := channelOf(rec.ID)
	if !ok {
		return 0, fmt.Errorf("storing the decision record of %q: not an envelope id", rec.ID)
	}
	rec.V, rec.Channel = RecordVersion, channel
	data, err := json.Marshal(rec)
	if err != nil {
		return 0, fmt.Errorf("encoding the decision record of %s: %w", rec.ID, err)
	}
	ack, err := s.stream.JS.Publish(ctx, s.Subject(channel, rec.ID), data, jetstream.WithExpectLastSequencePerSubject(expect))
	if isWrongLastSequence(err) {
		return 0, fmt.Errorf("storing the decision record of %s: %w", rec.ID, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("storing the decision record of %s: %w", rec.ID, err)
	}
	s.observers.notify(rec)
	return ack.Sequence, nil
}

// Update applies change to the item's record and stores the result,
// retrying when another writer changed the record meanwhile. change gets
// nil when the item has no record yet; it returns the record to store, or
// nil to store nothing.
func (s *Store) Update(ctx context.Context, id string, change func(*Record) (*Record, error)) (*Record, error) {
	_, rec, err := s.UpdateSeq(ctx, id, change)
	return rec, err
}

// UpdateSeq is Update that also returns the sequence the record is stored
// at (0 when change stored nothing).
func (s *Store) UpdateSeq(ctx context.Context, id string, change func(*Record) (*Record, error)) (uint64, *Record, error) {
	if _, ok := channelOf(id); !ok {
		return 0, nil, fmt.Errorf("updating the decision record of %q: not an envelope id", id)
	}
	for range maxUpdateTries {
		cur, seq, err := s.get(ctx, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return 0, nil, err
		}
		next, err := change(cur)
		if err != nil || next == nil {
			return 0, next, err
		}
		next.ID = id
		stored, err := s.Put(ctx, next, seq)
		if err == nil {
			return stored, next, nil
		}
		if !errors.Is(err, ErrConflict) {
			return 0, nil, err
		}
	}
	return 0, nil, fmt.Errorf("storing the decision record of %s: too many concurrent changes", id)
}

// isWrongLastSequence reports a failed optimistic-concurrency check.
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Delete removes the record of id (a GDPR erasure); it reports whether
// there was one.
func (s *Store) Delete(ctx context.Context, id string) (bool, error) {
	channel, ok := channelOf(id)
	if !ok {
		return false, nil
	}
	subject := s.Subject(channel, id)
	if _, err := s.stream.Handle.GetLastMsgForSubject(ctx, subject); errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err := s.stream.Handle.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
		return false, fmt.Errorf("deleting the decision record of %s: %w", id, err)
	}
	return true, nil
}
