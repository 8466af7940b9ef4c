package router

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Dead-letter reasons (the last subject token of switchboard.dead.<reason>).
const (
	ReasonMalformed      = "malformed"       // not a JSON envelope
	ReasonInvalid        = "invalid"         // JSON, but the envelope fails validation
	ReasonDeliveryFailed = "delivery_failed" // a team target kept failing
)

// DeadLetter is the body of a message in the dead-letter stream.
type DeadLetter struct {
	// Reason is why the item is here.
	Reason string `json:"reason"`
	// Error is the last error, as text.
	Error string `json:"error"`
	// Team is the team whose delivery failed, when one did.
	Team string `json:"team,omitempty"`
	// Subject and StreamSeq locate the original in the ingest stream.
	Subject   string `json:"subject"`
	StreamSeq uint64 `json:"stream_seq"`
	// Deliveries is how many times the router tried.
	Deliveries uint64 `json:"deliveries"`
	// FailedAt is when the item was dead-lettered.
	FailedAt time.Time `json:"failed_at"`
	// Envelope is the original message when it is JSON.
	Envelope json.RawMessage `json:"envelope,omitempty"`
	// Raw is the original message when it is not JSON.
	Raw string `json:"raw,omitempty"`
}

// DeadLetters publishes to the dead-letter stream.
type DeadLetters struct {
	js      jetstream.JetStream
	stream  string
	subject func(reason string) string
	now     func() time.Time
}

// NewDeadLetters publishes into stream on subject(reason).
func NewDeadLetters(js jetstream.JetStream, stream string, subject func(reason string) string) *DeadLetters {
	return &DeadLetters{js: js, stream: stream, subject: subject, now: time.Now}
}

// Put stores the original of msg with why it failed; it returns after the
// stream acked. The Nats-Msg-Id is the ingest sequence, so doing it twice
// stores it once.
func (d *DeadLetters) Put(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, reason, team string, cause error) error {
	dl := DeadLetter{
		Reason:     reason,
		Team:       team,
		Subject:    msg.Subject(),
		StreamSeq:  meta.Sequence.Stream,
		Deliveries: meta.NumDelivered,
		FailedAt:   d.now().UTC(),
	}
	if cause != nil {
		dl.Error = cause.Error()
	}
	if json.Valid(msg.Data()) {
		dl.Envelope = json.RawMessage(msg.Data())
	} else {
		dl.Raw = string(msg.Data())
	}
	data, err := json.Marshal(dl)
	if err != nil {
		return fmt.Errorf("encoding dead letter: %w", err)
	}
	m := &nats.Msg{Subject: d.subject(reason), Data: data, Header: nats.Header{}}
	id := "dead:" + strconv.FormatUint(meta.Sequence.Stream, 10) + ":" + team
	if _, err := d.js.PublishMsg(ctx, m, jetstream.WithMsgID(id), jetstream.WithExpectStream(d.stream)); err != nil {
		return fmt.Errorf("publishing dead letter to %s: %w", m.Subject, err)
	}
	return nil
}
