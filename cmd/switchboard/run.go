package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/httpapi"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/responses"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/targets"
	"github.com/switchboard/switchboard/rules"
)

// runCmd implements "switchboard run": the daemon.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file")
	logFormat := fs.String("log-format", "", "override log.format: json or console")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "switchboard run: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *logFormat != "" {
		cfg.Log.Format = *logFormat
	}
	log, err := telemetry.NewLogger(cfg.Log.Format, cfg.Log.Level, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "switchboard:", err)
		return 1
	}
	defer func() { _ = log.Sync() }()
	d := &daemon{cfg: cfg, log: log, reload: sighup(ctx)}
	if err := d.run(ctx); err != nil {
		log.Error("switchboard stopped with an error", zap.Error(err))
		return 1
	}
	return 0
}

// daemon is one running switchboard.
type daemon struct {
	cfg *config.Config
	log *zap.Logger
	// ready is closed once the daemon serves (tests wait on it).
	ready chan struct{}
	// httpAddr is the bound HTTP address once ready.
	httpAddr string
	// bus is the backbone once ready.
	bus *bus.Bus
	// reload asks for a rules reload (SIGHUP); nil: only file changes reload.
	reload <-chan struct{}
	// rulesResult, when set, hears every rules reload outcome (tests).
	rulesResult func(ok bool, version string, err error)
}

// run starts everything, blocks until ctx ends, then shuts down gracefully:
// stop accepting and polling, let the router finish what is in flight, close
// the backbone.
func (d *daemon) run(ctx context.Context) error {
	cfg, log := d.cfg, d.log
	metrics := telemetry.NewMetrics()

	// Fail fast on a taken HTTP port, before anything else starts.
	var ln net.Listener
	if cfg.HTTP.Listen != "" {
		var err error
		ln, err = net.Listen("tcp", cfg.HTTP.Listen)
		if err != nil {
			return fmt.Errorf("http.listen %s: %w (choose another address in config.yaml or set SWITCHBOARD_HTTP_LISTEN)", cfg.HTTP.Listen, err)
		}
		defer ln.Close()
	}
	rs, err := rules.Load(cfg.Router.RulesFile)
	if err != nil {
		return fmt.Errorf("loading rules: %w", err)
	}
	b, err := bus.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.Close()
	d.bus = b

	sup := connectors.NewSupervisor(b, bus.Checkpoints{KV: b.KV},
		connectors.Backoff{Min: time.Duration(cfg.Supervisor.BackoffMin), Max: time.Duration(cfg.Supervisor.BackoffMax)},
		log.Named("supervisor"), telemetry.ConnectorMetrics{M: metrics})

	mux := httpapi.NewMux(httpapi.Checks{
		Ready: func(ctx context.Context) error {
			if err := b.Ready(ctx); err != nil {
				return err
			}
			if names := sup.Unauthorized(); len(names) > 0 {
				return fmt.Errorf("connectors unauthorized: %s", strings.Join(names, ", "))
			}
			return nil
		},
		Statuses: sup.Statuses,
	}, metrics.Registry)

	var conns []connectors.Connector
	deps := wireDeps{cfg: cfg, log: log, metrics: metrics.Registry, handle: mux.Handle}
	for _, build := range channelBuilders() {
		cs, err := build(deps)
		if err != nil {
			return err
		}
		conns = append(conns, cs...)
	}

	live := rules.NewLive(rs)
	metrics.RulesInForce(rs.Version())
	if w := rs.Warnings(); len(w) > 0 {
		log.Warn("rules file has warnings", zap.String("file", cfg.Router.RulesFile), zap.Strings("warnings", w))
	}
	rt, closeDelivery, err := buildRouter(ctx, cfg, b, func() router.Ruleset { return live.Current() }, metrics, log.Named("router"))
	if err != nil {
		return err
	}
	// Deferred after b.Close, so it runs first: Redis closes before NATS,
	// and only after the router stopped (below).
	defer closeDelivery()

	var tracker *responses.Tracker
	if cfg.Responses.On() {
		// The router's decision records store, once the router writes
		// records, must be this same one.
		records, err := decisions.Open(ctx, b.JS, decisionsConfig(cfg))
		if err != nil {
			return err
		}
		if tracker, err = buildTracker(ctx, cfg, b.JS, records, mux, metrics.Registry, log.Named("responses")); err != nil {
			return fmt.Errorf("response tracker: %w", err)
		}
	}

	// Producers (connectors, HTTP) and the router stop separately, so that
	// the router can finish in-flight work after polling stopped.
	prodCtx, stopProducers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopProducers()
	routerCtx, stopRouter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRouter()

	// The rules follow their file (and SIGHUP) until shutdown. A file the
	// rules package accepts is still refused if the router cannot build its
	// teams' targets; either way the previous rules keep running.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watchDone := make(chan error, 1)
	go func() {
		watchDone <- rules.Watch(watchCtx, cfg.Router.RulesFile, live, rules.WatchOptions{
			Reload: d.reload,
			Log:    log.Named("rules"),
			Check:  func(r *rules.Rules) error { return rt.Check(r) },
			OnResult: func(ok bool, version string, err error) {
				metrics.RulesReloaded(ok, version)
				if d.rulesResult != nil {
					d.rulesResult(ok, version, err)
				}
			},
		})
	}()

	routerDone := make(chan error, 1)
	go func() { routerDone <- rt.Run(routerCtx, time.Duration(cfg.ShutdownTimeout)) }()

	// The tracker follows what the router decides; it stops after it.
	trackerCtx, stopTracker := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTracker()
	trackerDone := make(chan error, 1)
	if tracker != nil {
		go func() { trackerDone <- tracker.Run(trackerCtx) }()
	}

	for _, c := range conns {
		if err := sup.Start(prodCtx, c); err != nil {
			return err
		}
	}

	var srv *http.Server
	httpDone := make(chan error, 1)
	if ln != nil {
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(log.Named("http"))}
		go func() { httpDone <- srv.Serve(ln) }()
		d.httpAddr = ln.Addr().String()
	}
	log.Info("switchboard running",
		zap.String("http", d.httpAddr), zap.String("nats", natsDescription(cfg, b)),
		zap.String("rules_version", rs.Version()), zap.Int("connectors", len(conns)))
	if d.ready != nil {
		close(d.ready)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down: stopping intake and polling, draining in-flight work")
	case err := <-httpDone:
		runErr = fmt.Errorf("http server: %w", err)
	case err := <-routerDone:
		runErr = fmt.Errorf("router stopped: %w", err)
		routerDone <- nil
	case err := <-trackerDone:
		runErr = fmt.Errorf("response tracker stopped: %w", err)
		trackerDone <- nil
	case err := <-watchDone:
		if err != nil {
			runErr = fmt.Errorf("rules hot reload: %w", err)
		}
	}

	deadline := time.Duration(cfg.ShutdownTimeout)
	shutCtx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if srv != nil {
		if err := srv.Shutdown(shutCtx); err != nil {
			log.Warn("http shutdown did not finish in time", zap.Error(err))
		}
	}
	stopProducers()
	waitFor(shutCtx, sup.Wait)
	stopRouter()
	select {
	case <-routerDone:
	case <-shutCtx.Done():
		log.Warn("router did not drain within shutdown_timeout; unacked messages will be redelivered on the next start")
	}
	stopTracker()
	if tracker != nil {
		select {
		case <-trackerDone:
		case <-shutCtx.Done():
			log.Warn("response tracker did not stop within shutdown_timeout; what it had not acked is handled again at the next start")
		}
	}
	log.Info("switchboard stopped")
	if errors.Is(runErr, http.ErrServerClosed) {
		runErr = nil
	}
	return runErr
}

