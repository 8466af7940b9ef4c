package facebook

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/internal/telemetry"
)

// Metrics are the connector's Prometheus metrics. Labels carry page ids,
// never tokens. A nil *Metrics records nothing.
type Metrics struct {
	graphRequests   *prometheus.CounterVec
	usagePercent    *prometheus.GaugeVec
	rateLimited     *prometheus.CounterVec
	tokenRejected   *prometheus.GaugeVec
	ownItemsSkipped *prometheus.CounterVec
	malformedItems  *prometheus.CounterVec
	webhookRequests *prometheus.CounterVec
	triggers        *prometheus.CounterVec
	fullReads       *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	return telemetry.BuildMetrics(reg, "facebook", func(r *telemetry.Registrar) *Metrics {
		return &Metrics{
			graphRequests: r.CounterVec("switchboard_facebook_graph_requests_total",
				"Graph API requests by page, kind (feed, sweep, messages) and outcome (ok, transient, rate_limited, token_rejected, permission_denied, malformed, error).", "page", "kind", "outcome"),
			usagePercent: r.GaugeVec("switchboard_facebook_usage_percent",
				"Highest usage percentage in the latest Graph API usage header, by page and header (app: X-App-Usage, business_use_case: X-Business-Use-Case-Usage).", "page", "header"),
			rateLimited: r.CounterVec("switchboard_facebook_rate_limited_total",
				"Times polling of a page paused because the Graph API rate limit was hit (or the usage headers reached 100%).", "page"),
			tokenRejected: r.GaugeVec("switchboard_facebook_token_rejected",
				"1 while a page's access token is rejected (expired, revoked, missing permission); 0 once a request succeeds.", "page"),
			ownItemsSkipped: r.CounterVec("switchboard_facebook_own_items_skipped_total",
				"Items written by the page itself (its posts, comments, replies and Messenger answers) that were not ingested as customer items (its answers are published as responses when responses are tracked).", "page"),
			malformedItems: r.CounterVec("switchboard_facebook_malformed_items_total",
				"Items in Graph API answers that could not be read and were skipped, by page.", "page"),
			webhookRequests: r.CounterVec("switchboard_facebook_webhook_requests_total",
				"Page webhook requests by result (verified, verify_failed, accepted, ignored, stale, replayed, bad_signature, malformed, too_large, busy).", "result"),
			triggers: r.CounterVec("switchboard_facebook_triggers_total",
				"Webhook triggers of a page's poll by result: polled (brought the poll forward, at least 10s after the previous one) or deferred (usage is high: the scheduled poll reads it).", "page", "result"),
			fullReads: r.CounterVec("switchboard_facebook_comment_full_reads_total",
				"Posts whose comments were read to the end, by page and reason: unordered (the Graph API did not answer newest first) or count_mismatch (total_count grew by more than the new comments found).", "page", "reason"),
		}
	})
}

func (m *Metrics) request(page, kind, outcome string) {
	if m != nil {
		m.graphRequests.WithLabelValues(page, kind, outcome).Inc()
	}
}

func (m *Metrics) usage(page string, u usage) {
	if m != nil && u.seen {
		m.usagePercent.WithLabelValues(page, "app").Set(float64(u.App))
		m.usagePercent.WithLabelValues(page, "business_use_case").Set(float64(u.BUC))
	}
}

func (m *Metrics) rateLimit(page string) {
	if m != nil {
		m.rateLimited.WithLabelValues(page).Inc()
	}
}

func (m *Metrics) tokenState(page string, rejected bool) {
	if m == nil {
		return
	}
	v := 0.0
	if rejected {
		v = 1
	}
	m.tokenRejected.WithLabelValues(page).Set(v)
}

func (m *Metrics) skippedOwn(page string) {
	if m != nil {
		m.ownItemsSkipped.WithLabelValues(page).Inc()
	}
}

func (m *Metrics) malformedItem(page string) {
	if m != nil {
		m.malformedItems.WithLabelValues(page).Inc()
	}
}

func (m *Metrics) webhookResult(result string) {
	if m != nil {
		m.webhookRequests.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) trigger(page, result string) {
	if m != nil {
		m.triggers.WithLabelValues(page, result).Inc()
	}
}

func (m *Metrics) fullRead(page, reason string) {
	if m != nil {
		m.fullReads.WithLabelValues(page, reason).Inc()
	}
}
