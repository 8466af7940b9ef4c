// Package router consumes the ingest stream, asks the rules where each
// envelope goes, delivers a routed copy to every target of every chosen
// team and only then acks the ingest message. Failed deliveries are retried
// with backoff (NakWithDelay, never a sleep in a worker); a target that
// keeps failing is skipped by its circuit breaker so that it holds up
// nobody else; what cannot be delivered goes to the dead-letter stream with
// its reason and the original envelope. See docs/delivery.md.
package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/lifecycle"
	"github.com/switchboard/switchboard/internal/message"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/targets"
)

// Config describes the router's consumer and retry policy.
type Config struct {
	// Stream is the ingest stream; FilterSubject selects its subjects.
	Stream, FilterSubject string
	// Consumer is the durable consumer name.
	Consumer string
	// AckWait is the redelivery timeout of an unacked message; the router
	// extends it while an attempt is still running.
	AckWait time.Duration
	// MaxDeliver is the number of attempts before a failing team's copy is
	// dead-lettered (0: never).
	MaxDeliver int
	// Workers is the number of messages routed concurrently.
	Workers int
	// MaxPending caps ingest messages in flight, including those waiting
	// for a retry (default 10000).
	MaxPending int
	// RetryMin and RetryMax bound the delay before a failed message returns
	// (defaults 1s and 5m).
	RetryMin, RetryMax time.Duration
	// AttemptTimeout bounds one attempt at one target (default 15s).
	AttemptTimeout time.Duration
	// BreakerFailures failures in a row open a target's breaker for
	// BreakerCooldown (defaults 5 and 30s).
	BreakerFailures int
	BreakerCooldown time.Duration
	// DepthInterval is how often queue depths are reported (0: never).
	DepthInterval time.Duration
	// FetchWait bounds one pull from the ingest stream (default 1s); a stop
	// waits for the pull in progress.
	FetchWait time.Duration
}

// Deps is what the router works with.
type Deps struct {
	// JS is the JetStream API.
	JS jetstream.JetStream
	// Rules returns the rules in force.
	Rules RulesFunc
	// Targets builds the targets teams declare.
	Targets *targets.Factory
	// Dead is the dead-letter stream.
	Dead *DeadLetters
	// Progress remembers items being retried (nil: every retry redelivers
	// to every target, relying on their idempotency alone).
	Progress *Progress
	// Threads is the conversation map: the latest routed item of each
	// private conversation (nil: follow-ups do not follow their
	// conversation).
	Threads *Threads
	// Records keeps the decision record of every item, and is where a
	// reply finds where the item it answers went (nil: no records, and
	// replies do not follow their parents).
	Records Records
	// Customers links items to customers (nil: no customer model).
	Customers Customers
	// Cases keeps customers' cases (nil: none; needs Customers).
	Cases Cases
	// Metrics receives counters (nil: none).
	Metrics Metrics
	// Log receives the router's logs.
	Log *zap.Logger
}

// Router routes ingest messages to team queues.
type Router struct {
	cfg       Config
	js        jetstream.JetStream
	rules     RulesFunc
	teams     *teamCache
	dead      *DeadLetters
	progress  *Progress
	threads   *Threads
	records   Records
	customers Customers
	cases     Cases
	inflight  *inflight
	metrics   Metrics
	log       *zap.Logger
	now       func() time.Time
}

// New returns a router; Run starts it.
func New(cfg Config, d Deps) *Router {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.MaxPending < cfg.Workers {
		cfg.MaxPending = max(10000, cfg.Workers)
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(5*time.Minute, cfg.RetryMin)
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 15 * time.Second
	}
	if cfg.BreakerFailures < 1 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 30 * time.Second
	}
	if cfg.FetchWait <= 0 {
		cfg.FetchWait = time.Second
	}
	m := d.Metrics
	if m == nil {
		m = nopMetrics{}
	}
	log := d.Log
	if log == nil {
		log = zap.NewNop()
	}
	f := d.Targets
	if f == nil {
		f = &targets.Factory{}
	}
	return &Router{
		cfg: cfg, js: d.JS, rules: d.Rules, dead: d.Dead, progress: d.Progress, threads: d.Threads,
		teams:   newTeamCache(f, cfg.BreakerFailures, cfg.BreakerCooldown),
		records: d.Records, customers: d.Customers, cases: d.Cases, inflight: newInflight(),
		metrics: m, log: log, now: time.Now,
	}
}

