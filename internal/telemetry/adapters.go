package telemetry

import (
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// RouterMetrics adapts Metrics to the router's reporting interface.
type RouterMetrics struct{ M *Metrics }

// Routed counts a delivery to team and observes its ingest-to-queue latency.
func (r RouterMetrics) Routed(team string, latency time.Duration) {
	r.M.Routed.WithLabelValues(team).Inc()
	r.M.IngestToQueue.Observe(latency.Seconds())
}

// Noise counts an item marked as noise.
func (r RouterMetrics) Noise() { r.M.Noise.Inc() }

// DeadLettered counts a dead letter by reason.
func (r RouterMetrics) DeadLettered(reason string) { r.M.DeadLettered.WithLabelValues(reason).Inc() }

// Retried counts a message handed back for redelivery.
func (r RouterMetrics) Retried(reason string) { r.M.RouterRetries.WithLabelValues(reason).Inc() }

// ConnectorMetrics adapts Metrics to connectors.Observer.
type ConnectorMetrics struct{ M *Metrics }

// StateChanged moves the connector's state gauge.
func (c ConnectorMetrics) StateChanged(name string, from, to connectors.State) {
	for _, s := range connectors.AllStates() {
		v := 0.0
		if s == to {
			v = 1
		}
		c.M.ConnectorState.WithLabelValues(name, string(s)).Set(v)
	}
}

// Ingested counts a stored envelope (or a duplicate the stream already had).
func (c ConnectorMetrics) Ingested(channel string, duplicate bool) {
	if duplicate {
		c.M.IngestDuplicates.WithLabelValues(channel).Inc()
		return
	}
	c.M.Ingested.WithLabelValues(channel).Inc()
}

// ConnectorError counts a connector run that failed.
func (c ConnectorMetrics) ConnectorError(name string) {
	c.M.ConnectorErrors.WithLabelValues(name).Inc()
}
