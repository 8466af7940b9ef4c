package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/customer"
	"github.com/switchboard/switchboard/internal/backoff"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/cli"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/console"
	"github.com/switchboard/switchboard/internal/httpapi"
	"github.com/switchboard/switchboard/internal/lifecycle"
	"github.com/switchboard/switchboard/internal/opsauth"
	"github.com/switchboard/switchboard/internal/secret"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/responses"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/cases"
	"github.com/switchboard/switchboard/router/corrections"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/reroute"
	"github.com/switchboard/switchboard/rules"
)

const runUsage = `usage: switchboard [run] [-config FILE] [-log-format auto|json|console]

Run the daemon: poll the channels, serve the intake and the ops endpoints,
route every message to its team's queue. SIGTERM or Ctrl-C stops it
gracefully within shutdown_timeout; SIGHUP reloads the rules.`

// runCmd implements "switchboard run": the daemon.
func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("switchboard run", runUsage, stdout, stderr)
	cfgPath := fs.String("config", "config.yaml", "configuration file")
	logFormat := fs.String("log-format", "", "override log.format: auto, json or console")
	if code, ok := parseNoArgs(fs, args); !ok {
		return code
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
	d := newDaemon(cfg, log)
	for _, w := range cfg.Warnings() {
		d.log.Warn(w)
	}
	d.reloadCtl.signals(ctx)
	if err := d.run(ctx); err != nil {
		d.log.Error("switchboard stopped with an error", zap.Error(err))
		return 1
	}
	return 0
}

// daemon is one running switchboard: the components of the pipeline, each
// built and started by one step of components and stopped in the reverse
// order.
type daemon struct {
	cfg *config.Config
	// secrets knows every secret of cfg and of the rules in force; log,
	// the supervisor and the connectors scrub with it.
	secrets *secret.Redactor
	// log scrubs every message and field with secrets.
	log *zap.Logger
	// ready is closed once the daemon serves (tests wait on it).
	ready chan struct{}
	// httpAddr is the bound HTTP address once ready.
	httpAddr string
	// reloadCtl asks for rules reloads (SIGHUP, SIGUSR1 forced,
	// POST /v1/rules/reload) and tells the outcome.
	reloadCtl *reloadControl
	// rulesResult, when set, hears every rules reload outcome (tests).
	rulesResult func(ok bool, version string, err error)
	// inject, when set, fails the start of the component it returns an
	// error for (tests).
	inject func(component string) error

	// What the steps build, in the order they build it.
	metrics       *telemetry.Metrics
	listener      net.Listener
	rules         *rules.Rules
	live          *rules.Live
	reloads       *console.ReloadLog
	bus           *bus.Bus
	records       *decisions.Store
	fixes         *corrections.Store
	rerouter      *reroute.Rerouter
	tracker       *responses.Tracker
	responsesPub  *responses.Publisher
	serviceLevels console.ServiceLevels
	customers     *customer.Store
	cases         *cases.Store
	router        *router.Router
	closeDelivery func()
	sup           *connectors.Supervisor
	ops           *opsauth.Auth
	mux           *http.ServeMux
	conns         []connectors.Connector
	console       *console.Server
	server        *http.Server
}

// newDaemon returns the daemon for cfg, logging to log once every secret
// of cfg is known to it and scrubbed from what it logs.
func newDaemon(cfg *config.Config, log *zap.Logger) *daemon {
	red := secret.NewRedactor()
	cfg.RegisterSecrets(red)
	return &daemon{cfg: cfg, secrets: red, log: telemetry.Redact(log, red), reloadCtl: newReloadControl()}
}