// Check builds the targets of every team rs declares and returns every
// problem (a redis target without delivery.redis.url, a bad webhook URL),
// so that the daemon can refuse to start, or a reload can be refused,
// instead of items failing later.
func (r *Router) Check(rs Ruleset) error { return r.teams.check(rs) }

// ConsumerConfig is the durable pull consumer the router reads through.
func (r *Router) ConsumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:     r.cfg.Consumer,
		Description: "Switchboard router",
		AckPolicy:   jetstream.AckExplicitPolicy,
		AckWait:     r.cfg.AckWait,
		// The router dead-letters by itself, so nothing is dropped silently.
		MaxDeliver:    -1,
		FilterSubject: r.cfg.FilterSubject,
		// Items waiting for a retry (NakWithDelay) stay pending; a high cap
		// keeps one team's outage from stopping every other team's flow.
		MaxAckPending: r.cfg.MaxPending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// Run routes until ctx ends, then finishes the messages in flight (bounded
// by drain) and returns. Transient NATS errors are logged and retried.
func (r *Router) Run(ctx context.Context, drain time.Duration) error {
	if r.js == nil || r.rules == nil || r.dead == nil {
		return errors.New("router: Deps.JS, Deps.Rules and Deps.Dead are required")
	}
	// In-flight work finishes even when shutdown starts meanwhile, up to drain.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(drain, cancelWork) })
	defer stopDrain()

	var wg sync.WaitGroup
	defer wg.Wait()
	if r.cfg.DepthInterval > 0 {
		wg.Go(func() { r.depthLoop(ctx) })
	}
	slots := make(chan struct{}, r.cfg.Workers)
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		if cons == nil {
			var err error
			cons, err = r.js.CreateOrUpdateConsumer(ctx, r.cfg.Stream, r.ConsumerConfig())
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				r.log.Warn("creating the router's consumer failed; retrying",
					zap.String("consumer", r.cfg.Consumer), zap.String("stream", r.cfg.Stream), zap.Error(err))
				_ = backoff.Sleep(ctx, time.Second)
				continue
			}
		}
		// Take one free worker slot (waiting for it), then every other free one.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		n := 1
		for n < r.cfg.Workers && len(slots) < cap(slots) {
			slots <- struct{}{}
			n++
		}
		// Not cancelled by ctx: a fetch cut short could leave messages the
		// server already sent unhandled until AckWait. It ends within FetchWait.
		batch, err := cons.Fetch(n, jetstream.FetchMaxWait(r.cfg.FetchWait))
		if err != nil {
			release(slots, n)
			if ctx.Err() != nil {
				break
			}
			r.log.Warn("fetching from the ingest stream failed; retrying", zap.Error(err))
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
				cons = nil
			}
			_ = backoff.Sleep(ctx, time.Second)
			continue
		}
		used := 0
		for msg := range batch.Messages() {
			used++
			// Decoded and registered here, in stream order, so that an item
			// handled concurrently with one it follows can wait for it.
			in := r.receive(msg)
			wg.Go(func() {
				defer release(slots, 1)
				defer r.recoverHandle(msg)
				defer r.inflight.finish(in.flight)
				r.handle(work, in)
			})
		}
		release(slots, n-used)
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoHeartbeat) && ctx.Err() == nil {
			r.log.Debug("fetch ended with an error", zap.Error(err))
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				cons = nil
			}
		}
	}
	return nil
}

// recoverHandle keeps a bug in routing one message from stopping the
// daemon: it logs the panic and hands the message back for a later retry.
func (r *Router) recoverHandle(msg jetstream.Msg) {
	p := recover()
	if p == nil {
		return
	}
	r.log.Error("routing a message panicked; it will be retried", zap.String("subject", msg.Subject()),
		zap.Any("panic", p), zap.Stack("stack"))
	r.metrics.Redelivery("panic")
	_ = msg.NakWithDelay(r.cfg.RetryMax)
}

