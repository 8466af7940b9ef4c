// Package telemetry builds the daemon's logger (scrubbing secrets, see
// Redact) and its own Prometheus metrics, and holds the convention every
// package's metrics follow (BuildMetrics).
package telemetry

import (
	"fmt"
	"io"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger returns a zap logger writing format at level to w (os.Stderr
// when nil). format is "json" (for log collectors), "console" (for
// people) or "auto": console when w is a terminal, json otherwise.
func NewLogger(format, level string, w io.Writer) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	if w == nil {
		w = os.Stderr
	}
	if format == "auto" {
		format = "json"
		if isTerminal(w) {
			format = "console"
		}
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
		return nil, fmt.Errorf("log format %q: use auto, json or console", format)
	}
	core := zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(w)), lvl)
	return zap.New(core), nil
}

// isTerminal reports whether w is a terminal (a character device), where
// people read the log rather than a collector.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Register registers all of cs on reg, or returns the reason they could not
// be (a nil reg, a name registered twice) as an error naming what ("email")
// was registered. Every package's NewMetrics registers through it, by way of
// BuildMetrics; see docs/architecture.md for the whole convention.
func Register(reg prometheus.Registerer, what string, cs ...prometheus.Collector) error {
	if reg == nil {
		return fmt.Errorf("registering %s metrics: no registry", what)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering %s metrics: %w", what, err)
		}
	}
	return nil
}

// Metrics are the daemon's own Prometheus metrics (ingest, routing,
// delivery, connector states, rules) and the registry /metrics serves,
// which every connector package registers its own metrics on. Record
// through the methods and the adapters (RouterMetrics, ConnectorMetrics).
type Metrics struct {
	// Registry holds every metric of the daemon plus Go and process
	// collectors.
	Registry *prometheus.Registry

	ingested             *prometheus.CounterVec
	ingestDuplicates     *prometheus.CounterVec
	routed               *prometheus.CounterVec
	deadLettered         *prometheus.CounterVec
	delivered            *prometheus.CounterVec
	deliveryRetries      *prometheus.CounterVec
	deliverySeconds      *prometheus.HistogramVec
	queueDepth           *prometheus.GaugeVec
	targetCircuitOpen    *prometheus.GaugeVec
	connectorErrors      *prometheus.CounterVec
	connectorState       *prometheus.GaugeVec
	ingestToQueueSeconds prometheus.Histogram
	ingestRedeliveries   *prometheus.CounterVec
	noise                prometheus.Counter
	rulesReloads         *prometheus.CounterVec
	rulesInfo            *prometheus.GaugeVec
	ingestRefused        *prometheus.CounterVec
	storeUsed            prometheus.Gauge
	storeLimit           prometheus.Gauge
	storeFull            prometheus.Gauge
}

// RulesInForce records that the rules with version are in force.
func (m *Metrics) RulesInForce(version string) {
	m.rulesInfo.Reset()
	m.rulesInfo.WithLabelValues(version).Set(1)
}

// RulesReloaded records a reload attempt; version is the rules in force
// after a successful one.
func (m *Metrics) RulesReloaded(ok bool, version string) {
	if !ok {
		m.rulesReloads.WithLabelValues("error").Inc()
		return
	}
	m.rulesReloads.WithLabelValues("ok").Inc()
	m.RulesInForce(version)
}

// Noise returns how many items were counted as noise.
func (m *Metrics) Noise() (float64, error) {
	var v dto.Metric
	if err := m.noise.Write(&v); err != nil {
		return 0, fmt.Errorf("reading the noise counter: %w", err)
	}
	return v.GetCounter().GetValue(), nil
}

// NewMetrics creates the daemon's registry and metrics.
func NewMetrics() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	return BuildMetrics(reg, "daemon", func(r *Registrar) *Metrics {
		r.Register(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		return &Metrics{
			Registry: reg,
			ingested: r.CounterVec("switchboard_ingested_total",
				"Messages stored in the ingest stream, by channel.", "channel"),
			ingestDuplicates: r.CounterVec("switchboard_ingest_duplicates_total",
				"Publishes the ingest stream already held (re-polled items), by channel.", "channel"),
			routed: r.CounterVec("switchboard_routed_total",
				"Items delivered to a team queue, by team.", "team"),
			deadLettered: r.CounterVec("switchboard_dead_lettered_total",
				"Items (or one team's copy) sent to the dead-letter stream, by reason, team and target.", "reason", "team", "target"),
			delivered: r.CounterVec("switchboard_delivered_total",
				"Routed items a team's delivery target accepted, by team and target.", "team", "target"),
			deliveryRetries: r.CounterVec("switchboard_delivery_retries_total",
				"Failed delivery attempts that will be retried, by team, target and reason (error, circuit_open).", "team", "target", "reason"),
			deliverySeconds: r.HistogramVec("switchboard_delivery_seconds",
				"Seconds a successful delivery attempt at a target took, by team and target.",
				[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}, "team", "target"),
			queueDepth: r.GaugeVec("switchboard_queue_depth",
				"Items a team's queue holds at a target, where the backend can tell (NATS: kept in the team stream; Redis: XLEN).", "team", "target"),
			targetCircuitOpen: r.GaugeVec("switchboard_target_circuit_open",
				"1 while attempts at a team's target are paused because it keeps failing.", "team", "target"),
			connectorErrors: r.CounterVec("switchboard_connector_errors_total",
				"Connector runs that ended in an error, by connector.", "connector"),
			connectorState: r.GaugeVec("switchboard_connector_state",
				"1 for the connector's current state (running, backing_off, unauthorized, stopped).", "connector", "state"),
			ingestToQueueSeconds: r.Histogram("switchboard_ingest_to_queue_seconds",
				"Seconds from ingest (received_at) to the team queue's ack.",
				[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}),
			ingestRedeliveries: r.CounterVec("switchboard_ingest_redeliveries_total",
				"Ingest messages the router handed back for a later attempt, by reason.", "reason"),
			noise: r.Counter("switchboard_noise_total",
				"Items the rules marked as noise: kept in the ingest stream, delivered to no team."),
			rulesReloads: r.CounterVec("switchboard_rules_reloads_total",
				"Rules file reload attempts (file change or SIGHUP), by result: ok, or error when the file was rejected and the previous rules kept running.", "result"),
			rulesInfo: r.GaugeVec("switchboard_rules_info",
				"1 for the version (content hash) of the rules in force.", "version"),
			ingestRefused: r.CounterVec("switchboard_ingest_refused_total",
				"Messages the ingest stream refused for lack of room (nothing stored; the connector pauses, the intake answers 503), by channel and reason: store_full or stream_full.", "channel", "reason"),
			storeUsed: r.Gauge("switchboard_store_used_bytes",
				"JetStream file storage in use by every stream and bucket, in bytes."),
			storeLimit: r.Gauge("switchboard_store_limit_bytes",
				"The most JetStream file storage may use (nats.embedded.max_store, or the account's limit); -1 when there is none."),
			storeFull: r.Gauge("switchboard_store_full",
				"1 while new messages are refused because the JetStream store is full."),
		}
	})
}
