package metrictest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestValueAndExact(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total", Help: "c"}, []string{"team", "target"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "g"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h_seconds", Help: "h"})
	reg.MustRegister(c, g, h)
	c.WithLabelValues("billing", "q").Add(2)
	c.WithLabelValues("comms", "").Inc()
	g.Set(42)
	h.Observe(1)
	h.Observe(2)

	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"c_total", Labels("team", "billing"), 2},
		{"c_total", Labels("team", "comms", "target", ""), 1},
		{"c_total", Labels("team", "sales"), 0},
		{"c_total", Labels("page", "1"), 0},
		{"g", nil, 42},
		{"h_seconds", nil, 2},
		{"missing", nil, 0},
	} {
		if got := Value(t, reg, tt.name, tt.labels); got != tt.want {
			t.Errorf("Value(%s%v) = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if v, ok := Exact(t, reg, "c_total", Labels("team", "billing")); ok {
		t.Errorf("Exact matched a series with more labels: %v", v)
	}
	if v, ok := Exact(t, reg, "c_total", Labels("team", "billing", "target", "q")); !ok || v != 2 {
		t.Errorf("Exact = %v, %v; want 2, true", v, ok)
	}
}