func release(slots chan struct{}, n int) {
	for range n {
		<-slots
	}
}

// attemptState is one message's attempt.
type attemptState struct {
	msg  jetstream.Msg
	meta *jetstream.MsgMetadata
	env  *message.Envelope
	log  *zap.Logger
	set  *teamSet
	// rec is the routing decision and what is already done; loaded says it
	// came from the progress bucket.
	rec    *progressRecord
	loaded bool
	// changed says rec gained something in this attempt (a target accepted,
	// a team was closed), so a loaded record must be saved again.
	changed bool
	// stopKeepAlive stops extending the ack deadline.
	stopKeepAlive func()
	// deliveries are this attempt's target outcomes, for the decision record.
	deliveries []decisions.Delivery
	// record is the decision record this attempt wrote, stored at stream
	// sequence recordSeq (nil, 0: it wrote none).
	record    *decisions.Record
	recordSeq uint64
}

// received is an ingest message as fetched: decoded and registered as in
// flight, or with the reason it cannot be routed.
type received struct {
	msg    jetstream.Msg
	meta   *jetstream.MsgMetadata
	env    *message.Envelope
	err    error // the message has no metadata
	bad    *deadFailure
	flight *flight
}

// receive decodes and validates msg and registers it as in flight.
func (r *Router) receive(msg jetstream.Msg) *received {
	in := &received{msg: msg}
	in.meta, in.err = msg.Metadata()
	if in.err != nil {
		return in
	}
	var env message.Envelope
	if err := json.Unmarshal(msg.Data(), &env); err != nil {
		in.bad = &deadFailure{reason: ReasonMalformed, cause: fmt.Errorf("decoding envelope from %s: %w", msg.Subject(), err)}
		return in
	}
	in.env = &env
	if err := env.Validate(); err != nil {
		in.bad = &deadFailure{reason: ReasonInvalid, cause: fmt.Errorf("envelope from %s: %w", msg.Subject(), err)}
		return in
	}
	in.flight = r.inflight.add(in.meta.Sequence.Stream, followKeys(&env)...)
	return in
}

// handle routes one message and acks, naks or dead-letters it.
func (r *Router) handle(ctx context.Context, in *received) {
	msg, meta := in.msg, in.meta
	if in.err != nil {
		r.log.Error("ingest message without JetStream metadata; leaving it for redelivery", zap.String("subject", msg.Subject()), zap.Error(in.err))
		return
	}
	a := &attemptState{msg: msg, meta: meta, env: in.env, stopKeepAlive: r.keepAlive(msg)}
	defer a.stopKeepAlive()
	a.log = r.log.With(zap.Uint64("stream_seq", meta.Sequence.Stream), zap.Uint64("delivery", meta.NumDelivered))
	if a.env != nil {
		a.log = a.log.With(zap.String("id", a.env.ID))
	}
	if in.bad != nil {
		r.deadAndAck(ctx, a, *in.bad)
		return
	}
	a.set = r.teams.snapshot(r.rules())
	if noise := r.plan(ctx, a); noise {
		r.metrics.Noise()
		a.log.Debug("noise: kept in the ingest stream, delivered to no team", zap.Strings("rules", a.rec.Matched))
		a.stopKeepAlive()
		r.ack(ctx, a)
		return
	}
	if len(a.rec.Teams) == 0 {
		// The rules promise a team for every item that is not noise; keep
		// it rather than ack it into nowhere.
		r.deadAndAck(ctx, a, deadFailure{reason: ReasonUnknownTeam, rulesVersion: a.rec.Version,
			cause: fmt.Errorf("rules version %s routed %s to no team and not as noise", a.rec.Version, a.env.ID)})
		return
	}
	results := r.deliverAll(ctx, a)
	r.settle(ctx, a, results)
}

