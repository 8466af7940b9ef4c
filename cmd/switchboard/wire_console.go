package main

import (
	"net/http"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/bus"
	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/console"
	"github.com/switchboard/switchboard/internal/opsauth"
	"github.com/switchboard/switchboard/internal/telemetry"
	"github.com/switchboard/switchboard/internal/trace"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/router/reroute"
	"github.com/switchboard/switchboard/rules"
)

// decisionsConfig names the decision records stream: the daemon (which
// creates it) and the trace and messages commands (which attach to it)
// must agree. Records live as long as the ingest stream keeps items.
func decisionsConfig(cfg *config.Config) decisions.Config {
	subjects := bus.NewSubjects(cfg.Streams)
	return decisions.Config{
		Stream:   subjects.DecisionStream,
		Subjects: subjects.Decisions(),
		MaxAge:   time.Duration(cfg.Streams.Ingest.MaxAge),
		Replicas: cfg.Streams.Replicas,
	}
}

// opsTokenFile is where the daemon keeps the ops token it generates when
// the configuration lists none.
func opsTokenFile(cfg *config.Config) string { return filepath.Join(cfg.DataDir, "ops-token") }

// opsAuth builds ops access from http.ops. Without configured tokens it
// uses (creating it at the first start) an admin token in
// <data_dir>/ops-token, so the console is never open and never guarded by
// a guessable default; when that file cannot be had, guarded paths refuse
// and say how to configure a token.
func opsAuth(cfg *config.Config, log *zap.Logger) (*opsauth.Auth, error) {
	o := cfg.HTTP.Ops
	var tokens []opsauth.Token
	for _, t := range o.Tokens {
		role, err := opsauth.ParseRole(t.Role)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, opsauth.Token{Name: t.Name, Role: role, Value: t.Token.Reveal()})
	}
	if len(tokens) == 0 && cfg.DataDir != "" {
		path := opsTokenFile(cfg)
		v, created, err := opsauth.LoadOrCreateToken(path)
		switch {
		case err != nil:
			log.Warn("no ops token: the console and the /v1 read endpoints refuse until http.ops.tokens lists one", zap.Error(err))
		default:
			tokens = append(tokens, opsauth.Token{Name: opsauth.GeneratedTokenName, Role: opsauth.RoleAdmin, Value: v})
			if created {
				log.Info("generated an admin ops token for the console (no http.ops.tokens configured)", zap.String("file", path))
			}
		}
	}
	return opsauth.New(opsauth.Options{Tokens: tokens, SessionTTL: time.Duration(o.SessionTTL), ExternalURL: cfg.HTTP.ExternalURL})
}

// consoleDeps is what the console and the message endpoints are built from.
type consoleDeps struct {
	cfg     *config.Config
	log     *zap.Logger
	bus     *bus.Bus
	ops     *opsauth.Auth
	records *decisions.Store
	sup     *connectors.Supervisor
	metrics *telemetry.Metrics
	live    *rules.Live
	reloads *console.ReloadLog
	// rerouter backs the trace page's reroute action.
	rerouter *reroute.Rerouter
	// serviceLevels backs the service levels page (nil: responses off).
	serviceLevels console.ServiceLevels
}

// mountConsole mounts the console (/ui/) and the message endpoints
// (GET /v1/messages/{id}, GET /v1/messages), all behind the ops token, and
// returns the console, whose Run samples its counters.
func mountConsole(mux *http.ServeMux, d consoleDeps) (*console.Server, error) {
	b := d.bus
	src := &trace.Source{JS: b.JS, IngestStream: b.Subjects.IngestStream, Records: d.records}
	var rr console.Rerouter // a nil *reroute.Rerouter must stay a nil interface
	if d.rerouter != nil {
		rr = d.rerouter
	}
	c, err := console.New(console.Deps{
		Auth:       d.ops,
		Messages:   src,
		History:    d.records,
		Connectors: d.sup,
		Metrics:    d.metrics.Registry,
		Rules:      d.live,
		Reloads:    d.reloads,
		Dead:       router.NewDeadLetters(b.JS, b.Subjects.DeadStream, b.Subjects.IngestStream, b.Subjects.Dead),
		Backtest:   console.IngestBacktester{JS: b.JS, Stream: b.Subjects.IngestStream, Filter: b.Subjects.AllIngest()},
		Storage: console.JetStreamStorage{JS: b.JS, DeadStream: b.Subjects.DeadStream,
			Streams: []string{b.Subjects.IngestStream, b.Subjects.TeamStream, b.Subjects.DeadStream, decisionsConfig(d.cfg).Stream}},
		Rerouter:      rr,
		ServiceLevels: d.serviceLevels,
		Log:           d.log.Named("console"),
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("/ui/", c.Handler())
	mux.Handle("GET /v1/messages/{id...}", d.ops.API(opsauth.RoleReadOnly, trace.GetHandler(src)))
	mux.Handle("GET /v1/messages", d.ops.API(opsauth.RoleReadOnly, trace.SearchHandler(src, nil)))
	if d.rerouter != nil {
		mux.Handle("POST /v1/messages/{id}/reroute", d.ops.API(opsauth.RoleAdmin, reroute.Handler(d.rerouter)))
	}
	return c, nil
}
