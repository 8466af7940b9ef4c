package bus

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/message"
)

// PublishIngest validates env and publishes it on its channel's ingest
// subject with Nats-Msg-Id "<channel>:<source id>". It returns after
// JetStream acked the message; duplicate reports that the stream already
// held it (a re-polled item), which is success too. When JetStream refuses
// it for lack of room the error is a *FullError (see Full).
func (b *Bus) PublishIngest(ctx context.Context, env *message.Envelope) (duplicate bool, err error) {
	if err := env.Validate(); err != nil {
		return false, fmt.Errorf("invalid envelope %s: %w", env.ID, err)
	}
	data, err := json.Marshal(env)
	if err != nil {
		return false, fmt.Errorf("encoding envelope %s: %w", env.ID, err)
	}
	msg := &nats.Msg{Subject: b.Subjects.Ingest(env.Channel), Data: data}
	ack, err := b.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(env.ID), jetstream.WithExpectStream(b.Subjects.IngestStream))
	if err != nil {
		return false, b.classify(fmt.Errorf("publishing %s to %s: %w", env.ID, msg.Subject, err), b.Subjects.IngestStream, msg.Subject, data)
	}
	b.stored()
	return ack.Duplicate, nil
}