// keepAlive tells JetStream the message is still being worked on while an
// attempt takes longer than a third of AckWait, so a slow webhook does not
// cause a concurrent redelivery. The returned stop is idempotent.
func (r *Router) keepAlive(msg jetstream.Msg) func() {
	if r.cfg.AckWait <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(r.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done); <-stopped })
	}
}

// plan fills a.rec with the routing decision: the stored one of an item
// being retried, or a new one (the rules', with the item's context and the
// replay restriction applied), which is recorded before anything is
// delivered. A message decided before (redelivered after a crash, however
// the server counts its deliveries) keeps that decision, so it never
// reaches one team first and another on its redelivery. It reports whether
// the item is noise.
func (r *Router) plan(ctx context.Context, a *attemptState) (noise bool) {
	env, meta := a.env, a.meta
	if r.progress != nil && meta.NumDelivered > 1 {
		rec, err := r.progress.load(ctx, env.ID, meta.Sequence.Stream)
		if err != nil {
			a.log.Warn("progress record unreadable; delivering to every target again (they are idempotent)", zap.Error(err))
		}
		if rec != nil {
			a.rec, a.loaded = rec, true
			return false
		}
	}
	noise = r.decide(ctx, a)
	if prev := r.persist(ctx, a, noise); prev != nil {
		a.log.Info("a message decided before came back: it keeps its first decision", zap.Strings("teams", prev.Teams))
		a.rec.adopt(prev)
		noise = prev.Outcome == decisions.OutcomeNoise
	}
	return noise
}

// decide fills a.rec with a new decision and reports whether the item is
// noise.
func (r *Router) decide(ctx context.Context, a *attemptState) (noise bool) {
	env, meta := a.env, a.meta
	d := a.set.rules.Classify(env)
	a.rec = &progressRecord{
		Seq: meta.Sequence.Stream, ID: env.ID, Version: d.Version,
		Topics: d.Topics, Priority: d.Priority, Tags: d.Tags, Matched: d.Matched,
		Route: d.Route, ModelDecided: d.ModelDecided, Scores: modelScores(d.Model),
		RoutedAt: r.now().UTC(),
	}
	if env.Lang == "" && d.Lang != "und" {
		a.rec.Lang = d.Lang
	}
	if a.rec.Version == "" {
		a.rec.Version = a.set.version
	}
	// A replay of one team's dead letter goes to that team: the operator
	// asked for it, whatever the rules say now (noise included).
	if replayTeam, skip := replayOf(a.msg); replayTeam != "" {
		if _, ok := a.set.teams[replayTeam]; ok {
			a.rec.Teams, a.rec.Reason = []string{replayTeam}, decisions.ReasonReplay
			// Targets that accepted the item before it was dead-lettered
			// do not get it again.
			for _, id := range skip {
				a.rec.markDone(replayTeam, id)
			}
			return false
		}
		a.log.Info("replayed item's team is not in the rules in force; routing it afresh", zap.String("team", replayTeam))
	}
	// A reroute goes to the teams the operator chose, whatever the rules
	// say now (noise included), with the guarantees of any routing.
	if rr := rerouteOf(a.msg); len(rr.teams) > 0 {
		if teams := knownTeams(rr.teams, a.set); len(teams) > 0 {
			a.rec.Teams, a.rec.Reason = teams, decisions.ReasonReroute
			a.rec.RerouteBy, a.rec.RerouteNote = rr.by, rr.note
			return false
		}
		a.log.Info("rerouted item's teams are not in the rules in force; routing it afresh", zap.Strings("teams", rr.teams))
	}
	if d.Noise {
		a.rec.Reason = decisions.ReasonText
		return true
	}
	r.decideContext(ctx, a, d)
	return false
}

// replayOf returns the team a replayed message is restricted to and the
// ids of that team's targets that already have it.
func replayOf(msg jetstream.Msg) (team string, skip []string) {
	h := msg.Headers()
	if h == nil || h.Get(HeaderReplayTeam) == "" {
		return "", nil
	}
	if v := h.Get(HeaderReplaySkip); v != "" {
		skip = strings.Split(v, ",")
	}
	return h.Get(HeaderReplayTeam), skip
}

