// Package metrictest reads metric values back from a Prometheus registry,
// for tests that assert what a component counted.
package metrictest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Value returns the value of the first series of the metric family name
// whose labels include every name → value pair of labels (an absent label
// counts as the empty value), or 0 when there is none. A counter or gauge
// gives its value, a histogram its sample count.
func Value(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	v, _ := find(t, g, name, labels, false)
	return v
}

// Exact returns the value of the series of the metric family name whose
// labels are exactly labels, read as Value reads it, and whether there is
// such a series.
func Exact(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	return find(t, g, name, labels, true)
}

// Labels makes a label set of name, value, name, value… pairs; a name
// without a value is left out.
func Labels(pairs ...string) map[string]string {
	m := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// find gathers g and returns the value of the first series of family name
// that matches labels: exactly when exact, else by including them.
func find(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string, exact bool) (float64, bool) {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if !matches(s, labels, exact) {
				continue
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				return s.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return s.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(s.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

// matches reports whether series s carries labels: exactly these when
// exact, else these among others.
func matches(s *dto.Metric, labels map[string]string, exact bool) bool {
	have := make(map[string]string, len(s.GetLabel()))
	for _, l := range s.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	if exact && len(have) != len(labels) {
		return false
	}
	for k, v := range labels {
		if got, ok := have[k]; got != v || (exact && !ok) {
			return false
		}
	}
	return true
}
