package x

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/internal/telemetry"
)

// Metrics are the X connector's Prometheus metrics. A nil *Metrics records
// nothing. Labels carry stream and endpoint names only, never credentials.
type Metrics struct {
	reads               *prometheus.CounterVec
	skipped             *prometheus.CounterVec
	readBudgetRemaining prometheus.Gauge
	readBudgetPerDay    prometheus.Gauge
	rateLimitRemaining  *prometheus.GaugeVec
	rateLimited         *prometheus.CounterVec
	tokenRefreshes      *prometheus.CounterVec
	responses           *prometheus.CounterVec
	pollsSkipped        *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	return telemetry.BuildMetrics(reg, "x", func(r *telemetry.Registrar) *Metrics {
		return &Metrics{
			reads: r.CounterVec("switchboard_x_reads_total",
				"Posts and DM events read from the X API (billed reads), by stream.", "stream"),
			skipped: r.CounterVec("switchboard_x_skipped_total",
				"X items read but not ingested, by stream and reason (own, retweet, malformed, event_type; for replies not_reply, own_thread, edit).", "stream", "reason"),
			readBudgetRemaining: r.Gauge("switchboard_x_read_budget_remaining",
				"Reads left in today's (UTC) X read budget over all streams."),
			readBudgetPerDay: r.Gauge("switchboard_x_read_budget_per_day",
				"The configured daily X read budget."),
			rateLimitRemaining: r.GaugeVec("switchboard_x_rate_limit_remaining",
				"The last x-rate-limit-remaining X sent, by endpoint.", "endpoint"),
			rateLimited: r.CounterVec("switchboard_x_rate_limited_total",
				"Waits for an X rate-limit window to reset (429 or remaining 0), by endpoint.", "endpoint"),
			tokenRefreshes: r.CounterVec("switchboard_x_token_refreshes_total",
				"OAuth 2.0 user-token refreshes for X DMs, by result.", "result"),
			responses: r.CounterVec("switchboard_x_responses_total",
				"The account's own replies and sent DMs published as responses, by stream.", "stream"),
			pollsSkipped: r.CounterVec("switchboard_x_polls_skipped_total",
				"Polls a stream skipped, by stream and reason (budget: the read budget is kept for the customer streams; not_tracked: responses are not tracked).", "stream", "reason"),
		}
	})
}

func (m *Metrics) read(stream string, n int) {
	if m != nil && n > 0 {
		m.reads.WithLabelValues(stream).Add(float64(n))
	}
}

func (m *Metrics) skip(stream, reason string, n int) {
	if m != nil && n > 0 {
		m.skipped.WithLabelValues(stream, reason).Add(float64(n))
	}
}

func (m *Metrics) budget(remaining int) {
	if m != nil {
		m.readBudgetRemaining.Set(float64(remaining))
	}
}

func (m *Metrics) rateLimit(endpoint string, remaining int) {
	if m != nil {
		m.rateLimitRemaining.WithLabelValues(endpoint).Set(float64(remaining))
	}
}

func (m *Metrics) rateLimitWait(endpoint string) {
	if m != nil {
		m.rateLimited.WithLabelValues(endpoint).Inc()
	}
}

func (m *Metrics) tokenRefresh(result string) {
	if m != nil {
		m.tokenRefreshes.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) budgetPerDay(n int) {
	if m != nil {
		m.readBudgetPerDay.Set(float64(n))
	}
}

func (m *Metrics) response(stream string, n int) {
	if m != nil && n > 0 {
		m.responses.WithLabelValues(stream).Add(float64(n))
	}
}

func (m *Metrics) pollSkipped(stream, reason string) {
	if m != nil {
		m.pollsSkipped.WithLabelValues(stream, reason).Inc()
	}
}
