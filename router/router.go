// Package router consumes the ingest stream, asks the rules where each
// envelope goes, delivers a routed copy to every chosen team and only then
// acks the ingest message. Failures are retried with backoff; what cannot be
// routed or delivered goes to the dead-letter stream with its reason.
package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/rules"
)

// Classifier decides where an envelope goes (rules.Rules, rules.Live).
type Classifier interface {
	Classify(env *message.Envelope) rules.Decision
}

// Deliverer puts one routed item into one team's queue. It must be
// idempotent per (item.ID, item.Team): a redelivered item is stored once.
type Deliverer interface {
	Deliver(ctx context.Context, item *message.Routed, data []byte) error
}

// Metrics is what the router reports; telemetry.Metrics satisfies it via
// an adapter in the daemon. A nil Metrics is allowed.
type Metrics interface {
	Routed(team string, latency time.Duration)
	Noise()
	DeadLettered(reason string)
	Retried(reason string)
}

// Config describes the router's consumer.
type Config struct {
	// Stream is the ingest stream; FilterSubject selects its subjects.
	Stream, FilterSubject string
	// Consumer is the durable consumer name.
	Consumer string
	// AckWait is the redelivery timeout of an unacked message.
	AckWait time.Duration
	// MaxDeliver is the number of attempts before an item is dead-lettered.
	MaxDeliver int
	// Workers is the number of messages routed concurrently.
	Workers int
	// RetryMin and RetryMax bound the delay before a failed message returns.
	RetryMin, RetryMax time.Duration
}

// Router routes ingest messages to team queues.
type Router struct {
	cfg      Config
	js       jetstream.JetStream
	classify Classifier
	deliver  Deliverer
	dead     *DeadLetters
	metrics  Metrics
	log      *zap.Logger
	now      func() time.Time
}

// New returns a router; Run starts it.
func New(cfg Config, js jetstream.JetStream, c Classifier, d Deliverer, dead *DeadLetters, m Metrics, log *zap.Logger) *Router {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = time.Minute
	}
	if m == nil {
		m = nopMetrics{}
	}
	return &Router{cfg: cfg, js: js, classify: c, deliver: d, dead: dead, metrics: m, log: log, now: time.Now}
}

// ConsumerConfig is the durable pull consumer the router reads through.
func (r *Router) ConsumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       r.cfg.Consumer,
		Description:   "Switchboard router",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       r.cfg.AckWait,
		MaxDeliver:    -1, // the router dead-letters itself, so nothing is dropped silently
		FilterSubject: r.cfg.FilterSubject,
		MaxAckPending: r.cfg.Workers * 4,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// Run routes until ctx ends, then finishes the messages in flight (bounded
// by drain) and returns.
func (r *Router) Run(ctx context.Context, drain time.Duration) error {
	cons, err := r.js.CreateOrUpdateConsumer(ctx, r.cfg.Stream, r.ConsumerConfig())
	if err != nil {
		return fmt.Errorf("creating consumer %s on %s: %w", r.cfg.Consumer, r.cfg.Stream, err)
	}
	for ctx.Err() == nil {
		fetchCtx, cancelFetch := context.WithTimeout(ctx, time.Second)
		batch, err := cons.Fetch(r.cfg.Workers, jetstream.FetchContext(fetchCtx))
		if err != nil {
			cancelFetch()
			if ctx.Err() != nil {
				break
			}
			r.log.Warn("fetching from the ingest stream failed; retrying", zap.Error(err))
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		// In-flight work finishes even when shutdown starts meanwhile.
		work, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(ctx, func() {
			time.AfterFunc(drain, cancel)
		})
		var wg sync.WaitGroup
		for msg := range batch.Messages() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.handle(work, msg)
			}()
		}
		wg.Wait()
		stop()
		cancel()
		cancelFetch()
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil {
			r.log.Debug("fetch ended with an error", zap.Error(err))
		}
	}
	return nil
}

