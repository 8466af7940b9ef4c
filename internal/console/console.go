// Package console is the ops console served under /ui/: server-rendered
// HTML pages (html/template, embedded in the binary, no JavaScript) for
// ops to see what needs attention, find an item and why it went where it
// did, look at and try the rules, and re-drive dead letters.
//
// Every page sits behind opsauth: a read-only token can see, an admin can
// act; every form carries the session's CSRF token. Everything shown from
// outside (message text, names, errors) is escaped by html/template, and
// nothing secret is rendered: connector errors come scrubbed from the
// supervisor, webhook URLs and secrets in the rules file are redacted, and
// no token or configuration secret is ever on a page.
//
// The console is built from small interfaces, so a feature that has not
// landed yet is a nil field: Rerouter (the classification work adds
// rerouting) and ServiceLevels (the responses work adds response times).
package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/internal/lifecycle"
	"github.com/switchboard/switchboard/internal/opsauth"
	"github.com/switchboard/switchboard/internal/trace"
	"github.com/switchboard/switchboard/router"
	"github.com/switchboard/switchboard/router/decisions"
	"github.com/switchboard/switchboard/rules"
	"github.com/switchboard/switchboard/rules/backtest"
)

// Connectors lists the connectors; *connectors.Supervisor is one.
type Connectors interface {
	Statuses() []connectors.Status
}

// Rules returns the rules in force; *rules.Live is one.
type Rules interface {
	Current() *rules.Rules
}

// DeadLetters lists, reads and replays dead letters; *router.DeadLetters
// is one.
type DeadLetters interface {
	List(ctx context.Context, q router.DeadQuery) ([]router.DeadEntry, error)
	Get(ctx context.Context, seq uint64) (router.DeadEntry, error)
	Replay(ctx context.Context, e router.DeadEntry) (router.ReplayResult, error)
}

// History adds to an item's decision record (who replayed or rerouted
// it); *decisions.Store is one.
type History interface {
	Update(ctx context.Context, id string, change func(*decisions.Record) (*decisions.Record, error)) (*decisions.Record, error)
}

// Backtester replays stored messages through the live rules and a
// candidate; IngestBacktester is one.
type Backtester interface {
	Backtest(ctx context.Context, live, candidate *rules.Rules, last int) (*backtest.Report, error)
}

// Storage reports how full the JetStream store and streams are;
// JetStreamStorage is one.
type Storage interface {
	Usage(ctx context.Context) (StorageUsage, error)
}

// Rerouter sends an item to other teams on an operator's word. It is nil
// until the classification work adds rerouting; the trace page then offers
// the action to admins.
type Rerouter interface {
	// Reroute delivers item id to teams instead of where it went; by names
	// the operator (for the item's history).
	Reroute(ctx context.Context, id string, teams []string, by string) error
}

// ServiceLevels reports response rates and times per team and channel. It
// is nil until the responses work measures the company's replies; the
// service levels page says so until then.
type ServiceLevels interface {
	ServiceLevels(ctx context.Context, q SLQuery) (*SLReport, error)
}

// Deps is what the console shows and acts on. Auth, Messages, Rules and
// Connectors are required; any other nil field hides what needs it.
type Deps struct {
	// Auth guards every page.
	Auth *opsauth.Auth
	// Messages finds items and their traces.
	Messages trace.Finder
	// History records operators' actions in items' decision records.
	History History
	// Connectors lists connector statuses.
	Connectors Connectors
	// Metrics is the daemon's registry: queue depths, routed and dead
	// counts, paused targets.
	Metrics prometheus.Gatherer
	// Rules is the rules in force; Reloads the outcome of the last reload.
	Rules   Rules
	Reloads *ReloadLog
	// Dead is the dead-letter stream.
	Dead DeadLetters
	// Backtest runs the backtest form.
	Backtest Backtester
	// Storage reports store usage.
	Storage Storage
	// Rerouter and ServiceLevels are hooks for work that has not landed.
	Rerouter      Rerouter
	ServiceLevels ServiceLevels
	// Log receives what goes wrong behind a page.
	Log *zap.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Server serves the console.
type Server struct {
	d       Deps
	pages   *pages
	window  *window
	started time.Time
}

// New returns the console for d.
func New(d Deps) (*Server, error) {
	if d.Auth == nil || d.Messages == nil || d.Rules == nil || d.Connectors == nil {
		return nil, errors.New("console: Deps.Auth, Messages, Rules and Connectors are required")
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{d: d, pages: p, started: d.Now()}
	s.window = newWindow(s.started, 25*time.Hour)
	return s, nil
}

// sampleEvery is how often counters are sampled for the last hour and day.
const sampleEvery = time.Minute

// Run samples the counters the overview shows as "last hour" and "last
// day" until ctx ends.
func (s *Server) Run(ctx context.Context) {
	lifecycle.Every(ctx, sampleEvery, func(context.Context) { s.window.add(s.d.Now(), s.counters()) })
}

// Handler returns the console's routes, all under /ui/; mount it with
// mux.Handle("/ui/", s.Handler()).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	auth := s.d.Auth
	see := func(h http.HandlerFunc) http.Handler { return auth.Page(opsauth.RoleReadOnly, h) }
	act := func(h http.HandlerFunc) http.Handler { return auth.Page(opsauth.RoleAdmin, h) }

	mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", staticHandler()))
	mux.HandleFunc("GET /ui/login", s.loginForm)
	mux.HandleFunc("POST /ui/login", s.login)
	mux.Handle("POST /ui/logout", see(s.logout))

	mux.Handle("GET /ui/{$}", see(s.overview))
	mux.Handle("GET /ui/messages", see(s.messages))
	mux.Handle("GET /ui/trace", see(s.trace))
	mux.Handle("POST /ui/reroute", act(s.reroute))
	mux.Handle("GET /ui/rules", see(s.rulesPage))
	// The playground and the backtest change nothing: a read-only token
	// may use them (the form is still CSRF-checked).
	mux.Handle("POST /ui/rules/playground", see(s.playground))
	mux.Handle("POST /ui/rules/backtest", see(s.backtest))
	mux.Handle("GET /ui/dead", see(s.deadList))
	mux.Handle("GET /ui/dead/{seq}", see(s.deadOne))
	mux.Handle("POST /ui/dead/replay", act(s.deadReplay))
	mux.Handle("GET /ui/service-levels", see(s.serviceLevels))
	mux.Handle("/ui/", see(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "There is no such page.")
	}))
	return secureHeaders(mux)
}

// secureHeaders sets what every console answer carries: no script may
// run, nothing may frame the console, nothing is cached.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		if hd.Get("Cache-Control") == "" {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}
