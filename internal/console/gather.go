package console

import (
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// Metric names the console reads (internal/telemetry defines them).
const (
	metricRouted      = "switchboard_routed_total"
	metricDead        = "switchboard_dead_lettered_total"
	metricQueueDepth  = "switchboard_queue_depth"
	metricCircuitOpen = "switchboard_target_circuit_open"
)

// series is one metric's values by label value, read from the registry.
type series map[string]float64

// gathered is one snapshot of the registry.
type gathered map[string]*dto.MetricFamily

// gather snapshots the registry; nil when there is none or it fails.
func (s *Server) gather() gathered {
	if s.d.Metrics == nil {
		return nil
	}
	fams, err := s.d.Metrics.Gather()
	if err != nil && len(fams) == 0 {
		return nil
	}
	g := gathered{}
	for _, f := range fams {
		g[f.GetName()] = f
	}
	return g
}

// sum adds up metric name by the values of the labels keys, joined by
// "\x00".
func (g gathered) sum(name string, keys ...string) series {
	out := series{}
	f := g[name]
	if f == nil {
		return out
	}
	for _, m := range f.GetMetric() {
		vals := make([]string, len(keys))
		for i, k := range keys {
			for _, l := range m.GetLabel() {
				if l.GetName() == k {
					vals[i] = l.GetValue()
				}
			}
		}
		var v float64
		switch {
		case m.Counter != nil:
			v = m.Counter.GetValue()
		case m.Gauge != nil:
			v = m.Gauge.GetValue()
		default:
			continue
		}
		out[strings.Join(vals, "\x00")] += v
	}
	return out
}

// counters are the values the window samples: routed and dead-lettered
// items per team, ingested items per connector.
func (s *Server) counters() map[string]float64 {
	v := map[string]float64{}
	g := s.gather()
	for team, n := range g.sum(metricRouted, "team") {
		v["routed\x00"+team] = n
	}
	for team, n := range g.sum(metricDead, "team") {
		v["dead\x00"+team] = n
	}
	for _, st := range s.d.Connectors.Statuses() {
		v["ingested\x00"+st.Name] = float64(st.Ingested)
	}
	return v
}
