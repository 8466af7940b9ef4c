package telemetry

import (
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// RouterMetrics adapts Metrics to the router's reporting interface
// (router.Metrics).
type RouterMetrics struct{ M *Metrics }

// Routed counts an item every target of team accepted and observes its
// ingest-to-queue latency.
func (r RouterMetrics) Routed(team string, sinceIngest time.Duration) {
	r.M.routed.WithLabelValues(team).Inc()
	r.M.ingestToQueueSeconds.Observe(sinceIngest.Seconds())
}

// Delivered counts one target's acceptance and observes the attempt's duration.
func (r RouterMetrics) Delivered(team, target string, took time.Duration) {
	r.M.delivered.WithLabelValues(team, target).Inc()
	r.M.deliverySeconds.WithLabelValues(team, target).Observe(took.Seconds())
}

// Retried counts a failed attempt that will be retried.
func (r RouterMetrics) Retried(team, target, reason string) {
	r.M.deliveryRetries.WithLabelValues(team, target, reason).Inc()
}

// DeadLettered counts a dead letter.
func (r RouterMetrics) DeadLettered(reason, team, target string) {
	r.M.deadLettered.WithLabelValues(reason, team, target).Inc()
}

// Redelivery counts an ingest message handed back for a later retry.
func (r RouterMetrics) Redelivery(reason string) {
	r.M.ingestRedeliveries.WithLabelValues(reason).Inc()
}

// Noise counts an item marked as noise.
func (r RouterMetrics) Noise() { r.M.noise.Inc() }

// QueueDepth sets a queue's depth.
func (r RouterMetrics) QueueDepth(team, target string, depth int64) {
	r.M.queueDepth.WithLabelValues(team, target).Set(float64(depth))
}

// CircuitOpen sets a target's breaker state.
func (r RouterMetrics) CircuitOpen(team, target string, open bool) {
	v := 0.0
	if open {
		v = 1
	}
	r.M.targetCircuitOpen.WithLabelValues(team, target).Set(v)
}

// ConnectorMetrics adapts Metrics to connectors.Observer.
type ConnectorMetrics struct{ M *Metrics }

// StateChanged moves the connector's state gauge.
func (c ConnectorMetrics) StateChanged(name string, from, to connectors.State) {
	for _, s := range connectors.AllStates() {
		v := 0.0
		if s == to {
			v = 1
		}
		c.M.connectorState.WithLabelValues(name, string(s)).Set(v)
	}
}

// Ingested counts a stored envelope (or a duplicate the stream already had).
func (c ConnectorMetrics) Ingested(channel string, duplicate bool) {
	if duplicate {
		c.M.ingestDuplicates.WithLabelValues(channel).Inc()
		return
	}
	c.M.ingested.WithLabelValues(channel).Inc()
}

// ConnectorError counts a connector run that failed.
func (c ConnectorMetrics) ConnectorError(name string) {
	c.M.connectorErrors.WithLabelValues(name).Inc()
}

// Refused counts a publish the ingest stream refused for lack of room; why
// ("store full", "stream full") becomes the reason label.
func (c ConnectorMetrics) Refused(channel, why string) {
	c.M.ingestRefused.WithLabelValues(channel, strings.ReplaceAll(why, " ", "_")).Inc()
}

// StoreMetrics adapts Metrics to bus.StorageObserver.
type StoreMetrics struct{ M *Metrics }

// StoreUsage sets the store gauges; full is why the ingest stream refuses
// new messages ("" when it does not), and only "store full" sets StoreFull.
func (s StoreMetrics) StoreUsage(used, limit int64, full string) {
	s.M.storeUsed.Set(float64(used))
	s.M.storeLimit.Set(float64(limit))
	v := 0.0
	if full == "store full" {
		v = 1
	}
	s.M.storeFull.Set(v)
}
