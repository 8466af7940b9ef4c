package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/responses"
	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/decisions"
)

// decisionsConfig names the decision records stream. The router's wiring
// of decision records owns this; until it lands, the tracker and the
// report commands use these names.
func decisionsConfig(cfg *config.Config) decisions.Config {
	return decisions.Config{
		Stream:   "SWITCHBOARD_DECISIONS",
		Subjects: cfg.Streams.Prefix + ".decision",
		MaxAge:   time.Duration(cfg.Streams.Ingest.MaxAge),
		Replicas: cfg.Streams.Replicas,
	}
}

// responseSubjects names the tracker's subjects, streams and bucket.
func responseSubjects(cfg *config.Config) responses.Subjects {
	r := cfg.Responses
	return responses.Subjects{Prefix: cfg.Streams.Prefix, ResponseStream: r.Stream, EscalationStream: r.EscalationStream, Bucket: r.Bucket}
}

// openResponses opens (creating when missing) the decision records and the
// tracker's streams and bucket.
func openResponses(ctx context.Context, cfg *config.Config, js jetstream.JetStream) (*decisions.Store, *responses.Streams, error) {
	records, err := decisions.Open(ctx, js, decisionsConfig(cfg))
	if err != nil {
		return nil, nil, err
	}
	streams, err := responses.Open(ctx, js, responses.Config{
		Subjects:    responseSubjects(cfg),
		MaxAge:      time.Duration(cfg.Responses.MaxAge),
		ForgetAfter: time.Duration(cfg.Responses.ForgetAfter),
		Replicas:    cfg.Streams.Replicas,
	})
	if err != nil {
		return nil, nil, err
	}
	return records, streams, nil
}

// trackerConfig is the tracker's configuration from cfg.
func trackerConfig(cfg *config.Config) responses.TrackerConfig {
	r := cfg.Responses
	return responses.TrackerConfig{
		MatchWindow:   time.Duration(r.MatchWindow),
		ForgetAfter:   time.Duration(r.ForgetAfter),
		CheckInterval: time.Duration(r.CheckInterval),
		LinkBase:      cfg.HTTP.ExternalURL,
		Webhook: responses.WebhookConfig{
			URL:         r.Escalation.Webhook.URL.Reveal(),
			Format:      r.Escalation.Webhook.Format,
			Timeout:     time.Duration(r.Escalation.Webhook.Timeout),
			MaxAttempts: r.Escalation.Webhook.MaxAttempts,
		},
	}
}

// loopback reports whether listen (host:port) only accepts local
// connections. Until the ops-token authentication is in place, the handled
// endpoint is served only there.
func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// buildTracker builds the response tracker: its streams and bucket, the
// service levels, its metrics, and the handled endpoint on mux. records
// must be the store the router writes decision records with: the tracker
// sees their changes through it.
func buildTracker(ctx context.Context, cfg *config.Config, js jetstream.JetStream, records *decisions.Store, mux *http.ServeMux, reg prometheus.Registerer, log *zap.Logger) (*responses.Tracker, error) {
	_, streams, err := openResponses(ctx, cfg, js)
	if err != nil {
		return nil, err
	}
	policy, err := sla.New(cfg.Responses)
	if err != nil {
		return nil, err
	}
	m, err := responses.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	t := responses.New(trackerConfig(cfg), responses.Deps{JS: js, Streams: streams, Records: records, Policy: policy, Metrics: m, Log: log})
	if err := reg.Register(t.OpenItemsCollector()); err != nil {
		return nil, fmt.Errorf("registering the open-items gauges: %w", err)
	}
	if cfg.HTTP.Listen != "" {
		if loopback(cfg.HTTP.Listen) {
			mux.Handle("POST /v1/messages/{id}/handled", responses.HandledHandler(records, responses.NewPublisher(js, responseSubjects(cfg)), nil))
		} else {
			log.Info("POST /v1/messages/{id}/handled is served on loopback listeners only until ops authentication is in place; use `switchboard handled` or publish on the responses subject")
		}
	}
	return t, nil
}
