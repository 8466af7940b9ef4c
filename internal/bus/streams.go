package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/config"
)

// StreamConfigs returns the desired configuration of the three streams.
//
// Every stream discards new messages when it reaches its max_bytes: the
// publish is refused (IsStreamFull), so a connector pauses, the intake
// answers 503 and the router retries and finally dead-letters, instead of
// the stream silently dropping its oldest items, which may not have been
// routed or read yet. max_age still expires old items, as documented.
func StreamConfigs(s config.Streams) []jetstream.StreamConfig {
	mk := func(st config.Stream, subject string, desc string) jetstream.StreamConfig {
		maxBytes := int64(st.MaxBytes)
		if maxBytes == 0 {
			maxBytes = -1
		}
		return jetstream.StreamConfig{
			Name:        st.Name,
			Description: desc,
			Subjects:    []string{subject},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Discard:     jetstream.DiscardNew,
			MaxAge:      time.Duration(st.MaxAge),
			MaxBytes:    maxBytes,
			Duplicates:  time.Duration(st.DuplicateWindow),
			Replicas:    s.Replicas,
		}
	}
	subj := NewSubjects(s)
	return []jetstream.StreamConfig{
		mk(s.Ingest, subj.AllIngest(), "Switchboard: every message from every channel, as ingested"),
		mk(s.Team, subj.AllTeams(), "Switchboard: routed items, one subject per team"),
		mk(s.Dead, subj.AllDead(), "Switchboard: items that could not be routed or delivered"),
	}
}

// ensure creates or updates the streams and the KV bucket; safe to repeat.
func (b *Bus) ensure(ctx context.Context, s config.Streams) error {
	for _, sc := range StreamConfigs(s) {
		if _, err := b.JS.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("creating or updating stream %s: %w", sc.Name, err)
		}
	}
	kv, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      s.KVBucket,
		Description: "Switchboard: connector checkpoints",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    s.Replicas,
	})
	if err != nil {
		return fmt.Errorf("creating or updating KV bucket %s: %w", s.KVBucket, err)
	}
	b.KV = kv
	return nil
}
