package responses

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/internal/telemetry"
)

// Metrics are the tracker's Prometheus metrics. A nil *Metrics records
// nothing. The open-items gauges come from Tracker.OpenItemsCollector.
type Metrics struct {
	opened     *prometheus.CounterVec
	responded  *prometheus.CounterVec
	firstResp  *prometheus.HistogramVec
	unanswered *prometheus.CounterVec
	escalated  *prometheus.CounterVec
	unmatched  *prometheus.CounterVec
	webhook    *prometheus.CounterVec
}

// firstResponseBuckets span a minute to a week.
var firstResponseBuckets = []float64{60, 300, 600, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 2 * 86400, 4 * 86400, 7 * 86400}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	return telemetry.BuildMetrics(reg, "response", func(r *telemetry.Registrar) *Metrics {
		return &Metrics{
			opened: r.CounterVec("switchboard_response_awaited_total",
				"Routed items the tracker began awaiting a first response for, by team and channel (the denominator of the response rate).",
				"team", "channel"),
			responded: r.CounterVec("switchboard_responded_total",
				"Routed items that got their first response, by team, channel and status (responded, resolved, no_response_needed).",
				"team", "channel", "status"),
			firstResp: r.HistogramVec("switchboard_first_response_seconds",
				"Seconds from the customer's message (created_at) to the first response, by team and channel (no_response_needed not observed).",
				firstResponseBuckets, "team", "channel"),
			unanswered: r.CounterVec("switchboard_unanswered_total",
				"Routed items that left the open set without a response (older than responses.forget_after), by team and channel.",
				"team", "channel"),
			escalated: r.CounterVec("switchboard_escalated_total",
				"Escalations of items past their first-response target, by team, channel and level.",
				"team", "channel", "level"),
			unmatched: r.CounterVec("switchboard_responses_unmatched_total",
				"Responses that answered no routed item within responses.match_window (or were invalid), by channel and reason.",
				"channel", "reason"),
			webhook: r.CounterVec("switchboard_escalation_webhook_total",
				"Escalation webhook calls by result (ok, retry, rejected, gave_up).",
				"result"),
		}
	})
}

func (m *Metrics) awaited(team, channel string) {
	if m != nil {
		m.opened.WithLabelValues(team, channel).Inc()
	}
}

func (m *Metrics) answered(team, channel, status string, delay time.Duration) {
	if m == nil {
		return
	}
	m.responded.WithLabelValues(team, channel, status).Inc()
	if status != "no_response_needed" {
		m.firstResp.WithLabelValues(team, channel).Observe(max(delay, 0).Seconds())
	}
}

func (m *Metrics) forgotten(team, channel string) {
	if m != nil {
		m.unanswered.WithLabelValues(team, channel).Inc()
	}
}

func (m *Metrics) escalation(team, channel string, level int) {
	if m != nil {
		m.escalated.WithLabelValues(team, channel, strconv.Itoa(level)).Inc()
	}
}

func (m *Metrics) unmatchedResponse(channel, reason string) {
	if m != nil {
		m.unmatched.WithLabelValues(channel, reason).Inc()
	}
}

func (m *Metrics) webhookResult(result string) {
	if m != nil {
		m.webhook.WithLabelValues(result).Inc()
	}
}

// Age buckets of the open-items gauge.
var ageBuckets = []struct {
	label string
	upTo  time.Duration
}{
	{"0-1h", time.Hour}, {"1h-4h", 4 * time.Hour}, {"4h-24h", 24 * time.Hour}, {"1d-7d", 7 * 24 * time.Hour}, {"7d+", 1<<63 - 1},
}

func ageBucket(age time.Duration) string {
	for _, b := range ageBuckets {
		if age < b.upTo {
			return b.label
		}
	}
	return ageBuckets[len(ageBuckets)-1].label
}

var (
	openDesc = prometheus.NewDesc("switchboard_open_items",
		"Routed items awaiting a first response, by team and age bucket (0-1h, 1h-4h, 4h-24h, 1d-7d, 7d+).", []string{"team", "age"}, nil)
	overdueDesc = prometheus.NewDesc("switchboard_open_items_overdue",
		"Routed items awaiting a first response past their target, by team.", []string{"team"}, nil)
)

// openCollector reports the open set when scraped.
type openCollector struct{ t *Tracker }

// OpenItemsCollector returns a collector of the open-items gauges
// (switchboard_open_items by team and age, switchboard_open_items_overdue
// by team), computed from the open set at each scrape.
func (t *Tracker) OpenItemsCollector() prometheus.Collector { return openCollector{t} }

func (c openCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- openDesc
	ch <- overdueDesc
}

func (c openCollector) Collect(ch chan<- prometheus.Metric) {
	type ta struct{ team, age string }
	open, overdue := map[ta]int{}, map[string]int{}
	now := c.t.now()
	c.t.mu.Lock()
	for _, it := range c.t.idx.items {
		age := ageBucket(now.Sub(it.created.time()))
		for _, ts := range it.teams {
			open[ta{ts.team, age}]++
			if len(ts.due) > 0 && ts.due[0] <= at(now) {
				overdue[ts.team]++
			}
		}
	}
	c.t.mu.Unlock()
	for k, n := range open {
		ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(n), k.team, k.age)
	}
	for team, n := range overdue {
		ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(n), team)
	}
}
