package router

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/message"
)

// NATSQueue delivers routed items to the team-queue stream, on subject
// subject(team) with Nats-Msg-Id "<id>:<team>" so a redelivery is stored once.
type NATSQueue struct {
	js      jetstream.JetStream
	stream  string
	subject func(team string) string
}

// NewNATSQueue returns a deliverer into stream.
func NewNATSQueue(js jetstream.JetStream, stream string, subject func(team string) string) *NATSQueue {
	return &NATSQueue{js: js, stream: stream, subject: subject}
}

// Deliver publishes item and returns after the stream acked it.
func (q *NATSQueue) Deliver(ctx context.Context, item *message.Routed, data []byte) error {
	m := &nats.Msg{Subject: q.subject(item.Team), Data: data}
	if _, err := q.js.PublishMsg(ctx, m, jetstream.WithMsgID(item.ID+":"+item.Team), jetstream.WithExpectStream(q.stream)); err != nil {
		return fmt.Errorf("publishing to %s: %w", m.Subject, err)
	}
	return nil
}
