// Package responses closes the loop on routed items: it learns which were
// answered, how fast and by whom, and escalates those that wait past their
// service-level target.
//
// Connectors publish the company's own answers (a page's comment reply or
// Messenger message, an X reply or DM, mail sent from the support address)
// and team tools their explicit signals as message.Response on
// <prefix>.response.<channel> (Publisher). The Tracker follows the decision
// records the router writes for every decided item, which open an item
// awaiting its first response, and the responses stream, whose responses
// answer open items: the item a response names (InReplyTo) and every other
// open item of the same conversation written before the response, or, for
// a response that names only its thread, the open items of conversation
// "<channel>:<thread>" written before it. The first response is written
// into the item's decision record, which reports and the console read.
//
// The open items are an in-memory index rebuilt at start from the decision
// records stream (one message per item, so a replay of the records changed
// within ForgetAfter sees each item once) and kept current from the
// records the same process stores (decisions.Store.OnChange: the router and
// the tracker must share one Store); how far each was escalated is kept in
// a key-value bucket. Items past
// their target are escalated once per level to <prefix>.escalation.<team>
// (with Nats-Msg-Id "<item>:<team>:<level>", so a restart cannot publish
// one twice) and, when configured, to a webhook. See docs/responses.md.
//
// One tracker runs per deployment, like the daemon itself (deploy/ runs one
// replica); everything it knows survives restarts in JetStream.
package responses

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/decisions"
)

// CaseCloser closes a customer's open case when one of its items is
// answered; by names who answered and at when. It must be idempotent: a
// redelivered response calls it again. (*cases.Store).Close has this
// shape.
type CaseCloser interface {
	Close(ctx context.Context, customer, caseID, by string, at time.Time) error
}

// TrackerConfig configures a Tracker.
type TrackerConfig struct {
	// Consumer prefixes the durable consumer names: <Consumer>-responses
	// and <Consumer>-webhook (default "responses"). The decision records
	// are followed by an ordered consumer.
	Consumer string
	// MatchWindow is how long a response is kept to answer items routed
	// after it (default 24h).
	MatchWindow time.Duration
	// ForgetAfter is the age after which an unanswered item leaves the open
	// set (default 14d).
	ForgetAfter time.Duration
	// CheckInterval is how often due escalations are looked for (default 15s).
	CheckInterval time.Duration
	// LinkBase is the daemon's external URL (http.external_url); an
	// escalation links to <LinkBase>/ui/messages/<id>. Empty: no link.
	LinkBase string
	// Webhook, when its URL is set, receives every escalation.
	Webhook WebhookConfig
	// Workers is how many responses are matched concurrently (default 8).
	Workers int
	// AckWait is the consumers' redelivery timeout (default 30s).
	AckWait time.Duration
}

