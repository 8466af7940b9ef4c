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
	// Routed counts items delivered to a team queue, by team.
	Routed *prometheus.CounterVec
	// DeadLettered counts items sent to the dead-letter stream, by reason.
	DeadLettered *prometheus.CounterVec
	// ConnectorErrors counts connector failures, by connector.
	ConnectorErrors *prometheus.CounterVec
	// ConnectorState is 1 for each connector's current state.
	ConnectorState *prometheus.GaugeVec
	// IngestToQueue observes seconds from ingest to team-queue ack.
	IngestToQueue prometheus.Histogram
	// RouterRetries counts ingest messages handed back for redelivery, by reason.
	RouterRetries *prometheus.CounterVec
	// Noise counts items the rules marked as noise (kept, delivered nowhere).
	Noise prometheus.Counter
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
			Name: "switchboard_dead_lettered_total", Help: "Items sent to the dead-letter stream, by reason.",
		}, []string{"reason"}),
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
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Ingested, m.IngestDuplicates, m.Routed, m.DeadLettered, m.ConnectorErrors,
		m.ConnectorState, m.IngestToQueue, m.RouterRetries, m.Noise,
	)
	return m
}
