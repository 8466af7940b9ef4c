package x

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the X connector's Prometheus metrics. A nil *Metrics records
// nothing. Labels carry stream and endpoint names only, never credentials.
type Metrics struct {
	// PostsRead counts posts and DM events read (billed by X), by stream.
	PostsRead *prometheus.CounterVec
	// Skipped counts items read but not ingested, by stream and reason
	// (own, retweet, malformed, event_type).
	Skipped *prometheus.CounterVec
	// BudgetRemaining is the day's read budget left over all streams.
	BudgetRemaining prometheus.Gauge
	// BudgetPerDay is the configured daily read budget.
	BudgetPerDay prometheus.Gauge
	// RateLimitRemaining is the last x-rate-limit-remaining, by endpoint.
	RateLimitRemaining *prometheus.GaugeVec
	// RateLimited counts waits for a rate-limit reset (429 or remaining 0),
	// by endpoint.
	RateLimited *prometheus.CounterVec
	// TokenRefreshes counts OAuth 2.0 user-token refreshes, by result.
	TokenRefreshes *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg (skipped when
// reg is nil).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		PostsRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_x_reads_total", Help: "Posts and DM events read from the X API (billed reads), by stream.",
		}, []string{"stream"}),
		Skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_x_skipped_total", Help: "X items read but not ingested, by stream and reason.",
		}, []string{"stream", "reason"}),
		BudgetRemaining: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_x_read_budget_remaining", Help: "Reads left in today's (UTC) X read budget over all streams.",
		}),
		BudgetPerDay: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_x_read_budget_per_day", Help: "The configured daily X read budget.",
		}),
		RateLimitRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchboard_x_rate_limit_remaining", Help: "The last x-rate-limit-remaining X sent, by endpoint.",
		}, []string{"endpoint"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_x_rate_limited_total", Help: "Waits for an X rate-limit window to reset, by endpoint.",
		}, []string{"endpoint"}),
		TokenRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_x_token_refreshes_total", Help: "OAuth 2.0 user-token refreshes for X DMs, by result.",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.PostsRead, m.Skipped, m.BudgetRemaining, m.BudgetPerDay, m.RateLimitRemaining, m.RateLimited, m.TokenRefreshes} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) read(stream string, n int) {
	if m != nil && n > 0 {
		m.PostsRead.WithLabelValues(stream).Add(float64(n))
	}
}

func (m *Metrics) skipped(stream, reason string, n int) {
	if m != nil && n > 0 {
		m.Skipped.WithLabelValues(stream, reason).Add(float64(n))
	}
}

func (m *Metrics) budget(remaining int) {
	if m != nil {
		m.BudgetRemaining.Set(float64(remaining))
	}
}

func (m *Metrics) rateLimit(endpoint string, remaining int) {
	if m != nil {
		m.RateLimitRemaining.WithLabelValues(endpoint).Set(float64(remaining))
	}
}

func (m *Metrics) rateLimited(endpoint string) {
	if m != nil {
		m.RateLimited.WithLabelValues(endpoint).Inc()
	}
}

func (m *Metrics) tokenRefresh(result string) {
	if m != nil {
		m.TokenRefreshes.WithLabelValues(result).Inc()
	}
}
