package bus

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/lifecycle"
)

// Storage is how much of the JetStream store the backbone uses.
type Storage struct {
	// Used is the bytes of file storage in use: every stream and bucket.
	Used int64
	// Limit is the most that may be used: nats.embedded.max_store, or the
	// account's limit on an external NATS; -1 when there is none.
	Limit int64
}

// Storage reads the store's usage and limit from JetStream.
func (b *Bus) Storage(ctx context.Context) (Storage, error) {
	ai, err := b.JS.AccountInfo(ctx)
	if err != nil {
		return Storage{}, fmt.Errorf("reading JetStream account usage: %w", err)
	}
	return Storage{Used: int64(ai.Store), Limit: ai.Limits.MaxStore}, nil
}

// FullError is a publish JetStream refused for lack of room: nothing was
// stored. Connectors pause on it (connectors.Handle) instead of failing.
type FullError struct {
	// Reason is FullStore or FullStream.
	Reason string
	// Stream is the stream that refused the message.
	Stream string
	// Err is the publish error.
	Err error
}

// Error says what is full, then the publish error.
func (e *FullError) Error() string {
	if e.Reason == FullStream {
		return "stream " + e.Stream + " is full (max_bytes), new messages are refused: " + e.Err.Error()
	}
	return "the JetStream store is full, new messages are refused: " + e.Err.Error()
}

// Unwrap returns the publish error.
func (e *FullError) Unwrap() error { return e.Err }

// Full says what is full: FullStore or FullStream (the error's text names
// the stream).
func (e *FullError) Full() string { return e.Reason }

// refusal is the last ingest publish refused for lack of room.
type refusal struct {
	reason, stream string
	// size is roughly what the refused message needed.
	size int64
	at   time.Time
}

// unknownRoomExpiry is how long a refusal counts when the limit that caused
// it cannot be read (an external server's own limit): the next refused
// publish sets it again.
const unknownRoomExpiry = time.Minute

// fullState remembers whether the ingest stream refuses publishes.
type fullState struct{ last atomic.Pointer[refusal] }

// Full reports why the ingest stream refuses new messages now: FullStore,
// FullStream, or "" when it accepts them. It is set by a refused
// PublishIngest and cleared by the next stored one or by Monitor finding
// room again.
func (b *Bus) Full() string {
	if r := b.full.last.Load(); r != nil {
		return r.reason
	}
	return ""
}

// refused records that a publish of size bytes to stream was refused.
func (b *Bus) refused(reason, stream string, size int) {
	if prev := b.full.last.Swap(&refusal{reason: reason, stream: stream, size: int64(size), at: time.Now()}); prev == nil {
		b.log.Warn("the backbone refuses new messages: "+reason+"; connectors pause and the intake answers 503 until there is room",
			zap.String("stream", stream))
	}
}

// stored records a stored publish: there is room again.
func (b *Bus) stored() {
	if prev := b.full.last.Swap(nil); prev != nil {
		b.log.Info("the backbone accepts new messages again", zap.String("was", prev.reason))
	}
}

// fullErr reports (as an error for Ready) why the ingest stream refuses.
func (b *Bus) fullErr() error {
	r := b.full.last.Load()
	if r == nil {
		return nil
	}
	what := "the JetStream store is full (nats.embedded.max_store or the server's limit)"
	if r.reason == FullStream {
		what = "stream " + r.stream + " is at its max_bytes"
	}
	return fmt.Errorf("new messages are refused since %s: %s", r.at.UTC().Format(time.RFC3339), what)
}

// recheck clears the refusal when the store or stream has room again for a
// message like the refused one.
func (b *Bus) recheck(ctx context.Context) {
	r := b.full.last.Load()
	if r == nil {
		return
	}
	room, known := b.hasRoom(ctx, r)
	if room || !known && time.Since(r.at) > unknownRoomExpiry {
		if b.full.last.CompareAndSwap(r, nil) {
			b.log.Info("the backbone has room for new messages again", zap.String("was", r.reason))
		}
	}
}

// hasRoom reports whether a message like r's fits now, and whether that
// could be known (a limit of -1 cannot be checked).
func (b *Bus) hasRoom(ctx context.Context, r *refusal) (room, known bool) {
	if r.reason == FullStore {
		s, err := b.Storage(ctx)
		if err != nil || s.Limit < 0 {
			return false, false
		}
		return s.Used+r.size <= s.Limit, true
	}
	st, err := b.JS.Stream(ctx, r.stream)
	if err != nil {
		return false, false
	}
	info, err := st.Info(ctx)
	if err != nil || info.Config.MaxBytes < 0 && info.Config.MaxMsgs < 0 {
		return false, false
	}
	bytesOK := info.Config.MaxBytes < 0 || int64(info.State.Bytes)+r.size <= info.Config.MaxBytes
	msgsOK := info.Config.MaxMsgs < 0 || int64(info.State.Msgs) < info.Config.MaxMsgs
	return bytesOK && msgsOK, true
}

// StorageObserver hears the store's usage; telemetry.StoreMetrics
// implements it.
type StorageObserver interface {
	// StoreUsage reports the bytes used, the limit (-1: none) and why
	// the ingest stream refuses new messages ("" when it does not).
	StoreUsage(used, limit int64, full string)
}

// DefaultMonitorInterval is how often Monitor reads the store's usage when
// given no interval.
const DefaultMonitorInterval = 30 * time.Second

// Monitor reads the store's usage every interval (DefaultMonitorInterval
// when 0) until ctx ends, reports it to obs, and clears the "full" state
// once there is room again, so that a daemon nobody publishes to while it
// is full becomes ready again.
func (b *Bus) Monitor(ctx context.Context, every time.Duration, obs StorageObserver) {
	if every <= 0 {
		every = DefaultMonitorInterval
	}
	lifecycle.Every(ctx, every, func(ctx context.Context) {
		b.recheck(ctx)
		if s, err := b.Storage(ctx); err != nil {
			b.log.Debug("store usage not read", zap.Error(err))
		} else {
			obs.StoreUsage(s.Used, s.Limit, b.Full())
		}
	})
}

// publishSize estimates what a message needs in the store: its data,
// subject and headers plus the file store's per-message overhead.
func publishSize(subject string, data []byte) int {
	return len(subject) + len(data) + 128
}

// classify wraps a publish error that means "no room" into a FullError and
// records the refusal; other errors are returned as they are.
func (b *Bus) classify(err error, stream, subject string, data []byte) error {
	reason := FullReason(err)
	if reason == "" {
		return err
	}
	b.refused(reason, stream, publishSize(subject, data))
	return &FullError{Reason: reason, Stream: stream, Err: err}
}
