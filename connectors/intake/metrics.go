package intake

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/internal/telemetry"
)

// Metrics are the intake's own metrics.
type Metrics struct {
	// responses is switchboard_intake_responses_total{code}.
	responses *prometheus.CounterVec
}

// NewMetrics registers the intake's metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	return telemetry.BuildMetrics(reg, "intake", func(r *telemetry.Registrar) *Metrics {
		return &Metrics{
			responses: r.CounterVec("switchboard_intake_responses_total",
				"Answers of POST /v1/messages by HTTP status: 202 stored, 200 duplicate, 4xx refused, 503 not stored (retry).", "code"),
		}
	})
}

// answered counts one answer.
func (m *Metrics) answered(code int) {
	if m == nil {
		return
	}
	m.responses.WithLabelValues(strconv.Itoa(code)).Inc()
}
