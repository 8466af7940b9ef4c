package connectors

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/message"
)

// Handle is what a running connector uses to publish and checkpoint. Its
// methods are safe for concurrent use.
type Handle struct {
	name   string
	pub    Publisher
	resp   ResponsePublisher
	store  CheckpointStore
	status *status
	now    func() time.Time
	log    *zap.Logger // debug: one line per item stored, repeated or refused
	mu     sync.Mutex  // serializes checkpoint saves
}

// Publish stores envs in order, each acked by JetStream before the next.
// It stops at the first failure and returns how many were stored. When the
// backbone refuses for lack of room, the connector's status is "paused"
// until a publish is stored again.
func (h *Handle) Publish(ctx context.Context, envs ...*message.Envelope) (int, error) {
	for i, env := range envs {
		if _, err := h.PublishOne(ctx, env); err != nil {
			return i, err
		}
	}
	return len(envs), nil
}

// PublishOne stores env like Publish and reports whether the ingest
// stream held it already (the same id within the duplicate window).
//
// Every envelope enters the system here: it is sanitized first
// (message.Envelope.Sanitize), so control characters, bidirectional
// overrides, non-web URLs and path-like attachment names never reach a
// team's queue, whichever connector made it.
func (h *Handle) PublishOne(ctx context.Context, env *message.Envelope) (duplicate bool, err error) {
	if env.ReceivedAt.IsZero() {
		env.ReceivedAt = h.now().UTC()
	}
	if env.Version == 0 {
		env.Version = message.SchemaVersion
	}
	env.Sanitize()
	dup, err := h.pub.PublishIngest(ctx, env)
	if err != nil {
		h.logger().Debug("item not stored", zap.String("id", env.ID), zap.Error(err))
		if why := fullReason(err); why != "" {
			h.status.pause(why, err, h.now(), nil)
			h.status.refused(env.Channel, why)
		}
		return false, err
	}
	if dup {
		h.logger().Debug("item already stored: duplicate", zap.String("id", env.ID))
	} else {
		h.logger().Debug("item stored", zap.String("id", env.ID))
	}
	h.status.resume()
	h.status.published(env.Channel, dup, h.now())
	return dup, nil
}

func (h *Handle) logger() *zap.Logger {
	if h.log == nil {
		return zap.NewNop()
	}
	return h.log
}

// ResponsePublisher stores the company's own responses seen on a channel
// (a page's reply, an account's DM, a mail from the Sent folder), which the
// response tracker links to the items they answer. Publish reports whether
// the stream already held the response.
type ResponsePublisher interface {
	Publish(ctx context.Context, r *message.Response) (duplicate bool, err error)
}

// TracksResponses reports whether responses are tracked: a connector may
// skip reading them (and spending API budget on them) when they are not.
func (h *Handle) TracksResponses() bool { return h.resp != nil }

// PublishResponses stores rs in order, each acked before the next, and
// stops at the first failure. It does nothing when responses are not
// tracked. Call it before checkpointing past the responses, like Publish.
func (h *Handle) PublishResponses(ctx context.Context, rs ...*message.Response) error {
	if h.resp == nil {
		return nil
	}
	for _, r := range rs {
		if _, err := h.resp.Publish(ctx, r); err != nil {
			if why := fullReason(err); why != "" {
				h.status.pause(why, err, h.now(), nil)
				h.status.refused(r.Channel, why)
			}
			return fmt.Errorf("publishing response %s: %w", r.ID, err)
		}
		h.status.resume()
	}
	return nil
}

// PublishAndCheckpoint publishes envs and, only once every one was acked,
// saves checkpoint. On any failure the checkpoint stays where it was, so the
// next run polls the same items again (and the ingest dedup drops repeats).
func (h *Handle) PublishAndCheckpoint(ctx context.Context, checkpoint []byte, envs ...*message.Envelope) error {
	if _, err := h.Publish(ctx, envs...); err != nil {
		return err
	}
	return h.SaveCheckpoint(ctx, checkpoint)
}

// Checkpoint returns the saved checkpoint, or nil on a first start.
func (h *Handle) Checkpoint(ctx context.Context) ([]byte, error) {
	cp, err := h.store.Load(ctx, h.name)
	if err != nil {
		return nil, fmt.Errorf("loading checkpoint of %s: %w", h.name, err)
	}
	return cp, nil
}

// SaveCheckpoint durably records checkpoint. Call it only for items that
// Publish already returned for.
func (h *Handle) SaveCheckpoint(ctx context.Context, checkpoint []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.store.Save(ctx, h.name, checkpoint); err != nil {
		return fmt.Errorf("saving checkpoint of %s: %w", h.name, err)
	}
	h.status.checkpointed(string(checkpoint), h.now())
	return nil
}

// Succeeded records a successful poll (even one that found nothing new).
func (h *Handle) Succeeded() { h.status.succeeded(h.now()) }

// Serving records that a connector which waits for requests instead of
// polling (the intake) is up and taking them. For readiness that is its
// first attempt; a polling connector's first attempt is its first poll
// (Succeeded, Failed or a publish).
func (h *Handle) Serving() { h.status.serving(h.now()) }

// Failed records an error the connector handled itself without stopping
// (e.g. one malformed item among many). It shows as last_error.
func (h *Handle) Failed(err error) { h.status.failed(err, h.now()) }
