package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/httpapi"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/router"
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
	d := &daemon{cfg: cfg, log: log}
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

	rt := router.New(router.Config{
		Stream:        b.Subjects.IngestStream,
		FilterSubject: b.Subjects.Prefix + ".ingest.>",
		Consumer:      cfg.Router.Consumer,
		AckWait:       time.Duration(cfg.Router.AckWait),
		MaxDeliver:    cfg.Router.MaxDeliver,
		Workers:       cfg.Router.Workers,
	}, b.JS, rs,
		router.NewNATSQueue(b.JS, b.Subjects.TeamStream, b.Subjects.Team),
		router.NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.Dead),
		telemetry.RouterMetrics{M: metrics}, log.Named("router"))

	// Producers (connectors, HTTP) and the router stop separately, so that
	// the router can finish in-flight work after polling stopped.
	prodCtx, stopProducers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopProducers()
	routerCtx, stopRouter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRouter()

	routerDone := make(chan error, 1)
	go func() { routerDone <- rt.Run(routerCtx, time.Duration(cfg.ShutdownTimeout)) }()

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

// waitFor runs wait, giving up when ctx ends first.
func waitFor(ctx context.Context, wait func()) {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
