package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/cases"
	"github.com/switchboard/switchboard/router/targets"
)

// newTargetFactory builds what the teams' delivery targets share: the NATS
// team queue (on js, which may be nil where nothing is delivered, as in
// config check), the Redis client when delivery.redis.url is set, the
// webhook HTTP client and defaults, and the webhook host allow-list.
// closeDelivery releases the Redis client.
func newTargetFactory(cfg *config.Config, js jetstream.JetStream, subjects bus.Subjects, log *zap.Logger) (f *targets.Factory, closeDelivery func(), err error) {
	dc := cfg.Delivery
	f = &targets.Factory{
		NATS: targets.NewNATS(js, subjects.TeamStream, subjects.Team),
		HTTP: &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		}},
		DedupTTL:            time.Duration(dc.Redis.DedupTTL),
		WebhookTimeout:      time.Duration(dc.Webhook.Timeout),
		AllowedWebhookHosts: dc.Webhook.AllowedHosts,
	}
	closeDelivery = func() {}
	if dc.Redis.URL != "" {
		rc, err := targets.NewRedisClient(dc.Redis)
		if err != nil {
			return nil, nil, err
		}
		f.Redis = rc
		// go-redis logs pool trouble through its own global logger; keep
		// the daemon's log one format.
		redis.SetLogger(targets.RedisLogger{L: log.Named("redis")})
		closeDelivery = func() {
			if err := rc.Close(); err != nil {
				log.Debug("closing the redis client", zap.Error(err))
			}
		}
	}
	return f, closeDelivery, nil
}

// buildRouter builds the router and what its targets need: the NATS team
// queue, the Redis client (when delivery.redis.url is set), the webhook
// HTTP client, the dead-letter stream and the router's KV buckets. It checks
// that every team's targets can be built from the rules in force.
// closeDelivery releases the Redis client; call it after the router stopped.
func buildRouter(ctx context.Context, cfg *config.Config, b *bus.Bus, rulesFn router.RulesFunc, metrics *telemetry.Metrics, log *zap.Logger, rc routerContext) (rt *router.Router, closeDelivery func(), err error) {
	dc := cfg.Delivery
	factory, closeDelivery, err := newTargetFactory(cfg, b.JS, b.Subjects, log)
	if err != nil {
		return nil, nil, err
	}
	state := router.StateConfig{ProgressBucket: dc.ProgressBucket, Replicas: cfg.Streams.Replicas}
	if dc.ThreadStickiness.On() {
		state.ThreadBucket, state.ThreadTTL = dc.ThreadStickiness.Bucket, time.Duration(dc.ThreadStickiness.TTL)
	}
	progress, threads, err := router.OpenState(ctx, b.JS, state)
	if err != nil {
		closeDelivery()
		return nil, nil, err
	}
	deps := router.Deps{
		JS:       b.JS,
		Rules:    rulesFn,
		Targets:  factory,
		Dead:     router.NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.IngestStream, b.Subjects.Dead),
		Progress: progress,
		Threads:  threads,
		Metrics:  telemetry.RouterMetrics{M: metrics},
		Log:      log,
	}
	// A nil *Store in an interface would not be nil: set only what is there.
	if rc.records != nil {
		deps.Records = rc.records
	}
	if rc.customers != nil {
		linker := cases.Linker{Customers: rc.customers, Log: log.Named("customers")}
		if rc.cases != nil {
			linker.Cases = rc.cases
		}
		deps.Customers = linker
		if rc.cases != nil {
			deps.Cases = rc.cases
		}
	}
	rt = router.New(router.Config{
		Stream:          b.Subjects.IngestStream,
		FilterSubject:   b.Subjects.AllIngest(),
		Consumer:        cfg.Router.Consumer,
		AckWait:         time.Duration(cfg.Router.AckWait),
		MaxDeliver:      cfg.Router.MaxDeliver,
		Workers:         cfg.Router.Workers,
		MaxPending:      dc.MaxPending,
		RetryMin:        time.Duration(dc.RetryMin),
		RetryMax:        time.Duration(dc.RetryMax),
		AttemptTimeout:  time.Duration(dc.AttemptTimeout),
		BreakerFailures: dc.Breaker.Failures,
		BreakerCooldown: time.Duration(dc.Breaker.Cooldown),
		DepthInterval:   time.Duration(dc.DepthInterval),
	}, deps)
	rs := rulesFn()
	if err := rt.Check(rs); err != nil {
		closeDelivery()
		return nil, nil, fmt.Errorf("delivery targets in the rules: %w", err)
	}
	for _, t := range rs.Teams() {
		names := make([]string, 0, len(t.Targets))
		for _, tg := range t.Targets {
			names = append(names, tg.String()) // never a credential
		}
		log.Info("team delivery targets", zap.String("team", t.Name), zap.Strings("targets", names))
	}
	return rt, closeDelivery, nil
}