// Deps is what the tracker works with.
type Deps struct {
	// JS is the JetStream API.
	JS jetstream.JetStream
	// Streams are the tracker's streams and bucket (Open).
	Streams *Streams
	// Records is the decision records store the tracker follows and writes
	// responses into: the same Store the router writes records with, so
	// that the tracker sees each change as it is stored.
	Records *decisions.Store
	// Policy holds the service levels; nil: no targets, no escalation.
	Policy *sla.Policy
	// Cases closes a customer's case when an item of it is answered; nil
	// until cases exist.
	Cases CaseCloser
	// HTTP is the webhook client (default: a client with the webhook's
	// timeout).
	HTTP *http.Client
	// Metrics receives counters and the first-response histogram (nil: none).
	Metrics *Metrics
	// Log receives the tracker's logs (nil: none).
	Log *zap.Logger
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

// Tracker follows routed items and responses, and escalates.
type Tracker struct {
	cfg     TrackerConfig
	js      jetstream.JetStream
	streams *Streams
	records *decisions.Store
	policy  *sla.Policy
	cases   CaseCloser
	http    *http.Client
	metrics *Metrics
	log     *zap.Logger
	now     func() time.Time
	ready   chan struct{}

	// checkMu serializes checks for due escalations.
	checkMu sync.Mutex
	// marks are the escalations loaded at start, for items the replay
	// opens; nil after it.
	marks map[string]marks
	// late holds responses to write into items routed after them.
	lateMu   sync.Mutex
	late     []lateAnswer
	lateWake chan struct{}

	mu     sync.Mutex
	idx    *index
	recent *recentResponses
}

// New returns a tracker; Run starts it.
func New(cfg TrackerConfig, d Deps) *Tracker {
	if cfg.Consumer == "" {
		cfg.Consumer = "responses"
	}
	if cfg.MatchWindow <= 0 {
		cfg.MatchWindow = 24 * time.Hour
	}
	if cfg.ForgetAfter <= 0 {
		cfg.ForgetAfter = 14 * 24 * time.Hour
	}
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = 15 * time.Second
	}
	if cfg.Workers < 1 {
		cfg.Workers = 8
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	cfg.Webhook.defaults()
	t := &Tracker{
		cfg: cfg, js: d.JS, streams: d.Streams, records: d.Records, policy: d.Policy, cases: d.Cases,
		http: d.HTTP, metrics: d.Metrics, log: d.Log, now: d.Now, ready: make(chan struct{}),
		idx: newIndex(), recent: newRecent(), lateWake: make(chan struct{}, 1),
	}
	if t.log == nil {
		t.log = zap.NewNop()
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.http == nil {
		t.http = &http.Client{Timeout: cfg.Webhook.Timeout}
	}
	return t
}

// Ready is closed once the open set is rebuilt and the tracker follows the
// streams.
func (t *Tracker) Ready() <-chan struct{} { return t.ready }

// Open returns the number of items awaiting a first response.
func (t *Tracker) Open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.idx.len()
}

// Run rebuilds the open set from the decision records and the recent
// responses, then follows the records and the responses and escalates
// until ctx ends. Responses in flight when ctx ends are redelivered at the
// next start.
func (t *Tracker) Run(ctx context.Context) error {
	if t.js == nil || t.streams == nil || t.records == nil {
		return errors.New("responses: Deps.JS, Deps.Streams and Deps.Records are required")
	}
	done, err := t.loadMarks(ctx)
	if err != nil {
		return err
	}
	if err := t.loadRecent(ctx); err != nil {
		return err
	}
	records, pending, err := t.recordsConsumer(ctx)
	if err != nil {
		return err
	}
	respCons, err := t.consumer(ctx, t.streams.subjects.ResponseStream, jetstream.ConsumerConfig{
		Durable:       t.cfg.Consumer + "-responses",
		Description:   "Switchboard response tracker: links responses to the items they answer",
		AckPolicy:     jetstream.AckAllPolicy,
		MaxAckPending: 10_000,
	}, time.Now().Add(-t.cfg.MatchWindow))
	if err != nil {
		return err
	}
	var hookCons jetstream.Consumer
	if t.cfg.Webhook.URL != "" {
		hookCons, err = t.consumer(ctx, t.streams.subjects.EscalationStream, jetstream.ConsumerConfig{
			Durable:       t.cfg.Consumer + "-webhook",
			Description:   "Switchboard response tracker: posts escalations to the webhook",
			AckPolicy:     jetstream.AckExplicitPolicy,
			MaxAckPending: 100,
		}, time.Now())
		if err != nil {
			return err
		}
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	// Changes stored from now on are seen as they are written; the replay
	// covers what was stored before. Applying a record twice is harmless.
	stopObserving := t.records.OnChange(t.observe)
	defer stopObserving()
	began := time.Now()
	t.mu.Lock()
	t.marks = done
	t.mu.Unlock()
	err = t.replayRecords(ctx, records, pending)
	t.mu.Lock()
	t.marks = nil
	t.mu.Unlock()
	if err != nil {
		return nil // stopped while replaying
	}
	close(t.ready)
	t.log.Info("response tracker running", zap.Int("open_items", t.Open()), zap.Uint64("records_replayed", pending),
		zap.Duration("replay", time.Since(began)))
	wg.Go(func() { t.lateLoop(ctx) })
	wg.Go(func() { t.followResponses(ctx, respCons) })
	wg.Go(func() { t.escalationLoop(ctx) })
	if hookCons != nil {
		wg.Go(func() { t.deliverWebhooks(ctx, hookCons) })
	}
	<-ctx.Done()
	return nil
}

// consumer returns the durable consumer c on stream, creating it to start
// at start when it does not exist yet (a first start does not replay
// history older than the tracker can use). An existing consumer keeps its
// position. Stream positions are the server's wall-clock times, so start
// comes from time.Now, not the tracker's clock.
func (t *Tracker) consumer(ctx context.Context, stream string, c jetstream.ConsumerConfig, start time.Time) (jetstream.Consumer, error) {
	cons, err := t.js.Consumer(ctx, stream, c.Durable)
	if err == nil {
		return cons, nil
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("looking up consumer %s on %s: %w", c.Durable, stream, err)
	}
	c.AckWait = t.cfg.AckWait
	c.DeliverPolicy, c.OptStartTime = jetstream.DeliverByStartTimePolicy, &start
	c.MaxDeliver = -1
	cons, err = t.js.CreateConsumer(ctx, stream, c)
	if err != nil {
		return nil, fmt.Errorf("creating consumer %s on %s: %w", c.Durable, stream, err)
	}
	return cons, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}

// stream follows a consumer: messages arrive as they are stored, and up to
// n already buffered are handed over together.
type stream struct {
	t    *Tracker
	cons jetstream.Consumer
	n    int
	what string
	it   jetstream.MessagesContext
}

func (t *Tracker) follow(cons jetstream.Consumer, n int, what string) *stream {
	return &stream{t: t, cons: cons, n: n, what: what}
}

// next waits for messages and returns up to n of them; ok is false when
// ctx ended.
func (s *stream) next(ctx context.Context) (msgs []jetstream.Msg, ok bool) {
	for ctx.Err() == nil {
		if s.it == nil {
			it, err := s.cons.Messages(jetstream.PullMaxMessages(s.n))
			if err != nil {
				s.t.log.Warn("following "+s.what+" failed; retrying", zap.Error(err))
				sleep(ctx, time.Second)
				continue
			}
			s.it = it
		}
		m, err := s.it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			s.t.log.Warn("reading "+s.what+" failed; retrying", zap.Error(err))
			s.it.Stop()
			s.it = nil
			sleep(ctx, time.Second)
			continue
		}
		msgs = append(msgs, m)
		for len(msgs) < s.n {
			m, err := s.it.Next(jetstream.NextMaxWait(time.Millisecond))
			if err != nil {
				break
			}
			msgs = append(msgs, m)
		}
		return msgs, true
	}
	s.stop()
	return nil, false
}

func (s *stream) stop() {
	if s.it != nil {
		s.it.Stop()
		s.it = nil
	}
}
