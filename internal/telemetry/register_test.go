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

func TestRegistrar(t *testing.T) {
	reg := prometheus.NewRegistry()
	r := NewRegistrar(reg, "test")
	c := r.CounterVec("switchboard_test_things_total", "Things, by kind.", "kind")
	r.Gauge("switchboard_test_level", "Level.")
	if err := r.Err(); err != nil {
		t.Fatalf("Err = %v, want nil", err)
	}
	c.WithLabelValues("a").Inc()
	if mfs, err := reg.Gather(); err != nil || len(mfs) != 2 {
		t.Fatalf("Gather = %d families, %v; want both collectors registered", len(mfs), err)
	}

	r.CounterVec("switchboard_test_things_total", "Things, by kind.", "kind")
	r.Counter("switchboard_test_other_total", "Registered after the error.")
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "registering test metrics: duplicate metrics collector registration") {
		t.Errorf("Err after a duplicate = %v, want the duplicate", err)
	}
	if mfs, _ := reg.Gather(); len(mfs) != 2 {
		t.Errorf("%d families registered, want 2: registering stops at the first error", len(mfs))
	}

	if err := NewRegistrar(nil, "test").Err(); err != nil {
		t.Errorf("Err before registering = %v, want nil", err)
	}
	none := NewRegistrar(nil, "test")
	none.Gauge("switchboard_test_level", "Level.")
	if err := none.Err(); err == nil || !strings.Contains(err.Error(), "registering test metrics: no registry") {
		t.Errorf("Err with no registry = %v, want no registry", err)
	}
}