func uniq(s []string) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// targetFailure is one target's failed attempt.
type targetFailure struct {
	target string
	err    error
}

// teamResult is the outcome of one attempt for one team.
type teamResult struct {
	team string
	// ok: every target of the team has the item now.
	ok bool
	// unknown: the team is not in the rules in force.
	unknown bool
	// permanent: a target refused the item itself.
	permanent bool
	failures  []targetFailure
	// hint is the longest delay a failing target asked for.
	hint time.Duration
}

func (t *teamResult) failed(target string, err error) {
	t.failures = append(t.failures, targetFailure{target: target, err: err})
	if targets.IsPermanent(err) {
		t.permanent = true
	}
	t.hint = max(t.hint, targets.RetryAfter(err))
}

func (t *teamResult) err() error {
	errs := make([]error, 0, len(t.failures))
	for _, f := range t.failures {
		errs = append(errs, f.err)
	}
	return errors.Join(errs...)
}

func (t *teamResult) targetNames() string {
	var s string
	for i, f := range t.failures {
		if f.target == "" {
			continue
		}
		if i > 0 && s != "" {
			s += ","
		}
		s += f.target
	}
	return s
}

// deliverAll delivers the item to every open team's every missing target,
// all concurrently, each bounded by the attempt timeout, and records what
// was accepted in a.rec.
func (r *Router) deliverAll(ctx context.Context, a *attemptState) []*teamResult {
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		results []*teamResult
	)
	type job struct {
		team string
		bt   *boundTarget
		res  *teamResult
		item *message.Routed
		data []byte
	}
	var jobs []job
	for _, name := range a.rec.Teams {
		if _, closed := a.rec.Closed[name]; closed {
			continue
		}
		res := &teamResult{team: name}
		results = append(results, res)
		tm := a.set.teams[name]
		if tm == nil {
			res.unknown = true
			res.failed("", fmt.Errorf("team %s is not declared in rules version %s (routed by version %s; removed by a reload?)", name, a.set.version, a.rec.Version))
			continue
		}
		if tm.err != nil {
			res.failed("", fmt.Errorf("team %s: %w", name, tm.err))
		}
		item := &message.Routed{
			Envelope: *a.env,
			Team:     name,
			Topics:   a.rec.Topics,
			Priority: a.rec.Priority,
			Tags:     a.rec.Tags,
			Route:    message.Route{RulesVersion: a.rec.Version, Matched: a.rec.Matched, Reason: a.rec.Reason, Followed: a.rec.Followed},
			Customer: a.rec.Customer,
			Case:     a.rec.Case,
			RoutedAt: a.rec.RoutedAt,
		}
		item.Version = message.RoutedVersion
		if item.Lang == "" {
			item.Lang = a.rec.Lang // detected by the rules
		}
		data, err := json.Marshal(item)
		if err != nil {
			res.failed("", targets.Permanentf("encoding routed item %s for %s: %w", a.env.ID, name, err))
			continue
		}
		for _, bt := range tm.targets {
			if !a.rec.done(name, bt.id) {
				jobs = append(jobs, job{team: name, bt: bt, res: res, item: item, data: data})
			}
		}
	}
	for _, j := range jobs {
		wg.Go(func() {
			err := r.attempt(ctx, j.team, j.bt, j.item, j.data)
			mu.Lock()
			defer mu.Unlock()
			d := decisions.Delivery{Team: j.team, Target: j.bt.name, OK: err == nil, At: r.now().UTC(), Attempts: 1}
			if err != nil {
				d.Error = err.Error()
			}
			a.deliveries = append(a.deliveries, d)
			if err != nil {
				j.res.failed(j.bt.name, err)
				return
			}
			a.rec.markDone(j.team, j.bt.id)
			a.changed = true
		})
	}
	wg.Wait()
	for _, res := range results {
		res.ok = len(res.failures) == 0
	}
	return results
}

