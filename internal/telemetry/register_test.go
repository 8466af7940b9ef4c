package telemetry

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegister(t *testing.T) {
	c := func() prometheus.Collector {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_test_things_total", Help: "Things."})
	}
	reg := prometheus.NewRegistry()
	tests := []struct {
		name string
		reg  prometheus.Registerer
		want string // "" for success
	}{
		{"registered", reg, ""},
		{"twice", reg, "registering test metrics: duplicate"},
		{"no registry", nil, "registering test metrics: no registry"},
	}
	for _, tt := range tests {
		err := Register(tt.reg, "test", c())
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Register = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestBuildMetrics(t *testing.T) {
	type metrics struct{ things *prometheus.CounterVec }
	build := func(r *Registrar) *metrics {
		m := &metrics{things: r.CounterVec("switchboard_test_things_total", "Things, by kind.", "kind")}
		r.Gauge("switchboard_test_level", "Level.")
		return m
	}
	reg := prometheus.NewRegistry()
	m, err := BuildMetrics(reg, "test", build)
	if err != nil || m == nil {
		t.Fatalf("BuildMetrics = %v, %v; want the metrics", m, err)
	}
	m.things.WithLabelValues("a").Inc()
	if mfs, err := reg.Gather(); err != nil || len(mfs) != 2 {
		t.Fatalf("Gather = %d families, %v; want both collectors registered", len(mfs), err)
	}

	m, err = BuildMetrics(reg, "test", build)
	if m != nil || err == nil || !strings.Contains(err.Error(), "registering test metrics: duplicate metrics collector registration") {
		t.Errorf("BuildMetrics again = %v, %v; want nil and the duplicate", m, err)
	}
	m, err = BuildMetrics(nil, "test", build)
	if m != nil || err == nil || !strings.Contains(err.Error(), "registering test metrics: no registry") {
		t.Errorf("BuildMetrics with no registry = %v, %v; want nil and no registry", m, err)
	}

	// Registering stops at the first error: the gauge after a duplicate
	// counter is not registered.
	reg = prometheus.NewRegistry()
	if _, err := BuildMetrics(reg, "test", func(r *Registrar) *metrics {
		r.Counter("switchboard_test_things_total", "Things.")
		r.Counter("switchboard_test_things_total", "Things.")
		r.Gauge("switchboard_test_level", "Level.")
		return &metrics{}
	}); err == nil {
		t.Fatal("BuildMetrics registering a name twice: no error")
	}
	if mfs, _ := reg.Gather(); len(mfs) != 1 {
		t.Errorf("%d families registered, want 1", len(mfs))
	}
}