func natsDescription(cfg *config.Config, b *bus.Bus) string {
	if cfg.NATS.URL == "" {
		return "embedded " + b.ClientURL()
	}
	return "external"
}

// sighup turns SIGHUP into rules reload requests until ctx ends. A burst of
// signals while a reload is pending asks for one reload.
func sighup(ctx context.Context) <-chan struct{} {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	reload := make(chan struct{}, 1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}
	}()
	return reload
}

// waitFor runs wait, giving up when ctx ends first.
func waitFor(ctx context.Context, wait func()) {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// buildRouter builds the router and what its targets need: the NATS team
// queue, the Redis client (when delivery.redis.url is set), the webhook
// HTTP client, the dead-letter stream and the router's KV buckets. It checks
// that every team's targets can be built from the rules in force.
// closeDelivery releases the Redis client; call it after the router stopped.
func buildRouter(ctx context.Context, cfg *config.Config, b *bus.Bus, rulesFn router.RulesFunc, metrics *telemetry.Metrics, log *zap.Logger) (rt *router.Router, closeDelivery func(), err error) {
	dc := cfg.Delivery
	factory := &targets.Factory{
		NATS: targets.NewNATS(b.JS, b.Subjects.TeamStream, b.Subjects.Team),
		HTTP: &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		}},
		DedupTTL:       time.Duration(dc.Redis.DedupTTL),
		WebhookTimeout: time.Duration(dc.Webhook.Timeout),
	}
	closeDelivery = func() {}
	if dc.Redis.URL != "" {
		rc, err := targets.NewRedisClient(dc.Redis)
		if err != nil {
			return nil, nil, err
		}
		factory.Redis = rc
		// go-redis logs pool trouble through its own global logger; keep
		// the daemon's log one format.
		redis.SetLogger(targets.RedisLogger{L: log.Named("redis")})
		closeDelivery = func() {
			if err := rc.Close(); err != nil {
				log.Debug("closing the redis client", zap.Error(err))
			}
		}
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
	rt = router.New(router.Config{
		Stream:          b.Subjects.IngestStream,
		FilterSubject:   b.Subjects.Prefix + ".ingest.>",
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
	}, router.Deps{
		JS:       b.JS,
		Rules:    rulesFn,
		Targets:  factory,
		Dead:     router.NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.IngestStream, b.Subjects.Dead),
		Progress: progress,
		Threads:  threads,
		Metrics:  telemetry.RouterMetrics{M: metrics},
		Log:      log,
	})
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