// attempt tries one target once, through its breaker.
func (r *Router) attempt(ctx context.Context, team string, bt *boundTarget, item *message.Routed, data []byte) error {
	now := r.now()
	if ok, wait := bt.br.allow(now); !ok {
		r.metrics.Retried(team, bt.name, "circuit_open")
		return targets.WithRetryAfter(fmt.Errorf("%s for team %s: not tried: it keeps failing (circuit open, next try in %s)", bt.name, team, wait.Round(time.Millisecond)), wait)
	}
	actx, cancel := context.WithTimeout(ctx, r.cfg.AttemptTimeout)
	err := r.deliverSafely(actx, team, bt, item, data)
	cancel()
	took := r.now().Sub(now)
	// A target that answered, even to refuse the item, is healthy.
	healthy := err == nil || targets.IsPermanent(err)
	if open, changed := bt.br.done(r.now(), healthy); changed {
		r.metrics.CircuitOpen(team, bt.name, open)
		if open {
			r.log.Warn("target keeps failing: pausing attempts at it", zap.String("team", team), zap.String("target", bt.name),
				zap.Duration("cooldown", r.cfg.BreakerCooldown), zap.Error(err))
		} else {
			r.log.Info("target recovered", zap.String("team", team), zap.String("target", bt.name))
		}
	}
	if err != nil {
		if !targets.IsPermanent(err) {
			r.metrics.Retried(team, bt.name, retryReason(err))
		}
		return err
	}
	r.metrics.Delivered(team, bt.name, took)
	return nil
}

// deliverSafely calls the target, turning a panic in it into an error (a
// bug in one target must not stop the daemon or the other targets).
func (r *Router) deliverSafely(ctx context.Context, team string, bt *boundTarget, item *message.Routed, data []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("delivery panicked; treating it as a failed attempt", zap.String("team", team), zap.String("target", bt.name),
				zap.String("id", item.ID), zap.Any("panic", p), zap.Stack("stack"))
			err = fmt.Errorf("%s for team %s: delivery panicked: %v", bt.name, team, p)
		}
	}()
	return bt.Deliver(ctx, item, data)
}

// settle finishes an attempt: teams that have the item are done, teams that
// cannot get it are dead-lettered, and the message is acked when no team is
// left, or handed back with a delay otherwise.
func (r *Router) settle(ctx context.Context, a *attemptState, results []*teamResult) {
	lastTry := r.cfg.MaxDeliver > 0 && a.meta.NumDelivered >= uint64(r.cfg.MaxDeliver)
	var (
		retry bool
		hint  time.Duration
		dead  map[string]string
	)
	for _, res := range results {
		var reason string
		switch {
		case res.ok:
			a.rec.close(res.team, "delivered")
			a.changed = true
			r.metrics.Routed(res.team, r.now().Sub(a.env.ReceivedAt))
			a.log.Debug("item routed", zap.String("team", res.team))
			continue
		case res.unknown:
			reason = ReasonUnknownTeam
		case res.permanent:
			reason = ReasonRejected
		case lastTry:
			reason = ReasonDeliveryFailed
		default:
			retry = true
			hint = max(hint, res.hint)
			a.log.Warn("delivery failed; will retry", zap.String("team", res.team), zap.Error(res.err()))
			continue
		}
		f := deadFailure{reason: reason, team: res.team, target: res.targetNames(), rulesVersion: a.rec.Version, cause: res.err(),
			accepted: a.rec.Done[res.team]}
		if err := r.dead.put(ctx, a.msg, a.meta, f); err != nil {
			r.metrics.Redelivery("dead_letter_failed")
			a.log.Error("could not dead-letter; will retry", zap.String("team", res.team), zap.String("reason", reason), zap.Error(err))
			retry = true
			continue
		}
		a.rec.close(res.team, reason)
		a.changed = true
		if dead == nil {
			dead = map[string]string{}
		}
		dead[res.team] = reason
		r.metrics.DeadLettered(reason, res.team, f.target)
		a.log.Warn("dead-lettered", zap.String("reason", reason), zap.String("team", res.team), zap.String("target", f.target), zap.Error(f.cause))
	}
	a.stopKeepAlive()
	// Recorded before the message is acked or handed back, so that a crash
	// between the two leaves the record rather than the ack.
	r.recordOutcome(ctx, a, dead)
	if !retry {
		if r.ack(ctx, a) && a.loaded {
			if err := r.progress.remove(ctx, a.env.ID, a.meta.Sequence.Stream); err != nil {
				a.log.Debug("progress record left to expire", zap.Error(err))
			}
		}
		return
	}
	// A retry that changed nothing (the target is still down) leaves the
	// stored record as it is: one KV write less per retry of a down target.
	if r.progress != nil && (!a.loaded || a.changed) {
		if err := r.progress.save(ctx, a.rec); err != nil {
			a.log.Warn("progress not saved; the retry delivers to every target again (they are idempotent)", zap.Error(err))
		}
	}
	delay := r.retryDelay(a.meta.NumDelivered, hint)
	r.metrics.Redelivery(ReasonDeliveryFailed)
	if err := a.msg.NakWithDelay(delay); err != nil {
		a.log.Warn("nak failed; the message returns after ack_wait", zap.Error(err))
	}
}

