// Package httpapi serves the daemon's operational HTTP endpoints: health,
// readiness, metrics and connector status; channels mount their own
// handlers (the intake, webhooks) and the console its pages on the same
// mux.
//
// Who may use what: /healthz and /readyz answer anyone, because probes
// carry no token, and say no more than ready or not and a reason that
// names nothing (no connector, address or error). Everything else here
// (/metrics, /v1/connectors with its errors and checkpoints, and the
// details of /readyz?verbose) is behind the ops token.
package httpapi

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/connectors"
)

// Problem is one reason the daemon cannot work yet.
type Problem struct {
	// Reason is safe to show anyone: a few words that name no connector,
	// address or error ("backbone unavailable", "connectors starting").
	Reason string `json:"reason"`
	// Detail is for ops, behind the ops token: which connectors, the error.
	Detail string `json:"detail,omitempty"`
}

// Checks are what the endpoints report on.
type Checks struct {
	// Ready returns why the daemon cannot work yet; none when it can.
	Ready func(ctx context.Context) []Problem
	// Statuses lists the connectors.
	Statuses func() []connectors.Status
}

// Options configure NewMux.
type Options struct {
	Checks Checks
	// Registry is what /metrics serves.
	Registry *prometheus.Registry
	// Guard puts a handler behind the ops token (opsauth's API guard with
	// the read-only role). Required: without it nothing is guarded.
	Guard func(http.Handler) http.Handler
}

// readyTimeout bounds one readiness check.
const readyTimeout = 3 * time.Second

// NewMux returns a mux with /healthz, /readyz, /metrics and /v1/connectors.
func NewMux(o Options) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	verbose := o.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps := o.check(r.Context())
		WriteJSON(w, readyCode(ps), map[string]any{"status": status(ps), "problems": nonNil(ps)})
	}))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("verbose") {
			verbose.ServeHTTP(w, r)
			return
		}
		ps := o.check(r.Context())
		body := map[string]string{"status": status(ps)}
		if len(ps) > 0 {
			body["reason"] = reasons(ps)
		}
		WriteJSON(w, readyCode(ps), body)
	})
	mux.Handle("GET /metrics", o.Guard(promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{Registry: o.Registry})))
	mux.Handle("GET /v1/connectors", o.Guard(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]any{"connectors": o.Checks.Statuses()})
	})))
	return mux
}

func (o Options) check(ctx context.Context) []Problem {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return o.Checks.Ready(ctx)
}

func readyCode(ps []Problem) int {
	if len(ps) > 0 {
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

func status(ps []Problem) string {
	if len(ps) > 0 {
		return "not ready"
	}
	return "ready"
}

// reasons joins the distinct public reasons.
func reasons(ps []Problem) string {
	var out []string
	for _, p := range ps {
		if !slices.Contains(out, p.Reason) {
			out = append(out, p.Reason)
		}
	}
	return strings.Join(out, "; ")
}

func nonNil(ps []Problem) []Problem {
	if ps == nil {
		return []Problem{}
	}
	return ps
}
