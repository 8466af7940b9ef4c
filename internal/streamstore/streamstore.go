// Package streamstore holds what the stores kept in JetStream streams of
// their own share (the decision records, the corrections, the dead
// letters): creating or attaching to the stream, naming an item in a
// subject, and reading what a consumer delivers up to the stream's end.
package streamstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream is a store's stream as the store uses it: the stream's handle,
// its name and the prefix of its subjects, which keep each item on
// <prefix>.<a token of the store's>.<Token(id)>.
type Stream struct {
	// JS is the JetStream context the stream was opened through.
	JS jetstream.JetStream
	// Handle is the stream's handle, shared by the store's goroutines.
	Handle jetstream.Stream
	// Name is the stream's name; Prefix the prefix of its subjects.
	Name, Prefix string
}

// Open creates (or updates) the stream sc describes, on the subjects
// <prefix>.>, and returns it. A store's stream keeps its messages within
// limits, on file, the oldest dropped first, and answers direct gets: Open
// sets Subjects, Retention, Storage, Discard and AllowDirect so, and
// Replicas to at least 1; the caller sets the rest (name, limits). what
// names the stream's content in the errors ("decision records").
func Open(ctx context.Context, js jetstream.JetStream, what, prefix string, sc jetstream.StreamConfig) (*Stream, error) {
	if sc.Name == "" || prefix == "" {
		return nil, fmt.Errorf("%s: the stream name and subject prefix are required", what)
	}
	sc.Subjects = []string{prefix + ".>"}
	sc.Retention, sc.Storage, sc.Discard, sc.AllowDirect = jetstream.LimitsPolicy, jetstream.FileStorage, jetstream.DiscardOld, true
	sc.Replicas = max(sc.Replicas, 1)
	st, err := js.CreateOrUpdateStream(ctx, sc)
	if err != nil {
		return nil, fmt.Errorf("creating or updating stream %s: %w", sc.Name, err)
	}
	return &Stream{JS: js, Handle: st, Name: sc.Name, Prefix: prefix}, nil
}

// Attach returns the existing stream name, whose subjects start with
// prefix, without creating or changing it: for client tools, which must
// not redefine the daemon's stream. what names the stream's content in the
// error ("decision records"); jetstream.ErrStreamNotFound in it means no
// daemon has created the stream yet.
func Attach(ctx context.Context, js jetstream.JetStream, what, name, prefix string) (*Stream, error) {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("opening %s stream %s: %w", what, name, err)
	}
	return &Stream{JS: js, Handle: st, Name: name, Prefix: prefix}, nil
}

// Subject returns the subject the item id is kept on under the store's
// token (a channel, a team).
func (s *Stream) Subject(token, id string) string {
	return s.Prefix + "." + token + "." + Token(id)
}

// Info returns the stream's current state through a handle of its own:
// the shared handle's Info rewrites the info its other calls (GetMsg)
// read, which nats.go does not guard, and a store is shared by many
// goroutines. Its errors are the stream's.
func (s *Stream) Info(ctx context.Context) (*jetstream.StreamInfo, error) {
	st, err := s.JS.Stream(ctx, s.Name)
	if err != nil {
		return nil, err
	}
	return st.CachedInfo(), nil
}

// Token returns the subject token an item id is kept under: a hash of the
// id, so any id makes a valid token of a fixed length.
func Token(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// fetchBatch is how many messages ReadPending asks for at a time.
const fetchBatch = 256

// ReadPending reads what an ordered consumer of stream configured by occ
// delivers, up to the end of the stream as it was when reading began, and
// hands each message with its metadata to fn. Each fetch waits at most
// wait; a fetch that brings nothing ends the reading (the rest was deleted
// meanwhile). A message without metadata is skipped. The errors it returns
// are the stream's; the caller says which stream it was reading.
func ReadPending(ctx context.Context, js jetstream.JetStream, stream string, occ jetstream.OrderedConsumerConfig, wait time.Duration, fn func(jetstream.Msg, *jetstream.MsgMetadata)) error {
	return ReadWhile(ctx, js, stream, occ, wait, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		fn(m, meta)
		return true
	})
}

// ReadWhile is ReadPending that also ends the reading when fn returns
// false: for a reader that knows where what it looks for ends (a time
// window), so that it need not read the rest of the stream. The batch in
// which fn returned false is still handed to fn to its end, so a message
// stored a little out of order (a server's clock stepping back) is seen.
func ReadWhile(ctx context.Context, js jetstream.JetStream, stream string, occ jetstream.OrderedConsumerConfig, wait time.Duration, fn func(jetstream.Msg, *jetstream.MsgMetadata) bool) error {
	cons, err := js.OrderedConsumer(ctx, stream, occ)
	if err != nil {
		return err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	more := true
	for pending := info.NumPending; more && pending > 0; {
		got, err := fetch(ctx, cons, int(min(pending, fetchBatch)), wait, func(m jetstream.Msg, meta *jetstream.MsgMetadata) {
			pending = meta.NumPending
			more = fn(m, meta) && more
		})
		if err != nil {
			return err
		}
		if got == 0 {
			break
		}
	}
	return nil
}

// fetch fetches up to n messages, waiting at most wait, hands those with
// metadata to fn and returns how many arrived.
func fetch(ctx context.Context, cons jetstream.Consumer, n int, wait time.Duration, fn func(jetstream.Msg, *jetstream.MsgMetadata)) (int, error) {
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	batch, err := cons.Fetch(n, jetstream.FetchContext(fctx))
	if err != nil {
		return 0, err
	}
	got := 0
	for m := range batch.Messages() {
		got++
		meta, err := m.Metadata()
		if err != nil {
			continue
		}
		fn(m, meta)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) {
		return got, err
	}
	return got, nil
}