// retryDelay is the delivery backoff (RetryMin doubling per earlier
// delivery up to RetryMax, with jitter, so that items failed together do not
// all return together), at least what a target asked for (hint), at most
// RetryMax.
func (r *Router) retryDelay(delivered uint64, hint time.Duration) time.Duration {
	p := backoff.Policy{Min: r.cfg.RetryMin, Max: r.cfg.RetryMax}
	return min(max(p.Delay(int(min(delivered, 64))), hint), r.cfg.RetryMax)
}

// deadAndAck dead-letters the whole message (it could not be routed at
// all) and acks it; if the dead letter cannot be stored the message is
// handed back instead, so nothing is dropped.
func (r *Router) deadAndAck(ctx context.Context, a *attemptState, f deadFailure) {
	if err := r.dead.put(ctx, a.msg, a.meta, f); err != nil {
		r.metrics.Redelivery("dead_letter_failed")
		a.log.Error("could not dead-letter; will retry", zap.String("reason", f.reason), zap.Error(err))
		a.stopKeepAlive()
		_ = a.msg.NakWithDelay(r.retryDelay(a.meta.NumDelivered, 0))
		return
	}
	r.metrics.DeadLettered(f.reason, "", "")
	a.log.Warn("dead-lettered", zap.String("reason", f.reason), zap.Error(f.cause))
	a.stopKeepAlive()
	r.ack(ctx, a)
}

// ack acks the message and reports whether the server confirmed it.
func (r *Router) ack(ctx context.Context, a *attemptState) bool {
	if err := a.msg.DoubleAck(ctx); err != nil {
		// The message will be redelivered; delivery is idempotent, and the
		// progress record (kept) spares the targets that accepted.
		a.log.Warn("ack not confirmed; the message may be redelivered (deduplicated downstream)", zap.Error(err))
		return false
	}
	return true
}

// depthLoop reports queue depths every DepthInterval until ctx ends.
func (r *Router) depthLoop(ctx context.Context) {
	lifecycle.Every(ctx, r.cfg.DepthInterval, r.reportDepths)
}

func (r *Router) reportDepths(ctx context.Context) {
	set := r.teams.snapshot(r.rules())
	for name, tm := range set.teams {
		for _, bt := range tm.targets {
			d, ok := bt.Target.(targets.Depther)
			if !ok {
				continue
			}
			dctx, cancel := context.WithTimeout(ctx, min(r.cfg.AttemptTimeout, 5*time.Second))
			n, err := d.Depth(dctx, name)
			cancel()
			if err != nil {
				r.log.Debug("reading queue depth failed", zap.String("team", name), zap.String("target", bt.name), zap.Error(err))
				continue
			}
			r.metrics.QueueDepth(name, bt.name, n)
		}
	}
}

// TeamsInUse lists the teams that items being retried still reference
// (their progress records), so that a rules reload removing one of them
// can be refused: their copies would otherwise be dead-lettered as
// unknown_team. Without progress records it knows none.
func (r *Router) TeamsInUse(ctx context.Context) ([]string, error) {
	if r.progress == nil {
		return nil, nil
	}
	return r.progress.teams(ctx)
}
