package responses

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/message"
)

// Subjects names the tracker's subjects, streams and bucket.
type Subjects struct {
	// Prefix is the first subject token (streams.subject_prefix).
	Prefix string
	// ResponseStream holds <Prefix>.response.<channel>.
	ResponseStream string
	// EscalationStream holds <Prefix>.escalation.<team>.
	EscalationStream string
	// Bucket is the key-value bucket of open items' escalation marks.
	Bucket string
}

// HandledChannel is the channel of a team tool's explicit signal: it is
// published on <prefix>.response.handled like any other response.
const HandledChannel = "handled"

// Response is the subject responses seen on channel are published on.
func (s Subjects) Response(channel string) string { return s.Prefix + ".response." + channel }

// Escalation is the subject a team's escalations are published on.
func (s Subjects) Escalation(team string) string { return s.Prefix + ".escalation." + team }

// Config says how the streams and the bucket are kept.
type Config struct {
	// Subjects names the subjects, streams and bucket.
	Subjects Subjects
	// MaxAge is how long responses and escalations are kept.
	MaxAge time.Duration
	// ForgetAfter is how old an unanswered item gets before it leaves the
	// open set; escalation marks expire a day after it.
	ForgetAfter time.Duration
	// Replicas is the replica count of the streams and the bucket.
	Replicas int
}

// Streams are the tracker's streams and its bucket of escalation marks.
type Streams struct {
	subjects Subjects
	marks    jetstream.KeyValue
}

// Duplicate windows: a response is re-polled like any item (the ingest's
// window); an escalation is published again only by a restart.
const (
	responseDupWindow   = 48 * time.Hour
	escalationDupWindow = 7 * 24 * time.Hour
)

// Open creates (or updates) the responses and escalations streams and the
// bucket of escalation marks; it is safe to repeat.
func Open(ctx context.Context, js jetstream.JetStream, c Config) (*Streams, error) {
	s := c.Subjects
	if s.Prefix == "" || s.ResponseStream == "" || s.EscalationStream == "" || s.Bucket == "" {
		return nil, errors.New("responses: the subject prefix, both stream names and the bucket are required")
	}
	if c.MaxAge <= 0 || c.ForgetAfter <= 0 {
		return nil, errors.New("responses: MaxAge and ForgetAfter must be positive")
	}
	replicas := max(c.Replicas, 1)
	for _, sc := range []jetstream.StreamConfig{{
		Name:        s.ResponseStream,
		Description: "Switchboard: the company's responses seen on channels and team tools' handled signals",
		Subjects:    []string{s.Prefix + ".response.>"},
		MaxAge:      c.MaxAge,
		Duplicates:  min(responseDupWindow, c.MaxAge),
	}, {
		Name:        s.EscalationStream,
		Description: "Switchboard: items that waited past their service-level target, one subject per team",
		Subjects:    []string{s.Prefix + ".escalation.>"},
		MaxAge:      c.MaxAge,
		Duplicates:  min(escalationDupWindow, c.MaxAge),
	}} {
		sc.Retention, sc.Storage, sc.Discard, sc.Replicas = jetstream.LimitsPolicy, jetstream.FileStorage, jetstream.DiscardOld, replicas
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("creating or updating stream %s: %w", sc.Name, err)
		}
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      s.Bucket,
		Description: "Switchboard: how far each unanswered item was escalated, per team",
		History:     1,
		TTL:         c.ForgetAfter + 24*time.Hour,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("creating or updating KV bucket %s: %w", s.Bucket, err)
	}
	return &Streams{subjects: s, marks: kv}, nil
}

// Subjects returns the names the streams were opened with.
func (s *Streams) Subjects() Subjects { return s.subjects }

// Publisher publishes responses for connectors and team tools.
type Publisher struct {
	js       jetstream.JetStream
	subjects Subjects
}

// NewPublisher returns a publisher on the streams named by subjects.
func NewPublisher(js jetstream.JetStream, subjects Subjects) *Publisher {
	return &Publisher{js: js, subjects: subjects}
}

// Publish fills in r's version and status when unset, validates it and
// publishes it on <prefix>.response.<channel> with Nats-Msg-Id r.ID, so a
// re-polled response is stored once. It returns after JetStream acked;
// duplicate reports that the stream already held it (success too).
func (p *Publisher) Publish(ctx context.Context, r *message.Response) (duplicate bool, err error) {
	if r.Version == 0 {
		r.Version = message.SchemaVersion
	}
	if r.Status == "" {
		r.Status = message.StatusResponded
	}
	r.At = r.At.UTC()
	if err := r.Validate(); err != nil {
		return false, fmt.Errorf("invalid response %s: %w", r.ID, err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return false, fmt.Errorf("encoding response %s: %w", r.ID, err)
	}
	msg := &nats.Msg{Subject: p.subjects.Response(r.Channel), Data: data}
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(r.ID), jetstream.WithExpectStream(p.subjects.ResponseStream))
	if err != nil {
		return false, fmt.Errorf("publishing response %s to %s: %w", r.ID, msg.Subject, err)
	}
	return ack.Duplicate, nil
}
