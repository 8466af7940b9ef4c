package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Checkpoints stores connector checkpoints in the JetStream KV bucket, one
// key per connector ("checkpoint.<name>").
type Checkpoints struct{ KV jetstream.KeyValue }

// Load returns the checkpoint of name, or nil when none was saved.
func (c Checkpoints) Load(ctx context.Context, name string) ([]byte, error) {
	e, err := c.KV.Get(ctx, "checkpoint."+name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint.%s: %w", name, err)
	}
	return e.Value(), nil
}

// Save replaces the checkpoint of name.
func (c Checkpoints) Save(ctx context.Context, name string, checkpoint []byte) error {
	if _, err := c.KV.Put(ctx, "checkpoint."+name, checkpoint); err != nil {
		return fmt.Errorf("writing checkpoint.%s: %w", name, err)
	}
	return nil
}