// components are the daemon's parts in the order data flows through them
// and they start; they stop in the reverse order: the HTTP server stops
// taking requests, the connectors stop polling, the router finishes what
// it holds, and only then are Redis and NATS closed.
//
// Adding a component is one entry here and a method that builds or runs
// it. Steps read what earlier steps built from the daemon when they run,
// so write d.x.Run as a method or closure, not as a method value of a
// field that is still nil when this list is made.
func (d *daemon) components() []lifecycle.Component {
	return []lifecycle.Component{
		{Name: "metrics", Start: d.startMetrics},
		{Name: "http listener", Start: d.listen, Stop: d.closeListener},
		{Name: "rules", Start: d.loadRules},
		{Name: "nats", Start: d.openBus, Stop: d.closeBus},
		{Name: "decision records", Start: d.openRecords},
		{Name: "corrections", Start: d.openCorrections},
		{Name: "customers", Start: d.openCustomers, Stop: d.closeCustomers},
		{Name: "delivery", Start: d.buildRouter, Stop: d.stopDelivery},
		{Name: "response tracker", Start: d.openResponses, Run: d.trackResponses},
		// After every stream and bucket exists (see monitorStore).
		{Name: "store monitor", Run: d.monitorStore},
		{Name: "router", Run: d.runRouter},
		{Name: "rules watcher", Run: d.watchRules},
		{Name: "supervisor", Start: d.newSupervisor},
		{Name: "ops access", Start: d.buildOpsAuth},
		{Name: "http api", Start: d.buildMux},
		{Name: "channels", Start: d.buildChannels},
		{Name: "console", Start: d.mountConsole, Run: d.runConsole},
		{Name: "connectors", Start: d.startConnectors, Stop: d.stopConnectors},
		{Name: "http server", Start: d.newServer, Run: d.serveHTTP, Stop: d.shutdownHTTP},
	}
}

// run starts every component, blocks until ctx ends or one of them fails,
// then stops them in the reverse order within shutdown_timeout.
func (d *daemon) run(ctx context.Context) error {
	defer d.log.Info("switchboard stopped")
	return lifecycle.Run(ctx, lifecycle.Options{
		Log:         d.log.Named("lifecycle"),
		StopTimeout: time.Duration(d.cfg.ShutdownTimeout),
		Inject:      d.inject,
		Ready: func() {
			d.log.Info("switchboard running",
				zap.String("http", d.httpAddr), zap.String("nats", natsDescription(d.cfg, d.bus)),
				zap.String("rules_version", d.rules.Version()), zap.Int("connectors", len(d.conns)))
			if d.ready != nil {
				close(d.ready)
			}
		},
	}, d.components()...)
}

func (d *daemon) startMetrics(context.Context) (err error) {
	d.metrics, err = telemetry.NewMetrics()
	return err
}

// listen binds http.listen first of all, so a taken port stops the daemon
// before anything else starts.
func (d *daemon) listen(context.Context) error {
	if d.cfg.HTTP.Listen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", d.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w (choose another address in config.yaml or set SWITCHBOARD_HTTP_LISTEN)", d.cfg.HTTP.Listen, err)
	}
	d.listener, d.httpAddr = ln, ln.Addr().String()
	return nil
}

// closeListener closes the listener when the server never took it over.
func (d *daemon) closeListener(context.Context) error {
	if d.listener != nil {
		_ = d.listener.Close() // already closed when the server shut down
	}
	return nil
}

// loadRules loads the rules file; its secrets are scrubbed from then on.
func (d *daemon) loadRules(context.Context) error {
	rs, err := rules.Load(d.cfg.Router.RulesFile)
	if err != nil {
		return fmt.Errorf("loading rules: %w", err)
	}
	rs.RegisterSecrets(d.secrets)
	if w := rs.Warnings(); len(w) > 0 {
		d.log.Warn("rules file has warnings", zap.String("file", d.cfg.Router.RulesFile), zap.Strings("warnings", w))
	}
	d.rules, d.live, d.reloads = rs, rules.NewLive(rs), &console.ReloadLog{}
	d.metrics.RulesInForce(rs.Version())
	return nil
}

func (d *daemon) openBus(ctx context.Context) (err error) {
	d.bus, err = bus.Open(ctx, d.cfg, d.log)
	return err
}

func (d *daemon) closeBus(context.Context) error {
	d.bus.Close()
	return nil
}

// monitorStore reads the store's usage for the metrics and readiness. It
// starts once the streams and buckets exist, so its account-info requests
// never meet a stream update (nats-server before v2.15 read an account's
// reserved storage unlocked while an update wrote it: a data race).
func (d *daemon) monitorStore(ctx context.Context) error {
	d.bus.Monitor(ctx, time.Duration(d.cfg.Delivery.DepthInterval), telemetry.StoreMetrics{M: d.metrics})
	return nil
}

