package targets

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/internal/targetspec"
)

// NATS delivers to the team-queue stream, on subject(team), with
// Nats-Msg-Id Key(item): the stream stores a redelivered item once within
// its duplicate window. One NATS target serves every team.
type NATS struct {
	js      jetstream.JetStream
	stream  string
	subject func(team string) string
}

// NewNATS returns the NATS target publishing into stream.
func NewNATS(js jetstream.JetStream, stream string, subject func(team string) string) *NATS {
	return &NATS{js: js, stream: stream, subject: subject}
}

// Name is "nats".
func (q *NATS) Name() string { return targetspec.NATS }

// ID is "nats".
func (q *NATS) ID() string { return targetspec.NATS }

// Deliver publishes item and returns after the stream acked it. A duplicate
// ack (the stream already held the key) is success. A full stream or store
// refuses the item (it never drops older ones): the error says so and is
// transient, and bus.FullReason recognises it.
func (q *NATS) Deliver(ctx context.Context, item *message.Routed, data []byte) error {
	m := &nats.Msg{Subject: q.subject(item.Team), Data: data}
	if _, err := q.js.PublishMsg(ctx, m, jetstream.WithMsgID(Key(item)), jetstream.WithExpectStream(q.stream)); err != nil {
		if errors.Is(err, nats.ErrMaxPayload) {
			return Permanentf("publishing %s to %s: %w", item.ID, m.Subject, err)
		}
		switch bus.FullReason(err) {
		case bus.FullStream:
			return fmt.Errorf("publishing %s to %s: refused: stream %s is full (streams.team.max_bytes); "+
				"retried, then dead-lettered after router.max_deliver: %w", item.ID, m.Subject, q.stream, err)
		case bus.FullStore:
			return fmt.Errorf("publishing %s to %s: refused: the JetStream store is full (nats.embedded.max_store); "+
				"retried, then dead-lettered after router.max_deliver: %w", item.ID, m.Subject, err)
		}
		return fmt.Errorf("publishing %s to %s: %w", item.ID, m.Subject, err)
	}
	return nil
}

// Depth returns how many items of team the stream holds (retention, not
// consumption: NATS queues are read with consumers of their own).
func (q *NATS) Depth(ctx context.Context, team string) (int64, error) {
	s, err := q.js.Stream(ctx, q.stream)
	if err != nil {
		return 0, fmt.Errorf("looking up stream %s: %w", q.stream, err)
	}
	subj := q.subject(team)
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subj))
	if err != nil {
		return 0, fmt.Errorf("reading stream %s: %w", q.stream, err)
	}
	return int64(info.State.Subjects[subj]), nil
}
