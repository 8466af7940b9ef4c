package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/opsauth"
	"github.com/switchboard/switchboard/responses"
	"github.com/switchboard/switchboard/responses/sla"
)

// responseSubjects names the tracker's subjects, streams and bucket.
func responseSubjects(cfg *config.Config) responses.Subjects {
	r := cfg.Responses
	return responses.Subjects{Prefix: cfg.Streams.Prefix, ResponseStream: r.Stream, EscalationStream: r.EscalationStream, Bucket: r.Bucket}
}

// openResponseStreams opens (creating when missing) the tracker's streams
// and bucket.
func openResponseStreams(ctx context.Context, cfg *config.Config, js jetstream.JetStream) (*responses.Streams, error) {
	streams, err := responses.Open(ctx, js, responses.Config{
		Subjects:    responseSubjects(cfg),
		MaxAge:      time.Duration(cfg.Responses.MaxAge),
		ForgetAfter: time.Duration(cfg.Responses.ForgetAfter),
		Replicas:    cfg.Streams.Replicas,
	})
	if err != nil {
		return nil, err
	}
	return streams, nil
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

// openResponses builds the response tracker (responses.enabled): its
// streams and bucket, the service levels, its metrics, and the publisher
// connectors and team tools report responses through. The tracker follows
// the router's own decision records store, so it sees each record as it is
// stored.
func (d *daemon) openResponses(ctx context.Context) error {
	cfg := d.cfg
	if !cfg.Responses.On() {
		d.log.Info("response tracking off (responses.enabled: false): no response times, no escalations")
		return nil
	}
	streams, err := openResponseStreams(ctx, cfg, d.bus.JS)
	if err != nil {
		return fmt.Errorf("response tracker: %w", err)
	}
	policy, err := sla.New(cfg.Responses)
	if err != nil {
		return fmt.Errorf("response tracker: %w", err)
	}
	m, err := responses.NewMetrics(d.metrics.Registry)
	if err != nil {
		return err
	}
	deps := responses.Deps{JS: d.bus.JS, Streams: streams, Records: d.records, Policy: policy, Metrics: m, Log: d.log.Named("responses")}
	if d.cases != nil { // a nil *cases.Store in the interface would not be nil
		deps.Cases = d.cases
	}
	d.tracker = responses.New(trackerConfig(cfg), deps)
	if err := d.metrics.Registry.Register(d.tracker.OpenItemsCollector()); err != nil {
		return fmt.Errorf("registering the open-items gauges: %w", err)
	}
	d.responsesPub = responses.NewPublisher(d.bus.JS, responseSubjects(cfg))
	return nil
}

// trackResponses links responses to the items they answer and escalates
// until stopped.
func (d *daemon) trackResponses(ctx context.Context) error {
	if d.tracker == nil {
		<-ctx.Done()
		return nil
	}
	return d.tracker.Run(ctx)
}

// mountHandled serves POST /v1/messages/{id}/handled: a team's tool
// reports an item answered elsewhere (admin ops token).
func (d *daemon) mountHandled(mux *http.ServeMux) {
	if d.responsesPub == nil {
		return
	}
	mux.Handle("POST /v1/messages/{id}/handled", d.ops.API(opsauth.RoleAdmin, responses.HandledHandler(d.records, d.responsesPub, nil)))
}
