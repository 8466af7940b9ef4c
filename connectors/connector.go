// Package connectors defines what a channel connector is and runs connectors
// under a supervisor that restarts them with backoff and keeps their status.
// Each channel has its own package below this one (intake/, and later
// facebook/, x/, email/).
package connectors

import (
	"context"
	"errors"

	"github.com/switchboard/switchboard/internal/message"
)

// Connector ingests one channel (or one account of a channel).
type Connector interface {
	// Name identifies the connector instance, e.g. "intake" or
	// "facebook.page-123". It keys the checkpoint and the status, so it must
	// stay stable: letters, digits, '-', '_' and '.'.
	Name() string
	// Run ingests until ctx ends, publishing envelopes and advancing the
	// checkpoint through h. It returns nil when ctx ended, or the error that
	// stopped it; the supervisor then restarts it after a backoff. Wrap an
	// authentication failure with ErrUnauthorized.
	Run(ctx context.Context, h *Handle) error
}

// ErrUnauthorized marks an error caused by rejected credentials: the
// connector's status becomes "unauthorized", /readyz fails and retries slow
// down until the credentials are fixed.
var ErrUnauthorized = errors.New("unauthorized")

// Publisher stores envelopes durably; it returns after the store acked.
type Publisher interface {
	PublishIngest(ctx context.Context, env *message.Envelope) (duplicate bool, err error)
}

// CheckpointStore keeps each connector's checkpoint.
type CheckpointStore interface {
	// Load returns the checkpoint saved for name, or nil when there is none.
	Load(ctx context.Context, name string) ([]byte, error)
	// Save replaces the checkpoint for name.
	Save(ctx context.Context, name string, checkpoint []byte) error
}
