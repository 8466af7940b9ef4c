// Package telemetry builds the daemon's logger and Prometheus metrics.
package telemetry

import (
	"fmt"
	"io"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger returns a zap logger writing format ("json" or "console") at
// level to w (os.Stderr when nil).
func NewLogger(format, level string, w io.Writer) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	if w == nil {
		w = os.Stderr
	}
	var enc zapcore.Encoder
	switch format {
	case "json", "":
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
	case "console":
		ec := zap.NewDevelopmentEncoderConfig()
		ec.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		enc = zapcore.NewConsoleEncoder(ec)
	default:
		return nil, fmt.Errorf("log format %q: use json or console", format)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), lvl)
	return zap.New(core), nil
}

// Metrics are the daemon's Prometheus metrics, on their own registry.
type Metrics struct {
	// Registry holds every metric below plus Go and process collectors.
	Registry *prometheus.Registry
	// Ingested counts envelopes stored in the ingest stream, by channel.
	Ingested *prometheus.CounterVec
	// IngestDuplicates counts publishes the stream already held, by channel.
	IngestDuplicates *prometheus.CounterVec
	// Routed counts items every target of a team accepted, by team.
	Routed *prometheus.CounterVec
	// DeadLettered counts items (or one team's copy) sent to the dead-letter
	// stream, by reason, team and target ("" when none applies).
	DeadLettered *prometheus.CounterVec
	// Delivered counts items a team's target accepted, by team and target.
	Delivered *prometheus.CounterVec
	// DeliveryRetries counts failed attempts at a target that will be
	// retried, by team, target and reason (error, circuit_open).
	DeliveryRetries *prometheus.CounterVec
	// DeliverySeconds observes how long a successful attempt at a target took.
	DeliverySeconds *prometheus.HistogramVec
	// QueueDepth is the number of items a team's queue at a target holds,
	// where the backend can tell (NATS: kept in the stream; Redis: XLEN).
	QueueDepth *prometheus.GaugeVec
	// CircuitOpen is 1 while a target's breaker for a team is open.
	CircuitOpen *prometheus.GaugeVec
	// ConnectorErrors counts connector failures, by connector.
	ConnectorErrors *prometheus.CounterVec
	// ConnectorState is 1 for each connector's current state.
	ConnectorState *prometheus.GaugeVec
	// IngestToQueue observes seconds from ingest to team-queue ack.
	IngestToQueue prometheus.Histogram
	// RouterRetries counts ingest messages handed back for a later retry, by reason.
	RouterRetries *prometheus.CounterVec
	// Noise counts items the rules marked as noise (kept, delivered nowhere).
	Noise prometheus.Counter
	// RulesReloads counts rules reload attempts, by result (ok, error).
	RulesReloads *prometheus.CounterVec
	// RulesInfo is 1 for the version of the rules in force.
	RulesInfo *prometheus.GaugeVec
	// IngestRefused counts publishes to the ingest stream refused for lack
	// of room, by channel and reason (store_full, stream_full).
	IngestRefused *prometheus.CounterVec
	// StoreUsed is the JetStream file storage in use, in bytes.
	StoreUsed prometheus.Gauge
	// StoreLimit is the most JetStream file storage may use (-1: no limit).
	StoreLimit prometheus.Gauge
	// StoreFull is 1 while publishes are refused because the store is full.
	StoreFull prometheus.Gauge
}

// RulesInForce records that the rules with version are in force.
func (m *Metrics) RulesInForce(version string) {
	m.RulesInfo.Reset()
	m.RulesInfo.WithLabelValues(version).Set(1)
}

// RulesReloaded records a reload attempt; version is the rules in force
// after a successful one.
func (m *Metrics) RulesReloaded(ok bool, version string) {
	if !ok {
		m.RulesReloads.WithLabelValues("error").Inc()
		return
	}
	m.RulesReloads.WithLabelValues("ok").Inc()
	m.RulesInForce(version)
}

// NewMetrics creates and registers the metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ingested_total", Help: "Messages stored in the ingest stream, by channel.",
		}, []string{"channel"}),
		IngestDuplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ingest_duplicates_total", Help: "Publishes the ingest stream already held (re-polled items), by channel.",
		}, []string{"channel"}),
		Routed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_routed_total", Help: "Items delivered to a team queue, by team.",
		}, []string{"team"}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_dead_lettered_total", Help: "Items (or one team's copy) sent to the dead-letter stream, by reason, team and target.",
		}, []string{"reason", "team", "target"}),
		Delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_delivered_total", Help: "Routed items a team's delivery target accepted, by team and target.",
		}, []string{"team", "target"}),
		DeliveryRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_delivery_retries_total", Help: "Failed delivery attempts that will be retried, by team, target and reason (error, circuit_open).",
		}, []string{"team", "target", "reason"}),
		DeliverySeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_delivery_seconds",
			Help:    "Seconds a successful delivery attempt at a target took, by team and target.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"team", "target"}),
		QueueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchboard_queue_depth", Help: "Items a team's queue holds at a target, where the backend can tell (NATS: kept in the team stream; Redis: XLEN).",
		}, []string{"team", "target"}),
		CircuitOpen: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchboard_target_circuit_open", Help: "1 while attempts at a team's target are paused because it keeps failing.",
		}, []string{"team", "target"}),
		ConnectorErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_connector_errors_total", Help: "Connector runs that ended in an error, by connector.",
		}, []string{"connector"}),
		ConnectorState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchboard_connector_state", Help: "1 for the connector's current state (running, backing_off, unauthorized, stopped).",
		}, []string{"connector", "state"}),
		IngestToQueue: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_ingest_to_queue_seconds",
			Help:    "Seconds from ingest (received_at) to the team queue's ack.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		RouterRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_router_retries_total", Help: "Ingest messages handed back for redelivery, by reason.",
		}, []string{"reason"}),
		Noise: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_noise_total", Help: "Items the rules marked as noise: kept in the ingest stream, delivered to no team.",
		}),
		RulesReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_rules_reloads_total", Help: "Rules file reload attempts (file change or SIGHUP), by result: ok, or error when the file was rejected and the previous rules kept running.",
		}, []string{"result"}),
		RulesInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchboard_rules_info", Help: "1 for the version (content hash) of the rules in force.",
		}, []string{"version"}),
		IngestRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_ingest_refused_total", Help: "Messages the ingest stream refused for lack of room (nothing stored; the connector pauses, the intake answers 503), by channel and reason: store_full or stream_full.",
		}, []string{"channel", "reason"}),
		StoreUsed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_store_used_bytes", Help: "JetStream file storage in use by every stream and bucket, in bytes.",
		}),
		StoreLimit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_store_limit_bytes", Help: "The most JetStream file storage may use (nats.embedded.max_store, or the account's limit); -1 when there is none.",
		}),
		StoreFull: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_store_full", Help: "1 while new messages are refused because the JetStream store is full.",
		}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Ingested, m.IngestDuplicates, m.Routed, m.DeadLettered, m.ConnectorErrors,
		m.ConnectorState, m.IngestToQueue, m.RouterRetries, m.Noise,
		m.Delivered, m.DeliveryRetries, m.DeliverySeconds, m.QueueDepth, m.CircuitOpen,
		m.RulesReloads, m.RulesInfo,
		m.IngestRefused, m.StoreUsed, m.StoreLimit, m.StoreFull,
	)
	return m
}