func (d *daemon) openRecords(ctx context.Context) (err error) {
	d.records, err = decisions.Open(ctx, d.bus.JS, decisionsConfig(d.cfg))
	return err
}

// openCorrections opens the operators' corrections and, when the rules
// learn from them, retrains the model with them (the first load, before
// NATS was up, had none).
func (d *daemon) openCorrections(ctx context.Context) (err error) {
	if d.fixes, err = corrections.Open(ctx, d.bus.JS, correctionsConfig(d.cfg)); err != nil {
		return err
	}
	rs, err := learnAtStart(ctx, d.cfg.Router.RulesFile, d.rules, d.fixes, d.log)
	if err != nil {
		return err
	}
	if rs != d.rules {
		rs.RegisterSecrets(d.secrets)
		d.rules = rs
		d.live.Swap(rs)
		d.metrics.RulesInForce(rs.Version())
	}
	d.rerouter = newRerouter(d.bus, d.records, d.fixes, d.live)
	return nil
}

// buildRouter builds the router and its delivery targets from the rules in
// force; the rules watcher keeps them current.
func (d *daemon) buildRouter(ctx context.Context) (err error) {
	d.router, d.closeDelivery, err = buildRouter(ctx, d.cfg, d.bus, func() router.Ruleset { return d.live.Current() }, d.metrics, d.log.Named("router"),
		routerContext{records: d.records, customers: d.customers, cases: d.cases})
	return err
}

// stopDelivery releases the targets' clients (Redis) after the router stopped.
func (d *daemon) stopDelivery(context.Context) error {
	d.closeDelivery()
	return nil
}

// runRouter routes until stopped, then finishes what it holds within
// shutdown_timeout; what is unacked then is redelivered at the next start.
func (d *daemon) runRouter(ctx context.Context) error {
	return d.router.Run(ctx, time.Duration(d.cfg.ShutdownTimeout))
}

// watchRules follows the rules file (and SIGHUP). A file the rules package
// accepts is still refused if the router cannot build its teams' targets;
// either way the previous rules keep running.
func (d *daemon) watchRules(ctx context.Context) error {
	return rules.Watch(ctx, d.cfg.Router.RulesFile, d.live, rules.WatchOptions{
		Reload:      d.reloadCtl.reload,
		Force:       d.reloadCtl.force,
		TeamsInUse:  d.router.TeamsInUse,
		Log:         d.log.Named("rules"),
		Corrections: modelCorrections(d.fixes),
		Check: func(r *rules.Rules) error {
			r.RegisterSecrets(d.secrets) // before a target could log them
			return d.router.Check(r)
		},
		OnResult: func(ok bool, version string, err error) {
			d.metrics.RulesReloaded(ok, version)
			d.reloads.Reloaded(ok, version, err)
			d.reloadCtl.done(ok, version, err)
			if d.rulesResult != nil {
				d.rulesResult(ok, version, err)
			}
		},
	})
}

func (d *daemon) newSupervisor(context.Context) error {
	cfg := d.cfg
	opts := connectors.SupervisorOptions{
		Publisher:   d.bus,
		Checkpoints: bus.Checkpoints{KV: d.bus.KV},
		Backoff:     backoff.Policy{Min: time.Duration(cfg.Supervisor.BackoffMin), Max: time.Duration(cfg.Supervisor.BackoffMax)},
		Log:         d.log.Named("supervisor"),
		Observer:    telemetry.ConnectorMetrics{M: d.metrics},
		Redactor:    d.secrets,
	}
	if d.responsesPub != nil { // a nil *Publisher in the interface would not be nil
		opts.Responses = d.responsesPub
	}
	d.sup = connectors.NewSupervisor(opts)
	return nil
}

func (d *daemon) buildOpsAuth(context.Context) (err error) {
	d.ops, err = opsAuth(d.cfg, d.log)
	return err
}

// buildMux makes the HTTP API: health and readiness for probes, metrics
// and connector statuses behind the ops token; the channels and the
// console mount theirs next to them.
func (d *daemon) buildMux(context.Context) error {
	d.mux = httpapi.NewMux(httpapi.Options{
		Checks:   httpapi.Checks{Ready: d.readiness, Statuses: d.sup.Statuses},
		Registry: d.metrics.Registry,
		Guard:    func(h http.Handler) http.Handler { return d.ops.API(opsauth.RoleReadOnly, h) },
	})
	return nil
}

