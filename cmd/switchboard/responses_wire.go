package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard/switchboard/internal/config"
	"github.com/switchboard/switchboard/internal/console"
	"github.com/switchboard/switchboard/internal/opsauth"
	"github.com/switchboard/switchboard/responses"
	"github.com/switchboard/switchboard/responses/report"
	"github.com/switchboard/switchboard/responses/sla"
	"github.com/switchboard/switchboard/router/decisions"
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
	d.serviceLevels = serviceLevels{records: d.records, policy: policy}
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

// serviceLevels feeds the console's service levels page from the decision
// records: the report of the period and one per bucket, in one scan.
type serviceLevels struct {
	records *decisions.Store
	policy  *sla.Policy
}

// maxSLBuckets bounds the points of one chart.
const maxSLBuckets = 400

// ServiceLevels implements console.ServiceLevels.
func (s serviceLevels) ServiceLevels(ctx context.Context, q console.SLQuery) (*console.SLReport, error) {
	if q.Until.IsZero() {
		q.Until = time.Now()
	}
	if q.Bucket <= 0 {
		q.Bucket = 24 * time.Hour
	}
	n := int(q.Until.Sub(q.Since)/q.Bucket) + 1
	if n < 1 || n > maxSLBuckets {
		return nil, fmt.Errorf("service levels: %d points of %s from %s to %s is too many (at most %d)", n, q.Bucket, q.Since, q.Until, maxSLBuckets)
	}
	total := report.NewAccumulator(s.policy, report.Options{Since: q.Since, Now: q.Until})
	buckets := make([]*report.Accumulator, n)
	for i := range buckets {
		start := q.Since.Add(time.Duration(i) * q.Bucket)
		buckets[i] = report.NewAccumulator(s.policy, report.Options{Since: start, Now: start.Add(q.Bucket - time.Nanosecond)})
	}
	err := s.records.Scan(ctx, q.Since.Add(-time.Hour), func(r *decisions.Record) error {
		total.Add(r)
		if i := int(r.ReceivedAt.Sub(q.Since) / q.Bucket); i >= 0 && i < n {
			buckets[i].Add(r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("service levels: %w", err)
	}
	out := &console.SLReport{}
	index := map[[2]string]int{}
	for _, row := range total.Report().Rows {
		index[[2]string{row.Team, row.Channel}] = len(out.Rows)
		sl := console.SLRow{Team: row.Team, Channel: row.Channel, Items: row.Routed - row.NoResponseNeeded, Responded: row.Responded,
			FirstResponseMedian: seconds(row.MedianSeconds), FirstResponseP90: seconds(row.P90Seconds), PastTarget: row.PastTarget,
			Series: make([]console.SLPoint, n)}
		if s.policy != nil {
			if t, ok := s.policy.Target(sla.Item{Team: row.Team, Channel: row.Channel}); ok {
				sl.Target = t.Target
			}
		}
		for i := range sl.Series {
			sl.Series[i].Start = q.Since.Add(time.Duration(i) * q.Bucket)
		}
		out.Rows = append(out.Rows, sl)
	}
	for i, b := range buckets {
		for _, row := range b.Report().Rows {
			if j, ok := index[[2]string{row.Team, row.Channel}]; ok {
				p := &out.Rows[j].Series[i]
				p.Items, p.Responded, p.FirstResponseMedian = row.Routed-row.NoResponseNeeded, row.Responded, seconds(row.MedianSeconds)
			}
		}
	}
	return out, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
