package telemetry

import (
	"testing"
	"time"

	"github.com/switchboard/switchboard/internal/metrictest"
	"github.com/switchboard/switchboard/router"
)

var _ router.Metrics = RouterMetrics{}

// value returns the value of the series of family name with exactly labels
// (name=value pairs), and whether it exists.
func value(t *testing.T, m *Metrics, name string, labels ...string) (float64, bool) {
	t.Helper()
	return metrictest.Exact(t, m.Registry, name, metrictest.Labels(labels...))
}

func TestRouterMetrics(t *testing.T) {
	m, err := NewMetrics()
	if err != nil {
		t.Fatal(err)
	}
	r := RouterMetrics{M: m}
	r.Routed("billing", 2*time.Second)
	r.Delivered("billing", "redis:q", 3*time.Millisecond)
	r.Delivered("billing", "redis:q", 5*time.Millisecond)
	r.Retried("comms", "webhook:hooks.slack.com", "circuit_open")
	r.DeadLettered("delivery_failed", "comms", "webhook:hooks.slack.com")
	r.DeadLettered("malformed", "", "")
	r.Redelivery("delivery_failed")
	r.Noise()
	r.QueueDepth("billing", "redis:q", 42)
	r.CircuitOpen("comms", "webhook:hooks.slack.com", true)

	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"switchboard_routed_total", []string{"team", "billing"}, 1},
		{"switchboard_ingest_to_queue_seconds", nil, 1},
		{"switchboard_delivered_total", []string{"team", "billing", "target", "redis:q"}, 2},
		{"switchboard_delivery_seconds", []string{"team", "billing", "target", "redis:q"}, 2},
		{"switchboard_delivery_retries_total", []string{"team", "comms", "target", "webhook:hooks.slack.com", "reason", "circuit_open"}, 1},
		{"switchboard_dead_lettered_total", []string{"reason", "delivery_failed", "team", "comms", "target", "webhook:hooks.slack.com"}, 1},
		{"switchboard_dead_lettered_total", []string{"reason", "malformed", "team", "", "target", ""}, 1},
		{"switchboard_ingest_redeliveries_total", []string{"reason", "delivery_failed"}, 1},
		{"switchboard_noise_total", nil, 1},
		{"switchboard_queue_depth", []string{"team", "billing", "target", "redis:q"}, 42},
		{"switchboard_target_circuit_open", []string{"team", "comms", "target", "webhook:hooks.slack.com"}, 1},
	}
	for _, tt := range tests {
		got, ok := value(t, m, tt.name, tt.labels...)
		if !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	r.CircuitOpen("comms", "webhook:hooks.slack.com", false)
	if v, _ := value(t, m, "switchboard_target_circuit_open", "team", "comms", "target", "webhook:hooks.slack.com"); v != 0 {
		t.Errorf("circuit after close = %v", v)
	}
}