// readiness says whether this instance can work: the backbone is
// connected, its streams exist and it has room, and every connector has
// made its first attempt. A connector whose third-party credentials were
// rejected does not make the daemon unready (the intake and the other
// channels still work): GET /v1/connectors, the connector state metric
// and the SwitchboardConnectorUnauthorized alert report it.
func (d *daemon) readiness(ctx context.Context) []httpapi.Problem {
	var ps []httpapi.Problem
	if err := d.bus.Ready(ctx); err != nil {
		reason := "backbone unavailable"
		var full interface{ Full() string }
		if errors.As(err, &full) {
			reason = full.Full()
		}
		ps = append(ps, httpapi.Problem{Reason: reason, Detail: d.secrets.Scrub(err.Error())})
	}
	if names := d.sup.Pending(); len(names) > 0 {
		ps = append(ps, httpapi.Problem{Reason: "connectors starting", Detail: "waiting for the first attempt of " + strings.Join(names, ", ")})
	}
	return ps
}

// buildChannels builds every configured channel's connectors, mounting
// their HTTP handlers (the intake, webhooks).
func (d *daemon) buildChannels(context.Context) error {
	deps := wireDeps{cfg: d.cfg, log: d.log, secrets: d.secrets, metrics: d.metrics.Registry, handle: d.mux.Handle}
	for _, build := range channelBuilders() {
		cs, err := build(deps)
		if err != nil {
			return err
		}
		d.conns = append(d.conns, cs...)
	}
	return nil
}

func (d *daemon) mountConsole(ctx context.Context) (err error) {
	d.mountHandled(d.mux)
	d.mountReload()
	if err := d.mountCustomers(ctx); err != nil {
		return err
	}
	d.console, err = mountConsole(d.mux, consoleDeps{cfg: d.cfg, log: d.log, bus: d.bus, ops: d.ops, records: d.records, sup: d.sup,
		metrics: d.metrics, live: d.live, reloads: d.reloads, rerouter: d.rerouter,
		serviceLevels: d.serviceLevels})
	return err
}

// runConsole samples the console's counters.
func (d *daemon) runConsole(ctx context.Context) error {
	d.console.Run(ctx)
	return nil
}

// startConnectors starts polling; ctx ends when the connectors stop.
func (d *daemon) startConnectors(ctx context.Context) error {
	for _, c := range d.conns {
		if err := d.sup.Start(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// stopConnectors waits for the connectors, whose ctx ended, to return.
func (d *daemon) stopConnectors(ctx context.Context) error {
	if !waitFor(ctx, d.sup.Wait) {
		return errors.New("connectors did not stop within shutdown_timeout")
	}
	return nil
}

// newServer makes the HTTP server: every request is read and answered
// within the configured timeouts, so a client sending a body slowly cannot
// hold a connection.
func (d *daemon) newServer(context.Context) error {
	if d.listener == nil {
		return nil
	}
	h := d.cfg.HTTP
	d.server = &http.Server{
		Handler:           d.mux,
		ReadHeaderTimeout: min(10*time.Second, time.Duration(h.ReadTimeout)),
		ReadTimeout:       time.Duration(h.ReadTimeout),
		WriteTimeout:      time.Duration(h.WriteTimeout),
		IdleTimeout:       time.Duration(h.IdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          zap.NewStdLog(d.log.Named("http")),
	}
	return nil
}

// serveHTTP serves the intake, the ops endpoints and the console.
func (d *daemon) serveHTTP(ctx context.Context) error {
	if d.server == nil {
		<-ctx.Done()
		return nil
	}
	if err := d.server.Serve(d.listener); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdownHTTP stops taking requests and lets the ones in flight (an
// intake post being stored) finish.
func (d *daemon) shutdownHTTP(ctx context.Context) error {
	if d.server == nil {
		return nil
	}
	return d.server.Shutdown(ctx)
}

func natsDescription(cfg *config.Config, b *bus.Bus) string {
	if cfg.NATS.URL == "" {
		return "embedded " + b.ClientURL()
	}
	return "external"
}

// waitFor runs wait and reports whether it returned before ctx ended.
func waitFor(ctx context.Context, wait func()) bool {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}
