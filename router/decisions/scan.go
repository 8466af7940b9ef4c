package decisions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// scanIdle bounds how long Scan waits for a next record it was told of
// (one superseded meanwhile never comes).
const scanIdle = 2 * time.Second

// Scan calls fn with every record last changed at or after since (every
// record when since is zero), oldest change first, streaming them with an
// ordered consumer: the way to read many records (a report over a week),
// where Search's one request per record would be slow. It stops at the
// records that were stored when it began, or at fn's first error, which it
// returns. A record that cannot be decoded is skipped.
func (s *Store) Scan(ctx context.Context, since time.Time, fn func(*Record) error) error {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("scanning decision records: %w", err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return nil
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if !since.IsZero() {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	c, err := s.stream.Handle.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("scanning decision records: %w", err)
	}
	if ci := c.CachedInfo(); ci != nil && ci.NumPending == 0 {
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("scanning decision records: %w", err)
		}
		m, err := c.Next(jetstream.FetchMaxWait(scanIdle))
		if errors.Is(err, jetstream.ErrNoMessages) || errors.Is(err, nats.ErrTimeout) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scanning decision records: %w", err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("scanning decision records: %w", err)
		}
		var rec Record
		if json.Unmarshal(m.Data(), &rec) == nil {
			if err := fn(&rec); err != nil {
				return err
			}
		}
		if meta.Sequence.Stream >= last || meta.NumPending == 0 {
			return nil
		}
	}
}

// StreamName is the name of the stream records are kept in, for consumers
// that follow every change (the response tracker).
func (s *Store) StreamName() string { return s.stream.Name }
