package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/config"
)

// StreamConfigs returns the desired configuration of the three streams.
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
			Discard:     jetstream.DiscardOld,
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