// handle routes one message and acks, naks or dead-letters it.
func (r *Router) handle(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		r.log.Error("ingest message without metadata; leaving it for redelivery", zap.Error(err))
		return
	}
	log := r.log.With(zap.Uint64("stream_seq", meta.Sequence.Stream), zap.Uint64("delivery", meta.NumDelivered))
	var env message.Envelope
	if err := json.Unmarshal(msg.Data(), &env); err != nil {
		r.deadAndAck(ctx, msg, meta, log, ReasonMalformed, "", fmt.Errorf("decoding envelope: %w", err))
		return
	}
	log = log.With(zap.String("id", env.ID))
	if err := env.Validate(); err != nil {
		r.deadAndAck(ctx, msg, meta, log, ReasonInvalid, "", err)
		return
	}
	d := r.classify.Classify(&env)
	if d.Noise {
		r.metrics.Noise()
		log.Debug("noise: kept in the ingest stream, delivered to no team", zap.Strings("rules", d.Matched))
		r.ack(ctx, msg, log)
		return
	}
	routedAt := r.now().UTC()
	for _, team := range d.Teams {
		item := &message.Routed{
			Envelope: env,
			Team:     team,
			Topics:   d.Topics,
			Priority: d.Priority,
			Tags:     d.Tags,
			Route:    message.Route{RulesVersion: d.Version, Matched: d.Matched},
			RoutedAt: routedAt,
		}
		data, err := json.Marshal(item)
		if err != nil {
			r.deadAndAck(ctx, msg, meta, log, ReasonInvalid, team, fmt.Errorf("encoding routed item: %w", err))
			return
		}
		if err := r.deliver.Deliver(ctx, item, data); err != nil {
			r.retryOrDead(ctx, msg, meta, log, team, err)
			return
		}
		r.metrics.Routed(team, r.now().Sub(env.ReceivedAt))
	}
	r.ack(ctx, msg, log)
}

func (r *Router) retryOrDead(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, log *zap.Logger, team string, err error) {
	if r.cfg.MaxDeliver > 0 && meta.NumDelivered >= uint64(r.cfg.MaxDeliver) {
		r.deadAndAck(ctx, msg, meta, log, ReasonDeliveryFailed, team, err)
		return
	}
	delay := r.retryDelay(meta.NumDelivered)
	r.metrics.Retried(ReasonDeliveryFailed)
	log.Warn("delivery failed; will retry", zap.String("team", team), zap.Error(err), zap.Duration("retry_in", delay))
	if err := msg.NakWithDelay(delay); err != nil {
		log.Warn("nak failed; the message returns after ack_wait", zap.Error(err))
	}
}

func (r *Router) retryDelay(delivered uint64) time.Duration {
	d := r.cfg.RetryMin
	for i := uint64(1); i < delivered && d < r.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, r.cfg.RetryMax)
}

func (r *Router) deadAndAck(ctx context.Context, msg jetstream.Msg, meta *jetstream.MsgMetadata, log *zap.Logger, reason, team string, cause error) {
	if err := r.dead.Put(ctx, msg, meta, reason, team, cause); err != nil {
		// Not acked: it comes back and we try again; nothing is dropped.
		r.metrics.Retried("dead_letter_failed")
		log.Error("could not dead-letter; will retry", zap.String("reason", reason), zap.Error(err))
		_ = msg.NakWithDelay(r.retryDelay(meta.NumDelivered))
		return
	}
	r.metrics.DeadLettered(reason)
	log.Warn("dead-lettered", zap.String("reason", reason), zap.String("team", team), zap.Error(cause))
	r.ack(ctx, msg, log)
}

func (r *Router) ack(ctx context.Context, msg jetstream.Msg, log *zap.Logger) {
	if err := msg.DoubleAck(ctx); err != nil {
		// The message will be redelivered; delivery is idempotent.
		log.Warn("ack not confirmed; the message may be redelivered (deduplicated downstream)", zap.Error(err))
	}
}

type nopMetrics struct{}

func (nopMetrics) Routed(string, time.Duration) {}
func (nopMetrics) Noise()                       {}
func (nopMetrics) DeadLettered(string)          {}
func (nopMetrics) Retried(string)               {}
